package engine

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// scope is what names in an expression can refer to: the input's columns, then scalar lets.
type scope struct {
	schema Schema
	c      *compiler
	rowOps int // the operations compiled so far that depend on the row
	// agg is where the expression stands, for the error an aggregation function's call there
	// gets; inAggregate names the aggregation function whose argument it is, if it is one.
	agg         aggPlace
	inAggregate string
	// windows are the window calls a windowNode below computes, with their columns (window.go).
	windows map[*parser.CallExpr]int
}

// maxRowOperations bounds the operations that depend on the row in the expressions of one scope
// (one operator's, or print's). Each holds a batch of scratch space in every evaluator, and
// evaluating recurses through them, so an expression such as x + x + … + x of a million terms
// would cost gigabytes and as deep a stack. Operations on constants are folded as they are
// compiled, so 1 + 1 + … + 1 costs nothing to evaluate and is not limited.
const maxRowOperations = 4096

func (sc *scope) compile(e parser.Expr) (*compiled, error) {
	x, err := sc.compileNode(e)
	if err != nil {
		return nil, err
	}
	return sc.counted(x, e)
}

// counted counts x, compiled from e, against maxRowOperations.
func (sc *scope) counted(x *compiled, e parser.Expr) (*compiled, error) {
	if !x.isConst() {
		if sc.rowOps++; sc.rowOps > maxRowOperations {
			return nil, sc.c.errorf(e.Offset(), kusto.KindSemantic, "expression too large: Kustard allows %d operations that depend on the row in one operator; for a long list of values, use in (…)", maxRowOperations)
		}
	}
	return x, nil
}

func (sc *scope) compileNode(e parser.Expr) (*compiled, error) {
	switch e := e.(type) {
	case *parser.LiteralExpr:
		return constant(e.Type, e.Value), nil
	case *parser.ColumnExpr:
		if i := sc.schema.Index(e.Name); i >= 0 {
			return columnRef(sc.schema[i].Type, i), nil
		}
		return sc.named(e) // lets, parameters, functions (userfunc.go)
	case *parser.NegateExpr:
		return sc.negate(e)
	case *parser.BinaryExpr:
		return sc.binary(e)
	case *parser.InExpr:
		return sc.in(e)
	case *parser.IndexExpr:
		return sc.access(e)
	case *parser.BetweenExpr:
		return sc.between(e)
	case *parser.CallExpr:
		return sc.call(e)
	case *parser.StarExpr:
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "* stands for all the columns only as an argument of arg_max(), arg_min() and take_any()")
	case *parser.NamedArgExpr:
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%s = … names a column only as an argument of arg_max(), arg_min() and take_any()", e.Name)
	}
	return nil, fmt.Errorf("engine: unknown expression %T", e)
}

func isNumeric(t kusto.Type) bool {
	return t == kusto.TypeInt || t == kusto.TypeLong || t == kusto.TypeReal
}

// promote returns the type two numeric types meet at: int, then long, then real.
func promote(a, b kusto.Type) kusto.Type { return max(a, b) }

func widenLoop[A, R number](d []R, a []A) {
	d = d[:len(a)]
	for i := range a {
		d[i] = R(a[i])
	}
}

// castNumeric converts a numeric expression to a wider numeric type.
func castNumeric(e *compiled, to kusto.Type) *compiled {
	if e.typ == to {
		return e
	}
	var out *compiled
	switch {
	case e.typ == kusto.TypeInt && to == kusto.TypeLong:
		out = unaryNode(to, e, widenLoop[int32, int64])
	case e.typ == kusto.TypeInt && to == kusto.TypeReal:
		out = unaryNode(to, e, widenLoop[int32, float64])
	case e.typ == kusto.TypeLong && to == kusto.TypeReal:
		out = unaryNode(to, e, widenLoop[int64, float64])
	default:
		panic(fmt.Sprintf("engine: cannot widen %s to %s", e.typ, to))
	}
	return fold(out, e)
}

