package engine

import (
	"fmt"
	"testing"
)

// The sorting benchmarks of issue 9, over ten million generated rows. Each checks its answer.

// BenchmarkTop10 keeps the ten largest of ten million computed keys: a bounded heap, which most
// rows pass by with one comparison of integers.
//
// DuckDB (SET threads = 1):
//
//	SELECT x FROM range(1, 10000001) t(x) ORDER BY x * 7 % 1000003 DESC LIMIT 10;
func BenchmarkTop10(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	text := fmt.Sprintf("range x from 1 to %d step 1 | top 10 by x * 7 %% 1000003 desc", ingestRows)
	b.ReportAllocs()
	for b.Loop() {
		res := benchExec(b, s, text)
		// The largest key, 1000002, is at x = 285715 and every 1000003 after: ten times in
		// ten million rows, kept in input order.
		if res.Rows != 10 {
			b.Fatalf("%d rows, want 10", res.Rows)
		}
		for r := range res.Rows {
			if got, want := res.Value(r, 0), int64(285715+r*1000003); got != want {
				b.Fatalf("row %d: x = %v, want %d", r, got, want)
			}
		}
	}
	b.ReportMetric(float64(ingestRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSortIntoTable sorts ten million rows by a computed key into a table: the whole input
// buffered, radix-sorted, and gathered in order into the ingest.
//
// DuckDB (SET threads = 1):
//
//	CREATE TABLE Sorted AS SELECT x FROM range(1, 10000001) t(x) ORDER BY x * 7 % 1000003 DESC;
func BenchmarkSortIntoTable(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	text := fmt.Sprintf(".set-or-append Sorted <| range x from 1 to %d step 1 | sort by x * 7 %% 1000003", ingestRows)
	benchmarkIngest(b, s, text, "Sorted", func() {
		if got := benchExec(b, s, "Sorted | take 1").Value(0, 0); got != int64(285715) {
			b.Fatalf("the first row sorted is x = %v, want 285715, of the largest key", got)
		}
	})
}

// BenchmarkDistinct finds the hundred thousand distinct keys of ten million rows: the
// single-long hash set.
//
// DuckDB (SET threads = 1):
//
//	SELECT count(*) FROM (SELECT DISTINCT x % 100000 AS k FROM range(1, 10000001) t(x));
func BenchmarkDistinct(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	text := fmt.Sprintf("range x from 1 to %d step 1 | project k = x %% 100000 | distinct k | count", ingestRows)
	benchmarkCount(b, eng.NewSession(), text, 100000, ingestRows)
}
