package parser

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// checkFastPath parses text with and without the fast paths of fastexpr.go and fails unless the
// two agree: the same error, or the same tree with the same positions.
func checkFastPath(t *testing.T, text string) {
	t.Helper()
	src := &kusto.Source{Name: "fast.kql", Text: text}
	fast, ferr := parseBlock(src, nil, true)
	slow, serr := parseBlock(src, nil, false)
	if ferr != nil || serr != nil {
		if fmt.Sprint(ferr) != fmt.Sprint(serr) {
			t.Fatalf("%q:\n fast path: %v\n grammar:   %v", text, ferr, serr)
		}
		return
	}
	if diff := astDiff(reflect.ValueOf(fast), reflect.ValueOf(slow), "Block"); diff != "" {
		t.Fatalf("%q: the fast path's tree differs from the grammar's at %s", text, diff)
	}
}

func withoutMarker(toks []lexer.Token) []lexer.Token {
	return slices.DeleteFunc(slices.Clone(toks), func(t lexer.Token) bool { return t.Type == tokExplain })
}

// astDiff compares two ASTs, ignoring the grammar's layered expression structs, and returns the
// path of the first difference.
func astDiff(a, b reflect.Value, path string) string {
	if a.Kind() != b.Kind() || a.Type() != b.Type() {
		return fmt.Sprintf("%s: %s and %s", path, a.Type(), b.Type())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return path + ": nil and not nil"
			}
			return ""
		}
		if a.Type() == sourceType {
			return ""
		}
		return astDiff(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.Type() == reflect.TypeFor[[]lexer.Token]() {
			// A node at the start of an explaining parse captures its elided marker too.
			a, b = reflect.ValueOf(withoutMarker(a.Interface().([]lexer.Token))), reflect.ValueOf(withoutMarker(b.Interface().([]lexer.Token)))
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: %d and %d items", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := astDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeFor[DatatableSource]() {
			x, y := a.Addr().Interface().(*DatatableSource), b.Addr().Interface().(*DatatableSource)
			if vx, vy := datatableValues(x), datatableValues(y); vx != vy {
				return fmt.Sprintf("%s: values %s and %s", path, vx, vy)
			}
		}
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if !f.IsExported() || a.Type() == reflect.TypeFor[ScalarExpr]() && f.Name == "Or" ||
				a.Type() == reflect.TypeFor[DatatableSource]() && (f.Name == "Values" || f.Name == "Literals") {
				continue
			}
			if d := astDiff(a.Field(i), b.Field(i), path+"."+f.Name); d != "" {
				return d
			}
		}
	case reflect.Map:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return path
		}
	case reflect.Float64:
		if x, y := a.Float(), b.Float(); x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			return fmt.Sprintf("%s: %v and %v", path, x, y)
		}
	default:
		if a.Interface() != b.Interface() {
			return fmt.Sprintf("%s: %v and %v", path, a.Interface(), b.Interface())
		}
	}
	return ""
}

// datatableValues writes a datatable's values, each with its offset, whether the lexer took them
// as one token (Literals) or the grammar parsed them (Values).
func datatableValues(s *DatatableSource) string {
	var b strings.Builder
	for _, v := range s.Literals {
		fmt.Fprintf(&b, "%d:%s ", v.At, ExprString(&v))
	}
	for _, v := range s.Values {
		e := v.Tree
		if n, ok := e.(*NegateExpr); ok {
			if l, ok := n.Operand.(*LiteralExpr); ok {
				if lit, ok := negateLiteral(l.Literal); ok {
					e = &LiteralExpr{Literal: lit}
				}
			}
		}
		fmt.Fprintf(&b, "%d:%s ", v.Pos.Offset, ExprString(e))
	}
	return b.String()
}

func negateLiteral(l kusto.Literal) (kusto.Literal, bool) {
	switch v := l.Value.(type) {
	case int64:
		l.Value = -v
	case float64:
		l.Value = -v
	case kusto.Timespan:
		l.Value = -v
	default:
		return l, v == nil
	}
	return l, true
}

