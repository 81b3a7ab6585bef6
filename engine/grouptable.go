package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"unsafe"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Group tables: a summarize's map from group keys to group indexes, numbered from 0 in the order
// the groups first appear. One key of a type held in 64 bits (long, int, datetime, timespan,
// bool, real) has an open-addressing table of its own; one string key a Go map; anything else
// (several keys, a guid) a map from the keys' bytes.

// groupTable assigns the rows of a batch to groups.
type groupTable interface {
	// assign sets gids[i] to the group of row i's keys (keys are plain vectors, one per group
	// key), making new groups as they come.
	assign(keys []Column, rows int, gids []int32)
	groups() int
	// keyColumns returns the key columns of groups [lo, hi).
	keyColumns(lo, hi int) []Column
	// footprint is what the table costs in memory now, in bytes.
	footprint() int64
}

// noKeys is summarize without by: one group, there even when no row comes.
type noKeys struct{}

func (noKeys) assign([]Column, int, []int32) {}
func (noKeys) groups() int                   { return 1 }
func (noKeys) keyColumns(int, int) []Column  { return nil }
func (noKeys) footprint() int64              { return 0 }

// newGroupTable returns the table for keys of the given types.
func newGroupTable(types []kusto.Type) groupTable {
	switch {
	case len(types) == 0:
		return noKeys{}
	case len(types) > 1:
		return newCompositeKeys(types)
	}
	switch t := types[0]; t {
	case kusto.TypeString:
		return newStringKeys()
	case kusto.TypeLong:
		return newWordKeys(t, asWords[int64], fromWords[int64])
	case kusto.TypeInt:
		return newWordKeys(t, asWords[int32], fromWords[int32])
	case kusto.TypeDateTime:
		return newWordKeys(t, asWords[kusto.DateTime], fromWords[kusto.DateTime])
	case kusto.TypeTimespan:
		return newWordKeys(t, asWords[kusto.Timespan], fromWords[kusto.Timespan])
	case kusto.TypeBool:
		return newWordKeys(t, boolWords, wordBools)
	case kusto.TypeReal:
		return newWordKeys(t, realWords, wordReals)
	}
	return newCompositeKeys(types)
}

// wordKeys is a single key whose values fit in 64 bits, in an open-addressing hash table with
// linear probing, kept at most half full. A null key is a group of its own.
type wordKeys struct {
	typ   kusto.Type
	slots []int64 // the key in each slot
	gids  []int32 // the group in each slot, plus one; 0 for an empty slot
	shift uint    // 64 - log2(len(slots))
	keys  []int64 // by group
	null  int32   // the group of the null key, or -1
	words []int64 // scratch: a batch's keys as words
	// toWords writes a plain vector's values as words into dst (len(dst) == the vector's);
	// fromWords makes a column of the key's type from words and null flags.
	toWords   func(dst []int64, c Column)
	fromWords func(typ kusto.Type, w []int64, nulls []bool) Column
}

const initialSlots = 1 << 10

func newWordKeys(t kusto.Type, to func([]int64, Column), from func(kusto.Type, []int64, []bool) Column) *wordKeys {
	return &wordKeys{typ: t, slots: make([]int64, initialSlots), gids: make([]int32, initialSlots), shift: 64 - 10, null: -1, toWords: to, fromWords: from}
}

// hashWord spreads a key over the table: Fibonacci hashing, the top bits of key × 2⁶⁴/φ.
func hashWord(k int64, shift uint) uint64 { return (uint64(k) * 0x9E3779B97F4A7C15) >> shift }

func (t *wordKeys) assign(keys []Column, rows int, gids []int32) {
	col := keys[0]
	var words []int64
	if v, ok := col.(*Vector[int64]); ok {
		words = v.Data
	} else {
		t.words = grown(t.words[:0], rows)
		words = t.words
		t.toWords(words, col)
	}
	nulls := nullFlags(col)
	words, gids = words[:rows], gids[:rows]
	for i, k := range words {
		if nulls != nil && nulls[i] {
			if t.null < 0 {
				t.null = int32(len(t.keys))
				t.keys = append(t.keys, 0)
			}
			gids[i] = t.null
			continue
		}
		mask := uint64(len(t.slots) - 1)
		h := hashWord(k, t.shift)
		for {
			g := t.gids[h]
			if g == 0 {
				g = int32(len(t.keys)) + 1
				t.keys = grown(t.keys, int(g))
				t.keys[g-1] = k
				t.slots[h], t.gids[h] = k, g
				if 2*len(t.keys) > len(t.slots) {
					t.rehash()
				}
				gids[i] = g - 1
				break
			}
			if t.slots[h] == k {
				gids[i] = g - 1
				break
			}
			h = (h + 1) & mask
		}
	}
}

