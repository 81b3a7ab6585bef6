package parser

import (
	"errors"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestNestingLimit: input nested past MaxNesting is rejected before the parser recurses, at the
// token that passes the limit. Before the limit, each of the deep inputs killed the process with
// a stack overflow, which no recover can catch.
func TestNestingLimit(t *testing.T) {
	const deep = 100_000
	nested := func(open, close string) string {
		return strings.Repeat(open, deep) + "1" + strings.Repeat(close, deep)
	}
	for _, tc := range []struct {
		name, text string
		at         int // the offset of the error
		msg        string
	}{
		{"brackets", "print x = " + nested("(", ")"), len("print x = ") + MaxNesting, "nested too deeply"},
		{"signs", "print x = " + strings.Repeat("-", 1_000_000) + "1", len("print x = ") + MaxNesting, "nested too deeply"},
		{"spaced signs", "print x = " + strings.Repeat("- ", deep) + "1", len("print x = ") + 2*MaxNesting, "nested too deeply"},
		{"calls", "print x = " + nested("not(", ")"), len("print x = ") + 4*MaxNesting + 3, "nested too deeply"},
		{"signs and brackets", "print x = " + nested("-(", ")"), len("print x = ") + MaxNesting, "nested too deeply"},
		{"in lists", "print x = " + nested("1 in (", ")"), len("print x = ") + 6*MaxNesting + 5, "nested too deeply"},
		{"pipelines", nested("(", ")") + " | count", MaxNesting, "nested too deeply"},
		{"let bodies", "let t = " + nested("(", ")") + "; t", len("let t = ") + MaxNesting, "nested too deeply"},
		{"ingests", strings.Repeat(".set T <| ", deep) + "print 1", len(".set T <| ")*(MaxNesting+1) - 3, "nested too deeply"},
		{"dynamic", "print d = dynamic(" + nested("[", "]") + ")", len("print d = dynamic(") + MaxNesting, "dynamic literal nested too deeply"},
		{"dynamic objects", `print d = dynamic(` + strings.Repeat(`{"a":`, deep) + "1" + strings.Repeat("}", deep) + ")", len("print d = dynamic(") + 5*MaxNesting, "dynamic literal nested too deeply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &kusto.Source{Name: "deep.kql", Text: tc.text}
			_, err := Parse(src)
			var perr *kusto.Error
			if !errors.As(err, &perr) || perr.Kind != kusto.KindSyntax {
				t.Fatalf("got %v, want a syntax error", err)
			}
			if !strings.Contains(perr.Msg, tc.msg) || !strings.Contains(perr.Msg, "256 levels") {
				t.Errorf("message %q does not say %q and name the limit", perr.Msg, tc.msg)
			}
			if perr.Offset != tc.at {
				t.Errorf("error at offset %d (%q…), want %d", perr.Offset, tc.text[perr.Offset:min(len(tc.text), perr.Offset+10)], tc.at)
			}
		})
	}
}

// TestNestingWithinLimit: nesting up to the limit parses.
func TestNestingWithinLimit(t *testing.T) {
	n := MaxNesting
	for _, text := range []string{
		"print x = " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"print x = " + strings.Repeat("-", n) + "1",
		"print x = " + strings.Repeat("-(", n/2) + "1" + strings.Repeat(")", n/2),
		"print d = dynamic(" + strings.Repeat("[", n) + strings.Repeat("]", n) + ")",
		strings.Repeat(".set T <| ", n) + "print 1",
		// Long is not deep: each of these is one level.
		"print x = 1" + strings.Repeat(" - -1", 10_000),
		"print x = " + strings.Repeat("(1) + ", 10_000) + "1",
	} {
		if _, err := ParseString(text); err != nil {
			t.Errorf("%.60s…: %v", text, err)
		}
	}
}
