package engine

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/kustard/kustard/kusto"
)

// Kernels: one loop per (operation, type, form), generic over the element type so that each Go
// type gets its own compiled loop with the operator inlined, and never a function value called
// per element. Each operation has a vector–vector form (vv), a vector–constant form (vc) and, where
// the operation does not commute, a constant–vector form (cv). Kernels see no nulls: a node
// computes every element and then takes the union of its inputs' null flags in bulk.

type number interface{ ~int32 | ~int64 | ~float64 }

type integer interface{ ~int32 | ~int64 }

// kernel2 is a binary operation's loops, writing len(a) results into dst.
type kernel2[A, B, R any] struct {
	vv func(dst []R, a []A, b []B)
	vc func(dst []R, a []A, b B)
	cv func(dst []R, a A, b []B)
	// zeroDivisor makes a result null where b is zero (integer division).
	zeroDivisor bool
	// overflowAt, when set, finds the first row, not null, whose result overflowed its type, or
	// returns -1; a is nil when the left operand is the constant ak, b when the right is bk. The
	// node then fails with E_OVERFLOW at site.
	overflowAt func(r []R, a []A, b []B, ak A, bk B, nulls []bool) int
	site       *overflowSite
}

// checked returns k failing at site where ovf finds an overflow.
func (k kernel2[A, B, R]) checked(site *overflowSite, ovf func(r []R, a []A, b []B, ak A, bk B, nulls []bool) int) kernel2[A, B, R] {
	k.overflowAt, k.site = ovf, site
	return k
}

// binaryNode compiles x op y with kernel k; a constant operand is passed to the kernel as a
// value, never as a column.
func binaryNode[A, B comparable, R any](typ kusto.Type, x, y *compiled, k kernel2[A, B, R]) *compiled {
	var zeroB B
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column {
		n := b.Len
		out := scratch[R](st, typ, n, own)
		var nulls []bool
		var divisor []B
		var as []A
		var ak A
		var bk B
		switch {
		case y.isConst() && !x.isConst():
			var null bool
			bk, null = constOf[B](y)
			if null || k.zeroDivisor && bk == zeroB {
				return allNull[R](st, typ, n, own)
			}
			a := vectorOf[A](x.run(st, b, false))
			k.vc(out.Data, a.Data, bk)
			nulls, as = unionNulls(st, n, own, a.Nulls, nil), a.Data
		case x.isConst() && !y.isConst():
			var null bool
			ak, null = constOf[A](x)
			if null {
				return allNull[R](st, typ, n, own)
			}
			bv := vectorOf[B](y.run(st, b, false))
			k.cv(out.Data, ak, bv.Data)
			nulls, divisor = unionNulls(st, n, own, nil, bv.Nulls), bv.Data
		default:
			a, bv := vectorOf[A](x.run(st, b, false)), vectorOf[B](y.run(st, b, false))
			k.vv(out.Data, a.Data, bv.Data)
			nulls, divisor, as = unionNulls(st, n, own, a.Nulls, bv.Nulls), bv.Data, a.Data
		}
		if k.zeroDivisor && divisor != nil {
			nulls = markZeros(st, own, nulls, divisor)
		}
		if k.overflowAt != nil && k.overflowAt(out.Data, as, divisor, ak, bk, nulls) >= 0 {
			k.site.fail()
		}
		return setNulls(out, nulls)
	}}
}

// markZeros adds a null wherever d is zero, in new flags, as nulls may be an input's.
func markZeros[T comparable](st *evalState, own bool, nulls []bool, d []T) []bool {
	var zero T
	i := slices.Index(d, zero)
	if i < 0 {
		return nulls
	}
	out := copyFlags(st, own, nulls, len(d))
	for ; i < len(d); i++ {
		if d[i] == zero {
			out[i] = true
		}
	}
	return out
}

