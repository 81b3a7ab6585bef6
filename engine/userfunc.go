package engine

import (
	"slices"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// User-defined functions (query/functions/user-defined-functions.md): `let f = (a:long,
// b:string = "x") { … }`, scalar or tabular. A call is inlined: the body is compiled again at
// each call, in the scope of the function's definition (the bindings before it, which is why a
// function cannot call itself: Kusto has no recursion), with its parameters bound to the call's
// arguments, compiled in the caller's scope. A scalar argument may vary with the row, as the
// docs allow for a function of scalars only.
//
// The body is compiled once more where the function is defined, with placeholders of the
// declared types, so that its errors are found even if it is never called, and so that whether
// it returns a table or a scalar is known at every call site.

// Bounds on inlining: the depth of nested calls, and the calls one query expands in all, so that
// a chain of functions each calling the previous one twice cannot blow up exponentially.
const (
	maxCallDepth  = 64
	maxExpansions = 10_000
)

type userFunc struct {
	name    string
	def     *parser.FuncDef
	at      int          // where its let stands
	scope   []letBinding // the bindings its body sees
	tabular bool         // it returns a table (known once its definition is checked)
}

// binding returns the innermost binding of a name, or nil.
func (c *compiler) binding(name string) *letBinding {
	for i := len(c.lets) - 1; i >= 0; i-- {
		if c.lets[i].name == name {
			return &c.lets[i]
		}
	}
	return nil
}

// userFunction returns the user-defined function a name is bound to, if it is one.
func (c *compiler) userFunction(name string) *userFunc {
	if b := c.binding(name); b != nil {
		return b.fn
	}
	return nil
}

// unresolvedCall explains a call of a name that is bound to nothing: a function calling itself
// (or one that calls it), which the docs' scoping rules out, is told as such. c.defining holds
// the functions being expanded.
func (c *compiler) unresolvedCall(name string, at int) error {
	if slices.Contains(c.defining, name) {
		return c.errorf(at, kusto.KindSemantic, "user-defined function %q calls itself; Kusto does not support recursion", name)
	}
	return nil
}

// defineFunction binds a let's function. A scalar function's body is checked here, with
// placeholders of its parameters' types; a tabular one's is compiled only at its calls, since
// its operators may need its scalar arguments' values (range's bounds, take's count).
func (c *compiler) defineFunction(l *parser.Let) error {
	d := l.Func
	name := l.Name.String()
	if d.View && len(d.Params) > 0 {
		return c.errorf(d.Pos.Offset, kusto.KindSemantic, "view %q takes parameters; a view is a function without parameters", name)
	}
	fn := &userFunc{name: name, def: d, at: l.Pos.Offset, scope: slices.Clip(slices.Clone(c.lets))}
	fn.tabular = (&kindScope{c: c, base: c.lets}).funcTabular(d)
	args := make([]letBinding, len(d.Params))
	for i, p := range d.Params {
		args[i] = letBinding{name: p.Name.String()}
		switch {
		case p.Tabular:
			args[i].tabular = &frameNode{frame: emptyFrame(declaredSchema(p)), what: "parameter " + p.Name.String()}
		default:
			args[i].expr = &compiled{typ: p.Type, run: func(*evalState, *Batch, bool) Column {
				panic("engine: a parameter's placeholder was evaluated")
			}}
			if p.Default != nil {
				if _, err := c.paramDefault(p, "parameter"); err != nil {
					return err
				}
			}
		}
	}
	if !fn.tabular {
		if _, _, err := c.expand(fn, args); err != nil {
			return err
		}
	}
	c.lets = append(c.lets, letBinding{name: name, fn: fn})
	return nil
}

// kindScope tells, from the text, whether names and expressions stand for tables: what a
// function returns is known before its body is compiled.
type kindScope struct {
	c      *compiler
	base   []letBinding    // the bindings outside the function
	names  map[string]bool // the names the body binds, true for a table (or a tabular function)
	parent *kindScope
}

func (k *kindScope) lookup(name string) (tabular, found bool) {
	for s := k; s != nil; s = s.parent {
		if t, ok := s.names[name]; ok {
			return t, true
		}
	}
	for i := len(k.base) - 1; i >= 0; i-- {
		if b := k.base[i]; b.name == name {
			return b.tabular != nil || b.fn != nil && b.fn.tabular, true
		}
	}
	return false, false
}

func (k *kindScope) exprTabular(e parser.Expr) bool {
	switch e := e.(type) {
	case *parser.ColumnExpr:
		if t, found := k.lookup(e.Name); found {
			return t
		}
		_, isTable, _ := k.c.tableRef(e.Name, e.At)
		return isTable
	case *parser.CallExpr:
		t, found := k.lookup(e.Func)
		return found && t
	}
	return false
}

func (k *kindScope) funcTabular(d *parser.FuncDef) bool {
	if d.Tabular != nil || len(d.Then) > 0 {
		return true
	}
	inner := &kindScope{c: k.c, base: k.base, names: map[string]bool{}, parent: k}
	for _, p := range d.Params {
		inner.names[p.Name.String()] = p.Tabular
	}
	for _, l := range d.Lets {
		inner.names[l.Name.String()] = inner.letTabular(l)
	}
	return inner.exprTabular(d.Scalar.Tree)
}

func (k *kindScope) letTabular(l *parser.Let) bool {
	switch {
	case l.Func != nil:
		return k.funcTabular(l.Func)
	case l.Tabular != nil, len(l.Then) > 0:
		return true
	}
	return k.exprTabular(l.Scalar.Tree)
}

func declaredSchema(p *parser.Param) Schema {
	var s Schema
	for _, col := range p.Columns {
		s = append(s, ColumnSchema{Name: col.Name.String(), Type: col.Type})
	}
	return s
}

func emptyFrame(s Schema) *Frame {
	f := &Frame{Schema: s}
	for _, col := range s {
		f.Cols = append(f.Cols, newColumn(col.Type, 0))
	}
	return f
}

// paramDefault returns a parameter's default value, which the docs want a literal of its type.
func (c *compiler) paramDefault(p *parser.Param, what string) (kusto.Literal, error) {
	e := p.Default.Tree
	if n, ok := e.(*parser.NegateExpr); ok {
		e = n.Operand
	}
	if _, ok := e.(*parser.LiteralExpr); !ok {
		return kusto.Literal{}, c.errorf(p.Default.Pos.Offset, kusto.KindSemantic, "the default value of %s %q must be a literal", what, p.Name.String())
	}
	v, err := c.constantExpr(p.Default.Tree, "a default value")
	if err != nil {
		return kusto.Literal{}, err
	}
	if v.Type != p.Type {
		if _, ok := conversionCost(v.Type, p.Type); !ok || p.Type == kusto.TypeString {
			return kusto.Literal{}, c.errorf(p.Default.Pos.Offset, kusto.KindSemantic, "the default value of %s %q must be %s, not %s", what, p.Name.String(), article(p.Type), v.Type)
		}
		k := constant(v.Type, v.Value)
		return kusto.Literal{Type: p.Type, Value: fold(implicit(k, p.Type), k).konst.v}, nil
	}
	return *v, nil
}

// expand compiles a function's body with its parameters bound to args: a scalar expression, or,
// for a tabular function, a plan.
func (c *compiler) expand(fn *userFunc, args []letBinding) (x *compiled, n Node, err error) {
	if c.depth >= maxCallDepth {
		return nil, nil, c.errorf(fn.at, kusto.KindLimits, "user-defined function calls nest more than %d deep", maxCallDepth)
	}
	if c.expansions++; c.expansions > maxExpansions {
		return nil, nil, c.errorf(fn.at, kusto.KindLimits, "the query expands more than %d calls of user-defined functions (each call is compiled in full)", maxExpansions)
	}
	saved := c.lets
	c.lets = append(fn.scope, args...) // fn.scope is clipped: this copies
	c.depth++
	c.defining = append(c.defining, fn.name)
	defer func() { c.lets, c.depth, c.defining = saved, c.depth-1, c.defining[:len(c.defining)-1] }()
	d := fn.def
	for _, l := range d.Lets {
		if err := c.let(l); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case d.Tabular != nil:
		n, err = c.pipeline(d.Tabular)
		return nil, n, err
	case len(d.Then) > 0:
		n, err = c.tabularValue(d.Scalar, d.Then)
		return nil, n, err
	}
	n, found, err := c.tabularExpr(d.Scalar.Tree)
	if found || err != nil {
		return nil, n, err
	}
	x, err = (&scope{c: c}).compile(d.Scalar.Tree)
	return x, nil, err
}

// tabularExpr compiles an expression that names a table (a table, a tabular let or parameter,
// a function without parameters) or calls a tabular function; found is false for any other.
func (c *compiler) tabularExpr(e parser.Expr) (n Node, found bool, err error) {
	switch e := e.(type) {
	case *parser.ColumnExpr:
		b := c.binding(e.Name)
		switch {
		case b == nil:
			return c.tableRef(e.Name, e.At)
		case b.tabular != nil:
			return b.tabular, true, nil
		case b.fn != nil && b.fn.tabular:
			n, err := c.callTabular(b.fn, e.At, nil, nil)
			return n, true, err
		}
	case *parser.CallExpr:
		if fn := c.userFunction(e.Func); fn != nil && fn.tabular {
			n, err := c.callTabular(fn, e.At, callArgsOf(e), nil)
			return n, true, err
		}
		if e.Func == "materialize" && c.userFunction(e.Func) == nil {
			n, err := c.materialize(e)
			return n, true, err
		}
	}
	return nil, false, nil
}

// tabularValue compiles a scalar-looking expression followed by operators (`f(1) | count`): it
// must be tabular.
func (c *compiler) tabularValue(e *parser.ScalarExpr, then []parser.Operator) (Node, error) {
	n, found, err := c.tabularExpr(e.Tree)
	if err != nil {
		return nil, err
	}
	if !found {
		switch t := e.Tree.(type) {
		case *parser.ColumnExpr:
			if err := c.unresolvedCall(t.Name, t.At); err != nil {
				return nil, err
			}
			if c.binding(t.Name) == nil {
				return nil, c.errorf(t.At, kusto.KindSemantic, "failed to resolve table or column expression named %q", t.Name)
			}
			return nil, c.errorf(t.At, kusto.KindSemantic, "%q is a scalar, not a table", t.Name)
		case *parser.CallExpr:
			return nil, c.callSourceError(t.Func, t.At)
		}
		return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "a scalar expression cannot be piped into an operator; expected a tabular expression")
	}
	return c.operators(n, then)
}

