package engine

import (
	"testing"

	"github.com/kustard/kustard/kusto"
)

// buildChunked appends n longs (i*10, every 7th null) to a chunked builder in uneven pieces, as
// batches from a source arrive, and returns the column and the values it should hold.
func buildChunked(t *testing.T, n int) (Column, []any) {
	t.Helper()
	b := newChunkedBuilder(kusto.TypeLong, 0)
	var want []any
	for done := 0; done < n; {
		size := min(n-done, 1000+done%777) // pieces that straddle chunk boundaries
		piece := builderFor(newColumn(kusto.TypeLong, size))
		for i := done; i < done+size; i++ {
			var v any = int64(i * 10)
			if i%7 == 0 {
				v = nil
			}
			piece.appendValue(v)
			want = append(want, v)
		}
		b.appendColumn(piece.column())
		done += size
	}
	return b.column(), want
}

func checkColumn(t *testing.T, what string, c Column, want []any) {
	t.Helper()
	if c.Len() != len(want) {
		t.Fatalf("%s: Len %d, want %d", what, c.Len(), len(want))
	}
	for i, w := range want {
		if got := c.Value(i); got != w || c.IsNull(i) != (w == nil) {
			t.Fatalf("%s: row %d = %v (null %v), want %v", what, i, got, c.IsNull(i), w)
		}
	}
}

// TestChunkedColumn checks the columns ingests build: values and nulls across chunk boundaries,
// slices within a chunk and across chunks, gathers, and a column small enough to stay one vector.
func TestChunkedColumn(t *testing.T) {
	n := 3*chunkRows + 123
	c, want := buildChunked(t, n)
	if _, ok := c.(*chunkedColumn); !ok {
		t.Fatalf("a column of %d rows is a %T, want chunks", n, c)
	}
	checkColumn(t, "whole", c, want)
	for _, r := range [][2]int{
		{0, batchSize},                         // a scan's first batch
		{chunkRows - 5, chunkRows + 5},         // across one boundary
		{10, 2*chunkRows + 10},                 // across two
		{3 * chunkRows, n},                     // the short last chunk
		{chunkRows, chunkRows},                 // empty
		{2*chunkRows + 1, 2*chunkRows + 1 + 1}, // one row
	} {
		checkColumn(t, "slice", c.Slice(r[0], r[1]), want[r[0]:r[1]])
	}
	idx := []int32{int32(n - 1), 0, chunkRows, chunkRows - 1, 7, int32(2*chunkRows + 3)}
	var gathered []any
	for _, i := range idx {
		gathered = append(gathered, want[i])
	}
	checkColumn(t, "gather", c.Gather(idx), gathered)

	small, smallWant := buildChunked(t, chunkRows-1)
	if _, ok := small.(*Vector[int64]); !ok {
		t.Errorf("a column of %d rows is a %T, want one vector", chunkRows-1, small)
	}
	checkColumn(t, "small", small, smallWant)
}

// TestRangeIngestMatchesQuery: an ingest of a range, which writes straight into its extent's
// chunks, holds exactly what the same range returns as a query.
func TestRangeIngestMatchesQuery(t *testing.T) {
	eng := New(Options{Capacity: 1})
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	const n = 2*chunkRows + 77
	run := func(text string) *Result {
		t.Helper()
		res, err := sess.Execute(t.Context(), Request{}, &kusto.Source{Text: text})
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		return res
	}
	run(".set-or-append Numbers <| range x from 5 to 5 + 3 * (2 * 8192 + 76) step 3")
	got := run("Numbers | where x % 2 == 1 | count").Value(0, 0)
	want := run("range x from 5 to 5 + 3 * (2 * 8192 + 76) step 3 | where x % 2 == 1 | count").Value(0, 0)
	if got != want {
		t.Errorf("odd values: the table has %v, the range %v", got, want)
	}
	all := run("Numbers")
	if all.Rows != n {
		t.Fatalf("the table has %d rows, want %d", all.Rows, n)
	}
	for i := range all.Rows {
		if v := all.Value(i, 0); v != int64(5+3*i) {
			t.Fatalf("row %d = %v, want %d", i, v, 5+3*i)
		}
	}
}
