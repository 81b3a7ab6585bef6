package engine

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// percentile(), percentiles() and percentiles_array(), after
// query/percentiles-aggregation-function.md. Kusto estimates them with a T-Digest; Kustard keeps
// every value of the group and computes them exactly, by the definition the page gives: the
// P-th percentile (0 < P <= 100) is the smallest value such that P percent of the values are
// less than or equal to it (the nearest rank, the value at rank ceil(P/100 × N) of the sorted
// values), and the 0th is the smallest. The result is always a member of the population, which
// the docs' estimate need not be; the estimate is within 1% of the rank, so the two agree
// wherever the docs' examples can be checked. Nulls (and NaNs) are left out.

func init() {
	percentilable := &typeSet{name: "number", desc: "a number, a datetime or a timespan",
		types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeDateTime, kusto.TypeTimespan}}
	for _, a := range []*aggregateFunc{
		{name: "percentile", prefix: "percentile", usage: "percentile(expr, percentile)",
			summary: "The nearest-rank percentile of expr: the smallest value that percentile percent of the values are less than or equal to (0 for the smallest), computed exactly (Kusto estimates it).",
			kind:    aggPercentiles, param: percentilable, result: percentileType},
		{name: "percentiles", prefix: "percentile", usage: "percentiles(expr, percentile1, …)",
			summary: "percentile() for each percentile given, in a column each, named percentile_expr_P.",
			kind:    aggPercentiles, param: percentilable, result: percentileType},
		{name: "percentiles_array", prefix: "percentiles", usage: "percentiles_array(expr, percentile1, … | dynamic([…]))",
			summary: "percentile() for each percentile given, as one dynamic array.",
			kind:    aggPercentiles, param: percentilable, result: func(kusto.Type) kusto.Type { return kusto.TypeDynamic }},
	} {
		aggregates[a.name] = a
	}
}

// percentileType is a percentile's type for values of type t: an int's is a long, as
// Kusto.Language types it; the others keep their type.
func percentileType(t kusto.Type) kusto.Type {
	if t == kusto.TypeInt {
		return kusto.TypeLong
	}
	return t
}

// percentileArguments compiles the value and the constant percentiles, and names the columns as
// Kusto.Language does: percentile_x_50, percentile_x_99_9; percentiles_x for the array.
func (c *compiler) percentileArguments(a *aggCall, call *parser.CallExpr, sc *scope,
	compileArg func(parser.Expr) (*compiled, error), checkType func(int, *compiled, *typeSet) (*compiled, error)) error {
	fn := a.fn
	single := fn.name == "percentile"
	switch n := len(call.Args); {
	case single && n != 2:
		return c.errorf(call.At, kusto.KindSemantic, "%s takes 2 arguments, not %d", fn.usage, n)
	case n < 2:
		return c.errorf(call.At, kusto.KindSemantic, "%s takes at least 2 arguments, not %d", fn.usage, n)
	}
	x, err := compileArg(call.Args[0])
	if err != nil {
		return err
	}
	if x, err = checkType(0, x, fn.param); err != nil {
		return err
	}
	a.vtype = x.typ
	a.args = append(a.args, x)
	argName := firstArgumentName(call)
	for i, e := range call.Args[1:] {
		p, err := sc.compile(e)
		if err != nil {
			return err
		}
		if !p.isConst() {
			return c.errorf(e.Offset(), kusto.KindSemantic, "%s: a percentile must be a constant", call.Func)
		}
		values := []any{p.konst.v}
		if p.typ == kusto.TypeDynamic {
			arr, ok := p.konst.v.([]any)
			if fn.name != "percentiles_array" || !ok || len(call.Args) != 2 {
				return c.errorf(e.Offset(), kusto.KindSemantic, "%s: the percentiles are numbers; only percentiles_array() takes them as one dynamic array, its only percentile argument", call.Func)
			}
			values = arr
		} else if !isNumeric(p.typ) {
			return c.errorf(e.Offset(), kusto.KindSemantic, "%s: argument %d must be a number between 0 and 100, not %s", call.Func, i+2, p.typ)
		}
		for _, v := range values {
			f, ok := toFloat64(v)
			if !ok || math.IsNaN(f) || f < 0 || f > 100 {
				return c.errorf(e.Offset(), kusto.KindSemantic, "%s: a percentile must be a number between 0 and 100, not %s", call.Func, kusto.FormatValue(v))
			}
			a.percents = append(a.percents, f)
			if fn.name != "percentiles_array" {
				a.out = append(a.out, ColumnSchema{"percentile_" + argName + "_" + percentileFragment(v), fn.result(a.vtype)})
			}
		}
	}
	if fn.name == "percentiles_array" {
		a.out = Schema{{"percentiles_" + argName, kusto.TypeDynamic}}
	}
	return nil
}

