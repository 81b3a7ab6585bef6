package parser

import (
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
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
	TokValues                                   // a datatable's values when all are literals: [1, "a", -2.5]
	TokRaw                                      // the data of `.ingest inline … <|`, to the end of the text
)

var symbols = map[string]lexer.TokenType{
	"EOF": TokEOF, "Ident": TokIdent, "Keyword": TokKeyword, "QuotedIdent": TokQuotedIdent, "String": TokString,
	"GUID": TokGUID, "Int": TokInt, "Real": TokReal, "Timespan": TokTimespan, "TypedLit": TokTypedLit, "Punct": TokPunct,
	"Values": TokValues, "Raw": TokRaw,
}

// tokenNames describe token types in error messages.
var tokenNames = map[lexer.TokenType]string{
	TokEOF: "end of input", TokIdent: "name", TokKeyword: "keyword", TokQuotedIdent: "name", TokString: "string",
	TokGUID: "guid", TokInt: "number", TokReal: "number", TokTimespan: "timespan", TokTypedLit: "literal", TokPunct: "symbol",
	TokValues: "values", TokRaw: "data",
}

// hyphenated lists Kusto's keywords that contain '-'. The lexer joins name-name-name into one
// token only when the result is one of these, so a-b stays a subtraction.
var hyphenated = map[string]bool{
	"set-or-append": true, "set-or-replace": true, "create-merge": true, "create-or-alter": true,
	"alter-merge": true, "drop-pretend": true, "project-away": true, "project-keep": true,
	"project-rename": true, "project-reorder": true, "mv-expand": true, "mv-apply": true,
	"make-series": true, "parse-where": true, "parse-kv": true, "top-nested": true,
	"top-hitters": true, "sample-distinct": true, "granny-asc": true, "granny-desc": true, "commands-and-queries": true, "materialized-view": true,
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
	return newScanner(&kusto.Source{Name: filename, Text: text}), nil
}

// newScanner starts at the source's first line, so that positions in a block cut out of a script
// are the script's.
func newScanner(src *kusto.Source) *scanner {
	return &scanner{src: src, line: max(1, src.FirstLine), col: 1}
}

// tokenize lexes a whole source into participle tokens; front doors use Tokens, the parser's own.
func tokenize(src *kusto.Source) ([]lexer.Token, error) {
	s := newScanner(src)
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
	src       *kusto.Source
	off       int  // next byte to read
	line, col int  // position of off, kept in step so tokens need no rescans
	afterCall bool // the last token was ')', after which '[' opens a list, never a name
	// A datatable's values are one token when they are all literals (scanValues): parens counts
	// the parentheses open, datatable is the count at which `datatable(` opened (or 0), and
	// values says that the last token closed it.
	parens, datatable int
	lastDatatable     bool // the last token was the word datatable
	values            bool
	noValues          bool // lex datatable values token by token, as the grammar's tests compare
	raw               bool // the last token was the `<|` of an .ingest inline: the rest is data
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
	return kusto.Errorf(kusto.KindSyntax, s.src, offset, format, args...)
}

func (s *scanner) Next() (lexer.Token, error) {
	if s.raw {
		s.raw = false
		pos := lexer.Position{Filename: s.src.Name, Offset: s.off, Line: s.line, Column: s.col}
		value := s.text()[s.off:]
		s.advanceTo(len(s.text()))
		return lexer.Token{Type: TokRaw, Value: value, Pos: pos}, nil
	}
	if err := s.skipSpace(); err != nil {
		return lexer.Token{}, err
	}
	pos := lexer.Position{Filename: s.src.Name, Offset: s.off, Line: s.line, Column: s.col}
	if s.off >= len(s.text()) {
		return lexer.Token{Type: TokEOF, Pos: pos}, nil
	}
	if s.values && !s.noValues {
		s.values = false
		if end, ok := s.scanValues(s.off); ok {
			value := s.text()[s.off:end]
			s.advanceTo(end)
			s.afterCall, s.lastDatatable = false, false
			return lexer.Token{Type: TokValues, Value: value, Pos: pos}, nil
		}
	}
	typ, end, value, err := s.scanFull(s.off)
	if err != nil {
		return lexer.Token{}, err
	}
	s.advanceTo(end)
	s.afterCall = typ == TokPunct && value == ")"
	if typ == TokPunct {
		switch value {
		case "(":
			s.parens++
			if s.lastDatatable {
				s.datatable = s.parens
			}
		case ")":
			if s.datatable > 0 && s.parens == s.datatable {
				s.datatable, s.values = 0, true
			}
			s.parens = max(0, s.parens-1)
		}
	}
	s.lastDatatable = typ == TokIdent && value == "datatable"
	s.raw = typ == TokPunct && value == "<|" && startsInlineIngest(s.text())
	return lexer.Token{Type: typ, Value: value, Pos: pos}, nil
}

