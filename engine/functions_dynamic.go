package engine

import (
	"maps"
	"slices"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Dynamic functions: values held as JSON-like trees.

func init() {
	todynamic := func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return convert(args[0], kusto.TypeDynamic), nil
	}
	declare(
		&function{name: "todynamic", usage: "todynamic(value)", summary: "Its argument as a dynamic: a string is parsed as JSON, and kept as a string if it is not JSON.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeDynamic), build: todynamic}}},
		&function{name: "parse_json", usage: "parse_json(string)", summary: "A string parsed as JSON, as a dynamic; a string that is not JSON stays a string.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeDynamic), build: todynamic}}},
		&function{name: "array_length", usage: "array_length(array)", summary: "The number of elements of a dynamic array; null if it is not an array.",
			overload: []overload{{params: []typeSet{tDynamic}, result: returns(kusto.TypeLong), build: buildArrayLength}}},
		&function{name: "array_concat", usage: "array_concat(array1, array2, …)", summary: "The elements of dynamic arrays, one after another; null if an argument is not an array.",
			overload: []overload{{params: []typeSet{tDynamic}, variadic: true, result: returns(kusto.TypeDynamic), build: arraysBuild(concatArrays)}}},
		&function{name: "array_slice", usage: "array_slice(array, start, end)",
			summary:  "The elements of a dynamic array from start to end, both included; negative indices count from the end.",
			overload: []overload{{params: []typeSet{tDynamic, tLong, tLong}, result: returns(kusto.TypeDynamic), build: buildArraySlice}}},
		&function{name: "array_index_of", usage: "array_index_of(array, value)", summary: "The index of the first element of a dynamic array equal to value; -1 if there is none, null if it is not an array.",
			overload: []overload{{params: []typeSet{tDynamic, tAny}, result: returns(kusto.TypeLong), build: buildArrayIndexOf}}},
		&function{name: "set_union", usage: "set_union(array1, array2, …)", summary: "The distinct elements of dynamic arrays, in the order they first appear.",
			overload: []overload{{params: []typeSet{tDynamic, tDynamic}, variadic: true, result: returns(kusto.TypeDynamic), build: arraysBuild(setUnion)}}},
		&function{name: "set_intersect", usage: "set_intersect(array1, array2, …)", summary: "The distinct elements that every one of dynamic arrays has, in the first's order.",
			overload: []overload{{params: []typeSet{tDynamic, tDynamic}, variadic: true, result: returns(kusto.TypeDynamic), build: arraysBuild(setIntersect)}}},
		&function{name: "bag_keys", usage: "bag_keys(bag)", summary: "The keys of a dynamic property bag, as an array in key order; null if it is not a bag.",
			overload: []overload{{params: []typeSet{tDynamic}, result: returns(kusto.TypeDynamic), build: buildBagKeys}}},
		&function{name: "bag_merge", usage: "bag_merge(bag1, bag2, …)", summary: "The properties of dynamic property bags; where bags share a key, the first's value is kept.",
			overload: []overload{{params: []typeSet{tDynamic, tDynamic}, variadic: true, result: returns(kusto.TypeDynamic), build: buildBagMerge}}},
		pack, alias("pack", pack),
		&function{name: "pack_array", usage: "pack_array(value1, value2, …)", summary: "Its arguments as a dynamic array.",
			overload: []overload{{params: []typeSet{tAny}, variadic: true, result: returns(kusto.TypeDynamic), build: buildPackArray}}},
		&function{name: "zip", usage: "zip(array1, array2, …)", summary: "The i-th elements of dynamic arrays together, as an array of arrays, the shorter padded with nulls.",
			overload: []overload{{params: []typeSet{tDynamic, tDynamic}, variadic: true, result: returns(kusto.TypeDynamic), build: arraysBuild(zipArrays)}}},
	)
}

var tDynamic = exactly(kusto.TypeDynamic)

var pack = &function{name: "bag_pack", usage: "bag_pack(key1, value1, key2, value2, …)", summary: "A dynamic property bag of the given keys and values.",
	overload: []overload{{params: []typeSet{tAny, tAny}, variadic: true, result: returns(kusto.TypeDynamic), build: buildBagPack}}}

func buildArrayLength(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return convNode(kusto.TypeLong, args[0], func(v any) (int64, bool) {
		a, ok := v.([]any)
		return int64(len(a)), ok
	}), nil
}

// arraysBuild applies f to the rows' arrays; a row where an argument is not an array is null.
func arraysBuild(f func(arrays [][]any) []any) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return boxedNode(kusto.TypeDynamic, args, func(v []any) (any, bool) {
			arrays := make([][]any, len(v))
			for i, x := range v {
				a, ok := x.([]any)
				if !ok {
					return nil, false
				}
				arrays[i] = a
			}
			return f(arrays), true
		}), nil
	}
}

func concatArrays(arrays [][]any) []any {
	out := []any{}
	for _, a := range arrays {
		out = append(out, a...)
	}
	return out
}