func markInvalidDates(st *evalState, own bool, nulls []bool, d []kusto.DateTime) []bool {
	i := slices.IndexFunc(d, func(v kusto.DateTime) bool { return !v.Valid() })
	if i < 0 {
		return nulls
	}
	out := copyFlags(st, own, nulls, len(d))
	for ; i < len(d); i++ {
		if !d[i].Valid() {
			out[i] = true
		}
	}
	return out
}

// copyFlags returns a writable copy of nulls (all false if nil) of n flags.
func copyFlags(st *evalState, own bool, nulls []bool, n int) []bool {
	if nulls == nil {
		return scratchFlags(st, n, own)
	}
	out := scratch[bool](st, kusto.TypeBool, n, own).Data
	copy(out, nulls)
	return out
}

// unaryNode compiles f(x) with a loop writing len(a) results into dst; a datetime result out of
// range is null.
func unaryNode[A, R any](typ kusto.Type, x *compiled, loop func(dst []R, a []A)) *compiled {
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column {
		a := vectorOf[A](x.run(st, b, false))
		out := scratch[R](st, typ, len(a.Data), own)
		loop(out.Data, a.Data)
		nulls := unionNulls(st, len(a.Data), own, a.Nulls, nil)
		if typ == kusto.TypeDateTime {
			nulls = markInvalidDates(st, own, nulls, any(out.Data).([]kusto.DateTime))
		}
		return setNulls(out, nulls)
	}}
}

// Arithmetic.

func addVV[T number](d, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] + b[i]
	}
}

func addVC[T number](d, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] + b
	}
}

func addCV[T number](d []T, a T, b []T) { addVC(d, b, a) }

func subVV[T number](d, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] - b[i]
	}
}

func subVC[T number](d, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] - b
	}
}

func subCV[T number](d []T, a T, b []T) {
	d = d[:len(b)]
	for i := range b {
		d[i] = a - b[i]
	}
}

func mulVV[T number](d, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] * b[i]
	}
}

func mulVC[T number](d, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] * b
	}
}

func mulCV[T number](d []T, a T, b []T) { mulVC(d, b, a) }

// Integer division and remainder leave 0 where the divisor is 0; the node makes those null.

func divVV[T integer](d, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		if b[i] != 0 {
			d[i] = a[i] / b[i]
		} else {
			d[i] = 0
		}
	}
}

// divVC and modVC divide by one divisor, b, which is not 0: by a multiplication and shifts
// (invariantDivisor) rather than a division instruction, which costs several times as much. The
// results are Go's, which Kusto's are: the quotient truncated toward zero, the remainder with the
// dividend's sign.
func divVC[T integer](d, a []T, b T) {
	d = d[:len(a)]
	sb := int64(b) >> 63
	div := newInvariantDivisor(uint64((int64(b) ^ sb) - sb))
	for i := range a {
		x := int64(a[i])
		s := x >> 63 // -1 for a negative x, else 0
		q := int64(div.quotient(uint64((x ^ s) - s)))
		s ^= sb
		d[i] = T((q ^ s) - s)
	}
}

func divCV[T integer](d []T, a T, b []T) {
	d = d[:len(b)]
	for i := range b {
		if b[i] != 0 {
			d[i] = a / b[i]
		} else {
			d[i] = 0
		}
	}
}

func modVV[T integer](d, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		if b[i] != 0 {
			d[i] = a[i] % b[i]
		} else {
			d[i] = 0
		}
	}
}

func modVC[T integer](d, a []T, b T) {
	d = d[:len(a)]
	sb := int64(b) >> 63
	ub := uint64((int64(b) ^ sb) - sb)
	if ub&(ub-1) == 0 { // a power of two
		mask := ub - 1
		for i := range a {
			x := int64(a[i])
			s := x >> 63
			r := int64(uint64((x^s)-s) & mask)
			d[i] = T((r ^ s) - s)
		}
		return
	}
	div := newInvariantDivisor(ub)
	for i := range a {
		x := int64(a[i])
		s := x >> 63
		ux := uint64((x ^ s) - s)
		r := int64(ux - div.quotient(ux)*ub)
		d[i] = T((r ^ s) - s)
	}
}

