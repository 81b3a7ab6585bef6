package engine

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The aggregate registry, for summarize: each aggregation function is declared once (name, the
// arguments it takes, result type, summary, the name its column gets) with the constructors of
// its state. Nulls are ignored, as in Kusto; an aggregate over no values gives the default the
// summarize docs list (0 for the counts, sums, variances and deviations, an empty array for the
// lists and sets, NaN for a real mean, null for the rest).
//
// An aggregate has up to two implementations. Every one has a per-group state (aggState), which
// takes a batch's column at a time and merges with another state. The common ones also have a
// grouped form (groupedAgg, grouped.go) that holds the states of all a summarize's groups in
// typed arrays and updates them from a vector of group indexes, one tight loop per batch; the
// others run on states, one per group, through stateAgg.

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

// sizedState is a state whose memory grows with what it holds (lists, sets, strings): size is
// what it holds now, in bytes beyond the state itself.
type sizedState interface {
	size() int64
}

// aggKind says how an aggregate's arguments and results are laid out.
type aggKind uint8

const (
	aggValue       aggKind = iota // at most one value argument and one result: sum(x), count()
	aggRow                        // arg_max, arg_min: an orderable expression, then expressions or *
	aggAny                        // take_any: expressions or *, all from one row of the group
	aggPercentiles                // percentile, percentiles, percentiles_array: a value and constant percentiles
)

type aggregateFunc struct {
	name    string
	usage   string
	summary string
	kind    aggKind
	// prefix names the result column of an unnamed call: prefix_x for a first argument x
	// (prefix_ when it is not a column); the function's name when empty.
	prefix string
	param  *typeSet // the value argument; nil for none, as count() and countif() take
	// optionalValue: the value argument may be left out. count() and count(x) both count rows,
	// nulls included, as summarize-operator.md's example shows ("The standard count function
	// includes null values in its count").
	optionalValue bool
	predicate     bool // a bool predicate follows the value (or is the only argument, countif)
	limit         bool // an optional constant maximum number of elements comes last (make_list)
	accuracy      bool // an optional constant accuracy level comes last, accepted and ignored (dcount)
	largest       bool // arg_max rather than arg_min
	// result returns the result type for a value argument of type t (TypeUnknown for none).
	result func(t kusto.Type) kusto.Type
	// state returns a new, empty state for a value argument of type t; limit is the maximum
	// size given (or the default). Nil for the row aggregates, which are grouped only.
	state func(t kusto.Type, limit int) aggState
	// grouped returns the grouped form for a value argument of type t; nil to run on states.
	grouped func(t kusto.Type, limit int) groupedAgg
}

// maxListSize is the default and the largest maximum size of make_list() and make_set(), from
// their docs.
const maxListSize = 1048576

var aggregates = map[string]*aggregateFunc{}

// unsupportedAggregates are Kusto aggregation functions Kustard does not implement; a call names
// them rather than calling them unknown.
var unsupportedAggregates = wordSet(`binary_all_and binary_all_or binary_all_xor buildschema hll
	hll_if hll_merge make_dictionary percentilew percentilesw percentilesw_array tdigest tdigest_merge merge_tdigest`)

func init() {
	numeric := typeSet{name: "number", desc: "a number or a timespan", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeTimespan}}
	averageable := typeSet{name: "number", desc: "a number, a timespan or a datetime", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeTimespan, kusto.TypeDateTime}}
	reals := typeSet{name: "number", desc: "a number", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal}}
	long := func(kusto.Type) kusto.Type { return kusto.TypeLong }
	same := func(t kusto.Type) kusto.Type { return t }
	dynamic := func(kusto.Type) kusto.Type { return kusto.TypeDynamic }
	realType := func(kusto.Type) kusto.Type { return kusto.TypeReal }
	count := func(kusto.Type, int) aggState { return &countState{} }
	countGrouped := func(kusto.Type, int) groupedAgg { return &countAgg{} }
	extreme := func(largest bool) (func(kusto.Type, int) aggState, func(kusto.Type, int) groupedAgg) {
		return func(t kusto.Type, _ int) aggState { return newExtreme(t, largest) },
			func(t kusto.Type, _ int) groupedAgg { return newExtremeAgg(t, largest) }
	}
	minState, minGrouped := extreme(false)
	maxState, maxGrouped := extreme(true)
	spread := func(sample, root bool) (func(kusto.Type, int) aggState, func(kusto.Type, int) groupedAgg) {
		return func(t kusto.Type, _ int) aggState { return newSpread(t, sample, root) },
			func(t kusto.Type, _ int) groupedAgg { return newSpreadAgg(t, sample, root) }
	}
	stdevState, stdevGrouped := spread(true, true)
	stdevpState, stdevpGrouped := spread(false, true)
	varState, varGrouped := spread(true, false)
	varpState, varpGrouped := spread(false, false)
	dcount := func(t kusto.Type, _ int) aggState { return newDcount(t) }
	list := func(t kusto.Type, limit int) aggState { return &listState{limit: limit} }
	listNulls := func(t kusto.Type, limit int) aggState { return &listState{limit: limit, nulls: true} }
	set := func(t kusto.Type, limit int) aggState { return &setState{limit: limit, seen: map[any]struct{}{}} }
	sum := func(t kusto.Type, _ int) aggState { return newSum(t) }
	sumGrouped := func(t kusto.Type, _ int) groupedAgg { return newSumAgg(t) }
	avg := func(t kusto.Type, _ int) aggState { return newAvg(t) }
	avgGrouped := func(t kusto.Type, _ int) groupedAgg { return newAvgAgg(t) }

	for _, a := range []*aggregateFunc{
		{name: "count", usage: "count()", summary: "The number of rows (count(x) counts them too, nulls included, as the summarize docs show).",
			param: &tAny, optionalValue: true, result: long, state: count, grouped: countGrouped},
		{name: "countif", usage: "countif(predicate)", summary: "The number of rows for which predicate is true.",
			predicate: true, result: long, state: count, grouped: countGrouped},
		{name: "sum", usage: "sum(expr)", summary: "The sum of expr; long for ints and longs, 0 if there are no values.",
			param: &numeric, result: sumType, state: sum, grouped: sumGrouped},
		{name: "sumif", usage: "sumif(expr, predicate)", summary: "The sum of expr over the rows for which predicate is true.",
			param: &numeric, predicate: true, result: sumType, state: sum, grouped: sumGrouped},
		{name: "avg", usage: "avg(expr)", summary: "The mean of expr: a real (NaN if there are no values), or a timespan or datetime for those.",
			param: &averageable, result: avgTypeOf, state: avg, grouped: avgGrouped},
		{name: "avgif", usage: "avgif(expr, predicate)", summary: "The mean of expr over the rows for which predicate is true.",
			param: &averageable, predicate: true, result: avgTypeOf, state: avg, grouped: avgGrouped},
		{name: "min", usage: "min(expr)", summary: "The smallest value of expr.",
			param: &tOrdered, result: same, state: minState, grouped: minGrouped},
		{name: "minif", usage: "minif(expr, predicate)", summary: "The smallest value of expr over the rows for which predicate is true.",
			param: &tOrdered, predicate: true, result: same, state: minState, grouped: minGrouped},
		{name: "max", usage: "max(expr)", summary: "The largest value of expr.",
			param: &tOrdered, result: same, state: maxState, grouped: maxGrouped},
		{name: "maxif", usage: "maxif(expr, predicate)", summary: "The largest value of expr over the rows for which predicate is true.",
			param: &tOrdered, predicate: true, result: same, state: maxState, grouped: maxGrouped},
		{name: "dcount", usage: "dcount(expr[, accuracy])", summary: "The number of distinct values of expr, counted exactly (Kusto estimates it; accuracy is accepted and ignored).",
			param: &tAny, accuracy: true, result: long, state: dcount},
		{name: "dcountif", usage: "dcountif(expr, predicate[, accuracy])", summary: "The number of distinct values of expr over the rows for which predicate is true, counted exactly.",
			param: &tAny, predicate: true, accuracy: true, result: long, state: dcount},
		{name: "count_distinct", usage: "count_distinct(expr)", summary: "The number of distinct values of expr.",
			param: &tAny, result: long, state: dcount},
		{name: "count_distinctif", usage: "count_distinctif(expr, predicate)", summary: "The number of distinct values of expr over the rows for which predicate is true.",
			param: &tAny, predicate: true, result: long, state: dcount},
		{name: "make_list", prefix: "list", usage: "make_list(expr[, maxSize])", summary: "A dynamic array of the values of expr, in the order of the input, of at most maxSize (default 1048576) elements.",
			param: &tAny, limit: true, result: dynamic, state: list},
		{name: "make_list_if", prefix: "list", usage: "make_list_if(expr, predicate[, maxSize])", summary: "A dynamic array of the values of expr over the rows for which predicate is true.",
			param: &tAny, predicate: true, limit: true, result: dynamic, state: list},
		{name: "make_list_with_nulls", prefix: "list", usage: "make_list_with_nulls(expr)", summary: "A dynamic array of the values of expr, nulls included.",
			param: &tAny, result: dynamic, state: listNulls},
		{name: "make_set", prefix: "set", usage: "make_set(expr[, maxSize])", summary: "A dynamic array of the distinct values of expr (the elements of an array value), of at most maxSize (default 1048576).",
			param: &tAny, limit: true, result: dynamic, state: set},
		{name: "make_set_if", prefix: "set", usage: "make_set_if(expr, predicate[, maxSize])", summary: "A dynamic array of the distinct values of expr over the rows for which predicate is true.",
			param: &tAny, predicate: true, limit: true, result: dynamic, state: set},
		{name: "stdev", usage: "stdev(expr)", summary: "The standard deviation of expr as a sample (Bessel's correction); 0 for fewer than two values.",
			param: &reals, result: realType, state: stdevState, grouped: stdevGrouped},
		{name: "stdevif", usage: "stdevif(expr, predicate)", summary: "stdev() over the rows for which predicate is true.",
			param: &reals, predicate: true, result: realType, state: stdevState, grouped: stdevGrouped},
		{name: "stdevp", usage: "stdevp(expr)", summary: "The standard deviation of expr as a population.",
			param: &reals, result: realType, state: stdevpState, grouped: stdevpGrouped},
		{name: "variance", usage: "variance(expr)", summary: "The variance of expr as a sample; 0 for fewer than two values.",
			param: &reals, result: realType, state: varState, grouped: varGrouped},
		{name: "varianceif", usage: "varianceif(expr, predicate)", summary: "variance() over the rows for which predicate is true.",
			param: &reals, predicate: true, result: realType, state: varState, grouped: varGrouped},
		{name: "variancep", usage: "variancep(expr)", summary: "The variance of expr as a population.",
			param: &reals, result: realType, state: varpState, grouped: varpGrouped},
		{name: "take_any", usage: "take_any(expr, …) or take_any(*)", summary: "The values of the expressions (or of every column but the group keys, for *) in one row of the group; for one column, a row where it is not null or empty, if there is one.",
			kind: aggAny},
		{name: "take_anyif", usage: "take_anyif(expr, predicate)", summary: "take_any(expr) over the rows for which predicate is true; null if there are none.",
			kind: aggAny, predicate: true},
		{name: "any", prefix: "any", usage: "any(expr, …) or any(*)", summary: "The deprecated name of take_any(); its columns are named any_x.",
			kind: aggAny},
		{name: "arg_max", prefix: "max", usage: "arg_max(expr, * | returned, …)", summary: "The row of the group where expr is largest: expr, and the returned expressions (or every column but the group keys, for *). Null keys lose, unless they are all there is.",
			kind: aggRow, param: &tOrdered, largest: true},
		{name: "arg_min", prefix: "min", usage: "arg_min(expr, * | returned, …)", summary: "The row of the group where expr is smallest, as arg_max() finds the largest.",
			kind: aggRow, param: &tOrdered},
	} {
		if a.prefix == "" {
			a.prefix = a.name
		}
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

// countState counts rows; countif's predicate has selected them already.
type countState struct{ n int64 }

func (s *countState) update(col Column, rows int, sel []int32) {
	if sel != nil {
		rows = len(sel)
	}
	s.n += int64(rows)
}

func (s *countState) merge(o aggState) { s.n += o.(*countState).n }
func (s *countState) result() any      { return s.n }

func sumType(t kusto.Type) kusto.Type {
	if t == kusto.TypeInt {
		return kusto.TypeLong
	}
	return t
}

// sumState sums values of Go type T into an R; an empty sum is 0, as the summarize docs list.
type sumState[T, R number] struct{ sum R }

func (s *sumState[T, R]) update(col Column, rows int, sel []int32) {
	v := vectorOf[T](col)
	if sel == nil && v.Nulls == nil { // the common case: a plain loop
		for _, x := range v.Data {
			s.sum += R(x)
		}
		return
	}
	forRows(v, sel, func(x T) { s.sum += R(x) })
}

func (s *sumState[T, R]) merge(o aggState) { s.sum += o.(*sumState[T, R]).sum }
func (s *sumState[T, R]) result() any      { return s.sum }

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

// avgState keeps a sum and a count. The mean of no values is NaN, as the summarize docs show
// for a real; for a timespan or a datetime, which have no NaN, it is null.
type avgState[T number] struct {
	sum float64
	n   int64
	typ kusto.Type // the result's type
}

func (s *avgState[T]) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[T](col), sel, func(x T) { s.sum, s.n = s.sum+float64(x), s.n+1 })
}