func negateLoop[T number](d, a []T) {
	d = d[:len(a)]
	for i := range a {
		d[i] = -a[i]
	}
}

func (sc *scope) negate(e *parser.NegateExpr) (*compiled, error) {
	x, err := sc.compile(e.Operand)
	if err != nil {
		return nil, err
	}
	var out *compiled
	site := sc.site(e.At, e, x.typ)
	switch x.typ {
	case kusto.TypeInt:
		out = minCheckedNode(x.typ, x, negateLoop[int32], site)
	case kusto.TypeLong:
		out = minCheckedNode(x.typ, x, negateLoop[int64], site)
	case kusto.TypeReal:
		out = unaryNode(x.typ, x, negateLoop[float64])
	case kusto.TypeTimespan:
		out = minCheckedNode(x.typ, x, negateLoop[kusto.Timespan], site)
	case kusto.TypeDynamic:
		out = negateDynamic(x)
	default:
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot negate a %s", x.typ)
	}
	return fold(out, x), nil
}

// binary compiles a binary expression. A chain such as 1 + 1 + … + 1 leans left and is as deep
// as it is long, so its left spine is compiled by a loop, from its foot up; only nesting, which
// the parser bounds, recurses.
func (sc *scope) binary(e *parser.BinaryExpr) (*compiled, error) {
	spine := []*parser.BinaryExpr{e}
	for {
		left, ok := spine[len(spine)-1].Left.(*parser.BinaryExpr)
		if !ok {
			break
		}
		spine = append(spine, left)
	}
	x, err := sc.compile(spine[len(spine)-1].Left)
	for i := len(spine) - 1; i >= 0 && err == nil; i-- {
		if x, err = sc.binaryStep(spine[i], x); err == nil && i > 0 {
			x, err = sc.counted(x, spine[i]) // the top one is counted by compile
		}
	}
	return x, err
}

// binaryStep compiles e, whose left operand is x.
func (sc *scope) binaryStep(e *parser.BinaryExpr, x *compiled) (*compiled, error) {
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
	case "matches regex":
		out, err = sc.matchesRegex(e, x, y)
	default:
		out, err = sc.stringOperator(e, x, y)
	}
	if err != nil {
		return nil, err
	}
	return fold(out, x, y), nil
}

// numericArithmetic compiles op over two expressions of numeric type t; an int or long result
// that overflows fails at site.
func numericArithmetic(op string, t kusto.Type, x, y *compiled, site *overflowSite) *compiled {
	switch t {
	case kusto.TypeInt:
		return binaryNode(t, x, y, checkedArith[int32](op, site))
	case kusto.TypeLong:
		return binaryNode(t, x, y, checkedArith[int64](op, site))
	default:
		return binaryNode(t, x, y, realKernel(op))
	}
}

// dateShift is datetime ± timespan; sign is 1 or -1. A result out of range fails at site.
func dateShift(sign kusto.DateTime, site *overflowSite) kernel2[kusto.DateTime, kusto.Timespan, kusto.DateTime] {
	return kernel2[kusto.DateTime, kusto.Timespan, kusto.DateTime]{
		vv: func(d []kusto.DateTime, a []kusto.DateTime, b []kusto.Timespan) {
			d, b = d[:len(a)], b[:len(a)]
			for i := range a {
				d[i] = a[i] + sign*kusto.DateTime(b[i])
			}
		},
		vc: func(d []kusto.DateTime, a []kusto.DateTime, b kusto.Timespan) {
			addVC(d, a, sign*kusto.DateTime(b))
		},
		cv: func(d []kusto.DateTime, a kusto.DateTime, b []kusto.Timespan) {
			d = d[:len(b)]
			for i := range b {
				d[i] = a + sign*kusto.DateTime(b[i])
			}
		},
		overflowAt: dateOverflowAt, site: site,
	}
}

