package engine

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"

	"github.com/cespare/xxhash/v2"
	"github.com/google/uuid"

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
		&function{name: "bin_at", usage: "bin_at(value, roundTo, fixedPoint)",
			summary: "Rounds down to a multiple of roundTo counted from fixedPoint, as bin() counts from 0; null if roundTo is not positive.",
			overload: []overload{
				{params: []typeSet{exactly(kusto.TypeLong), exactly(kusto.TypeLong), exactly(kusto.TypeLong)}, result: returns(kusto.TypeLong), build: buildBinAt},
				{params: []typeSet{exactly(kusto.TypeReal), exactly(kusto.TypeReal), exactly(kusto.TypeReal)}, result: returns(kusto.TypeReal), build: buildBinAt},
				{params: []typeSet{tDateTime, tTimespan, tDateTime}, result: returns(kusto.TypeDateTime), build: buildBinAt},
				{params: []typeSet{tTimespan, tTimespan, tTimespan}, result: returns(kusto.TypeTimespan), build: buildBinAt},
			},
			mismatch: func(sc *scope, call *parser.CallExpr, args []*compiled) error {
				return sc.c.errorf(call.At, kusto.KindSemantic, "%s cannot round a %s to a %s from a %s", call.Func, args[0].typ, args[1].typ, args[2].typ)
			}},
		&function{name: "ceiling", usage: "ceiling(number)", summary: "The smallest integer greater than or equal to a number.",
			overload: []overload{{params: []typeSet{tNumber}, result: returnsSame, build: buildCeiling}}},
		&function{name: "sign", usage: "sign(number)", summary: "The sign of a number: -1, 0 or +1.",
			overload: []overload{{params: []typeSet{tReal}, result: returns(kusto.TypeReal), build: realMapper(func(x float64) float64 {
				switch {
				case x > 0:
					return 1
				case x < 0:
					return -1
				}
				return x // 0, or NaN
			})}}},
		&function{name: "pow", usage: "pow(base, exponent)", summary: "base raised to the power exponent.",
			overload: []overload{{params: []typeSet{tReal, tReal}, result: returns(kusto.TypeReal), build: buildPow}}},
		realFunction("sqrt", "The square root of a number; null if it is negative.", math.Sqrt, func(x float64) bool { return x >= 0 || math.IsNaN(x) }),
		realFunction("exp", "e raised to the power of a number.", math.Exp, nil),
		realFunction("log", "The natural logarithm of a number; null if it is negative.", math.Log, func(x float64) bool { return x >= 0 || math.IsNaN(x) }),
		realFunction("log2", "The base-2 logarithm of a number; null if it is negative.", math.Log2, func(x float64) bool { return x >= 0 || math.IsNaN(x) }),
		realFunction("log10", "The base-10 logarithm of a number; null if it is negative.", math.Log10, func(x float64) bool { return x >= 0 || math.IsNaN(x) }),
		&function{name: "isnan", usage: "isnan(number)", summary: "Whether a real is NaN (not a number).",
			overload: []overload{{params: []typeSet{tReal}, result: returns(kusto.TypeBool), build: realTest(math.IsNaN)}}},
		&function{name: "isinf", usage: "isinf(number)", summary: "Whether a real is infinite, positive or negative.",
			overload: []overload{{params: []typeSet{tReal}, result: returns(kusto.TypeBool), build: realTest(func(x float64) bool { return math.IsInf(x, 0) })}}},
		&function{name: "rand", usage: "rand([N])", summary: "A random real in [0, 1), or a whole one from 0 to N-1; new in every row.", class: perRow,
			overload: []overload{
				{result: returns(kusto.TypeReal), build: buildRand},
				{params: []typeSet{tLong}, result: returns(kusto.TypeReal), build: buildRand},
			}},
		&function{name: "hash", usage: "hash(source[, mod])", summary: "The xxhash64 of a value as a long, or that hash modulo mod (0 to mod-1).",
			overload: []overload{
				{params: []typeSet{tAny}, result: returns(kusto.TypeLong), build: buildHash},
				{params: []typeSet{tAny, tLong}, result: returns(kusto.TypeLong), build: buildHash},
			}},
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

var tNumber = typeSet{name: "number", desc: "a number", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong, kusto.TypeReal}}

// binAt is bin_at on ticks or longs: fixed plus a multiple of size, rounded down from v. It
// fails at site where the result is out of range, and is null where size is not positive.
func binAt[T, S ~int64](typ kusto.Type, site *overflowSite) func(v T, size S, fixed T) (T, bool) {
	return func(v T, size S, fixed T) (T, bool) {
		if size <= 0 {
			return 0, false
		}
		diff := int64(v) - int64(fixed)
		if (int64(v)^int64(fixed))&(int64(v)^diff) < 0 { // the difference overflowed
			site.fail()
		}
		steps := floorDiv(diff, int64(size))
		hi, lo := bits.Mul64(uint64(max(steps, -steps)), uint64(size))
		if hi != 0 || lo > 1<<63 || lo == 1<<63 && steps > 0 {
			site.fail()
		}
		off := int64(lo)
		if steps < 0 {
			off = -off
		}
		r := int64(fixed) + off
		if (off > 0 && r < int64(fixed)) || (off < 0 && r > int64(fixed)) {
			site.fail()
		}
		if typ == kusto.TypeDateTime && !kusto.DateTime(r).Valid() {
			site.fail()
		}
		return T(r), true
	}
}