// rehash doubles the table.
func (t *wordKeys) rehash() {
	n := 2 * len(t.slots)
	t.slots, t.gids = make([]int64, n), make([]int32, n)
	t.shift--
	mask := uint64(n - 1)
	for g, k := range t.keys {
		if int32(g) == t.null {
			continue
		}
		h := hashWord(k, t.shift)
		for t.gids[h] != 0 {
			h = (h + 1) & mask
		}
		t.slots[h], t.gids[h] = k, int32(g)+1
	}
}

func (t *wordKeys) groups() int { return len(t.keys) }

func (t *wordKeys) keyColumns(lo, hi int) []Column {
	var nulls []bool
	if t.null >= int32(lo) && t.null < int32(hi) {
		nulls = make([]bool, hi-lo)
		nulls[t.null-int32(lo)] = true
	}
	return []Column{t.fromWords(t.typ, t.keys[lo:hi:hi], nulls)}
}

func (t *wordKeys) footprint() int64 {
	return int64(len(t.slots))*12 + int64(cap(t.keys))*8 + int64(cap(t.words))*8
}

func asWords[T ~int32 | ~int64](dst []int64, c Column) {
	d := c.(*Vector[T]).Data[:len(dst)]
	for i, x := range d {
		dst[i] = int64(x)
	}
}

func fromWords[T ~int32 | ~int64](typ kusto.Type, w []int64, nulls []bool) Column {
	if typ == kusto.TypeLong {
		return &Vector[int64]{typ: typ, Data: w, Nulls: nulls}
	}
	out := make([]T, len(w))
	for i, x := range w {
		out[i] = T(x)
	}
	return &Vector[T]{typ: typ, Data: out, Nulls: nulls}
}

func boolWords(dst []int64, c Column) {
	for i, b := range c.(*Vector[bool]).Data[:len(dst)] {
		dst[i] = 0
		if b {
			dst[i] = 1
		}
	}
}

func wordBools(typ kusto.Type, w []int64, nulls []bool) Column {
	out := make([]bool, len(w))
	for i, x := range w {
		out[i] = x != 0
	}
	return &Vector[bool]{typ: typ, Data: out, Nulls: nulls}
}

// realWords keys a real by its bits, with -0 taken as 0 and every NaN as one NaN, so that values
// that compare equal group together.
func realWords(dst []int64, c Column) {
	for i, f := range c.(*Vector[float64]).Data[:len(dst)] {
		dst[i] = realWord(f)
	}
}

func realWord(f float64) int64 {
	switch {
	case f == 0:
		f = 0
	case f != f:
		f = math.NaN()
	}
	return int64(math.Float64bits(f))
}

func wordReals(typ kusto.Type, w []int64, nulls []bool) Column {
	out := make([]float64, len(w))
	for i, x := range w {
		out[i] = math.Float64frombits(uint64(x))
	}
	return &Vector[float64]{typ: typ, Data: out, Nulls: nulls}
}

// stringKeys is a single string key, in an open-addressing hash table with linear probing, kept
// at most half full, whose slots hold what most comparisons need: a tag of the hash bits and the
// length, the first eight bytes, and the group. A batch is hashed first, then probed row by row
// with loads that do not depend on each other, so that with many groups, whose slots are not in
// the cache, the processor fetches several at once; a key of eight bytes or less is compared in
// its slot, a longer one against the group's key too.
type stringKeys struct {
	slots  []stringSlot
	shift  uint // 64 - log2(len(slots))
	keys   []string
	bytes  int64
	seed   maphash.Seed // for keys longer than eight bytes
	mix    uint64       // for the shorter ones
	hashes []uint64     // scratch: a batch's hashes
	heads  []uint64     // and first eight bytes
}