var dateDiff = kernel2[kusto.DateTime, kusto.DateTime, kusto.Timespan]{
	vv: func(d []kusto.Timespan, a, b []kusto.DateTime) {
		d, b = d[:len(a)], b[:len(a)]
		for i := range a {
			d[i] = kusto.Timespan(a[i] - b[i])
		}
	},
	vc: func(d []kusto.Timespan, a []kusto.DateTime, b kusto.DateTime) {
		d = d[:len(a)]
		for i := range a {
			d[i] = kusto.Timespan(a[i] - b)
		}
	},
	cv: func(d []kusto.Timespan, a kusto.DateTime, b []kusto.DateTime) {
		d = d[:len(b)]
		for i := range b {
			d[i] = kusto.Timespan(a - b[i])
		}
	},
}

// spanRatio is timespan / timespan, a real; a zero divisor makes a null.
var spanRatio = kernel2[kusto.Timespan, kusto.Timespan, float64]{
	vv: func(d []float64, a, b []kusto.Timespan) {
		d, b = d[:len(a)], b[:len(a)]
		for i := range a {
			d[i] = float64(a[i]) / float64(b[i])
		}
	},
	vc: func(d []float64, a []kusto.Timespan, b kusto.Timespan) {
		d = d[:len(a)]
		for i := range a {
			d[i] = float64(a[i]) / float64(b)
		}
	},
	cv: func(d []float64, a kusto.Timespan, b []kusto.Timespan) {
		d = d[:len(b)]
		for i := range b {
			d[i] = float64(a) / float64(b[i])
		}
	},
	zeroDivisor: true,
}

// spanScale is timespan * real or timespan / real, rounded to a tick; dividing by zero is null.
func spanScale(divide bool, site *overflowSite) kernel2[kusto.Timespan, float64, kusto.Timespan] {
	scale := func(t kusto.Timespan, f float64) kusto.Timespan {
		if divide {
			if f == 0 {
				return 0
			}
			return kusto.Timespan(math.Round(float64(t) / f))
		}
		return kusto.Timespan(math.Round(float64(t) * f))
	}
	return kernel2[kusto.Timespan, float64, kusto.Timespan]{
		overflowAt: scaleOverflowAt(divide), site: site,
		vv: func(d []kusto.Timespan, a []kusto.Timespan, b []float64) {
			d, b = d[:len(a)], b[:len(a)]
			for i := range a {
				d[i] = scale(a[i], b[i])
			}
		},
		vc: func(d []kusto.Timespan, a []kusto.Timespan, b float64) {
			d = d[:len(a)]
			for i := range a {
				d[i] = scale(a[i], b)
			}
		},
		cv: func(d []kusto.Timespan, a kusto.Timespan, b []float64) {
			d = d[:len(b)]
			for i := range b {
				d[i] = scale(a, b[i])
			}
		},
		zeroDivisor: divide,
	}
}

