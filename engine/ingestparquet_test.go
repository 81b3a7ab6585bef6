package engine

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestIngestParquetColumnPathMatchesRecordPath: a flat file read by name, with no mapping,
// takes the column path; the same columns and a group column (list), or through an identity
// mapping, take the record path. Both give the same values, for every type of testdata/ingest/types.parquet's leaves into
// columns of their own type and of the other types Kusto converts them to, and over many
// row groups (many.parquet).
func TestIngestParquetColumnPathMatchesRecordPath(t *testing.T) {
	cases := []struct{ file, schema, group string }{
		{"types.parquet", "n:long, b:bool, i8:int, i16:int, i32:int, i64:long, u64:long, f32:real, f64:real, dec:real, bigdec:real, s:string, d:datetime, ts:datetime, tsms:datetime, tsns:datetime, tstz:datetime, tm:timespan, g:guid, bin:string", "list"},
		{"types.parquet", "n:string, b:string, i32:real, i64:string, f64:long, s:dynamic, ts:string, tm:long, g:string, d:long, nothere:long", "list"},
		{"types.parquet", "n:real, b:long, i8:long, i16:real, u64:real, f32:string, dec:string, s:long, ts:long, tstz:dynamic, g:dynamic", "list"},
		{"many.parquet", "id:long, sku:string, price:real", ""},
	}
	for k, c := range cases {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			eng := newBudgetEngine(1<<30, 1<<30, 0)
			defer closeEngine(t, eng)
			s := eng.NewSession()
			path, _ := filepath.Abs(filepath.Join("..", "testdata", "ingest", c.file))
			var mapping []string
			for _, col := range strings.Split(c.schema, ", ") {
				name := strings.Split(col, ":")[0]
				mapping = append(mapping, fmt.Sprintf(`{"Column":"%s","Properties":{"Path":"$.%s"}}`, name, name))
			}
			records := ".create table Records (" + c.schema + ", " + c.group + ":dynamic)"
			ingest := ".ingest into table Records (h@'" + path + "') with (format='parquet')"
			if c.group == "" {
				records = ".create table Records (" + c.schema + ")"
				ingest = ".ingest into table Records (h@'" + path + "') with (format='parquet', ingestionMapping='[" + strings.Join(mapping, ",") + "]')"
			}
			for _, text := range []string{
				".create table Columns (" + c.schema + ")",
				records,
				".ingest into table Columns (h@'" + path + "') with (format='parquet')",
				ingest,
			} {
				if err := execText(t, s, Request{}, text); err != nil {
					t.Fatalf("%s: %v", text, err)
				}
			}
			cols, recs := executeText(t, s, "Columns"), executeText(t, s, "Records")
			if cols.Rows == 0 || cols.Rows != recs.Rows {
				t.Fatalf("%d rows by columns, %d by records", cols.Rows, recs.Rows)
			}
			for j, col := range cols.Schema {
				for r := range cols.Rows {
					a, b := cols.Value(r, j), recs.Value(r, j)
					if !reflect.DeepEqual(a, b) {
						t.Fatalf("row %d, column %s: %s by columns, %s by records", r, col.Name, show(a), show(b))
					}
				}
			}
		})
	}
}

func show(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T %s", v, kusto.FormatValue(v))
}
