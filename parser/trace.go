package parser

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Finding what the grammar expected at an error costs one traced parse, and sometimes a few
// short probes.
//
// The tokens before the error are parsed again, ending where the error was, with participle's
// trace on: it names every node tried and the token it faced, so the literals and token types
// tried at the end are the tokens that could have been consumed there. Parsing is deterministic
// and nothing matches the end of the text early, so until the first node that matches a token t,
// the parse with t tries the same nodes as the parse without it; t is consumed there exactly when
// a traced node matches it.
//
// The message lists the tokens after which the parse gets further, and consumed is not always
// that: after ".create table T (a:string" a "," is consumed, but participle's backtracking gives
// up on it when nothing follows and blames the ",". That happens only where the text could not
// end, where a required token is missing; there each consumable token is confirmed by parsing
// it, followed by the end of the text. Tokens consumed by the same nodes, such as the forty
// operators after an operand, continue the parse alike, and one probe answers for all of them.
//
// The tokens parsed are shortened first where that cannot change the answer (tracePrefix), so
// that an error late in a long query costs little. expected_test.go checks the answers against
// probing every candidate, over thousands of errors.

// expectation is what the grammar accepts at one position of the input.
type expectation struct {
	prefix   []lexer.Token // the tokens to parse before a candidate; its last is the end of the text
	matchers []tokenMatcher
	end      bool            // the text may end there
	probed   map[string]bool // by the sites that consume a token: whether the parse gets past it
}

// tokenMatcher is one token-matching node tried at the position: a literal such as "where",
// with or without a token type, or a token type such as a name.
type tokenMatcher struct {
	typ     lexer.TokenType // for a literal, TokEOF means any type
	value   string
	literal bool
	site    int  // matchers with the same site continue the parse the same way
	ahead   bool // inside a lookahead group: matching it changes the path but consumes nothing
}

func (m tokenMatcher) matches(t lexer.Token) bool {
	if m.literal {
		return m.value == t.Value && (m.typ == TokEOF || m.typ == t.Type)
	}
	return m.typ == t.Type
}

// accepts reports whether t may stand at the position: whether the parse gets past it.
func (e *expectation) accepts(t lexer.Token) bool {
	if t.Type == TokEOF {
		return e.end
	}
	var sites []byte // the key of t's probe: the sites that consume it
	ahead := false
	for _, m := range e.matchers {
		if m.matches(t) {
			sites = strconv.AppendInt(append(sites, ' '), int64(m.site), 10)
			ahead = ahead || m.ahead
		}
	}
	switch {
	case sites == nil:
		return false
	case ahead:
		// A lookahead decides the path by the token itself; no other token answers for it.
		sites = fmt.Appendf(sites, " %d %q", t.Type, t.Value)
	case e.end:
		// Where the text may end, giving up on t leaves the parse that reaches the end, and t is
		// then merely left over; the error is past it.
		return true
	}
	ok, known := e.probed[string(sites)]
	if !known {
		ok = e.probe(t)
		e.probed[string(sites)] = ok
	}
	return ok
}

// probe parses the prefix with t in place of its end.
func (e *expectation) probe(t lexer.Token) bool {
	n := len(e.prefix) - 1
	at := e.prefix[n].Pos
	tokens := make([]lexer.Token, n, n+2)
	copy(tokens, e.prefix[:n])
	t.Pos = at
	end := at
	end.Offset += len(t.Value) + 1
	tokens = append(tokens, t, lexer.Token{Type: TokEOF, Pos: end})
	peeking, err := explainLexer(tokens)
	if err != nil {
		return false
	}
	_, err = grammar.ParseFromLexer(peeking)
	return err == nil || errorOffset(err) > at.Offset
}

// maxTraceTokens bounds the work spent explaining an error in very long input.
const maxTraceTokens = 2000

// expectationAt returns what the grammar accepts at position index of tokens, which parse up to
// there.
func expectationAt(tokens []lexer.Token, index int) *expectation {
	e := &expectation{prefix: tracePrefix(tokens, index), probed: map[string]bool{}}
	if len(e.prefix) > maxTraceTokens {
		return e
	}
	var w traceWriter
	peeking, err := explainLexer(e.prefix)
	if err != nil {
		return e
	}
	_, err = grammar.ParseFromLexer(peeking, participle.Trace(&w))
	e.matchers, e.end = w.matchers, err == nil
	return e
}

// tracePrefix returns the tokens to parse to learn what the grammar accepts at position index: the
// tokens before it, then the end of the text. What a query operator accepts does not depend on
// the operators before it, so when the error is in one, the statement up to the "|" that starts it
// is replaced by "T |" (or "let T = T |" in a let statement, whose pipeline ends at ";" rather
// than at the end of the text), and the parses are short. That "|" must be the statement's own,
// not one inside parentheses.
func tracePrefix(tokens []lexer.Token, index int) []lexer.Token {
	cut, depth, inLet := -1, 0, false
	for i, t := range tokens[:index] {
		if i == 0 || depth == 0 && tokens[i-1].Type == TokPunct && (tokens[i-1].Value == ";" || tokens[i-1].Value == "<|") {
			// A statement starts: a let, the query after lets, or the block of an ingest.
			cut, inLet = -1, t.Type == TokIdent && t.Value == "let"
		}
		if t.Type != TokPunct {
			continue
		}
		switch t.Value {
		case "(", "[", "{": // a function's body is a nesting too: its "|" is not the statement's
			depth++
		case ")", "]", "}":
			depth = max(0, depth-1)
		case "|":
			if depth == 0 {
				cut = i
			}
		}
	}
	end := lexer.Token{Type: TokEOF, Pos: tokens[index].Pos}
	if cut < 0 {
		return append(dropListItems(tokens[:index:index]), end)
	}
	head := []string{"T", "|"}
	if inLet {
		head = []string{"let", "T", "=", "T", "|"}
	}
	prefix := make([]lexer.Token, 0, len(head)+index-cut+1)
	for _, v := range head {
		typ := TokIdent
		if v == "=" || v == "|" {
			typ = TokPunct
		}
		// At the cut's place, so that an error in them is never past the position asked about.
		prefix = append(prefix, lexer.Token{Type: typ, Value: v, Pos: tokens[cut].Pos})
	}
	prefix = append(prefix, tokens[cut+1:index]...)
	return append(dropListItems(prefix), end)
}

