package parser

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// Participle reports expectations as grammar fragments ("expected GuidArg ("with" Properties)?").
// Users should read Kusto instead, so on a syntax error we list the candidate tokens that the
// grammar would have accepted where the error is; trace.go finds them in one more parse and a
// few short probes.

// candidate is one token the grammar can expect.
type candidate struct {
	token lexer.Token
	label string // how an error message names it
}

// exampleGUID is the operation id of the .cancel operation docs' example.
const exampleGUID = "078b2641-f10d-4694-96f8-1ee2b75dda48"

// classCandidates stand for the token classes; their labels are what users read.
var classCandidates = []candidate{
	{lexer.Token{Type: TokIdent, Value: "name_"}, "a name"},
	{lexer.Token{Type: TokString, Value: `"s"`}, "a string"},
	{lexer.Token{Type: TokGUID, Value: "00000000-0000-0000-0000-000000000000"}, "a guid"},
	{lexer.Token{Type: TokInt, Value: "1"}, "a number"},
	{lexer.Token{Type: TokTimespan, Value: "1d"}, "a timespan"},
	{lexer.Token{Type: TokTypedLit, Value: "guid(00000000-0000-0000-0000-000000000000)"}, "a literal"},
	{lexer.Token{Type: TokEOF}, "the end of the text"},
}

// keywordCandidates are the literal tokens of the grammar, read off its EBNF so they never go
// stale. They are read at first use, once every file's init has added its operators.
var keywordCandidates = sync.OnceValue(func() []candidate {
	var out []candidate
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(Grammar(), -1) {
		word := m[1]
		if seen[word] {
			continue
		}
		seen[word] = true
		toks, err := tokenize(&kusto.Source{Text: word})
		if err != nil || len(toks) != 2 {
			continue
		}
		out = append(out, candidate{toks[0], fmt.Sprintf("%q", word)})
	}
	return out
})

// expectedLabels names the candidates that accepted admits, the way an error message lists them.
func expectedLabels(accepted func(lexer.Token) bool) []string {
	var classes, keywords []string
	identOK := false
	for _, c := range classCandidates {
		if accepted(c.token) {
			classes = append(classes, c.label)
			identOK = identOK || c.token.Type == TokIdent
		}
	}
	for _, c := range keywordCandidates() {
		// Where a name may stand, a plain-word keyword is accepted as a name too; listing every
		// keyword there would bury the message.
		if identOK && c.token.Type == TokIdent {
			continue
		}
		if accepted(c.token) {
			keywords = append(keywords, c.label)
		}
	}
	if slices.Contains(keywords, `"."`) && slices.Contains(classes, "a name") {
		// A block starts here: "." begins a command, a name (or print, range…) a query.
		return []string{"a query", "a command"}
	}
	if slices.Contains(classes, "a name") && slices.Contains(classes, "a number") && slices.Contains(classes, "a string") {
		// An expression, or a with-property's value, may start here; its many possible first
		// tokens read better as one word. Only an expression may start with "(".
		rest := []string{"a value"}
		if slices.Contains(keywords, `"("`) {
			rest[0] = "an expression"
		}
		for _, k := range keywords {
			if !strings.Contains(`"(" "-" "+"`, k) {
				rest = append(rest, k)
			}
		}
		if slices.Contains(classes, "the end of the text") {
			rest = append(rest, "the end of the text")
		}
		return rest
	}
	if slices.Contains(classes, "a guid") {
		// Only operation ids take a guid, and they take it raw, quoted or as guid(…).
		classes = slices.DeleteFunc(classes, func(s string) bool { return s == "a literal" || s == "a string" })
		classes[slices.Index(classes, "a guid")] = "an operation id such as " + exampleGUID
	}
	sort.Strings(keywords)
	keywords = collapseOperators(keywords)
	return append(keywords, classes...)
}

// binaryOperators are the infix operators of scalar expressions, and the accessors . and [.
// After an operand nearly all of them may follow, and a list of forty operators helps nobody.
var binaryOperators = map[string]bool{}

func init() {
	for _, op := range strings.Fields(`== != <> <= >= < > =~ !~ + - * / % and or in !in in~ !in~
		contains !contains contains_cs !contains_cs has !has has_cs !has_cs hasprefix !hasprefix
		hassuffix !hassuffix startswith !startswith startswith_cs !startswith_cs endswith !endswith
		endswith_cs !endswith_cs has_any has_all between !between matches . [`) {
		binaryOperators[fmt.Sprintf("%q", op)] = true
	}
}

func collapseOperators(keywords []string) []string {
	n := 0
	for _, k := range keywords {
		if binaryOperators[k] {
			n++
		}
	}
	if n < 5 {
		return keywords
	}
	out := []string{"an operator"}
	for _, k := range keywords {
		if !binaryOperators[k] {
			out = append(out, k)
		}
	}
	return out
}

func errorOffset(err error) int {
	var perr participle.Error
	if errors.As(err, &perr) {
		return perr.Position().Offset
	}
	return -1
}