// callSourceError explains a call, where a table is expected, of a name that is not a tabular
// function.
func (c *compiler) callSourceError(name string, at int) error {
	if fn := c.userFunction(name); fn != nil {
		return c.errorf(at, kusto.KindSemantic, "user-defined function %q returns a scalar, not a table", name)
	}
	if err := c.unresolvedCall(name, at); err != nil {
		return err
	}
	if _, ok := functions[name]; ok {
		return c.errorf(at, kusto.KindSemantic, "%s() is a scalar function, not a table", name)
	}
	return c.errorf(at, kusto.KindSemantic, "%s", functionNameError(name))
}

// callArg is one argument of a call, from an expression's call or from a source's.
type callArg struct {
	name    string // for `name = value`
	at      int
	expr    parser.Expr
	tabular *parser.Pipeline
}

func callArgsOf(e *parser.CallExpr) []callArg {
	out := make([]callArg, len(e.Args))
	for i, a := range e.Args {
		out[i] = callArg{at: a.Offset(), expr: a}
		if n, ok := a.(*parser.NamedArgExpr); ok {
			out[i].name, out[i].expr = n.Name, n.Value
		}
	}
	return out
}

func funcArgsOf(list []*parser.FuncArg) []callArg {
	out := make([]callArg, len(list))
	for i, a := range list {
		out[i] = callArg{at: a.Pos.Offset, tabular: a.Tabular}
		if a.Scalar != nil {
			out[i].expr = a.Scalar.Tree
		}
		if a.Name != nil {
			out[i].name = a.Name.String()
		}
	}
	return out
}