func (s *avgState[T]) merge(o aggState) {
	p := o.(*avgState[T])
	s.sum, s.n = s.sum+p.sum, s.n+p.n
}

func (s *avgState[T]) result() any { return meanValue(s.typ, s.sum, s.n) }

// meanValue is sum/n as a value of the mean's type t.
func meanValue(t kusto.Type, sum float64, n int64) any {
	switch {
	case t == kusto.TypeReal:
		return sum / float64(n) // NaN for no values
	case n == 0:
		return nil
	case t == kusto.TypeTimespan:
		return kusto.Timespan(math.Round(sum / float64(n)))
	default:
		return kusto.DateTime(math.Round(sum / float64(n)))
	}
}

func newAvg(t kusto.Type) aggState {
	r := avgTypeOf(t)
	switch t {
	case kusto.TypeInt:
		return &avgState[int32]{typ: r}
	case kusto.TypeLong:
		return &avgState[int64]{typ: r}
	case kusto.TypeTimespan:
		return &avgState[kusto.Timespan]{typ: r}
	case kusto.TypeDateTime:
		return &avgState[kusto.DateTime]{typ: r}
	default:
		return &avgState[float64]{typ: r}
	}
}

func avgTypeOf(t kusto.Type) kusto.Type {
	if t == kusto.TypeTimespan || t == kusto.TypeDateTime {
		return t
	}
	return kusto.TypeReal
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

// spreadState is variance or standard deviation, by Welford's method: the count, the mean and
// the sum of squared distances from it.
type spreadState[T number] struct {
	n        int64
	mean, m2 float64
	sample   bool // divide by n-1 (Bessel's correction), not n
	root     bool // the standard deviation, not the variance
}

func (s *spreadState[T]) add(x T) {
	s.n++
	d := float64(x) - s.mean
	s.mean += d / float64(s.n)
	s.m2 += d * (float64(x) - s.mean)
}

func (s *spreadState[T]) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[T](col), sel, s.add)
}

