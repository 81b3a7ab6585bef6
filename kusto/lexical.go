package kusto

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lexical rules that values share with the lexer: white space, names, string starts, raw guids
// and timespan units. The parser's lexer and the value parsers (dynamic literals, guids,
// timespans) both use them, so they live here, below both.

// IsSpace follows KqlTokens.g4, which counts the Unicode space separators, the byte-order mark and
// the line and paragraph separators as white space.
func IsSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', 0x85, 0xA0, 0x1680, 0x180E, 0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

func IsIdentStart(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) }
func IsIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// StartsString reports whether a string literal (of any form) begins at off.
func StartsString(text string, off int) bool {
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

// WordAt returns the identifier starting at off (empty if none) and where it ends.
func WordAt(text string, off int) (string, int) {
	end := off
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		if end == off && !IsIdentStart(r) || end > off && !IsIdentPart(r) {
			break
		}
		end += size
	}
	return text[off:end], end
}

func IsHex(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F'
}

// IsGUIDAt reports whether a raw 8-4-4-4-12 hex guid starts at off and is not part of a longer word.
func IsGUIDAt(text string, off int) bool {
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
			if !IsHex(c) {
				return false
			}
		}
	}
	r, _ := utf8.DecodeRuneInString(text[off+36:])
	return off+36 == len(text) || !IsIdentPart(r)
}

// TimespanUnits maps each timespan literal suffix to its length in nanoseconds, so that the
// nanosecond units (a hundredth of a tick) are exact. The suffixes are TIMESPANLITERAL's in
// Kusto.Language's KqlTokens.g4.
var TimespanUnits = map[string]int64{}

func init() {
	for nanos, names := range map[int64]string{
		86_400_000_000_000: "d day days",
		3_600_000_000_000:  "h hr hrs hour hours",
		60_000_000_000:     "m min minute minutes",
		1_000_000_000:      "s sec second seconds",
		1_000_000:          "ms milli millis millisec millisecond milliseconds",
		1_000:              "micro micros microsec microsecond microseconds",
		1:                  "nano nanos nanosec nanosecond nanoseconds",
		100:                "tick ticks",
	} {
		for _, name := range strings.Fields(names) {
			TimespanUnits[name] = nanos
		}
	}
}

// SkipSpace returns the offset of the first byte at or after off that is neither white space
// nor part of a // comment.
func SkipSpace(text string, off int) (int, error) {
	for off < len(text) {
		r, size := utf8.DecodeRuneInString(text[off:])
		switch {
		case IsSpace(r):
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
