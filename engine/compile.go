package engine

import (
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
}

type letBinding struct {
	name    string
	scalar  *kusto.Literal
	tabular Node
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
	for _, l := range q.Lets {
		if err := c.let(l); err != nil {
			return nil, err
		}
	}
	n, err := c.pipeline(q.Body)
	if err != nil {
		return nil, err
	}
	return prunePlan(n), nil
}

func (c *compiler) let(l *parser.Let) error {
	name := l.Name.String()
	if l.Tabular != nil {
		p, err := c.pipeline(l.Tabular)
		if err != nil {
			return err
		}
		c.lets = append(c.lets, letBinding{name: name, tabular: p})
		return nil
	}
	// `let T2 = T;` names a table, not a scalar.
	if col, ok := l.Scalar.Tree.(*parser.ColumnExpr); ok {
		if p, found, err := c.tableRef(col.Name, col.At); found || err != nil {
			if err != nil {
				return err
			}
			c.lets = append(c.lets, letBinding{name: name, tabular: p})
			return nil
		}
	}
	e, err := c.constantExpr(l.Scalar.Tree, "a let statement's value")
	if err != nil {
		return err
	}
	c.lets = append(c.lets, letBinding{name: name, scalar: e})
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
	case *parser.PrintSource:
		return c.print(s)
	case *parser.ParenSource:
		return c.pipeline(s.Body)
	case *parser.UnionSource:
		return c.unionSource(s)
	case *parser.TableRef:
		p, found, err := c.tableRef(s.Name.String(), s.Pos.Offset)
		if err != nil {
			return nil, err
		}
		if !found {
			if _, ok := c.scalarLet(s.Name.String()); ok {
				return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "%q is a scalar, not a table", s.Name.String())
			}
			return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "failed to resolve table or column expression named %q", s.Name.String())
		}
		return p, nil
	}
	return nil, fmt.Errorf("engine: unknown source %T", s)
}

// tableRef resolves a name to a tabular let, a registered stream or a table of the database.
func (c *compiler) tableRef(name string, offset int) (Node, bool, error) {
	if p, ok := c.tabularLet(name); ok {
		return p, true, nil
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
	return s.compiler(db, &req, src).query(b.Query)
}
