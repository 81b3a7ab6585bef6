package parser

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// The seed corpora live in testdata/fuzz/FuzzTokenize and testdata/fuzz/FuzzParse; `go test`
// runs them as ordinary tests.

func FuzzTokenize(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		src := &kusto.Source{Name: "fuzz.kql", Text: text}
		toks, err := tokenize(src)
		if err != nil {
			checkError(t, src, err)
			return
		}
		if len(toks) == 0 || toks[len(toks)-1].Type != TokEOF {
			t.Fatalf("tokens do not end with EOF: %v", toks)
		}
		last := -1
		for _, tk := range toks {
			if tk.Pos.Offset <= last && tk.Type != TokEOF || tk.Pos.Offset > len(text) {
				t.Fatalf("token %q at offset %d after %d in %d bytes", tk.Value, tk.Pos.Offset, last, len(text))
			}
			last = tk.Pos.Offset
			if line, col := src.Position(tk.Pos.Offset); line != tk.Pos.Line || col != tk.Pos.Column {
				t.Fatalf("token %q at %d:%d, but its offset %d is %d:%d", tk.Value, tk.Pos.Line, tk.Pos.Column, tk.Pos.Offset, line, col)
			}
			if tk.Type == TokString {
				// The lexer checked every string; decoding one must not fail.
				if _, _, err := kusto.DecodeStrings(tk.Value); err != nil {
					t.Fatalf("string token %q does not decode: %v", tk.Value, err)
				}
			}
			if tk.Type != TokString && tk.Type != TokEOF && !strings.HasPrefix(text[tk.Pos.Offset:], tk.Value) {
				t.Fatalf("token %q is not the text at its offset %d", tk.Value, tk.Pos.Offset)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		src := &kusto.Source{Name: "fuzz.kql", Text: text, FirstLine: 3}
		b, err := Parse(src)
		if err != nil {
			checkError(t, src, err)
			return
		}
		if b.Query == nil && b.Command == nil {
			t.Fatal("a block with neither a query nor a command")
		}
		checkPositions(t, text, reflect.ValueOf(b), "Block")
		checkFastPath(t, text)
	})
}

// deepShapes build deep and long inputs around a fragment: nested brackets, signs, calls and
// dynamic values, long chains and long lists. Each takes the fragment and a count.
var deepShapes = []func(frag string, n int) string{
	func(f string, n int) string {
		return "print x = " + strings.Repeat("(", n) + f + strings.Repeat(")", n)
	},
	func(f string, n int) string { return "print x = " + strings.Repeat("-", n) + f },
	func(f string, n int) string {
		return "print x = " + strings.Repeat("not(", n) + f + strings.Repeat(")", n)
	},
	func(f string, n int) string {
		return "print x = " + strings.Repeat("-(", n) + f + strings.Repeat(")", n)
	},
	func(f string, n int) string {
		return "print d = dynamic(" + strings.Repeat("[", n) + f + strings.Repeat("]", n) + ")"
	},
	func(f string, n int) string { return "print x = " + f + strings.Repeat(" + "+f, n) },
	func(f string, n int) string { return "print x = " + f + strings.Repeat(" or "+f, n) },
	func(f string, n int) string { return "print x = 1 in (" + f + strings.Repeat(", "+f, n) + ")" },
	func(f string, n int) string { return "datatable(a:long)[" + f + strings.Repeat(", "+f, n) + "]" },
	func(f string, n int) string { return strings.Repeat("(", n) + f + strings.Repeat(")", n) + " | count" },
	func(f string, n int) string { return strings.Repeat(".set T <| ", n) + f },
	func(f string, n int) string { return "print x = f(" + f + strings.Repeat(", "+f, n) + ")" },
}

// FuzzDeepInputs parses deep and long inputs built by deepShapes: they parse or fail with a placed
// syntax error, never overflow the stack or panic, and the fast path agrees with the grammar.
func FuzzDeepInputs(f *testing.F) {
	for shape := range deepShapes {
		for _, frag := range []string{"1", "x", "-1", "'a'", "(1)", "1, 2", "1 +", ")", "[", "f(x)"} {
			f.Add(uint8(shape), uint32(300), frag)
			f.Add(uint8(shape), uint32(20), frag)
		}
	}
	f.Add(uint8(5), uint32(300_000), "1")
	f.Add(uint8(0), uint32(100_000), "1")
	f.Fuzz(func(t *testing.T, shape uint8, n uint32, frag string) {
		n %= 400_000
		if len(frag) > 64 {
			frag = frag[:64]
		}
		text := deepShapes[int(shape)%len(deepShapes)](frag, int(n))
		src := &kusto.Source{Name: "fuzz.kql", Text: text, FirstLine: 3}
		b, err := Parse(src)
		if err != nil {
			checkError(t, src, err)
		} else if n < 2000 {
			checkPositions(t, text, reflect.ValueOf(b), "Block")
		}
		if n < 2000 {
			checkFastPath(t, text)
		}
	})
}

// checkError checks the promise every parser error keeps: it is a *Error with a place inside the
// text, and it renders.
func checkError(t *testing.T, src *kusto.Source, err error) {
	t.Helper()
	var perr *kusto.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %T %v is not a *parser.Error", err, err)
	}
	if perr.Src != src || perr.Offset < 0 || perr.Offset > len(src.Text) {
		t.Fatalf("error offset %d outside [0, %d] (or from another source): %v", perr.Offset, len(src.Text), perr)
	}
	if perr.Msg == "" || strings.ContainsAny(perr.Msg, "\r\n") {
		t.Fatalf("error message %q is empty or spans lines", perr.Msg)
	}
	detail := perr.Detail()
	if !strings.HasPrefix(detail, perr.Error()+"\n") || !strings.HasSuffix(detail, "^") {
		t.Fatalf("Detail() does not render: %q", detail)
	}
}

var (
	positionType = reflect.TypeFor[lexer.Position]()
	exprType     = reflect.TypeFor[Expr]()
	sourceType   = reflect.TypeFor[*kusto.Source]()
)

// checkPositions walks an AST and checks that every position and every expression offset lies
// inside the text and that line and column agree with the offset.
func checkPositions(t *testing.T, text string, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() || v.Type() == sourceType {
			return // Block.Source points back at the text, not at a node
		}
		if v.Type().Implements(exprType) {
			if at := v.Interface().(Expr).Offset(); at < 0 || at > len(text) {
				t.Fatalf("%s: expression offset %d outside [0, %d]", path, at, len(text))
			}
		}
		checkPositions(t, text, v.Elem(), path)
	case reflect.Slice:
		for i := range v.Len() {
			checkPositions(t, text, v.Index(i), path+"[]")
		}
	case reflect.Struct:
		if v.Type() == positionType {
			p := v.Interface().(lexer.Position)
			if p.Offset < 0 || p.Offset > len(text) {
				t.Fatalf("%s: offset %d outside [0, %d]", path, p.Offset, len(text))
			}
			line, col := (&kusto.Source{Text: text, FirstLine: 3}).Position(p.Offset)
			if p.Line != line || p.Column != col || p.Filename != "fuzz.kql" {
				t.Fatalf("%s: position %s:%d:%d, but offset %d is %d:%d", path, p.Filename, p.Line, p.Column, p.Offset, line, col)
			}
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				checkPositions(t, text, v.Field(i), path+"."+f.Name)
			}
		}
	}
}
