package engine

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The hash join. The first Next copies the right side's kept columns (its producer reuses its
// batches) and groups its rows by key: each distinct key gets a dense group number, and the rows
// of group g are rowsByGroup[groupStart[g]:groupStart[g+1]], in the right side's order. A single
// integer key (int, long, datetime, timespan) goes through an open-addressing table of int64s;
// other keys are encoded to bytes and go through a map. Then each left batch is probed: its
// rows' groups are looked up, and the matching (left row, right row) pairs are gathered into
// output columns the operator reuses, at most batchSize rows at a time, resuming mid-row when a
// key has more matches than fit.
//
// Null keys never match, as `where $left.A == $right.B` would not (== on nulls is null); nor
// does NaN. Everything the build keeps is reserved from the memory budget as it grows, and
// released on Close.

type joinOperator struct {
	node  *joinNode
	check cancelCheck
	left  Operator
	right Operator

	built    bool
	reserved int64

	// The right side, copied: its kept columns (nil for one no node reads), its rows' groups
	// (-1 for a null key), and the rows of each group.
	rcols       []Column
	rrows       int
	rowGroup    []int32
	groupStart  []int32
	rowsByGroup []int32
	hit         []bool // by group: a left row has matched it (innerunique: taken)

	longs *longTable
	bytes map[string]int32
	key   []byte // scratch for a composite key

	// The probe: the current left batch, its rows' groups, the next row, and where in that
	// row's matches to resume (-1 for none started).
	cur       *Batch
	groups    []int32
	row       int
	pos       int32
	leftDone  bool
	rightNext int // after the probe, the next right row to consider (right and full outer, semi, anti)

	lidx, ridx []int32
	batch      Batch
	nulls      []Column // per left column, a batch of nulls, for right rows without a match
	keyBuf     []int64
}

func (o *joinOperator) reserve(n int64) error {
	if err := o.node.budget.reserve(n); err != nil {
		return err
	}
	o.reserved += n
	return nil
}

func (o *joinOperator) Close() {
	o.left.Close()
	o.right.Close()
	o.node.budget.release(o.reserved)
	o.reserved = 0
	o.rcols, o.rowGroup, o.groupStart, o.rowsByGroup, o.hit, o.longs, o.bytes = nil, nil, nil, nil, nil, nil, nil
}

// build reads the whole right side and groups its rows.
func (o *joinOperator) build() error {
	rs := o.node.right.Schema()
	builders := make([]builder, len(rs))
	for i, col := range rs {
		if o.node.rightKept(i) {
			builders[i] = builderFor(newColumn(col.Type, 0))
		}
	}
	if err := o.reserve(int64(len(rs)) * vectorOverhead); err != nil {
		return err
	}
	for {
		if err := o.check.err(); err != nil {
			return err
		}
		b, err := o.right.Next()
		if err != nil {
			return err
		}
		if b == nil {
			break
		}
		var grown int64
		for i, bl := range builders {
			if bl == nil || b.Cols[i] == nil {
				continue
			}
			// The rows' own cost, and what the builder's spare capacity grew by.
			col := plainColumn(b.Cols[i])
			before := spareCost(bl.column())
			bl.appendColumn(col)
			grown += memoryCost(col) - vectorOverhead + spareCost(bl.column()) - before
		}
		if err := o.reserve(grown); err != nil {
			return err
		}
		o.rrows += b.Len
	}
	o.right.Close()
	o.rcols = make([]Column, len(rs))
	for i, bl := range builders {
		if bl != nil {
			o.rcols[i] = bl.column()
		}
	}
	n := o.rrows
	if err := o.reserve(int64(n) * 8); err != nil { // rowGroup and rowsByGroup
		return err
	}
	o.rowGroup = make([]int32, n)
	groups, err := o.groupRight()
	if err != nil {
		return err
	}
	if err := o.reserve(int64(groups)*5 + 4); err != nil { // groupStart and hit
		return err
	}
	// A counting sort of the rows by group keeps each group's rows in the right side's order.
	o.groupStart = make([]int32, groups+1)
	for _, g := range o.rowGroup {
		if g >= 0 {
			o.groupStart[g+1]++
		}
	}
	for g := range groups {
		o.groupStart[g+1] += o.groupStart[g]
	}
	o.rowsByGroup = make([]int32, n)
	fill := slices.Clone(o.groupStart[:groups])
	for r, g := range o.rowGroup {
		if g >= 0 {
			o.rowsByGroup[fill[g]] = int32(r)
			fill[g]++
		}
	}
	o.hit = make([]bool, groups)
	return nil
}

