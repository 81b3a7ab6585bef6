package parser

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// probeAccepts is the plain way to learn whether t may stand at position index of tokens, and the
// meaning that expectationAt must keep: parse the tokens before it, then t, then the end of the
// text, and see whether the parse gets past t. It costs a parse per token asked about.
func probeAccepts(tokens []lexer.Token, index int, t lexer.Token) bool {
	probe := append(tokens[:index:index], t)
	probe[index].Pos = tokens[index].Pos
	if t.Type != TokEOF {
		end := t.Pos
		end.Offset = tokens[index].Pos.Offset + len(t.Value) + 1
		probe = append(probe, lexer.Token{Type: TokEOF, Pos: end})
	}
	peeking, err := lexer.Upgrade(&tokenList{tokens: probe})
	if err != nil {
		return false
	}
	_, err = grammar.ParseFromLexer(peeking)
	return err == nil || errorOffset(err) > tokens[index].Pos.Offset
}

// askedTokens are every token an error message may ask about: the candidates, and the tokens
// that translate and hint ask about.
var askedTokens = sync.OnceValue(func() []lexer.Token {
	var out []lexer.Token
	for _, c := range slices.Concat(classCandidates, keywordCandidates()) {
		out = append(out, c.token)
	}
	return append(out, lexer.Token{Type: TokIdent, Value: "T"}, lexer.Token{Type: TokReal, Value: "1.5"},
		lexer.Token{Type: TokQuotedIdent, Value: "['a b']"}, lexer.Token{Type: TokKeyword, Value: "set-or-append"})
})

// expectationInputs are texts with and without syntax errors: the error cases, the fuzz seeds,
// the blocks of the script goldens, and each of those cut short after every token, with a token
// left out and with a token doubled.
func expectationInputs(t *testing.T) []string {
	// Pipes in let statements, parentheses and ingests, where an operator's context differs.
	seeds := []string{
		"let t = range x from 1 to 3 step 1 | where x > 1 | project x, y = x * 2; t | take 1",
		"let t = (T | where a > 1 | project a); (t | extend b = a) | count",
		".set-or-append T <| let u = U | take 1; u | where x == 1 | project x, y",
		".show operations | where State == 'Failed' | project OperationId; print x = 1",
		// Long lists, which expectationAt shortens.
		"datatable(a:long, b:string, c:real)[1, 'x', 1.5, 2, 'y', 2.5, f(1, 2, 3), 'z', -1]",
		".create table T (a:string, b:long, c:int, d:real) with (folder='f', docstring='d')",
		"print a = f(1, 2, 3), b = g(x, y, z), c = x in (1, 2, 3, 4), d = 1",
		"(T | project a, b, c | extend d = 1, e = 2, f = 3) | project a, b, c, d",
		".show operations (" + g1 + ", " + g1 + ", " + g1 + ")",
	}
	for _, tc := range errorCases {
		seeds = append(seeds, tc.in)
	}
	corpus, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, name := range corpus {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		_, arg, _ := strings.Cut(string(data), "\nstring(")
		text, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(arg), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		seeds = append(seeds, text)
	}
	scripts, _ := filepath.Glob("../testdata/scripts/*.kql")
	for _, name := range scripts {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range SplitBlocks(string(data)) {
			seeds = append(seeds, c.Text)
		}
	}
	if len(seeds) < 100 {
		t.Fatalf("only %d seed texts", len(seeds))
	}
	inputs := slices.Clone(seeds)
	for _, text := range seeds {
		toks, err := tokenize(&kusto.Source{Text: text})
		if err != nil {
			continue
		}
		for i, tk := range toks[:len(toks)-1] {
			from, to := tk.Pos.Offset, toks[i+1].Pos.Offset
			inputs = append(inputs, text[:to], text[:from]+text[to:], text[:to]+text[from:])
		}
	}
	return inputs
}

