package parser

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// Expr is a scalar expression tree. Every node knows the byte offset of the text it came from,
// so that type errors found later point at the right place.
type Expr interface{ Offset() int }

// LiteralExpr is a constant.
type LiteralExpr struct {
	At int
	kusto.Literal
}

// ColumnExpr names a column or a scalar let.
type ColumnExpr struct {
	At   int
	Name string
}

// CallExpr is a function call.
type CallExpr struct {
	At   int
	Func string
	// Args are the arguments; one written `name = value` (as user-defined functions, arg_max()
	// and arg_min() take them) is a NamedArgExpr.
	Args []Expr
}

// BinaryExpr is `Left Op Right` for arithmetic, comparison, string and logical operators.
type BinaryExpr struct {
	At          int
	Op          string
	Left, Right Expr
}

// NegateExpr is unary minus.
type NegateExpr struct {
	At      int
	Operand Expr
}

// StarExpr is `*` as an argument: all the columns, in arg_max(x, *), arg_min(x, *) and
// take_any(*). Elsewhere the engine rejects it.
type StarExpr struct {
	At int
}

// NamedArgExpr is `Name = Value` as an argument: a returned column of arg_max(), arg_min() or
// take_any() with its name. Elsewhere the engine rejects it.
type NamedArgExpr struct {
	At    int
	Name  string
	Value Expr
}

// TabularExpr is a tabular expression as a function's argument: toscalar(T | count),
// materialize(T | where …). Text is the expression as written, for plans and messages.
type TabularExpr struct {
	At   int
	Body *Pipeline
	Text string
}

// InExpr is `Left in (List…)` and its negated and case-insensitive forms.
type InExpr struct {
	At   int
	Op   string // in, !in, in~, !in~
	Left Expr
	List []Expr
}

// IndexExpr is a step into a dynamic value: `Target.name`, `Target["name"]` or
// `Target[Index]`. A name is a string literal Index; Dot says it was written `.name`. At is the
// accessor's '.' or '['.
type IndexExpr struct {
	At     int
	Target Expr
	Index  Expr
	Dot    bool
}

// BetweenExpr is `Left between (From .. To)`, or `!between` when Negated.
type BetweenExpr struct {
	At       int
	Negated  bool
	Left     Expr
	From, To Expr
}

func (e *IndexExpr) Offset() int    { return e.At }
func (e *BetweenExpr) Offset() int  { return e.At }
func (e *LiteralExpr) Offset() int  { return e.At }
func (e *ColumnExpr) Offset() int   { return e.At }
func (e *CallExpr) Offset() int     { return e.At }
func (e *BinaryExpr) Offset() int   { return e.At }
func (e *NegateExpr) Offset() int   { return e.At }
func (e *InExpr) Offset() int       { return e.At }
func (e *StarExpr) Offset() int     { return e.At }
func (e *NamedArgExpr) Offset() int { return e.At }
func (e *TabularExpr) Offset() int  { return e.At }

// Inspect calls f for e and each expression inside it, parents before their operands. It walks
// with a stack of its own rather than recursing, since a long chain such as 1 + 1 + … + 1 makes a
// tree as deep as the chain is long.
func Inspect(e Expr, f func(Expr)) {
	stack := []Expr{e}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f(e)
		switch e := e.(type) {
		case *CallExpr:
			stack = append(stack, e.Args...)
		case *BinaryExpr:
			stack = append(stack, e.Right, e.Left)
		case *NegateExpr:
			stack = append(stack, e.Operand)
		case *NamedArgExpr:
			stack = append(stack, e.Value)
		case *InExpr:
			stack = append(stack, e.List...)
			stack = append(stack, e.Left)
		case *IndexExpr:
			stack = append(stack, e.Index, e.Target)
		case *BetweenExpr:
			stack = append(stack, e.To, e.From, e.Left)
		}
	}
}

// tree returns the expression tree of a parsed scalar expression, building it on first use.
func (s *ScalarExpr) tree(src *kusto.Source) (Expr, error) {
	if s.Fast != nil {
		s.Tree, s.Fast = s.Fast.tree, nil
	}
	if s.Tree == nil {
		t, err := s.Or.lower(src)
		if err != nil {
			return nil, err
		}
		s.Tree = t
	}
	return s.Tree, nil
}

