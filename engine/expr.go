package engine

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// A scalar expression compiles to a typed closure that evaluates a whole batch at once, so a
// query pays for dispatch once per batch, not once per row.

type compiled struct {
	typ  kusto.Type
	eval func(b *Batch) Column
	// konst is set when the expression does not depend on any row; evaluating it once suffices.
	konst *constValue
}

type constValue struct{ v any } // v is nil for a null

// scope is what names in an expression can refer to: the input's columns, then scalar lets.
type scope struct {
	schema Schema
	c      *compiler
}

func (c *compiled) isConst() bool { return c.konst != nil }

// constant returns an expression that is the value v (nil for null) of type typ.
func constant(typ kusto.Type, v any) *compiled {
	col := constColumn(typ, v, batchSize)
	return &compiled{typ: typ, konst: &constValue{v}, eval: func(b *Batch) Column { return col.Slice(0, b.Len) }}
}

// fold replaces an expression whose inputs are all constant by its value.
func fold(e *compiled, inputs ...*compiled) *compiled {
	for _, in := range inputs {
		if !in.isConst() {
			return e
		}
	}
	return constant(e.typ, e.eval(&Batch{Len: 1}).Value(0))
}

func (sc *scope) compile(e parser.Expr) (*compiled, error) {
	switch e := e.(type) {
	case *parser.LiteralExpr:
		return constant(e.Type, e.Value), nil
	case *parser.ColumnExpr:
		if i := sc.schema.Index(e.Name); i >= 0 {
			return &compiled{typ: sc.schema[i].Type, eval: func(b *Batch) Column { return b.Cols[i] }}, nil
		}
		if lit, ok := sc.c.scalarLet(e.Name); ok {
			return constant(lit.Type, lit.Value), nil
		}
		if _, ok := sc.c.tabularLet(e.Name); ok {
			return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%q is a tabular expression; it cannot be used as a scalar here", e.Name)
		}
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "failed to resolve scalar expression named %q", e.Name)
	case *parser.NegateExpr:
		return sc.negate(e)
	case *parser.BinaryExpr:
		return sc.binary(e)
	case *parser.InExpr:
		return sc.in(e)
	case *parser.CallExpr:
		return sc.call(e)
	}
	return nil, fmt.Errorf("engine: unknown expression %T", e)
}

func isNumeric(t kusto.Type) bool {
	return t == kusto.TypeInt || t == kusto.TypeLong || t == kusto.TypeReal
}

// promote returns the type two numeric types meet at: int, then long, then real.
func promote(a, b kusto.Type) kusto.Type { return max(a, b) }

// castNumeric converts a numeric column to a wider numeric type.
func castNumeric(e *compiled, to kusto.Type) *compiled {
	if e.typ == to {
		return e
	}
	var conv func(Column) Column
	switch {
	case e.typ == kusto.TypeInt && to == kusto.TypeLong:
		conv = func(c Column) Column { return mapCol(to, c, func(v int32) (int64, bool) { return int64(v), true }) }
	case e.typ == kusto.TypeInt && to == kusto.TypeReal:
		conv = func(c Column) Column { return mapCol(to, c, func(v int32) (float64, bool) { return float64(v), true }) }
	case e.typ == kusto.TypeLong && to == kusto.TypeReal:
		conv = func(c Column) Column { return mapCol(to, c, func(v int64) (float64, bool) { return float64(v), true }) }
	default:
		panic(fmt.Sprintf("engine: cannot widen %s to %s", e.typ, to))
	}
	return fold(&compiled{typ: to, eval: func(b *Batch) Column { return conv(e.eval(b)) }}, e)
}

// mapCol applies f to every non-null element of x; f's ok=false makes a null.
func mapCol[A, R any](typ kusto.Type, x Column, f func(A) (R, bool)) Column {
	xv := x.(*Vector[A])
	out := make([]R, len(xv.Data))
	var nulls []bool
	for i, v := range xv.Data {
		if xv.Nulls != nil && xv.Nulls[i] {
			nulls = setNull(nulls, len(out), i)
			continue
		}
		r, ok := f(v)
		if !ok {
			nulls = setNull(nulls, len(out), i)
			continue
		}
		out[i] = r
	}
	return finishVector(typ, out, nulls)
}

