package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestMaterializeHoldsItsFrameUntilTheQueryEnds: the materialized rows are charged to the budget
// while the cursor is open, and given back when it closes.
func TestMaterializeHoldsItsFrameUntilTheQueryEnds(t *testing.T) {
	eng := newBudgetEngine(64<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	b, err := Check(&kusto.Source{Text: "let m = materialize(range x from 1 to 100000 step 1); m | join kind=inner (m) on x | count"})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Open(t.Context(), Request{}, b)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cur.Next()
	if err != nil || batch == nil || batch.Cols[0].Value(0) != int64(100000) {
		t.Fatalf("count of the self-join: %v, %v", batch, err)
	}
	// 100,000 longs materialized: at least 800 kB held while the cursor is open.
	if used := eng.Memory().Used(); used < 800_000 {
		t.Errorf("%d bytes reserved while the materialized rows are held; want at least 800000", used)
	}
	cur.Close()
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query ended", used)
	}
}

// TestMaterializeOverTheBudget: a materialized expression that does not fit fails the query
// with the low-memory error and gives back what it took.
func TestMaterializeOverTheBudget(t *testing.T) {
	eng := newBudgetEngine(1<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	_, err := s.Execute(t.Context(), Request{}, &kusto.Source{Text: "let m = materialize(range x from 1 to 400000 step 1); m | count"})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || !strings.HasPrefix(kerr.Msg, LowMemoryCode) {
		t.Errorf("a 3 MB materialize under a 1 MB budget: %v", err)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query failed", used)
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