func (e *orExpr) lower(src *kusto.Source) (Expr, error) {
	left, err := e.Left.lower(src)
	for _, r := range e.Right {
		if err != nil {
			return nil, err
		}
		var right Expr
		right, err = r.lower(src)
		left = &BinaryExpr{At: r.Pos.Offset, Op: "or", Left: left, Right: right}
	}
	return left, err
}

func (e *andExpr) lower(src *kusto.Source) (Expr, error) {
	left, err := e.Left.lower(src)
	for _, r := range e.Right {
		if err != nil {
			return nil, err
		}
		var right Expr
		right, err = r.lower(src)
		left = &BinaryExpr{At: r.Pos.Offset, Op: "and", Left: left, Right: right}
	}
	return left, err
}

func (e *cmpExpr) lower(src *kusto.Source) (Expr, error) {
	left, err := e.Left.lower(src)
	if err != nil {
		return nil, err
	}
	switch {
	case e.InOp != "":
		in := &InExpr{At: e.Pos.Offset, Op: e.InOp, Left: left}
		for _, item := range e.InList {
			if item.Tabular != nil {
				in.List = append(in.List, &TabularExpr{At: item.Pos.Offset, Body: item.Tabular, Text: src.Text[item.Pos.Offset:item.EndPos.Offset]})
				continue
			}
			t, err := item.Expr.tree(src)
			if err != nil {
				return nil, err
			}
			in.List = append(in.List, t)
		}
		return in, nil
	case e.Between != "":
		from, err := e.From.lower(src)
		if err != nil {
			return nil, err
		}
		to, err := e.To.lower(src)
		if err != nil {
			return nil, err
		}
		return &BetweenExpr{At: e.Pos.Offset, Negated: e.Between == "!between", Left: left, From: from, To: to}, nil
	case e.Op != "" || e.Matches:
		right, err := e.Right.lower(src)
		if err != nil {
			return nil, err
		}
		op := e.Op
		switch {
		case e.Matches:
			op = "matches regex"
		case op == "<>":
			op = "!="
		}
		return &BinaryExpr{At: e.Pos.Offset, Op: op, Left: left, Right: right}, nil
	}
	return left, nil
}

func (e *addExpr) lower(src *kusto.Source) (Expr, error) {
	left, err := e.Left.lower(src)
	for _, r := range e.Right {
		if err != nil {
			return nil, err
		}
		var right Expr
		right, err = r.Operand.lower(src)
		left = &BinaryExpr{At: r.Pos.Offset, Op: r.Op, Left: left, Right: right}
	}
	return left, err
}

func (e *mulExpr) lower(src *kusto.Source) (Expr, error) {
	left, err := e.Left.lower(src)
	for _, r := range e.Right {
		if err != nil {
			return nil, err
		}
		var right Expr
		right, err = r.Operand.lower(src)
		left = &BinaryExpr{At: r.Pos.Offset, Op: r.Op, Left: left, Right: right}
	}
	return left, err
}

func (e *signedExpr) lower(src *kusto.Source) (Expr, error) {
	if e.Signed == nil {
		return e.Operand.lower(src)
	}
	if e.Op == "-" && e.Signed.isMinLongMagnitude() {
		return &LiteralExpr{At: e.Pos.Offset, Literal: minLong}, nil
	}
	operand, err := e.Signed.lower(src)
	if err != nil || e.Op != "-" {
		return operand, err
	}
	return &NegateExpr{At: e.Pos.Offset, Operand: operand}, nil
}

// isMinLongMagnitude reports whether e is the bare literal 9223372036854775808, which is a long
// only with a minus before it.
func (e *signedExpr) isMinLongMagnitude() bool {
	if e.Signed != nil || len(e.Operand.Access) > 0 || e.Operand.Operand.Literal == nil {
		return false
	}
	return isMinLongMagnitude(e.Operand.Operand.Literal.Tokens[0])
}

// minLong is the literal -9223372036854775808. Its magnitude is not a long, so it cannot be read
// as minus applied to a literal, as other negative numbers are.
var minLong = kusto.Literal{Type: kusto.TypeLong, Value: int64(math.MinInt64)}

// isMinLongMagnitude reports whether tok is an integer literal of 9223372036854775808, the
// magnitude of the minimum long.
func isMinLongMagnitude(tok lexer.Token) bool {
	if tok.Type != TokInt {
		return false
	}
	n, err := kusto.ParseInteger("-"+tok.Value, 64)
	return err == nil && n == math.MinInt64
}