// TestFastPathMatchesGrammar: over every input of the expectation test (the error cases, the fuzz
// seeds, the scripts' blocks, each cut short, with a token left out and with one doubled), the
// fast path and the grammar give the same tree or the same error.
func TestFastPathMatchesGrammar(t *testing.T) {
	inputs := append(expectationInputs(t),
		"print a = 1 + 2 * 3 - -4 / +5 % 6, b = x == 1 or y != 2 and z <> 3, c = 1 < 2 == true",
		"print a = f(), b = g(1, h(2, 3)), c = x in (1, -2, 'a'), d = x !in~ ('A'), e = ['a b'] + 1",
		"print a = (1 + 2) * (3 + (4)), b = - - 1, c = + + 1, d = true and False or TRUE",
		"print a = x contains 'a' and y !has_cs 'b' or z startswith 'c', b = 1d + 2h, c = datetime(2020-01-01)",
		"datatable(a:long, b:string)[1, 'x', 2, 'y',]", "datatable(a:long)[]", "datatable(a:long)[,]",
		"datatable(a:long, b:real, c:timespan, d:bool, e:string, f:dynamic)[-1, + 2.5, - 1d, true, 'a' \"b\", dynamic([1]), long(null), -real(null), 3, 4, 5, 6]",
		"datatable(a:long, b:real, c:timespan)[-1, + 2.5, - 1d, -2, +3.5, -  2h, -0, -0.0, long(null)]",
		"datatable(a:long)[1 2]", "datatable(a:long)[1,, 2]", "datatable(a:long)[--1]", "datatable(a:long)[-'a']", "datatable(a:long)[1",
		"datatable(a:long)[9223372036854775808]", "datatable(a:long)[-9223372036854775808]", "datatable(a:long)[guid(null)]",
		"print a = 1 == 2 == 3", "print a = x in (1, 2,)", "print a = f(1,)", "print a = (1", "print a = 1 +",
		"print a = and", "print a = ['and']", "print a = x in 1", "print a = 1 in (2) in (3)",
		"print a = d.a.b[0], b = d['x y'][-1] + 1, c = d [\"k\"], d = f(1)['a'].b, e = dynamic([1])[0], f = (d).a, g = d.['where']",
		"print a = d[i + 1][strcat('a', 'b')], b = d.and, c = -d.a, d = d.a in (1, 2), e = d. a, f = d[0",
		"print a = x between (1 .. 2), b = x !between (d.a .. 3) and y, c = s matches regex 'a+' or t, d = x has_any ('a', 'b')",
		"print a = x has_all (dynamic(['a'])), b = x between (1, 2), c = s matches 'a', d = d.5, e = d[], f = d.a.",
		// Whole blocks of the block fast path (fastblock.go), and near misses it must decline.
		"print 1", "print 1;", " print\n1 ;  ", "print ['a b'] = 1, x, y = 'z' ; ", "print ['a = 1", "print a == 1", "print a = = 1",
		"print", "print 1,", "print 1 ;;", "print 1; print 2", "print 1 | count", "print 1 2", "print a = 1, a = 2", "print x = 1 between (0 .. 2)",
		"Print 1", "print(1)", "print [\"a\"] = 1", "print ['a'", "let x = 1; print x", "print 1 // a comment",
		"range x from 1 to 10 step 1", "range x from 1 to 10 step 1;", "range ['x y'] from -1 to 2 * 5 step 1 + 1", "range x from 1 to 10",
		"print a = -9223372036854775808, b = - 9223372036854775808, c = - -9223372036854775808", "print d = 1 -9223372036854775808",
		"print a = -9223372036854775808 + 1", "print a = -(9223372036854775808)", "print a = -9223372036854775808[0]", "print a = -9223372036854775808.x",
		"print a = -9223372036854775809", "datatable(a:long)[- 9223372036854775808, -9223372036854775807]",
		"range x from 1 to 10 step 1 | take 1", "range from 1 to 10 step 1", "range x from 1 step 1 to 10", "range x from to 1 step 1",
		"range x from datetime(2020-01-01) to now() step 1d", "range x from 1 to 10 step", "range x in 1 to 10 step 1", "range x from 1 to 10 step 1 x",
	)
	step := 1
	if testing.Short() || raceEnabled {
		step = 10 // a sample: under the race detector every input costs ten times as much
	}
	for i, text := range inputs {
		if i%step == 0 || i >= len(inputs)-30 { // the hand-written cases at the end, always
			checkFastPath(t, text)
		}
	}
}

// TestFastBlockWithoutGrammar: the blocks of the block fast path parse without building the
// grammar, which is most of a cold start; the rest build it.
func TestFastBlockWithoutGrammar(t *testing.T) {
	for text, grammar := range map[string]bool{
		"print 1": false, "print a = now(), b = 'x';": false, "range x from 1 to 10 step 1": false,
		"print 1 | count": true, "print 1 2": true, "range x from 1 to 10": true,
	} {
		built.Store(nil)
		if _, err := ParseString(text); err != nil && !grammar {
			t.Fatalf("%q: %v", text, err)
		}
		if got := built.Load() != nil; got != grammar {
			t.Errorf("%q: grammar built %v, want %v", text, got, grammar)
		}
	}
}

// TestFastPathLongChains: a chain of 300,000 terms and a datatable of a million and a half
// values parse without the grammar's cost or its repetition limit.
func TestFastPathLongChains(t *testing.T) {
	b, err := ParseString("print x = 1" + strings.Repeat(" + 1", 300_000))
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for e := b.Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree; ; depth++ {
		bin, ok := e.(*BinaryExpr)
		if !ok {
			break
		}
		e = bin.Left
	}
	if depth != 300_000 {
		t.Errorf("the chain is %d deep, not 300000", depth)
	}
	text := "datatable(a:long, b:string, c:real)[" + strings.Repeat(`1, "x", 1.5, `, 500_000) + "]"
	b, err = ParseString(text)
	if err != nil {
		t.Fatal(err) // before: unexpected ","; expected "," or "]", past a million values
	}
	if n := len(b.Query.Body.Source.(*DatatableSource).Literals); n != 1_500_000 {
		t.Errorf("%d values, not 1500000", n)
	}
}
