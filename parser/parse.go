// Package parser turns Kusto text into an AST: a hand-written lexer with Kusto's lexical rules
// (raw guids, every string form, timespans, hyphenated keywords), a participle grammar in which
// the structs are the AST and every node has a position, and errors that speak Kusto rather than
// the grammar, reported as kusto.Error so that they render file:line:col with a caret.
//
// Parse handles one block (a command or a query); SplitBlocks cuts a script into blocks. The
// parser only parses: types, values and literal decoding live in package kusto, which the engine
// uses at run time.
package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

var grammar = participle.MustBuild[Block](
	participle.Lexer(Lexer),
	participle.Union[Command](commandMembers...),
	participle.Union[TabularSource](sourceMembers...),
	participle.Union[Operator](operatorMembers...),
	participle.UseLookahead(2),
)

// Grammar returns the grammar in EBNF, so that every change to it shows in review.
func Grammar() string { return grammar.String() }

// Parse parses one block: a management command (optionally followed by `| operators`) or a query.
func Parse(src *kusto.Source) (*Block, error) {
	tokens, err := Tokenize(src)
	if err != nil {
		return nil, err
	}
	if err := checkSupported(src, tokens); err != nil {
		return nil, err
	}
	peeking, err := lexer.Upgrade(&tokenList{tokens: tokens})
	if err != nil {
		return nil, err
	}
	block, err := grammar.ParseFromLexer(peeking)
	if err != nil {
		return nil, translate(src, tokens, err)
	}
	if err := finish(src, block); err != nil {
		return nil, err
	}
	return block, nil
}

// ParseString parses text that has no file name.
func ParseString(text string) (*Block, error) { return Parse(&kusto.Source{Text: text}) }

// tokenList replays tokens already lexed, so that Parse lexes once.
type tokenList struct {
	tokens []lexer.Token
	next   int
}

func (l *tokenList) Next() (lexer.Token, error) {
	t := l.tokens[l.next]
	if l.next < len(l.tokens)-1 {
		l.next++
	}
	return t, nil
}
