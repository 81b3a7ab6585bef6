package engine

import (
	"context"
	"fmt"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// compiler turns a query's AST into a plan.
type compiler struct {
	sess *Session
	db   *Database
	src  *kusto.Source
	now  kusto.DateTime
	lets []letBinding // innermost last
	// params are the request's query parameters (Request.Parameters).
	params map[string]kusto.Literal
	// options are what the query's set statements set.
	options queryOptions
	// Inlining user-defined functions (userfunc.go): the expansions so far, the depth of the
	// current one, and the functions being expanded, innermost last.
	expansions, depth int
	defining          []string
	// last is the query's last operator, the one place render may stand.
	last parser.Operator
	// ctx is what toscalar() runs its expression under while the query compiles; checking says
	// not to run it (a plan is only printed). rowFloor is, while toscalar()'s or materialize()'s
	// argument compiles, the number of lets bound outside it: a parameter among those may vary
	// with the row, which an expression evaluated once cannot read.
	ctx      context.Context
	checking bool
	rowFloor int
}

// letBinding binds a name to one of: a constant, an expression (a function's parameter, or a
// let inside a function that depends on one), a plan, or a user-defined function.
type letBinding struct {
	name    string
	scalar  *kusto.Literal
	expr    *compiled
	tabular Node
	fn      *userFunc
	// rowFree marks an expression that reads no row, though it varies (let g = new_guid()),
	// which toscalar() and materialize() may read.
	rowFree bool
}

func (c *compiler) errorf(offset int, kind kusto.Kind, format string, args ...any) error {
	return kusto.Errorf(kind, c.src, offset, format, args...)
}

func (c *compiler) scalarLet(name string) (kusto.Literal, bool) {
	for i := len(c.lets) - 1; i >= 0; i-- {
		if c.lets[i].name == name {
			if c.lets[i].scalar == nil {
				return kusto.Literal{}, false
			}
			return *c.lets[i].scalar, true
		}
	}
	return kusto.Literal{}, false
}

func (c *compiler) tabularLet(name string) (Node, bool) {
	for i := len(c.lets) - 1; i >= 0; i-- {
		if c.lets[i].name == name {
			return c.lets[i].tabular, c.lets[i].tabular != nil
		}
	}
	return nil, false
}

// query compiles a whole query into a plan whose scans read only the columns it uses.
func (c *compiler) query(q *parser.Query) (Node, error) {
	if err := c.statements(q.Statements); err != nil {
		return nil, err
	}
	if len(q.Body.Ops) > 0 {
		c.last = q.Body.Ops[len(q.Body.Ops)-1]
	}
	n, err := c.pipeline(q.Body)
	if err != nil {
		return nil, err
	}
	return prunePlan(n), nil
}

func (c *compiler) let(l *parser.Let) error {
	name := l.Name.String()
	switch {
	case l.Func != nil:
		return c.defineFunction(l)
	case l.Tabular != nil:
		p, err := c.pipeline(l.Tabular)
		if err != nil {
			return err
		}
		c.lets = append(c.lets, letBinding{name: name, tabular: p})
		return nil
	case len(l.Then) > 0:
		p, err := c.tabularValue(l.Scalar, l.Then)
		if err != nil {
			return err
		}
		c.lets = append(c.lets, letBinding{name: name, tabular: p})
		return nil
	}
	// `let T2 = T;` names a table, not a scalar; `let t = f(1);` calls a tabular function.
	if p, found, err := c.tabularExpr(l.Scalar.Tree); found || err != nil {
		if err != nil {
			return err
		}
		c.lets = append(c.lets, letBinding{name: name, tabular: p})
		return nil
	}
	if c.depth > 0 {
		// Inside a function, a let may depend on its parameters, which may vary with the row.
		x, err := (&scope{c: c}).compile(l.Scalar.Tree)
		if err != nil {
			return err
		}
		c.lets = append(c.lets, letBinding{name: name, expr: x})
		return nil
	}
	x, err := (&scope{c: c}).compile(l.Scalar.Tree)
	if err != nil {
		return err
	}
	if x.failed != nil {
		return x.failed
	}
	if !x.isConst() {
		// new_guid(), rand(): a let names its expression, which every use evaluates, so each
		// row draws its own value; toscalar() is what fixes one (toscalar-function.md, "Generate
		// fixed and dynamic GUID": let g2 = new_guid() differs by row).
		c.lets = append(c.lets, letBinding{name: name, expr: x, rowFree: true})
		return nil
	}
	c.lets = append(c.lets, letBinding{name: name, scalar: &kusto.Literal{Type: x.typ, Value: x.konst.v}})
	return nil
}

// constantExpr compiles an expression that may not refer to any column and returns its value.
func (c *compiler) constantExpr(e parser.Expr, what string) (*kusto.Literal, error) {
	sc := &scope{c: c}
	x, err := sc.compile(e)
	if err != nil {
		return nil, err
	}
	if x.failed != nil {
		return nil, x.failed
	}
	if !x.isConst() {
		return nil, c.errorf(e.Offset(), kusto.KindSemantic, "%s must be a constant", what)
	}
	return &kusto.Literal{Type: x.typ, Value: x.konst.v}, nil
}

func (c *compiler) pipeline(p *parser.Pipeline) (Node, error) {
	out, err := c.source(p.Source)
	if err != nil {
		return nil, err
	}
	return c.operators(out, p.Ops)
}

func (c *compiler) operators(in Node, ops []parser.Operator) (Node, error) {
	for _, op := range ops {
		var err error
		if in, err = OperatorFor(op).compile(c, in, op); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (c *compiler) source(s parser.TabularSource) (Node, error) {
	switch s := s.(type) {
	case *parser.RangeSource:
		return c.rangeSource(s)
	case *parser.DatatableSource:
		return c.datatable(s)
	case *parser.ExternalDataSource:
		return c.externalData(s)
	case *parser.PrintSource:
		return c.print(s)
	case *parser.ParenSource:
		return c.pipeline(s.Body)
	case *parser.UnionSource:
		return c.unionSource(s)
	case *parser.CallSource:
		return c.callSource(s)
	case *parser.TableRef:
		if s.Database != nil {
			return c.databaseTable(s)
		}
		p, found, err := c.tableRef(s.Name.String(), s.Pos.Offset)
		if err != nil {
			return nil, err
		}
		if !found {
			if err := c.unresolvedCall(s.Name.String(), s.Pos.Offset); err != nil {
				return nil, err
			}
			if b := c.binding(s.Name.String()); b != nil && b.fn == nil {
				return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "%q is a scalar, not a table", s.Name.String())
			}
			return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "failed to resolve table or column expression named %q", s.Name.String())
		}
		return p, nil
	}
	return nil, fmt.Errorf("engine: unknown source %T", s)
}

// databaseTable resolves database("D").T: table T of database D, read from the snapshot the
// query reads its own database from. cluster("C") is rejected by name: Kustard is one cluster.
func (c *compiler) databaseTable(s *parser.TableRef) (Node, error) {
	if s.Cluster != nil {
		return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "unsupported: cluster(…): Kustard is a single cluster; name another database's table with database(\"D\").T")
	}
	name := s.Database.Value
	d, ok := c.db.snapshot().Database(name)
	if !ok {
		return nil, c.errorf(s.Database.Pos.Offset, kusto.KindNotFound, "Entity name '%s' of kind 'Database' does not exist.", name)
	}
	db := &Database{Name: d.Name, ID: d.ID, cat: c.db.cat, at: c.db.at}
	t, ok := db.Table(s.Name.String())
	if !ok {
		return nil, c.errorf(s.Name.Pos.Offset, kusto.KindSemantic, "failed to resolve table expression named %q in database %q", s.Name.String(), d.Name)
	}
	return &scanNode{table: t}, nil
}