func (s *spreadState[T]) merge(o aggState) {
	p := o.(*spreadState[T])
	s.n, s.mean, s.m2 = mergeSpread(s.n, s.mean, s.m2, p.n, p.mean, p.m2)
}

// mergeSpread combines two Welford accumulators (Chan et al.'s parallel form).
func mergeSpread(n1 int64, mean1, m21 float64, n2 int64, mean2, m22 float64) (int64, float64, float64) {
	if n2 == 0 {
		return n1, mean1, m21
	}
	if n1 == 0 {
		return n2, mean2, m22
	}
	n := n1 + n2
	d := mean2 - mean1
	return n, mean1 + d*float64(n2)/float64(n), m21 + m22 + d*d*float64(n1)*float64(n2)/float64(n)
}

func (s *spreadState[T]) result() any { return spreadValue(s.n, s.m2, s.sample, s.root) }

// spreadValue is the variance or standard deviation of n values whose squared distances from
// their mean sum to m2; 0 when there are too few values, as the summarize docs list for none.
func spreadValue(n int64, m2 float64, sample, root bool) float64 {
	d := float64(n)
	if sample {
		d--
	}
	if d <= 0 {
		return 0
	}
	v := m2 / d
	if root {
		return math.Sqrt(v)
	}
	return v
}

