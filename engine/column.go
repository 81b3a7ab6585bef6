package engine

import (
	"slices"

	"github.com/google/uuid"
	"github.com/kustard/kustard/parser"
)

// Column is a typed, immutable vector of values. Each Kusto type has one Go element type:
// bool, int32 (int), int64 (long), float64 (real), string, parser.DateTime, parser.Timespan,
// uuid.UUID (guid) and any (dynamic).
type Column interface {
	Type() parser.Type
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
	typ   parser.Type
	Data  []T
	Nulls []bool
}

// NewVector returns a vector of type typ holding data (not copied).
func NewVector[T any](typ parser.Type, data []T, nulls []bool) *Vector[T] {
	return &Vector[T]{typ: typ, Data: data, Nulls: nulls}
}

func (v *Vector[T]) Type() parser.Type { return v.typ }
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
func newColumn(t parser.Type, n int) Column {
	switch t {
	case parser.TypeBool:
		return &Vector[bool]{typ: t, Data: make([]bool, 0, n)}
	case parser.TypeInt:
		return &Vector[int32]{typ: t, Data: make([]int32, 0, n)}
	case parser.TypeLong:
		return &Vector[int64]{typ: t, Data: make([]int64, 0, n)}
	case parser.TypeReal:
		return &Vector[float64]{typ: t, Data: make([]float64, 0, n)}
	case parser.TypeString:
		return &Vector[string]{typ: t, Data: make([]string, 0, n)}
	case parser.TypeDateTime:
		return &Vector[parser.DateTime]{typ: t, Data: make([]parser.DateTime, 0, n)}
	case parser.TypeTimespan:
		return &Vector[parser.Timespan]{typ: t, Data: make([]parser.Timespan, 0, n)}
	case parser.TypeGUID:
		return &Vector[uuid.UUID]{typ: t, Data: make([]uuid.UUID, 0, n)}
	default:
		return &Vector[any]{typ: parser.TypeDynamic, Data: make([]any, 0, n)}
	}
}

// nullColumn returns n nulls of type t (n empty strings for a string column).
func nullColumn(t parser.Type, n int) Column {
	c := newColumn(t, n)
	b := builderFor(c)
	for range n {
		b.appendValue(nil)
	}
	return b.column()
}

// constColumn returns n copies of a value (nil for null) as a column of type t.
func constColumn(t parser.Type, value any, n int) Column {
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
	case *Vector[parser.DateTime]:
		return &vectorBuilder[parser.DateTime]{c}
	case *Vector[parser.Timespan]:
		return &vectorBuilder[parser.Timespan]{c}
	case *Vector[uuid.UUID]:
		return &vectorBuilder[uuid.UUID]{c}
	case *Vector[any]:
		return &vectorBuilder[any]{c}
	}
	panic("engine: no builder for column type " + c.Type().String())
}

func (b *vectorBuilder[T]) len() int       { return len(b.v.Data) }
func (b *vectorBuilder[T]) column() Column { return b.v }

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
		if b.v.typ == parser.TypeString {
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

// chunkRows is the most rows a chunk of a chunkBuilder holds: half a megabyte of longs, copied in
// well under a millisecond.
const chunkRows = 1 << 16

// chunkBuilder builds a column that may grow large, as an ingest's extent does, in chunks of at
// most chunkRows rows (unless reserve knew better). Appending never copies what earlier chunks
// hold: a slice grown by append copies all of it, over and over, each time in one memmove that
// neither a cancel nor the garbage collector can interrupt (hundreds of milliseconds near the
// ingest limit). finish joins the chunks once, a chunk at a time, checking for a cancel between
// chunks.
type chunkBuilder struct {
	typ   parser.Type
	full  []Column // the chunks filled
	cur   builder  // the chunk being filled
	limit int      // the rows cur may hold
	rows  int
}

func newChunkBuilder(t parser.Type) *chunkBuilder {
	return &chunkBuilder{typ: t, cur: builderFor(newColumn(t, 0)), limit: chunkRows}
}

// maxReserve bounds reserve: 128 MB of longs, zeroed in a few milliseconds when the memory is
// reused, so a cancel that arrives meanwhile is not kept waiting long.
const maxReserve = 1 << 24

// reserve makes room for n rows before the first is appended, when the caller knows how many are
// coming, so that they are written once, into the column finish returns.
func (b *chunkBuilder) reserve(n int) {
	if n = min(n, maxReserve); b.rows == 0 && n > b.limit {
		b.cur = builderFor(newColumn(b.typ, n))
		b.limit = n
	}
}

// room returns how many more rows the current chunk takes, starting a new chunk if it is full.
func (b *chunkBuilder) room() int {
	room := b.limit - b.cur.len()
	if room == 0 {
		b.full = append(b.full, b.cur.column())
		b.cur = builderFor(newColumn(b.typ, chunkRows))
		b.limit, room = chunkRows, chunkRows
	}
	return room
}

func (b *chunkBuilder) appendColumn(c Column) {
	b.rows += c.Len()
	for {
		room := b.room()
		n := c.Len()
		if n <= room {
			b.cur.appendColumn(c)
			return
		}
		b.cur.appendColumn(c.Slice(0, room))
		c = c.Slice(room, n)
	}
}

// appendSpace appends up to n rows to b, not null, and returns them for the caller to fill in
// place: a source that can (a range) then writes each value once, into the column. It returns
// fewer than n rows at the end of a chunk. T must be the Go type of b's column.
func appendSpace[T any](b *chunkBuilder, n int) []T {
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

// finish returns the column built, or check's error if a cancel came while it joined chunks.
func (b *chunkBuilder) finish(check cancelCheck) (Column, error) {
	if len(b.full) == 0 {
		return b.cur.column(), nil
	}
	out := builderFor(newColumn(b.typ, b.rows))
	for i, c := range append(b.full, b.cur.column()) {
		if err := check.err(); err != nil {
			return nil, err
		}
		out.appendColumn(c)
		if i < len(b.full) {
			b.full[i] = nil // the garbage collector may take it now
		}
	}
	b.full, b.cur = nil, nil
	return out.column(), nil
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