// tableRef resolves a name to a tabular let, a registered stream or a table of the database.
func (c *compiler) tableRef(name string, offset int) (Node, bool, error) {
	if b := c.binding(name); b != nil {
		switch {
		case b.tabular != nil:
			return b.tabular, true, nil
		case b.fn != nil && b.fn.tabular:
			p, err := c.callTabular(b.fn, offset, nil, nil)
			return p, true, err
		case b.fn != nil:
			return nil, false, c.errorf(offset, kusto.KindSemantic, "user-defined function %q returns a scalar, not a table", name)
		}
		return nil, false, nil
	}
	if s, ok := c.sess.eng.stream(name); ok {
		return &streamNode{name: name, stream: s}, true, nil
	}
	t, ok := c.db.Table(name)
	if !ok {
		return nil, false, nil
	}
	return &scanNode{table: t}, true, nil
}

// Plan compiles a query without running it and returns its plan, which FormatPlan prints.
func (s *Session) Plan(req Request, src *kusto.Source) (n Node, err error) {
	b, err := Check(src)
	if err != nil {
		return nil, err
	}
	defer func() { err = placeError(err, b) }()
	if b.Query == nil {
		return nil, kusto.Errorf(kusto.KindSemantic, src, 0, "only a query has a plan; a management command runs as it is")
	}
	db, ok := s.eng.Database(s.Database)
	if !ok {
		return nil, &kusto.Error{Kind: kusto.KindNotFound, Offset: -1, Msg: fmt.Sprintf("database %q does not exist", s.Database)}
	}
	comp := s.compiler(db, &req, src)
	comp.checking = true // toscalar() is not run for a plan
	return comp.query(b.Query)
}
