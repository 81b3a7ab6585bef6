package parser

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/kusto"
)

const g1 = "078b2641-f10d-4694-96f8-1ee2b75dda48"

// errorCases are bad inputs whose full error rendering is kept in testdata/parser/errors.golden.
var errorCases = []struct{ name, in string }{
	// Commands that Kusto has and Kustard does not, or that no one has.
	{"unknown command", ".frobnicate"},
	{"unsupported command", `.alter table T policy retention "{}"`},
	{"unsupported show", ".show functions"},
	{"unsupported show databases form", ".show databases details"},
	{"unsupported based-on", ".create table T based-on Other"},
	{"unsupported AdminThenQuery", ".show operations; $command_results | count"},
	{"export needs targets", `.export to csv <| T`},
	{"unsupported plural drop", ".drop tables (A, B)"},
	{"cancel query takes a string", `.cancel query 12`},
	{"stored query result is another command", ".set stored_query_result R <| print 1"},
	{"unsupported table subcommand", ".show table T policy retention"},
	{"misspelled entity", ".show operatoins"},
	{"dot alone", "."},
	{"uppercase command", ".SHOW operations"},
	{"capitalized command", ".Cancel operation " + g1},
	{"uppercase command keyword", ".show Operations"},
	{"uppercase query keyword", "PRINT 1"},
	{"uppercase operator", "print x = 1 | Where x > 0"},
	{"uppercase and", "print x = 1 | where x > 0 AND x < 2"},

	// Query operators and statements Kustard does not implement.
	{"unsupported operator", "range x from 1 to 10 step 1 | evaluate bag_unpack(x)"},
	{"unsupported hyphenated operator", "print x = 1 | top-nested 2 of x by count()"},
	{"unsupported source", "find 'x'"},
	{"unsupported operator in mv-apply", "T | mv-apply x = d on (make-series c = count() on x step 1)"},
	{"unsupported summarize hint", "T | summarize hint.strategy=shuffle count() by x"},
	{"unknown operator", "T | frobnicate"},
	{"missing operator", "T |"},
	{"unsupported statement", "restrict access to (T); T"},
	{"between without its range", "print a between (1, 2)"},
	{"between without parentheses", "print a between 1 .. 2"},
	{"matches without regex", `print "a" matches "a"`},
	{"unsupported declare", "declare pattern app; print 1"},
	{"user-defined function without its body", "let f = (a:long) a * 2; print f(1)"},
	{"parameter without a type", "let f = (a) { a * 2 }; print f(1)"},
	{"set without a name", "set = 1; T"},

	// The grammar of with (…); which properties a command takes, and their values, the engine
	// checks against its registry (engine/check_test.go).
	{"accessor without a name", `print d = dynamic({"a": 1}) | extend b = d.`},
	{"accessor with a number after the dot", `print d = dynamic([1]) | extend b = d.0`},
	{"index without its bracket", `print d = dynamic([1]) | extend b = d[0`},
	{"empty index", `print d = dynamic([1]) | extend b = d[]`},
	{"with without parentheses", ".cancel operation " + g1 + ` with reason="x"`},
	{"property without value", ".cancel operation " + g1 + " with (reason=)"},
	{"property without equals", ".cancel operation " + g1 + ` with (reason "x")`},
	{"trailing comma in with", ".cancel operation " + g1 + ` with (reason="x",)`},

	// Operation ids.
	{"missing guid", ".cancel operation"},
	{"short raw guid", ".cancel operation 078b2641-f10d-4694-96f8"},
	{"guid with extra letters", ".cancel operation " + g1 + "x"},
	{"string that is not a guid", `.cancel operation "nope"`},
	{"guid literal that is not a guid", ".cancel operation guid(nope)"},
	{"null guid", ".cancel operation guid(null)"},
	{"multi-line string for a guid", ".cancel operation ```\nnot a guid\n```"},
	{"number for a guid", ".cancel operation 12345"},
	{"several ids without parentheses", ".show operations " + g1 + ", " + g1},
	{"empty id list", ".show operations ()"},
	{"details on the plural form", ".show operations " + g1 + " details"},

	// Ingest framing.
	{"missing ingest arrow", ".set-or-append T print x = 1"},
	{"missing source", ".set T <|"},
	{"missing table", ".set <| print 1"},

	// Brackets, garbage and misplaced tokens.
	{"unclosed parenthesis", "print (1 + 2"},
	{"extra parenthesis", "print 1 + 2)"},
	{"unclosed datatable", "datatable(a:long)[1, 2"},
	{"unclosed column list", ".create table T (a:string"},
	{"unbalanced literal", "print int(1]"},
	{"trailing garbage after command", ".show version garbage"},
	{"trailing garbage after query", "print 1 1"},
	{"stray guid", "print 1 " + g1},
	{"stray timespan", "print x = 1 | take 1 1d"},
	{"stray literal", "print 1 datetime(2024-01-01)"},
	{"stray string", "T | where x == 1 'a'"},
	{"stray keyword", "T | where x == 1 count"},
	{"let in the wrong place", "print let"},
	{"single equals in where", "T | where x = 1"},
	{"double semicolon", "print x = 1 ; ; print 2"},
	{"empty input", ""},
	{"comment only", "// nothing to run"},

	// Tables and schemas.
	{"unknown column type", ".create table T (a:varchar)"},
	{"decimal column", ".create table T (a:decimal)"},
	{"column declared twice", ".create table T (a:string, a:long)"},
	{"column without type", ".create table T (a string)"},
	{"empty column list", ".create table T ()"},
	{"drop typo", ".drop table T ifexist"},
	{"schema without as json", ".show table T schema"},
	{"datatable value count", "datatable(a:long, b:string)[1, \"x\", 2]"},

	// Let statements.
	{"let without name", "let = 1; print 1"},
	{"let without equals", "let x 1; print x"},
	{"let without query", "let x = 1"},
	{"let without query after semicolon", "let x = 1;"},

	// Literals.
	{"unterminated string", "print \"abc"},
	{"string across lines", "print 'abc\ndef'"},
	{"invalid escape", `print "C:\temp\new\data"`},
	{"unterminated multi-line string", "print ```abc\n\ndef"},
	{"long out of range", "print 9223372036854775808"},
	{"long out of range after binary minus", "print 1-9223372036854775808"},
	{"long out of range in parentheses", "print -(9223372036854775808)"},
	{"long out of range below the minimum", "print -9223372036854775809"},
	{"datatable long out of range", "datatable(a:long)[9223372036854775808]"},
	{"real out of range", "print 1e999"},
	{"int out of range", "print int(3000000000)"},
	{"bad datetime", "print datetime(2024-13-01)"},
	{"bad timespan unit", "print 10y"},
	{"bad dynamic", `print dynamic({"a":})`},
	{"decimal literal", "print decimal(1.5)"},

	// Where the error is: later lines, tabs and non-ASCII text before it.
	{"error on line 3", "let n = 10;\nrange x from 1 to n step 1\n| where x > 1 and and x < 5"},
	{"lexical error on line 3", ".set-or-append T <|\n  print a = 1,\n        b = 'unterminated"},
	{"tabs before the error", "\tprint\tx = 1\t|\twhere x ==\t)"},
	{"non-ASCII before the error", `print s = "héllo wörld", t = "日本語" !`},
	{"non-ASCII character", "print 1 × 2"},
	{"CRLF line endings", "print x = 1\r\n| where x >\r\n| count\r\n"},
}

