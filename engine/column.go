package engine

import (
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

// Batch is a slice of rows, held column by column. Operators pass batches of at most batchSize
// rows, so that a running query looks at its context at least every batchSize rows.
type Batch struct {
	Cols []Column
	Len  int
}

// batchSize is the largest batch a source produces; it is also how often, in rows, a running
// query checks whether it has been canceled.
const batchSize = 1024