// percentileFragment writes a percentile as a column name's part: 50, 99_9.
func percentileFragment(v any) string {
	var s string
	switch v := v.(type) {
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		s = kusto.FormatValue(v)
	}
	return strings.NewReplacer(".", "_", "-", "_", "+", "_").Replace(s)
}

func toFloat64(v any) (float64, bool) {
	switch v := v.(type) {
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// nearestRank returns the index in n sorted values of the p-th percentile.
func nearestRank(p float64, n int) int {
	if p <= 0 {
		return 0
	}
	r := int(math.Ceil(p / 100 * float64(n)))
	return min(max(r, 1), n) - 1
}

// percentileAgg keeps each group's values, as S (an int's as a long), and sorts them for the
// results.
type percentileAgg[I, S number] struct {
	typ      kusto.Type // of each percentile
	percents []float64
	array    bool
	vals     [][]S
	bytes    int64
}

func (a *percentileAgg[I, S]) grow(n int) {
	for len(a.vals) < n {
		a.vals = append(a.vals, nil)
	}
}

func (a *percentileAgg[I, S]) update(args []Column, rows int, gids, sel []int32) {
	v := args[0].(*Vector[I])
	eachRow(rows, gids, sel, func(i int, g int32) {
		if v.Nulls != nil && v.Nulls[i] {
			return
		}
		x := S(v.Data[i])
		if x != x { // NaN has no rank
			return
		}
		before := cap(a.vals[g])
		a.vals[g] = append(a.vals[g], x)
		a.bytes += int64(cap(a.vals[g])-before) * 8
	})
}

func (a *percentileAgg[I, S]) results(lo, hi int) []Column {
	if a.array {
		b := builderFor(newColumn(kusto.TypeDynamic, hi-lo))
		for g := lo; g < hi; g++ {
			vals := a.sorted(g)
			if len(vals) == 0 {
				b.appendValue(nil)
				continue
			}
			arr := make([]any, len(a.percents))
			for k, p := range a.percents {
				arr[k] = dynamicOf(a.value(vals[nearestRank(p, len(vals))]))
			}
			b.appendValue(arr)
		}
		return []Column{b.column()}
	}
	out := make([]Column, len(a.percents))
	for k, p := range a.percents {
		b := builderFor(newColumn(a.typ, hi-lo))
		for g := lo; g < hi; g++ {
			vals := a.sorted(g)
			if len(vals) == 0 {
				b.appendValue(nil)
				continue
			}
			b.appendValue(a.value(vals[nearestRank(p, len(vals))]))
		}
		out[k] = b.column()
	}
	return out
}

// value is a percentile as the Go value of its column's type.
func (a *percentileAgg[I, S]) value(x S) any {
	switch a.typ {
	case kusto.TypeDateTime:
		return kusto.DateTime(x)
	case kusto.TypeTimespan:
		return kusto.Timespan(x)
	}
	return any(x)
}

func (a *percentileAgg[I, S]) sorted(g int) []S {
	vals := a.vals[g]
	if !slices.IsSorted(vals) {
		slices.Sort(vals)
	}
	return vals
}

func (a *percentileAgg[I, S]) footprint() int64 { return int64(cap(a.vals))*sliceHeader + a.bytes }

func newPercentileAgg(t kusto.Type, percents []float64, array bool) groupedAgg {
	typ := percentileType(t)
	switch t {
	case kusto.TypeInt:
		return &percentileAgg[int32, int64]{typ: typ, percents: percents, array: array}
	case kusto.TypeLong:
		return &percentileAgg[int64, int64]{typ: typ, percents: percents, array: array}
	case kusto.TypeDateTime:
		return &percentileAgg[kusto.DateTime, kusto.DateTime]{typ: typ, percents: percents, array: array}
	case kusto.TypeTimespan:
		return &percentileAgg[kusto.Timespan, kusto.Timespan]{typ: typ, percents: percents, array: array}
	default:
		return &percentileAgg[float64, float64]{typ: typ, percents: percents, array: array}
	}
}