// internals are words from the grammar's structs and participle's token types; a message that
// contains one is talking to the implementer, not to the user.
var internals = regexp.MustCompile(`\b(Ident|QuotedIdent|Punct|TypedLit|Keyword|GUID|EOF|Int|Real|Timespan|String|GuidArg|Properties|Property|ScalarExpr|NamedExpr|Pipeline|Operator|Block|Command|TabularSource|orExpr|andExpr|cmpExpr|addExpr|signedExpr|primary|participle|strconv|lexer|struct|unexpected token)\b`)

func TestErrorsGolden(t *testing.T) {
	var out strings.Builder
	for _, tc := range errorCases {
		src := &kusto.Source{Name: "example.kql", Text: tc.in}
		_, err := Parse(src)
		var perr *kusto.Error
		if !errors.As(err, &perr) {
			t.Errorf("%s: Parse(%q) = %v; want a *parser.Error", tc.name, tc.in, err)
			continue
		}
		if perr.Kind != kusto.KindSyntax || perr.Src != src || perr.Offset < 0 || perr.Offset > len(tc.in) {
			t.Errorf("%s: kind %v, offset %d of %d, same source %v", tc.name, perr.Kind, perr.Offset, len(tc.in), perr.Src == src)
		}
		if m := internals.FindString(perr.Msg); m != "" {
			t.Errorf("%s: message speaks of %q, a grammar internal: %s", tc.name, m, perr.Msg)
		}
		detail := perr.Detail()
		if first, _, _ := strings.Cut(detail, "\n"); first != perr.Error() {
			t.Errorf("%s: Detail starts %q; want Error() %q", tc.name, first, perr.Error())
		}
		out.WriteString("### " + tc.name + "\n" + tc.in + "\n---\n" + detail + "\n\n")
	}
	golden.Check(t, "../testdata/parser/errors.golden", []byte(out.String()))
}

