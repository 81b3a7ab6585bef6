package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The kernels against naive reference implementations, over random data: every operation, for
// each type, in the vector–vector, vector–constant and constant–vector forms, without and with
// nulls, over plain and chunked columns (which straddle chunk boundaries).

type operandGen[T any] struct {
	typ  kusto.Type
	rand func(r *rand.Rand) T
}

var (
	genInt    = operandGen[int32]{kusto.TypeInt, func(r *rand.Rand) int32 { return int32(r.IntN(11) - 5) }}
	genLong   = operandGen[int64]{kusto.TypeLong, func(r *rand.Rand) int64 { return int64(r.IntN(21) - 10) }}
	genReal   = operandGen[float64]{kusto.TypeReal, func(r *rand.Rand) float64 { return float64(r.IntN(9)-4) / 2 }}
	genString = operandGen[string]{kusto.TypeString, func(r *rand.Rand) string {
		words := []string{"", "a", "A", "ab", "Ab c", "b-a", "abc", "x ab", "ba", "AB"}
		return words[r.IntN(len(words))]
	}}
	genBool     = operandGen[bool]{kusto.TypeBool, func(r *rand.Rand) bool { return r.IntN(2) == 0 }}
	genDateTime = operandGen[kusto.DateTime]{kusto.TypeDateTime, func(r *rand.Rand) kusto.DateTime { return kusto.DateTime(r.IntN(5)) }}
	genTimespan = operandGen[kusto.Timespan]{kusto.TypeTimespan, func(r *rand.Rand) kusto.Timespan { return kusto.Timespan(r.IntN(5) - 2) }}
	genGUID     = operandGen[uuid.UUID]{kusto.TypeGUID, func(r *rand.Rand) uuid.UUID { return uuid.UUID{byte(r.IntN(3))} }}
)

// randomColumn returns n values, some null if nulls (never for strings), as a plain vector or
// built in chunks, and the values boxed (nil for null).
func randomColumn[T any](r *rand.Rand, g operandGen[T], n int, nulls, chunked bool) (Column, []any) {
	b := builderFor(newColumn(g.typ, n))
	want := make([]any, n)
	for i := range n {
		var v any = g.rand(r)
		if nulls && g.typ != kusto.TypeString && r.IntN(4) == 0 {
			v = nil
		}
		b.appendValue(v)
		want[i] = v
	}
	if !chunked {
		return b.column(), want
	}
	cb := newChunkedBuilder(g.typ, 0)
	col := b.column()
	for lo := 0; lo < n; lo += 1000 {
		cb.appendColumn(col.Slice(lo, min(n, lo+1000)))
	}
	return cb.column(), want
}

// sameValue compares results, taking NaN as equal to NaN.
func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb || math.IsNaN(fa) && math.IsNaN(fb))
	}
	return a == b
}

type binaryCase struct {
	name string
	node func(x, y *compiled) *compiled
	ref  func(a, b any) any // both non-null unless nullable; nil for null
	// nullable: ref sees nulls (as nil) and decides; otherwise a null operand makes a null.
	nullable bool
}

// checkBinaryCases runs each case over random operands of generators ga and gb.
func checkBinaryCases[A, B any](t *testing.T, ga operandGen[A], gb operandGen[B], cases []binaryCase) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		for _, form := range []string{"vv", "vc", "cv"} {
			for _, nulls := range []bool{false, true} {
				for _, chunked := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/%s/nulls=%v/chunked=%v", ga.typ, c.name, form, nulls, chunked)
					n := 100
					if chunked {
						n = chunkRows + 1500
					}
					xcol, xs := randomColumn(r, ga, n, nulls, chunked)
					ycol, ys := randomColumn(r, gb, n, nulls, chunked)
					x, y := columnRef(ga.typ, 0), columnRef(gb.typ, 1)
					switch form {
					case "vc":
						y = constant(gb.typ, ys[0])
						for i := range ys {
							ys[i] = ys[0]
						}
					case "cv":
						x = constant(ga.typ, xs[0])
						for i := range xs {
							xs[i] = xs[0]
						}
					}
					batch := &Batch{Cols: []Column{xcol, ycol}, Len: n}
					e := c.node(x, y)
					check := func(how string, got Column) {
						t.Helper()
						if got.Len() != n {
							t.Fatalf("%s %s: %d rows, want %d", name, how, got.Len(), n)
						}
						for i := range n {
							var want any
							if c.nullable || xs[i] != nil && ys[i] != nil {
								want = c.ref(xs[i], ys[i])
							}
							if v := got.Value(i); !sameValue(v, want) || got.IsNull(i) != (want == nil) {
								t.Fatalf("%s %s: row %d: %v, %v = %v (null %v), want %v", name, how, i, xs[i], ys[i], v, got.IsNull(i), want)
							}
						}
					}
					owned := e.eval(batch)
					check("eval", owned)
					ev := e.evaluator()
					check("evaluator", ev(batch))
					check("evaluator again", ev(batch))
					check("eval after the evaluator", owned)
				}
			}
		}
	}
}