// zip applies f to the elements of x and y wherever neither is null.
func zip[A, B, R any](typ kusto.Type, x, y Column, f func(A, B) (R, bool)) Column {
	xv, yv := x.(*Vector[A]), y.(*Vector[B])
	out := make([]R, len(xv.Data))
	var nulls []bool
	check := xv.Nulls != nil || yv.Nulls != nil
	for i := range out {
		if check && (xv.IsNull(i) || yv.IsNull(i)) {
			nulls = setNull(nulls, len(out), i)
			continue
		}
		r, ok := f(xv.Data[i], yv.Data[i])
		if !ok {
			nulls = setNull(nulls, len(out), i)
			continue
		}
		out[i] = r
	}
	return finishVector(typ, out, nulls)
}

func setNull(nulls []bool, n, i int) []bool {
	if nulls == nil {
		nulls = make([]bool, n)
	}
	nulls[i] = true
	return nulls
}

// finishVector makes a vector, dropping null flags for strings, which are never null.
func finishVector[R any](typ kusto.Type, data []R, nulls []bool) Column {
	if typ == kusto.TypeString {
		nulls = nil
	}
	return &Vector[R]{typ: typ, Data: data, Nulls: nulls}
}

func (sc *scope) negate(e *parser.NegateExpr) (*compiled, error) {
	x, err := sc.compile(e.Operand)
	if err != nil {
		return nil, err
	}
	var f func(Column) Column
	switch x.typ {
	case kusto.TypeInt:
		f = func(c Column) Column { return mapCol(x.typ, c, func(v int32) (int32, bool) { return -v, true }) }
	case kusto.TypeLong:
		f = func(c Column) Column { return mapCol(x.typ, c, func(v int64) (int64, bool) { return -v, true }) }
	case kusto.TypeReal:
		f = func(c Column) Column { return mapCol(x.typ, c, func(v float64) (float64, bool) { return -v, true }) }
	case kusto.TypeTimespan:
		f = func(c Column) Column {
			return mapCol(x.typ, c, func(v kusto.Timespan) (kusto.Timespan, bool) { return -v, true })
		}
	default:
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot negate a %s", x.typ)
	}
	return fold(&compiled{typ: x.typ, eval: func(b *Batch) Column { return f(x.eval(b)) }}, x), nil
}

func (sc *scope) binary(e *parser.BinaryExpr) (*compiled, error) {
	x, err := sc.compile(e.Left)
	if err != nil {
		return nil, err
	}
	y, err := sc.compile(e.Right)
	if err != nil {
		return nil, err
	}
	var out *compiled
	switch e.Op {
	case "+", "-", "*", "/", "%":
		out, err = sc.arithmetic(e, x, y)
	case "==", "!=", "<", "<=", ">", ">=":
		out, err = sc.comparison(e, x, y)
	case "and", "or":
		out, err = sc.logical(e, x, y)
	default:
		out, err = sc.stringOperator(e, x, y)
	}
	if err != nil {
		return nil, err
	}
	return fold(out, x, y), nil
}

type number interface{ int32 | int64 | float64 }

func numericOp[T number](op string) func(a, b T) (T, bool) {
	var zero T
	_, float := any(zero).(float64)
	switch op {
	case "+":
		return func(a, b T) (T, bool) { return a + b, true }
	case "-":
		return func(a, b T) (T, bool) { return a - b, true }
	case "*":
		return func(a, b T) (T, bool) { return a * b, true }
	case "/":
		return func(a, b T) (T, bool) {
			if b == 0 && !float {
				return 0, false // integer division by zero is null, as in Kusto
			}
			return a / b, true
		}
	default: // %
		return func(a, b T) (T, bool) {
			if float {
				return T(math.Mod(float64(a), float64(b))), true
			}
			if b == 0 {
				return 0, false
			}
			return remainder(a, b), true
		}
	}
}

// remainder is a % b for the integer types (T is never float64 here).
func remainder[T number](a, b T) T {
	return T(int64(a) % int64(b))
}

