package engine

import (
	"math"
	"unsafe"

	"github.com/kustard/kustard/kusto"
)

// Overflow checks. The Kusto docs (concepts/overflow.md): "An overflow occurs when the result
// of a computation is too large for the destination type. The overflow usually leads to a
// partial query failure." Kustard never wraps: an int, long, timespan or datetime result out of
// its type's range fails the query with E_OVERFLOW at the expression. The kernels compute as
// they always do; a second pass over the operands and results finds a row that overflowed,
// skipping null rows (whose values are zeros, and whose results do not count).

// minInt is the most negative value of a signed integer type.
func minInt[T integer]() T {
	var zero T
	return T(1) << (unsafe.Sizeof(zero)*8 - 1)
}

// The add, subtract and multiply detectors first fold a bound over the whole batch without a
// branch, and look for the row (and whether it is null) only when that says a row may have
// overflowed: the check costs a pass of a few instructions a row.

// firstAt returns the first row, not null, for which bad holds of its operands and result.
func firstAt[T integer](r, a, b []T, ak, bk T, nulls []bool, bad func(x, y, r T) bool) int {
	for i := range r {
		x, y := ak, bk
		if a != nil {
			x = a[i]
		}
		if b != nil {
			y = b[i]
		}
		if bad(x, y, r[i]) && !isNull(nulls, i) {
			return i
		}
	}
	return -1
}

func addOverflows[T integer](x, y, r T) bool { return (x^r)&(y^r) < 0 }
func subOverflows[T integer](x, y, r T) bool { return (x^y)&(x^r) < 0 }
func mulOverflows[T integer](x, y, r T) bool {
	return x != 0 && (r/x != y || x == -1 && y == minInt[T]())
}

func addOverflowAt[T integer](r, a, b []T, ak, bk T, nulls []bool) int {
	var acc T
	switch {
	case a != nil && b != nil:
		a, b = a[:len(r)], b[:len(r)]
		for i := range r {
			acc |= (a[i] ^ r[i]) & (b[i] ^ r[i])
		}
	case a != nil:
		a = a[:len(r)]
		for i := range r {
			acc |= (a[i] ^ r[i]) & (bk ^ r[i])
		}
	default:
		b = b[:len(r)]
		for i := range r {
			acc |= (ak ^ r[i]) & (b[i] ^ r[i])
		}
	}
	if acc >= 0 {
		return -1
	}
	return firstAt(r, a, b, ak, bk, nulls, addOverflows[T])
}

func subOverflowAt[T integer](r, a, b []T, ak, bk T, nulls []bool) int {
	var acc T
	switch {
	case a != nil && b != nil:
		a, b = a[:len(r)], b[:len(r)]
		for i := range r {
			acc |= (a[i] ^ b[i]) & (a[i] ^ r[i])
		}
	case a != nil:
		a = a[:len(r)]
		for i := range r {
			acc |= (a[i] ^ bk) & (a[i] ^ r[i])
		}
	default:
		b = b[:len(r)]
		for i := range r {
			acc |= (ak ^ b[i]) & (ak ^ r[i])
		}
	}
	if acc >= 0 {
		return -1
	}
	return firstAt(r, a, b, ak, bk, nulls, subOverflows[T])
}

// mulOverflowAt first checks that every operand is under the square root of the type's range
// (no product of such operands overflows), by offsetting them into unsigned halves.
func mulOverflowAt[T integer](r, a, b []T, ak, bk T, nulls []bool) int {
	var zero T
	bits := unsafe.Sizeof(zero) * 8
	half := uint64(1) << (bits/2 - 1) // |v| < half for every small operand
	var acc uint64
	switch {
	case a != nil && b != nil:
		a, b = a[:len(r)], b[:len(r)]
		for i := range r {
			acc |= (uint64(int64(a[i])) + half) | (uint64(int64(b[i])) + half)
		}
	case a != nil:
		a = a[:len(r)]
		acc = uint64(int64(bk)) + half
		for i := range r {
			acc |= uint64(int64(a[i])) + half
		}
	default:
		b = b[:len(r)]
		acc = uint64(int64(ak)) + half
		for i := range r {
			acc |= uint64(int64(b[i])) + half
		}
	}
	if acc < 2*half {
		return -1
	}
	return firstAt(r, a, b, ak, bk, nulls, mulOverflows[T])
}

