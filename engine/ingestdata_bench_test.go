package engine

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// BenchmarkIngestCSV: .ingest into of a CSV file of 200,000 rows (a long, a real, a string, a
// datetime), in bytes of the file per second.
func BenchmarkIngestCSV(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.csv")
	var sb strings.Builder
	for i := range 200_000 {
		fmt.Fprintf(&sb, "%d,%d.5,\"name %d\",2024-01-%02dT10:00:00Z\n", i, i, i%1000, i%28+1)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	eng := newBudgetEngine(8<<30, 4<<30, 0)
	defer closeEngine(b, eng)
	s := eng.NewSession()
	b.SetBytes(int64(sb.Len()))
	b.ResetTimer()
	for i := range b.N {
		table := fmt.Sprintf("T%d", i)
		if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".create table " + table + " (a:long, r:real, s:string, d:datetime)"}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".ingest into table " + table + " ('" + path + "')"}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".drop table " + table})
		b.StartTimer()
	}
}

// BenchmarkIngestTyped: .ingest into of 500,000 rows of a long, a real, a datetime, a string of
// 50,000 values and a bool (bench/gendata's rows), as CSV, gzip'd CSV and JSON lines, in bytes
// of the uncompressed text per second, with rows/s.
func BenchmarkIngestTyped(b *testing.B) {
	const rows = 500_000
	dir := b.TempDir()
	var csv, json strings.Builder
	for i := range rows {
		n := int64(i)
		d := fmt.Sprintf("2024-01-%02dT%02d:%02d:%02dZ", 1+n/86400%28, n/3600%24, n/60%60, n%60)
		fmt.Fprintf(&csv, "%d,%d.%d,%s,customer-%d,%t\n", n*7919-1e9, n%100000, 10+n%90, d, n%50000, n%3 == 0)
		fmt.Fprintf(&json, `{"a":%d,"r":%d.%d,"d":"%s","s":"customer-%d","b":%t}`+"\n", n*7919-1e9, n%100000, 10+n%90, d, n%50000, n%3 == 0)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(csv.String()))
	zw.Close()
	files := []struct {
		name, data, with string
		size             int
	}{
		{"csv", csv.String(), "", csv.Len()},
		{"csv.gz", gz.String(), "", csv.Len()},
		{"json", json.String(), " with (format='json')", json.Len()},
	}
	for _, f := range files {
		b.Run(f.name, func(b *testing.B) {
			path := filepath.Join(dir, "bench."+f.name)
			if err := os.WriteFile(path, []byte(f.data), 0o644); err != nil {
				b.Fatal(err)
			}
			eng := newBudgetEngine(8<<30, 4<<30, 0)
			defer closeEngine(b, eng)
			s := eng.NewSession()
			b.SetBytes(int64(f.size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				table := fmt.Sprintf("T%d", i)
				if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".create table " + table + " (a:long, r:real, d:datetime, s:string, b:bool)"}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".ingest into table " + table + " ('" + path + "')" + f.with}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".drop table " + table})
				b.StartTimer()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