func binaryEval(x, y *compiled, typ kusto.Type, f func(a, b Column) Column) *compiled {
	return &compiled{typ: typ, eval: func(b *Batch) Column { return f(x.eval(b), y.eval(b)) }}
}

func (sc *scope) arithmetic(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	ts, dt := kusto.TypeTimespan, kusto.TypeDateTime
	op := e.Op
	switch {
	case isNumeric(x.typ) && isNumeric(y.typ):
		t := promote(x.typ, y.typ)
		x, y = castNumeric(x, t), castNumeric(y, t)
		switch t {
		case kusto.TypeInt:
			return binaryEval(x, y, t, func(a, b Column) Column { return zip(t, a, b, numericOp[int32](op)) }), nil
		case kusto.TypeLong:
			return binaryEval(x, y, t, func(a, b Column) Column { return zip(t, a, b, numericOp[int64](op)) }), nil
		default:
			return binaryEval(x, y, t, func(a, b Column) Column { return zip(t, a, b, numericOp[float64](op)) }), nil
		}
	case x.typ == dt && y.typ == ts && (op == "+" || op == "-"):
		sign := kusto.DateTime(1)
		if op == "-" {
			sign = -1
		}
		return binaryEval(x, y, dt, func(a, b Column) Column {
			return zip(dt, a, b, func(d kusto.DateTime, t kusto.Timespan) (kusto.DateTime, bool) {
				r := d + sign*kusto.DateTime(t)
				return r, r.Valid()
			})
		}), nil
	case x.typ == ts && y.typ == dt && op == "+":
		return binaryEval(y, x, dt, func(a, b Column) Column {
			return zip(dt, a, b, func(d kusto.DateTime, t kusto.Timespan) (kusto.DateTime, bool) {
				r := d + kusto.DateTime(t)
				return r, r.Valid()
			})
		}), nil
	case x.typ == dt && y.typ == dt && op == "-":
		return binaryEval(x, y, ts, func(a, b Column) Column {
			return zip(ts, a, b, func(p, q kusto.DateTime) (kusto.Timespan, bool) { return kusto.Timespan(p - q), true })
		}), nil
	case x.typ == ts && y.typ == ts && op != "*":
		if op == "/" {
			return binaryEval(x, y, kusto.TypeReal, func(a, b Column) Column {
				return zip(kusto.TypeReal, a, b, func(p, q kusto.Timespan) (float64, bool) { return float64(p) / float64(q), q != 0 })
			}), nil
		}
		f := numericOp[int64](op)
		return binaryEval(x, y, ts, func(a, b Column) Column {
			return zip(ts, a, b, func(p, q kusto.Timespan) (kusto.Timespan, bool) {
				r, ok := f(int64(p), int64(q))
				return kusto.Timespan(r), ok
			})
		}), nil
	case x.typ == ts && isNumeric(y.typ) && (op == "*" || op == "/"), isNumeric(x.typ) && y.typ == ts && op == "*":
		span, factor := x, y
		if y.typ == ts {
			span, factor = y, x
		}
		factor = castNumeric(factor, kusto.TypeReal)
		return binaryEval(span, factor, ts, func(a, b Column) Column {
			return zip(ts, a, b, func(t kusto.Timespan, f float64) (kusto.Timespan, bool) {
				if op == "/" {
					if f == 0 {
						return 0, false
					}
					return kusto.Timespan(math.Round(float64(t) / f)), true
				}
				return kusto.Timespan(math.Round(float64(t) * f)), true
			})
		}), nil
	}
	hint := ""
	if op == "+" && (x.typ == kusto.TypeString || y.typ == kusto.TypeString) {
		hint = "; use strcat() to join strings"
	}
	return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot apply %q to %s and %s%s", op, x.typ, y.typ, hint)
}

func ordered[T cmp.Ordered](op string) func(a, b T) (bool, bool) {
	switch op {
	case "==":
		return func(a, b T) (bool, bool) { return a == b, true }
	case "!=":
		return func(a, b T) (bool, bool) { return a != b, true }
	case "<":
		return func(a, b T) (bool, bool) { return a < b, true }
	case "<=":
		return func(a, b T) (bool, bool) { return a <= b, true }
	case ">":
		return func(a, b T) (bool, bool) { return a > b, true }
	default:
		return func(a, b T) (bool, bool) { return a >= b, true }
	}
}

