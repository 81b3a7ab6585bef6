package engine

import (
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// countingData is extent data that counts which columns are read.
type countingData struct {
	MemoryData
	mu    sync.Mutex
	reads map[int]int
}

func (d *countingData) Column(i int) (Column, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reads[i]++
	return d.MemoryData.Column(i)
}

func (d *countingData) read() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int
	for i := range d.reads {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

var threeCols = Schema{{"x", kusto.TypeLong}, {"s", kusto.TypeString}, {"r", kusto.TypeReal}}

// countingExtent returns an extent of rows rows over threeCols: x = i, s = "s<i>", r = i/2.
func countingExtent(rows int) (*Extent, *countingData) {
	xs, ss, rs := make([]int64, rows), make([]string, rows), make([]float64, rows)
	for i := range rows {
		xs[i], ss[i], rs[i] = int64(i), "s"+string(rune('a'+i%26)), float64(i)/2
	}
	d := &countingData{reads: map[int]int{}, MemoryData: MemoryData{
		NewVector(kusto.TypeLong, xs, nil), NewVector(kusto.TypeString, ss, nil), NewVector(kusto.TypeReal, rs, nil),
	}}
	return NewExtent(uuid.New(), rows, []kusto.Type{kusto.TypeLong, kusto.TypeString, kusto.TypeReal}, d), d
}

// readAll drains a reader and returns its batches.
func readAll(t *testing.T, next func() (*Batch, error)) []*Batch {
	t.Helper()
	var out []*Batch
	for {
		b, err := next()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			return out
		}
		// A reader reuses its batch: keep a copy of this one's column list.
		out = append(out, &Batch{Len: b.Len, Cols: slices.Clone(b.Cols)})
	}
}

// TestExtentOpenReadsOnlyItsColumns: opening an extent for some columns reads only those, yields
// them in the order asked, in batches of at most batchSize rows.
func TestExtentOpenReadsOnlyItsColumns(t *testing.T) {
	rows := 2*batchSize + 100
	e, data := countingExtent(rows)
	r, err := e.Open(threeCols, []int{2, 0})
	if err != nil {
		t.Fatal(err)
	}
	batches := readAll(t, r.Next)
	if got := data.read(); !slices.Equal(got, []int{0, 2}) || data.reads[0] != 1 || data.reads[2] != 1 {
		t.Errorf("read columns %v (%v); want 0 and 2, once each", got, data.reads)
	}
	if len(batches) != 3 || batches[0].Len != batchSize || batches[2].Len != 100 {
		t.Fatalf("%d batches; want 3 of at most %d rows", len(batches), batchSize)
	}
	row := 0
	for _, b := range batches {
		if len(b.Cols) != 2 || b.Cols[0].Type() != kusto.TypeReal || b.Cols[1].Type() != kusto.TypeLong {
			t.Fatalf("batch columns %v; want r, x", b.Cols)
		}
		for i := range b.Len {
			if b.Cols[1].Value(i) != int64(row) || b.Cols[0].Value(i) != float64(row)/2 {
				t.Fatalf("row %d: x=%v r=%v", row, b.Cols[1].Value(i), b.Cols[0].Value(i))
			}
			row++
		}
	}

	// No columns at all (a count): the rows, and no data read.
	e, data = countingExtent(rows)
	r, err = e.Open(threeCols, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range readAll(t, r.Next) {
		if len(b.Cols) != 0 {
			t.Errorf("a batch of no columns has %d", len(b.Cols))
		}
		n += b.Len
	}
	if n != rows || len(data.read()) != 0 {
		t.Errorf("read %d rows and columns %v; want %d rows and no columns", n, data.read(), rows)
	}

	if _, err := e.Open(threeCols, []int{3}); err == nil {
		t.Errorf("opening column 3 of 3 succeeded")
	}
}

// TestExtentOpenExtendedSchemaNulls: columns the table gained after the extent was written
// (extend_schema) read as nulls of their type, without asking the extent for them.
func TestExtentOpenExtendedSchemaNulls(t *testing.T) {
	data := &countingData{reads: map[int]int{}, MemoryData: MemoryData{NewVector(kusto.TypeLong, []int64{7, 8, 9}, nil)}}
	e := NewExtent(uuid.New(), 3, []kusto.Type{kusto.TypeLong}, data)
	extended := Schema{{"x", kusto.TypeLong}, {"s", kusto.TypeString}, {"d", kusto.TypeDateTime}}
	table := TableInfo{Name: "T", Schema: extended, Extents: []*Extent{e}}
	batches := readAll(t, table.Scan([]int{2, 0, 1}).Next)
	if len(batches) != 1 || batches[0].Len != 3 {
		t.Fatalf("batches %v; want one of 3 rows", batches)
	}
	b := batches[0]
	for i := range 3 {
		if b.Cols[1].Value(i) != int64(7+i) {
			t.Errorf("x[%d] = %v", i, b.Cols[1].Value(i))
		}
		if !b.Cols[0].IsNull(i) || b.Cols[0].Type() != kusto.TypeDateTime {
			t.Errorf("d[%d] = %v (%s); want a null datetime", i, b.Cols[0].Value(i), b.Cols[0].Type())
		}
		if b.Cols[2].Type() != kusto.TypeString || b.Cols[2].Value(i) != "" {
			t.Errorf("s[%d] = %v (%s); want an empty string, a string column's null", i, b.Cols[2].Value(i), b.Cols[2].Type())
		}
	}
	if got := data.read(); !slices.Equal(got, []int{0}) {
		t.Errorf("read columns %v; want only 0, the one the extent has", got)
	}
}

// TestTableScanOpensExtentsAsItGoes: a table scan reads an extent's data only when it reaches it.
func TestTableScanOpensExtentsAsItGoes(t *testing.T) {
	e1, d1 := countingExtent(10)
	e2, d2 := countingExtent(batchSize + 1)
	empty := NewExtent(uuid.New(), 0, nil, MemoryData{})
	scan := TableInfo{Name: "T", Schema: threeCols, Extents: []*Extent{e1, empty, e2}}.Scan([]int{1})
	b, err := scan.Next()
	if err != nil || b == nil || b.Len != 10 {
		t.Fatalf("first batch %v, %v; want e1's 10 rows", b, err)
	}
	if len(d1.read()) != 1 || len(d2.read()) != 0 {
		t.Errorf("after the first extent's batch: read %v of e1 and %v of e2; want e2 untouched", d1.read(), d2.read())
	}
	rest := readAll(t, scan.Next)
	if len(rest) != 2 || rest[0].Len+rest[1].Len != batchSize+1 || !slices.Equal(d2.read(), []int{1}) {
		t.Errorf("rest: %d batches; e2 columns read %v", len(rest), d2.read())
	}
}
