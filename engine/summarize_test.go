package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The group tables against a map from the keys' text: over random keys of every type, with nulls,
// in batches, the same keys get the same group, different keys different groups, groups are
// numbered in the order they first appear, and each group's key columns give its keys back.
func TestGroupTables(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	long := operandGen[int64]{kusto.TypeLong, func(r *rand.Rand) int64 { return r.Int64N(5000) - 2500 }}
	real := operandGen[float64]{kusto.TypeReal, func(r *rand.Rand) float64 {
		return []float64{0, -0.0, 1.5, -2, 1e300, 5e-324}[r.IntN(6)] + float64(r.IntN(50))
	}}
	text := operandGen[string]{kusto.TypeString, func(r *rand.Rand) string {
		// Short and long keys, with shared prefixes, of lengths about 254, and empty.
		switch r.IntN(4) {
		case 0:
			return strconv.Itoa(r.IntN(3000))
		case 1:
			return "a rather long common prefix/" + strconv.Itoa(r.IntN(3000))
		case 2:
			return strings.Repeat("x", 250+r.IntN(8))
		}
		return ""
	}}
	type keySet struct {
		name string
		gen  func(n int) (Column, []any)
	}
	col := func(g any) func(n int) (Column, []any) {
		return func(n int) (Column, []any) {
			switch g := g.(type) {
			case operandGen[int64]:
				return randomColumn(r, g, n, true, false)
			case operandGen[int32]:
				return randomColumn(r, g, n, true, false)
			case operandGen[float64]:
				return randomColumn(r, g, n, true, false)
			case operandGen[string]:
				return randomColumn(r, g, n, false, false)
			case operandGen[bool]:
				return randomColumn(r, g, n, true, false)
			case operandGen[kusto.DateTime]:
				return randomColumn(r, g, n, true, false)
			case operandGen[kusto.Timespan]:
				return randomColumn(r, g, n, true, false)
			case operandGen[uuid.UUID]:
				return randomColumn(r, g, n, true, false)
			}
			panic("no generator")
		}
	}
	cases := [][]keySet{
		{{"long", col(long)}}, {{"int", col(genInt)}}, {{"real", col(real)}}, {{"string", col(text)}},
		{{"bool", col(genBool)}}, {{"datetime", col(genDateTime)}}, {{"timespan", col(genTimespan)}}, {{"guid", col(genGUID)}},
		{{"long", col(genLong)}, {"string", col(genString)}}, {{"bool", col(genBool)}, {"real", col(genReal)}, {"guid", col(genGUID)}},
	}
	for _, keys := range cases {
		var names []string
		var types []kusto.Type
		for _, k := range keys {
			names = append(names, k.name)
			c, _ := k.gen(1)
			types = append(types, c.Type())
		}
		what := strings.Join(names, ", ")
		table := newGroupTable(types)
		index := map[string]int32{}
		var firsts [][]any // each group's keys, as they first came
		for batch := range 12 {
			n := batchSize - batch*7
			cols := make([]Column, len(keys))
			vals := make([][]any, len(keys))
			for k, ks := range keys {
				cols[k], vals[k] = ks.gen(n)
			}
			gids := make([]int32, n)
			table.assign(cols, n, gids)
			for i := range n {
				var row []any
				for k := range keys {
					row = append(row, groupValue(vals[k][i]))
				}
				key := fmt.Sprint(row)
				want, ok := index[key]
				if !ok {
					want = int32(len(index))
					index[key] = want
					firsts = append(firsts, row)
				}
				if gids[i] != want {
					t.Fatalf("%s: batch %d row %d (%v) is in group %d, want %d", what, batch, i, row, gids[i], want)
				}
			}
		}
		if table.groups() != len(index) {
			t.Fatalf("%s: %d groups, want %d", what, table.groups(), len(index))
		}
		kc := table.keyColumns(0, table.groups())
		for g, row := range firsts {
			for k, c := range kc {
				if got := groupValue(c.Value(g)); got != row[k] && !(types[k] == kusto.TypeReal && got == 0.0 && row[k] == 0.0) {
					t.Fatalf("%s: group %d's key %d is %v, want %v", what, g, k, got, row[k])
				}
			}
		}
		if table.footprint() <= 0 {
			t.Errorf("%s: footprint %d", what, table.footprint())
		}
	}
}

// groupValue is a key as grouping sees it: -0 is 0.
func groupValue(v any) any {
	if f, ok := v.(float64); ok && f == 0 {
		return 0.0
	}
	return v
}