// groupRight numbers the right side's distinct keys and fills rowGroup; it returns how many.
func (o *joinOperator) groupRight() (int, error) {
	keys := o.node.rightKeys
	if o.single() {
		var buf []int64
		vals, nulls := int64Keys(o.rcols[keys[0]], &buf)
		if err := o.reserve(int64(cap(buf)) * 8); err != nil { // int keys widened
			return 0, err
		}
		o.longs = newLongTable(len(vals))
		if err := o.reserve(o.longs.cost()); err != nil {
			return 0, err
		}
		for r, k := range vals {
			if nulls != nil && nulls[r] {
				o.rowGroup[r] = -1
				continue
			}
			o.rowGroup[r] = o.longs.insert(k)
		}
		return len(o.longs.keys), nil
	}
	o.bytes = map[string]int32{}
	cols := make([]Column, len(keys))
	for i, k := range keys {
		cols[i] = o.rcols[k]
	}
	var pending int64
	for r := range o.rrows {
		if r%batchSize == 0 {
			if err := o.check.err(); err != nil {
				return 0, err
			}
			if err := o.reserve(pending); err != nil {
				return 0, err
			}
			pending = 0
		}
		key, ok := o.encodeKey(cols, r)
		if !ok {
			o.rowGroup[r] = -1
			continue
		}
		g, found := o.bytes[string(key)]
		if !found {
			g = int32(len(o.bytes))
			o.bytes[string(key)] = g
			pending += mapEntry + stringHeader + int64(len(key))
		}
		o.rowGroup[r] = g
	}
	return len(o.bytes), o.reserve(pending)
}

// single says whether the join has one key that is an integer in both sides' columns.
func (o *joinOperator) single() bool {
	if len(o.node.leftKeys) != 1 {
		return false
	}
	switch o.node.right.Schema()[o.node.rightKeys[0]].Type {
	case kusto.TypeInt, kusto.TypeLong, kusto.TypeDateTime, kusto.TypeTimespan:
		return true
	}
	return false
}

// lookup fills o.groups with the group of each row of the left batch b (-1 for none).
func (o *joinOperator) lookup(b *Batch) {
	o.groups = slices.Grow(o.groups[:0], b.Len)[:b.Len]
	keys := o.node.leftKeys
	if o.longs != nil {
		vals, nulls := int64Keys(b.Cols[keys[0]], &o.keyBuf)
		t := o.longs
		for i, k := range vals {
			o.groups[i] = t.find(k)
		}
		if nulls != nil {
			for i, null := range nulls {
				if null {
					o.groups[i] = -1
				}
			}
		}
		return
	}
	cols := make([]Column, len(keys))
	for i, k := range keys {
		cols[i] = b.Cols[k]
	}
	for r := range b.Len {
		o.groups[r] = -1
		if key, ok := o.encodeKey(cols, r); ok {
			if g, found := o.bytes[string(key)]; found {
				o.groups[r] = g
			}
		}
	}
}