func newSpread(t kusto.Type, sample, root bool) aggState {
	switch t {
	case kusto.TypeInt:
		return &spreadState[int32]{sample: sample, root: root}
	case kusto.TypeLong:
		return &spreadState[int64]{sample: sample, root: root}
	default:
		return &spreadState[float64]{sample: sample, root: root}
	}
}

// dcountState counts distinct non-null values exactly; a dynamic is keyed by its JSON text.
type dcountState[T comparable] struct {
	seen  map[T]struct{}
	bytes int64
	cost  func(T) int64
}

func (s *dcountState[T]) add(x T) {
	if _, ok := s.seen[x]; !ok {
		s.seen[x] = struct{}{}
		s.bytes += mapEntry + s.cost(x)
	}
}

func (s *dcountState[T]) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[T](col), sel, s.add)
}

func (s *dcountState[T]) merge(o aggState) {
	for k := range o.(*dcountState[T]).seen {
		s.add(k)
	}
}

func (s *dcountState[T]) result() any { return int64(len(s.seen)) }
func (s *dcountState[T]) size() int64 { return s.bytes }

type dynamicDcount struct{ dcountState[string] }

func (s *dynamicDcount) update(col Column, rows int, sel []int32) {
	forRows(vectorOf[any](col), sel, func(x any) {
		if x != nil {
			s.add(kusto.FormatDynamic(x))
		}
	})
}

