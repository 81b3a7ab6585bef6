package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// benchExportQuery is 200,000 rows of a long, a real, a string and a datetime.
const benchExportQuery = `range i from 1 to 200000 step 1 | extend r = i * 0.5, s = strcat("name ", i % 1000), d = datetime(2024-01-01) + i * 1s`

// BenchmarkExport: .export of 200,000 rows to each format, in rows per second (b.N exports).
// BenchmarkIngestParquet reads back the Parquet file.
func BenchmarkExport(b *testing.B) {
	for _, format := range []string{"csv", "json", "parquet"} {
		b.Run(format, func(b *testing.B) {
			dir := b.TempDir()
			eng := newBudgetEngine(8<<30, 4<<30, 0)
			defer closeEngine(b, eng)
			s := eng.NewSession()
			for i := range b.N {
				text := fmt.Sprintf(".export to %s ('%s') with (namePrefix='b%d') <| %s", format, dir, i, benchExportQuery)
				if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: text}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(200_000*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkIngestParquet(b *testing.B) {
	dir := b.TempDir()
	eng := newBudgetEngine(8<<30, 4<<30, 0)
	defer closeEngine(b, eng)
	s := eng.NewSession()
	if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: fmt.Sprintf(".export to parquet ('%s') with (namePrefix='src') <| %s", dir, benchExportQuery)}); err != nil {
		b.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "src_*.parquet"))
	if len(files) != 1 {
		b.Fatalf("exported files: %v", files)
	}
	st, _ := os.Stat(files[0])
	b.SetBytes(st.Size())
	b.ResetTimer()
	for i := range b.N {
		table := fmt.Sprintf("T%d", i)
		if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".create table " + table + " (i:long, r:real, s:string, d:datetime)"}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".ingest into table " + table + " ('" + files[0] + "') with (format='parquet')"}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Execute(b.Context(), Request{}, &kusto.Source{Text: ".drop table " + table})
		b.StartTimer()
	}
	b.ReportMetric(float64(200_000*b.N)/b.Elapsed().Seconds(), "rows/s")
}
