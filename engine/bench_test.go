package engine

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
)

// The benchmarks behind BENCHMARKS.md. Run them with
//
//	go test ./engine -run '^$' -bench 'CancelLatency|IngestRange|QueryRange' -benchtime=…
//
// BenchmarkQueryRange100M and BenchmarkQueryTableFilter are the Kustard side of bench/compare,
// which runs them next to DuckDB and SQLite.
//
// The machine they were written on is small and shared: compare ratios within one run.

const endlessRange = "range x from 1 to 1000000000000 step 1"

// benchExec runs text in s and fails the benchmark on an error.
func benchExec(b *testing.B, s *Session, text string) *Result {
	b.Helper()
	res, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: text})
	if err != nil {
		b.Fatalf("%s: %v", text, err)
	}
	return res
}

func closeEngine(tb testing.TB, e *Engine) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Close(ctx); err != nil {
		tb.Errorf("closing the engine: %v", err)
	}
}

// BenchmarkCancelLatency measures `.cancel operation` from the call to its return, which is when
// the operation has stopped, and reports the p50, p99 and max of all the cancels of the run, in
// nanoseconds.
//
// concurrent=N: each iteration starts N endless async ingests and cancels them in the order they
// were started, so with one ingest slot (the default on two cores) every cancel hits the one
// running operation, which has just started (the rest are Scheduled; each cancel admits the next).
// capacity=100 lets all of them run at once: more than there are cores.
func BenchmarkCancelLatency(b *testing.B) {
	for _, bc := range []struct {
		concurrent, capacity int
	}{
		{1, 0}, {100, 0}, {100, 100},
	} {
		name := "concurrent=" + strconv.Itoa(bc.concurrent)
		if bc.capacity > 0 {
			name += "/capacity=" + strconv.Itoa(bc.capacity)
		}
		b.Run(name, func(b *testing.B) {
			eng := New(Options{Capacity: bc.capacity})
			defer closeEngine(b, eng)
			s := eng.NewSession()
			var latencies []time.Duration
			ids := make([]string, bc.concurrent)
			for b.Loop() {
				b.StopTimer()
				for i := range ids {
					res := benchExec(b, s, fmt.Sprintf(".set-or-append async T%d <| %s", i, endlessRange))
					ids[i] = kusto.FormatValue(res.Value(0, 0))
				}
				b.StartTimer()
				for _, id := range ids {
					latencies = append(latencies, benchCancel(b, s, id))
				}
			}
			reportLatencies(b, latencies)
		})
	}
}

// benchCancel cancels an operation and returns how long `.cancel operation` took.
func benchCancel(b *testing.B, s *Session, id string) time.Duration {
	b.Helper()
	start := time.Now()
	res := benchExec(b, s, ".cancel operation "+id+` with(reason="bench")`)
	d := time.Since(start)
	if state := res.Value(0, 3); state != "Canceled successfully" {
		b.Fatalf("cancel %s: %v: %v", id, state, res.Value(0, 4))
	}
	return d
}

func reportLatencies(b *testing.B, latencies []time.Duration) {
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(percentile(latencies, 50)), "p50-ns")
	b.ReportMetric(float64(percentile(latencies, 99)), "p99-ns")
	b.ReportMetric(float64(latencies[len(latencies)-1]), "max-ns")
}

// percentile returns the p-th percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

const ingestRows = 10_000_000

