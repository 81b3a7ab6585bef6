package engine

import (
	"container/list"
	"sync"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The columns of stored extents (a durable store's files) are decoded when a scan first needs
// them and kept in a cache that is part of the engine's memory budget: each decoded column holds
// what it really costs (memoryCost) for as long as it is cached. A column a scan is reading is
// pinned; the others wait in least-recently-used order, and are evicted, giving their memory
// back, whenever a reservation would otherwise pass the budget — a query or an ingest gets the
// memory of data that is on disk anyway before it fails with E_LOW_MEMORY_CONDITION. Only what
// the pinned columns and the rest of the engine really hold can make a reservation fail. An
// extent the running process ingests into a durable store becomes a stored extent at its commit
// (Extent.SetStored), and its ingest hands the columns it built to the cache (warm), so that
// they are evictable like decoded ones rather than held until the extent is dropped.
//
// Locks: storedColumns.mu (one decode at a time per extent) is taken before columnCache.mu,
// which guards every cache entry, slot and the LRU list; columnPins.mu is taken under
// columnCache.mu or alone.

// columnCache is the decoded columns of the stored extents of one engine, charged to its Budget.
type columnCache struct {
	mu   sync.Mutex
	lru  list.List // of *cachedColumn, unpinned and still cached; the front is the latest used
	held int64     // bytes the cached and pinned columns hold of the budget
}

// storedColumns is the decoding state of one stored extent.
type storedColumns struct {
	mu    sync.Mutex // serializes decoding, so that two scans decode a column once
	slots []*cachedColumn
	dead  bool // the extent has left the catalog: its columns are not kept once unpinned
}

// cachedColumn is one decoded column, holding cost bytes of the budget from its decode until it
// is both unpinned and evicted (or its extent dropped).
type cachedColumn struct {
	owner *storedColumns
	i     int
	col   Column
	cost  int64
	pins  int
	elem  *list.Element // in the LRU list while unpinned and cached
}

// columnPins is what one scan has pinned: the columns of the extent it is reading. They are
// unpinned when the scan moves to the next extent, and when it closes (or its query ends).
type columnPins struct {
	budget *Budget
	mu     sync.Mutex
	held   []*cachedColumn
}

// fixedCost is what a column of rows values of type t costs at least, before its strings,
// dynamic values and null flags: reserved before a decode, so that a column the budget cannot
// hold is refused before it is decoded.
func fixedCost(t kusto.Type, rows int) int64 {
	elem := int64(8)
	switch t {
	case kusto.TypeBool:
		elem = 1
	case kusto.TypeInt:
		elem = 4
	case kusto.TypeGUID:
		elem = int64(len(uuid.UUID{}))
	case kusto.TypeString:
		elem = stringHeader
	case kusto.TypeDynamic:
		elem = interfaceBox
	}
	return vectorOverhead + int64(rows)*elem
}

// storedColumn returns column i of a stored extent, decoding it if it is not cached, and pins it
// for p. Without pins (a scan outside an engine's query) the column is decoded, uncached and
// uncharged, each time.
func (e *Extent) storedColumn(i int, p *columnPins) (Column, error) {
	if p == nil || p.budget == nil {
		return e.data.Column(i)
	}
	b, st := p.budget, e.stored
	c := &b.cache
	st.mu.Lock()
	defer st.mu.Unlock()
	c.mu.Lock()
	if ent := st.slots[i]; ent != nil {
		c.pin(ent, p)
		c.mu.Unlock()
		return ent.col, nil
	}
	est := fixedCost(e.Types[i], e.Rows)
	err := c.reserve(b, est)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	col, err := e.data.Column(i)
	if err != nil {
		b.release(est)
		return nil, err
	}
	cost := memoryCost(col)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cost > est {
		if err := c.reserve(b, cost-est); err != nil {
			b.release(est)
			return nil, err
		}
	} else {
		b.release(est - cost)
	}
	ent := &cachedColumn{owner: st, i: i, col: col, cost: cost}
	c.held += cost
	if !st.dead { // a dropped extent read by an older snapshot: its column goes when unpinned
		st.slots[i] = ent
	}
	c.pin(ent, p)
	return col, nil
}

// pin pins ent for p. Called with c.mu held.
func (c *columnCache) pin(ent *cachedColumn, p *columnPins) {
	if ent.elem != nil {
		c.lru.Remove(ent.elem)
		ent.elem = nil
	}
	ent.pins++
	p.mu.Lock()
	p.held = append(p.held, ent)
	p.mu.Unlock()
}

// reserve takes n bytes from b, evicting unpinned columns, least recently used first, until they
// fit; it fails with the low-memory error when they do not fit with none left to evict. Called
// with c.mu held.
func (c *columnCache) reserve(b *Budget, n int64) error {
	for {
		err := b.tryReserve(n)
		if err == nil || !c.evict(b, n) {
			return err
		}
	}
}

// evict gives back unpinned columns, least recently used first, until n more bytes fit in b or
// none is left; it reports whether it gave back any. Called with c.mu held.
func (c *columnCache) evict(b *Budget, n int64) bool {
	freed := false
	for b.Used()+n > b.limit {
		back := c.lru.Back()
		if back == nil {
			break
		}
		ent := back.Value.(*cachedColumn)
		c.lru.Remove(back)
		ent.elem = nil
		ent.owner.slots[ent.i] = nil
		c.drop(b, ent)
		freed = true
	}
	return freed
}

// drop gives back what ent holds. Called with c.mu held.
func (c *columnCache) drop(b *Budget, ent *cachedColumn) {
	c.held -= ent.cost
	b.release(ent.cost)
	ent.col = nil
}

// reclaim evicts unpinned columns so that n more bytes fit in b, for a reservation from outside
// the cache; it reports whether it gave back any.
func (c *columnCache) reclaim(b *Budget, n int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.evict(b, n)
}

// unpin releases what p pinned; a column no scan pins waits in the LRU list, or is given back
// if its extent was dropped.
func (p *columnPins) unpin() {
	if p == nil {
		return
	}
	p.mu.Lock()
	held := p.held
	p.held = nil
	p.mu.Unlock()
	if len(held) == 0 {
		return
	}
	c := &p.budget.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ent := range held {
		if ent.pins--; ent.pins > 0 {
			continue
		}
		if ent.owner.dead || ent.owner.slots[ent.i] != ent {
			c.drop(p.budget, ent)
			continue
		}
		ent.elem = c.lru.PushFront(ent)
	}
}

// forget gives back the cached columns of extents that left the catalog; a column still pinned
// is given back when its scan unpins it.
func (c *columnCache) forget(b *Budget, extents []*Extent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range extents {
		st := e.stored
		if st == nil {
			continue
		}
		st.dead = true
		for i, ent := range st.slots {
			if ent == nil {
				continue
			}
			st.slots[i] = nil
			if ent.pins == 0 {
				c.lru.Remove(ent.elem)
				ent.elem = nil
				c.drop(b, ent)
			}
		}
	}
}

// warm caches the columns an ingest has just committed to a stored extent as they are in memory,
// so that the scans after the commit need not decode them: each is charged to the budget as
// cache, evictable like a decoded one, and left out when it does not fit.
func (c *columnCache) warm(b *Budget, e *Extent, cols []Column) {
	st := e.stored
	st.mu.Lock()
	defer st.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if st.dead {
		return
	}
	for i, col := range cols {
		if i >= len(st.slots) || st.slots[i] != nil {
			continue // a scan decoded it first
		}
		cost := memoryCost(col)
		if c.reserve(b, cost) != nil {
			continue
		}
		ent := &cachedColumn{owner: st, i: i, col: col, cost: cost}
		c.held += cost
		st.slots[i] = ent
		ent.elem = c.lru.PushFront(ent)
	}
}