func (o *joinOperator) Next() (*Batch, error) {
	if !o.built {
		o.built = true
		if err := o.build(); err != nil {
			return nil, err
		}
	}
	if o.lidx == nil {
		o.lidx, o.ridx = make([]int32, 0, batchSize), make([]int32, 0, batchSize)
	}
	o.lidx, o.ridx = o.lidx[:0], o.ridx[:0]
	for !o.leftDone && len(o.lidx) < batchSize {
		if o.cur == nil || o.row >= o.cur.Len {
			if len(o.lidx) > 0 {
				break // the pairs gathered refer to this batch: emit them before reading the next
			}
			if err := o.check.err(); err != nil {
				return nil, err
			}
			b, err := o.left.Next()
			if err != nil {
				return nil, err
			}
			if b == nil {
				o.leftDone, o.cur = true, nil
				break
			}
			o.cur, o.row, o.pos = b, 0, -1
			o.lookup(b)
		}
		o.probe()
	}
	if len(o.lidx) == 0 && o.leftDone && o.node.kind.tracksRight() {
		o.unmatchedRight()
	}
	if len(o.lidx) == 0 {
		return nil, nil
	}
	return o.output(), nil
}

// probe pairs the current batch's rows from o.row on with their matches, until the batch ends
// or batchSize pairs are gathered.
func (o *joinOperator) probe() {
	kind := o.node.kind
	if kind == joinInner && o.pos < 0 {
		o.probeInner()
	}
	for o.row < o.cur.Len && len(o.lidx) < batchSize {
		g := o.groups[o.row]
		switch kind {
		case joinLeftSemi, joinLeftAnti:
			if (g >= 0) == (kind == joinLeftSemi) {
				o.lidx = append(o.lidx, int32(o.row))
			}
			o.row++
			continue
		case joinRightSemi, joinRightAnti:
			if g >= 0 {
				o.hit[g] = true
			}
			o.row++
			continue
		}
		if o.pos < 0 {
			if g < 0 || kind == joinInnerUnique && o.hit[g] {
				if g < 0 && kind.keepsUnmatchedLeft() {
					o.lidx = append(o.lidx, int32(o.row))
					o.ridx = append(o.ridx, -1)
				}
				o.row++
				continue
			}
			o.hit[g] = true // innerunique: this row is its key's one left row
			o.pos = o.groupStart[g]
		}
		end := o.groupStart[g+1]
		room := int32(batchSize - len(o.lidx))
		stop := min(end, o.pos+room)
		row := int32(o.row)
		for _, r := range o.rowsByGroup[o.pos:stop] {
			o.lidx = append(o.lidx, row)
			o.ridx = append(o.ridx, r)
		}
		o.pos = stop
		if stop == end {
			o.row++
			o.pos = -1
		}
	}
}

// probeInner is the inner join's loop over rows whose key has at most one match, the common
// case, writing the pairs without append's checks; it stops at a key with more.
func (o *joinOperator) probeInner() {
	n := len(o.lidx)
	lidx, ridx := o.lidx[:batchSize], o.ridx[:batchSize]
	groups, start, rows := o.groups[:o.cur.Len], o.groupStart, o.rowsByGroup
	row := o.row
	for ; row < len(groups) && n < batchSize; row++ {
		g := groups[row]
		if g < 0 {
			continue
		}
		first := start[g]
		if start[g+1]-first != 1 {
			break
		}
		lidx[n], ridx[n] = int32(row), rows[first]
		n++
	}
	o.row, o.lidx, o.ridx = row, lidx[:n], ridx[:n]
}

// unmatchedRight gathers, after the probe, the right rows the kind outputs on their own: those
// no left row matched (right and full outer, right anti), or those one did (right semi).
func (o *joinOperator) unmatchedRight() {
	want := o.node.kind == joinRightSemi
	for o.rightNext < o.rrows && len(o.ridx) < batchSize {
		r := o.rightNext
		o.rightNext++
		g := o.rowGroup[r]
		if (g >= 0 && o.hit[g]) == want {
			o.lidx = append(o.lidx, -1)
			o.ridx = append(o.ridx, int32(r))
		}
	}
}

