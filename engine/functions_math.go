package engine

import (
	"math"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Math functions.

func init() {
	bin := &function{name: "bin", usage: "bin(value, roundTo)",
		summary: "Rounds down to a multiple of roundTo: numbers by numbers, datetimes and timespans by timespans; null if roundTo is not positive.",
		overload: []overload{
			{params: []typeSet{exactly(kusto.TypeLong), exactly(kusto.TypeLong)}, result: returns(kusto.TypeLong), build: buildBin},
			{params: []typeSet{exactly(kusto.TypeReal), exactly(kusto.TypeReal)}, result: returns(kusto.TypeReal), build: buildBin},
			{params: []typeSet{tDateTime, tTimespan}, result: returns(kusto.TypeDateTime), build: buildBin},
			{params: []typeSet{tTimespan, tTimespan}, result: returns(kusto.TypeTimespan), build: buildBin},
		},
		mismatch: func(sc *scope, call *parser.CallExpr, args []*compiled) error {
			return sc.c.errorf(call.At, kusto.KindSemantic, "%s cannot round a %s to a %s", call.Func, args[0].typ, args[1].typ)
		}}
	floor := *bin
	floor.name, floor.usage, floor.summary = "floor", "floor(value, roundTo)", "Another name for bin(): "+bin.summary
	declare(
		&function{name: "abs", usage: "abs(number)", summary: "The absolute value of a number or a timespan.",
			overload: []overload{
				{params: []typeSet{{name: "number", desc: "a number", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal}}}, result: returnsSame, build: buildAbs},
				{params: []typeSet{tTimespan}, result: returns(kusto.TypeTimespan), build: buildAbs},
			}},
		bin, &floor,
		&function{name: "round", usage: "round(number[, precision])", summary: "A number rounded to precision decimal places (0 if not given), halves away from zero.",
			overload: []overload{
				{params: []typeSet{tReal}, result: returns(kusto.TypeReal), build: buildRound},
				{params: []typeSet{tReal, tLong}, result: returns(kusto.TypeReal), build: buildRound},
			}},
	)
}

func absLoop[T number](d, a []T) {
	d = d[:len(a)]
	for i, v := range a {
		d[i] = max(v, -v)
	}
}

func buildAbs(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	a := args[0]
	site := sc.site(call.At, call, a.typ)
	switch a.typ {
	case kusto.TypeInt:
		return minCheckedNode(a.typ, a, absLoop[int32], site), nil
	case kusto.TypeLong:
		return minCheckedNode(a.typ, a, absLoop[int64], site), nil
	case kusto.TypeReal:
		return unaryNode(a.typ, a, func(d, a []float64) {
			d = d[:len(a)]
			for i, v := range a {
				d[i] = math.Abs(v)
			}
		}), nil
	default:
		return minCheckedNode(a.typ, a, absLoop[kusto.Timespan], site), nil
	}
}

// floorKernel rounds integers (longs, ticks) down to a multiple of a size; the node makes the
// rows whose size is not positive null.
func floorKernel[T, S ~int64]() kernel2[T, S, T] {
	return kernel2[T, S, T]{
		vv: func(d []T, a []T, b []S) {
			d, b = d[:len(a)], b[:len(a)]
			for i := range a {
				d[i] = T(floorTo(int64(a[i]), int64(b[i])))
			}
		},
		vc: func(d []T, a []T, b S) {
			d = d[:len(a)]
			for i := range a {
				d[i] = T(floorTo(int64(a[i]), int64(b)))
			}
		},
		cv: func(d []T, a T, b []S) {
			d = d[:len(b)]
			for i := range b {
				d[i] = T(floorTo(int64(a), int64(b[i])))
			}
		},
	}
}

// floorTo rounds x down to a multiple of s, or returns 0 if s is not positive (the node makes
// that a null).
func floorTo(x, s int64) int64 {
	if s <= 0 {
		return 0
	}
	r := x / s * s
	if x < 0 && r != x {
		r -= s
	}
	return r
}