func equality[T comparable](op string) func(a, b T) (bool, bool) {
	if op == "==" {
		return func(a, b T) (bool, bool) { return a == b, true }
	}
	return func(a, b T) (bool, bool) { return a != b, true }
}

// compareColumns builds the comparison of two columns of the same type, or returns nil if the
// type does not support op.
func compareColumns(t kusto.Type, op string) func(a, b Column) Column {
	bt := kusto.TypeBool
	switch t {
	case kusto.TypeInt:
		return func(a, b Column) Column { return zip(bt, a, b, ordered[int32](op)) }
	case kusto.TypeLong:
		return func(a, b Column) Column { return zip(bt, a, b, ordered[int64](op)) }
	case kusto.TypeReal:
		return func(a, b Column) Column { return zip(bt, a, b, ordered[float64](op)) }
	case kusto.TypeString:
		return func(a, b Column) Column { return zip(bt, a, b, ordered[string](op)) }
	case kusto.TypeDateTime:
		return func(a, b Column) Column { return zip(bt, a, b, ordered[kusto.DateTime](op)) }
	case kusto.TypeTimespan:
		return func(a, b Column) Column { return zip(bt, a, b, ordered[kusto.Timespan](op)) }
	}
	if op != "==" && op != "!=" {
		return nil
	}
	switch t {
	case kusto.TypeBool:
		return func(a, b Column) Column { return zip(bt, a, b, equality[bool](op)) }
	case kusto.TypeGUID:
		return func(a, b Column) Column { return zip(bt, a, b, equality[uuid.UUID](op)) }
	}
	return nil
}

func (sc *scope) comparison(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	if isNumeric(x.typ) && isNumeric(y.typ) {
		t := promote(x.typ, y.typ)
		x, y = castNumeric(x, t), castNumeric(y, t)
	}
	if x.typ == y.typ {
		if f := compareColumns(x.typ, e.Op); f != nil {
			return binaryEval(x, y, kusto.TypeBool, f), nil
		}
	}
	hint := ""
	if x.typ == kusto.TypeDynamic || y.typ == kusto.TypeDynamic {
		hint = "; convert the dynamic value first, e.g. with tostring() or tolong()"
	}
	return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot compare %s with %s using %q%s", x.typ, y.typ, e.Op, hint)
}

func (sc *scope) logical(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	if x.typ != kusto.TypeBool || y.typ != kusto.TypeBool {
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%q needs bool operands, not %s and %s", e.Op, x.typ, y.typ)
	}
	and := e.Op == "and"
	return binaryEval(x, y, kusto.TypeBool, func(a, b Column) Column {
		av, bv := a.(*Vector[bool]), b.(*Vector[bool])
		out := make([]bool, len(av.Data))
		var nulls []bool
		for i := range out {
			an, bn := av.IsNull(i), bv.IsNull(i)
			ab, bb := av.Data[i] && !an, bv.Data[i] && !bn
			// Three-valued logic: false and null is false, true or null is true, else null.
			switch {
			case and && (!an && !ab || !bn && !bb):
				out[i] = false
			case !and && (ab || bb):
				out[i] = true
			case an || bn:
				nulls = setNull(nulls, len(out), i)
			default: // both known: and of two trues, or of two falses
				out[i] = and
			}
		}
		return &Vector[bool]{typ: kusto.TypeBool, Data: out, Nulls: nulls}
	}), nil
}

// stringOperators maps each string operator to its test; negations are derived.
var stringOperators = map[string]func(a, b string) bool{
	"=~":            strings.EqualFold,
	"contains":      func(a, b string) bool { return containsFold(a, b) },
	"contains_cs":   strings.Contains,
	"startswith":    func(a, b string) bool { return len(a) >= len(b) && strings.EqualFold(a[:len(b)], b) },
	"startswith_cs": strings.HasPrefix,
	"endswith":      func(a, b string) bool { return len(a) >= len(b) && strings.EqualFold(a[len(a)-len(b):], b) },
	"endswith_cs":   strings.HasSuffix,
	"has":           func(a, b string) bool { return hasTerm(a, b, true, true, true) },
	"has_cs":        func(a, b string) bool { return hasTerm(a, b, true, true, false) },
	"hasprefix":     func(a, b string) bool { return hasTerm(a, b, true, false, true) },
	"hassuffix":     func(a, b string) bool { return hasTerm(a, b, false, true, true) },
}

