package engine

import (
	"cmp"
	"math"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Operators over dynamic operands, as Kusto.Language's operator signatures (Operators.cs) type
// them: a dynamic operand beside a typed one is read as the other operand's type, so
// Properties.Status == "Failed", d.a > 5, d.a + 1 and d.flag and x > 1 need no conversion.
//
//   - ==, != take a dynamic with a value of any type: the dynamic value converts to that type as
//     to…() converts it (a value that does not convert is null, which equals nothing).
//   - <, <=, >, >= take a dynamic with a number or another dynamic; with a string, a datetime or a
//     timespan Kusto has no such operator, and neither has Kustard.
//   - +, -, *, /, % of a dynamic and an int are a long; of a dynamic and a long or a real, that
//     type; + and - also take a timespan (a timespan) and a datetime (a datetime, the dynamic
//     value read as a timespan).
//   - dynamic with dynamic: ==, != compare the values (numbers by value, arrays and bags
//     element by element); the order and the arithmetic are of numbers, else null; the
//     arithmetic's result is dynamic.
//   - and, or, not(), iff(), case(), where and the predicates of countif() and friends take a
//     dynamic as a bool, as tobool() reads it.

// flipped is the comparison op with its operands swapped: a < b is b > a.
func flipped(op string) string {
	switch op {
	case "<":
		return ">"
	case ">":
		return "<"
	case "<=":
		return ">="
	case ">=":
		return "<="
	}
	return op
}

// ordered reports whether c, the sign of a comparison, satisfies op.
func ordered(op string, c int) bool {
	switch op {
	case "==":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

// dynamicComparison compiles x op y where x or y is dynamic; ok is false where Kusto has no
// such operator.
func dynamicComparison(op string, x, y *compiled) (*compiled, bool) {
	bt := kusto.TypeBool
	if x.typ != kusto.TypeDynamic { // the dynamic operand goes left
		x, y, op = y, x, flipped(op)
	}
	equality := op == "==" || op == "!="
	switch {
	case y.typ == kusto.TypeDynamic:
		return map2Node(bt, x, y, func(a, b any) (bool, bool) {
			if equality {
				return dynamicEqual(a, b) == (op == "=="), true
			}
			return numberTest(op, a, b)
		}), true
	case y.typ == kusto.TypeInt || y.typ == kusto.TypeLong:
		return map2Node(bt, x, castNumeric(y, kusto.TypeLong), func(a any, b int64) (bool, bool) {
			return numberTest(op, a, b)
		}), true
	case y.typ == kusto.TypeReal:
		return map2Node(bt, x, y, func(a any, b float64) (bool, bool) {
			return numberTest(op, a, b)
		}), true
	case equality:
		if out := compareNode(y.typ, op, convert(x, y.typ), y); out != nil {
			return out, true
		}
	}
	return nil, false
}

// numberTest is a op b for a number; a value that is not a number is unequal to it and has no
// order with it (null).
func numberTest(op string, a, b any) (bool, bool) {
	c, ok := compareNumbers(a, b)
	if !ok && (op == "==" || op == "!=") {
		return op == "!=", true
	}
	return ordered(op, c), ok
}

// compareNumbers orders two numbers a dynamic holds (int64 or float64); ok is false if either
// is not a number. A long and a real compare by value, exactly: 2^53+1 is more than 2^53.
func compareNumbers(a, b any) (int, bool) {
	switch a := a.(type) {
	case int64:
		switch b := b.(type) {
		case int64:
			return cmp.Compare(a, b), true
		case float64:
			return -compareRealLong(b, a), !math.IsNaN(b)
		}
	case float64:
		switch b := b.(type) {
		case int64:
			return compareRealLong(a, b), !math.IsNaN(a)
		case float64:
			return cmp.Compare(a, b), !math.IsNaN(a) && !math.IsNaN(b)
		}
	}
	return 0, false
}

// compareRealLong orders a real and a long without rounding the long to a real.
func compareRealLong(a float64, b int64) int {
	switch {
	case a < -(1 << 63):
		return -1
	case a >= 1<<63:
		return 1
	}
	t := math.Trunc(a)
	if c := cmp.Compare(int64(t), b); c != 0 {
		return c
	}
	return cmp.Compare(a, t) // the same whole part: the fraction decides
}

// dynamicEqual reports whether two dynamic values are equal: numbers by value, strings and
// bools exactly, arrays element by element and bags key by key. A null equals nothing.
func dynamicEqual(a, b any) bool {
	switch a := a.(type) {
	case int64, float64:
		c, ok := compareNumbers(a, b)
		return ok && c == 0
	case string:
		s, ok := b.(string)
		return ok && a == s
	case bool:
		v, ok := b.(bool)
		return ok && a == v
	case []any:
		v, ok := b.([]any)
		if !ok || len(a) != len(v) {
			return false
		}
		for i := range a {
			if !dynamicEqual(a[i], v[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		v, ok := b.(map[string]any)
		if !ok || len(a) != len(v) {
			return false
		}
		for k, x := range a {
			if y, ok := v[k]; !ok || !dynamicEqual(x, y) {
				return false
			}
		}
		return true
	}
	return false
}

// dynamicArithmetic compiles x op y where x or y is dynamic, by the type Kusto reads the
// dynamic operand as; ok is false where Kusto has no such operator.
func (sc *scope) dynamicArithmetic(e *parser.BinaryExpr, x, y *compiled) (*compiled, bool, error) {
	if x.typ == kusto.TypeDynamic && y.typ == kusto.TypeDynamic {
		return map2Node(kusto.TypeDynamic, x, y, dynamicArith(e.Op)), true, nil
	}
	other := y.typ
	if y.typ == kusto.TypeDynamic {
		other = x.typ
	}
	additive := e.Op == "+" || e.Op == "-"
	var as kusto.Type
	switch {
	case other == kusto.TypeInt:
		as = kusto.TypeLong
	case other == kusto.TypeLong, other == kusto.TypeReal:
		as = other
	case other == kusto.TypeTimespan && additive:
		as = kusto.TypeTimespan
	case other == kusto.TypeDateTime && (e.Op == "+" || e.Op == "-" && x.typ == kusto.TypeDateTime):
		as = kusto.TypeTimespan // datetime ± a span
	default:
		return nil, false, nil
	}
	if x.typ == kusto.TypeDynamic {
		x = convert(x, as)
	} else {
		y = convert(y, as)
	}
	out, err := sc.arithmetic(e, x, y)
	return out, true, err
}

// dynamicArith is op over the numbers two dynamic values hold: of two longs a long, else a
// real; null if either is not a number, and for a long result that overflows or divides by
// zero (a dynamic result has no type to fail in).
func dynamicArith(op string) func(a, b any) (any, bool) {
	return func(a, b any) (any, bool) {
		x, xl := a.(int64)
		y, yl := b.(int64)
		if xl && yl {
			r, ok := longArith(op, x, y)
			return r, ok
		}
		f, ok1 := realOf(a)
		g, ok2 := realOf(b)
		if !ok1 || !ok2 {
			return nil, false
		}
		switch op {
		case "+":
			return f + g, true
		case "-":
			return f - g, true
		case "*":
			return f * g, true
		case "/":
			return f / g, true
		}
		return math.Mod(f, g), true
	}
}

func realOf(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// longArith is op over two longs; false on overflow or a zero divisor.
func longArith(op string, a, b int64) (int64, bool) {
	switch op {
	case "+":
		r := a + b
		return r, (r > a) == (b > 0)
	case "-":
		r := a - b
		return r, (r < a) == (b > 0)
	case "*":
		if a == 0 || b == 0 {
			return 0, true
		}
		r := a * b
		return r, r/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
	case "/":
		if b == 0 || a == math.MinInt64 && b == -1 {
			return 0, false
		}
		return a / b, true
	}
	if b == 0 {
		return 0, false
	}
	if b == -1 {
		return 0, true
	}
	return a % b, true
}

// negateDynamic is -d: a number negated, as a dynamic; null if d holds no number.
func negateDynamic(x *compiled) *compiled {
	return convNode(kusto.TypeDynamic, x, func(v any) (any, bool) {
		switch v := v.(type) {
		case int64:
			return -v, v != math.MinInt64
		case float64:
			return -v, true
		}
		return nil, false
	})
}

// asBool reads a dynamic where a bool is wanted, as tobool() does; other types are kept, for
// the caller's error.
func asBool(x *compiled) *compiled {
	if x.typ == kusto.TypeDynamic {
		return convert(x, kusto.TypeBool)
	}
	return x
}
