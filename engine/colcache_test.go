package engine

import (
	"errors"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// The decoded columns of stored extents: cached in the budget, decoded once while cached, pinned
// while a scan reads their extent (so that a reservation cannot take their memory), evicted
// least recently used first once unpinned, and given back when their extents leave the catalog —
// a pinned one only when its scan lets go.
func TestColumnCache(t *testing.T) {
	const rows = 1000
	colCost := fixedCost(kusto.TypeLong, rows) // a long column costs exactly its fixed part
	b := NewBudget(2*colCost + colCost/2)      // two columns fit, not three
	e1, d1 := countingExtent(rows)
	e2, d2 := countingExtent(rows)
	table := TableInfo{Name: "T", Schema: threeCols, Extents: []*Extent{e1, e2}}
	q := &queryState{budget: b}

	scan := table.scanIn([]int{0}, q)
	if b1, err := scan.Next(); err != nil || b1 == nil {
		t.Fatalf("first batch: %v", err)
	}
	if b.Used() != colCost || b.Cached() != colCost {
		t.Fatalf("reading e1: %d used, %d cached; want %d", b.Used(), b.Cached(), colCost)
	}
	// e1's column is pinned: a reservation that needs its memory fails rather than evict it.
	if err := b.reserve(2 * colCost); err == nil || b.Cached() != colCost {
		t.Fatalf("a reservation took a pinned column's memory: %v, %d cached", err, b.Cached())
	}
	readAll(t, scan.Next) // on to e2; e1's column is unpinned, and cached
	scan.Close()
	if b.Used() != 2*colCost || b.Cached() != 2*colCost {
		t.Fatalf("after the scan: %d used, %d cached; want %d", b.Used(), b.Cached(), 2*colCost)
	}
	// A second scan reads the cache, not the data.
	readAll(t, table.scanIn([]int{0}, q).Next)
	if d1.reads[0] != 1 || d2.reads[0] != 1 {
		t.Errorf("columns decoded %d and %d times; want once each", d1.reads[0], d2.reads[0])
	}
	// Unpinned columns give way to a reservation, least recently used (e1's) first.
	if err := b.reserve(colCost); err != nil {
		t.Fatalf("a reservation the cache could make room for: %v", err)
	}
	if b.Cached() != colCost || e1.stored.slots[0] != nil || e2.stored.slots[0] == nil {
		t.Errorf("after the eviction %d cached; e1 cached %v, e2 cached %v", b.Cached(), e1.stored.slots[0] != nil, e2.stored.slots[0] != nil)
	}
	b.release(colCost)

	// A column larger than the budget is refused before it is decoded.
	big, dbig := countingExtent(4 * rows)
	_, err := TableInfo{Name: "B", Schema: threeCols, Extents: []*Extent{big}}.scanIn([]int{0}, q).Next()
	var ke *kusto.Error
	if !errors.As(err, &ke) || ke.Kind != kusto.KindLimits || len(dbig.read()) != 0 {
		t.Errorf("a column larger than the budget: %v, decoded %v", err, dbig.read())
	}

	// Dropping the extents gives back the unpinned columns at once, a pinned one when unpinned.
	held := table.scanIn([]int{0}, q)
	if _, err := held.Next(); err != nil {
		t.Fatal(err)
	}
	b.releaseExtents([]*Extent{e1, e2})
	if b.Used() != colCost || b.Cached() != colCost {
		t.Errorf("after the drop, with e1's column pinned: %d used, %d cached; want %d", b.Used(), b.Cached(), colCost)
	}
	q.release() // the query's end closes its scans
	if b.Used() != 0 || b.Cached() != 0 || b.cache.lru.Len() != 0 {
		t.Errorf("after the query ended: %d used, %d cached, %d in the LRU list", b.Used(), b.Cached(), b.cache.lru.Len())
	}
	if b.Peak() > b.Limit() {
		t.Errorf("peak %d over the limit %d", b.Peak(), b.Limit())
	}
}
