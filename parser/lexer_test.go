package parser

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// tok is a token as the tests write it: its type and its source text.
type tok struct {
	typ lexer.TokenType
	val string
}

var testTypeNames = map[lexer.TokenType]string{
	TokEOF: "EOF", TokIdent: "Ident", TokKeyword: "Keyword", TokQuotedIdent: "QuotedIdent",
	TokString: "String", TokGUID: "GUID", TokInt: "Int", TokReal: "Real", TokTimespan: "Timespan",
	TokTypedLit: "TypedLit", TokPunct: "Punct", TokValues: "Values",
}

func (t tok) String() string { return fmt.Sprintf("%s(%s)", testTypeNames[t.typ], t.val) }

func ident(v string) tok   { return tok{TokIdent, v} }
func keyword(v string) tok { return tok{TokKeyword, v} }
func str(v string) tok     { return tok{TokString, v} }
func punct(v string) tok   { return tok{TokPunct, v} }
func integer(v string) tok { return tok{TokInt, v} }
func real_(v string) tok   { return tok{TokReal, v} }
func span(v string) tok    { return tok{TokTimespan, v} }

// lex tokenizes text and returns the tokens without the final EOF.
func lex(t *testing.T, text string) ([]tok, error) {
	t.Helper()
	toks, err := tokenize(&kusto.Source{Text: text})
	var out []tok
	for _, tk := range toks {
		if tk.Type != TokEOF {
			out = append(out, tok{tk.Type, tk.Value})
		}
	}
	return out, err
}

