package parser

import (
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// ExprString writes an expression back as Kusto text, with every inner binary operation in
// parentheses so that a printed plan shows how the expression was grouped.
func ExprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, true)
	return b.String()
}

// writeExpr writes e, in parentheses unless top. A chain such as 1 + 1 + … + 1 leans left and
// is as deep as it is long, so its left spine is written by a loop: the parentheses it opens, the
// operand at its foot, then each operator and right operand on the way back up. Only nesting,
// which the parser bounds, recurses.
func writeExpr(b *strings.Builder, e Expr, top bool) {
	var spine []Expr // the binary and in expressions down the left side, outermost first
	for {
		switch x := e.(type) {
		case *BinaryExpr:
			spine, e = append(spine, x), x.Left
			continue
		case *InExpr:
			spine, e = append(spine, x), x.Left
			continue
		}
		break
	}
	for i := range spine {
		if i > 0 || !top {
			b.WriteString("(")
		}
	}
	switch e := e.(type) {
	case *LiteralExpr:
		b.WriteString(literalString(e.Literal))
	case *ColumnExpr:
		b.WriteString(e.Name)
	case *StarExpr:
		b.WriteString("*")
	case *TabularExpr:
		b.WriteString(e.Text)
	case *NamedArgExpr:
		b.WriteString(e.Name + " = ")
		writeExpr(b, e.Value, true)
	case *CallExpr:
		b.WriteString(e.Func + "(")
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, a, true)
		}
		b.WriteString(")")
	case *NegateExpr:
		b.WriteString("-")
		writeExpr(b, e.Operand, false)
	case *IndexExpr:
		writeAccess(b, e)
	case *BetweenExpr:
		if !top {
			b.WriteString("(")
		}
		writeExpr(b, e.Left, false)
		if e.Negated {
			b.WriteString(" !between (")
		} else {
			b.WriteString(" between (")
		}
		writeExpr(b, e.From, false)
		b.WriteString(" .. ")
		writeExpr(b, e.To, false)
		b.WriteString(")")
		if !top {
			b.WriteString(")")
		}
	}
	for i := len(spine) - 1; i >= 0; i-- {
		switch x := spine[i].(type) {
		case *BinaryExpr:
			b.WriteString(" " + x.Op + " ")
			writeExpr(b, x.Right, false)
		case *InExpr:
			b.WriteString(" " + x.Op + " (")
			writeList(b, x.List)
			b.WriteString(")")
		}
		if i > 0 || !top {
			b.WriteString(")")
		}
	}
}

func writeList(b *strings.Builder, list []Expr) {
	for i, item := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, item, true)
	}
}

// literalString writes a constant as a Kusto literal that reads back as the same value.
func literalString(l kusto.Literal) string {
	if l.Value == nil {
		return l.Type.String() + "(null)"
	}
	switch v := l.Value.(type) {
	case string:
		return kusto.Quote(v)
	case bool, int64, float64:
		if f, ok := v.(float64); ok {
			s := kusto.FormatReal(f)
			if !strings.ContainsAny(s, ".EN") {
				s += ".0" // 2.0 stays a real
			}
			return s
		}
		return kusto.FormatValue(v)
	case int32, kusto.DateTime, kusto.Timespan, uuid.UUID:
		return l.Type.String() + "(" + kusto.FormatValue(v) + ")"
	}
	return "dynamic(" + kusto.FormatValue(l.Value) + ")"
}

// writeAccess writes a chain of accessors, d.a.b[0], by a loop: a chain is as deep as it is long.
func writeAccess(b *strings.Builder, e *IndexExpr) {
	var chain []*IndexExpr // outermost first
	var base Expr = e
	for {
		x, ok := base.(*IndexExpr)
		if !ok {
			break
		}
		chain, base = append(chain, x), x.Target
	}
	writeExpr(b, base, false)
	for i := len(chain) - 1; i >= 0; i-- {
		step := chain[i]
		if lit, ok := step.Index.(*LiteralExpr); ok && step.Dot {
			if name, _ := lit.Value.(string); isPlainName(name) {
				b.WriteString("." + name)
				continue
			}
		}
		b.WriteString("[")
		writeExpr(b, step.Index, true)
		b.WriteString("]")
	}
}

// isPlainName reports whether a name can be written bare after a '.'.
func isPlainName(s string) bool {
	for i, r := range s {
		if i == 0 && !kusto.IsIdentStart(r) || !kusto.IsIdentPart(r) {
			return false
		}
	}
	return s != ""
}
