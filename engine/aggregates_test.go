package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kustard/kustard/kusto"
)

type aggInput struct {
	name string
	typ  kusto.Type
	col  Column
	vals []any
}

// aggInputs are random columns with nulls, longer than a chunk, by the aggregates that take them.
func aggInputs(r *rand.Rand, n int) map[string][]aggInput {
	long, longs := randomColumn(r, genLong, n, true, true)
	real, reals := randomColumn(r, genReal, n, true, false)
	text, texts := randomColumn(r, genString, n, false, false)
	flag, flags := randomColumn(r, genBool, n, true, false)
	span, spans := randomColumn(r, genTimespan, n, true, false)
	date, dates := randomColumn(r, genDateTime, n, true, false)
	i32, i32s := randomColumn(r, genInt, n, true, false)
	in := func(name string, t kusto.Type, c Column, v []any) aggInput { return aggInput{name, t, c, v} }
	numbers := []aggInput{in("long", kusto.TypeLong, long, longs), in("real", kusto.TypeReal, real, reals), in("int", kusto.TypeInt, i32, i32s)}
	return map[string][]aggInput{
		"count":          {in("none", kusto.TypeUnknown, nil, make([]any, n))},
		"sum":            append(slices.Clone(numbers), in("timespan", kusto.TypeTimespan, span, spans)),
		"avg":            append(slices.Clone(numbers), in("timespan", kusto.TypeTimespan, span, spans), in("datetime", kusto.TypeDateTime, date, dates)),
		"min":            {in("long", kusto.TypeLong, long, longs), in("string", kusto.TypeString, text, texts), in("datetime", kusto.TypeDateTime, date, dates)},
		"max":            {in("real", kusto.TypeReal, real, reals), in("string", kusto.TypeString, text, texts), in("timespan", kusto.TypeTimespan, span, spans)},
		"dcount":         {in("long", kusto.TypeLong, long, longs), in("string", kusto.TypeString, text, texts), in("bool", kusto.TypeBool, flag, flags)},
		"count_distinct": {in("real", kusto.TypeReal, real, reals)},
		"stdev":          numbers,
		"stdevp":         numbers,
		"variance":       numbers,
		"variancep":      numbers,
		"make_list":      {in("long", kusto.TypeLong, long, longs), in("string", kusto.TypeString, text, texts)},
		"make_set":       {in("long", kusto.TypeLong, long, longs), in("string", kusto.TypeString, text, texts)},
	}
}

// aggReference computes an aggregate over the rows picked, boxed, naively.
func aggReference(name string, typ kusto.Type, vals []any, picked []int) any {
	var count int64
	var sum float64
	var nums []float64
	var best any
	distinct := map[any]bool{}
	list, set := []any{}, []any{}
	for _, i := range picked {
		v := vals[i]
		if name == "count" {
			count++
			continue
		}
		if v == nil {
			continue
		}
		count++
		if !distinct[v] {
			set = append(set, dynamicOf(v))
		}
		distinct[v] = true
		list = append(list, dynamicOf(v))
		var f float64
		switch x := v.(type) {
		case int32:
			f = float64(x)
		case int64:
			f = float64(x)
		case float64:
			f = x
		case kusto.Timespan:
			f = float64(x)
		case kusto.DateTime:
			f = float64(x)
		}
		sum += f
		nums = append(nums, f)
		if best == nil || name == "min" && less(v, best) || name == "max" && less(best, v) {
			best = v
		}
	}
	spread := func(sample bool) float64 {
		d := float64(len(nums))
		if sample {
			d--
		}
		if d <= 0 {
			return 0
		}
		mean := sum / float64(len(nums))
		var m2 float64
		for _, x := range nums {
			m2 += (x - mean) * (x - mean)
		}
		return m2 / d
	}
	switch name {
	case "count":
		return count
	case "dcount", "count_distinct":
		return int64(len(distinct))
	case "min", "max":
		return best
	case "stdev":
		return math.Sqrt(spread(true))
	case "stdevp":
		return math.Sqrt(spread(false))
	case "variance":
		return spread(true)
	case "variancep":
		return spread(false)
	case "make_list":
		return list
	case "make_set":
		return set
	case "avg":
		return meanValue(avgTypeOf(typ), sum, count)
	}
	switch typ { // sum
	case kusto.TypeLong, kusto.TypeInt:
		return int64(sum)
	case kusto.TypeTimespan:
		return kusto.Timespan(sum)
	}
	return sum
}

// sameAggregate compares results: reals within a relative 1e-9 (sums in another order), lists
// by their JSON.
func sameAggregate(got, want any) bool {
	if g, ok := got.(float64); ok {
		w, ok := want.(float64)
		return ok && (g == w || math.IsNaN(g) && math.IsNaN(w) || math.Abs(g-w) <= 1e-9*math.Max(math.Abs(g), math.Abs(w)))
	}
	if _, ok := got.([]any); ok {
		return kusto.FormatDynamic(got) == kusto.FormatDynamic(want)
	}
	return got == want
}

