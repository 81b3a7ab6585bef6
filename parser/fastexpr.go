package parser

import (
	"reflect"
	"regexp"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// The grammar's layered expression rules cost participle about ten microseconds and two
// kilobytes per operand: fine for a query, not for a 300,000-term chain or a datatable of a
// million values. So scalar expressions and datatable value lists are parsed first by hand, by
// precedence climbing over the same tokens, building the expression tree at once; chains and
// lists are loops, and only nesting recurses, which checkNesting has bounded.
//
// The hand parser is a fast path, never a second grammar: it accepts only what the grammar
// accepts, building the tree the grammar's lowering would build (expr.go), and it declines
// (participle.NextMatch, consuming nothing) at anything it is not sure of: a syntax error, a
// literal that does not decode, an expression followed by an operator that might continue it.
// The grammar then parses that text as it always did, and reports and explains the errors.
//
// Explaining an error (trace.go) watches the grammar's own rules at work, so the parses that
// explain one are marked (explainLexer) and the fast path steps aside for them.

// fastExpr is a scalar expression parsed by the fast path.
type fastExpr struct{ tree Expr }

func (f *fastExpr) Parse(lex *lexer.PeekingLexer) error {
	if explaining(lex) {
		return participle.NextMatch
	}
	start := lex.Checkpoint
	p := fastParser{lex: lex}
	tree, ok := p.expr()
	if !ok || continuesExpr(lex.Peek()) {
		lex.Checkpoint = start
		return participle.NextMatch
	}
	f.tree = tree
	return nil
}

// valueList is a datatable's bracketed values, `[v, …]`, parsed by the fast path.
type valueList struct{ items []*ScalarExpr }

func (l *valueList) Parse(lex *lexer.PeekingLexer) error {
	if explaining(lex) {
		return participle.NextMatch
	}
	start := lex.Checkpoint
	p := fastParser{lex: lex}
	items, ok := p.list("[", "]", true, true)
	if !ok {
		lex.Checkpoint = start
		return participle.NextMatch
	}
	l.items = items
	return nil
}

// tokExplain marks the token stream of a parse that explains an error: its first token, which
// the grammar never sees (it is elided).
const tokExplain lexer.TokenType = -100

// explainLexer returns a lexer over tokens for a parse that explains an error.
func explainLexer(tokens []lexer.Token) (*lexer.PeekingLexer, error) {
	marked := make([]lexer.Token, 0, len(tokens)+1)
	marked = append(marked, lexer.Token{Type: tokExplain, Pos: tokens[0].Pos})
	return lexer.Upgrade(&tokenList{tokens: append(marked, tokens...)}, tokExplain)
}

func explaining(lex *lexer.PeekingLexer) bool { return lex.Range(0, 1)[0].Type == tokExplain }

// fastParser parses by precedence climbing. Each method returns false, having consumed an
// unknown number of tokens, where the grammar might disagree or fail; the caller then restores
// the lexer and declines.
type fastParser struct{ lex *lexer.PeekingLexer }

func (p *fastParser) peekIs(value string) bool { return p.lex.Peek().Value == value }

// expect consumes the punctuation value.
func (p *fastParser) expect(value string) bool {
	if t := p.lex.Peek(); t.Type != TokPunct || t.Value != value {
		return false
	}
	p.lex.Next()
	return true
}

// scalar parses an expression as the grammar's ScalarExpr node.
func (p *fastParser) scalar() (*ScalarExpr, bool) {
	pos := p.lex.Peek().Pos
	tree, ok := p.expr()
	return &ScalarExpr{Pos: pos, Tree: tree}, ok
}

// list parses open, expressions separated by commas, and close, as in `'(' @@ ( ',' @@ )* ')'`;
// with empty, the list may be empty; with trailing, it may end in a comma.
func (p *fastParser) list(open, close string, empty, trailing bool) ([]*ScalarExpr, bool) {
	if !p.expect(open) {
		return nil, false
	}
	var items []*ScalarExpr
	if empty && p.expect(close) {
		return items, true
	}
	for {
		item, ok := p.scalar()
		if !ok {
			return nil, false
		}
		items = append(items, item)
		if p.expect(close) {
			return items, true
		}
		if !p.expect(",") {
			return nil, false
		}
		if trailing && p.expect(close) {
			return items, true
		}
	}
}

// expr is orExpr: and-expressions joined by or; each or is placed at its right operand, as the
// grammar's lowering places it.
func (p *fastParser) expr() (Expr, bool) {
	left, ok := p.and()
	for ok && p.peekIs("or") {
		p.lex.Next()
		at := p.lex.Peek().Pos.Offset
		var right Expr
		right, ok = p.and()
		left = &BinaryExpr{At: at, Op: "or", Left: left, Right: right}
	}
	return left, ok
}

func (p *fastParser) and() (Expr, bool) {
	left, ok := p.cmp()
	for ok && p.peekIs("and") {
		p.lex.Next()
		at := p.lex.Peek().Pos.Offset
		var right Expr
		right, ok = p.cmp()
		left = &BinaryExpr{At: at, Op: "and", Left: left, Right: right}
	}
	return left, ok
}

var (
	inOperators         = map[string]bool{}
	comparisonOperators = map[string]bool{}
	additiveOperators   = map[string]bool{"+": true, "-": true}
	multiplyOperators   = map[string]bool{"*": true, "/": true, "%": true}
	literalWords        = map[string]bool{"true": true, "false": true, "True": true, "False": true, "TRUE": true, "FALSE": true}
	notNames            = map[string]bool{"and": true, "or": true, "let": true}
)

func init() {
	// The in and comparison operators are read off the grammar's cmpExpr, so that the two
	// parsers never differ.
	cmp := reflect.TypeFor[cmpExpr]()
	for field, ops := range map[string]map[string]bool{"InOp": inOperators, "Op": comparisonOperators} {
		f, _ := cmp.FieldByName(field)
		for _, m := range quotedOperator.FindAllStringSubmatch(f.Tag.Get("parser"), -1) {
			ops[m[1]] = true
		}
	}
}

var quotedOperator = regexp.MustCompile(`'([^' ]+)'`)

// continuesExpr reports whether t might continue an expression that ends before it: then the
// grammar, not the fast path, decides.
func continuesExpr(t *lexer.Token) bool {
	v := t.Value
	return v == "or" || v == "and" || inOperators[v] || comparisonOperators[v] || additiveOperators[v] || multiplyOperators[v] ||
		grammarOperators[v]
}

// grammarOperators are the operators after an operand that the fast path leaves to the grammar:
// between's range and matches regex are rare enough not to need a fast path.
var grammarOperators = map[string]bool{"between": true, "!between": true, "matches": true}

// cmp is cmpExpr: a comparison or an in-list, placed at its left operand.
func (p *fastParser) cmp() (Expr, bool) {
	at := p.lex.Peek().Pos.Offset
	left, ok := p.add()
	if !ok {
		return nil, false
	}
	switch op := p.lex.Peek().Value; {
	case inOperators[op]:
		p.lex.Next()
		items, ok := p.list("(", ")", false, false)
		in := &InExpr{At: at, Op: op, Left: left, List: make([]Expr, len(items))}
		for i, item := range items {
			in.List[i] = item.Tree
		}
		return in, ok
	case comparisonOperators[op]:
		p.lex.Next()
		right, ok := p.add()
		if op == "<>" {
			op = "!="
		}
		return &BinaryExpr{At: at, Op: op, Left: left, Right: right}, ok
	}
	return left, true
}

// add is addExpr: each + or - is placed at the operator.
func (p *fastParser) add() (Expr, bool) {
	left, ok := p.mul()
	for ok && additiveOperators[p.lex.Peek().Value] {
		op := p.lex.Next()
		var right Expr
		right, ok = p.mul()
		left = &BinaryExpr{At: op.Pos.Offset, Op: op.Value, Left: left, Right: right}
	}
	return left, ok
}

func (p *fastParser) mul() (Expr, bool) {
	left, ok := p.signed()
	for ok && multiplyOperators[p.lex.Peek().Value] {
		op := p.lex.Next()
		var right Expr
		right, ok = p.signed()
		left = &BinaryExpr{At: op.Pos.Offset, Op: op.Value, Left: left, Right: right}
	}
	return left, ok
}

// signed is signedExpr: a sign, or a run of them, before a primary; + is dropped.
func (p *fastParser) signed() (Expr, bool) {
	t := p.lex.Peek()
	if t.Type != TokPunct || !additiveOperators[t.Value] {
		return p.postfix()
	}
	p.lex.Next()
	if t.Value == "-" && isMinLongMagnitude(*p.lex.Peek()) {
		at := p.lex.Checkpoint
		p.lex.Next()
		if !startsAccessor(p.lex.Peek()) {
			return &LiteralExpr{At: t.Pos.Offset, Literal: minLong}, true
		}
		p.lex.Checkpoint = at // an accessor after a number: the grammar reports it
	}
	operand, ok := p.signed()
	if !ok || t.Value == "+" {
		return operand, ok
	}
	return &NegateExpr{At: t.Pos.Offset, Operand: operand}, true
}

// postfix is postfixExpr: a primary and the accessors after it, each placed at its '.' or '['.
func (p *fastParser) postfix() (Expr, bool) {
	x, ok := p.primary()
	for ok {
		t := p.lex.Peek()
		step := &IndexExpr{At: t.Pos.Offset, Target: x}
		switch {
		case t.Type == TokPunct && t.Value == ".":
			p.lex.Next()
			n := p.lex.Peek()
			var name nameText
			if n.Type != TokIdent && n.Type != TokQuotedIdent || name.Capture([]string{n.Value}) != nil {
				return nil, false
			}
			p.lex.Next()
			step.Dot = true
			step.Index = &LiteralExpr{At: n.Pos.Offset, Literal: kusto.Literal{Type: kusto.TypeString, Value: string(name)}}
		case t.Type == TokQuotedIdent:
			var name nameText
			if name.Capture([]string{t.Value}) != nil {
				return nil, false
			}
			p.lex.Next()
			step.Index = &LiteralExpr{At: t.Pos.Offset + 1, Literal: kusto.Literal{Type: kusto.TypeString, Value: string(name)}}
		case t.Type == TokPunct && t.Value == "[":
			p.lex.Next()
			step.Index, ok = p.expr()
			ok = ok && p.expect("]")
		default:
			return x, true
		}
		x = step
	}
	return nil, false
}

// primary is a literal, a call, a column name or a parenthesized expression.
func (p *fastParser) primary() (Expr, bool) {
	t := p.lex.Peek()
	switch {
	case t.Type == TokString || t.Type == TokInt || t.Type == TokReal || t.Type == TokTimespan || t.Type == TokTypedLit || literalWords[t.Value]:
		lit, err := literalValue(*t)
		if err != nil {
			return nil, false
		}
		p.lex.Next()
		return &LiteralExpr{At: t.Pos.Offset, Literal: lit}, true
	case t.Type == TokIdent && !notNames[t.Value] || t.Type == TokQuotedIdent:
		var name nameText
		if err := name.Capture([]string{t.Value}); err != nil {
			return nil, false
		}
		p.lex.Next()
		if next := p.lex.Peek(); next.Type != TokPunct || next.Value != "(" {
			return &ColumnExpr{At: t.Pos.Offset, Name: string(name)}, true
		}
		args, ok := p.list("(", ")", true, false)
		c := &CallExpr{At: t.Pos.Offset, Func: string(name)}
		for _, a := range args {
			c.Args = append(c.Args, a.Tree)
		}
		return c, ok
	case t.Type == TokPunct && t.Value == "(":
		p.lex.Next()
		e, ok := p.expr()
		return e, ok && p.expect(")")
	}
	return nil, false
}

// startsAccessor reports whether t begins a dynamic accessor (postfix): '.', '[' or ['name'].
func startsAccessor(t *lexer.Token) bool {
	return t.Type == TokQuotedIdent || t.Type == TokPunct && (t.Value == "." || t.Value == "[")
}