func arithCases[T int32 | int64](t kusto.Type) []binaryCase {
	var cases []binaryCase
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		cases = append(cases, binaryCase{name: op, node: func(x, y *compiled) *compiled { return numericArithmetic(op, t, x, y, &overflowSite{}) },
			ref: func(a, b any) any {
				p, q := a.(T), b.(T)
				switch op {
				case "+":
					return p + q
				case "-":
					return p - q
				case "*":
					return p * q
				case "/":
					if q == 0 {
						return nil
					}
					return p / q
				}
				if q == 0 {
					return nil
				}
				return p % q
			}})
	}
	return cases
}

func compareCases[T int32 | int64 | float64 | string | kusto.DateTime | kusto.Timespan](t kusto.Type) []binaryCase {
	var cases []binaryCase
	for _, op := range []string{"==", "!=", "<", "<=", ">", ">="} {
		cases = append(cases, binaryCase{name: op, node: func(x, y *compiled) *compiled { return compareNode(t, op, x, y) },
			ref: func(a, b any) any {
				p, q := a.(T), b.(T)
				return map[string]bool{"==": p == q, "!=": p != q, "<": p < q, "<=": p <= q, ">": p > q, ">=": p >= q}[op]
			}})
	}
	return cases
}

func equalityCases[T bool | uuid.UUID](t kusto.Type) []binaryCase {
	return []binaryCase{
		{name: "==", node: func(x, y *compiled) *compiled { return compareNode(t, "==", x, y) }, ref: func(a, b any) any { return a.(T) == b.(T) }},
		{name: "!=", node: func(x, y *compiled) *compiled { return compareNode(t, "!=", x, y) }, ref: func(a, b any) any { return a.(T) != b.(T) }},
	}
}

func TestArithmeticKernels(t *testing.T) {
	checkBinaryCases(t, genInt, genInt, arithCases[int32](kusto.TypeInt))
	checkBinaryCases(t, genLong, genLong, arithCases[int64](kusto.TypeLong))
	var real []binaryCase
	for _, op := range []string{"+", "-", "*", "/", "%"} {
		real = append(real, binaryCase{name: op, node: func(x, y *compiled) *compiled { return numericArithmetic(op, kusto.TypeReal, x, y, nil) },
			ref: func(a, b any) any {
				p, q := a.(float64), b.(float64)
				return map[string]float64{"+": p + q, "-": p - q, "*": p * q, "/": p / q, "%": math.Mod(p, q)}[op]
			}})
	}
	checkBinaryCases(t, genReal, genReal, real)
}

func TestComparisonKernels(t *testing.T) {
	checkBinaryCases(t, genInt, genInt, compareCases[int32](kusto.TypeInt))
	checkBinaryCases(t, genLong, genLong, compareCases[int64](kusto.TypeLong))
	checkBinaryCases(t, genReal, genReal, compareCases[float64](kusto.TypeReal))
	checkBinaryCases(t, genString, genString, compareCases[string](kusto.TypeString))
	checkBinaryCases(t, genDateTime, genDateTime, compareCases[kusto.DateTime](kusto.TypeDateTime))
	checkBinaryCases(t, genTimespan, genTimespan, compareCases[kusto.Timespan](kusto.TypeTimespan))
	checkBinaryCases(t, genBool, genBool, equalityCases[bool](kusto.TypeBool))
	checkBinaryCases(t, genGUID, genGUID, equalityCases[uuid.UUID](kusto.TypeGUID))
}

