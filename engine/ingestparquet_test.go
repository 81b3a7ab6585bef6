package engine

import (
	"bytes"
	"errors"
	"fmt"
	"os"
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
		// Kustard's own export: INT96 datetimes, and nulls of every type.
		{"", "b:bool, i:int, l:long, r:real, d:datetime, t:timespan, g:guid, s:string, y:dynamic", ""},
	}
	exported := exportedParquet(t)
	for k, c := range cases {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			eng := newBudgetEngine(1<<30, 1<<30, 0)
			defer closeEngine(t, eng)
			s := eng.NewSession()
			path, _ := filepath.Abs(filepath.Join("..", "testdata", "ingest", c.file))
			if c.file == "" {
				path = exported
			}
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

// exportedParquet is a Parquet file of Kustard's export, of every type, with nulls.
func exportedParquet(t *testing.T) string {
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	dir := t.TempDir()
	text := ".export to parquet ('" + dir + "') with (namePrefix='all') <| " +
		"range k from 1 to 5000 step 1 | project b = iff(k % 7 == 0, bool(null), k % 2 == 0), i = iff(k % 5 == 0, int(null), toint(k)), " +
		"l = iff(k % 3 == 0, long(null), k * 1000000007), r = iff(k % 4 == 0, real(null), k / 7.0), " +
		"d = iff(k % 6 == 0, datetime(null), datetime(1601-01-01) + k * 1d + k * 1tick), t = iff(k % 8 == 0, timespan(null), k * 1s), " +
		"g = iff(k % 9 == 0, guid(null), guid(00000000-0000-0000-0000-000000000001)), s = strcat('v', k % 10), y = iff(k % 2 == 0, dynamic(null), pack('k', k))"
	if err := execText(t, s, Request{}, text); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "all_*.parquet"))
	if len(files) != 1 {
		t.Fatalf("exported %v", files)
	}
	return files[0]
}

func show(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T %s", v, kusto.FormatValue(v))
}

// TestIngestParquetColumnPathCorruptPages: bytes damaged inside the column chunks of a file
// whose footer is intact fail the ingest with an error naming the source (or, where the damage
// decodes, load rows), never a panic, and leave nothing reserved.
func TestIngestParquetColumnPathCorruptPages(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "ingest", "many.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	failed := 0
	for k := range 40 {
		bad := bytes.Clone(data)
		at := 4 + k*(len(data)/2)/40 // the first half: pages, not the footer
		for i := at; i < at+16 && i < len(bad); i++ {
			bad[i] ^= 0x5a
		}
		path := filepath.Join(dir, fmt.Sprintf("bad%d.parquet", k))
		os.WriteFile(path, bad, 0o644)
		table := fmt.Sprintf("T%d", k)
		if err := execText(t, s, Request{}, ".create table "+table+" (id:long, sku:string, price:real)"); err != nil {
			t.Fatal(err)
		}
		before := eng.Memory().Used()
		err := execText(t, s, Request{}, ".ingest into table "+table+" ('"+path+"') with (format='parquet')")
		if err != nil {
			if used := eng.Memory().Used(); used != before {
				t.Errorf("damage at %d: the failed ingest kept %d bytes reserved", at, used-before)
			}
			var ke *kusto.Error
			if !errors.As(err, &ke) || !strings.Contains(ke.Msg, "bad") {
				t.Errorf("damage at %d: %v, want an error naming the source", at, err)
			}
			failed++
		}
	}
	if failed == 0 {
		t.Error("no damage was noticed")
	}
	t.Logf("%d of 40 damaged files failed", failed)
}