func TestTokenize(t *testing.T) {
	const g = "078b2641-f10d-4694-96f8-1ee2b75dda48"
	tests := []struct {
		name string
		in   string
		want []tok
	}{
		// Comments and white space.
		{"empty", "", nil},
		{"comment only", "// nothing here", nil},
		{"comment to end of line", "a // b c\nd", []tok{ident("a"), ident("d")}},
		{"comment without space", "a//b", []tok{ident("a")}},
		{"comment ends at CR", "a // b\r\nc", []tok{ident("a"), ident("c")}},
		{"slashes inside a string", `"//not a comment" // but this is`, []tok{str(`"//not a comment"`)}},
		{"division is not a comment", "a / b", []tok{ident("a"), punct("/"), ident("b")}},
		{"unicode white space", "a\u00a0b\ufeffc\u2003d\u3000e", []tok{ident("a"), ident("b"), ident("c"), ident("d"), ident("e")}},

		// Regular strings, verbatim strings and their quotes.
		{"double-quoted", `"abc"`, []tok{str(`"abc"`)}},
		{"single-quoted", `'abc'`, []tok{str(`'abc'`)}},
		{"every escape", `"\\\'\"\a\b\f\n\r\t\v\u00e9\U0001F600\x41\101\0"`, []tok{str(`"\\\'\"\a\b\f\n\r\t\v\u00e9\U0001F600\x41\101\0"`)}},
		{"escaped quote in single quotes", `'it\'s'`, []tok{str(`'it\'s'`)}},
		{"other quote needs no escape", `"it's" 'say "hi"'`, []tok{str(`"it's" 'say "hi"'`)}},
		{"verbatim double", `@"C:\dir\""x"""`, []tok{str(`@"C:\dir\""x"""`)}},
		{"verbatim single", `@'it''s'`, []tok{str(`@'it''s'`)}},
		{"multi-line backticks", "```line 1\n\nline \"3\"```", []tok{str("```line 1\n\nline \"3\"```")}},
		{"multi-line tildes", "~~~a```b~~~", []tok{str("~~~a```b~~~")}},
		{"obfuscated", `h"secret"`, []tok{str(`h"secret"`)}},
		{"obfuscated capital verbatim", `H@'x''y'`, []tok{str(`H@'x''y'`)}},
		{"h alone is a name", `h + H`, []tok{ident("h"), punct("+"), ident("H")}},

		// Adjacent literals are one string, even across white space and comments.
		{"adjacent", `"Hello" ', ' @"world!"`, []tok{str(`"Hello" ', ' @"world!"`)}},
		{"adjacent with no space", `"a"'b'`, []tok{str(`"a" 'b'`)}},
		{"adjacent across a comment", "\"a\" // c\n  'b'", []tok{str(`"a" 'b'`)}},
		{"adjacent obfuscated", `h'a' "b"`, []tok{str(`h'a' "b"`)}},
		{"adjacent verbatim and same quote", `@"a""b" "c"`, []tok{str(`@"a""b" "c"`)}},
		{"not adjacent across an operator", `"a" + "b" "c"`, []tok{str(`"a"`), punct("+"), str(`"b" "c"`)}},

		// Guids.
		{"raw guid starting with digits", g, []tok{{TokGUID, g}}},
		{"raw guid starting with a letter", "f10d2641-f10d-4694-96f8-1ee2b75dda48", []tok{{TokGUID, "f10d2641-f10d-4694-96f8-1ee2b75dda48"}}},
		{"raw guid in capitals", "078B2641-F10D-4694-96F8-1EE2B75DDA48", []tok{{TokGUID, "078B2641-F10D-4694-96F8-1EE2B75DDA48"}}},
		{"guids in a list", "(" + g + "," + g + ")", []tok{punct("("), {TokGUID, g}, punct(","), {TokGUID, g}, punct(")")}},
		{"digits and a dash are subtraction", "12345678-1234", []tok{integer("12345678"), punct("-"), integer("1234")}},
		{"guid literal", "guid(" + g + ")", []tok{{TokTypedLit, "guid(" + g + ")"}}},

		// Numbers.
		{"int", "0 42", []tok{integer("0"), integer("42")}},
		{"long", "9223372036854775807", []tok{integer("9223372036854775807")}},
		{"hex", "0x2A 0XFF", []tok{integer("0x2A"), integer("0XFF")}},
		{"real", "1.5 0.25", []tok{real_("1.5"), real_("0.25")}},
		{"real with exponent", "1e3 1E-3 1.5e+3", []tok{real_("1e3"), real_("1E-3"), real_("1.5e+3")}},
		{"real with a trailing dot", "1. 1.e3", []tok{real_("1."), real_("1.e3")}},
		{"range dots are not a real", "1..2", []tok{integer("1"), punct(".."), integer("2")}},
		{"leading dot is not a number", ".5", []tok{punct("."), integer("5")}},
		{"negative is an operator", "-1", []tok{punct("-"), integer("1")}},

		// Timespans: every unit of KqlTokens.g4's TIMESPANLITERAL.
		{"timespan days", "2d 1day 3days", []tok{span("2d"), span("1day"), span("3days")}},
		{"timespan hours", "2h 1.5h 1hr 2hrs 1hour 3hours", []tok{span("2h"), span("1.5h"), span("1hr"), span("2hrs"), span("1hour"), span("3hours")}},
		{"timespan minutes", "30m 1min 1minute 5minutes", []tok{span("30m"), span("1min"), span("1minute"), span("5minutes")}},
		{"timespan seconds", "10s 0.1s 1sec 1second 2seconds", []tok{span("10s"), span("0.1s"), span("1sec"), span("1second"), span("2seconds")}},
		{"timespan milliseconds", "100ms 1milli 2millis 3millisec 4millisecond 5milliseconds", []tok{span("100ms"), span("1milli"), span("2millis"), span("3millisec"), span("4millisecond"), span("5milliseconds")}},
		{"timespan microseconds", "10microsecond 1micro 2micros 3microsec 4microseconds", []tok{span("10microsecond"), span("1micro"), span("2micros"), span("3microsec"), span("4microseconds")}},
		{"timespan nanoseconds", "100nanoseconds 1nano 2nanos 3nanosec 4nanosecond", []tok{span("100nanoseconds"), span("1nano"), span("2nanos"), span("3nanosec"), span("4nanosecond")}},
		{"timespan ticks", "1tick 2ticks", []tok{span("1tick"), span("2ticks")}},
		{"timespan literal forms", "timespan(1.5h) time(15 seconds)", []tok{{TokTypedLit, "timespan(1.5h)"}, {TokTypedLit, "time(15 seconds)"}}},

		// Names.
		{"names", "a _b $left café x1", []tok{ident("a"), ident("_b"), ident("$left"), ident("café"), ident("x1")}},
		{"bracketed names", `['a b'] ["c d"] ['it\'s']`, []tok{{TokQuotedIdent, "['a b']"}, {TokQuotedIdent, `["c d"]`}, {TokQuotedIdent, `['it\'s']`}}},
		{"bracketed keyword", "['where']", []tok{{TokQuotedIdent, "['where']"}}},
		{"list after a call is not a name", `datatable(a:string)["x", y]`, []tok{ident("datatable"), punct("("), ident("a"), punct(":"), ident("string"), punct(")"), punct("["), str(`"x"`), punct(","), ident("y"), punct("]")}},
		// A datatable's values are one token when all are literals.
		{"datatable values", `datatable(a:string)["x"]`, []tok{ident("datatable"), punct("("), ident("a"), punct(":"), ident("string"), punct(")"), {TokValues, `["x"]`}}},
		{"datatable values with signs and comments", "datatable(a:long, b:bool)[ -1, true, + 2.5 // c\n, \"a\" 'b', 1d, long(null), ]", []tok{ident("datatable"), punct("("), ident("a"), punct(":"), ident("long"), punct(","), ident("b"), punct(":"), ident("bool"), punct(")"), {TokValues, "[ -1, true, + 2.5 // c\n, \"a\" 'b', 1d, long(null), ]"}}},
		{"datatable values that are not all literals", `datatable(a:long)[-(1)]`, []tok{ident("datatable"), punct("("), ident("a"), punct(":"), ident("long"), punct(")"), punct("["), punct("-"), punct("("), integer("1"), punct(")"), punct("]")}},
		{"a list after another call", `f(a)[1]`, []tok{ident("f"), punct("("), ident("a"), punct(")"), punct("["), integer("1"), punct("]")}},
		{"list of strings", `["x", "y"]`, []tok{punct("["), str(`"x"`), punct(","), str(`"y"`), punct("]")}},
		{"spaced bracket is a list", `[ 'x' ]`, []tok{punct("["), str(`'x'`), punct("]")}},

		// Hyphenated keywords against subtraction.
		{"hyphenated keywords", "set-or-append set-or-replace create-merge project-away mv-expand",
			[]tok{keyword("set-or-append"), keyword("set-or-replace"), keyword("create-merge"), keyword("project-away"), keyword("mv-expand")}},
		{"names minus names", "a-b x-y-z", []tok{ident("a"), punct("-"), ident("b"), ident("x"), punct("-"), ident("y"), punct("-"), ident("z")}},
		{"spaced subtraction", "a - b", []tok{ident("a"), punct("-"), ident("b")}},
		{"keyword prefix only", "set-or", []tok{ident("set"), punct("-"), ident("or")}},
		{"keyword with extra part", "set-or-appendx", []tok{ident("set"), punct("-"), ident("or"), punct("-"), ident("appendx")}},
		{"keyword then minus", "project-away-x", []tok{keyword("project-away"), punct("-"), ident("x")}},
		{"keyword then spaced minus", "create-merge - 1", []tok{keyword("create-merge"), punct("-"), integer("1")}},

		// Operators and punctuation.
		{"pipe and ingest arrow", "T <| S | where", []tok{ident("T"), punct("<|"), ident("S"), punct("|"), ident("where")}},
		{"less than then pipe", "a < |b", []tok{ident("a"), punct("<"), punct("|"), ident("b")}},
		{"comparison", "== != <> <= >= < > =~ !~ =", []tok{punct("=="), punct("!="), punct("<>"), punct("<="), punct(">="), punct("<"), punct(">"), punct("=~"), punct("!~"), punct("=")}},
		{"arithmetic", "+ - * / %", []tok{punct("+"), punct("-"), punct("*"), punct("/"), punct("%")}},
		{"brackets", "( ) [ ] { } , ; . : ?", []tok{punct("("), punct(")"), punct("["), punct("]"), punct("{"), punct("}"), punct(","), punct(";"), punct("."), punct(":"), punct("?")}},
		{"negated operators", "!contains !has_cs !in !in~ in~ !startswith", []tok{keyword("!contains"), keyword("!has_cs"), keyword("!in"), keyword("!in~"), keyword("in~"), keyword("!startswith")}},
		{"bang alone", "! x", []tok{punct("!"), ident("x")}},
		{"command", ".show operations", []tok{punct("."), ident("show"), ident("operations")}},

		// Typed literals are one token each.
		{"typed literals", `datetime(2024-01-01) int(3) long(null) real(1.5) bool(true) dynamic({"a": "x)"})`,
			[]tok{{TokTypedLit, "datetime(2024-01-01)"}, {TokTypedLit, "int(3)"}, {TokTypedLit, "long(null)"}, {TokTypedLit, "real(1.5)"}, {TokTypedLit, "bool(true)"}, {TokTypedLit, `dynamic({"a": "x)"})`}}},
		{"type name without parenthesis is a name", "datetime x", []tok{ident("datetime"), ident("x")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lex(t, tc.in)
			if err != nil {
				t.Fatalf("tokenize(%q): %v", tc.in, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("tokenize(%q)\n got %v\nwant %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestTokenizeErrors(t *testing.T) {
	tests := []struct {
		in   string
		line int
		col  int
		msg  string
	}{
		{`"abc`, 1, 1, `string literal is missing its closing "`},
		{`'abc`, 1, 1, `string literal is missing its closing '`},
		{"x\n  y 'abc", 2, 5, `string literal is missing its closing '`},
		{"\"a\nb\"", 1, 1, "string literal is missing its closing \" (use ``` for a multi-line string)"},
		{`'\'`, 1, 1, `string literal is missing its closing '`},
		{`@"abc`, 1, 1, `string literal is missing its closing "`},
		{`@"a\"b"`, 1, 7, `string literal is missing its closing "`},
		{"```abc\n", 1, 1, "multi-line string is missing its closing ```"},
		{"~~~abc```", 1, 1, "multi-line string is missing its closing ~~~"},
		{`"bad \q escape"`, 1, 6, `invalid escape sequence \q in string literal`},
		{`'\é'`, 1, 2, `invalid escape sequence \é in string literal`},
		{"'\\\r'", 1, 2, `invalid escape sequence: a backslash followed by U+000D in string literal`},
		{`"\u12"`, 1, 2, `escape \u needs 4 hex digits`},
		{`"\u12G4"`, 1, 2, `escape \u needs 4 hex digits`},
		{`"\U0001F60"`, 1, 2, `escape \U needs 8 hex digits`},
		{`"\x4"`, 1, 2, `escape \x needs 2 hex digits`},
		{"\t\"\\z\"", 1, 3, `invalid escape sequence \z in string literal`},
		{"a # b", 1, 3, `unexpected character '#'`},
		{"é ü `", 1, 5, "unexpected character '`'"},
		{"a\xffb", 1, 2, "invalid UTF-8 byte 0xff"},
		{"078b2641-f10d-4694-96f8-1ee2b75dda48x", 1, 1, `invalid guid "078b2641-f10d-4694-96f8-1ee2b75dda48x"; expected 8-4-4-4-12 hex digits, such as 078b2641-f10d-4694-96f8-1ee2b75dda48`},
		{"078b2641-f10d-4694-96f8", 1, 1, `invalid guid "078b2641-f10d-4694-96f8"`},
		{"123abc", 1, 1, `invalid number "123abc"`},
		{"1e3d", 1, 1, `invalid number "1e3d"`},
		{"10y", 1, 1, `invalid number "10y"`},
		// 9223372036854775808 lexes (as the magnitude of -9223372036854775808) and fails where it is decoded.
		{"9223372036854775809", 1, 1, "number 9223372036854775809 is out of range for long"},
		{"-18446744073709551616", 1, 2, "number 18446744073709551616 is out of range for long"},
		{"x + 1e999", 1, 5, "number 1e999 is out of range for real"},
		{"0x", 1, 1, `invalid hexadecimal number "0x"`},
		{"0x1FFFFFFFFFFFFFFFF", 1, 1, `invalid hexadecimal number "0x1FFFFFFFFFFFFFFFF"`},
		{"0x1G", 1, 1, `invalid number "0x1G"`},
		{"['a", 1, 2, `string literal is missing its closing '`},
		{"datetime(2024-13-01)", 1, 10, `invalid datetime literal: "2024-13-01" is not a valid date and time`},
		{"print datetime(2024-01-01", 1, 15, "datetime literal is missing its closing ')'"},
		{"int(1]", 1, 6, `unbalanced ']' in int literal`},
		{`dynamic([1,2]`, 1, 8, "dynamic literal is missing its closing ')'"},
		{`dynamic(["a)]`, 1, 10, `string literal is missing its closing "`},
		{"guid(nope)", 1, 6, `invalid guid literal: "nope" is not a guid (expected 8-4-4-4-12 hex digits)`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := tokenize(&kusto.Source{Text: tc.in})
			var perr *kusto.Error
			if !errors.As(err, &perr) {
				t.Fatalf("tokenize(%q) = %v; want a *parser.Error", tc.in, err)
			}
			line, col := perr.Src.Position(perr.Offset)
			if line != tc.line || col != tc.col || !strings.HasPrefix(perr.Msg, tc.msg) {
				t.Errorf("tokenize(%q) error at %d:%d %q\nwant at %d:%d %q", tc.in, line, col, perr.Msg, tc.line, tc.col, tc.msg)
			}
			if perr.Kind != kusto.KindSyntax {
				t.Errorf("Kind = %v; want %v", perr.Kind, kusto.KindSyntax)
			}
		})
	}
}

func TestTokenPositions(t *testing.T) {
	text := "let x = 1;\r\n  print\ty = \"é\"\n\t| where ```a\nb``` == y"
	toks, err := tokenize(&kusto.Source{Name: "q.kql", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		val               string
		offset, line, col int
	}{
		{"let", 0, 1, 1}, {"x", 4, 1, 5}, {"=", 6, 1, 7}, {"1", 8, 1, 9}, {";", 9, 1, 10},
		{"print", 14, 2, 3}, {"y", 20, 2, 9}, {"=", 22, 2, 11}, {`"é"`, 24, 2, 13},
		{"|", 30, 3, 2}, {"where", 32, 3, 4}, {"```a\nb```", 38, 3, 10}, {"==", 48, 4, 6}, {"y", 51, 4, 9},
		{"", 52, 4, 10},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d: %v", len(toks), len(want), toks)
	}
	for i, w := range want {
		got := toks[i]
		if got.Value != w.val || got.Pos.Offset != w.offset || got.Pos.Line != w.line || got.Pos.Column != w.col || got.Pos.Filename != "q.kql" {
			t.Errorf("token %d = %q at %s:%d:%d (offset %d); want %q at q.kql:%d:%d (offset %d)",
				i, got.Value, got.Pos.Filename, got.Pos.Line, got.Pos.Column, got.Pos.Offset, w.val, w.line, w.col, w.offset)
		}
		// Errors compute line:col from the offset; tokens keep them in step while lexing.
		if line, col := (&kusto.Source{Text: text}).Position(got.Pos.Offset); line != got.Pos.Line || col != got.Pos.Column {
			t.Errorf("token %d: Source.Position says %d:%d, the token %d:%d", i, line, col, got.Pos.Line, got.Pos.Column)
		}
	}
}

func TestTokenPositionsFromFirstLine(t *testing.T) {
	src := &kusto.Source{Text: "print\n  x", FirstLine: 10}
	toks, err := tokenize(src)
	if err != nil {
		t.Fatal(err)
	}
	if toks[0].Pos.Line != 10 || toks[1].Pos.Line != 11 || toks[1].Pos.Column != 3 {
		t.Errorf("positions %v, %v; want lines 10 and 11:3", toks[0].Pos, toks[1].Pos)
	}
	_, err = tokenize(&kusto.Source{Text: "x\n  'abc", FirstLine: 7})
	if err == nil || !strings.HasPrefix(err.Error(), "<input>:8:3: ") {
		t.Errorf("error = %v; want it at <input>:8:3", err)
	}
}

// TestLexerDefinition drives the lexer the way participle does, through lexer.Definition.
func TestLexerDefinition(t *testing.T) {
	if Lexer.Symbols()["GUID"] != TokGUID || Lexer.Symbols()["EOF"] != TokEOF {
		t.Errorf("Symbols() = %v", Lexer.Symbols())
	}
	l, err := Lexer.Lex("f.kql", strings.NewReader("take 5"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		tk, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tk.Pos.Filename+":"+tk.Value)
		if tk.EOF() {
			break
		}
	}
	if want := "[f.kql:take f.kql:5 f.kql:]"; fmt.Sprint(got) != want {
		t.Errorf("tokens %v; want %s", got, want)
	}
}

func TestDecodeStrings(t *testing.T) {
	tests := []struct {
		raw        string
		want       string
		obfuscated bool
	}{
		{`"abc"`, "abc", false},
		{`''`, "", false},
		{`"\\\'\"\a\b\f\n\r\t\v"`, "\\'\"\a\b\f\n\r\t\v", false},
		{`"\u00e9\U0001F600\x41"`, "é😀A", false},
		{`"\101\0\7\477"`, "A\x00\x07'7", false}, // \477 is \47 then 7: three digits only below \400
		{`"\x7f\xff"`, "\x7f\u00ff", false},      // a character code, not a byte
		{`'it\'s'`, "it's", false},
		{`@"C:\dir\""x"""`, `C:\dir\"x"`, false},
		{`@'it''s'`, "it's", false},
		{"```line 1\n\n\\n```", "line 1\n\n\\n", false},
		{"~~~a```b~~~", "a```b", false},
		{`h"secret"`, "secret", true},
		{`H@'x''y'`, "x'y", true},
		{`"Hello" ', ' @"world!"`, "Hello, world!", false},
		{`"a" h'b'`, "ab", true},
		{"\"a\" // c\n 'b'", "ab", false},
	}
	for _, tc := range tests {
		got, obfuscated, err := kusto.DecodeStrings(tc.raw)
		if err != nil || got != tc.want || obfuscated != tc.obfuscated {
			t.Errorf("decodeStrings(%s) = %q, %v, %v; want %q, %v", tc.raw, got, obfuscated, err, tc.want, tc.obfuscated)
		}
	}
	// The docs' example: strlen("Hello" ', ' @"world!") is 13.
	toks, err := tokenize(&kusto.Source{Text: `strlen("Hello" ', ' @"world!")`})
	if err != nil {
		t.Fatal(err)
	}
	if s, _, _ := kusto.DecodeStrings(toks[2].Value); len(s) != 13 {
		t.Errorf("adjacent literals decode to %q (%d characters); want 13", s, len(s))
	}
	// A verbatim literal followed by one with the same quote is two strings, not a doubled quote.
	for text, want := range map[string]string{`@"a" "b"`: "ab", `@'x''y' 'z'`: "x'yz", "```a``` ```b```": "ab", `"a""b"`: "ab"} {
		toks, err := tokenize(&kusto.Source{Text: text})
		if err != nil || len(toks) != 2 {
			t.Fatalf("tokenize(%s) = %v, %v; want one string", text, toks, err)
		}
		if got, _, err := kusto.DecodeStrings(toks[0].Value); got != want || err != nil {
			t.Errorf("%s decodes to %q, %v; want %q", text, got, err, want)
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `say "hi"`, `back\slash`, "tab\there\nnew\rline", "\x00\x01\x1f", "é😀", "'single'"} {
		q := kusto.Quote(s)
		got, _, err := kusto.DecodeStrings(q)
		if err != nil || got != s {
			t.Errorf("decodeStrings(Quote(%q)) = %q, %v via %s", s, got, err, q)
		}
		if toks, err := tokenize(&kusto.Source{Text: q}); err != nil || len(toks) != 2 || toks[0].Type != TokString {
			t.Errorf("Quote(%q) = %s does not lex as one string: %v %v", s, q, toks, err)
		}
	}
}

func TestDecodeBracketedName(t *testing.T) {
	for raw, want := range map[string]string{`['a b']`: "a b", `["it\"s"]`: `it"s`, `['where']`: "where", `[@'c:\x']`: `c:\x`} {
		if got, err := kusto.DecodeBracketedName(raw); err != nil || got != want {
			t.Errorf("decodeBracketedName(%s) = %q, %v; want %q", raw, got, err, want)
		}
	}
}

func TestTokensForFrontDoors(t *testing.T) {
	toks, err := Tokens(&kusto.Source{Text: `T | where ['a b'] has "x" // c`})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tok := range toks {
		got = append(got, fmt.Sprintf("%d:%d:%s", tok.Kind, tok.Offset, tok.Value))
	}
	want := []string{"1:0:T", "10:2:|", "1:4:where", "3:10:['a b']", "1:18:has", "4:22:\"x\"", "0:30:"}
	if !slices.Equal(got, want) {
		t.Errorf("Tokens = %q, want %q", got, want)
	}
	toks, err = Tokens(&kusto.Source{Text: "print 'open"})
	if err == nil || len(toks) != 1 || toks[0].Kind != TokenIdent {
		t.Errorf("an unterminated string: tokens %v, error %v; want the one token before it and an error", toks, err)
	}
}
