package engine

import (
	"math"
	"slices"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Column is a typed, immutable vector of values. Each Kusto type has one Go element type:
// bool, int32 (int), int64 (long), float64 (real), string, kusto.DateTime, kusto.Timespan,
// uuid.UUID (guid) and any (dynamic).
type Column interface {
	Type() kusto.Type
	Len() int
	IsNull(i int) bool
	// Value returns element i boxed, or nil for a null: for rendering and tests, not hot loops.
	Value(i int) any
	// Slice returns elements [lo, hi) without copying.
	Slice(lo, hi int) Column
	// Gather returns the elements at the given indexes, in order.
	Gather(idx []int32) Column
}

// Vector is a Column of Go element type T. Nulls is nil when no element is null; otherwise it has
// one flag per element. Strings are never null, as in Kusto, where a missing string is empty.
type Vector[T any] struct {
	typ   kusto.Type
	Data  []T
	Nulls []bool
}

// NewVector returns a vector of type typ holding data (not copied).
func NewVector[T any](typ kusto.Type, data []T, nulls []bool) *Vector[T] {
	return &Vector[T]{typ: typ, Data: data, Nulls: nulls}
}

func (v *Vector[T]) Type() kusto.Type  { return v.typ }
func (v *Vector[T]) Len() int          { return len(v.Data) }
func (v *Vector[T]) IsNull(i int) bool { return v.Nulls != nil && v.Nulls[i] }
func (v *Vector[T]) HasNulls() bool    { return v.Nulls != nil }
func (v *Vector[T]) Slice(lo, hi int) Column {
	out := &Vector[T]{typ: v.typ, Data: v.Data[lo:hi:hi]}
	if v.Nulls != nil {
		out.Nulls = v.Nulls[lo:hi:hi]
	}
	return out
}

func (v *Vector[T]) Value(i int) any {
	if v.IsNull(i) {
		return nil
	}
	return v.Data[i]
}

func (v *Vector[T]) Gather(idx []int32) Column {
	out := &Vector[T]{typ: v.typ, Data: make([]T, len(idx))}
	for j, i := range idx {
		out.Data[j] = v.Data[i]
	}
	if v.Nulls != nil {
		out.Nulls = make([]bool, len(idx))
		for j, i := range idx {
			out.Nulls[j] = v.Nulls[i]
		}
	}
	return out
}

// newColumn returns an empty column of type t with room for n values.
func newColumn(t kusto.Type, n int) Column {
	switch t {
	case kusto.TypeBool:
		return &Vector[bool]{typ: t, Data: make([]bool, 0, n)}
	case kusto.TypeInt:
		return &Vector[int32]{typ: t, Data: make([]int32, 0, n)}
	case kusto.TypeLong:
		return &Vector[int64]{typ: t, Data: make([]int64, 0, n)}
	case kusto.TypeReal:
		return &Vector[float64]{typ: t, Data: make([]float64, 0, n)}
	case kusto.TypeString:
		return &Vector[string]{typ: t, Data: make([]string, 0, n)}
	case kusto.TypeDateTime:
		return &Vector[kusto.DateTime]{typ: t, Data: make([]kusto.DateTime, 0, n)}
	case kusto.TypeTimespan:
		return &Vector[kusto.Timespan]{typ: t, Data: make([]kusto.Timespan, 0, n)}
	case kusto.TypeGUID:
		return &Vector[uuid.UUID]{typ: t, Data: make([]uuid.UUID, 0, n)}
	default:
		return &Vector[any]{typ: kusto.TypeDynamic, Data: make([]any, 0, n)}
	}
}

// nullColumn returns n nulls of type t (n empty strings for a string column).
func nullColumn(t kusto.Type, n int) Column {
	c := newColumn(t, n)
	b := builderFor(c)
	for range n {
		b.appendValue(nil)
	}
	return b.column()
}

// constColumn returns n copies of a value (nil for null) as a column of type t.
func constColumn(t kusto.Type, value any, n int) Column {
	b := builderFor(newColumn(t, n))
	for range n {
		b.appendValue(value)
	}
	return b.column()
}

// builder appends to a column; it is how extents and results are built.
type builder interface {
	appendColumn(c Column) // c must have the builder's type
	appendValue(v any)     // v must be nil or of the builder's Go type
	column() Column
	len() int
	trim() // gives back spare capacity beyond a quarter of the length
}

type vectorBuilder[T any] struct {
	v *Vector[T]
}

func builderFor(c Column) builder {
	switch c := c.(type) {
	case *Vector[bool]:
		return &vectorBuilder[bool]{c}
	case *Vector[int32]:
		return &vectorBuilder[int32]{c}
	case *Vector[int64]:
		return &vectorBuilder[int64]{c}
	case *Vector[float64]:
		return &vectorBuilder[float64]{c}
	case *Vector[string]:
		return &vectorBuilder[string]{c}
	case *Vector[kusto.DateTime]:
		return &vectorBuilder[kusto.DateTime]{c}
	case *Vector[kusto.Timespan]:
		return &vectorBuilder[kusto.Timespan]{c}
	case *Vector[uuid.UUID]:
		return &vectorBuilder[uuid.UUID]{c}
	case *Vector[any]:
		return &vectorBuilder[any]{c}
	}
	panic("engine: no builder for column type " + c.Type().String())
}

func (b *vectorBuilder[T]) len() int       { return len(b.v.Data) }
func (b *vectorBuilder[T]) column() Column { return b.v }

func (b *vectorBuilder[T]) trim() {
	if n := len(b.v.Data); cap(b.v.Data)-n > n/4 {
		b.v.Data = slices.Clone(b.v.Data)
		if b.v.Nulls != nil {
			b.v.Nulls = slices.Clone(b.v.Nulls)
		}
	}
}

func (b *vectorBuilder[T]) appendColumn(c Column) {
	src := c.(*Vector[T])
	n := len(b.v.Data)
	b.v.Data = append(b.v.Data, src.Data...)
	if src.Nulls != nil || b.v.Nulls != nil {
		b.ensureNulls(n)
		if src.Nulls != nil {
			b.v.Nulls = append(b.v.Nulls, src.Nulls...)
		} else {
			b.v.Nulls = append(b.v.Nulls, make([]bool, len(src.Data))...)
		}
	}
}

// ensureNulls materializes the null flags of the first n elements, all false.
func (b *vectorBuilder[T]) ensureNulls(n int) {
	if b.v.Nulls == nil {
		b.v.Nulls = make([]bool, n, cap(b.v.Data))
	}
}

func (b *vectorBuilder[T]) appendValue(v any) {
	var zero T
	if v == nil {
		if b.v.typ == kusto.TypeString {
			b.v.Data = append(b.v.Data, zero)
			if b.v.Nulls != nil {
				b.v.Nulls = append(b.v.Nulls, false)
			}
			return
		}
		b.ensureNulls(len(b.v.Data))
		b.v.Data = append(b.v.Data, zero)
		b.v.Nulls = append(b.v.Nulls, true)
		return
	}
	b.v.Data = append(b.v.Data, v.(T))
	if b.v.Nulls != nil {
		b.v.Nulls = append(b.v.Nulls, false)
	}
}

// chunkRows is the rows of a chunk of a large column: 64 KB of longs. A column built in chunks
// is never copied as it grows, and no allocation is larger than a chunk, which is zeroed (or
// faulted in) well within the time a cancel may wait.
const chunkRows = 1 << 13

// chunkedColumn is a column held in chunks of chunkRows rows, the last maybe shorter: the
// columns of a large extent. A slice within one chunk is a view of it, and scans, which slice in
// batches of batchSize rows from row 0, never straddle chunks; any other slice is a copy.
type chunkedColumn struct {
	typ    kusto.Type
	chunks []Column
	rows   int
}

func (c *chunkedColumn) Type() kusto.Type  { return c.typ }
func (c *chunkedColumn) Len() int          { return c.rows }
func (c *chunkedColumn) IsNull(i int) bool { return c.chunks[i/chunkRows].IsNull(i % chunkRows) }
func (c *chunkedColumn) Value(i int) any   { return c.chunks[i/chunkRows].Value(i % chunkRows) }

func (c *chunkedColumn) Slice(lo, hi int) Column {
	if k := lo / chunkRows; lo < hi && (hi-1)/chunkRows == k {
		return c.chunks[k].Slice(lo-k*chunkRows, hi-k*chunkRows)
	}
	out := builderFor(newColumn(c.typ, hi-lo))
	for lo < hi {
		k := lo / chunkRows
		end := min(hi, (k+1)*chunkRows)
		out.appendColumn(c.chunks[k].Slice(lo-k*chunkRows, end-k*chunkRows))
		lo = end
	}
	return out.column()
}

func (c *chunkedColumn) Gather(idx []int32) Column {
	out := builderFor(newColumn(c.typ, len(idx)))
	for _, i := range idx {
		out.appendValue(c.Value(int(i)))
	}
	return out.column()
}

// chunkedBuilder builds a column that may grow large, as an ingest's extent does, in chunks of
// chunkRows rows. Appending never copies what is already there: a slice grown by append copies
// all of it, each time in one memmove that neither a cancel nor the garbage collector can
// interrupt (hundreds of milliseconds near the ingest limit), and it makes an extra pass over the
// data.
type chunkedBuilder struct {
	typ  kusto.Type
	full []Column // the chunks filled
	cur  builder  // the chunk being filled
	rows int
}

// newChunkedBuilder returns a builder for a column of type t; expect is how many rows are to
// come, if the source can tell, else math.MaxUint64.
func newChunkedBuilder(t kusto.Type, expect uint64) *chunkedBuilder {
	n := 0 // a source that cannot tell may be small: the first chunk grows as rows come
	if expect != math.MaxUint64 {
		n = int(min(expect, chunkRows))
	}
	return &chunkedBuilder{typ: t, cur: builderFor(newColumn(t, n))}
}

// room returns how many more rows the current chunk takes, starting a new one if it is full.
func (b *chunkedBuilder) room() int {
	room := chunkRows - b.cur.len()
	if room == 0 {
		b.full = append(b.full, b.cur.column())
		b.cur = builderFor(newColumn(b.typ, chunkRows))
		room = chunkRows
	}
	return room
}

func (b *chunkedBuilder) appendColumn(c Column) {
	b.rows += c.Len()
	for {
		room, n := b.room(), c.Len()
		if n <= room {
			b.cur.appendColumn(c)
			return
		}
		b.cur.appendColumn(c.Slice(0, room))
		c = c.Slice(room, n)
	}
}

// appendSpace appends up to n rows, not null, to b and returns them for the caller to fill in
// place, as a range does; fewer than n at the end of a chunk. T must be b's Go element type.
func appendSpace[T any](b *chunkedBuilder, n int) []T {
	n = min(n, b.room())
	v := b.cur.(*vectorBuilder[T]).v
	at := len(v.Data)
	v.Data = slices.Grow(v.Data, n)[:at+n]
	if v.Nulls != nil {
		v.Nulls = append(v.Nulls, make([]bool, n)...)
	}
	b.rows += n
	return v.Data[at:]
}

// column returns the column built: a plain vector if it fits in one chunk.
func (b *chunkedBuilder) column() Column {
	if len(b.full) == 0 {
		return b.cur.column()
	}
	chunks := b.full
	if b.cur.len() > 0 {
		b.cur.trim()
		chunks = append(chunks, b.cur.column())
	}
	return &chunkedColumn{typ: b.typ, chunks: chunks, rows: b.rows}
}

// Batch is a slice of rows, held column by column. Operators pass batches of at most batchSize
// rows, so that a running query looks at its context at least every batchSize rows.
type Batch struct {
	Cols []Column
	Len  int
}

// batchSize is the largest batch a source produces; it is also how often, in rows, a running
// query checks whether it has been canceled.
const batchSize = 1024

// gatherInto returns the elements of src at idx, in order, written into dst's storage when dst
// is a vector of the same type (a filter's output, reused from batch to batch), else into a new
// vector.
func gatherInto(dst, src Column, idx []int32) Column {
	if g, ok := src.(interface {
		gatherInto(dst Column, idx []int32) Column
	}); ok {
		return g.gatherInto(dst, idx)
	}
	return src.Gather(idx)
}

func (v *Vector[T]) gatherInto(dst Column, idx []int32) Column {
	out, ok := dst.(*Vector[T])
	if !ok {
		out = &Vector[T]{typ: v.typ}
	}
	out.typ = v.typ
	out.Data = slices.Grow(out.Data[:0], len(idx))[:len(idx)]
	for j, i := range idx {
		out.Data[j] = v.Data[i]
	}
	out.Nulls = out.Nulls[:0]
	if v.Nulls == nil {
		out.Nulls = nil
		return out
	}
	out.Nulls = slices.Grow(out.Nulls, len(idx))[:len(idx)]
	for j, i := range idx {
		out.Nulls[j] = v.Nulls[i]
	}
	return out
}
