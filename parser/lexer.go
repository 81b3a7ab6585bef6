package parser

import (
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Token types produced by the Kusto lexer. Every token's Value is its source text, so that a
// string "with" or a bracketed ['where'] can never be mistaken for the keyword it spells; the AST's
// Capture methods decode values.
const (
	TokEOF         = lexer.EOF
	TokIdent       = lexer.TokenType(-2 - iota) // name, or a plain keyword such as where
	TokKeyword                                  // hyphenated or negated keyword: set-or-append, !contains
	TokQuotedIdent                              // ['a b'] or ["a b"]
	TokString                                   // one or more adjacent string literals
	TokGUID                                     // raw 8-4-4-4-12 hex guid
	TokInt                                      // 42, 0x2A
	TokReal                                     // 1.5, 1e3
	TokTimespan                                 // 1d, 30m, 100ms
	TokTypedLit                                 // datetime(…), guid(…), dynamic(…), int(…), …
	TokPunct                                    // operators and punctuation
)

var symbols = map[string]lexer.TokenType{
	"EOF": TokEOF, "Ident": TokIdent, "Keyword": TokKeyword, "QuotedIdent": TokQuotedIdent, "String": TokString,
	"GUID": TokGUID, "Int": TokInt, "Real": TokReal, "Timespan": TokTimespan, "TypedLit": TokTypedLit, "Punct": TokPunct,
}

// tokenNames describe token types in error messages.
var tokenNames = map[lexer.TokenType]string{
	TokEOF: "end of input", TokIdent: "name", TokKeyword: "keyword", TokQuotedIdent: "name", TokString: "string",
	TokGUID: "guid", TokInt: "number", TokReal: "number", TokTimespan: "timespan", TokTypedLit: "literal", TokPunct: "symbol",
}

// hyphenated lists Kusto's keywords that contain '-'. The lexer joins name-name-name into one
// token only when the result is one of these, so a-b stays a subtraction.
var hyphenated = map[string]bool{
	"set-or-append": true, "set-or-replace": true, "create-merge": true, "create-or-alter": true,
	"alter-merge": true, "drop-pretend": true, "project-away": true, "project-keep": true,
	"project-rename": true, "project-reorder": true, "mv-expand": true, "mv-apply": true,
	"make-series": true, "parse-where": true, "parse-kv": true, "top-nested": true,
	"top-hitters": true, "commands-and-queries": true, "materialized-view": true,
	"materialized-views": true, "row-level-security": true, "extent-tags-retention": true,
}

// negatable lists the string and set operators that take a leading '!' (!contains, !in, …).
var negatable = map[string]bool{
	"contains": true, "contains_cs": true, "has": true, "has_cs": true, "hasprefix": true,
	"hasprefix_cs": true, "hassuffix": true, "hassuffix_cs": true, "startswith": true,
	"startswith_cs": true, "endswith": true, "endswith_cs": true, "in": true, "in~": true,
	"between": true, "has_any": true, "has_all": true,
}

// typedLiteralNames are the type names whose literal form is name(…), lexed as one token.
var typedLiteralNames = map[string]bool{
	"datetime": true, "date": true, "timespan": true, "time": true, "guid": true, "uuid": true,
	"uniqueid": true, "bool": true, "boolean": true, "int": true, "long": true, "real": true,
	"double": true, "decimal": true, "dynamic": true,
}

// punctuation, longest first so that "<|" wins over "<".
var punctuation = []string{
	"<|", "==", "!=", "<>", "<=", ">=", "=~", "!~", "=>", "..",
	"|", "(", ")", "[", "]", "{", "}", ",", ";", "=", "<", ">", "+", "-", "*", "/", "%", ".", ":", "!", "?",
}

// Lexer is the participle lexer definition for Kusto text.
var Lexer lexer.Definition = kustoDefinition{}

type kustoDefinition struct{}

func (kustoDefinition) Symbols() map[string]lexer.TokenType { return symbols }

func (d kustoDefinition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (kustoDefinition) LexString(filename string, text string) (lexer.Lexer, error) {
	return &scanner{src: &Source{Name: filename, Text: text}, line: 1, col: 1}, nil
}

// Tokenize lexes a whole source, for tests and tools that want the token stream.
func Tokenize(src *Source) ([]lexer.Token, error) {
	s := &scanner{src: src, line: 1, col: 1}
	var out []lexer.Token
	for {
		t, err := s.Next()
		if err != nil {
			return out, err
		}
		out = append(out, t)
		if t.Type == TokEOF {
			return out, nil
		}
	}
}

type scanner struct {
	src       *Source
	off       int // next byte to read
	line, col int // position of off, kept in step so tokens need no rescans
}

func (s *scanner) text() string { return s.src.Text }

func (s *scanner) peekRune(at int) (rune, int) {
	if at >= len(s.src.Text) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(s.src.Text[at:])
}

// advanceTo moves the read position to off, keeping line and column in step.
func (s *scanner) advanceTo(off int) {
	for _, r := range s.src.Text[s.off:off] {
		if r == '\n' {
			s.line++
			s.col = 1
		} else {
			s.col++
		}
	}
	s.off = off
}

func (s *scanner) errorf(offset int, format string, args ...any) error {
	return Errorf(KindSyntax, s.src, offset, format, args...)
}

func (s *scanner) Next() (lexer.Token, error) {
	if err := s.skipSpace(); err != nil {
		return lexer.Token{}, err
	}
	pos := lexer.Position{Filename: s.src.Name, Offset: s.off, Line: s.line, Column: s.col}
	if s.off >= len(s.text()) {
		return lexer.Token{Type: TokEOF, Pos: pos}, nil
	}
	typ, end, err := s.scanToken(s.off)
	if err != nil {
		return lexer.Token{}, err
	}
	value := s.text()[s.off:end]
	if typ == TokString {
		value, end, err = s.joinAdjacentStrings(value, end)
		if err != nil {
			return lexer.Token{}, err
		}
	}
	s.advanceTo(end)
	return lexer.Token{Type: typ, Value: value, Pos: pos}, nil
}

// joinAdjacentStrings implements Kusto's rule that string literals separated only by whitespace
// or comments are one string: it returns the literals' texts run together (each still quoted).
func (s *scanner) joinAdjacentStrings(value string, end int) (string, int, error) {
	for {
		next, err := skipSpaceFrom(s.text(), end)
		if err != nil || next >= len(s.text()) || !startsString(s.text(), next) {
			return value, end, nil
		}
		typ, stop, err := s.scanToken(next)
		if err != nil {
			return "", 0, err
		}
		if typ != TokString {
			return value, end, nil
		}
		value += s.text()[next:stop]
		end = stop
	}
}

func (s *scanner) skipSpace() error {
	next, err := skipSpaceFrom(s.text(), s.off)
	s.advanceTo(next)
	return err
}

// skipSpaceFrom returns the offset of the first byte at or after off that is neither white space
// nor part of a // comment.
func skipSpaceFrom(text string, off int) (int, error) {
	for off < len(text) {
		r, size := utf8.DecodeRuneInString(text[off:])
		switch {
		case isSpace(r):
			off += size
		case strings.HasPrefix(text[off:], "//"):
			nl := strings.IndexAny(text[off:], "\n\r\u2028\u2029")
			if nl < 0 {
				return len(text), nil
			}
			off += nl
		default:
			return off, nil
		}
	}
	return off, nil
}

// isSpace follows KqlTokens.g4, which counts the Unicode space separators, the byte-order mark and
// the line and paragraph separators as white space.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', 0x85, 0xA0, 0x1680, 0x180E, 0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func isIdentStart(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// startsString reports whether a string literal (of any form) begins at off.
func startsString(text string, off int) bool {
	rest := text[off:]
	if len(rest) > 0 && (rest[0] == 'h' || rest[0] == 'H') {
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0] == '@' {
		rest = rest[1:]
		return len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'')
	}
	return strings.HasPrefix(rest, "```") || strings.HasPrefix(rest, "~~~") ||
		(len(rest) > 0 && (rest[0] == '"' || rest[0] == '\''))
}

// scanToken finds the type and end of the token starting at off without moving the scanner.
func (s *scanner) scanToken(off int) (lexer.TokenType, int, error) {
	text := s.text()
	r, size := s.peekRune(off)
	switch {
	case startsString(text, off):
		end, err := scanString(s.src, off)
		return TokString, end, err
	case isHex(r) && isGUIDAt(text, off):
		return TokGUID, off + 36, nil
	case r >= '0' && r <= '9':
		return s.scanNumber(off)
	case r == '[' && off+1 < len(text) && (text[off+1] == '\'' || text[off+1] == '"'):
		return s.scanBracketedName(off)
	case isIdentStart(r):
		return s.scanWord(off)
	case r == '!':
		if w, end := wordAt(text, off+1); negatable[w] {
			if w == "in" && strings.HasPrefix(text[end:], "~") {
				end++ // !in~
			}
			return TokKeyword, end, nil
		}
	}
	for _, p := range punctuation {
		if strings.HasPrefix(text[off:], p) {
			return TokPunct, off + len(p), nil
		}
	}
	if r == utf8.RuneError && size == 1 {
		return 0, 0, s.errorf(off, "invalid UTF-8 byte 0x%02x", text[off])
	}
	return 0, 0, s.errorf(off, "unexpected character %q", r)
}

// wordAt returns the identifier starting at off (empty if none) and where it ends.
func wordAt(text string, off int) (string, int) {
	end := off
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		if end == off && !isIdentStart(r) || end > off && !isIdentPart(r) {
			break
		}
		end += size
	}
	return text[off:end], end
}