// output gathers the pairs into the output batch.
func (o *joinOperator) output() *Batch {
	n := o.node
	out := &o.batch
	if out.Cols == nil {
		out.Cols = make([]Column, len(n.schema))
	}
	out.Len = max(len(o.lidx), len(o.ridx))
	if off := n.leftOffset(); off >= 0 {
		ls := n.left.Schema()
		for i := range ls {
			j := off + i
			switch {
			case !n.outputNeeded(j):
				out.Cols[j] = nil
			case o.cur == nil: // the right rows after the probe: no left row
				out.Cols[j] = o.leftNulls(i, out.Len)
			default:
				out.Cols[j] = gatherInto(out.Cols[j], o.cur.Cols[i], o.lidx)
			}
		}
	}
	if off := n.rightOffset(); off >= 0 {
		for i, col := range o.rcols {
			j := off + i
			if !n.outputNeeded(j) || col == nil {
				out.Cols[j] = nil
				continue
			}
			out.Cols[j] = gatherOrNull(out.Cols[j], col, o.ridx)
		}
	}
	return out
}

// leftNulls is n nulls of the left side's column i.
func (o *joinOperator) leftNulls(i, n int) Column {
	if o.nulls == nil {
		o.nulls = make([]Column, len(o.node.left.Schema()))
	}
	if o.nulls[i] == nil {
		o.nulls[i] = nullColumn(o.node.left.Schema()[i].Type, batchSize)
	}
	return o.nulls[i].Slice(0, n)
}

// encodeKey writes row r of the key columns into o.key: false when a key is null (or NaN), which
// matches nothing. int and long are both written as 8 bytes, so that they match each other.
func (o *joinOperator) encodeKey(cols []Column, r int) ([]byte, bool) {
	buf := o.key[:0]
	for _, c := range cols {
		if c.IsNull(r) {
			return nil, false
		}
		switch v := c.Value(r).(type) {
		case bool:
			buf = append(buf, boolByte(v))
		case int32:
			buf = binary.LittleEndian.AppendUint64(buf, uint64(int64(v)))
		case int64:
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
		case float64:
			if math.IsNaN(v) {
				return nil, false
			}
			if v == 0 {
				v = 0 // -0 == 0
			}
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		case kusto.DateTime:
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
		case kusto.Timespan:
			buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
		case uuid.UUID:
			buf = append(buf, v[:]...)
		case string:
			buf = binary.AppendUvarint(buf, uint64(len(v)))
			buf = append(buf, v...)
		}
	}
	o.key = buf
	return buf, true
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// longTable maps int64 keys to group numbers by open addressing with linear probing, sized at
// build time to at most half full. Its slots hold only group numbers, and each group's key is
// kept once, by group: the table of 4-byte slots and the keys stay small enough for the cache.
type longTable struct {
	slots []int32 // group+1; 0 marks an empty slot
	keys  []int64 // by group
	shift uint
}

func newLongTable(n int) *longTable {
	size, bits := 16, uint(4)
	for size < 2*n {
		size, bits = size<<1, bits+1
	}
	return &longTable{slots: make([]int32, size), keys: make([]int64, 0, n), shift: 64 - bits}
}

func (t *longTable) cost() int64 { return int64(len(t.slots))*4 + int64(cap(t.keys))*8 }

// slot is Fibonacci hashing: the top bits of the key times 2^64/φ, which spreads runs of
// consecutive keys across the table.
func (t *longTable) slot(k int64) uint64 { return (uint64(k) * 0x9E3779B97F4A7C15) >> t.shift }

// find returns k's group, or -1.
func (t *longTable) find(k int64) int32 {
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		g := t.slots[i]
		if g == 0 {
			return -1
		}
		if t.keys[g-1] == k {
			return g - 1
		}
	}
}