// bind matches a call's arguments to fn's parameters, as the docs say: by position, then by
// name, and defaults for the rest. input, when set, is invoke's input: the first argument.
// Scalar arguments are compiled in sc, the caller's scope.
func (c *compiler) bind(fn *userFunc, at int, args []callArg, input Node, sc *scope) ([]letBinding, error) {
	params := fn.def.Params
	given := make([]*callArg, len(params))
	if input != nil {
		args = append([]callArg{{at: at}}, args...)
	}
	named := false
	for i := range args {
		a := &args[i]
		if a.name == "" {
			if named {
				return nil, c.errorf(a.at, kusto.KindSemantic, "an argument given by position cannot follow one given by name")
			}
			if i >= len(params) {
				return nil, c.errorf(a.at, kusto.KindSemantic, "%s%s takes %s, not %d", fn.name, fn.def.Signature(), argCount(requiredParams(params), len(params), len(args)), len(args))
			}
			given[i] = a
			continue
		}
		named = true
		k := slices.IndexFunc(params, func(p *parser.Param) bool { return p.Name.String() == a.name })
		switch {
		case k < 0:
			return nil, c.errorf(a.at, kusto.KindSemantic, "%s%s has no parameter %q", fn.name, fn.def.Signature(), a.name)
		case given[k] != nil:
			return nil, c.errorf(a.at, kusto.KindSemantic, "parameter %q of %s is given twice", a.name, fn.name)
		}
		given[k] = a
	}
	out := make([]letBinding, len(params))
	for i, p := range params {
		name := p.Name.String()
		out[i].name = name
		a := given[i]
		switch {
		case a == nil && p.Default != nil:
			v, err := c.paramDefault(p, "parameter")
			if err != nil {
				return nil, err
			}
			out[i].expr = constant(v.Type, v.Value)
		case a == nil:
			return nil, c.errorf(at, kusto.KindSemantic, "%s%s: parameter %q has no value and no default", fn.name, fn.def.Signature(), name)
		case p.Tabular:
			var n Node
			var err error
			switch {
			case a == &args[0] && input != nil:
				n = input
			case a.tabular != nil:
				n, err = c.pipeline(a.tabular)
			default:
				var found bool
				if n, found, err = c.tabularExpr(a.expr); err == nil && !found {
					err = c.errorf(a.at, kusto.KindSemantic, "argument %q of %s must be a table", name, fn.name)
				}
			}
			if err != nil {
				return nil, err
			}
			if err := c.checkTabularArg(fn, p, a.at, n.Schema()); err != nil {
				return nil, err
			}
			out[i].tabular = n
		default:
			if a.tabular != nil || a == &args[0] && input != nil {
				return nil, c.errorf(a.at, kusto.KindSemantic, "argument %q of %s must be %s, not a table", name, fn.name, article(p.Type))
			}
			x, err := sc.compile(a.expr)
			if err != nil {
				return nil, err
			}
			// An int parameter takes a long, as the docs' examples pass it literals (Test4(10)):
			// it stays a long, since Kustard has no narrowing conversion here.
			if x.typ != p.Type && !(p.Type == kusto.TypeInt && x.typ == kusto.TypeLong) {
				if _, ok := conversionCost(x.typ, p.Type); !ok || p.Type == kusto.TypeString {
					return nil, c.errorf(a.at, kusto.KindSemantic, "argument %q of %s must be %s, not %s", name, fn.name, article(p.Type), x.typ)
				}
				x = fold(implicit(x, p.Type), x)
			}
			out[i].expr = x
		}
	}
	return out, nil
}