// invariantDivisor divides unsigned 64-bit numbers by one divisor d ≥ 1 with a multiplication:
// after Granlund and Montgomery, "Division by invariant integers using multiplication" (1994),
// figure 4.1, n / d is (t + (n-t)>>s1) >> s2, where t is the high word of n·m, for
// m = ⌊2⁶⁴(2ˡ-d)/d⌋ + 1, l = ⌈log₂ d⌉, s1 = min(l, 1) and s2 = max(l-1, 0). It is exact for every n.
type invariantDivisor struct {
	m      uint64
	s1, s2 uint
}

func newInvariantDivisor(d uint64) invariantDivisor {
	l := uint(bits.Len64(d - 1))
	// 2ˡ-d, which is below d; for l = 64 the shift gives 0 and the subtraction wraps to 2⁶⁴-d.
	hi := uint64(1)<<l - d
	q, _ := bits.Div64(hi, 0, d)
	return invariantDivisor{m: q + 1, s1: min(l, 1), s2: max(l, 1) - 1}
}

func (v invariantDivisor) quotient(n uint64) uint64 {
	t, _ := bits.Mul64(n, v.m)
	return (t + (n-t)>>v.s1) >> v.s2
}

func modCV[T integer](d []T, a T, b []T) {
	d = d[:len(b)]
	for i := range b {
		if b[i] != 0 {
			d[i] = a % b[i]
		} else {
			d[i] = 0
		}
	}
}

func fdivVV(d, a, b []float64) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] / b[i]
	}
}

func fdivVC(d, a []float64, b float64) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] / b
	}
}

func fdivCV(d []float64, a float64, b []float64) {
	d = d[:len(b)]
	for i := range b {
		d[i] = a / b[i]
	}
}

func fmodVV(d, a, b []float64) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = math.Mod(a[i], b[i])
	}
}

func fmodVC(d, a []float64, b float64) {
	d = d[:len(a)]
	for i := range a {
		d[i] = math.Mod(a[i], b)
	}
}

func fmodCV(d []float64, a float64, b []float64) {
	d = d[:len(b)]
	for i := range b {
		d[i] = math.Mod(a, b[i])
	}
}

// arithKernel returns the kernel of op (+ - * / %) on T.
func arithKernel[T integer](op string) kernel2[T, T, T] {
	switch op {
	case "+":
		return kernel2[T, T, T]{vv: addVV[T], vc: addVC[T], cv: addCV[T]}
	case "-":
		return kernel2[T, T, T]{vv: subVV[T], vc: subVC[T], cv: subCV[T]}
	case "*":
		return kernel2[T, T, T]{vv: mulVV[T], vc: mulVC[T], cv: mulCV[T]}
	case "/":
		return kernel2[T, T, T]{vv: divVV[T], vc: divVC[T], cv: divCV[T], zeroDivisor: true}
	default:
		return kernel2[T, T, T]{vv: modVV[T], vc: modVC[T], cv: modCV[T], zeroDivisor: true}
	}
}

func realKernel(op string) kernel2[float64, float64, float64] {
	switch op {
	case "+":
		return kernel2[float64, float64, float64]{vv: addVV[float64], vc: addVC[float64], cv: addCV[float64]}
	case "-":
		return kernel2[float64, float64, float64]{vv: subVV[float64], vc: subVC[float64], cv: subCV[float64]}
	case "*":
		return kernel2[float64, float64, float64]{vv: mulVV[float64], vc: mulVC[float64], cv: mulCV[float64]}
	case "/":
		return kernel2[float64, float64, float64]{vv: fdivVV, vc: fdivVC, cv: fdivCV}
	default:
		return kernel2[float64, float64, float64]{vv: fmodVV, vc: fmodVC, cv: fmodCV}
	}
}

// Comparisons. A constant on the left is a constant on the right of the flipped operator.

func eqVV[T comparable](d []bool, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] == b[i]
	}
}

func eqVC[T comparable](d []bool, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] == b
	}
}

func neVV[T comparable](d []bool, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] != b[i]
	}
}