// dropListItems shortens a long list that the tokens end in: what may follow "(a, b, c, d" is
// what may follow "(a, d", since a list's items after the first all parse alike. It keeps the
// first item, to stay in a list, and counts a list from the start of its operator: in
// "(T | project a, b | extend c, d" the commas belong to two lists. A "by" starts a list too:
// in "summarize a, b by c, d" the aggregations are one list and the keys another.
func dropListItems(tokens []lexer.Token) []lexer.Token {
	type list struct{ first, last int } // the list's first and last comma, or -1
	lists := []list{{-1, -1}}           // the lists open at each depth; the first is the statement's
	for i, t := range tokens {
		if t.Type == TokIdent && t.Value == "by" {
			lists[len(lists)-1] = list{-1, -1}
			continue
		}
		if t.Type != TokPunct {
			continue
		}
		top := &lists[len(lists)-1]
		switch t.Value {
		case "(", "[", "{":
			lists = append(lists, list{-1, -1})
		case ")", "]", "}":
			if len(lists) > 1 {
				lists = lists[:len(lists)-1]
			}
		case ",":
			if top.first < 0 {
				top.first = i
			}
			top.last = i
		case "|", ";", "<|":
			*top = list{-1, -1} // a new operator or statement starts its own lists
		}
	}
	top := lists[len(lists)-1]
	if top.last <= top.first {
		return tokens
	}
	return append(tokens[:top.first+1:top.first+1], tokens[top.last+1:]...)
}

// traceWriter reads participle's trace: one line per node tried, in one Write, indented by its
// depth, then the quoted token it faced and the node. Only literals and token types that faced
// the end of the text matter.
type traceWriter struct {
	matchers []tokenMatcher
	lines    int
	parents  []traceNode // by depth, the last node entered
	ahead    int         // 1 + the depth of the lookahead group being read, or 0
}

type traceNode struct {
	line   int
	choice bool // a disjunction: its alternatives that match one token continue alike
}

var (
	traceAtEnd       = []byte(`"<EOF>" `)
	traceLookahead   = []byte("lookaheadGroup{}")
	traceDisjunction = []byte("disjunction{}")
	traceLiteral     = []byte("literal{")
	traceReference   = []byte("reference{")
)

func (w *traceWriter) Write(line []byte) (int, error) {
	n := len(line)
	w.lines++
	indent := n - len(bytes.TrimLeft(line, " "))
	depth := indent / 2
	if w.ahead > depth {
		w.ahead = 0 // the lookahead group is done
	}
	w.parents = append(w.parents[:min(depth, len(w.parents))], traceNode{})
	node := bytes.TrimSuffix(line[indent:], []byte("\n"))
	if bytes.HasSuffix(node, traceLookahead) && w.ahead == 0 {
		w.ahead = depth + 1
	}
	w.parents[len(w.parents)-1] = traceNode{line: w.lines, choice: bytes.HasSuffix(node, traceDisjunction)}
	node, ok := bytes.CutPrefix(node, traceAtEnd)
	if !ok {
		return n, nil
	}
	var m tokenMatcher
	if rest, ok := bytes.CutPrefix(node, traceLiteral); ok {
		// literal{"where", "EOF"}: the value, then the token type's name (EOF for any type).
		if m, ok = parseTraceLiteral(string(rest)); !ok {
			return n, nil
		}
	} else if rest, ok := bytes.CutPrefix(node, traceReference); ok {
		// reference{Ident}
		if m.typ, ok = symbols[string(bytes.TrimSuffix(rest, []byte("}")))]; !ok {
			return n, nil
		}
	} else {
		return n, nil
	}
	m.site, m.ahead = w.lines, w.ahead > 0
	if depth > 0 && len(w.parents) > depth-1 && w.parents[depth-1].choice {
		m.site = w.parents[depth-1].line
	}
	w.matchers = append(w.matchers, m)
	return n, nil
}

func parseTraceLiteral(s string) (tokenMatcher, bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return tokenMatcher{}, false
	}
	value, _ := strconv.Unquote(q)
	s = s[len(q):]
	if len(s) < 2 || s[:2] != ", " {
		return tokenMatcher{}, false
	}
	q, err = strconv.QuotedPrefix(s[2:])
	if err != nil {
		return tokenMatcher{}, false
	}
	name, _ := strconv.Unquote(q)
	typ, ok := symbols[name]
	return tokenMatcher{typ: typ, value: value, literal: true}, ok
}