// scanFull scans the token at off as Next does, adjacent strings joined, without moving the
// scanner.
func (s *scanner) scanFull(off int) (lexer.TokenType, int, string, error) {
	typ, end, err := s.scanToken(off)
	if err != nil {
		return 0, 0, "", err
	}
	value := s.text()[off:end]
	if typ == TokString {
		value, end, err = s.joinAdjacentStrings(value, end)
	}
	return typ, end, value, err
}

// scanValues returns the end of a datatable's values at off, `[v, …]`, if each value is a
// literal, a number with a sign, or true or false: then the whole list is one token, and a
// datatable of a million values costs one token rather than two million (the finisher decodes
// it, with decodeValues). Anything else, even a mistake, is left to be lexed token by token.
func (s *scanner) scanValues(off int) (int, bool) {
	text := s.text()
	if off >= len(text) || text[off] != '[' {
		return 0, false
	}
	for i := off + 1; ; {
		var err error
		if i, err = kusto.SkipSpace(text, i); err != nil || i >= len(text) {
			return 0, false
		}
		if text[i] == ']' { // the end, after '[' or a trailing ','
			return i + 1, true
		}
		_, _, _, end, ok := s.scanValue(i)
		if !ok {
			return 0, false
		}
		if i, err = kusto.SkipSpace(text, end); err != nil || i >= len(text) {
			return 0, false
		}
		switch text[i] {
		case ']':
			return i + 1, true
		case ',':
			i++
		default:
			return 0, false
		}
	}
}

// scanValue scans one of a datatable's values at off, as scanValues takes them: an optional
// sign, then a literal. It returns whether the sign is '-', the literal's type, value and end.
func (s *scanner) scanValue(off int) (negative bool, typ lexer.TokenType, value string, end int, ok bool) {
	text := s.text()
	signed := text[off] == '-' || text[off] == '+'
	if signed {
		negative = text[off] == '-'
		var err error
		if off, err = kusto.SkipSpace(text, off+1); err != nil || off >= len(text) {
			return false, 0, "", 0, false
		}
	}
	if text[off] == '[' || text[off] == '-' || text[off] == '+' {
		return false, 0, "", 0, false
	}
	typ, end, value, err := s.scanFull(off)
	if err != nil {
		return false, 0, "", 0, false
	}
	switch {
	case typ == TokInt || typ == TokReal || typ == TokTimespan:
	case typ == TokString || typ == TokTypedLit || typ == TokIdent && literalWords[value]:
		if signed {
			return false, 0, "", 0, false
		}
	default:
		return false, 0, "", 0, false
	}
	return negative, typ, value, end, true
}

// decodeValues decodes a token of datatable values (scanValues) at offset: each value placed
// where it starts, its sign included.
func decodeValues(src *kusto.Source, offset int, token string) ([]LiteralExpr, error) {
	s := &scanner{src: src}
	text := src.Text
	out := make([]LiteralExpr, 0, strings.Count(token, ",")+1)
	for i := offset + 1; ; {
		i, _ = kusto.SkipSpace(text, i)
		if text[i] == ']' {
			return out, nil
		}
		negative, typ, value, end, ok := s.scanValue(i)
		if !ok {
			return nil, s.errorf(i, "invalid datatable value") // the lexer has checked them all
		}
		tok := lexer.Token{Type: typ, Value: value}
		if negative && isMinLongMagnitude(tok) {
			out = append(out, LiteralExpr{At: i, Literal: minLong})
			if i, _ = kusto.SkipSpace(text, end); text[i] == ',' {
				i++
			}
			continue
		}
		lit, err := literalValue(tok)
		if err != nil {
			return nil, s.errorf(end-len(value), "%v", err)
		}
		if negative && lit.Value != nil {
			switch v := lit.Value.(type) {
			case int64:
				lit.Value = -v
			case float64:
				lit.Value = -v
			case kusto.Timespan:
				lit.Value = -v
			}
		}
		out = append(out, LiteralExpr{At: i, Literal: lit})
		if i, _ = kusto.SkipSpace(text, end); text[i] == ',' {
			i++
		}
	}
}

