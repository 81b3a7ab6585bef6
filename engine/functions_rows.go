package engine

import (
	"regexp"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Row-wise nodes: a typed function called once a row, for the functions whose work per row
// (calendar arithmetic, parsing, formatting, regular expressions, building dynamic values)
// outweighs the call. A row where an argument is null is null without a call; f's false makes
// a null. The plain arithmetic functions have loops of their own instead (functions_math.go).

// rowNulls collects a result's null flags, allocating them at the first null.
type rowNulls struct {
	st    *evalState
	own   bool
	n     int
	flags []bool
}

func (r *rowNulls) set(i int) {
	if r.flags == nil {
		r.flags = scratchFlags(r.st, r.n, r.own)
	}
	r.flags[i] = true
}

func map2Node[A, B, R any](typ kusto.Type, x, y *compiled, f func(A, B) (R, bool)) *compiled {
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column {
		av, bv := vectorOf[A](x.run(st, b, false)), vectorOf[B](y.run(st, b, false))
		out := scratch[R](st, typ, b.Len, own)
		nulls := rowNulls{st: st, own: own, n: b.Len}
		var zero R
		for i := range out.Data {
			if av.IsNull(i) || bv.IsNull(i) {
				out.Data[i] = zero
				nulls.set(i)
				continue
			}
			r, ok := f(av.Data[i], bv.Data[i])
			if !ok {
				nulls.set(i)
			}
			out.Data[i] = r
		}
		return setNulls(out, nulls.flags)
	}}
}

func map3Node[A, B, C, R any](typ kusto.Type, x, y, z *compiled, f func(A, B, C) (R, bool)) *compiled {
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column {
		av, bv, cv := vectorOf[A](x.run(st, b, false)), vectorOf[B](y.run(st, b, false)), vectorOf[C](z.run(st, b, false))
		out := scratch[R](st, typ, b.Len, own)
		nulls := rowNulls{st: st, own: own, n: b.Len}
		var zero R
		for i := range out.Data {
			if av.IsNull(i) || bv.IsNull(i) || cv.IsNull(i) {
				out.Data[i] = zero
				nulls.set(i)
				continue
			}
			r, ok := f(av.Data[i], bv.Data[i], cv.Data[i])
			if !ok {
				nulls.set(i)
			}
			out.Data[i] = r
		}
		return setNulls(out, nulls.flags)
	}}
}

// boxedNode calls f with each row's arguments boxed (nil for a null), for the functions of
// many or mixed arguments whose nulls mean something (pack, make_datetime, case's branches).
func boxedNode[R any](typ kusto.Type, args []*compiled, f func(vals []any) (R, bool)) *compiled {
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column {
		cols := make([]Column, len(args))
		for k, a := range args {
			cols[k] = a.run(st, b, false)
		}
		out := scratch[R](st, typ, b.Len, own)
		nulls := rowNulls{st: st, own: own, n: b.Len}
		vals := make([]any, len(args))
		for i := range out.Data {
			for k, c := range cols {
				vals[k] = c.Value(i)
			}
			r, ok := f(vals)
			if !ok {
				nulls.set(i)
			}
			out.Data[i] = r
		}
		return setNulls(out, nulls.flags)
	}}
}

// constString returns a string argument's value if it is a constant.
func constString(e *compiled) (string, bool) {
	if !e.isConst() {
		return "", false
	}
	s, _ := constOf[string](e)
	return s, true
}

// regexCache compiles the patterns of a regex argument: once, when the pattern is a constant
// (a bad one is an error where the call is), else per row, keeping the last.
type regexCache struct {
	fixed *regexp.Regexp
}

func newRegexCache(sc *scope, call *parser.CallExpr, arg int, args []*compiled) (*regexCache, error) {
	p, ok := constString(args[arg])
	if !ok {
		return &regexCache{}, nil
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, sc.c.errorf(call.Args[arg].Offset(), kusto.KindSemantic, "%s: argument %d is not a valid regular expression: %v", call.Func, arg+1, err)
	}
	return &regexCache{fixed: re}, nil
}

// get returns the regex of pattern p, or nil if p does not compile (the row is then null). A
// cache is used by one evaluation at a time per goroutine, so it keeps no mutable state but the
// constant: a non-constant pattern is compiled per row.
func (c *regexCache) get(p string) *regexp.Regexp {
	if c.fixed != nil {
		return c.fixed
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil
	}
	return re
}
