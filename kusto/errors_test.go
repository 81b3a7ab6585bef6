package kusto

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// TestDetailWindowsLongLines: an error in a 1 MB line shows a window around the caret, not the
// line and a megabyte of padding.
func TestDetailWindowsLongLines(t *testing.T) {
	line := strings.Repeat("a", 500_000) + "!" + strings.Repeat("b", 500_000)
	e := Errorf(KindSyntax, &Source{Name: "big.kql", Text: line}, 500_000, "unexpected character '!'")
	d := e.Detail()
	if len(d) > 400 {
		t.Fatalf("Detail of an error in a 1 MB line is %d bytes; want a window", len(d))
	}
	parts := strings.Split(d, "\n")
	if len(parts) != 3 || parts[0] != "big.kql:1:500001: unexpected character '!'" {
		t.Fatalf("Detail = %q", d)
	}
	text, caret := parts[1][4:], parts[2][4:]
	if !strings.HasPrefix(text, "…a") || !strings.HasSuffix(text, "b…") {
		t.Errorf("window %q: want ellipses at both ends", text)
	}
	if at := runewidth.StringWidth(caret) - 1; at != runewidth.StringWidth(text[:strings.Index(text, "!")]) || !strings.HasSuffix(caret, "^") {
		t.Errorf("caret %q does not stand under the '!' of %q", caret, text)
	}
}

// TestDetailEscapesAndAligns: control characters and invalid UTF-8 are shown escaped, in the
// line and in the message; the caret stands under the offending character after tabs and wide
// characters.
func TestDetailEscapesAndAligns(t *testing.T) {
	tests := []struct {
		name, text, at string // at: the text the caret must point at
		line           string
	}{
		{"escape sequence", "print \x1b[2J 1 !", "!", `print \x1b[2J 1 !`},
		{"invalid UTF-8", "print \xff\xfe !", "!", `print \xff\xfe !`},
		{"C1 control", "print \u009b !", "!", `print \u009b !`},
		{"wide characters", "print '日本語' !", "!", "print '日本語' !"},
		{"tab", "print\t1 !", "!", "print\t1 !"},
	}
	for _, tc := range tests {
		off := strings.Index(tc.text, tc.at)
		e := Errorf(KindSyntax, &Source{Text: tc.text}, off, "bad %s", tc.text)
		parts := strings.Split(e.Detail(), "\n")
		if len(parts) != 3 {
			t.Fatalf("%s: Detail = %q", tc.name, e.Detail())
		}
		if !utf8.ValidString(parts[0]) || strings.ContainsAny(parts[0], "\x1b\u009b") {
			t.Errorf("%s: message line %q is not escaped", tc.name, parts[0])
		}
		if got := parts[1][4:]; got != tc.line {
			t.Errorf("%s: line %q, want %q", tc.name, got, tc.line)
		}
		caret := parts[2][4:]
		want := strings.Repeat(" ", runewidth.StringWidth(strings.ReplaceAll(tc.line[:strings.Index(tc.line, tc.at)], "\t", ""))) + "^"
		if strings.Contains(tc.line, "\t") {
			want = "     \t  ^" // under "print", the tab itself, then under "1 "
		}
		if caret != want {
			t.Errorf("%s: caret line %q, want %q", tc.name, caret, want)
		}
	}
}
