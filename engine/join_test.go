package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestJoinBuildCountsAgainstTheBudget: the copy and hash table of a join's right side are
// reserved from the budget; past it the query fails with the low-memory error, and everything is
// given back when it ends, failed or not.
func TestJoinBuildCountsAgainstTheBudget(t *testing.T) {
	eng := newBudgetEngine(4<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	// 1M right rows cost at least 8 MB copied: twice the budget. The left side is one row.
	for _, kind := range []string{"inner", "leftouter", "rightanti"} {
		for _, key := range []string{"x", "x, s"} {
			q := fmt.Sprintf("print x = 1, s = '1' | join kind=%s (range x from 1 to 1000000 step 1 | extend s = '1') on %s | count", kind, key)
			_, err := s.Execute(t.Context(), Request{}, &kusto.Source{Text: q})
			var kerr *kusto.Error
			if !errors.As(err, &kerr) || !strings.HasPrefix(kerr.Msg, LowMemoryCode) {
				t.Errorf("%s: %v, want %s", q, err, LowMemoryCode)
			}
			if used := eng.Memory().Used(); used != 0 {
				t.Errorf("%s: %d bytes still reserved after the query failed", q, used)
			}
		}
	}
	// A right side that fits: the build is reserved while the query runs, and released after.
	res := executeText(t, s, "range x from 1 to 100000 step 1 | join kind=inner (range x from 1 to 10000 step 1) on x | count")
	if got := res.Value(0, 0); got != int64(10000) {
		t.Errorf("counted %v rows, want 10000", got)
	}
	if peak := eng.Memory().Peak(); peak < 10000*8+16384*12 {
		t.Errorf("peak of %d bytes: the build of 10,000 longs and its table was not reserved", peak)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query", used)
	}
}

// TestJoinCancels: a join stops on a cancel while it builds its right side and while it probes
// with its left side, even when its inputs never look at the context themselves and the probe
// outputs nothing (rightanti).
func TestJoinCancels(t *testing.T) {
	for _, q := range []string{
		"print x = 1 | join kind=inner Deaf on x | count",
		"Deaf | join kind=rightanti (print x = 1) on x | count",
	} {
		eng := newConcurrencyEngine(0)
		ctx, cancel := context.WithCancelCause(t.Context())
		canceled := errors.New("canceled by the test")
		batches := 0
		// Deaf is an endless stream that cancels the query at its third batch and never checks
		// the context itself.
		eng.RegisterStream("Deaf", Stream{Schema: Schema{{"x", kusto.TypeLong}}, Open: func(context.Context) Operator {
			col := &Vector[int64]{typ: kusto.TypeLong, Data: make([]int64, batchSize)}
			for i := range col.Data {
				col.Data[i] = int64(i) + 2
			}
			return NewOperator(func() (*Batch, error) {
				if batches++; batches == 3 {
					cancel(canceled)
				}
				return &Batch{Cols: []Column{col}, Len: batchSize}, nil
			})
		}})
		_, err := eng.NewSession().Execute(ctx, Request{}, &kusto.Source{Text: q})
		if err == nil || !strings.Contains(err.Error(), "canceled") {
			t.Errorf("%s: %v, want the cancel", q, err)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("%s: %d bytes still reserved after the cancel", q, used)
		}
		closeEngine(t, eng)
	}
}

// TestJoinPlainAndChunkedColumns: a join over tables large enough to be stored in chunks reads
// them as it reads small ones.
func TestJoinPlainAndChunkedColumns(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	executeText(t, s, ".set-or-append L <| range x from 1 to 30000 step 1 | extend k = x % 7, s = tostring(x % 7)")
	executeText(t, s, ".set-or-append R <| range k from 0 to 6 step 1 | extend s = tostring(k), v = k * 10")
	for q, want := range map[string]int64{
		"L | join kind=inner R on k | where v == k * 10 and s == s1 | count":        30000,
		"L | join kind=inner R on k, s | count":                                     30000,
		"R | join kind=inner L on k | count":                                        30000,
		"R | join kind=innerunique (L | where x > 29990) on k | count":              10,
		"L | join kind=leftanti (R | where k > 0) on $left.k == $right.k | count":   4285,
		"L | join kind=rightsemi (R | where k > 3) on k | count":                    3,
		"L | union R | union (L | where x > 29000) | where isnull(v) | count":       31000,
		"union kind=inner L, R | where s == '3' | count":                            4286 + 1,
		"L | join kind=fullouter (R | where k > 3) on k | where isnull(k1) | count": 17143,
	} {
		res := executeText(t, s, q)
		if res == nil {
			continue
		}
		if got := res.Value(0, 0); got != want {
			t.Errorf("%s: %v, want %d", q, got, want)
		}
	}
}

// joinBenchSession ingests, before any timing, L: x = 1..1,000,000 with k = x % 100,000, and R:
// x = 1..100,000.
func joinBenchSession(b *testing.B) *Session {
	eng := New(Options{})
	b.Cleanup(func() { closeEngine(b, eng) })
	s := eng.NewSession()
	benchExec(b, s, ".set-or-append L <| range x from 1 to 1000000 step 1 | extend k = x % 100000")
	benchExec(b, s, ".set-or-append R <| range x from 1 to 100000 step 1")
	return s
}

// BenchmarkJoinInner joins 1M rows with 100K on a long key and counts the 999,990 matches
// (k = 0 has none). The equivalent single-threaded DuckDB query, over the same tables:
//
//	SET threads = 1;
//	SELECT count(*) FROM L JOIN R ON L.k = R.x;
func BenchmarkJoinInner(b *testing.B) {
	benchmarkCount(b, joinBenchSession(b), "L | join kind=inner R on $left.k == $right.x | count", 999_990, 1_100_000)
}

// BenchmarkJoinInnerColumns is the same join with both sides' columns read after it, so that
// the output is gathered. DuckDB:
//
//	SET threads = 1;
//	SELECT count(*) FROM L JOIN R ON L.k = R.x WHERE L.x + R.x > 0;
func BenchmarkJoinInnerColumns(b *testing.B) {
	benchmarkCount(b, joinBenchSession(b), "L | join kind=inner R on $left.k == $right.x | where x + x1 > 0 | count", 999_990, 1_100_000)
}
