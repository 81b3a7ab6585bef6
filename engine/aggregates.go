package engine

import (
	"cmp"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The aggregate registry, for summarize: each aggregation function is declared once (name,
// parameter, result type, summary) with a constructor of its state. A state takes a batch's
// column at a time (update), combines with another state of the same aggregate (merge: the
// partial results of two workers or two extents), and gives the final value (result). Nulls
// are ignored, as in Kusto.

// aggState is one group's running aggregate.
type aggState interface {
	// update adds the rows sel of col (all rows of col if sel is nil); col is nil for count(),
	// which gets rows, the batch's length.
	update(col Column, rows int, sel []int32)
	// merge adds another state of the same aggregate and argument type.
	merge(other aggState)
	// result returns the aggregate's value, nil for null.
	result() any
}

type aggregateFunc struct {
	name    string
	usage   string
	summary string
	param   *typeSet // nil for none, as count() takes
	// result returns the result type for an argument of type t (TypeUnknown for none).
	result func(t kusto.Type) kusto.Type
	// state returns a new, empty state for an argument of type t.
	state func(t kusto.Type) aggState
}

var aggregates = map[string]*aggregateFunc{}

func init() {
	numeric := typeSet{name: "number", desc: "a number or a timespan", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeTimespan}}
	for _, a := range []*aggregateFunc{
		{name: "count", usage: "count()", summary: "The number of rows.",
			result: func(kusto.Type) kusto.Type { return kusto.TypeLong },
			state:  func(kusto.Type) aggState { return &countState{} }},
		{name: "countif", usage: "countif(predicate)", summary: "The number of rows for which predicate is true.", param: &tBool,
			result: func(kusto.Type) kusto.Type { return kusto.TypeLong },
			state:  func(kusto.Type) aggState { return &countState{ifTrue: true} }},
		{name: "sum", usage: "sum(expr)", summary: "The sum of expr; long for ints and longs.", param: &numeric,
			result: sumType, state: newSum},
		{name: "avg", usage: "avg(expr)", summary: "The mean of expr, a real (null if there are no values).", param: &numeric,
			result: func(t kusto.Type) kusto.Type {
				if t == kusto.TypeTimespan {
					return t
				}
				return kusto.TypeReal
			}, state: newAvg},
		{name: "min", usage: "min(expr)", summary: "The smallest value of expr.", param: &tOrdered,
			result: func(t kusto.Type) kusto.Type { return t }, state: func(t kusto.Type) aggState { return newExtreme(t, false) }},
		{name: "max", usage: "max(expr)", summary: "The largest value of expr.", param: &tOrdered,
			result: func(t kusto.Type) kusto.Type { return t }, state: func(t kusto.Type) aggState { return newExtreme(t, true) }},
		{name: "dcount", usage: "dcount(expr)", summary: "The number of distinct values of expr, counted exactly (Kusto estimates it).", param: &tAny,
			result: func(kusto.Type) kusto.Type { return kusto.TypeLong }, state: newDcount},
	} {
		aggregates[a.name] = a
	}
}

// AggregateInfo describes an aggregation function for help and docs.
type AggregateInfo struct{ Name, Usage, Summary string }

// Aggregates lists the aggregation functions, sorted by name.
func Aggregates() []AggregateInfo {
	var out []AggregateInfo
	for _, a := range aggregates {
		out = append(out, AggregateInfo{a.name, a.usage, a.summary})
	}
	slices.SortFunc(out, func(a, b AggregateInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// forRows calls f for each selected row (all n if sel is nil) that is not null.
func forRows[T any](v *Vector[T], sel []int32, f func(T)) {
	switch {
	case sel == nil && v.Nulls == nil:
		for _, x := range v.Data {
			f(x)
		}
	case sel == nil:
		for i, x := range v.Data {
			if !v.Nulls[i] {
				f(x)
			}
		}
	default:
		for _, i := range sel {
			if v.Nulls == nil || !v.Nulls[i] {
				f(v.Data[i])
			}
		}
	}
}

type countState struct {
	n      int64
	ifTrue bool
}

func (s *countState) update(col Column, rows int, sel []int32) {
	if !s.ifTrue {
		if sel != nil {
			rows = len(sel)
		}
		s.n += int64(rows)
		return
	}
	forRows(vectorOf[bool](col), sel, func(b bool) {
		if b {
			s.n++
		}
	})
}

func (s *countState) merge(o aggState) { s.n += o.(*countState).n }
func (s *countState) result() any      { return s.n }

func sumType(t kusto.Type) kusto.Type {
	if t == kusto.TypeInt {
		return kusto.TypeLong
	}
	return t
}

// sumState sums values of Go type T into an R; an empty sum is null.
type sumState[T, R number] struct {
	sum  R
	seen bool
}

func (s *sumState[T, R]) update(col Column, rows int, sel []int32) {
	v := vectorOf[T](col)
	if sel == nil && v.Nulls == nil { // the common case: a plain loop
		for _, x := range v.Data {
			s.sum += R(x)
		}
		s.seen = s.seen || len(v.Data) > 0
		return
	}
	forRows(v, sel, func(x T) { s.sum, s.seen = s.sum+R(x), true })
}

func (s *sumState[T, R]) merge(o aggState) {
	p := o.(*sumState[T, R])
	s.sum += p.sum
	s.seen = s.seen || p.seen
}

func (s *sumState[T, R]) result() any {
	if !s.seen {
		return nil
	}
	return s.sum
}

func newSum(t kusto.Type) aggState {
	switch t {
	case kusto.TypeInt:
		return &sumState[int32, int64]{}
	case kusto.TypeLong:
		return &sumState[int64, int64]{}
	case kusto.TypeTimespan:
		return &sumState[kusto.Timespan, kusto.Timespan]{}
	default:
		return &sumState[float64, float64]{}
	}
}

// avgState keeps a sum and a count; a timespan's mean is a timespan.
type avgState[T number] struct {
	sum  float64
	n    int64
	span bool
}

func (s *avgState[T]) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[T](col), sel, func(x T) { s.sum, s.n = s.sum+float64(x), s.n+1 })
}

func (s *avgState[T]) merge(o aggState) {
	p := o.(*avgState[T])
	s.sum, s.n = s.sum+p.sum, s.n+p.n
}

func (s *avgState[T]) result() any {
	if s.n == 0 {
		return nil
	}
	if s.span {
		return kusto.Timespan(s.sum / float64(s.n))
	}
	return s.sum / float64(s.n)
}

func newAvg(t kusto.Type) aggState {
	switch t {
	case kusto.TypeInt:
		return &avgState[int32]{}
	case kusto.TypeLong:
		return &avgState[int64]{}
	case kusto.TypeTimespan:
		return &avgState[kusto.Timespan]{span: true}
	default:
		return &avgState[float64]{}
	}
}

// extremeState is min or max over an orderable T.
type extremeState[T cmp.Ordered] struct {
	best    T
	seen    bool
	largest bool
}

func (s *extremeState[T]) add(x T) {
	if !s.seen || s.largest && cmp.Less(s.best, x) || !s.largest && cmp.Less(x, s.best) {
		s.best, s.seen = x, true
	}
}

func (s *extremeState[T]) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[T](col), sel, s.add)
}