func (sc *scope) arithmetic(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	ts, dt := kusto.TypeTimespan, kusto.TypeDateTime
	op := e.Op
	site := func(t kusto.Type) *overflowSite { return sc.site(e.At, e, t) }
	switch {
	case isNumeric(x.typ) && isNumeric(y.typ):
		t := promote(x.typ, y.typ)
		return numericArithmetic(op, t, castNumeric(x, t), castNumeric(y, t), site(t)), nil
	case x.typ == dt && y.typ == ts && (op == "+" || op == "-"):
		sign := kusto.DateTime(1)
		if op == "-" {
			sign = -1
		}
		return binaryNode(dt, x, y, dateShift(sign, site(dt))), nil
	case x.typ == ts && y.typ == dt && op == "+":
		return binaryNode(dt, y, x, dateShift(1, site(dt))), nil
	case x.typ == dt && y.typ == dt && op == "-":
		return binaryNode(ts, x, y, dateDiff), nil
	case x.typ == ts && y.typ == ts && op != "*":
		if op == "/" {
			return binaryNode(kusto.TypeReal, x, y, spanRatio), nil
		}
		return binaryNode(ts, x, y, checkedArith[kusto.Timespan](op, site(ts))), nil
	case x.typ == ts && isNumeric(y.typ) && (op == "*" || op == "/"), isNumeric(x.typ) && y.typ == ts && op == "*":
		span, factor := x, y
		if y.typ == ts {
			span, factor = y, x
		}
		return binaryNode(ts, span, castNumeric(factor, kusto.TypeReal), spanScale(op == "/", site(ts))), nil
	}
	if x.typ == kusto.TypeDynamic || y.typ == kusto.TypeDynamic {
		if out, ok, err := sc.dynamicArithmetic(e, x, y); ok {
			return out, err
		}
	}
	hint := ""
	if op == "+" && (x.typ == kusto.TypeString || y.typ == kusto.TypeString) {
		hint = "; use strcat() to join strings"
	}
	return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot apply %q to %s and %s%s", op, x.typ, y.typ, hint)
}

// compareNode compiles x op y for two expressions of type t, or returns nil if t does not
// support op.
func compareNode(t kusto.Type, op string, x, y *compiled) *compiled {
	bt := kusto.TypeBool
	switch t {
	case kusto.TypeInt:
		return binaryNode(bt, x, y, orderKernel[int32](op))
	case kusto.TypeLong:
		return binaryNode(bt, x, y, orderKernel[int64](op))
	case kusto.TypeReal:
		return binaryNode(bt, x, y, orderKernel[float64](op))
	case kusto.TypeString:
		return binaryNode(bt, x, y, orderKernel[string](op))
	case kusto.TypeDateTime:
		return binaryNode(bt, x, y, orderKernel[kusto.DateTime](op))
	case kusto.TypeTimespan:
		return binaryNode(bt, x, y, orderKernel[kusto.Timespan](op))
	}
	if op != "==" && op != "!=" {
		return nil
	}
	switch t {
	case kusto.TypeBool:
		return binaryNode(bt, x, y, equalityKernel[bool](op))
	case kusto.TypeGUID:
		return binaryNode(bt, x, y, equalityKernel[uuid.UUID](op))
	}
	return nil
}

// orderable reports whether values of type t have an order (<, max_of).
func orderable(t kusto.Type) bool {
	switch t {
	case kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeString, kusto.TypeDateTime, kusto.TypeTimespan:
		return true
	}
	return false
}

func (sc *scope) comparison(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	if t, ok := unifyTypes(x.typ, y.typ); ok {
		if out := compareNode(t, e.Op, implicit(x, t), implicit(y, t)); out != nil {
			return out, nil
		}
	}
	hint := ""
	if x.typ == kusto.TypeDynamic || y.typ == kusto.TypeDynamic {
		if out, ok := dynamicComparison(e.Op, x, y); ok {
			return out, nil
		}
		hint = "; Kusto orders a dynamic value only beside a number: convert it first, e.g. with todatetime() or tostring()"
	}
	return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot compare %s with %s using %q%s", x.typ, y.typ, e.Op, hint)
}

func (sc *scope) logical(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	x, y = asBool(x), asBool(y)
	if x.typ != kusto.TypeBool || y.typ != kusto.TypeBool {
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%q needs bool operands, not %s and %s", e.Op, x.typ, y.typ)
	}
	return logicalNode(x, y, e.Op == "and"), nil
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

func (sc *scope) stringOperator(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	op, negate := e.Op, false
	switch {
	case op == "!~":
		op, negate = "=~", true
	case strings.HasPrefix(op, "!"):
		op, negate = op[1:], true
	}
	if stringPredicate(op) == nil {
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "unsupported operator %q", e.Op)
	}
	return binaryNode(kusto.TypeBool, asString(x), asString(y), stringKernel(op, negate)), nil
}
