package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// sortData has several batches of longs with nulls, reals with nulls and NaNs, and strings, with
// many ties, and i, the row's place in the input, to check stability.
const sortData = `range i from 1 to 3000 step 1
| extend a = iff(i % 11 == 0, long(null), i * 7919 % 101),
         r = iff(i % 13 == 0, real(null), iff(i % 17 == 0, real(nan), toreal(i * 31 % 23) - 11.5)),
         s = tostring(i * 37 % 29)`

type refKey struct {
	col              int
	desc, nullsFirst bool
}

// refCompare orders two boxed values as the docs say: nulls (then NaN) first or last, the rest in
// the key's direction.
func refCompare(x, y any, k refKey) int {
	class := func(v any) int {
		switch f, ok := v.(float64); {
		case v == nil:
			return 0
		case ok && math.IsNaN(f):
			return 1
		}
		return 2
	}
	cx, cy := class(x), class(y)
	if cx != 2 || cy != 2 {
		if k.nullsFirst {
			return cmp.Compare(cx, cy)
		}
		return cmp.Compare(cy, cx)
	}
	var c int
	switch x := x.(type) {
	case int64:
		c = cmp.Compare(x, y.(int64))
	case float64:
		c = cmp.Compare(x, y.(float64))
	case string:
		c = strings.Compare(x, y.(string))
	default:
		panic(fmt.Sprintf("refCompare: %T", x))
	}
	if k.desc {
		c = -c
	}
	return c
}

func collectRows(f *Frame) [][]any {
	rows := make([][]any, f.Rows)
	for r := range rows {
		for c := range f.Cols {
			rows[r] = append(rows[r], f.Value(r, c))
		}
	}
	return rows
}

// TestSortAndTopMatchAReference: sort and top, on every path (radix, comparators, the heap's
// fast and general comparisons), give the rows a stable sort by the docs' order gives.
func TestSortAndTopMatchAReference(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	all := collectRows(executeText(t, s, sortData).Frame)
	cols := map[string]int{"i": 0, "a": 1, "r": 2, "s": 3}
	for _, tc := range []struct {
		by   string
		keys []refKey
	}{
		{"a", []refKey{{1, true, false}}},
		{"a asc", []refKey{{1, false, true}}},
		{"a asc nulls last", []refKey{{1, false, false}}},
		{"a desc nulls first", []refKey{{1, true, true}}},
		{"r", []refKey{{2, true, false}}},
		{"r asc", []refKey{{2, false, true}}},
		{"r asc nulls last", []refKey{{2, false, false}}},
		{"s asc", []refKey{{3, false, true}}},
		{"a asc, s desc", []refKey{{1, false, true}, {3, true, false}}},
		{"s, r asc nulls last, i", []refKey{{3, true, false}, {2, false, false}, {0, true, false}}},
	} {
		want := slices.Clone(all)
		slices.SortStableFunc(want, func(x, y []any) int {
			for _, k := range tc.keys {
				if c := refCompare(x[k.col], y[k.col], k); c != 0 {
					return c
				}
			}
			return 0
		})
		check := func(query string, want [][]any) {
			got := collectRows(executeText(t, s, query).Frame)
			if len(got) != len(want) {
				t.Fatalf("%s: %d rows, want %d", query, len(got), len(want))
			}
			for r := range got {
				if got[r][cols["i"]] != want[r][cols["i"]] {
					t.Fatalf("%s: row %d is i=%v, want i=%v", query, r, got[r][0], want[r][0])
				}
			}
		}
		check(sortData+"\n| sort by "+tc.by, want)
		for _, n := range []int{1, 7, 1500, 5000} {
			check(fmt.Sprintf("%s\n| top %d by %s", sortData, n, tc.by), want[:min(n, len(want))])
		}
	}
}