// summarize over many groups, for each kind of key, against sums worked out by hand.
func TestSummarizeManyGroups(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	s := eng.NewSession()
	const rows, groups = 300_000, 100_003
	for _, by := range []string{"k = x % 100003", `k = strcat("group ", tostring(x % 100003))`, "k = x % 100003, z = x % 100003 > 5"} {
		q := fmt.Sprintf("range x from 1 to %d step 1 | summarize n = count(), total = sum(x), low = min(x), high = max(x), any = take_any(x) by %s", rows, by)
		res, err := s.Execute(context.Background(), Request{MaxResultRows: 1 << 20}, &kusto.Source{Text: q})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if res.Rows != groups {
			t.Fatalf("by %s: %d groups, want %d", by, res.Rows, groups)
		}
		nCol := res.Schema.Index("n")
		for g := range res.Rows {
			low := res.Value(g, nCol+2).(int64)
			k := low % groups // the group of x = low
			var n, total int64
			for x := k; x <= rows; x += groups {
				if x > 0 {
					n, total = n+1, total+x
				}
			}
			if k == 0 {
				k = groups
			}
			if low != k || res.Value(g, nCol) != n || res.Value(g, nCol+1) != total || res.Value(g, nCol+3).(int64) != k+(n-1)*groups || res.Value(g, nCol+4).(int64) != k {
				t.Fatalf("by %s: group %d is n=%v total=%v low=%v high=%v any=%v; want n=%d total=%d low=%d",
					by, g, res.Value(g, nCol), res.Value(g, nCol+1), low, res.Value(g, nCol+3), res.Value(g, nCol+4), n, total, k)
			}
			if g == 0 && low != 1 || g > 0 && g < groups-1 && low != int64(g+1) {
				t.Fatalf("by %s: group %d starts at %d; groups come in the order they first appear", by, g, low)
			}
		}
	}
}

// The hash table and the states count against the memory budget: a summarize with more groups
// than the budget holds stops with the low-memory error and gives all of it back; the same query
// with fewer groups runs.
func TestSummarizeMemoryBudget(t *testing.T) {
	eng := newBudgetEngine(16<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	for _, q := range []string{
		"range x from 1 to 10000000 step 1 | summarize count() by x",
		`range x from 1 to 10000000 step 1 | summarize count() by tostring(x)`,
		`range x from 1 to 10000000 step 1 | summarize count() by x, tostring(x % 7)`,
		`range x from 1 to 10000000 step 1 | summarize make_list(x)`,
		`range x from 1 to 10000000 step 1 | summarize dcount(x)`,
	} {
		_, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: q})
		var kerr *kusto.Error
		if !errors.As(err, &kerr) || kerr.Kind != kusto.KindLimits || !strings.Contains(kerr.Msg, LowMemoryCode) {
			t.Errorf("%s: %v, want the low-memory error", q, err)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("%s: %d bytes still reserved after the query failed", q, used)
		}
	}
	if n := queryScalar(t, s, "range x from 1 to 10000000 step 1 | summarize count() by x % 1000 | count"); n != int64(1000) {
		t.Errorf("1000 groups: %v", n)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query", used)
	}
	if peak := eng.Memory().Peak(); peak > 16<<20 {
		t.Errorf("the budget peaked at %d, past its limit", peak)
	}
}

// A summarize stops soon after its query is canceled, while it reads its input and while it
// yields its groups.
func TestSummarizeCancel(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	s := eng.NewSession()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Execute(ctx, Request{}, &kusto.Source{Text: "range x from 1 to 1000000000000 step 1 | summarize count(), sum(x) by x % 7"})
	if err == nil || err.(*kusto.Error).Kind != kusto.KindCanceled {
		t.Errorf("reading: %v, want a cancel", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("reading: canceled after %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	b, err := Check(&kusto.Source{Text: "range x from 1 to 100000 step 1 | summarize count() by x"})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Open(ctx, Request{}, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if batch, err := cur.Next(); err != nil || batch == nil || batch.Len != batchSize {
		t.Fatalf("the first batch of groups: %v, %v", batch, err)
	}
	cancel()
	if _, err := cur.Next(); err == nil {
		t.Error("yielding: no error after the cancel")
	}
}

// summarize reads only the columns its keys and aggregates name, and a summarize whose plan is
// opened twice (a let used twice) runs twice alike.
func TestSummarizePrunesAndReopens(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	s := eng.NewSession()
	executeText(t, s, `.set-or-append T <| range x from 1 to 100 step 1 | extend s = tostring(x % 3), unused = x * 2`)
	n, err := s.Plan(Request{}, &kusto.Source{Text: "T | summarize count() by s"})
	if err != nil {
		t.Fatal(err)
	}
	if p := FormatPlan(n); !strings.Contains(p, "reading [s]") {
		t.Errorf("plan:\n%s", p)
	}
	for range 2 {
		res := executeText(t, s, "let g = T | summarize c = count() by s; g | where c > 0 | count")
		if res.Value(0, 0) != int64(3) {
			t.Errorf("let used again: %v", res.Value(0, 0))
		}
	}
}