// Each aggregate's state over random data with nulls, against a naive reference: all rows into
// one state, rows split between two states then merged, a selection of rows, and no rows.
func TestAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := chunkRows + 700
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	for name, ins := range aggInputs(r, n) {
		agg := aggregates[name]
		for _, in := range ins {
			what := name + "(" + in.name + ")"
			if rt := agg.result(in.typ); rt == kusto.TypeUnknown {
				t.Errorf("%s: no result type", what)
			}
			whole := agg.state(in.typ, maxListSize)
			whole.update(in.col, n, nil)
			if got, want := whole.result(), aggReference(name, in.typ, in.vals, all); !sameAggregate(got, want) {
				t.Errorf("%s over all rows = %v, want %v", what, got, want)
			}

			// Two partial states over batches, one of them selected, then merged.
			var picked []int
			a, b := agg.state(in.typ, maxListSize), agg.state(in.typ, maxListSize)
			for lo := 0; lo < n; lo += batchSize {
				hi := min(n, lo+batchSize)
				var col Column
				if in.col != nil {
					col = in.col.Slice(lo, hi)
				}
				var sel []int32
				for i := lo; i < hi; i++ {
					if i%3 != 0 {
						sel = append(sel, int32(i-lo))
						picked = append(picked, i)
					}
				}
				if (lo/batchSize)%2 == 0 {
					a.update(col, hi-lo, sel)
				} else {
					b.update(col, hi-lo, sel)
				}
			}
			a.merge(b)
			if name == "make_list" || name == "make_set" {
				continue // the merged order is the two states', not the input's
			}
			if got, want := a.result(), aggReference(name, in.typ, in.vals, picked); !sameAggregate(got, want) {
				t.Errorf("%s over selected rows, merged = %v, want %v", what, got, want)
			}
			if got, want := agg.state(in.typ, maxListSize).result(), aggReference(name, in.typ, nil, nil); !sameAggregate(got, want) {
				t.Errorf("%s of no rows = %v, want %v", what, got, want)
			}
		}
	}
}

// The grouped aggregates, and the states run per group, against one state per group fed the
// same rows: random groups, batches with and without a selection.
func TestGroupedAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := chunkRows + 700
	for name, ins := range aggInputs(r, n) {
		fn := aggregates[name]
		for _, in := range ins {
			for _, groups := range []int{1, 7, 300} {
				what := fmt.Sprintf("%s(%s) in %d groups", name, in.name, groups)
				forms := map[string]groupedAgg{"states": newStateAgg(fn.result(in.typ), func() aggState { return fn.state(in.typ, maxListSize) })}
				if fn.grouped != nil {
					forms["grouped"] = fn.grouped(in.typ, maxListSize)
				}
				want := make([]aggState, groups)
				for g := range want {
					want[g] = fn.state(in.typ, maxListSize)
				}
				for lo := 0; lo < n; lo += batchSize {
					hi := min(n, lo+batchSize)
					var args []Column
					if in.col != nil {
						args = []Column{plain(in.col.Slice(lo, hi))}
					}
					var gids []int32
					if groups > 1 {
						gids = make([]int32, hi-lo)
						for i := range gids {
							gids[i] = int32(r.IntN(groups))
						}
					}
					var sel []int32
					if (lo/batchSize)%2 == 1 {
						for i := range hi - lo {
							if r.IntN(3) > 0 {
								sel = append(sel, int32(i))
							}
						}
					}
					eachRow(hi-lo, gids, sel, func(i int, g int32) {
						var col Column
						if args != nil {
							col = args[0]
						}
						want[g].update(col, hi-lo, []int32{int32(i)})
					})
					for _, f := range forms {
						f.grow(groups)
						f.update(args, hi-lo, gids, sel)
					}
				}
				for form, f := range forms {
					if f.footprint() <= 0 {
						t.Errorf("%s, %s: footprint %d", what, form, f.footprint())
					}
					got := f.results(0, groups)[0]
					for g := range groups {
						if !sameAggregate(got.Value(g), want[g].result()) {
							t.Errorf("%s, %s: group %d = %v, want %v", what, form, g, got.Value(g), want[g].result())
							break
						}
					}
				}
			}
		}
	}
}

// less orders two values of the same type, as the reference needs.
func less(a, b any) bool {
	switch a := a.(type) {
	case int64:
		return a < b.(int64)
	case float64:
		return a < b.(float64)
	case string:
		return a < b.(string)
	case kusto.DateTime:
		return a < b.(kusto.DateTime)
	case kusto.Timespan:
		return a < b.(kusto.Timespan)
	}
	panic(fmt.Sprintf("less: %T", a))
}

func TestAggregatesListed(t *testing.T) {
	got := Aggregates()
	if len(got) != len(aggregates) || got[0].Name != "any" || got[len(got)-1].Name != "variancep" {
		t.Errorf("Aggregates() = %v", got)
	}
	for _, a := range aggregates {
		if functions[a.name] != nil || unsupportedFunctions[a.name] || unsupportedAggregates[a.name] {
			t.Errorf("%s is an aggregate and also a scalar or unsupported function", a.name)
		}
		if a.kind == aggValue && a.state == nil {
			t.Errorf("%s has no state", a.name)
		}
	}
}