func (e *postfixExpr) lower(src *kusto.Source) (Expr, error) {
	x, err := e.Operand.lower(src)
	for _, a := range e.Access {
		if err != nil {
			return nil, err
		}
		step := &IndexExpr{At: a.Pos.Offset, Target: x}
		switch {
		case a.Dot != nil:
			step.Dot = true
			step.Index = &LiteralExpr{At: a.Dot.Pos.Offset, Literal: kusto.Literal{Type: kusto.TypeString, Value: a.Dot.String()}}
		case a.Key != nil:
			step.Index = &LiteralExpr{At: a.Pos.Offset + 1, Literal: kusto.Literal{Type: kusto.TypeString, Value: string(*a.Key)}}
		default:
			step.Index, err = a.Index.tree(src)
		}
		x = step
	}
	return x, err
}

func (e *primary) lower(src *kusto.Source) (Expr, error) {
	switch {
	case e.Literal != nil:
		lit, err := e.Literal.value(src)
		if err != nil {
			return nil, err
		}
		return &LiteralExpr{At: e.Pos.Offset, Literal: lit}, nil
	case e.Call != nil:
		c := &CallExpr{At: e.Pos.Offset, Func: e.Call.Func.String()}
		for _, a := range e.Call.Args {
			if a.Star {
				c.Args = append(c.Args, &StarExpr{At: a.Pos.Offset})
				continue
			}
			if a.Tabular != nil {
				c.Args = append(c.Args, &TabularExpr{At: a.Pos.Offset, Body: a.Tabular, Text: src.Text[a.Pos.Offset:a.EndPos.Offset]})
				continue
			}
			t, err := a.Expr.tree(src)
			if err != nil {
				return nil, err
			}
			if a.Name != nil {
				t = &NamedArgExpr{At: a.Pos.Offset, Name: a.Name.String(), Value: t}
			}
			c.Args = append(c.Args, t)
		}
		return c, nil
	case e.Column != nil:
		return &ColumnExpr{At: e.Pos.Offset, Name: e.Column.String()}, nil
	default:
		return e.Paren.tree(src)
	}
}

func (l *literal) value(src *kusto.Source) (kusto.Literal, error) {
	return tokenLiteral(src, l.Tokens[0])
}

// tokenLiteral decodes a literal token. The lexer has already checked its form, so errors here
// are only range errors.
func tokenLiteral(src *kusto.Source, tok lexer.Token) (kusto.Literal, error) {
	lit, err := literalValue(tok)
	if err != nil {
		return kusto.Literal{}, kusto.Errorf(kusto.KindSyntax, src, tok.Pos.Offset, "%v", err)
	}
	return lit, nil
}

// literalValue decodes a literal token.
func literalValue(tok lexer.Token) (kusto.Literal, error) {
	switch tok.Type {
	case TokString:
		s, _, err := kusto.DecodeStrings(tok.Value)
		if err != nil {
			return kusto.Literal{}, err
		}
		return kusto.Literal{Type: kusto.TypeString, Value: s}, nil
	case TokInt:
		n, err := kusto.ParseInteger(tok.Value, 64)
		if err != nil {
			return kusto.Literal{}, fmt.Errorf("number %s is out of range for long", tok.Value)
		}
		return kusto.Literal{Type: kusto.TypeLong, Value: n}, nil
	case TokReal:
		f, err := strconv.ParseFloat(tok.Value, 64)
		if err != nil {
			return kusto.Literal{}, fmt.Errorf("number %s is out of range for real", tok.Value)
		}
		return kusto.Literal{Type: kusto.TypeReal, Value: f}, nil
	case TokTimespan:
		t, err := kusto.ParseTimespanToken(tok.Value)
		if err != nil {
			return kusto.Literal{}, err
		}
		return kusto.Literal{Type: kusto.TypeTimespan, Value: t}, nil
	case TokTypedLit:
		open := strings.IndexByte(tok.Value, '(')
		return kusto.ParseTypedLiteral(tok.Value[:open], tok.Value[open+1:len(tok.Value)-1])
	case TokGUID:
		g, err := kusto.ParseGUID(tok.Value)
		if err != nil {
			return kusto.Literal{}, err
		}
		return kusto.Literal{Type: kusto.TypeGUID, Value: g}, nil
	default: // true, false and their capitalized forms
		return kusto.Literal{Type: kusto.TypeBool, Value: strings.EqualFold(tok.Value, "true")}, nil
	}
}