// divOverflowAt finds the one quotient that overflows: the most negative value divided by -1.
func divOverflowAt[T integer](r, a, b []T, ak, bk T, nulls []bool) int {
	mn := minInt[T]()
	for i := range r {
		x, y := ak, bk
		if a != nil {
			x = a[i]
		}
		if b != nil {
			y = b[i]
		}
		if x == mn && y == -1 && !isNull(nulls, i) {
			return i
		}
	}
	return -1
}

// checkedArith returns the kernel of op on integers (and ticks), failing at site on overflow;
// % cannot overflow.
func checkedArith[T integer](op string, site *overflowSite) kernel2[T, T, T] {
	k := arithKernel[T](op)
	switch op {
	case "+":
		return k.checked(site, addOverflowAt[T])
	case "-":
		return k.checked(site, subOverflowAt[T])
	case "*":
		return k.checked(site, mulOverflowAt[T])
	case "/":
		return k.checked(site, divOverflowAt[T])
	}
	return k
}

// dateOverflowAt finds a datetime result out of range (datetime ± timespan), which wraps past
// no valid value: the operands' ranges keep a wrapped sum negative.
func dateOverflowAt(r, _ []kusto.DateTime, _ []kusto.Timespan, _ kusto.DateTime, _ kusto.Timespan, nulls []bool) int {
	for i, v := range r {
		if !v.Valid() && !isNull(nulls, i) {
			return i
		}
	}
	return -1
}

// fitsTicks reports whether a rounded real is a long (ticks): NaN and the infinities are not.
func fitsTicks(f float64) bool { return f >= math.MinInt64 && f < math.MaxInt64 }

// scaleOverflowAt finds timespan × real or timespan / real out of range.
func scaleOverflowAt(divide bool) func(r, a []kusto.Timespan, b []float64, ak kusto.Timespan, bk float64, nulls []bool) int {
	return func(r, a []kusto.Timespan, b []float64, ak kusto.Timespan, bk float64, nulls []bool) int {
		for i := range r {
			t, f := ak, bk
			if a != nil {
				t = a[i]
			}
			if b != nil {
				f = b[i]
			}
			if t == 0 || isNull(nulls, i) {
				continue
			}
			v := float64(t) * f
			if divide {
				v = float64(t) / f
			}
			if !fitsTicks(math.Round(v)) {
				return i
			}
		}
		return -1
	}
}

// floorOverflowAt finds bin(x, size) rounded down past the most negative value, where it
// wraps to above x.
// A size that is not positive makes a null (and a zero result), not an overflow.
func floorOverflowAt[T, S ~int64](r, a []T, b []S, ak T, bk S, nulls []bool) int {
	for i := range r {
		x, s := ak, bk
		if a != nil {
			x = a[i]
		}
		if b != nil {
			s = b[i]
		}
		if r[i] > x && s > 0 && !isNull(nulls, i) {
			return i
		}
	}
	return -1
}

// minCheckedNode is a unary operation (negation, abs) on integers or ticks whose one overflow is
// the most negative value; a null's value is zero, so it never fails.
func minCheckedNode[T integer](typ kusto.Type, x *compiled, loop func(d, a []T), site *overflowSite) *compiled {
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column {
		a := vectorOf[T](x.run(st, b, false))
		mn := minInt[T]()
		for _, v := range a.Data {
			if v == mn {
				site.fail()
			}
		}
		out := scratch[T](st, typ, len(a.Data), own)
		loop(out.Data, a.Data)
		return setNulls(out, unionNulls(st, len(a.Data), own, a.Nulls, nil))
	}}
}