// TestDistinctMatchesAReference: distinct keeps one row per combination, in the order they first
// appear, on the single-long path and the general one.
func TestDistinctMatchesAReference(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	all := collectRows(executeText(t, s, sortData).Frame)
	for _, tc := range []struct {
		cols string
		idx  []int
	}{
		{"a", []int{1}}, {"r", []int{2}}, {"s", []int{3}}, {"a, s", []int{1, 3}}, {"r, a", []int{2, 1}}, {"*", []int{0, 1, 2, 3}},
	} {
		var want []string
		seen := map[string]bool{}
		for _, row := range all {
			var key []string
			for _, i := range tc.idx {
				key = append(key, fmt.Sprint(row[i]))
			}
			k := strings.Join(key, "|")
			if !seen[k] {
				seen[k] = true
				want = append(want, k)
			}
		}
		query := sortData + "\n| distinct " + tc.cols
		f := executeText(t, s, query).Frame
		var got []string
		for _, row := range collectRows(f) {
			var key []string
			for _, v := range row {
				key = append(key, fmt.Sprint(v))
			}
			got = append(got, strings.Join(key, "|"))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d rows %v…, want %d %v…", query, len(got), got[:min(5, len(got))], len(want), want[:min(5, len(want))])
		}
	}
}

func wantLowMemory(t *testing.T, eng *Engine, query string) {
	t.Helper()
	_, err := eng.NewSession().Execute(t.Context(), Request{}, &kusto.Source{Text: query})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || !strings.HasPrefix(kerr.Msg, LowMemoryCode) {
		t.Errorf("%s: %v, want the low-memory error", query, err)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%s: %d bytes still reserved after the query failed", query, used)
	}
}

// TestSortingOperatorsCountAgainstTheBudget: what sort and distinct buffer is reserved, and
// stops them with the low-memory error; top holds only its rows; all give back what they held.
func TestSortingOperatorsCountAgainstTheBudget(t *testing.T) {
	eng := newBudgetEngine(4<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	// A million rows of a long and its key: 16 MB, four times the budget, with a one-row result.
	wantLowMemory(t, eng, "range x from 1 to 1000000 step 1 | sort by x % 7 | count")
	wantLowMemory(t, eng, "range x from 1 to 1000000 step 1 | sort by tostring(x) | count")
	wantLowMemory(t, eng, "range x from 1 to 1000000 step 1 | distinct x | count")
	wantLowMemory(t, eng, "range x from 1 to 1000000 step 1 | extend s = tostring(x) | distinct s, x | count")
	wantLowMemory(t, eng, "range x from 1 to 1000000 step 1 | top 900000 by x | count")
	s := eng.NewSession()
	for query, want := range map[string]any{
		"range x from 1 to 1000000 step 1 | top 10 by x % 1000 | count":                    int64(10),
		"range x from 1 to 1000000 step 1 | sort by x | take 3 | count":                    int64(3),
		"range x from 1 to 1000000 step 1 | project k = x % 1000 | distinct k | count":     int64(1000),
		"range x from 1 to 1000000 step 1 | top 5 by tostring(x) asc | project x | take 1": int64(1),
	} {
		if got := queryScalar(t, s, query); got != want {
			t.Errorf("%s = %v, want %v", query, got, want)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("%s: %d bytes still reserved after the query", query, used)
		}
	}
}

// TestSortingOperatorsStopWhenCanceled: once a query is canceled, sort, top and distinct stop
// between the batches they emit.
func TestSortingOperatorsStopWhenCanceled(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	for _, query := range []string{
		"range x from 1 to 100000 step 1 | sort by x",
		"range x from 1 to 100000 step 1 | sort by tostring(x)",
		"range x from 1 to 100000 step 1 | top 5000 by x",
		"range x from 1 to 100000 step 1 | distinct x",
	} {
		ctx, cancel := context.WithCancel(t.Context())
		b, err := Check(&kusto.Source{Text: query})
		if err != nil {
			t.Fatal(err)
		}
		cur, err := s.Open(ctx, Request{}, b)
		if err != nil {
			t.Fatal(err)
		}
		if b, err := cur.Next(); b == nil || err != nil {
			t.Fatalf("%s: first batch %v, %v", query, b, err)
		}
		cancel()
		var kerr *kusto.Error
		if b, err := cur.Next(); b != nil || !errors.As(err, &kerr) || kerr.Kind != kusto.KindCanceled {
			t.Errorf("%s: after the cancel: batch %v, %v; want the canceled error", query, b != nil, err)
		}
		cur.Close()
	}
}
