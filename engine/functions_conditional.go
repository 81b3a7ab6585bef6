package engine

import (
	"cmp"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Conditional and null-testing functions. Those over T are compiled for T's Go type once, so
// their loops are typed.

func init() {
	iff := &function{name: "iff", usage: "iff(condition, then, else)", summary: "then where condition is true, else where it is false or null.",
		overload: []overload{{params: []typeSet{tBool, tT, tT}, result: returnsT, build: buildIff}}}
	declare(
		iff, alias("iif", iff),
		&function{name: "case", usage: "case(predicate1, then1, [predicate2, then2, …] else)",
			summary:  "The then of the first predicate that is true; else if none is.",
			overload: []overload{{params: []typeSet{tAny, tAny, tAny}, variadic: true, result: returnsT, build: buildCase}}},
		&function{name: "not", usage: "not(bool)", summary: "The negation of a bool; null stays null.",
			overload: []overload{{params: []typeSet{tBool}, result: returns(kusto.TypeBool), build: buildNot}}},
		&function{name: "isnull", usage: "isnull(value)", summary: "Whether a value is null.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeBool), build: nullTest(false)}}},
		&function{name: "isnotnull", usage: "isnotnull(value)", summary: "Whether a value is not null.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeBool), build: nullTest(true)}}},
		&function{name: "isempty", usage: "isempty(value)", summary: "Whether a value is null or the empty string.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeBool), build: emptyTest(false)}}},
		&function{name: "isnotempty", usage: "isnotempty(value)", summary: "Whether a value is neither null nor the empty string.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeBool), build: emptyTest(true)}}},
		&function{name: "coalesce", usage: "coalesce(arg1, arg2, …)", summary: "The first argument that is neither null nor the empty string.",
			overload: []overload{{params: []typeSet{tT, tT}, variadic: true, result: returnsT, build: buildCoalesce}}},
		&function{name: "max_of", usage: "max_of(arg1, arg2, …)", summary: "The largest argument, ignoring nulls.",
			overload: []overload{{params: []typeSet{tOrdered, tOrdered}, variadic: true, result: returnsT, build: extremeOf(true)}}},
		&function{name: "min_of", usage: "min_of(arg1, arg2, …)", summary: "The smallest argument, ignoring nulls.",
			overload: []overload{{params: []typeSet{tOrdered, tOrdered}, variadic: true, result: returnsT, build: extremeOf(false)}}},
	)
}

// nullFlags returns the null flags of any column (nil when none is null).
func nullFlags(c Column) []bool {
	switch c.Type() {
	case kusto.TypeBool:
		return vectorOf[bool](c).Nulls
	case kusto.TypeInt:
		return vectorOf[int32](c).Nulls
	case kusto.TypeLong:
		return vectorOf[int64](c).Nulls
	case kusto.TypeReal:
		return vectorOf[float64](c).Nulls
	case kusto.TypeString:
		return nil
	case kusto.TypeDateTime:
		return vectorOf[kusto.DateTime](c).Nulls
	case kusto.TypeTimespan:
		return vectorOf[kusto.Timespan](c).Nulls
	case kusto.TypeGUID:
		return vectorOf[uuid.UUID](c).Nulls
	}
	return vectorOf[any](c).Nulls
}

func nullTest(wantNotNull bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return &compiled{typ: kusto.TypeBool, run: func(st *evalState, b *Batch, own bool) Column {
			nulls := nullFlags(args[0].run(st, b, false))
			out := scratch[bool](st, kusto.TypeBool, b.Len, own)
			if nulls == nil {
				for i := range out.Data {
					out.Data[i] = wantNotNull
				}
				return out
			}
			for i, null := range nulls {
				out.Data[i] = null != wantNotNull
			}
			return out
		}}, nil
	}
}

func emptyTest(wantNotEmpty bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		if args[0].typ != kusto.TypeString {
			return nullTest(wantNotEmpty)(sc, call, args)
		}
		return unaryNode(kusto.TypeBool, args[0], func(d []bool, a []string) {
			d = d[:len(a)]
			for i, s := range a {
				d[i] = (s == "") != wantNotEmpty
			}
		}), nil
	}
}

func buildNot(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return unaryNode(kusto.TypeBool, args[0], func(d, a []bool) {
		d = d[:len(a)]
		for i, v := range a {
			d[i] = !v
		}
	}), nil
}

func buildIff(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	t, cond, then, other := args[1].typ, args[0], args[1], args[2]
	switch t {
	case kusto.TypeBool:
		return iffNode[bool](t, cond, then, other), nil
	case kusto.TypeInt:
		return iffNode[int32](t, cond, then, other), nil
	case kusto.TypeLong:
		return iffNode[int64](t, cond, then, other), nil
	case kusto.TypeReal:
		return iffNode[float64](t, cond, then, other), nil
	case kusto.TypeString:
		return iffNode[string](t, cond, then, other), nil
	case kusto.TypeDateTime:
		return iffNode[kusto.DateTime](t, cond, then, other), nil
	case kusto.TypeTimespan:
		return iffNode[kusto.Timespan](t, cond, then, other), nil
	case kusto.TypeGUID:
		return iffNode[uuid.UUID](t, cond, then, other), nil
	}
	return iffNode[any](t, cond, then, other), nil
}

func iffNode[T any](t kusto.Type, cond, then, other *compiled) *compiled {
	return &compiled{typ: t, run: func(st *evalState, b *Batch, own bool) Column {
		c := vectorOf[bool](cond.run(st, b, false))
		x, y := vectorOf[T](then.run(st, b, false)), vectorOf[T](other.run(st, b, false))
		out := scratch[T](st, t, b.Len, own)
		pick := c.Data
		if c.Nulls != nil { // a null condition takes else
			pick = scratch[bool](st, kusto.TypeBool, b.Len, false).Data
			for i := range pick {
				pick[i] = c.Data[i] && !c.Nulls[i]
			}
		}
		for i, p := range pick {
			if p {
				out.Data[i] = x.Data[i]
			} else {
				out.Data[i] = y.Data[i]
			}
		}
		if x.Nulls == nil && y.Nulls == nil {
			return out
		}
		nulls := scratch[bool](st, kusto.TypeBool, b.Len, own).Data
		for i, p := range pick {
			nulls[i] = p && x.Nulls != nil && x.Nulls[i] || !p && y.Nulls != nil && y.Nulls[i]
		}
		return setNulls(out, nulls)
	}}
}

func buildCoalesce(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	switch t := args[0].typ; t {
	case kusto.TypeBool:
		return coalesceNode[bool](t, args), nil
	case kusto.TypeInt:
		return coalesceNode[int32](t, args), nil
	case kusto.TypeLong:
		return coalesceNode[int64](t, args), nil
	case kusto.TypeReal:
		return coalesceNode[float64](t, args), nil
	case kusto.TypeString:
		return coalesceNode[string](t, args), nil
	case kusto.TypeDateTime:
		return coalesceNode[kusto.DateTime](t, args), nil
	case kusto.TypeTimespan:
		return coalesceNode[kusto.Timespan](t, args), nil
	case kusto.TypeGUID:
		return coalesceNode[uuid.UUID](t, args), nil
	default:
		return coalesceNode[any](t, args), nil
	}
}

// coalesceNode fills each row from the first argument that has a value there: not null, and
// not the empty string (nor a dynamic holding one).
func coalesceNode[T any](t kusto.Type, args []*compiled) *compiled {
	return &compiled{typ: t, run: func(st *evalState, b *Batch, own bool) Column {
		out := scratch[T](st, t, b.Len, own)
		missing := scratch[bool](st, kusto.TypeBool, b.Len, own).Data
		for i := range missing {
			missing[i] = true
		}
		take := scratch[bool](st, kusto.TypeBool, b.Len, false).Data
		var zero T
		for _, a := range args {
			v := vectorOf[T](a.run(st, b, false))
			switch d := any(v.Data).(type) {
			case []string:
				for i, s := range d {
					take[i] = missing[i] && s != ""
				}
			case []any:
				for i, x := range d {
					s, isString := x.(string)
					take[i] = missing[i] && !v.IsNull(i) && x != nil && !(isString && s == "")
				}
			default:
				copy(take, missing)
				if v.Nulls != nil {
					for i, null := range v.Nulls {
						take[i] = take[i] && !null
					}
				}
			}
			for i, ok := range take {
				if ok {
					out.Data[i], missing[i] = v.Data[i], false
				}
			}
		}
		for i, m := range missing {
			if m {
				out.Data[i] = zero
				return setNulls(out, missing)
			}
		}
		return out
	}}
}

func extremeOf(largest bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		switch t := args[0].typ; t {
		case kusto.TypeInt:
			return extremeNode[int32](t, args, largest), nil
		case kusto.TypeLong:
			return extremeNode[int64](t, args, largest), nil
		case kusto.TypeReal:
			return extremeNode[float64](t, args, largest), nil
		case kusto.TypeString:
			return extremeNode[string](t, args, largest), nil
		case kusto.TypeDateTime:
			return extremeNode[kusto.DateTime](t, args, largest), nil
		default:
			return extremeNode[kusto.Timespan](t, args, largest), nil
		}
	}
}

// extremeNode is max_of or min_of over T; nulls are ignored, as in Kusto.
func extremeNode[T cmp.Ordered](t kusto.Type, args []*compiled, largest bool) *compiled {
	return &compiled{typ: t, run: func(st *evalState, b *Batch, own bool) Column {
		out := scratch[T](st, t, b.Len, own)
		missing := scratch[bool](st, kusto.TypeBool, b.Len, own).Data
		for i := range missing {
			missing[i] = true
		}
		for _, a := range args {
			v := vectorOf[T](a.run(st, b, false))
			for i, x := range v.Data {
				if v.Nulls != nil && v.Nulls[i] {
					continue
				}
				if missing[i] || largest && cmp.Less(out.Data[i], x) || !largest && cmp.Less(x, out.Data[i]) {
					out.Data[i], missing[i] = x, false
				}
			}
		}
		for _, m := range missing {
			if m {
				return setNulls(out, missing)
			}
		}
		return out
	}}
}

// buildCase checks case's alternating predicates and values, whose values meet at one type as
// iff's branches do, and compiles it as nested iffs: case(p1, v1, p2, v2, e) is
// iff(p1, v1, iff(p2, v2, e)), a null predicate counting as false.
func buildCase(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if len(args)%2 == 0 {
		return nil, sc.c.errorf(call.At, kusto.KindSemantic, "case takes pairs of predicates and values, then an else value: an odd number of arguments, not %d", len(args))
	}
	t := args[len(args)-1].typ
	for i := 0; i < len(args)-1; i += 2 {
		if args[i] = asBool(args[i]); args[i].typ != kusto.TypeBool {
			return nil, sc.c.errorf(call.Args[i].Offset(), kusto.KindSemantic, "case: argument %d, a predicate, must be a bool, not %s", i+1, args[i].typ)
		}
		u, ok := unifyTypes(t, args[i+1].typ)
		if !ok {
			return nil, sc.c.errorf(call.Args[i+1].Offset(), kusto.KindSemantic, "case: argument %d must be %s, as the other values are, not %s", i+2, article(t), args[i+1].typ)
		}
		t = u
	}
	out := implicit(args[len(args)-1], t)
	for i := len(args) - 3; i >= 0; i -= 2 {
		var err error
		if out, err = buildIff(sc, call, []*compiled{args[i], implicit(args[i+1], t), out}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