func TestLogicalKernels(t *testing.T) {
	// Three-valued logic, spelled out: nil is null.
	and := func(a, b any) any {
		switch {
		case a == false || b == false:
			return false
		case a == nil || b == nil:
			return nil
		}
		return true
	}
	or := func(a, b any) any {
		switch {
		case a == true || b == true:
			return true
		case a == nil || b == nil:
			return nil
		}
		return false
	}
	checkBinaryCases(t, genBool, genBool, []binaryCase{
		{name: "and", node: func(x, y *compiled) *compiled { return logicalNode(x, y, true) }, ref: and, nullable: true},
		{name: "or", node: func(x, y *compiled) *compiled { return logicalNode(x, y, false) }, ref: or, nullable: true},
	})
}

func TestStringKernels(t *testing.T) {
	// The reference folds case on both sides every time; the kernels prepare a constant once.
	naive := map[string]func(a, b string) bool{
		"=~":            strings.EqualFold,
		"contains":      func(a, b string) bool { return strings.Contains(strings.ToLower(a), strings.ToLower(b)) },
		"contains_cs":   strings.Contains,
		"startswith":    func(a, b string) bool { return strings.HasPrefix(strings.ToLower(a), strings.ToLower(b)) },
		"startswith_cs": strings.HasPrefix,
		"endswith":      func(a, b string) bool { return strings.HasSuffix(strings.ToLower(a), strings.ToLower(b)) },
		"endswith_cs":   strings.HasSuffix,
		"has":           func(a, b string) bool { return hasTerm(a, b, true, true, true) },
		"has_cs":        func(a, b string) bool { return hasTerm(a, b, true, true, false) },
		"hasprefix":     func(a, b string) bool { return hasTerm(a, b, true, false, true) },
		"hassuffix":     func(a, b string) bool { return hasTerm(a, b, false, true, true) },
	}
	var cases []binaryCase
	for op, test := range naive {
		for _, negate := range []bool{false, true} {
			name := op
			if negate {
				name = "!" + op
			}
			cases = append(cases, binaryCase{name: name,
				node: func(x, y *compiled) *compiled { return binaryNode(kusto.TypeBool, x, y, stringKernel(op, negate)) },
				ref:  func(a, b any) any { return test(a.(string), b.(string)) != negate }})
		}
	}
	checkBinaryCases(t, genString, genString, cases)
}

func TestVectorOfChunked(t *testing.T) {
	c, want := buildChunked(t, 3*chunkRows+5)
	v := vectorOf[int64](c)
	checkColumn(t, "vectorOf a chunked column", v, want)
	one := c.Slice(10, 20)
	if vectorOf[int64](one) != one {
		t.Error("vectorOf copied a vector")
	}
}

// Division and remainder by a constant, which multiply by an inverse, against Go's operators
// over the edges of int64 and int32 and random values, for divisors of every size and sign.
func TestDivisionByConstant(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	divisors := []int64{1, -1, 2, -2, 3, 7, 10, -10, 16, 1000, 1 << 31, 1<<31 + 1, 1<<62 + 3, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for range 200 {
		divisors = append(divisors, r.Int64()>>r.IntN(63)*int64(1-2*r.IntN(2)))
	}
	values := []int64{0, 1, -1, 2, -2, 9, -9, 10, -10, 11, math.MaxInt64, math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1}
	for range 2000 {
		values = append(values, r.Int64()>>r.IntN(63)*int64(1-2*r.IntN(2)))
	}
	q, m := make([]int64, len(values)), make([]int64, len(values))
	for _, b := range divisors {
		if b == 0 {
			continue
		}
		divVC(q, values, b)
		modVC(m, values, b)
		for i, a := range values {
			if q[i] != a/b || m[i] != a%b {
				t.Fatalf("%d / %d = %d, %% = %d; want %d and %d", a, b, q[i], m[i], a/b, a%b)
			}
		}
		if b < math.MinInt32 || b > math.MaxInt32 {
			continue
		}
		v32 := make([]int32, len(values))
		for i, a := range values {
			v32[i] = int32(a)
		}
		q32, m32 := make([]int32, len(values)), make([]int32, len(values))
		divVC(q32, v32, int32(b))
		modVC(m32, v32, int32(b))
		for i, a := range v32 {
			if q32[i] != a/int32(b) || m32[i] != a%int32(b) {
				t.Fatalf("int32 %d / %d = %d, %% = %d; want %d and %d", a, b, q32[i], m32[i], a/int32(b), a%int32(b))
			}
		}
	}
}