func (s *extremeState[T]) merge(o aggState) {
	if p := o.(*extremeState[T]); p.seen {
		s.add(p.best)
	}
}

func (s *extremeState[T]) result() any {
	if !s.seen {
		return nil
	}
	return s.best
}

func newExtreme(t kusto.Type, largest bool) aggState {
	switch t {
	case kusto.TypeInt:
		return &extremeState[int32]{largest: largest}
	case kusto.TypeLong:
		return &extremeState[int64]{largest: largest}
	case kusto.TypeReal:
		return &extremeState[float64]{largest: largest}
	case kusto.TypeString:
		return &extremeState[string]{largest: largest}
	case kusto.TypeDateTime:
		return &extremeState[kusto.DateTime]{largest: largest}
	default:
		return &extremeState[kusto.Timespan]{largest: largest}
	}
}

// dcountState counts distinct non-null values exactly; a dynamic is keyed by its JSON text.
type dcountState[T comparable] struct{ seen map[T]struct{} }

func (s *dcountState[T]) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[T](col), sel, func(x T) { s.seen[x] = struct{}{} })
}

func (s *dcountState[T]) merge(o aggState) {
	for k := range o.(*dcountState[T]).seen {
		s.seen[k] = struct{}{}
	}
}

func (s *dcountState[T]) result() any { return int64(len(s.seen)) }

type dynamicDcount struct{ dcountState[string] }

func (s *dynamicDcount) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[any](col), sel, func(x any) {
		if x != nil {
			s.seen[kusto.FormatDynamic(x)] = struct{}{}
		}
	})
}

func (s *dynamicDcount) merge(o aggState) { s.dcountState.merge(&o.(*dynamicDcount).dcountState) }

func newDcount(t kusto.Type) aggState {
	switch t {
	case kusto.TypeBool:
		return &dcountState[bool]{map[bool]struct{}{}}
	case kusto.TypeInt:
		return &dcountState[int32]{map[int32]struct{}{}}
	case kusto.TypeLong:
		return &dcountState[int64]{map[int64]struct{}{}}
	case kusto.TypeReal:
		return &dcountState[float64]{map[float64]struct{}{}}
	case kusto.TypeString:
		return &dcountState[string]{map[string]struct{}{}}
	case kusto.TypeDateTime:
		return &dcountState[kusto.DateTime]{map[kusto.DateTime]struct{}{}}
	case kusto.TypeTimespan:
		return &dcountState[kusto.Timespan]{map[kusto.Timespan]struct{}{}}
	case kusto.TypeGUID:
		return &dcountState[uuid.UUID]{map[uuid.UUID]struct{}{}}
	}
	return &dynamicDcount{dcountState[string]{map[string]struct{}{}}}
}
