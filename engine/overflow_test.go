package engine

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The overflow detectors against big-integer arithmetic, over edge values and random ones, in
// the three forms (a constant operand is passed as ak or bk), and skipping null rows.
func TestOverflowDetectors(t *testing.T) {
	testOverflowDetectors[int64](t, math.MinInt64, math.MaxInt64)
	testOverflowDetectors[int32](t, math.MinInt32, math.MaxInt32)
}

func testOverflowDetectors[T int32 | int64](t *testing.T, lo, hi int64) {
	r := rand.New(rand.NewPCG(1, 2))
	edges := []int64{lo, lo + 1, lo / 2, -3, -2, -1, 0, 1, 2, 3, hi / 2, hi/2 + 1, hi - 1, hi}
	value := func() T {
		if r.IntN(2) == 0 {
			return T(edges[r.IntN(len(edges))])
		}
		return T(r.Uint64()) // every bit pattern of T, wrapped
	}
	type op struct {
		name   string
		wrap   func(a, b T) T
		exact  func(a, b *big.Int) *big.Int
		detect func(r, a, b []T, ak, bk T, nulls []bool) int
	}
	ops := []op{
		{"+", func(a, b T) T { return a + b }, new(big.Int).Add, addOverflowAt[T]},
		{"-", func(a, b T) T { return a - b }, new(big.Int).Sub, subOverflowAt[T]},
		{"*", func(a, b T) T { return a * b }, new(big.Int).Mul, mulOverflowAt[T]},
		{"/", func(a, b T) T { return a / b }, new(big.Int).Quo, divOverflowAt[T]},
	}
	bigLo, bigHi := big.NewInt(lo), big.NewInt(hi)
	for range 20000 {
		a, b := value(), value()
		for _, o := range ops {
			if o.name == "/" && b == 0 {
				continue
			}
			exact := o.exact(big.NewInt(int64(a)), big.NewInt(int64(b)))
			want := exact.Cmp(bigLo) < 0 || exact.Cmp(bigHi) > 0
			res := []T{o.wrap(a, b)}
			for form, got := range map[string]int{
				"vv": o.detect(res, []T{a}, []T{b}, 0, 0, nil),
				"vc": o.detect(res, []T{a}, nil, 0, b, nil),
				"cv": o.detect(res, nil, []T{b}, a, 0, nil),
			} {
				if (got == 0) != want {
					t.Fatalf("%T %d %s %d (%s): detector says %v, want overflow %v", a, a, o.name, b, form, got == 0, want)
				}
			}
			if got := o.detect(res, []T{a}, []T{b}, 0, 0, []bool{true}); got != -1 {
				t.Fatalf("%T %d %s %d: a null row overflowed", a, a, o.name, b)
			}
		}
	}
}