func neVC[T comparable](d []bool, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] != b
	}
}

func ltVV[T cmp.Ordered](d []bool, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] < b[i]
	}
}

func ltVC[T cmp.Ordered](d []bool, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] < b
	}
}

func leVV[T cmp.Ordered](d []bool, a, b []T) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] <= b[i]
	}
}

func leVC[T cmp.Ordered](d []bool, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] <= b
	}
}

func gtVC[T cmp.Ordered](d []bool, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] > b
	}
}

func geVC[T cmp.Ordered](d []bool, a []T, b T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = a[i] >= b
	}
}

// flip turns a constant-first loop into a constant-second one: k op v is v flipped(op) k.
func flip[T any](vc func(d []bool, a []T, b T)) func(d []bool, a T, b []T) {
	return func(d []bool, a T, b []T) { vc(d, b, a) }
}

func equalityKernel[T comparable](op string) kernel2[T, T, bool] {
	if op == "==" {
		return kernel2[T, T, bool]{vv: eqVV[T], vc: eqVC[T], cv: flip(eqVC[T])}
	}
	return kernel2[T, T, bool]{vv: neVV[T], vc: neVC[T], cv: flip(neVC[T])}
}

func orderKernel[T cmp.Ordered](op string) kernel2[T, T, bool] {
	swap := func(vv func(d []bool, a, b []T)) func(d []bool, a, b []T) {
		return func(d []bool, a, b []T) { vv(d, b, a) }
	}
	switch op {
	case "<":
		return kernel2[T, T, bool]{vv: ltVV[T], vc: ltVC[T], cv: flip(gtVC[T])}
	case "<=":
		return kernel2[T, T, bool]{vv: leVV[T], vc: leVC[T], cv: flip(geVC[T])}
	case ">":
		return kernel2[T, T, bool]{vv: swap(ltVV[T]), vc: gtVC[T], cv: flip(ltVC[T])}
	case ">=":
		return kernel2[T, T, bool]{vv: swap(leVV[T]), vc: geVC[T], cv: flip(leVC[T])}
	}
	return equalityKernel[T](op)
}

// Logical and/or, three-valued: false and null is false, true or null is true, else null.

func andVV(d, a, b []bool) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] && b[i]
	}
}

func orVV(d, a, b []bool) {
	d, b = d[:len(a)], b[:len(a)]
	for i := range a {
		d[i] = a[i] || b[i]
	}
}

// logicalNulls fixes up the rows where an operand is null, writing the result's data and
// null flags there: a null operand decides nothing, so the result is null unless the other
// operand decides it (false for and, true for or).
func logicalNulls(d, nulls, a, an, b, bn []bool, and bool) {
	for i := range d {
		x, y := an != nil && an[i], bn != nil && bn[i]
		nulls[i] = false
		if !x && !y {
			continue
		}
		decided := !x && a[i] != and || !y && b[i] != and // a known false decides and; a true, or
		d[i] = decided != and
		nulls[i] = !decided
	}
}

// logicalNode compiles x and/or y over bools.
func logicalNode(x, y *compiled, and bool) *compiled {
	t := kusto.TypeBool
	return &compiled{typ: t, run: func(st *evalState, b *Batch, own bool) Column {
		av, bv := vectorOf[bool](x.run(st, b, false)), vectorOf[bool](y.run(st, b, false))
		out := scratch[bool](st, t, b.Len, own)
		if and {
			andVV(out.Data, av.Data, bv.Data)
		} else {
			orVV(out.Data, av.Data, bv.Data)
		}
		if av.Nulls == nil && bv.Nulls == nil {
			return out
		}
		nulls := scratch[bool](st, t, b.Len, own).Data
		logicalNulls(out.Data, nulls, av.Data, av.Nulls, bv.Data, bv.Nulls, and)
		return setNulls(out, nulls)
	}}
}

// String predicates. The vc form prepares its constant once (lowercasing it for the
// case-insensitive operators).

