package parser

import (
	"github.com/alecthomas/participle/v2/lexer"
)

// Building the grammar costs a fresh process about as much as the rest of its start-up (3–6
// ms), so the simplest blocks, the ones a cold `kustard exec` typically runs, are parsed
// without it: a query that is only `print [name =] expr, …` or `range x from A to B step C`,
// with an optional ';'. Like the expression fast path (fastexpr.go) this is a fast path, never
// a second grammar: it builds the tree the grammar would build, with the same positions (the
// tests parse every case both ways), and declines at anything else, leaving the block to the
// grammar, which also reports and explains every error.

// fastBlock parses the whole of the tokens in lex as a block, or returns nil, having moved lex
// by an unknown number of tokens, when the grammar must.
func fastBlock(lex *lexer.PeekingLexer) *Block {
	start := *lex.Peek()
	if start.Type != TokIdent {
		return nil
	}
	var source TabularSource
	switch start.Value {
	case "print":
		source = fastPrint(lex)
	case "range":
		source = fastRange(lex)
	}
	if source == nil {
		return nil
	}
	if t := lex.Peek(); t.Type == TokPunct && t.Value == ";" {
		lex.Next()
	}
	if !lex.Peek().EOF() {
		return nil
	}
	return &Block{Pos: start.Pos, Query: &Query{Pos: start.Pos, Body: &Pipeline{Pos: start.Pos, Source: source}}}
}

// fastPrint parses `'print' NamedExpr ( ',' NamedExpr )*`.
func fastPrint(lex *lexer.PeekingLexer) TabularSource {
	ps := &PrintSource{Pos: lex.Next().Pos}
	p := fastParser{lex: lex}
	for {
		col := &NamedExpr{Pos: lex.Peek().Pos}
		name, ok := fastAssigned(lex)
		if !ok {
			return nil
		}
		col.Name = name
		if col.Expr, ok = fastScalar(&p); !ok {
			return nil
		}
		ps.Columns = append(ps.Columns, col)
		if !p.expect(",") {
			return ps
		}
	}
}

// fastRange parses `'range' Name 'from' ScalarExpr 'to' ScalarExpr 'step' ScalarExpr`.
func fastRange(lex *lexer.PeekingLexer) TabularSource {
	rs := &RangeSource{Pos: lex.Next().Pos}
	p := fastParser{lex: lex}
	var ok bool
	if rs.Column, ok = fastName(lex); !ok {
		return nil
	}
	for _, part := range []struct {
		keyword string
		expr    **ScalarExpr
	}{{"from", &rs.From}, {"to", &rs.To}, {"step", &rs.Step}} {
		if t := lex.Peek(); t.Type != TokIdent || t.Value != part.keyword {
			return nil
		}
		lex.Next()
		if *part.expr, ok = fastScalar(&p); !ok {
			return nil
		}
	}
	return rs
}

// fastAssigned parses NamedExpr's optional `Name '='`: it returns nil and true when the next
// two tokens are not a name and '=', and false when they are but the name does not decode.
func fastAssigned(lex *lexer.PeekingLexer) (*Name, bool) {
	at := lex.MakeCheckpoint()
	if t := lex.Peek(); t.Type != TokIdent && t.Type != TokQuotedIdent {
		return nil, true
	}
	lex.Next()
	eq := lex.Peek()
	lex.LoadCheckpoint(at)
	if eq.Type != TokPunct || eq.Value != "=" {
		return nil, true
	}
	name, ok := fastName(lex)
	if ok {
		lex.Next() // the '='
	}
	return name, ok
}

// fastName parses Name: `@( Ident | QuotedIdent )`.
func fastName(lex *lexer.PeekingLexer) (*Name, bool) {
	t := lex.Peek()
	if t.Type != TokIdent && t.Type != TokQuotedIdent {
		return nil, false
	}
	n := &Name{Pos: t.Pos}
	if n.Value.Capture([]string{t.Value}) != nil {
		return nil, false
	}
	lex.Next()
	return n, true
}

// fastScalar parses ScalarExpr as the grammar does when its own fast path (fastExpr) takes it.
func fastScalar(p *fastParser) (*ScalarExpr, bool) {
	pos := p.lex.Peek().Pos
	tree, ok := p.expr()
	if !ok || continuesExpr(p.lex.Peek()) {
		return nil, false
	}
	return &ScalarExpr{Pos: pos, Fast: &fastExpr{tree: tree}}, true
}