// insert returns k's group, giving it the next group number if it has none.
func (t *longTable) insert(k int64) int32 {
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(k); ; i = (i + 1) & mask {
		g := t.slots[i]
		if g == 0 {
			t.keys = append(t.keys, k)
			t.slots[i] = int32(len(t.keys))
			return int32(len(t.keys) - 1)
		}
		if t.keys[g-1] == k {
			return g - 1
		}
	}
}

// int64Keys returns an integer column's values as int64s, and its null flags; a column of
// another Go type than int64 is converted into *buf, which grows as needed.
func int64Keys(c Column, buf *[]int64) ([]int64, []bool) {
	switch c := plainColumn(c).(type) {
	case *Vector[int64]:
		return c.Data, c.Nulls
	case *Vector[int32]:
		return widen(c.Data, buf), c.Nulls
	case *Vector[kusto.DateTime]:
		return widen(c.Data, buf), c.Nulls
	case *Vector[kusto.Timespan]:
		return widen(c.Data, buf), c.Nulls
	}
	panic("engine: int64Keys of a " + c.Type().String() + " column")
}

func widen[T ~int32 | ~int64](data []T, buf *[]int64) []int64 {
	out := slices.Grow((*buf)[:0], len(data))[:len(data)]
	for i, v := range data {
		out[i] = int64(v)
	}
	*buf = out
	return out
}

// plainColumn returns c as a plain vector, copying a chunked column's chunks together.
func plainColumn(c Column) Column {
	if ch, ok := c.(*chunkedColumn); ok {
		return ch.Slice(0, ch.rows)
	}
	return c
}

// spareCost is what a vector's spare capacity costs, which a growing builder holds.
func spareCost(c Column) int64 {
	switch v := c.(type) {
	case *Vector[bool]:
		return spare(v, 1)
	case *Vector[int32]:
		return spare(v, 4)
	case *Vector[uuid.UUID]:
		return spare(v, 16)
	case *Vector[string]:
		return spare(v, stringHeader)
	case *Vector[any]:
		return spare(v, interfaceBox)
	case *Vector[int64]:
		return spare(v, 8)
	case *Vector[float64]:
		return spare(v, 8)
	case *Vector[kusto.DateTime]:
		return spare(v, 8)
	case *Vector[kusto.Timespan]:
		return spare(v, 8)
	}
	return 0
}

func spare[T any](v *Vector[T], elem int64) int64 {
	return int64(cap(v.Data)-len(v.Data))*elem + int64(cap(v.Nulls)-len(v.Nulls))
}

// gatherOrNull gathers src's elements at idx into dst's storage when dst is a vector of the same
// type; an index of -1 gives a null (an empty string for a string column).
func gatherOrNull(dst, src Column, idx []int32) Column {
	switch s := src.(type) {
	case *Vector[bool]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[int32]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[int64]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[float64]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[string]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[kusto.DateTime]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[kusto.Timespan]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[uuid.UUID]:
		return gatherVectorOrNull(dst, s, idx)
	case *Vector[any]:
		return gatherVectorOrNull(dst, s, idx)
	}
	panic("engine: gatherOrNull of a " + src.Type().String() + " column")
}

func gatherVectorOrNull[T any](dst Column, src *Vector[T], idx []int32) Column {
	out, ok := dst.(*Vector[T])
	if !ok {
		out = &Vector[T]{}
	}
	out.typ = src.typ
	out.Data = slices.Grow(out.Data[:0], len(idx))[:len(idx)]
	var zero T
	missing := false
	for j, i := range idx {
		if i < 0 {
			out.Data[j], missing = zero, true
		} else {
			out.Data[j] = src.Data[i]
		}
	}
	if src.Nulls == nil && (!missing || src.typ == kusto.TypeString) {
		out.Nulls = nil
		return out
	}
	out.Nulls = slices.Grow(out.Nulls[:0], len(idx))[:len(idx)]
	for j, i := range idx {
		out.Nulls[j] = i < 0 && src.typ != kusto.TypeString || i >= 0 && src.Nulls != nil && src.Nulls[i]
	}
	return out
}
