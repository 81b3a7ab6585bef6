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

func writeExpr(b *strings.Builder, e Expr, top bool) {
	switch e := e.(type) {
	case *LiteralExpr:
		b.WriteString(literalString(e.Literal))
	case *ColumnExpr:
		b.WriteString(e.Name)
	case *StarExpr:
		b.WriteString("*")
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
	case *BinaryExpr:
		if !top {
			b.WriteString("(")
		}
		writeExpr(b, e.Left, false)
		b.WriteString(" " + e.Op + " ")
		writeExpr(b, e.Right, false)
		if !top {
			b.WriteString(")")
		}
	case *InExpr:
		if !top {
			b.WriteString("(")
		}
		writeExpr(b, e.Left, false)
		b.WriteString(" " + e.Op + " (")
		for i, item := range e.List {
			if i > 0 {
				b.WriteString(", ")
			}
			writeExpr(b, item, true)
		}
		b.WriteString(")")
		if !top {
			b.WriteString(")")
		}
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