type stringSlot struct {
	head uint64 // the key's first eight bytes, zero-padded
	tag  uint32 // the hash's low bits and the length (0 for an empty slot)
	gid  int32
}

func newStringKeys() *stringKeys {
	seed := maphash.MakeSeed()
	return &stringKeys{slots: make([]stringSlot, initialSlots), shift: 64 - 10, seed: seed, mix: maphash.Comparable(seed, 0) | 1}
}

// hashOf hashes a key: one of eight bytes or less, held whole in its head, by mixing the head and
// the length (the finalizer of SplitMix64, which spreads every bit of its input over every bit of
// its output); a longer one with maphash.
func (t *stringKeys) hashOf(s string, head uint64) uint64 {
	if len(s) > 8 {
		return maphash.String(t.seed, s)
	}
	x := head ^ t.mix ^ uint64(len(s))<<59
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// stringTag is a key's tag: the hash's top 24 bits (which make the slot's index too, so that the
// table can double without hashing again), and in the low byte the length plus one, at most 255,
// so that equal tags mean equal lengths below 254 and no tag is 0.
func stringTag(h uint64, n int) uint32 { return uint32(h>>32)&^0xFF | uint32(min(n, 254)+1) }

// stringHead is a string's first eight bytes as a little-endian word, zero-padded.
func stringHead(s string) uint64 {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch n := len(b); {
	case n >= 8:
		return binary.LittleEndian.Uint64(b)
	case n >= 4: // two words of four bytes, which overlap unless n is 8
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<(8*(n-4))
	case n > 0: // the first, middle and last bytes, which are all of them
		return uint64(b[0]) | uint64(b[n/2])<<(8*(n/2)) | uint64(b[n-1])<<(8*(n-1))
	}
	return 0
}

func (t *stringKeys) assign(keys []Column, rows int, gids []int32) {
	data := keys[0].(*Vector[string]).Data[:rows]
	gids = gids[:rows]
	t.hashes, t.heads = grown(t.hashes[:0], rows), grown(t.heads[:0], rows)
	hashes, heads := t.hashes[:rows], t.heads[:rows]
	for i, s := range data {
		head := stringHead(s)
		hashes[i], heads[i] = t.hashOf(s, head), head
	}
	slots, mask, missing := t.slots, uint64(len(t.slots)-1), false
	for i, s := range data {
		h, head := hashes[i], heads[i]
		tag := stringTag(h, len(s))
		at := h >> t.shift
		for {
			sl := &slots[at]
			if sl.tag == 0 {
				gids[i], missing = -1, true
				break
			}
			if sl.tag == tag && sl.head == head && (len(s) <= 8 || t.keys[sl.gid] == s) {
				gids[i] = sl.gid
				break
			}
			at = (at + 1) & mask
		}
	}
	if !missing {
		return
	}
	for i, s := range data {
		if gids[i] < 0 {
			gids[i] = t.insert(s, hashes[i], heads[i])
		}
	}
}

// insert returns the group of s, making it if no row before has.
func (t *stringKeys) insert(s string, h, head uint64) int32 {
	tag := stringTag(h, len(s))
	mask := uint64(len(t.slots) - 1)
	for at := h >> t.shift; ; at = (at + 1) & mask {
		sl := &t.slots[at]
		if sl.tag == tag && sl.head == head && t.keys[sl.gid] == s {
			return sl.gid
		}
		if sl.tag == 0 {
			g := int32(len(t.keys))
			*sl = stringSlot{head: head, tag: tag, gid: g}
			t.keys = grown(t.keys, int(g)+1)
			t.keys[g] = s
			t.bytes += int64(len(s))
			if 2*len(t.keys) > len(t.slots) {
				t.rehash()
			}
			return g
		}
	}
}

// rehash doubles the table. A slot's tag holds the top 24 bits of its key's hash, which index
// a table of up to 2²⁴ slots; a larger one hashes the keys again.
func (t *stringKeys) rehash() {
	old := t.slots
	t.slots = make([]stringSlot, 2*len(old))
	t.shift--
	mask := uint64(len(t.slots) - 1)
	bits := 64 - t.shift
	for _, sl := range old {
		if sl.tag == 0 {
			continue
		}
		var at uint64
		if bits <= 24 {
			at = uint64(sl.tag) >> (32 - bits)
		} else {
			k := t.keys[sl.gid]
			at = t.hashOf(k, stringHead(k)) >> t.shift
		}
		for t.slots[at].tag != 0 {
			at = (at + 1) & mask
		}
		t.slots[at] = sl
	}
}

func (t *stringKeys) groups() int { return len(t.keys) }

func (t *stringKeys) keyColumns(lo, hi int) []Column {
	return []Column{&Vector[string]{typ: kusto.TypeString, Data: t.keys[lo:hi:hi]}}
}

func (t *stringKeys) footprint() int64 {
	return int64(len(t.slots))*16 + int64(cap(t.keys))*stringHeader + t.bytes + int64(cap(t.hashes)+cap(t.heads))*8
}

// compositeKeys is several keys, or one of a type without a table of its own (a guid): each
// row's keys are written as bytes (a null flag, then the value: fixed-size, or a string's length
// and bytes), which key a Go map.
type compositeKeys struct {
	types  []kusto.Type
	index  map[string]int32
	stores []valueStore // the keys, by group
	buf    []byte
	bytes  int64
	n      int
}

func newCompositeKeys(types []kusto.Type) *compositeKeys {
	return &compositeKeys{types: types, index: map[string]int32{}, stores: storesFor(types)}
}

func (t *compositeKeys) assign(keys []Column, rows int, gids []int32) {
	encode := make([]func([]byte, int) []byte, len(keys))
	for k, col := range keys {
		encode[k] = keyEncoder(col)
	}
	for i := range rows {
		buf := t.buf[:0]
		for _, enc := range encode {
			buf = enc(buf, i)
		}
		t.buf = buf
		g, ok := t.index[string(buf)]
		if !ok {
			g = int32(t.n)
			t.n++
			t.index[string(buf)] = g
			t.bytes += int64(len(buf))
			for k, s := range t.stores {
				s.grow(t.n)
				s.set(g, keys[k], i)
			}
		}
		gids[i] = g
	}
}

// keyEncoder returns the function that appends row i of a plain vector to a key's bytes.
func keyEncoder(col Column) func([]byte, int) []byte {
	nulls := nullFlags(col)
	flag := func(b []byte, i int) ([]byte, bool) {
		if nulls != nil && nulls[i] {
			return append(b, 1), true
		}
		return append(b, 0), false
	}
	word := func(data func(i int) uint64) func([]byte, int) []byte {
		return func(b []byte, i int) []byte {
			b, null := flag(b, i)
			if null {
				return b
			}
			return binary.LittleEndian.AppendUint64(b, data(i))
		}
	}
	switch v := col.(type) {
	case *Vector[bool]:
		return word(func(i int) uint64 {
			if v.Data[i] {
				return 1
			}
			return 0
		})
	case *Vector[int32]:
		return word(func(i int) uint64 { return uint64(v.Data[i]) })
	case *Vector[int64]:
		return word(func(i int) uint64 { return uint64(v.Data[i]) })
	case *Vector[kusto.DateTime]:
		return word(func(i int) uint64 { return uint64(v.Data[i]) })
	case *Vector[kusto.Timespan]:
		return word(func(i int) uint64 { return uint64(v.Data[i]) })
	case *Vector[float64]:
		return word(func(i int) uint64 { return uint64(realWord(v.Data[i])) })
	case *Vector[uuid.UUID]:
		return func(b []byte, i int) []byte {
			b, null := flag(b, i)
			if null {
				return b
			}
			return append(b, v.Data[i][:]...)
		}
	case *Vector[string]:
		return func(b []byte, i int) []byte {
			s := v.Data[i]
			b = binary.AppendUvarint(b, uint64(len(s)))
			return append(b, s...)
		}
	}
	panic("engine: no key encoding for a " + col.Type().String() + " column")
}

func (t *compositeKeys) groups() int { return t.n }

func (t *compositeKeys) keyColumns(lo, hi int) []Column {
	out := make([]Column, len(t.stores))
	for k, s := range t.stores {
		out[k] = s.column(lo, hi)
	}
	return out
}

func (t *compositeKeys) footprint() int64 {
	return int64(t.n)*(48+stringHeader) + t.bytes + storesFootprint(t.stores) + int64(cap(t.buf))
}
