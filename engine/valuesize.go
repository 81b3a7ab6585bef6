package engine

import (
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Value size. The Kusto docs (scalar-data-types/dynamic.md): "Values of type dynamic are limited
// to 1MB (2^20)". Kustard holds every string and dynamic value a function builds to a bound of
// that order, counted in memory as the budget counts it rather than in JSON (a long of six
// digits is 6 bytes of JSON and 24 in memory): 4 MiB. Without a bound, a short query that
// multiplies a value at each step (strcat(s, s), array_concat(a, a), extended over and over)
// builds gigabytes inside one kernel, past the memory budget, which sees only what operators
// keep, and past a cancel, which kernels do not poll. With it, one call's result is at most its
// arguments' size times their number.

// MaxValueSize is the largest string or dynamic value a function may build, counted as the
// memory budget counts it.
const MaxValueSize = 4 << 20

// capValues wraps a function's string or dynamic result so that a value larger than
// MaxValueSize fails the query at the call, rather than growing without bound.
func capValues(sc *scope, call *parser.CallExpr, c *compiled) *compiled {
	run := c.run
	src, at := sc.c.src, call.At
	c.run = func(st *evalState, b *Batch, own bool) Column {
		col := run(st, b, own)
		var size int64
		switch v := col.(type) {
		case *Vector[string]:
			for _, s := range v.Data {
				size = max(size, int64(len(s)))
			}
		case *Vector[any]:
			for _, x := range v.Data {
				size = max(size, dynamicCost(x))
			}
		default:
			for i := range col.Len() {
				size = max(size, dynamicCost(col.Value(i)))
			}
		}
		if size > MaxValueSize {
			panic(evalFailure{kusto.Errorf(kusto.KindLimits, src, at,
				"%s built a %s value of %s; a value may hold at most %s",
				shortText(parser.ExprString(call)), c.typ, FormatBytes(size), FormatBytes(MaxValueSize))})
		}
		return col
	}
	return c
}