func stringPredicate(op string) func(a, b string) bool {
	switch op {
	case "=~":
		return strings.EqualFold
	case "contains":
		return containsFold
	case "contains_cs":
		return strings.Contains
	case "startswith":
		return hasPrefixFold
	case "startswith_cs":
		return strings.HasPrefix
	case "endswith":
		return hasSuffixFold
	case "endswith_cs":
		return strings.HasSuffix
	case "has":
		return func(a, b string) bool { return hasTerm(a, b, true, true, true) }
	case "has_cs":
		return func(a, b string) bool { return hasTerm(a, b, true, true, false) }
	case "hasprefix":
		return func(a, b string) bool { return hasTerm(a, b, true, false, true) }
	case "hassuffix":
		return func(a, b string) bool { return hasTerm(a, b, false, true, true) }
	}
	return nil
}

func hasPrefixFold(a, b string) bool { return len(a) >= len(b) && strings.EqualFold(a[:len(b)], b) }
func hasSuffixFold(a, b string) bool {
	return len(a) >= len(b) && strings.EqualFold(a[len(a)-len(b):], b)
}

func stringVV(op string, d []bool, a, b []string) {
	d, b = d[:len(a)], b[:len(a)]
	switch op {
	case "=~":
		for i := range a {
			d[i] = strings.EqualFold(a[i], b[i])
		}
	case "contains_cs":
		for i := range a {
			d[i] = strings.Contains(a[i], b[i])
		}
	case "startswith_cs":
		for i := range a {
			d[i] = strings.HasPrefix(a[i], b[i])
		}
	case "endswith_cs":
		for i := range a {
			d[i] = strings.HasSuffix(a[i], b[i])
		}
	default: // the rest do enough work per element that one call more does not show
		test := stringPredicate(op)
		for i := range a {
			d[i] = test(a[i], b[i])
		}
	}
}

func stringVC(op string, d []bool, a []string, b string) {
	d = d[:len(a)]
	lower := strings.ToLower(b)
	switch op {
	case "=~":
		for i := range a {
			d[i] = strings.EqualFold(a[i], b)
		}
	case "contains":
		for i := range a {
			d[i] = strings.Contains(strings.ToLower(a[i]), lower)
		}
	case "contains_cs":
		for i := range a {
			d[i] = strings.Contains(a[i], b)
		}
	case "startswith":
		for i := range a {
			d[i] = hasPrefixFold(a[i], b)
		}
	case "startswith_cs":
		for i := range a {
			d[i] = strings.HasPrefix(a[i], b)
		}
	case "endswith":
		for i := range a {
			d[i] = hasSuffixFold(a[i], b)
		}
	case "endswith_cs":
		for i := range a {
			d[i] = strings.HasSuffix(a[i], b)
		}
	case "has":
		for i := range a {
			d[i] = hasTerm(strings.ToLower(a[i]), lower, true, true, false)
		}
	case "has_cs":
		for i := range a {
			d[i] = hasTerm(a[i], b, true, true, false)
		}
	case "hasprefix":
		for i := range a {
			d[i] = hasTerm(strings.ToLower(a[i]), lower, true, false, false)
		}
	case "hassuffix":
		for i := range a {
			d[i] = hasTerm(strings.ToLower(a[i]), lower, false, true, false)
		}
	}
}

func stringCV(op string, d []bool, a string, b []string) {
	d = d[:len(b)]
	test := stringPredicate(op)
	for i := range b {
		d[i] = test(a, b[i])
	}
}

func stringKernel(op string, negate bool) kernel2[string, string, bool] {
	not := func(d []bool) {
		if negate {
			for i := range d {
				d[i] = !d[i]
			}
		}
	}
	return kernel2[string, string, bool]{
		vv: func(d []bool, a, b []string) { stringVV(op, d, a, b); not(d[:len(a)]) },
		vc: func(d []bool, a []string, b string) { stringVC(op, d, a, b); not(d[:len(a)]) },
		cv: func(d []bool, a string, b []string) { stringCV(op, d, a, b); not(d[:len(b)]) },
	}
}
