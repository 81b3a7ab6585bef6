package engine

import (
	"cmp"
	"math"
	"slices"
	"unsafe"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Grouped aggregates: the states of one aggregate for every group of a summarize, held in typed
// arrays indexed by group, and updated from a batch and the group index of each of its rows in
// one loop per batch (count, sum, avg, min, max, variance), rather than per group.

// groupedAgg is one aggregate of a summarize, for all its groups.
type groupedAgg interface {
	// grow makes room for groups [0, n), the new ones empty.
	grow(n int)
	// update adds a batch of rows rows: row i belongs to group gids[i] (to group 0 when gids is
	// nil); only the rows in sel count when sel is not nil. args are the argument columns, plain
	// vectors: the value (none for count()); for arg_max the maximized expression then the
	// returned ones; for take_any the expressions.
	update(args []Column, rows int, gids, sel []int32)
	// results returns the result columns of groups [lo, hi), one per column the aggregate
	// makes. They may share the states' storage: the caller does not update it after.
	results(lo, hi int) []Column
	// footprint is what the states cost in memory now, in bytes.
	footprint() int64
}

// eachRow calls f for every row of a batch that counts, with its group.
func eachRow(rows int, gids, sel []int32, f func(i int, g int32)) {
	switch {
	case sel == nil && gids == nil:
		for i := range rows {
			f(i, 0)
		}
	case sel == nil:
		for i, g := range gids[:rows] {
			f(i, g)
		}
	case gids == nil:
		for _, i := range sel {
			f(int(i), 0)
		}
	default:
		for _, i := range sel {
			f(int(i), gids[i])
		}
	}
}

// grown extends s to n elements, the new ones zero, growing its capacity by doubling.
func grown[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n > cap(s) {
		s = slices.Grow(s, max(n-len(s), cap(s)))
	}
	return s[:n]
}

func sizeOf[T any]() int64 {
	var zero T
	return int64(unsafe.Sizeof(zero))
}

// countAgg is count() and countif() (whose predicate has chosen the rows).
type countAgg struct{ n []int64 }

func (a *countAgg) grow(n int) { a.n = grown(a.n, n) }

func (a *countAgg) update(args []Column, rows int, gids, sel []int32) {
	n := a.n
	switch {
	case gids == nil && sel == nil:
		n[0] += int64(rows)
	case gids == nil:
		n[0] += int64(len(sel))
	case sel == nil:
		for _, g := range gids[:rows] {
			n[g]++
		}
	default:
		for _, i := range sel {
			n[gids[i]]++
		}
	}
}

func (a *countAgg) results(lo, hi int) []Column {
	return []Column{&Vector[int64]{typ: kusto.TypeLong, Data: a.n[lo:hi:hi]}}
}

func (a *countAgg) footprint() int64 { return int64(cap(a.n)) * 8 }

// sumAgg sums values of Go type T into an R per group; a group with no values sums to 0.
type sumAgg[T, R number] struct {
	typ  kusto.Type
	sums []R
}

func (a *sumAgg[T, R]) grow(n int) { a.sums = grown(a.sums, n) }

func (a *sumAgg[T, R]) update(args []Column, rows int, gids, sel []int32) {
	v := args[0].(*Vector[T])
	d, s := v.Data, a.sums
	switch {
	case v.Nulls == nil && sel == nil && gids == nil:
		var t R
		for _, x := range d {
			t += R(x)
		}
		s[0] += t
	case v.Nulls == nil && sel == nil:
		d = d[:len(gids)]
		for i, g := range gids {
			s[g] += R(d[i])
		}
	default:
		eachRow(rows, gids, sel, func(i int, g int32) {
			if v.Nulls == nil || !v.Nulls[i] {
				s[g] += R(d[i])
			}
		})
	}
}

func (a *sumAgg[T, R]) results(lo, hi int) []Column {
	return []Column{&Vector[R]{typ: a.typ, Data: a.sums[lo:hi:hi]}}
}

func (a *sumAgg[T, R]) footprint() int64 { return int64(cap(a.sums)) * sizeOf[R]() }

func newSumAgg(t kusto.Type) groupedAgg {
	switch t {
	case kusto.TypeInt:
		return &sumAgg[int32, int64]{typ: kusto.TypeLong}
	case kusto.TypeLong:
		return &sumAgg[int64, int64]{typ: t}
	case kusto.TypeTimespan:
		return &sumAgg[kusto.Timespan, kusto.Timespan]{typ: t}
	default:
		return &sumAgg[float64, float64]{typ: kusto.TypeReal}
	}
}

// avgAgg keeps a sum and a count per group.
type avgAgg[T number] struct {
	typ  kusto.Type // the result's
	sums []float64
	n    []int64
}

func (a *avgAgg[T]) grow(n int) { a.sums, a.n = grown(a.sums, n), grown(a.n, n) }

func (a *avgAgg[T]) update(args []Column, rows int, gids, sel []int32) {
	v := args[0].(*Vector[T])
	d, s, n := v.Data, a.sums, a.n
	if v.Nulls == nil && sel == nil && gids != nil {
		d = d[:len(gids)]
		for i, g := range gids {
			s[g] += float64(d[i])
			n[g]++
		}
		return
	}
	eachRow(rows, gids, sel, func(i int, g int32) {
		if v.Nulls == nil || !v.Nulls[i] {
			s[g] += float64(d[i])
			n[g]++
		}
	})
}

func (a *avgAgg[T]) results(lo, hi int) []Column {
	switch a.typ {
	case kusto.TypeReal:
		out := make([]float64, hi-lo)
		for g := lo; g < hi; g++ {
			out[g-lo] = a.sums[g] / float64(a.n[g]) // NaN for no values
		}
		return []Column{&Vector[float64]{typ: a.typ, Data: out}}
	case kusto.TypeTimespan:
		return []Column{meansOf[kusto.Timespan](a.typ, a.sums[lo:hi], a.n[lo:hi])}
	default:
		return []Column{meansOf[kusto.DateTime](a.typ, a.sums[lo:hi], a.n[lo:hi])}
	}
}

// meansOf returns the means of a timespan or datetime: null for no values.
func meansOf[R ~int64](typ kusto.Type, sums []float64, n []int64) Column {
	out := &Vector[R]{typ: typ, Data: make([]R, len(sums))}
	for g, c := range n {
		if c == 0 {
			if out.Nulls == nil {
				out.Nulls = make([]bool, len(sums))
			}
			out.Nulls[g] = true
			continue
		}
		out.Data[g] = R(math.Round(sums[g] / float64(c)))
	}
	return out
}

func (a *avgAgg[T]) footprint() int64 { return int64(cap(a.sums)+cap(a.n)) * 8 }

func newAvgAgg(t kusto.Type) groupedAgg {
	r := avgTypeOf(t)
	switch t {
	case kusto.TypeInt:
		return &avgAgg[int32]{typ: r}
	case kusto.TypeLong:
		return &avgAgg[int64]{typ: r}
	case kusto.TypeTimespan:
		return &avgAgg[kusto.Timespan]{typ: r}
	case kusto.TypeDateTime:
		return &avgAgg[kusto.DateTime]{typ: r}
	default:
		return &avgAgg[float64]{typ: r}
	}
}

// extremeAgg is min or max per group over an orderable T.
type extremeAgg[T cmp.Ordered] struct {
	typ     kusto.Type
	largest bool
	best    []T
	seen    []bool
	bytes   int64         // what the strings held cost
	cost    func(T) int64 // a value's cost beyond its element, for strings; nil for the rest
}

func (a *extremeAgg[T]) grow(n int) { a.best, a.seen = grown(a.best, n), grown(a.seen, n) }

func (a *extremeAgg[T]) update(args []Column, rows int, gids, sel []int32) {
	v := args[0].(*Vector[T])
	d, best, seen := v.Data, a.best, a.seen
	replace := func(g int32, x T) {
		if a.cost != nil {
			a.bytes += a.cost(x) - a.cost(best[g])
		}
		best[g], seen[g] = x, true
	}
	if v.Nulls == nil && sel == nil && gids != nil && a.cost == nil {
		d = d[:len(gids)]
		if a.largest {
			for i, g := range gids {
				if x := d[i]; !seen[g] || cmp.Less(best[g], x) {
					best[g], seen[g] = x, true
				}
			}
		} else {
			for i, g := range gids {
				if x := d[i]; !seen[g] || cmp.Less(x, best[g]) {
					best[g], seen[g] = x, true
				}
			}
		}
		return
	}
	eachRow(rows, gids, sel, func(i int, g int32) {
		if v.Nulls != nil && v.Nulls[i] {
			return
		}
		if x := d[i]; !seen[g] || a.largest && cmp.Less(best[g], x) || !a.largest && cmp.Less(x, best[g]) {
			replace(g, x)
		}
	})
}

func (a *extremeAgg[T]) results(lo, hi int) []Column {
	out := &Vector[T]{typ: a.typ, Data: a.best[lo:hi:hi]}
	if a.typ != kusto.TypeString && slices.Contains(a.seen[lo:hi], false) {
		out.Nulls = make([]bool, hi-lo)
		for i, s := range a.seen[lo:hi] {
			out.Nulls[i] = !s
		}
	}
	return []Column{out}
}

func (a *extremeAgg[T]) footprint() int64 {
	return int64(cap(a.best))*sizeOf[T]() + int64(cap(a.seen)) + a.bytes
}

func newExtremeAgg(t kusto.Type, largest bool) groupedAgg {
	switch t {
	case kusto.TypeInt:
		return &extremeAgg[int32]{typ: t, largest: largest}
	case kusto.TypeLong:
		return &extremeAgg[int64]{typ: t, largest: largest}
	case kusto.TypeReal:
		return &extremeAgg[float64]{typ: t, largest: largest}
	case kusto.TypeString:
		return &extremeAgg[string]{typ: t, largest: largest, cost: stringCost}
	case kusto.TypeDateTime:
		return &extremeAgg[kusto.DateTime]{typ: t, largest: largest}
	default:
		return &extremeAgg[kusto.Timespan]{typ: t, largest: largest}
	}
}

// spreadAgg is variance or standard deviation per group, by Welford's method.
type spreadAgg[T number] struct {
	sample, root bool
	n            []int64
	mean, m2     []float64
}

func (a *spreadAgg[T]) grow(n int) {
	a.n, a.mean, a.m2 = grown(a.n, n), grown(a.mean, n), grown(a.m2, n)
}

func (a *spreadAgg[T]) update(args []Column, rows int, gids, sel []int32) {
	v := args[0].(*Vector[T])
	n, mean, m2 := a.n, a.mean, a.m2
	eachRow(rows, gids, sel, func(i int, g int32) {
		if v.Nulls != nil && v.Nulls[i] {
			return
		}
		x := float64(v.Data[i])
		n[g]++
		d := x - mean[g]
		mean[g] += d / float64(n[g])
		m2[g] += d * (x - mean[g])
	})
}

func (a *spreadAgg[T]) results(lo, hi int) []Column {
	out := make([]float64, hi-lo)
	for g := lo; g < hi; g++ {
		out[g-lo] = spreadValue(a.n[g], a.m2[g], a.sample, a.root)
	}
	return []Column{&Vector[float64]{typ: kusto.TypeReal, Data: out}}
}

func (a *spreadAgg[T]) footprint() int64 { return int64(cap(a.n)+cap(a.mean)+cap(a.m2)) * 8 }

func newSpreadAgg(t kusto.Type, sample, root bool) groupedAgg {
	switch t {
	case kusto.TypeInt:
		return &spreadAgg[int32]{sample: sample, root: root}
	case kusto.TypeLong:
		return &spreadAgg[int64]{sample: sample, root: root}
	default:
		return &spreadAgg[float64]{sample: sample, root: root}
	}
}

// stateAgg runs an aggregate that has no grouped form on one aggState per group. Each batch's
// rows are sorted by group (a counting sort over the groups the batch touches), and each
// touched group's state is updated once with the selection of its rows.
type stateAgg struct {
	typ    kusto.Type // the result's
	fresh  func() aggState
	states []aggState
	sized  bool  // the states are sizedStates
	bytes  int64 // what the sized states hold
	base   int64 // what one empty state costs

	// per batch
	slot    []int32 // by group: its place in touched, or -1
	touched []int32
	offsets []int32
	perm    []int32
}

func newStateAgg(typ kusto.Type, fresh func() aggState) *stateAgg {
	a := &stateAgg{typ: typ, fresh: fresh}
	s := fresh()
	_, a.sized = s.(sizedState)
	a.base = 64 // the interface, the state's header and its fields, roughly
	if _, ok := s.(*setState); ok {
		a.base += mapOverhead
	}
	return a
}

func (a *stateAgg) grow(n int) {
	for len(a.states) < n {
		a.states = append(a.states, a.fresh())
		a.slot = append(a.slot, -1)
	}
}

func (a *stateAgg) update(args []Column, rows int, gids, sel []int32) {
	var col Column
	if len(args) > 0 {
		col = args[0]
	}
	if gids == nil {
		a.updateOne(0, col, rows, sel)
		return
	}
	a.touched, a.offsets = a.touched[:0], a.offsets[:0]
	count := func(i int, g int32) {
		k := a.slot[g]
		if k < 0 {
			k = int32(len(a.touched))
			a.slot[g] = k
			a.touched = append(a.touched, g)
			a.offsets = append(a.offsets, 0)
		}
		a.offsets[k]++
	}
	eachRow(rows, gids, sel, count)
	// offsets[k] becomes where group k's rows start in perm; filling moves it to where they end.
	var at int32
	for k, n := range a.offsets {
		a.offsets[k] = at
		at += n
	}
	a.perm = grown(a.perm[:0], int(at))
	eachRow(rows, gids, sel, func(i int, g int32) {
		k := a.slot[g]
		a.perm[a.offsets[k]] = int32(i)
		a.offsets[k]++
	})
	var start int32
	for k, g := range a.touched {
		end := a.offsets[k]
		a.updateOne(g, col, rows, a.perm[start:end])
		start = end
		a.slot[g] = -1
	}
}

func (a *stateAgg) updateOne(g int32, col Column, rows int, sel []int32) {
	s := a.states[g]
	if !a.sized {
		s.update(col, rows, sel)
		return
	}
	before := s.(sizedState).size()
	s.update(col, rows, sel)
	a.bytes += s.(sizedState).size() - before
}

func (a *stateAgg) results(lo, hi int) []Column {
	b := builderFor(newColumn(a.typ, hi-lo))
	for _, s := range a.states[lo:hi] {
		b.appendValue(s.result())
	}
	return []Column{b.column()}
}

func (a *stateAgg) footprint() int64 {
	return int64(len(a.states))*(a.base+4) + a.bytes + int64(cap(a.perm))*4
}

// valueStore holds one value per group of a column of one type: the rows arg_max and take_any
// pick, and the keys of a composite group key.
type valueStore interface {
	// grow makes room for groups [0, n), the new ones null.
	grow(n int)
	// set makes group g's value row i of src, a plain vector of the store's type.
	set(g int32, src Column, i int)
	// column returns the values of groups [lo, hi), sharing the store's storage.
	column(lo, hi int) Column
	footprint() int64
}

type vectorStore[T any] struct {
	typ   kusto.Type
	data  []T
	nulls []bool // nil for strings, which are never null
	bytes int64
	cost  func(T) int64 // a value's cost beyond its element; nil for fixed-size types
}

func (s *vectorStore[T]) grow(n int) {
	at := len(s.data)
	s.data = grown(s.data, n)
	if s.typ != kusto.TypeString {
		s.nulls = grown(s.nulls, n)
		for i := at; i < n; i++ {
			s.nulls[i] = true
		}
	}
}

func (s *vectorStore[T]) set(g int32, src Column, i int) {
	v := src.(*Vector[T])
	var x T
	null := v.Nulls != nil && v.Nulls[i]
	if !null {
		x = v.Data[i]
	}
	if s.cost != nil {
		s.bytes += s.cost(x) - s.cost(s.data[g])
	}
	s.data[g] = x
	if s.nulls != nil {
		s.nulls[g] = null
	}
}

func (s *vectorStore[T]) column(lo, hi int) Column {
	out := &Vector[T]{typ: s.typ, Data: s.data[lo:hi:hi]}
	if s.nulls != nil && slices.Contains(s.nulls[lo:hi], true) {
		out.Nulls = s.nulls[lo:hi:hi]
	}
	return out
}

func (s *vectorStore[T]) footprint() int64 {
	return int64(cap(s.data))*sizeOf[T]() + int64(cap(s.nulls)) + s.bytes
}

func newValueStore(t kusto.Type) valueStore {
	switch t {
	case kusto.TypeBool:
		return &vectorStore[bool]{typ: t}
	case kusto.TypeInt:
		return &vectorStore[int32]{typ: t}
	case kusto.TypeLong:
		return &vectorStore[int64]{typ: t}
	case kusto.TypeReal:
		return &vectorStore[float64]{typ: t}
	case kusto.TypeString:
		return &vectorStore[string]{typ: t, cost: stringCost}
	case kusto.TypeDateTime:
		return &vectorStore[kusto.DateTime]{typ: t}
	case kusto.TypeTimespan:
		return &vectorStore[kusto.Timespan]{typ: t}
	case kusto.TypeGUID:
		return &vectorStore[uuid.UUID]{typ: t}
	}
	return &vectorStore[any]{typ: kusto.TypeDynamic, cost: dynamicCost}
}

func storesFor(types []kusto.Type) []valueStore {
	out := make([]valueStore, len(types))
	for i, t := range types {
		out[i] = newValueStore(t)
	}
	return out
}

func storesFootprint(stores []valueStore) int64 {
	var n int64
	for _, s := range stores {
		n += s.footprint()
	}
	return n
}

// rowAgg is arg_max or arg_min: per group, the best value of the first argument so far, and the
// other arguments' values in the row it came from. A row whose first argument is null is taken
// only while the group has no other.
type rowAgg[T cmp.Ordered] struct {
	typ     kusto.Type
	largest bool
	best    []T
	state   []uint8 // 0: no row yet; 1: a row whose key is null; 2: a row with a key
	stores  []valueStore
	bytes   int64
	cost    func(T) int64
}

func (a *rowAgg[T]) grow(n int) {
	a.best, a.state = grown(a.best, n), grown(a.state, n)
	for _, s := range a.stores {
		s.grow(n)
	}
}

func (a *rowAgg[T]) update(args []Column, rows int, gids, sel []int32) {
	key := args[0].(*Vector[T])
	take := func(g int32, i int, state uint8, x T) {
		if a.cost != nil {
			a.bytes += a.cost(x) - a.cost(a.best[g])
		}
		a.best[g], a.state[g] = x, state
		for k, s := range a.stores {
			s.set(g, args[k+1], i)
		}
	}
	eachRow(rows, gids, sel, func(i int, g int32) {
		if key.Nulls != nil && key.Nulls[i] {
			if a.state[g] == 0 {
				var zero T
				take(g, i, 1, zero)
			}
			return
		}
		x := key.Data[i]
		if a.state[g] < 2 || a.largest && cmp.Less(a.best[g], x) || !a.largest && cmp.Less(x, a.best[g]) {
			take(g, i, 2, x)
		}
	})
}

func (a *rowAgg[T]) results(lo, hi int) []Column {
	key := &Vector[T]{typ: a.typ, Data: a.best[lo:hi:hi]}
	if a.typ != kusto.TypeString && slices.ContainsFunc(a.state[lo:hi], func(s uint8) bool { return s != 2 }) {
		key.Nulls = make([]bool, hi-lo)
		for i, s := range a.state[lo:hi] {
			key.Nulls[i] = s != 2
		}
	}
	out := []Column{key}
	for _, s := range a.stores {
		out = append(out, s.column(lo, hi))
	}
	return out
}

func (a *rowAgg[T]) footprint() int64 {
	return int64(cap(a.best))*sizeOf[T]() + int64(cap(a.state)) + a.bytes + storesFootprint(a.stores)
}

// newRowAgg returns arg_max (largest) or arg_min over a key of type t, returning columns of the
// given types.
func newRowAgg(t kusto.Type, largest bool, returned []kusto.Type) groupedAgg {
	stores := storesFor(returned)
	switch t {
	case kusto.TypeInt:
		return &rowAgg[int32]{typ: t, largest: largest, stores: stores}
	case kusto.TypeLong:
		return &rowAgg[int64]{typ: t, largest: largest, stores: stores}
	case kusto.TypeReal:
		return &rowAgg[float64]{typ: t, largest: largest, stores: stores}
	case kusto.TypeString:
		return &rowAgg[string]{typ: t, largest: largest, stores: stores, cost: stringCost}
	case kusto.TypeDateTime:
		return &rowAgg[kusto.DateTime]{typ: t, largest: largest, stores: stores}
	default:
		return &rowAgg[kusto.Timespan]{typ: t, largest: largest, stores: stores}
	}
}

// anyAgg is take_any: per group, the arguments' values in one row, the first that comes. With a
// single argument it keeps looking while the value it has is null or empty, as the docs say.
type anyAgg struct {
	stores []valueStore
	chosen []uint8 // 0: no row yet; 1: a row whose one value is null or empty; 2: settled
}

func (a *anyAgg) grow(n int) {
	a.chosen = grown(a.chosen, n)
	for _, s := range a.stores {
		s.grow(n)
	}
}

func (a *anyAgg) update(args []Column, rows int, gids, sel []int32) {
	single := len(args) == 1
	eachRow(rows, gids, sel, func(i int, g int32) {
		switch a.chosen[g] {
		case 2:
			return
		case 1:
			if isEmptyAt(args[0], i) {
				return
			}
		}
		for k, s := range a.stores {
			s.set(g, args[k], i)
		}
		a.chosen[g] = 2
		if single && isEmptyAt(args[0], i) {
			a.chosen[g] = 1
		}
	})
}

// isEmptyAt reports whether row i of col is null or an empty string.
func isEmptyAt(col Column, i int) bool {
	if s, ok := col.(*Vector[string]); ok {
		return s.Data[i] == ""
	}
	return col.IsNull(i)
}

func (a *anyAgg) results(lo, hi int) []Column {
	var out []Column
	for _, s := range a.stores {
		out = append(out, s.column(lo, hi))
	}
	return out
}

func (a *anyAgg) footprint() int64 { return int64(cap(a.chosen)) + storesFootprint(a.stores) }