// nonPositive makes nulls where a bin size is not positive.
func nonPositive[T number](size *compiled) *compiled {
	return &compiled{typ: kusto.TypeBool, run: func(st *evalState, b *Batch, own bool) Column {
		v := vectorOf[T](size.run(st, b, false))
		out := scratch[bool](st, kusto.TypeBool, len(v.Data), own)
		for i, s := range v.Data {
			out.Data[i] = !(s > 0)
		}
		return out
	}}
}

// nullWhere makes e null where cond is true (and not null).
func nullWhere[T any](e, cond *compiled) *compiled {
	return &compiled{typ: e.typ, run: func(st *evalState, b *Batch, own bool) Column {
		v := vectorOf[T](e.run(st, b, false))
		c := vectorOf[bool](cond.run(st, b, false))
		out := scratch[T](st, e.typ, len(v.Data), own)
		copy(out.Data, v.Data)
		nulls := copyFlags(st, own, v.Nulls, len(v.Data))
		anyNull := v.Nulls != nil
		for i, bad := range c.Data {
			if bad && !c.IsNull(i) {
				nulls[i], anyNull = true, true
			}
		}
		if !anyNull {
			return out
		}
		return setNulls(out, nulls)
	}}
}

// realBin is bin over reals: floor(x/s)*s, null unless s > 0.
var realBin = kernel2[float64, float64, float64]{
	vv: func(d, a, b []float64) {
		d, b = d[:len(a)], b[:len(a)]
		for i := range a {
			d[i] = math.Floor(a[i]/b[i]) * b[i]
		}
	},
	vc: func(d, a []float64, b float64) {
		d = d[:len(a)]
		for i := range a {
			d[i] = math.Floor(a[i]/b) * b
		}
	},
	cv: func(d []float64, a float64, b []float64) {
		d = d[:len(b)]
		for i := range b {
			d[i] = math.Floor(a/b[i]) * b[i]
		}
	},
}

func buildBin(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	v, size := args[0], args[1]
	site := sc.site(call.At, call, v.typ)
	switch v.typ {
	case kusto.TypeLong:
		return binNode[int64, int64](binaryNode(v.typ, v, size, floorKernel[int64, int64]().checked(site, floorOverflowAt[int64, int64])), size), nil
	case kusto.TypeReal:
		return binNode[float64, float64](binaryNode(v.typ, v, size, realBin), size), nil
	case kusto.TypeDateTime:
		return binNode[kusto.DateTime, kusto.Timespan](binaryNode(v.typ, v, size, floorKernel[kusto.DateTime, kusto.Timespan]()), size), nil
	default:
		return binNode[kusto.Timespan, kusto.Timespan](binaryNode(v.typ, v, size, floorKernel[kusto.Timespan, kusto.Timespan]().checked(site, floorOverflowAt[kusto.Timespan, kusto.Timespan])), size), nil
	}
}

// binNode makes e, a bin, null where its size is not positive.
func binNode[T any, S number](e, size *compiled) *compiled {
	if size.isConst() {
		if s, null := constOf[S](size); !null && !(s > 0) {
			return &compiled{typ: e.typ, run: func(st *evalState, b *Batch, own bool) Column { return allNull[T](st, e.typ, b.Len, own) }}
		}
		return e
	}
	return nullWhere[T](e, nonPositive[S](size))
}

func buildRound(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	x := args[0]
	precision := constant(kusto.TypeLong, int64(0))
	if len(args) == 2 {
		precision = args[1]
	}
	return binaryNode(kusto.TypeReal, x, precision, kernel2[float64, int64, float64]{
		vv: func(d, a []float64, b []int64) {
			d, b = d[:len(a)], b[:len(a)]
			for i := range a {
				d[i] = roundTo(a[i], b[i])
			}
		},
		vc: func(d, a []float64, b int64) {
			d = d[:len(a)]
			for i := range a {
				d[i] = roundTo(a[i], b)
			}
		},
		cv: func(d []float64, a float64, b []int64) {
			d = d[:len(b)]
			for i := range b {
				d[i] = roundTo(a, b[i])
			}
		},
	}), nil
}

func roundTo(v float64, p int64) float64 {
	scale := math.Pow(10, float64(p))
	return math.Round(v*scale) / scale
}
