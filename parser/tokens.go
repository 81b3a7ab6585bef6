package parser

import (
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// Token is one lexical token of Kusto text, as front doors see it: the shell decides from tokens
// whether input is complete and what to complete, without depending on the parser library.
type Token struct {
	Kind   TokenKind
	Value  string // as written in the source: a string keeps its quotes, a name its brackets
	Offset int    // byte offset in the source's text
}

// TokenKind says what sort of token a Token is.
type TokenKind int

const (
	TokenEOF         TokenKind = iota // the end of the text
	TokenIdent                        // a name, or a plain keyword such as where
	TokenKeyword                      // a hyphenated or negated keyword: set-or-append, !contains
	TokenQuotedIdent                  // ['a b'] or ["a b"]
	TokenString                       // one or more adjacent string literals
	TokenGUID                         // a raw guid
	TokenInt                          // 42, 0x2A
	TokenReal                         // 1.5, 1e3
	TokenTimespan                     // 1d, 30m, 100ms
	TokenTypedLit                     // datetime(…), guid(…), dynamic(…), …
	TokenPunct                        // operators and punctuation
	TokenValues                       // a datatable's values, when all are literals: [1, "a"]
	TokenData                         // the data of .ingest inline after <|, to the end of the text
)

var tokenKinds = map[lexer.TokenType]TokenKind{
	TokEOF: TokenEOF, TokIdent: TokenIdent, TokKeyword: TokenKeyword, TokQuotedIdent: TokenQuotedIdent,
	TokString: TokenString, TokGUID: TokenGUID, TokInt: TokenInt, TokReal: TokenReal,
	TokTimespan: TokenTimespan, TokTypedLit: TokenTypedLit, TokPunct: TokenPunct, TokValues: TokenValues,
	TokRaw: TokenData,
}

// Tokens lexes a whole source into tokens, the last of them TokenEOF. On a lexical error it
// returns the tokens before it and the error, a *kusto.Error.
func Tokens(src *kusto.Source) ([]Token, error) {
	toks, err := tokenize(src)
	out := make([]Token, len(toks))
	for i, t := range toks {
		out[i] = Token{Kind: tokenKinds[t.Type], Value: t.Value, Offset: t.Pos.Offset}
	}
	return out, err
}
