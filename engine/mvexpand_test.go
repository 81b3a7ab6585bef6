package engine

import (
	"fmt"
	"sync"
	"testing"
)

// TestMvExpandCountsAgainstTheBudget: an expansion streams, so counting a million expanded rows
// fits in a 4 MiB budget, while collecting them (about 40 MB) stops with the low-memory error;
// either way the budget is given back.
func TestMvExpandCountsAgainstTheBudget(t *testing.T) {
	eng := newBudgetEngine(4<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	const expand = "range x from 1 to 100000 step 1 | extend d = pack_array(x, x, x, x, x, x, x, x, x, x) | mv-expand d"
	wantLowMemory(t, eng, expand)
	wantLowMemory(t, eng, expand+" | sort by x")
	s := eng.NewSession()
	for query, want := range map[string]any{
		expand + " | count": int64(1000000),
		"range x from 1 to 100000 step 1 | extend d = pack_array(x, x + 1) | mv-apply d to typeof(long) on (summarize m = max(d)) | summarize sum(m - x)": int64(100000),
	} {
		if got := queryScalar(t, s, query); got != want {
			t.Errorf("%s = %v, want %v", query, got, want)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("%s: %d bytes still reserved after the query", query, used)
		}
	}
}

// TestMvApplyPlanOpenedTwice: a tabular let holding an mv-apply, opened twice by a union, gives
// each run its own rows; sessions running it at once share nothing (run it with -race).
func TestMvApplyPlanOpenedTwice(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	const query = `let t = range x from 1 to 3000 step 1 | extend d = pack_array(x, x * 10) | mv-apply d to typeof(long) on (summarize s = sum(d));
union t, t | summarize sum(s - 11 * x), count()`
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := executeText(t, eng.NewSession(), query)
			if got := fmt.Sprint(collectRows(res.Frame)); got != "[[0 6000]]" {
				t.Errorf("%s = %s, want [[0 6000]]", query, got)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkMvExpand expands a stored table of a million rows, each with a ten-element array,
// into ten million rows, and counts them.
func BenchmarkMvExpand(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	benchExec(b, s, ".set-or-append T <| range x from 1 to 1000000 step 1 | extend d = pack_array(x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7, x + 8, x + 9)")
	benchmarkCount(b, s, "T | mv-expand d to typeof(long) | where d % 2 == 0 | count", 5000000, 10000000)
}