func TestGrammarGolden(t *testing.T) {
	g := Grammar()
	for _, want := range []string{"Block = ", "CancelOperation = ", `"set-or-append"`, `"<|"`} {
		if !strings.Contains(g, want) {
			t.Errorf("grammar lacks %q", want)
		}
	}
	golden.Check(t, "../testdata/parser/grammar.ebnf", []byte(g+"\n"))
}

func TestErrorRendering(t *testing.T) {
	src := &kusto.Source{Name: "f.kql", Text: "print 1\r\n\tprint  ü x\r\nlast", FirstLine: 4}
	e := kusto.Errorf(kusto.KindSemantic, src, strings.Index(src.Text, "x"), "no column %q", "x")
	if got, want := e.Error(), `f.kql:5:11: no column "x"`; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if got, want := e.Detail(), "f.kql:5:11: no column \"x\"\n    \tprint  ü x\n    \t         ^"; got != want {
		t.Errorf("Detail() =\n%s\nwant\n%s", got, want)
	}
	if e.Status() != `no column "x"` || !e.BadInput() {
		t.Errorf("Status() = %q, BadInput() = %v", e.Status(), e.BadInput())
	}

	// Offsets past either end are clamped rather than trusted.
	end := kusto.Errorf(kusto.KindSyntax, &kusto.Source{Text: "ab"}, 99, "m")
	if end.Error() != "<input>:1:3: m" || end.Detail() != "<input>:1:3: m\n    ab\n      ^" {
		t.Errorf("past the end: %q / %q", end.Error(), end.Detail())
	}

	// A caret on a line's hidden \r stays at the end of the line.
	cr := kusto.Errorf(kusto.KindSyntax, &kusto.Source{Text: " \r"}, 2, "m")
	if cr.Detail() != "<input>:1:3: m\n     \n     ^" {
		t.Errorf("caret on a \\r: %q", cr.Detail())
	}

	// Errors without a place are just their message, until one is given.
	loose := kusto.Errorf(kusto.KindCanceled, nil, -1, "canceled: %s", "by me")
	if loose.Error() != "canceled: by me" || loose.Detail() != "canceled: by me" || loose.BadInput() {
		t.Errorf("placeless: %q / %q / %v", loose.Error(), loose.Detail(), loose.BadInput())
	}
	placed := kusto.Errorf(kusto.KindInternal, nil, 2, "oops").Place(&kusto.Source{Name: "g", Text: "abcd"})
	if placed.Error() != "g:1:3: oops" {
		t.Errorf("Place: %q", placed.Error())
	}
	keep := kusto.Errorf(kusto.KindInternal, &kusto.Source{Name: "first"}, 0, "x").Place(&kusto.Source{Name: "second"})
	if keep.Src.Name != "first" {
		t.Error("Place replaced an existing source")
	}

	for k, want := range map[kusto.Kind]string{kusto.KindSyntax: "syntax error", kusto.KindNotFound: "not found", kusto.KindLimits: "limits exceeded", kusto.Kind(99): "Kind(99)"} {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q; want %q", int(k), k.String(), want)
		}
	}
	for k, bad := range map[kusto.Kind]bool{kusto.KindSyntax: true, kusto.KindSemantic: true, kusto.KindNotFound: true, kusto.KindConflict: false, kusto.KindThrottled: false, kusto.KindLimits: false} {
		if (&kusto.Error{Kind: k}).BadInput() != bad {
			t.Errorf("%v: BadInput() = %v; want %v", k, !bad, bad)
		}
	}
}