// describeToken names a token the way an error message should.
func describeToken(t lexer.Token) string {
	switch t.Type {
	case TokEOF:
		return "end of text"
	case TokIdent, TokQuotedIdent:
		if t.Type == TokIdent && plainKeywords()[t.Value] {
			return fmt.Sprintf("%q", t.Value)
		}
		return fmt.Sprintf("name %s", t.Value)
	case TokString:
		return fmt.Sprintf("string %s", shorten(t.Value))
	case TokInt, TokReal:
		return fmt.Sprintf("number %s", t.Value)
	case TokGUID:
		return fmt.Sprintf("guid %s", t.Value)
	case TokTimespan:
		return fmt.Sprintf("timespan %s", t.Value)
	case TokTypedLit:
		return fmt.Sprintf("literal %s", shorten(t.Value))
	default:
		return fmt.Sprintf("%q", t.Value)
	}
}

// shorten keeps a quoted token short and on one line, since the message is one line.
func shorten(s string) string {
	cut := false
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s, cut = s[:i], true
	}
	if r := []rune(s); len(r) > 40 {
		s, cut = string(r[:37]), true
	}
	if cut {
		s += "..."
	}
	return s
}

// joinAlternatives writes a, b or c.
func joinAlternatives(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// translate turns a participle error into one that speaks Kusto.
func translate(src *kusto.Source, tokens []lexer.Token, err error) error {
	offset := errorOffset(err)
	if offset < 0 {
		return kusto.Errorf(kusto.KindSyntax, src, 0, "%v", err)
	}
	index := slices.IndexFunc(tokens, func(t lexer.Token) bool { return t.Pos.Offset >= offset })
	if index < 0 {
		index = len(tokens) - 1
	}
	if err := letError(src, tokens, index); err != nil {
		return err
	}
	tok := tokens[index]
	exp := expectationAt(tokens, index)
	expected := expectedLabels(exp.accepts)
	if index > 0 && tokens[index-1].Value == ";" && slices.Equal(expected, []string{`"("`, "a name"}) {
		expected = []string{"a query"} // after a let statement; "(" and a name are how one starts
	}
	msg := "unexpected " + describeToken(tok)
	switch {
	case tok.Value == "=" && exp.accepts(lexer.Token{Type: TokPunct, Value: "=="}):
		msg += `; use "==" to compare values`
	case len(expected) > 0:
		msg += "; expected " + joinAlternatives(expected)
	}
	return kusto.Errorf(kusto.KindSyntax, src, tok.Pos.Offset, "%s%s", msg, hint(tokens, index, exp))
}

// letError explains a let statement whose name or "=" is missing. The grammar looks two tokens
// ahead before it commits to a let, so participle blames the word let itself.
func letError(src *kusto.Source, tokens []lexer.Token, index int) error {
	if tokens[index].Type != TokIdent || tokens[index].Value != "let" || index+1 >= len(tokens) {
		return nil
	}
	if index > 0 && tokens[index-1].Value != ";" && tokens[index-1].Value != "<|" {
		return nil // not where a statement starts
	}
	name := tokens[index+1]
	if name.Type != TokIdent && name.Type != TokQuotedIdent {
		return kusto.Errorf(kusto.KindSyntax, src, name.Pos.Offset, "unexpected %s; expected a name after let, as in let x = 1;", describeToken(name))
	}
	if eq := tokens[min(index+2, len(tokens)-1)]; eq.Value != "=" || eq.Type != TokPunct {
		return kusto.Errorf(kusto.KindSyntax, src, eq.Pos.Offset, "unexpected %s; expected \"=\" after let %s", describeToken(eq), name.Value)
	}
	return nil
}

// plainKeywords are the grammar's keywords that are spelled like names (where, print, and, …).
var plainKeywords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, c := range keywordCandidates() {
		if c.token.Type == TokIdent {
			m[c.token.Value] = true
		}
	}
	return m
})

// hint returns advice for mistakes that the list of what was expected does not explain.
func hint(tokens []lexer.Token, index int, exp *expectation) string {
	for _, t := range tokens[max(0, index-1) : index+1] {
		if lower := strings.ToLower(t.Value); t.Type == TokIdent && lower != t.Value && plainKeywords()[lower] && !plainKeywords()[t.Value] {
			return fmt.Sprintf("; Kusto keywords are lowercase: %q", lower)
		}
	}
	if tokens[index].Type == TokEOF && slices.ContainsFunc(tokens, func(t lexer.Token) bool { return t.Type == TokIdent && t.Value == "let" }) &&
		!exp.accepts(lexer.Token{Type: TokIdent, Value: "T"}) && exp.accepts(lexer.Token{Type: TokPunct, Value: ";"}) {
		return "; after its let statements a query needs a tabular expression, such as print x"
	}
	if afterShowOperations(tokens, index) {
		switch tokens[index].Value {
		case "details":
			return "; for one operation's details write .show operation <id> details"
		case ",":
			return "; list several ids in parentheses: .show operations (id1, id2)"
		}
	}
	return ""
}

// afterShowOperations reports whether tokens[index] follows `.show operations <id>`.
func afterShowOperations(tokens []lexer.Token, index int) bool {
	return index >= 3 && tokens[index-2].Value == "operations" && tokens[index-3].Value == "show"
}