func (s *dynamicDcount) merge(o aggState) { s.dcountState.merge(&o.(*dynamicDcount).dcountState) }

func newDcountOf[T comparable](cost func(T) int64) *dcountState[T] {
	if cost == nil {
		cost = func(T) int64 { return 0 }
	}
	return &dcountState[T]{seen: map[T]struct{}{}, cost: cost}
}

func stringCost(s string) int64 { return int64(len(s)) }

func newDcount(t kusto.Type) aggState {
	switch t {
	case kusto.TypeBool:
		return newDcountOf[bool](nil)
	case kusto.TypeInt:
		return newDcountOf[int32](nil)
	case kusto.TypeLong:
		return newDcountOf[int64](nil)
	case kusto.TypeReal:
		return newDcountOf[float64](nil)
	case kusto.TypeString:
		return newDcountOf(stringCost)
	case kusto.TypeDateTime:
		return newDcountOf[kusto.DateTime](nil)
	case kusto.TypeTimespan:
		return newDcountOf[kusto.Timespan](nil)
	case kusto.TypeGUID:
		return newDcountOf[uuid.UUID](nil)
	}
	return &dynamicDcount{*newDcountOf(stringCost)}
}

// listState is make_list: the values in the order they come, as the dynamic array holds them,
// up to limit of them. With nulls (make_list_with_nulls) a null is kept as a JSON null.
type listState struct {
	items []any
	limit int
	nulls bool
	bytes int64
}

func (s *listState) update(col Column, rows int, sel []int32) {
	each := func(i int) bool {
		if len(s.items) >= s.limit {
			return false
		}
		v := col.Value(i)
		if v == nil && !s.nulls {
			return true
		}
		v = dynamicOf(v)
		s.items = append(s.items, v)
		s.bytes += interfaceBox + dynamicCost(v)
		return true
	}
	if sel == nil {
		for i := range col.Len() {
			if !each(i) {
				return
			}
		}
		return
	}
	for _, i := range sel {
		if !each(int(i)) {
			return
		}
	}
}

func (s *listState) merge(o aggState) {
	for _, v := range o.(*listState).items {
		if len(s.items) >= s.limit {
			return
		}
		s.items = append(s.items, v)
		s.bytes += interfaceBox + dynamicCost(v)
	}
}

func (s *listState) result() any {
	if s.items == nil {
		return []any{}
	}
	return slices.Clip(s.items)
}

func (s *listState) size() int64 { return s.bytes }

// setState is make_set: the distinct values in the order they first come, up to limit of them.
// The elements of an array value are added one by one, as the make_set docs show.
type setState struct {
	items []any
	seen  map[any]struct{}
	limit int
	bytes int64
}

func (s *setState) add(v any) {
	if len(s.items) >= s.limit {
		return
	}
	key := v
	switch v.(type) {
	case []any, map[string]any: // not comparable: keyed by their JSON
		key = "\x00" + kusto.FormatDynamic(v)
	}
	if _, ok := s.seen[key]; ok {
		return
	}
	s.seen[key] = struct{}{}
	s.items = append(s.items, v)
	s.bytes += mapEntry + interfaceBox + 2*dynamicCost(v)
}

func (s *setState) update(col Column, rows int, sel []int32) {
	each := func(i int) {
		v := col.Value(i)
		if v == nil {
			return
		}
		if arr, ok := v.([]any); ok && col.Type() == kusto.TypeDynamic {
			for _, x := range arr {
				if x != nil {
					s.add(x)
				}
			}
			return
		}
		s.add(dynamicOf(v))
	}
	if sel == nil {
		for i := range col.Len() {
			each(i)
		}
		return
	}
	for _, i := range sel {
		each(int(i))
	}
}

func (s *setState) merge(o aggState) {
	for _, v := range o.(*setState).items {
		s.add(v)
	}
}

func (s *setState) result() any {
	if s.items == nil {
		return []any{}
	}
	return slices.Clip(s.items)
}

func (s *setState) size() int64 { return s.bytes }
