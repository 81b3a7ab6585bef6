package engine

import (
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
