package repl

import (
	"errors"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Complete reports whether text typed at the prompt is ready to run when the user presses Enter:
// its brackets and strings are closed and it does not end in something that needs a right-hand
// side (`|`, `<|`, `,` or an operator). A blank last line ends the input, as a blank line ends a
// block in Kusto's block mode, unless it falls inside a multi-line string (Ctrl-C leaves one).
// Directives (#…) are always one line. The data of `.ingest inline … <|` ends only at a
// blank line.
func Complete(text string) bool {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return true
	}
	toks, err := parser.Tokens(&kusto.Source{Text: text})
	if err != nil {
		// Keep reading inside an open multi-line string or dynamic literal, blank lines and all,
		// as a script's blocks do; any other lexical error is shown at once, under its place.
		var perr *kusto.Error
		return !errors.As(err, &perr) || !perr.Unfinished
	}
	if lines := strings.Split(text, "\n"); len(lines) > 1 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		return true
	}
	depth := 0
	for _, t := range toks {
		if t.Kind == parser.TokenData {
			// .ingest inline's data runs to a blank line, as in a script: each of its lines
			// may look complete.
			return false
		}
		if t.Kind != parser.TokenPunct {
			continue
		}
		switch t.Value {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
		}
	}
	if depth > 0 {
		return false
	}
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Kind == parser.TokenEOF {
			continue
		}
		return !trailingOperators[toks[i].Value] && !wordOperators[toks[i].Value]
	}
	return true
}

// trailingOperators are the tokens that cannot end a command or query: each needs what follows.
var trailingOperators = map[string]bool{
	"|": true, "<|": true, ",": true, "=": true, "==": true, "!=": true, "<>": true, "<": true, ">": true,
	"<=": true, ">=": true, "=~": true, "!~": true, "+": true, "-": true, "*": true, "/": true, "%": true,
	"..": true,
}

// wordOperators are Kusto's binary operators spelled as words.
var wordOperators = map[string]bool{
	"and": true, "or": true, "in": true, "!in": true, "in~": true, "!in~": true,
	"contains": true, "!contains": true, "contains_cs": true, "!contains_cs": true, "has": true, "!has": true,
	"has_cs": true, "!has_cs": true, "hasprefix": true, "!hasprefix": true, "hassuffix": true, "!hassuffix": true,
	"startswith": true, "!startswith": true, "startswith_cs": true, "!startswith_cs": true, "endswith": true,
	"!endswith": true, "endswith_cs": true, "!endswith_cs": true,
}
