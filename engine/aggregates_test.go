package engine

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// Each aggregate over random data with nulls, against a naive reference: all rows into one
// state, rows split between two states then merged, and a selection of rows.
func TestAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := chunkRows + 700
	long, longs := randomColumn(r, genLong, n, true, true)
	real, reals := randomColumn(r, genReal, n, true, false)
	text, texts := randomColumn(r, genString, n, false, false)
	flag, flags := randomColumn(r, genBool, n, true, false)
	span, spans := randomColumn(r, genTimespan, n, true, false)

	type input struct {
		name string
		typ  kusto.Type
		col  Column
		vals []any
	}
	inputs := map[string][]input{
		"count":   {{"none", kusto.TypeUnknown, nil, make([]any, n)}},
		"countif": {{"bool", kusto.TypeBool, flag, flags}},
		"sum":     {{"long", kusto.TypeLong, long, longs}, {"real", kusto.TypeReal, real, reals}, {"timespan", kusto.TypeTimespan, span, spans}},
		"avg":     {{"long", kusto.TypeLong, long, longs}, {"real", kusto.TypeReal, real, reals}},
		"min":     {{"long", kusto.TypeLong, long, longs}, {"string", kusto.TypeString, text, texts}},
		"max":     {{"real", kusto.TypeReal, real, reals}, {"string", kusto.TypeString, text, texts}},
		"dcount":  {{"long", kusto.TypeLong, long, longs}, {"string", kusto.TypeString, text, texts}, {"bool", kusto.TypeBool, flag, flags}},
	}
	// reference computes the aggregate over the rows picked, boxed.
	reference := func(name string, typ kusto.Type, vals []any, picked []int) any {
		var count int64
		var sum float64
		var best any
		distinct := map[any]bool{}
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
			distinct[v] = true
			switch x := v.(type) {
			case bool:
				if x && name == "countif" {
					sum++
				}
			case int64:
				sum += float64(x)
			case float64:
				sum += x
			case kusto.Timespan:
				sum += float64(x)
			}
			if best == nil || name == "min" && less(v, best) || name == "max" && less(best, v) {
				best = v
			}
		}
		switch name {
		case "count":
			return count
		case "countif":
			return int64(sum)
		case "dcount":
			return int64(len(distinct))
		case "min", "max":
			return best
		}
		if count == 0 {
			return nil
		}
		switch {
		case name == "avg":
			return sum / float64(count)
		case typ == kusto.TypeLong:
			return int64(sum)
		case typ == kusto.TypeTimespan:
			return kusto.Timespan(sum)
		}
		return sum
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	for name, ins := range inputs {
		agg := aggregates[name]
		for _, in := range ins {
			what := name + "(" + in.name + ")"
			if rt := agg.result(in.typ); rt == kusto.TypeUnknown {
				t.Errorf("%s: no result type", what)
			}
			whole := agg.state(in.typ)
			whole.update(in.col, n, nil)
			if got, want := whole.result(), reference(name, in.typ, in.vals, all); !sameValue(got, want) {
				t.Errorf("%s over all rows = %v, want %v", what, got, want)
			}

			// Two partial states over batches, one of them selected, then merged.
			var picked []int
			a, b := agg.state(in.typ), agg.state(in.typ)
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
			if got, want := a.result(), reference(name, in.typ, in.vals, picked); !sameValue(got, want) {
				t.Errorf("%s over selected rows, merged = %v, want %v", what, got, want)
			}
			if got := agg.state(in.typ).result(); name != "count" && name != "countif" && name != "dcount" && got != nil {
				t.Errorf("%s of no rows = %v, want null", what, got)
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
	}
	panic(fmt.Sprintf("less: %T", a))
}

func TestAggregatesListed(t *testing.T) {
	got := Aggregates()
	if len(got) != len(aggregates) || got[0].Name != "avg" || got[len(got)-1].Name != "sum" {
		t.Errorf("Aggregates() = %v", got)
	}
}
