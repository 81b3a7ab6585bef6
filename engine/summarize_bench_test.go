package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// The summarize benchmarks of issue 9, each the Kustard side of a DuckDB query run on one thread
// (bench/duckdb.mjs runs it; the times of DuckDB here are in BENCHMARKS.md):
//
//	go test ./engine -run '^$' -bench Summarize -benchtime=5x -count=3 -cpu 1

// benchmarkSummarizeRange groups a range of rows by x % 10. The DuckDB query:
//
//	select x % 10 as k, count(*), sum(x) from range(1, rows + 1) t(x) group by k
func benchmarkSummarizeRange(b *testing.B, rows int64) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	text := fmt.Sprintf("range x from 1 to %d step 1 | summarize count(), sum(x) by k = x %% 10", rows)
	b.ReportAllocs()
	for b.Loop() {
		res := benchExec(b, s, text)
		if res.Rows != 10 {
			b.Fatalf("%d groups, want 10", res.Rows)
		}
		var n, sum int64
		for i := range res.Rows {
			n += res.Value(i, 1).(int64)
			sum += res.Value(i, 2).(int64)
		}
		if n != rows || sum != rows*(rows+1)/2 {
			b.Fatalf("counted %d rows summing to %d, want %d and %d", n, sum, rows, rows*(rows+1)/2)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSummarizeRange50M: range x from 1 to 50000000 step 1 | summarize count(), sum(x) by
// k = x % 10. DuckDB: select x % 10 as k, count(*), sum(x) from range(1, 50000001) t(x) group by k
func BenchmarkSummarizeRange50M(b *testing.B) { benchmarkSummarizeRange(b, 50_000_000) }

// BenchmarkSummarizeRange10M: the same over ten million rows. DuckDB: select x % 10 as k,
// count(*), sum(x) from range(1, 10000001) t(x) group by k
func BenchmarkSummarizeRange10M(b *testing.B) { benchmarkSummarizeRange(b, 10_000_000) }

const (
	stringRows   = 10_000_000
	stringGroups = 1_000_000
)

// stringTable makes T: ten million rows of x and a string s with a million distinct values.
func stringTable(b *testing.B) *Session {
	eng := New(Options{})
	b.Cleanup(func() { closeEngine(b, eng) })
	s := eng.NewSession()
	benchExec(b, s, fmt.Sprintf(`.set-or-append T <| range x from 1 to %d step 1 | extend s = strcat("k", tostring(x %% %d))`, stringRows, stringGroups))
	return s
}

// BenchmarkSummarizeString1M groups ten million rows of a stored table by a string column with a
// million distinct values, and counts the groups, made before the timer starts by
//
//	.set-or-append T <| range x from 1 to 10000000 step 1 | extend s = strcat("k", tostring(x % 1000000))
//	T | summarize count() by s | count
//
// DuckDB, with the table made once before the timer:
//
//	create table t as select x, 'k' || (x % 1000000)::varchar as s from range(1, 10000001) t(x)
//	select count(*) from (select s, count(*) from t group by s)
func BenchmarkSummarizeString1M(b *testing.B) {
	s := stringTable(b)
	benchmarkCount(b, s, "T | summarize count() by s | count", stringGroups, stringRows)
}

// BenchmarkSummarizeString1MCollect is the same query collecting the million groups into a
// result, as a client reads them: T | summarize count() by s. DuckDB: select s, count(*) from t
// group by s (bench/duckdb.mjs reads every row into JavaScript, which costs more than the query).
func BenchmarkSummarizeString1MCollect(b *testing.B) {
	s := stringTable(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Execute(context.Background(), Request{MaxResultRows: 2 * stringGroups}, &kusto.Source{Text: "T | summarize count() by s"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Rows != stringGroups {
			b.Fatalf("%d groups, want %d", res.Rows, stringGroups)
		}
	}
	b.ReportMetric(float64(stringRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
