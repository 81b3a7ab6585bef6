package engine

import (
	"bytes"
	"cmp"
	"math"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Sort keys, shared by sort and top. The order is Kusto's (sort-operator.md): desc by default;
// nulls first for asc and last for desc unless said; a real's NaN goes with the nulls, on their
// inner side (nulls first: null, NaN, -inf, …; nulls last: …, +inf, NaN, null). Strings compare
// ordinally, byte by byte of their UTF-8 (the code-point order), guids in the order of their text.
// Rows with equal keys keep their input order: both operators are stable, so a result is the
// same from run to run.

type sortKey struct {
	e          *compiled
	expr       parser.Expr
	text       string
	desc       bool
	nullsFirst bool
	col        int // the input column the key is, or -1 for one computed
}

func (k sortKey) describe() string {
	order, nulls := "asc", "last"
	if k.desc {
		order = "desc"
	}
	if k.nullsFirst {
		nulls = "first"
	}
	return k.text + " " + order + " nulls " + nulls
}

func describeKeys(keys []sortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.describe()
	}
	return strings.Join(parts, ", ")
}

func (c *compiler) sortKeys(verb string, in Node, keys []*parser.SortKey) ([]sortKey, error) {
	sc := &scope{schema: in.Schema(), c: c}
	var out []sortKey
	for _, k := range keys {
		e, err := sc.compile(k.Expr.Tree)
		if err != nil {
			return nil, err
		}
		if e.typ == kusto.TypeDynamic {
			return nil, c.errorf(k.Expr.Pos.Offset, kusto.KindSemantic,
				"%s: the key %s is dynamic; Kusto sorts by numeric, date, time or string values: convert it, as in tostring(%s) or tolong(%s)",
				verb, parser.ExprString(k.Expr.Tree), parser.ExprString(k.Expr.Tree), parser.ExprString(k.Expr.Tree))
		}
		sk := sortKey{e: e, expr: k.Expr.Tree, text: parser.ExprString(k.Expr.Tree), desc: k.Order != "asc", col: -1}
		sk.nullsFirst = !sk.desc
		if k.Nulls != "" {
			sk.nullsFirst = k.Nulls == "first"
		}
		if col, ok := k.Expr.Tree.(*parser.ColumnExpr); ok {
			sk.col = in.Schema().Index(col.Name)
		}
		out = append(out, sk)
	}
	return out, nil
}

func markKeys(needed []bool, schema Schema, keys []sortKey) {
	for _, k := range keys {
		markColumns(needed, schema, k.expr)
	}
}

// Value classes, numbered in the nulls-first order; nulls last reverses them.
const (
	classNull = 0
	classNaN  = 1
	classVal  = 2
)

// comparator returns a function comparing rows a and b of column c by a key's order. The column
// is read through its typed vector: nothing is boxed per comparison.
func comparator(c Column, desc, nullsFirst bool) func(a, b int32) int {
	switch v := c.(type) {
	case *Vector[bool]:
		return orderedComparator(v, func(x bool) int {
			if x {
				return 1
			}
			return 0
		}, desc, nullsFirst)
	case *Vector[int32]:
		return orderedComparator(v, func(x int32) int32 { return x }, desc, nullsFirst)
	case *Vector[int64]:
		return orderedComparator(v, func(x int64) int64 { return x }, desc, nullsFirst)
	case *Vector[kusto.DateTime]:
		return orderedComparator(v, func(x kusto.DateTime) int64 { return int64(x) }, desc, nullsFirst)
	case *Vector[kusto.Timespan]:
		return orderedComparator(v, func(x kusto.Timespan) int64 { return int64(x) }, desc, nullsFirst)
	case *Vector[string]:
		return orderedComparator(v, func(x string) string { return x }, desc, nullsFirst)
	case *Vector[float64]:
		return realComparator(v, desc, nullsFirst)
	case *Vector[uuid.UUID]:
		data, nulls := v.Data, v.Nulls
		sign := direction(desc)
		return func(a, b int32) int {
			if nulls != nil && (nulls[a] || nulls[b]) {
				return classOrder(nullClass(nulls, a), nullClass(nulls, b), nullsFirst)
			}
			return sign * bytes.Compare(data[a][:], data[b][:])
		}
	}
	panic("engine: no sort comparator for " + c.Type().String())
}

func direction(desc bool) int {
	if desc {
		return -1
	}
	return 1
}

func nullClass(nulls []bool, i int32) int {
	if nulls != nil && nulls[i] {
		return classNull
	}
	return classVal
}