func buildBinAt(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	v, size, fixed := args[0], args[1], args[2]
	site := sc.site(call.At, call, v.typ)
	switch v.typ {
	case kusto.TypeLong:
		return map3Node(v.typ, v, size, fixed, binAt[int64, int64](v.typ, site)), nil
	case kusto.TypeReal:
		return map3Node(v.typ, v, size, fixed, func(v, size, fixed float64) (float64, bool) {
			if !(size > 0) {
				return 0, false
			}
			return fixed + math.Floor((v-fixed)/size)*size, true
		}), nil
	case kusto.TypeDateTime:
		return map3Node(v.typ, v, size, fixed, binAt[kusto.DateTime, kusto.Timespan](v.typ, site)), nil
	default:
		return map3Node(v.typ, v, size, fixed, binAt[kusto.Timespan, kusto.Timespan](v.typ, site)), nil
	}
}

func buildCeiling(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if args[0].typ != kusto.TypeReal {
		return args[0], nil // an integer is its own ceiling
	}
	return realMapper(math.Ceil)(sc, call, args)
}

// realMapper applies f to every real; the loop calls f directly, which the compiler inlines
// for the math package's functions it can (and which cost more than a call otherwise).
func realMapper(f func(float64) float64) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unaryNode(kusto.TypeReal, args[0], func(d, a []float64) {
			d = d[:len(a)]
			for i, v := range a {
				d[i] = f(v)
			}
		}), nil
	}
}

// realFunction declares a function of one real; valid, if set, says which arguments have a
// result, the others being null.
func realFunction(name, summary string, f func(float64) float64, valid func(float64) bool) *function {
	build := realMapper(f)
	if valid != nil {
		build = func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
			return convNode(kusto.TypeReal, args[0], func(x float64) (float64, bool) { return f(x), valid(x) }), nil
		}
	}
	return &function{name: name, usage: name + "(number)", summary: summary,
		overload: []overload{{params: []typeSet{tReal}, result: returns(kusto.TypeReal), build: build}}}
}

func realTest(f func(float64) bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unaryNode(kusto.TypeBool, args[0], func(d []bool, a []float64) {
			d = d[:len(a)]
			for i, v := range a {
				d[i] = f(v)
			}
		}), nil
	}
}

func buildPow(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return binaryNode(kusto.TypeReal, args[0], args[1], kernel2[float64, float64, float64]{
		vv: func(d, a, b []float64) {
			d, b = d[:len(a)], b[:len(a)]
			for i := range a {
				d[i] = math.Pow(a[i], b[i])
			}
		},
		vc: func(d, a []float64, b float64) {
			d = d[:len(a)]
			for i := range a {
				d[i] = math.Pow(a[i], b)
			}
		},
		cv: func(d []float64, a float64, b []float64) {
			d = d[:len(b)]
			for i := range b {
				d[i] = math.Pow(a, b[i])
			}
		},
	}), nil
}

// buildRand draws from math/rand/v2's global source, which is safe for concurrent use; a row's
// N that is not positive makes a null.
func buildRand(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if len(args) == 0 {
		return &compiled{typ: kusto.TypeReal, run: func(st *evalState, b *Batch, own bool) Column {
			out := scratch[float64](st, kusto.TypeReal, b.Len, own)
			for i := range out.Data {
				out.Data[i] = rand.Float64()
			}
			return out
		}}, nil
	}
	return convNode(kusto.TypeReal, args[0], func(n int64) (float64, bool) {
		if n <= 0 {
			return 0, false
		}
		return float64(rand.Int64N(n)), true
	}), nil
}

// hashBytes are the bytes hash() hashes: a string's UTF-8, and the 8 little-endian bytes of a
// number's value (ticks for datetimes and timespans), which gives the docs' hash of
// datetime("2015-01-01"); ints hash as longs, bools as 0 or 1, guids as their 16 bytes and
// dynamic values as their JSON text.
func hashOf(v any) uint64 {
	var b [8]byte
	switch v := v.(type) {
	case string:
		return xxhash.Sum64String(v)
	case bool:
		if v {
			b[0] = 1
		}
	case int32:
		binary.LittleEndian.PutUint64(b[:], uint64(int64(v)))
	case int64:
		binary.LittleEndian.PutUint64(b[:], uint64(v))
	case float64:
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
	case kusto.DateTime:
		binary.LittleEndian.PutUint64(b[:], uint64(v))
	case kusto.Timespan:
		binary.LittleEndian.PutUint64(b[:], uint64(v))
	case uuid.UUID:
		return xxhash.Sum64(v[:])
	default:
		return xxhash.Sum64String(kusto.FormatValue(v))
	}
	return xxhash.Sum64(b[:])
}

// buildHash hashes each value; a null hashes to null, and so does a mod that is not positive.
func buildHash(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeLong, args, func(v []any) (int64, bool) {
		if v[0] == nil && args[0].typ != kusto.TypeString {
			return 0, false
		}
		h := hashOf(v[0])
		if len(v) == 1 {
			return int64(h), true
		}
		mod, ok := v[1].(int64)
		if !ok || mod <= 0 {
			return 0, false
		}
		return int64(h % uint64(mod)), true
	}), nil
}