// dynamicKey identifies a dynamic value for set operations: by its JSON, so 1 and "1" differ.
func dynamicKey(v any) string { return string(kusto.DynamicJSON(v)) }

func setUnion(arrays [][]any) []any {
	seen := map[string]bool{}
	out := []any{}
	for _, a := range arrays {
		for _, x := range a {
			if k := dynamicKey(x); !seen[k] {
				seen[k] = true
				out = append(out, x)
			}
		}
	}
	return out
}

func setIntersect(arrays [][]any) []any {
	out := []any{}
	for _, x := range setUnion(arrays[:1]) {
		k, all := dynamicKey(x), true
		for _, a := range arrays[1:] {
			if !slices.ContainsFunc(a, func(y any) bool { return dynamicKey(y) == k }) {
				all = false
				break
			}
		}
		if all {
			out = append(out, x)
		}
	}
	return out
}

func zipArrays(arrays [][]any) []any {
	n := 0
	for _, a := range arrays {
		n = max(n, len(a))
	}
	out := make([]any, n)
	for i := range out {
		row := make([]any, len(arrays))
		for k, a := range arrays {
			if i < len(a) {
				row[k] = a[i]
			}
		}
		out[i] = row
	}
	return out
}

func buildArraySlice(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return map3Node(kusto.TypeDynamic, args[0], args[1], args[2], func(v any, start, end int64) (any, bool) {
		a, ok := v.([]any)
		if !ok {
			return nil, false
		}
		n := int64(len(a))
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		start, end = max(start, 0), min(end, n-1)
		if start > end {
			return []any{}, true
		}
		return slices.Clone(a[start : end+1]), true
	}), nil
}

func buildArrayIndexOf(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeLong, args, func(v []any) (int64, bool) {
		a, ok := v[0].([]any)
		if !ok {
			return 0, false
		}
		k := dynamicKey(dynamicOf(v[1]))
		for i, x := range a {
			if dynamicKey(x) == k {
				return int64(i), true
			}
		}
		return -1, true
	}), nil
}

func buildBagKeys(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return convNode(kusto.TypeDynamic, args[0], func(v any) (any, bool) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		keys := slices.Sorted(maps.Keys(m))
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, true
	}), nil
}

func buildBagMerge(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeDynamic, args, func(v []any) (any, bool) {
		out := map[string]any{}
		for _, x := range v {
			m, _ := x.(map[string]any) // a value that is not a bag adds nothing
			for k, val := range m {
				if _, dup := out[k]; !dup {
					out[k] = val
				}
			}
		}
		return out, true
	}), nil
}

func buildBagPack(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if len(args)%2 != 0 {
		return nil, sc.c.errorf(call.At, kusto.KindSemantic, "%s takes pairs of keys and values, not %d arguments", call.Func, len(args))
	}
	for i := 0; i < len(args); i += 2 {
		if args[i].typ != kusto.TypeString {
			return nil, sc.c.errorf(call.Args[i].Offset(), kusto.KindSemantic, "%s: argument %d, a key, must be a string, not %s", call.Func, i+1, args[i].typ)
		}
	}
	return boxedNode(kusto.TypeDynamic, args, func(v []any) (any, bool) {
		out := make(map[string]any, len(v)/2)
		for i := 0; i < len(v); i += 2 {
			out[v[i].(string)] = dynamicOf(v[i+1])
		}
		return out, true
	}), nil
}

func buildPackArray(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeDynamic, args, func(v []any) (any, bool) {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = dynamicOf(x)
		}
		return out, true
	}), nil
}

// toDynamic converts a scalar expression to dynamic.
func toDynamic(x *compiled) *compiled {
	d := kusto.TypeDynamic
	switch x.typ {
	case kusto.TypeBool:
		return convNode(d, x, boxed[bool])
	case kusto.TypeInt:
		return convNode(d, x, func(v int32) (any, bool) { return int64(v), true })
	case kusto.TypeLong:
		return convNode(d, x, boxed[int64])
	case kusto.TypeReal:
		return convNode(d, x, boxed[float64])
	case kusto.TypeString:
		return convNode(d, x, func(s string) (any, bool) { return convertValue(s, d), true })
	case kusto.TypeDateTime:
		return convNode(d, x, func(v kusto.DateTime) (any, bool) { return v.String(), true })
	case kusto.TypeTimespan:
		return convNode(d, x, func(v kusto.Timespan) (any, bool) { return v.String(), true })
	case kusto.TypeGUID:
		return convNode(d, x, func(v uuid.UUID) (any, bool) { return v.String(), true })
	}
	return nil
}

func boxed[T any](v T) (any, bool) { return v, true }

// dynamicOf converts a scalar to the value a dynamic holds.
func dynamicOf(v any) any {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case kusto.DateTime, kusto.Timespan, uuid.UUID:
		return kusto.FormatValue(v)
	}
	return v
}
