package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestTabularInListHoldsItsValuesUntilTheQueryEnds: the values of x in (T | …) are charged to
// the budget while the query runs and given back when its cursor closes.
func TestTabularInListHoldsItsValuesUntilTheQueryEnds(t *testing.T) {
	eng := newBudgetEngine(64<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	b, err := Check(&kusto.Source{Text: "range x from 1 to 20 step 1 | where x in (range y from 11 to 100000 step 1) | count"})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Open(t.Context(), Request{}, b)
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cur.Next()
	if err != nil || batch == nil || batch.Cols[0].Value(0) != int64(10) {
		t.Fatalf("count of x in the list: %v, %v", batch, err)
	}
	if used := eng.Memory().Used(); used < 800_000 {
		t.Errorf("%d bytes reserved while the list's 99,990 values are held; want at least 800000", used)
	}
	cur.Close()
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query ended", used)
	}
}

// TestTabularInListOverTheBudget: a list that does not fit fails the query with the low-memory
// error and gives back what it took.
func TestTabularInListOverTheBudget(t *testing.T) {
	eng := newBudgetEngine(1<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	_, err := s.Execute(t.Context(), Request{}, &kusto.Source{Text: "print x = 1 | where x in (range y from 1 to 400000 step 1)"})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || !strings.HasPrefix(kerr.Msg, LowMemoryCode) {
		t.Errorf("a list of 400,000 values under a 1 MB budget: %v", err)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query failed", used)
	}
}