func requiredParams(params []*parser.Param) int {
	n := 0
	for _, p := range params {
		if p.Default == nil {
			n++
		}
	}
	return n
}

// checkTabularArg checks that a table passed for a tabular parameter has its declared columns.
func (c *compiler) checkTabularArg(fn *userFunc, p *parser.Param, at int, s Schema) error {
	for _, col := range p.Columns {
		i := s.Index(col.Name.String())
		switch {
		case i < 0:
			return c.errorf(at, kusto.KindSemantic, "argument %q of %s must have a column %q of type %s; it has none", p.Name.String(), fn.name, col.Name.String(), col.Type)
		case s[i].Type != col.Type:
			return c.errorf(at, kusto.KindSemantic, "argument %q of %s must have a column %q of type %s, not %s", p.Name.String(), fn.name, col.Name.String(), col.Type, s[i].Type)
		}
	}
	return nil
}

// callUser compiles a call of a scalar function in an expression.
func (sc *scope) callUser(fn *userFunc, e *parser.CallExpr) (*compiled, error) {
	c := sc.c
	if fn.tabular {
		return nil, c.errorf(e.At, kusto.KindSemantic, "user-defined function %q returns a table; it cannot be used as a scalar here", fn.name)
	}
	args, err := c.bind(fn, e.At, callArgsOf(e), nil, sc)
	if err != nil {
		return nil, err
	}
	x, _, err := c.expand(fn, args)
	return x, err
}