// classOrder compares two classes of value, of which at least one is not a plain value; two
// nulls (or two NaNs) are equal.
func classOrder(ca, cb int, nullsFirst bool) int {
	if nullsFirst {
		return cmp.Compare(ca, cb)
	}
	return cmp.Compare(cb, ca)
}

func orderedComparator[T any, K cmp.Ordered](v *Vector[T], key func(T) K, desc, nullsFirst bool) func(a, b int32) int {
	data, nulls := v.Data, v.Nulls
	switch {
	case nulls == nil && !desc:
		return func(a, b int32) int { return cmp.Compare(key(data[a]), key(data[b])) }
	case nulls == nil:
		return func(a, b int32) int { return cmp.Compare(key(data[b]), key(data[a])) }
	}
	sign := direction(desc)
	return func(a, b int32) int {
		if nulls[a] || nulls[b] {
			return classOrder(nullClass(nulls, a), nullClass(nulls, b), nullsFirst)
		}
		return sign * cmp.Compare(key(data[a]), key(data[b]))
	}
}

func realComparator(v *Vector[float64], desc, nullsFirst bool) func(a, b int32) int {
	data, nulls := v.Data, v.Nulls
	sign := direction(desc)
	realClass := func(i int32) int {
		switch {
		case nulls != nil && nulls[i]:
			return classNull
		case math.IsNaN(data[i]):
			return classNaN
		}
		return classVal
	}
	return func(a, b int32) int {
		ca, cb := realClass(a), realClass(b)
		if ca != classVal || cb != classVal {
			return classOrder(ca, cb, nullsFirst)
		}
		// cmp.Compare orders -0 and +0 as equal, as Kusto's == does.
		return sign * cmp.Compare(data[a], data[b])
	}
}

// normalizable says whether a single key of type t can be sorted as unsigned 64-bit integers
// (normalize), which a radix sort does without comparisons.
func normalizable(t kusto.Type) bool {
	switch t {
	case kusto.TypeBool, kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeDateTime, kusto.TypeTimespan:
		return true
	}
	return false
}

// normalize writes, for each row of c, its position in the key's order as a pair: rank, the
// place of its class (0 for the class that comes first), and u, an unsigned integer whose order
// is the value's order in the key's direction (0 for a null or NaN). Rows compare as (rank, u).
func normalize(c Column, desc, nullsFirst bool, rank []uint8, u []uint64) {
	var flip uint64
	if desc {
		flip = math.MaxUint64
	}
	ranks := [3]uint8{classNull: 0, classNaN: 1, classVal: 2}
	if !nullsFirst {
		ranks = [3]uint8{classNull: 2, classNaN: 1, classVal: 0}
	}
	switch v := c.(type) {
	case *Vector[bool]:
		normalizeWith(v, ranks, flip, rank, u, func(x bool) uint64 {
			if x {
				return 1
			}
			return 0
		})
	case *Vector[int32]:
		normalizeWith(v, ranks, flip, rank, u, func(x int32) uint64 { return uint64(int64(x)) ^ 1<<63 })
	case *Vector[int64]:
		normalizeWith(v, ranks, flip, rank, u, func(x int64) uint64 { return uint64(x) ^ 1<<63 })
	case *Vector[kusto.DateTime]:
		normalizeWith(v, ranks, flip, rank, u, func(x kusto.DateTime) uint64 { return uint64(x) ^ 1<<63 })
	case *Vector[kusto.Timespan]:
		normalizeWith(v, ranks, flip, rank, u, func(x kusto.Timespan) uint64 { return uint64(x) ^ 1<<63 })
	case *Vector[float64]:
		normalizeWith(v, ranks, flip, rank, u, realBits)
		for i, x := range v.Data {
			if math.IsNaN(x) && (v.Nulls == nil || !v.Nulls[i]) {
				rank[i], u[i] = ranks[classNaN], 0
			}
		}
	default:
		panic("engine: cannot normalize " + c.Type().String())
	}
}

// realBits maps a real to an unsigned integer of the same order: negative numbers have all their
// bits flipped, others their sign bit set. -0 counts as +0, as Kusto's == has them equal.
func realBits(x float64) uint64 {
	if x == 0 {
		x = 0
	}
	b := math.Float64bits(x)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func normalizeWith[T any](v *Vector[T], ranks [3]uint8, flip uint64, rank []uint8, u []uint64, f func(T) uint64) {
	rank, u = rank[:len(v.Data)], u[:len(v.Data)]
	for i, x := range v.Data {
		rank[i], u[i] = ranks[classVal], f(x)^flip
	}
	if v.Nulls != nil {
		for i, null := range v.Nulls {
			if null {
				rank[i], u[i] = ranks[classNull], 0
			}
		}
	}
}
