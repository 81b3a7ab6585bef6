package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestQueryMemoryHeldUntilTheQueryEnds: what a query computes once for all its rows (a
// materialized expression, the values of x in (T | …)) is charged to the budget while the cursor
// is open, and given back when it closes.
func TestQueryMemoryHeldUntilTheQueryEnds(t *testing.T) {
	for _, c := range []struct {
		name, query string
		count       int64
	}{
		{"materialize", "let m = materialize(range x from 1 to 100000 step 1); m | join kind=inner (m) on x | count", 100000},
		{"tabular in-list", "range x from 1 to 20 step 1 | where x in (range y from 11 to 100000 step 1) | count", 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng := newBudgetEngine(64<<20, 1<<30, 0)
			defer closeEngine(t, eng)
			b, err := Check(&kusto.Source{Text: c.query})
			if err != nil {
				t.Fatal(err)
			}
			cur, err := eng.NewSession().Open(t.Context(), Request{}, b)
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cur.Next()
			if err != nil || batch == nil || batch.Cols[0].Value(0) != c.count {
				t.Fatalf("count: %v, %v; want %d", batch, err, c.count)
			}
			// About 100,000 longs held: at least 800 kB while the cursor is open.
			if used := eng.Memory().Used(); used < 800_000 {
				t.Errorf("%d bytes reserved while the query's values are held; want at least 800000", used)
			}
			cur.Close()
			if used := eng.Memory().Used(); used != 0 {
				t.Errorf("%d bytes still reserved after the query ended", used)
			}
		})
	}
}

// TestQueryMemoryOverTheBudget: a materialized expression or an in-list that does not fit fails
// the query with the low-memory error and gives back what it took.
func TestQueryMemoryOverTheBudget(t *testing.T) {
	for _, query := range []string{
		"let m = materialize(range x from 1 to 400000 step 1); m | count",
		"print x = 1 | where x in (range y from 1 to 400000 step 1)",
	} {
		eng := newBudgetEngine(1<<20, 1<<30, 0)
		_, err := eng.NewSession().Execute(t.Context(), Request{}, &kusto.Source{Text: query})
		var kerr *kusto.Error
		if !errors.As(err, &kerr) || !strings.HasPrefix(kerr.Msg, LowMemoryCode) {
			t.Errorf("%s: 3 MB of values under a 1 MB budget: %v", query, err)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("%s: %d bytes still reserved after the query failed", query, used)
		}
		closeEngine(t, eng)
	}
}

// TestMaterializeRunsOnce: both readers see one run of a random expression.
func TestMaterializeRunsOnce(t *testing.T) {
	eng := newBudgetEngine(64<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	for _, c := range []struct {
		query string
		same  bool
	}{
		{"let m = materialize(range x from 1 to 1000 step 1 | project v = rand()); print same = toscalar(m | summarize sum(v)) == toscalar(m | summarize sum(v))", true},
		{"let m = materialize(range x from 1 to 1000 step 1 | project v = rand()); m | summarize a = sum(v) | extend k = 1 | join (m | summarize b = sum(v) | extend k = 1) on k | project same = a == b", true},
		{"let m = range x from 1 to 1000 step 1 | project v = rand(); m | summarize a = sum(v) | extend k = 1 | join (m | summarize b = sum(v) | extend k = 1) on k | project same = a == b", false},
	} {
		res, err := s.Execute(t.Context(), Request{}, &kusto.Source{Text: c.query})
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if got := res.Value(0, 0); got != c.same {
			t.Errorf("%s: same = %v, want %v", c.query, got, c.same)
		}
	}
}
