package engine

import (
	"maps"
	"slices"

	"github.com/kustard/kustard/kusto"
)

// make_bag() and make_bag_if(), after query/make-bag-aggregation-function.md and
// make-bag-if-aggregation-function.md: the properties of the group's property bags, in one bag.
// Values that are not bags (arrays, strings, numbers in a dynamic) are skipped, as the docs say;
// so are nulls. "If a key appears in more than one row, an arbitrary value … is selected":
// Kustard keeps the first it meets, so that a query's answer does not change from run to run.
// maxSize bounds the number of keys.

func init() {
	bag := &typeSet{name: "dynamic", desc: "a dynamic property bag", types: []kusto.Type{kusto.TypeDynamic}}
	dynamic := func(kusto.Type) kusto.Type { return kusto.TypeDynamic }
	state := func(_ kusto.Type, limit int) aggState { return &bagState{limit: limit} }
	for _, a := range []*aggregateFunc{
		{name: "make_bag", prefix: "bag", usage: "make_bag(bag[, maxSize])",
			summary: "A dynamic property bag of the properties of the bags of expr, of at most maxSize (default 1048576) keys; values that are not bags are skipped, and a key's first value is kept.",
			param:   bag, limit: true, result: dynamic, state: state},
		{name: "make_bag_if", prefix: "bag", usage: "make_bag_if(bag, predicate[, maxSize])",
			summary: "make_bag() over the rows for which predicate is true.",
			param:   bag, predicate: true, limit: true, result: dynamic, state: state},
	} {
		aggregates[a.name] = a
	}
}

type bagState struct {
	bag   map[string]any
	limit int
	bytes int64
}

func (s *bagState) update(col Column, rows int, sel []int32) {
	each := func(i int) {
		m, ok := col.Value(i).(map[string]any)
		if !ok {
			return
		}
		keys := maps.Keys(m)
		if len(s.bag)+len(m) > s.limit {
			keys = slices.Values(slices.Sorted(keys)) // which keys fit does not depend on map order
		}
		for k := range keys {
			v := m[k]
			if len(s.bag) >= s.limit {
				return
			}
			if _, dup := s.bag[k]; dup {
				continue
			}
			if s.bag == nil {
				s.bag = map[string]any{}
			}
			s.bag[k] = v
			s.bytes += mapEntry + stringHeader + int64(len(k)) + dynamicCost(v)
		}
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

func (s *bagState) merge(o aggState) {
	p := o.(*bagState)
	for k, v := range p.bag {
		if len(s.bag) >= s.limit {
			return
		}
		if _, dup := s.bag[k]; !dup {
			if s.bag == nil {
				s.bag = map[string]any{}
			}
			s.bag[k] = v
			s.bytes += mapEntry + stringHeader + int64(len(k)) + dynamicCost(v)
		}
	}
}

func (s *bagState) result() any {
	if s.bag == nil {
		return map[string]any{}
	}
	return s.bag
}

func (s *bagState) size() int64 { return s.bytes }
