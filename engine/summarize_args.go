package engine

import (
	"strconv"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The arguments of summarize's aggregation calls: compiling them over the input, and naming the
// columns that arg_max(), arg_min() and take_any() return.

// aggregateCall compiles one call of an aggregation function over the input's columns.
// byColumns are the input's columns the by clause groups by as they are, which * leaves out.
func (c *compiler) aggregateCall(input Schema, call *parser.CallExpr, byColumns map[int]bool) (*aggCall, error) {
	fn := aggregates[call.Func]
	a := &aggCall{fn: fn, text: parser.ExprString(call), limit: maxListSize}
	sc := &scope{schema: input, c: c, agg: aggInArgs, inAggregate: call.Func}
	arity := func(lo, hi int) error {
		if n := len(call.Args); n < lo || n > hi {
			return c.errorf(call.At, kusto.KindSemantic, "%s takes %s, not %d", fn.usage, argCount(lo, hi, n), n)
		}
		return nil
	}
	compileArg := func(e parser.Expr) (*compiled, error) {
		if star, ok := e.(*parser.StarExpr); ok {
			return nil, c.errorf(star.At, kusto.KindSemantic, "%s() does not take *; only arg_max(), arg_min() and take_any() do", call.Func)
		}
		if named, ok := e.(*parser.NamedArgExpr); ok {
			if fn.kind == aggValue || fn.kind == aggPercentiles {
				return nil, c.errorf(named.At, kusto.KindSemantic, "%s() does not take a named argument; only arg_max(), arg_min() and take_any() name the columns they return", call.Func)
			}
			e = named.Value
		}
		x, err := sc.compile(e)
		if err != nil {
			return nil, err
		}
		a.exprs = append(a.exprs, e)
		return x, nil
	}
	checkType := func(i int, x *compiled, ts *typeSet) (*compiled, error) {
		if ts.types == nil {
			return x, nil
		}
		for _, t := range ts.types {
			if t == x.typ {
				return x, nil
			}
		}
		return nil, c.errorf(call.Args[i].Offset(), kusto.KindSemantic, "%s: argument %d must be %s, not %s", call.Func, i+1, ts.desc, x.typ)
	}
	switch fn.kind {
	case aggRow:
		return a, c.rowArguments(a, input, call, byColumns, compileArg, checkType)
	case aggAny:
		return a, c.anyArguments(a, input, call, byColumns, compileArg)
	case aggPercentiles:
		return a, c.percentileArguments(a, call, sc, compileArg, checkType)
	}

	// aggValue: [value] [predicate] [limit or accuracy]
	lo, hi := 0, 0
	if fn.param != nil {
		lo, hi = 1, 1
		if fn.optionalValue {
			lo = 0
		}
	}
	if fn.predicate {
		lo, hi = lo+1, hi+1
	}
	if fn.limit || fn.accuracy {
		hi++
	}
	if err := arity(lo, hi); err != nil {
		return nil, err
	}
	next := 0
	a.vtype = kusto.TypeUnknown
	if fn.param != nil && (!fn.optionalValue || len(call.Args) > 0) {
		x, err := compileArg(call.Args[0])
		if err != nil {
			return nil, err
		}
		if x, err = checkType(0, x, fn.param); err != nil {
			return nil, err
		}
		a.vtype = x.typ
		if fn.optionalValue { // count(x) counts rows: x is checked, never read
			a.exprs = a.exprs[:0]
		} else {
			a.args = append(a.args, x)
		}
		next = 1
	}
	if fn.predicate {
		p, err := compileArg(call.Args[next])
		if err != nil {
			return nil, err
		}
		if p = asBool(p); p.typ != kusto.TypeBool {
			return nil, c.errorf(call.Args[next].Offset(), kusto.KindSemantic, "%s: the predicate must be a bool, not %s", call.Func, p.typ)
		}
		a.pred = p
		next++
	}
	if next < len(call.Args) {
		what := "the maximum size of " + call.Func + "()"
		if fn.accuracy {
			what = "the accuracy of " + call.Func + "()"
		}
		x, err := sc.compile(call.Args[next])
		if err != nil {
			return nil, err
		}
		if !x.isConst() {
			return nil, c.errorf(call.Args[next].Offset(), kusto.KindSemantic, "%s must be a constant", what)
		}
		lit := kusto.Literal{Type: x.typ, Value: x.konst.v}
		v, ok := toInt64(lit.Value)
		switch {
		case !ok || !isNumeric(lit.Type) || lit.Type == kusto.TypeReal:
			return nil, c.errorf(call.Args[next].Offset(), kusto.KindSemantic, "%s must be an integer, not %s", what, kusto.FormatValue(lit.Value))
		case fn.accuracy && (v < -1 || v > 4):
			return nil, c.errorf(call.Args[next].Offset(), kusto.KindSemantic, "%s must be between 0 and 4, not %d", what, v)
		case fn.limit && v <= 0:
			return nil, c.errorf(call.Args[next].Offset(), kusto.KindSemantic, "%s must be positive, not %d", what, v)
		case fn.limit:
			a.limit = int(min(v, maxListSize))
		}
	}
	a.out = Schema{{fn.prefix + "_" + firstArgumentName(call), fn.result(a.vtype)}}
	return a, nil
}

// rowArguments compiles arg_max's and arg_min's arguments and names their columns as
// Kusto.Language does: a column is named after itself, * stands for every input column not
// named yet nor grouped by, and another expression is named max_ (first) or max_x_argN.
func (c *compiler) rowArguments(a *aggCall, input Schema, call *parser.CallExpr, byColumns map[int]bool,
	compileArg func(parser.Expr) (*compiled, error), checkType func(int, *compiled, *typeSet) (*compiled, error)) error {
	fn := a.fn
	if len(call.Args) < 1 {
		return c.errorf(call.At, kusto.KindSemantic, "%s takes at least 1 argument, not 0", fn.usage)
	}
	key, err := compileArg(call.Args[0])
	if err != nil {
		return err
	}
	if key, err = checkType(0, key, fn.param); err != nil {
		return err
	}
	a.vtype = key.typ
	a.args = append(a.args, key)
	primary, named := resultName(call.Args[0])
	name := primary
	if !named {
		name = fn.prefix + "_"
	}
	if n, ok := call.Args[0].(*parser.NamedArgExpr); ok {
		name = n.Name
	}
	anyStar := false
	for _, arg := range call.Args[1:] {
		_, star := arg.(*parser.StarExpr)
		anyStar = anyStar || star
	}
	taken := map[int]bool{}
	if k := inputColumn(input, call.Args[0]); k >= 0 {
		taken[k] = true
	}
	a.out = append(a.out, ColumnSchema{name, key.typ})
	for i, arg := range call.Args[1:] {
		if _, star := arg.(*parser.StarExpr); star {
			a.addStar(input, taken, byColumns, arg.Offset())
			continue
		}
		x, err := compileArg(arg)
		if err != nil {
			return err
		}
		var name string
		if k := inputColumn(input, arg); k >= 0 {
			if anyStar && (taken[k] || byColumns[k]) {
				continue
			}
			taken[k] = true
		}
		if inferred, ok := argumentName(arg); ok {
			name = inferred
		} else {
			name = fn.prefix + "_" + primary + "_arg" + strconv.Itoa(i+1)
		}
		a.args = append(a.args, x)
		a.out = append(a.out, ColumnSchema{name, x.typ})
	}
	return nil
}

// anyArguments compiles take_any's arguments: columns named after themselves (any_x for the
// deprecated any()), * for every input column not named yet nor grouped by, another expression
// named as Kusto infers or argN.
func (c *compiler) anyArguments(a *aggCall, input Schema, call *parser.CallExpr, byColumns map[int]bool, compileArg func(parser.Expr) (*compiled, error)) error {
	fn := a.fn
	args := call.Args
	if fn.predicate {
		if len(args) != 2 {
			return c.errorf(call.At, kusto.KindSemantic, "%s takes 2 arguments, not %d", fn.usage, len(args))
		}
		if _, star := args[0].(*parser.StarExpr); !star {
			p, err := compileArg(args[1])
			if err != nil {
				return err
			}
			if p = asBool(p); p.typ != kusto.TypeBool {
				return c.errorf(args[1].Offset(), kusto.KindSemantic, "%s: the predicate must be a bool, not %s", call.Func, p.typ)
			}
			a.pred = p
		}
		args = args[:1]
	}
	if len(args) == 0 {
		return c.errorf(call.At, kusto.KindSemantic, "%s takes at least 1 argument, not 0", fn.usage)
	}
	prefix := ""
	if fn.name == "any" {
		prefix = "any_"
	}
	anyStar := false
	for _, arg := range args {
		_, star := arg.(*parser.StarExpr)
		anyStar = anyStar || star
	}
	taken := map[int]bool{}
	for i, arg := range args {
		if _, star := arg.(*parser.StarExpr); star {
			if fn.predicate {
				return c.errorf(arg.Offset(), kusto.KindSemantic, "%s() does not take *", call.Func)
			}
			a.addStar(input, taken, byColumns, arg.Offset())
			continue
		}
		x, err := compileArg(arg)
		if err != nil {
			return err
		}
		var name string
		if k := inputColumn(input, arg); k >= 0 {
			if anyStar && (taken[k] || byColumns[k]) {
				continue
			}
			taken[k] = true
		}
		switch inferred, ok := argumentName(arg); {
		case ok && isNamedArg(arg):
			name = inferred
		case ok:
			name = prefix + inferred
		default:
			name = "any_arg" + strconv.Itoa(i)
		}
		a.args = append(a.args, x)
		a.out = append(a.out, ColumnSchema{name, x.typ})
	}
	if len(a.out) == 0 {
		return c.errorf(call.At, kusto.KindSemantic, "%s has no columns to take: every column is a group key", a.text)
	}
	return nil
}

// inputColumn returns the input column an argument of arg_max() or take_any() names as it is
// (x, or y = x), or -1.
func inputColumn(input Schema, arg parser.Expr) int {
	if n, ok := arg.(*parser.NamedArgExpr); ok {
		arg = n.Value
	}
	if col, ok := arg.(*parser.ColumnExpr); ok {
		return input.Index(col.Name)
	}
	return -1
}

// argumentName is the name of the column an argument of arg_max() or take_any() makes: the name
// given, or the one Kusto infers.
func argumentName(arg parser.Expr) (string, bool) {
	if n, ok := arg.(*parser.NamedArgExpr); ok {
		return n.Name, true
	}
	return resultName(arg)
}

func isNamedArg(arg parser.Expr) bool {
	_, ok := arg.(*parser.NamedArgExpr)
	return ok
}

// addStar adds, for a * argument at offset at, each input column that neither an earlier
// argument nor the by clause took, as arg_max(x, *) and take_any(*) return them.
func (a *aggCall) addStar(input Schema, taken, byColumns map[int]bool, at int) {
	for k, col := range input {
		if taken[k] || byColumns[k] {
			continue
		}
		taken[k] = true
		a.args = append(a.args, columnRef(col.Type, k))
		a.exprs = append(a.exprs, &parser.ColumnExpr{At: at, Name: col.Name})
		a.out = append(a.out, col)
	}
}