// TestExpectationMatchesProbing checks expectationAt against probing, at every syntax error of
// the inputs and for every token an error message may ask about.
func TestExpectationMatchesProbing(t *testing.T) {
	inputs := expectationInputs(t)
	// Probing costs a hundred parses an error; a sample of the mutations keeps the test quick.
	step := 10
	if testing.Short() || raceEnabled {
		step = 200 // still over a hundred errors; the race detector makes each probe ten times dearer
	}
	checked := 0
	for n, text := range inputs {
		if n%step != 0 {
			continue
		}
		tokens, index, ok := syntaxErrorAt(text)
		if !ok {
			continue
		}
		checked++
		exp := expectationAt(tokens, index)
		for _, tk := range append(askedTokens(), lexer.Token{Type: TokEOF}) {
			if got, want := exp.accepts(tk), probeAccepts(tokens, index, tk); got != want {
				t.Errorf("%q at token %d (%q): accepts %s = %v; probing says %v", text, index, tokens[index].Value, describeToken(tk), got, want)
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d syntax errors checked", checked)
	}
	t.Logf("%d syntax errors checked", checked)
}

// TestExpectationCost: explaining an error costs the traced parse and a few short probes, never a
// probe per candidate token.
func TestExpectationCost(t *testing.T) {
	for _, tc := range errorCases {
		tokens, index, ok := syntaxErrorAt(tc.in)
		if !ok || checkSupported(&kusto.Source{Text: tc.in}, tokens) != nil {
			continue // no error, or one the pre-pass reports by name, with no explaining
		}
		exp := expectationAt(tokens, index)
		expectedLabels(exp.accepts)
		// After a "|", each operator's keyword is a site of its own, and a probe.
		if len(exp.probed) > max(8, len(operatorMembers)+2) {
			t.Errorf("%s: %d probes to explain %q", tc.name, len(exp.probed), tc.in)
		}
	}
	// In the last operator of a long query, where the text may end: the operators before it are
	// not parsed again, and nothing needs a probe.
	text := ".set-or-append async T <| range x from 1 to 10 step 1 | where x % 2 == 0 | extend y = x * 2 | project x y"
	tokens, index, _ := syntaxErrorAt(text)
	exp := expectationAt(tokens, index)
	expectedLabels(exp.accepts)
	if len(exp.prefix) != 5 || len(exp.probed) > 0 { // T | project x, and the end
		t.Errorf("%d probes of %d tokens to explain %q", len(exp.probed), len(exp.prefix), text)
	}
}

// TestTraceLookahead: tokens tried inside a lookahead group are marked, since trying them consumes
// nothing. Where an operand may start, a name may, except and, or and let.
func TestTraceLookahead(t *testing.T) {
	tokens, index, ok := syntaxErrorAt("T | where ")
	if !ok {
		t.Fatal("no syntax error")
	}
	exp := expectationAt(tokens, index)
	found := false
	for _, m := range exp.matchers {
		if m.literal && m.value == "let" {
			found = true
			if !m.ahead {
				t.Errorf("%+v is not marked as inside a lookahead", m)
			}
		}
	}
	if !found {
		t.Error(`"let" not among the tokens tried`)
	}
	if !exp.accepts(lexer.Token{Type: TokIdent, Value: "x"}) || exp.accepts(lexer.Token{Type: TokIdent, Value: "let"}) {
		t.Error("a name is not accepted, or let is")
	}
}

// syntaxErrorAt returns the tokens of text and the index of the one a syntax error is at.
func syntaxErrorAt(text string) ([]lexer.Token, int, bool) {
	tokens, err := tokenize(&kusto.Source{Text: text})
	if err != nil {
		return nil, 0, false
	}
	peeking, err := lexer.Upgrade(&tokenList{tokens: tokens})
	if err != nil {
		return nil, 0, false
	}
	if _, err = grammar.ParseFromLexer(peeking); err == nil {
		return nil, 0, false
	}
	offset := errorOffset(err)
	index := slices.IndexFunc(tokens, func(t lexer.Token) bool { return t.Pos.Offset >= offset })
	return tokens, index, offset >= 0 && index >= 0
}