// joinAdjacentStrings implements Kusto's rule that string literals separated only by whitespace
// or comments are one string: it returns the literals' texts, each still quoted, separated by one
// space. Running them together would change their meaning: @"a" "b" would read as @"a""b".
func (s *scanner) joinAdjacentStrings(value string, end int) (string, int, error) {
	var joined strings.Builder // a builder, so that thousands of literals cost linear time
	for {
		next, err := kusto.SkipSpace(s.text(), end)
		if err != nil || next >= len(s.text()) || !kusto.StartsString(s.text(), next) {
			break
		}
		_, stop, err := s.scanToken(next)
		if err != nil {
			return "", 0, err
		}
		if joined.Len() == 0 {
			joined.WriteString(value)
		}
		joined.WriteByte(' ')
		joined.WriteString(s.text()[next:stop])
		end = stop
	}
	if joined.Len() > 0 {
		value = joined.String()
	}
	return value, end, nil
}

func (s *scanner) skipSpace() error {
	next, err := kusto.SkipSpace(s.text(), s.off)
	s.advanceTo(next)
	return err
}

// scanToken finds the type and end of the token starting at off without moving the scanner.
func (s *scanner) scanToken(off int) (lexer.TokenType, int, error) {
	text := s.text()
	r, size := s.peekRune(off)
	switch {
	case kusto.StartsString(text, off):
		end, err := kusto.ScanString(s.src, off)
		return TokString, end, err
	case kusto.IsHex(r) && kusto.IsGUIDAt(text, off):
		return TokGUID, off + 36, nil
	case r >= '0' && r <= '9':
		return s.scanNumber(off)
	case r == '[' && !s.afterCall && isBracketedName(s.src, off):
		return s.scanBracketedName(off)
	case kusto.IsIdentStart(r):
		return s.scanWord(off)
	case r == '!':
		if w, end := kusto.WordAt(text, off+1); negatable[w] {
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

func (s *scanner) scanWord(off int) (lexer.TokenType, int, error) {
	text := s.text()
	word, end := kusto.WordAt(text, off)
	// Join hyphenated keywords, taking the longest that is a real keyword.
	typ, best := TokIdent, end
	for joined := word; end < len(text) && text[end] == '-'; {
		next, stop := kusto.WordAt(text, end+1)
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
		if name == "dynamic" && kusto.StartsString(text, i) {
			// Skip a string of any form (@"c:\x" too), so that brackets inside it do not count.
			end, err := kusto.ScanString(s.src, i)
			if err != nil {
				return 0, err
			}
			i = end - 1
			continue
		}
		switch c := text[i]; c {
		case '(', '[', '{':
			if depth++; depth > MaxNesting+1 { // the literal's own '(' is not a level of its value
				return 0, s.errorf(i, "%s literal nested too deeply: Kustard allows %d levels of brackets in a value", name, MaxNesting)
			}
		case ')', ']', '}':
			depth--
			if depth == 0 {
				if c != ')' {
					return 0, s.errorf(i, "unbalanced %q in %s literal", c, name)
				}
				if _, err := kusto.ParseTypedLiteral(name, text[open+1:i]); err != nil {
					return 0, s.errorf(open+1, "invalid %s literal: %v", name, err)
				}
				return i + 1, nil
			}
		case '\n':
			if name != "dynamic" {
				return 0, s.errorf(open, "%s literal is missing its closing ')'", name)
			}
		}
	}
	return 0, kusto.Errorf(kusto.KindSyntax, s.src, open, "%s literal is missing its closing ')'", name).MarkUnfinished()
}

// isBracketedName reports whether a '[' at off opens a name (['a b']) rather than a list whose
// first element is a string, as in datatable(a:string)["x", "y"].
func isBracketedName(src *kusto.Source, off int) bool {
	text := src.Text
	if off+1 >= len(text) || text[off+1] != '\'' && text[off+1] != '"' {
		return false
	}
	end, err := kusto.ScanString(src, off+1)
	return err != nil || end < len(text) && text[end] == ']'
}

func (s *scanner) scanBracketedName(off int) (lexer.TokenType, int, error) {
	end, err := kusto.ScanString(s.src, off+1)
	if err != nil {
		return 0, 0, err
	}
	if end >= len(s.text()) || s.text()[end] != ']' {
		return 0, 0, s.errorf(off, "bracketed name is missing its closing ']'")
	}
	return TokQuotedIdent, end + 1, nil
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
		for end < len(text) && kusto.IsHex(rune(text[end])) {
			end++
		}
		if _, err := strconv.ParseInt(text[off+2:end], 16, 64); err != nil {
			return 0, 0, s.errorf(off, "invalid hexadecimal number %q", text[off:end])
		}
		return TokInt, end, s.checkNumberEnd(off, end)
	}
	digits()
	typ, fraction, exponent := TokInt, false, false
	if end < len(text) && text[end] == '.' {
		// 1.5 and, as in KqlTokens.g4, 1. and 1.e3; but 1..2 is a range and 1.x is not a number.
		next, _ := s.peekRune(end + 1)
		switch {
		case next >= '0' && next <= '9':
			typ, fraction = TokReal, true
			end++
			digits()
		case next == 'e' || next == 'E':
			if hasExponent(text, end+1) {
				typ = TokReal
				end++
			}
		case next != '.' && !kusto.IsIdentPart(next):
			typ = TokReal
			end++
		}
	}
	if end < len(text) && hasExponent(text, end) {
		typ, exponent = TokReal, true
		end++
		if text[end] == '+' || text[end] == '-' {
			end++
		}
		digits()
	}
	if unit, stop := kusto.WordAt(text, end); unit != "" {
		// A timespan is digits, an optional fraction, then a unit; an exponent or a bare trailing
		// dot makes it something else.
		if _, ok := kusto.TimespanUnits[unit]; ok && !exponent && (typ == TokInt || fraction) {
			return TokTimespan, stop, nil
		}
		if g := guidPrefix(text, off); g > 0 {
			return 0, 0, s.errorf(off, "invalid guid %q; expected 8-4-4-4-12 hex digits, such as 078b2641-f10d-4694-96f8-1ee2b75dda48", text[off:g])
		}
		return 0, 0, s.errorf(off, "invalid number %q; a number may be followed only by a timespan unit such as d, h, m, s, ms or tick", text[off:stop])
	}
	if typ == TokInt {
		// 9223372036854775808 lexes, as the magnitude of the minimum long written with its sign
		// (-9223372036854775808); anywhere else it fails as out of range where it is decoded.
		if u, err := strconv.ParseUint(text[off:end], 10, 64); err != nil || u > 1<<63 {
			return 0, 0, s.errorf(off, "number %s is out of range for long", text[off:end])
		}
	} else if _, err := strconv.ParseFloat(text[off:end], 64); err != nil {
		return 0, 0, s.errorf(off, "number %s is out of range for real", text[off:end])
	}
	return typ, end, nil
}

// hasExponent reports whether an exponent (e3, E-3) starts at off.
func hasExponent(text string, off int) bool {
	if off >= len(text) || text[off] != 'e' && text[off] != 'E' {
		return false
	}
	off++
	if off < len(text) && (text[off] == '+' || text[off] == '-') {
		off++
	}
	return off < len(text) && text[off] >= '0' && text[off] <= '9'
}

// guidPrefix returns the end of a run of hex digits and dashes at off that starts like a guid (eight
// hex digits and a dash) but is not one, so that a mistyped guid is reported as a guid; else 0.
func guidPrefix(text string, off int) int {
	end := off
	for end < len(text) && (kusto.IsHex(rune(text[end])) || text[end] == '-') {
		end++
	}
	if end-off < 9 || text[off+8] != '-' || strings.Contains(text[off:off+8], "-") {
		return 0
	}
	for end < len(text) && kusto.IsIdentPart(rune(text[end])) {
		end++ // take the rest of the word, so that the message quotes what was written
	}
	return end
}

func (s *scanner) checkNumberEnd(off, end int) error {
	if w, stop := kusto.WordAt(s.text(), end); w != "" || (end < len(s.text()) && kusto.IsIdentPart(rune(s.text()[end]))) {
		return s.errorf(off, "invalid number %q", s.text()[off:max(stop, end+1)])
	}
	return nil
}