// userCall is callUser, reached from expressions through a variable: a body may hold pipelines,
// whose operators' registry refers back to expressions, a cycle Go's initialization rejects.
var userCall func(sc *scope, fn *userFunc, e *parser.CallExpr) (*compiled, error)

// callTabular compiles a call of a tabular function: a source, or invoke with its input.
func (c *compiler) callTabular(fn *userFunc, at int, args []callArg, input Node) (Node, error) {
	bound, err := c.bind(fn, at, args, input, &scope{c: c})
	if err != nil {
		return nil, err
	}
	_, n, err := c.expand(fn, bound)
	return n, err
}

// callSource compiles `f(…)` as a pipeline's source.
func (c *compiler) callSource(s *parser.CallSource) (Node, error) {
	fn := c.userFunction(s.Func.String())
	if fn == nil && s.Func.String() == "materialize" {
		// materialize(T | …) as a source, or a union's or a join's leg, as well as in a let.
		call := &parser.CallExpr{At: s.Pos.Offset, Func: "materialize"}
		for _, a := range s.Args {
			switch {
			case a.Name != nil:
				return nil, c.errorf(a.Pos.Offset, kusto.KindSemantic, "materialize() takes a tabular expression, not a named argument")
			case a.Tabular != nil:
				call.Args = append(call.Args, &parser.TabularExpr{At: a.Pos.Offset, Body: a.Tabular})
			default:
				call.Args = append(call.Args, a.Scalar.Tree)
			}
		}
		return c.materialize(call)
	}
	if fn == nil || !fn.tabular {
		return nil, c.callSourceError(s.Func.String(), s.Pos.Offset)
	}
	return c.callTabular(fn, s.Pos.Offset, funcArgsOf(s.Args), nil)
}

func compileInvoke(c *compiler, in Node, op parser.Operator) (Node, error) {
	inv := op.(*parser.InvokeOp)
	name := inv.Func.String()
	fn := c.userFunction(name)
	if fn == nil || !fn.tabular {
		return nil, c.callSourceError(name, inv.Func.Pos.Offset)
	}
	if len(fn.def.Params) == 0 || !fn.def.Params[0].Tabular {
		return nil, c.errorf(inv.Func.Pos.Offset, kusto.KindSemantic, "invoke needs a function whose first parameter is tabular; %s%s has none", name, fn.def.Signature())
	}
	return c.callTabular(fn, inv.Func.Pos.Offset, funcArgsOf(inv.Args), in)
}

// named compiles a name in an expression that is not a column: a scalar let, a parameter, or a
// function without parameters called by its bare name (`x * a`, as the docs' example does).
func (sc *scope) named(e *parser.ColumnExpr) (*compiled, error) {
	c := sc.c
	b := c.binding(e.Name)
	switch {
	case b == nil:
		if err := c.unresolvedCall(e.Name, e.At); err != nil {
			return nil, err
		}
	case b.scalar != nil:
		return constant(b.scalar.Type, b.scalar.Value), nil
	case b.expr != nil:
		if !b.expr.isConst() && !b.rowFree && c.outsideRowScope(b) {
			return nil, c.errorf(e.At, kusto.KindSemantic, "can't use %q as it is defined outside its row-context scope: toscalar() and materialize() are evaluated once per query, not once per row; join instead", e.Name)
		}
		return b.expr, nil
	case b.fn != nil && !b.fn.tabular:
		return userCall(sc, b.fn, &parser.CallExpr{At: e.At, Func: e.Name})
	case b.tabular != nil || b.fn != nil:
		return nil, c.errorf(e.At, kusto.KindSemantic, "%q is a tabular expression; it cannot be used as a scalar here", e.Name)
	}
	return nil, c.errorf(e.At, kusto.KindSemantic, "failed to resolve scalar expression named %q", e.Name)
}

func init() {
	userCall = (*scope).callUser
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "invoke", Synopsis: "invoke Function([Argument, …])",
		Summary:   "Calls a tabular user-defined function with the input as its first argument.",
		Completes: CompleteNothing,
		node:      nodeOf[*parser.InvokeOp](), compile: compileInvoke,
	})
}