// benchmarkIngest runs an ingest of ingestRows rows into table, checks what it committed
// (check, untimed, may look closer), drops the table untimed, and reports rows per second.
func benchmarkIngest(b *testing.B, s *Session, text, table string, check func()) {
	b.ReportAllocs()
	for b.Loop() {
		res := benchExec(b, s, text)
		if got := extentRows(res.Frame); got != ingestRows {
			b.Fatalf("ingested %d rows, want %d", got, int64(ingestRows))
		}
		b.StopTimer()
		if check != nil {
			check()
		}
		benchExec(b, s, ".drop table "+table)
		b.StartTimer()
	}
	b.ReportMetric(float64(ingestRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkIngestRange ingests ten million rows of a range synchronously, into a table that is
// dropped between iterations.
func BenchmarkIngestRange(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	text := fmt.Sprintf(".set-or-append T <| range x from 1 to %d step 1", ingestRows)
	benchmarkIngest(b, eng.NewSession(), text, "T", nil)
}

// benchmarkCount runs a query that counts rows, checks its answer, and reports the rows the
// query read per second.
func benchmarkCount(b *testing.B, s *Session, text string, want, rowsRead int64) {
	b.ReportAllocs()
	for b.Loop() {
		res := benchExec(b, s, text)
		if got := res.Value(0, 0); got != want {
			b.Fatalf("counted %v rows, want %d", got, want)
		}
	}
	b.ReportMetric(float64(rowsRead)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkQueryRange filters and counts ten million rows of a range, for context: the cost of
// the query pipeline without building an extent.
func BenchmarkQueryRange(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	text := fmt.Sprintf("range x from 1 to %d step 1 | where x %% 2 == 0 | count", ingestRows)
	benchmarkCount(b, eng.NewSession(), text, ingestRows/2, ingestRows)
}

const rangeRows100M = 100_000_000

// BenchmarkQueryRange100M filters and counts a hundred million rows of a range: the first
// workload of bench/compare. The range streams; nothing is materialized.
func BenchmarkQueryRange100M(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	text := fmt.Sprintf("range x from 1 to %d step 1 | where x %% 2 == 0 | count", rangeRows100M)
	benchmarkCount(b, eng.NewSession(), text, rangeRows100M/2, rangeRows100M)
}

// BenchmarkQueryTableFilter filters and counts a stored table of ten million longs, x = 1..10^7,
// ingested once before the timer starts: the second workload of bench/compare.
func BenchmarkQueryTableFilter(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	res := benchExec(b, s, fmt.Sprintf(".set-or-append T <| range x from 1 to %d step 1", ingestRows))
	if got := extentRows(res.Frame); got != ingestRows {
		b.Fatalf("ingested %d rows, want %d", got, int64(ingestRows))
	}
	benchmarkCount(b, s, "T | where x % 2 == 0 | count", ingestRows/2, ingestRows)
}

// BenchmarkQueryExpr is an expression-heavy query: arithmetic, comparisons and a logical and
// over ten million rows, with constant operands.
func BenchmarkQueryExpr(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	text := fmt.Sprintf("range x from 1 to %d step 1 | where x %% 2 == 0 and x > 10 | extend y = x * 2 + 1 | count", ingestRows)
	benchmarkCount(b, eng.NewSession(), text, ingestRows/2-5, ingestRows)
}

// BenchmarkExtendString computes a string column over a million rows: the kernel, and the budget's
// charge for each batch of strings.
func BenchmarkExtendString(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	const rows = 1_000_000
	text := fmt.Sprintf("range x from 1 to %d step 1 | extend s = strcat('k', tostring(x)) | where strlen(s) > 1 | count", rows)
	benchmarkCount(b, eng.NewSession(), text, rows, rows)
}

// Big inputs (BENCHMARKS.md, "Big and deep inputs"): a query holding a datatable of 400,000 rows
// of three columns, counted, and a chain of 300,000 constant terms, folded as it is compiled.
func BenchmarkRunBigDatatable(b *testing.B) {
	for _, rows := range []int{300_000, 400_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			var text []byte
			text = append(text, "datatable(a:long, b:string, c:real)["...)
			for i := range rows {
				text = fmt.Appendf(text, "%d, \"x%d\", %d.5, ", i, i, i)
			}
			text = append(text, "] | count"...)
			benchmarkRun(b, string(text), int64(rows))
		})
	}
}

func BenchmarkRunLongChain(b *testing.B) {
	benchmarkRun(b, "print x = 1"+strings.Repeat(" + 1", 300_000), int64(300_001))
}

func benchmarkRun(b *testing.B, text string, want int64) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if got := benchExec(b, s, text).Value(0, 0); got != want {
			b.Fatalf("got %v, want %d", got, want)
		}
	}
}

// BenchmarkEngineStart is the engine's part of a cold `kustard exec 'print 1'`: an engine, a
// session, the query (parsed by the block fast path, so the grammar is not built) and closing.
// The grammar's own cost is parser's BenchmarkGrammarBuild.
func BenchmarkEngineStart(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		e := New(Options{})
		res := benchExec(b, e.NewSession(), "print 1")
		if got := res.Rows; got != 1 {
			b.Fatalf("%d rows", got)
		}
		closeEngine(b, e)
	}
}
