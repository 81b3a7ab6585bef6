package kusto

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ScanString checks the string literal that starts at off (any of Kusto's forms: "…", '…',
// @"…", h"…", ```…```, ~~~…~~~) and returns the offset just past it.
func ScanString(src *Source, off int) (int, error) {
	text := src.Text
	start := off
	if text[off] == 'h' || text[off] == 'H' {
		off++
	}
	for _, fence := range []string{"```", "~~~"} {
		if strings.HasPrefix(text[off:], fence) {
			close := strings.Index(text[off+3:], fence)
			if close < 0 {
				return 0, Errorf(KindSyntax, src, start, "multi-line string is missing its closing %s", fence).MarkUnfinished()
			}
			return off + 3 + close + 3, nil
		}
	}
	verbatim := text[off] == '@'
	if verbatim {
		off++
	}
	quote := text[off]
	for i := off + 1; i < len(text); i++ {
		switch c := text[i]; {
		case c == quote:
			if verbatim && i+1 < len(text) && text[i+1] == quote {
				i++ // a doubled quote stands for itself in a verbatim string
				continue
			}
			return i + 1, nil
		case c == '\n' || c == '\r':
			return 0, Errorf(KindSyntax, src, start, "string literal is missing its closing %c (use ``` for a multi-line string)", quote)
		case c == '\\' && !verbatim:
			n, err := escapeLength(text[i:])
			if err != nil {
				return 0, Errorf(KindSyntax, src, i, "%v", err)
			}
			i += n - 1
		}
	}
	return 0, Errorf(KindSyntax, src, start, "string literal is missing its closing %c", quote)
}

// escapeLength returns the length of the escape sequence at the start of s (which begins with a
// backslash), or an error naming what is wrong with it.
func escapeLength(s string) (int, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("incomplete escape sequence")
	}
	hexDigits := func(n int) (int, error) {
		if len(s) < 2+n {
			return 0, fmt.Errorf("escape \\%c needs %d hex digits", s[1], n)
		}
		for _, c := range s[2 : 2+n] {
			if !IsHex(c) {
				return 0, fmt.Errorf("escape \\%c needs %d hex digits", s[1], n)
			}
		}
		return 2 + n, nil
	}
	switch c := s[1]; {
	case strings.IndexByte(`\'"abfnrtv`, c) >= 0:
		return 2, nil
	case c == 'u':
		return hexDigits(4)
	case c == 'U':
		return hexDigits(8)
	case c == 'x':
		return hexDigits(2)
	case c >= '0' && c <= '7':
		// One to three octal digits, three only when the first is 0-3 (KqlTokens.g4), so that
		// the value stays below 256: "\477" is "\47" then "7".
		most := 3
		if c > '3' {
			most = 2
		}
		n := 2
		for n < 1+most && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		return n, nil
	default:
		r, _ := utf8.DecodeRuneInString(s[1:])
		if !unicode.IsPrint(r) {
			// A control character would break the one-line message; name it instead.
			return 0, fmt.Errorf("invalid escape sequence: a backslash followed by %U in string literal", r)
		}
		return 0, fmt.Errorf("invalid escape sequence \\%c in string literal; write \\\\ for a backslash, or use a verbatim string such as @\"C:\\temp\"", r)
	}
}

// DecodeStrings returns the value of a String token: one or more adjacent literals as they were
// written, separated by white space, each decoded by its own rules and joined. It also reports
// whether any of them was an obfuscated (h-prefixed) literal.
func DecodeStrings(raw string) (value string, obfuscated bool, err error) {
	src := &Source{Text: raw}
	var b strings.Builder
	for off := 0; off < len(raw); off, _ = SkipSpace(raw, off) {
		end, err := ScanString(src, off)
		if err != nil {
			return "", false, err
		}
		lit := raw[off:end]
		if lit[0] == 'h' || lit[0] == 'H' {
			obfuscated = true
			lit = lit[1:]
		}
		switch {
		case strings.HasPrefix(lit, "```") || strings.HasPrefix(lit, "~~~"):
			b.WriteString(lit[3 : len(lit)-3])
		case lit[0] == '@':
			q := lit[1:2]
			b.WriteString(strings.ReplaceAll(lit[2:len(lit)-1], q+q, q))
		default:
			if err := unescape(&b, lit[1:len(lit)-1]); err != nil {
				return "", false, err
			}
		}
		off = end
	}
	return b.String(), obfuscated, nil
}

func unescape(b *strings.Builder, s string) error {
	for len(s) > 0 {
		i := strings.IndexByte(s, '\\')
		if i < 0 {
			b.WriteString(s)
			return nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		n, err := escapeLength(s)
		if err != nil {
			return err
		}
		seq := s[:n]
		s = s[n:]
		switch c := seq[1]; c {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"':
			b.WriteByte(c)
		case 'u', 'U', 'x':
			v, _ := strconv.ParseUint(seq[2:], 16, 32)
			b.WriteRune(rune(v)) // a character code, as in .NET, not a raw byte
		default: // octal
			v, _ := strconv.ParseUint(seq[1:], 8, 16)
			b.WriteRune(rune(v))
		}
	}
	return nil
}

// DecodeBracketedName returns the name inside ['…'] or ["…"].
func DecodeBracketedName(raw string) (string, error) {
	name, _, err := DecodeStrings(raw[1 : len(raw)-1])
	return name, err
}

// Quote returns s as a Kusto double-quoted string literal.
func Quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
