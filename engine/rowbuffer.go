package engine

import (
	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// rowBuffer holds copies of rows, column by column, for the operators that keep rows past the
// batch they came in (sort, top, distinct): batches are reused, so their rows are copied. What it
// holds counts against the memory budget at its real cost: the capacity of its vectors, their
// null flags, and the bytes of their strings and dynamic values.
type rowBuffer struct {
	cols    []builder // nil for a column no node reads (pruned: nil in the batches)
	types   []kusto.Type
	payload int64 // string bytes and dynamic values beyond their headers
	budget  *Budget
	held    int64 // reserved from budget
	rows    int
}

func newRowBuffer(types []kusto.Type, budget *Budget) *rowBuffer {
	return &rowBuffer{cols: make([]builder, len(types)), types: types, budget: budget}
}

// append copies rows [lo, hi) of cols, a batch's columns in the buffer's order (nil for pruned),
// and reserves what they cost.
func (rb *rowBuffer) append(cols []Column, lo, hi int) error {
	for i, c := range cols {
		if c == nil {
			continue
		}
		if rb.cols[i] == nil {
			rb.cols[i] = builderFor(newColumn(rb.types[i], 0))
		}
		if lo != 0 || hi != c.Len() {
			c = c.Slice(lo, hi)
		}
		rb.cols[i].appendColumn(c)
		rb.payload += payloadCost(c)
	}
	rb.rows += hi - lo
	return rb.settle()
}

// settle reserves, or releases, the difference between what the buffer costs now and what it
// holds.
func (rb *rowBuffer) settle() error {
	cost := rb.payload
	for _, b := range rb.cols {
		if b != nil {
			cost += capacityCost(b.column())
		}
	}
	if cost > rb.held {
		if err := rb.budget.reserve(cost - rb.held); err != nil {
			return err
		}
	} else {
		rb.budget.release(rb.held - cost)
	}
	rb.held = cost
	return nil
}

func (rb *rowBuffer) column(i int) Column {
	if rb.cols[i] == nil {
		return nil
	}
	return rb.cols[i].column()
}

func (rb *rowBuffer) len() int { return rb.rows }

// release gives back everything the buffer holds; the buffer is not used after.
func (rb *rowBuffer) release() {
	rb.budget.release(rb.held)
	rb.held = 0
	rb.cols = nil
}

// gather fills out (reused from call to call) with the rows idx of the buffer's columns i < n.
func (rb *rowBuffer) gather(out *Batch, n int, idx []int32) {
	if len(out.Cols) != n {
		out.Cols = make([]Column, n)
	}
	for i := range n {
		if c := rb.column(i); c != nil {
			out.Cols[i] = gatherInto(out.Cols[i], c, idx)
		}
	}
	out.Len = len(idx)
}

// elemSize is the bytes of one element of a vector of type t.
func elemSize(t kusto.Type) int64 {
	switch t {
	case kusto.TypeBool:
		return 1
	case kusto.TypeInt:
		return 4
	case kusto.TypeGUID:
		return 16
	case kusto.TypeString:
		return stringHeader
	case kusto.TypeLong, kusto.TypeReal, kusto.TypeDateTime, kusto.TypeTimespan:
		return 8
	}
	return interfaceBox
}

// capacityCost is what a vector's storage costs as allocated: its capacity, not its length.
func capacityCost(c Column) int64 {
	n, nulls := 0, 0
	switch v := c.(type) {
	case *Vector[bool]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[int32]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[int64]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[float64]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[string]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[kusto.DateTime]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[kusto.Timespan]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[uuid.UUID]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	case *Vector[any]:
		n, nulls = cap(v.Data), cap(v.Nulls)
	default:
		return memoryCost(c)
	}
	return vectorOverhead + int64(n)*elemSize(c.Type()) + int64(nulls)
}

// payloadCost is what a column's values cost beyond its elements: string bytes, dynamic values.
func payloadCost(c Column) int64 {
	switch c.Type() {
	case kusto.TypeString, kusto.TypeDynamic:
		var nulls []bool
		if v, ok := c.(interface{ nullFlags() []bool }); ok {
			nulls = v.nullFlags()
		}
		return memoryCost(c) - vectorCost(c.Len(), elemSize(c.Type()), nulls)
	}
	return 0
}

// slotSetter writes one row of a column into a slot of a vector of the same type, as top
// replaces a kept row; it returns the change in the vector's payload cost.
type slotSetter interface {
	setFrom(slot int, src Column, row int) int64
}

func (v *Vector[T]) setFrom(slot int, src Column, row int) int64 {
	s := src.(*Vector[T])
	var delta int64
	switch vv := any(v).(type) { // a pointer in an interface: nothing is boxed per row
	case *Vector[string]:
		delta = int64(len(any(s).(*Vector[string]).Data[row]) - len(vv.Data[slot]))
	case *Vector[any]:
		delta = dynamicCost(any(s).(*Vector[any]).Data[row]) - dynamicCost(vv.Data[slot])
	}
	v.Data[slot] = s.Data[row]
	switch {
	case s.Nulls != nil && s.Nulls[row]:
		if v.Nulls == nil {
			v.Nulls = make([]bool, len(v.Data))
		}
		v.Nulls[slot] = true
	case v.Nulls != nil:
		v.Nulls[slot] = false
	}
	return delta
}

// withNulls gives a vector null flags if it has none, so that comparators made over it stay
// valid while setFrom writes nulls into it.
func withNulls(c Column) {
	switch v := c.(type) {
	case *Vector[bool]:
		ensureNullFlags(v)
	case *Vector[int32]:
		ensureNullFlags(v)
	case *Vector[int64]:
		ensureNullFlags(v)
	case *Vector[float64]:
		ensureNullFlags(v)
	case *Vector[kusto.DateTime]:
		ensureNullFlags(v)
	case *Vector[kusto.Timespan]:
		ensureNullFlags(v)
	case *Vector[uuid.UUID]:
		ensureNullFlags(v)
	}
}

func ensureNullFlags[T any](v *Vector[T]) {
	if v.Nulls == nil {
		v.Nulls = make([]bool, len(v.Data))
	}
}