func containsFold(a, b string) bool {
	return strings.Contains(strings.ToLower(a), strings.ToLower(b))
}

func isTermRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// hasTerm reports whether b occurs in a on term boundaries (a term is a run of letters and
// digits): at a term start if start, at a term end if end.
func hasTerm(a, b string, start, end, fold bool) bool {
	if b == "" {
		return true
	}
	if fold {
		a, b = strings.ToLower(a), strings.ToLower(b)
	}
	for off := 0; off <= len(a)-len(b); {
		i := strings.Index(a[off:], b)
		if i < 0 {
			return false
		}
		i += off
		before, _ := utf8.DecodeLastRuneInString(a[:i])
		after, _ := utf8.DecodeRuneInString(a[i+len(b):])
		if (!start || i == 0 || !isTermRune(before)) && (!end || i+len(b) == len(a) || !isTermRune(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(a[i:])
		off = i + size
	}
	return false
}

// asString converts an expression to string, as Kusto does for the operands of string operators.
func asString(e *compiled) *compiled {
	if e.typ == kusto.TypeString {
		return e
	}
	return fold(&compiled{typ: kusto.TypeString, eval: func(b *Batch) Column { return toStringColumn(e.eval(b)) }}, e)
}

func toStringColumn(c Column) Column {
	out := make([]string, c.Len())
	for i := range out {
		out[i] = kusto.FormatValue(c.Value(i))
	}
	return &Vector[string]{typ: kusto.TypeString, Data: out}
}

func (sc *scope) stringOperator(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	op, negate := e.Op, false
	switch {
	case op == "!~":
		op, negate = "=~", true
	case strings.HasPrefix(op, "!"):
		op, negate = op[1:], true
	}
	test, ok := stringOperators[op]
	if !ok {
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "unsupported operator %q", e.Op)
	}
	x, y = asString(x), asString(y)
	return binaryEval(x, y, kusto.TypeBool, func(a, b Column) Column {
		return zip(kusto.TypeBool, a, b, func(p, q string) (bool, bool) { return test(p, q) != negate, true })
	}), nil
}

func (sc *scope) in(e *parser.InExpr) (*compiled, error) {
	x, err := sc.compile(e.Left)
	if err != nil {
		return nil, err
	}
	caseless := strings.HasSuffix(e.Op, "~")
	negate := strings.HasPrefix(e.Op, "!")
	if caseless {
		x = asString(x)
	}
	var tests []*compiled
	inputs := []*compiled{x}
	for _, item := range e.List {
		y, err := sc.compile(item)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, y)
		l, r := x, y
		if isNumeric(l.typ) && isNumeric(r.typ) {
			t := promote(l.typ, r.typ)
			l, r = castNumeric(l, t), castNumeric(r, t)
		}
		var f func(a, b Column) Column
		switch {
		case caseless:
			r = asString(r)
			f = func(a, b Column) Column {
				return zip(kusto.TypeBool, a, b, func(p, q string) (bool, bool) { return strings.EqualFold(p, q), true })
			}
		case l.typ == r.typ:
			f = compareColumns(l.typ, "==")
		}
		if f == nil {
			return nil, sc.c.errorf(item.Offset(), kusto.KindSemantic, "cannot compare %s with %s in %q", x.typ, y.typ, e.Op)
		}
		tests = append(tests, binaryEval(l, r, kusto.TypeBool, f))
	}
	out := &compiled{typ: kusto.TypeBool, eval: func(b *Batch) Column {
		found := make([]bool, b.Len)
		for _, t := range tests {
			col := t.eval(b).(*Vector[bool])
			for i, v := range col.Data {
				found[i] = found[i] || v && !col.IsNull(i)
			}
		}
		if negate {
			for i := range found {
				found[i] = !found[i]
			}
		}
		return &Vector[bool]{typ: kusto.TypeBool, Data: found}
	}}
	return fold(out, inputs...), nil
}