func (s *scanner) scanWord(off int) (lexer.TokenType, int, error) {
	text := s.text()
	word, end := wordAt(text, off)
	// Join hyphenated keywords, taking the longest that is a real keyword.
	typ, best := TokIdent, end
	for joined := word; end < len(text) && text[end] == '-'; {
		next, stop := wordAt(text, end+1)
		if next == "" || !hasHyphenatedPrefix(joined+"-"+next) {
			break
		}
		joined, end = joined+"-"+next, stop
		if hyphenated[joined] {
			typ, best = TokKeyword, end
		}
	}
	end = best
	if word == "in" && typ == TokIdent && strings.HasPrefix(text[end:], "~") {
		return TokKeyword, end + 1, nil
	}
	if typ == TokIdent && typedLiteralNames[word] && strings.HasPrefix(text[end:], "(") {
		close, err := s.scanTypedLiteralBody(word, end)
		return TokTypedLit, close, err
	}
	return typ, end, nil
}

func hasHyphenatedPrefix(p string) bool {
	for k := range hyphenated {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// scanTypedLiteralBody finds the ')' that closes name( at open, and checks that the text between
// is a valid literal of that type, so that a bad datetime is reported where it is written.
func (s *scanner) scanTypedLiteralBody(name string, open int) (int, error) {
	text := s.text()
	depth := 0
	for i := open; i < len(text); i++ {
		switch c := text[i]; c {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				if c != ')' {
					return 0, s.errorf(i, "unbalanced %q in %s literal", c, name)
				}
				if _, err := ParseTypedLiteral(name, text[open+1:i]); err != nil {
					return 0, s.errorf(open+1, "invalid %s literal: %v", name, err)
				}
				return i + 1, nil
			}
		case '"', '\'':
			if name != "dynamic" {
				continue
			}
			end, err := scanString(s.src, i)
			if err != nil {
				return 0, err
			}
			i = end - 1
		case '\n':
			if name != "dynamic" {
				return 0, s.errorf(open, "%s literal is missing its closing ')'", name)
			}
		}
	}
	return 0, s.errorf(open, "%s literal is missing its closing ')'", name)
}

func (s *scanner) scanBracketedName(off int) (lexer.TokenType, int, error) {
	end, err := scanString(s.src, off+1)
	if err != nil {
		return 0, 0, err
	}
	if end >= len(s.text()) || s.text()[end] != ']' {
		return 0, 0, s.errorf(off, "bracketed name is missing its closing ']'")
	}
	return TokQuotedIdent, end + 1, nil
}

func isHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

// isGUIDAt reports whether a raw 8-4-4-4-12 hex guid starts at off and is not part of a longer word.
func isGUIDAt(text string, off int) bool {
	if len(text)-off < 36 {
		return false
	}
	for i := range 36 {
		c := rune(text[off+i])
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	r, _ := utf8.DecodeRuneInString(text[off+36:])
	return off+36 == len(text) || !isIdentPart(r)
}

// timespanUnits maps each timespan literal suffix to its length in ticks (100 ns).
var timespanUnits = map[string]int64{
	"d": 864_000_000_000, "day": 864_000_000_000, "days": 864_000_000_000,
	"h": 36_000_000_000, "hr": 36_000_000_000, "hrs": 36_000_000_000, "hour": 36_000_000_000, "hours": 36_000_000_000,
	"m": 600_000_000, "min": 600_000_000, "minute": 600_000_000, "minutes": 600_000_000,
	"s": 10_000_000, "sec": 10_000_000, "second": 10_000_000, "seconds": 10_000_000,
	"ms": 10_000, "milli": 10_000, "millis": 10_000, "millisecond": 10_000, "milliseconds": 10_000,
	"microsecond": 10, "microseconds": 10, "tick": 1, "ticks": 1,
}

func (s *scanner) scanNumber(off int) (lexer.TokenType, int, error) {
	text := s.text()
	end := off
	digits := func() {
		for end < len(text) && text[end] >= '0' && text[end] <= '9' {
			end++
		}
	}
	if strings.HasPrefix(text[off:], "0x") || strings.HasPrefix(text[off:], "0X") {
		end = off + 2
		for end < len(text) && isHex(rune(text[end])) {
			end++
		}
		if _, err := strconv.ParseInt(text[off:end], 0, 64); err != nil {
			return 0, 0, s.errorf(off, "invalid hexadecimal number %q", text[off:end])
		}
		return TokInt, end, s.checkNumberEnd(off, end)
	}
	digits()
	typ := TokInt
	if end+1 < len(text) && text[end] == '.' && text[end+1] >= '0' && text[end+1] <= '9' {
		typ = TokReal
		end++
		digits()
	}
	if end < len(text) && (text[end] == 'e' || text[end] == 'E') {
		exp := end + 1
		if exp < len(text) && (text[exp] == '+' || text[exp] == '-') {
			exp++
		}
		if exp < len(text) && text[exp] >= '0' && text[exp] <= '9' {
			typ, end = TokReal, exp
			digits()
		}
	}
	if unit, stop := wordAt(text, end); unit != "" {
		if _, ok := timespanUnits[unit]; ok {
			return TokTimespan, stop, nil
		}
		return 0, 0, s.errorf(off, "invalid number %q", text[off:stop])
	}
	if typ == TokInt {
		if _, err := strconv.ParseInt(text[off:end], 10, 64); err != nil {
			return 0, 0, s.errorf(off, "number %s is out of range for long", text[off:end])
		}
	}
	return typ, end, nil
}

func (s *scanner) checkNumberEnd(off, end int) error {
	if w, stop := wordAt(s.text(), end); w != "" || (end < len(s.text()) && isIdentPart(rune(s.text()[end]))) {
		return s.errorf(off, "invalid number %q", s.text()[off:max(stop, end+1)])
	}
	return nil
}
