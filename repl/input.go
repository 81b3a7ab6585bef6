package repl

import (
	"strings"

	"github.com/kustard/kustard/parser"
)

// Complete reports whether text typed at the prompt is ready to run when the user presses Enter:
// its brackets and strings are closed and it does not end in something that needs a right-hand
// side (`|`, `<|`, `,` or an operator). A blank last line ends the input whatever it holds, as a
// blank line ends a block in Kusto's block mode, so a user is never stuck at the continuation
// prompt. Directives (#…) are always one line.
func Complete(text string) bool {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") {
		return true
	}
	if lines := strings.Split(text, "\n"); len(lines) > 1 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		return true
	}
	if !balanced(text) {
		return false
	}
	toks, err := parser.Tokenize(&parser.Source{Text: text})
	if err != nil {
		// A lexical error that is not an open string: running the text shows the user where.
		return true
	}
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Type == parser.TokEOF {
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

// balanced reports whether every string, multi-line string and bracket in text is closed. It
// follows Kusto's lexical rules for quotes and comments closely enough to decide whether to keep
// reading; the parser has the last word on what the text means.
func balanced(text string) bool {
	depth := 0
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case strings.HasPrefix(text[i:], "```"), strings.HasPrefix(text[i:], "~~~"):
			end := strings.Index(text[i+3:], text[i:i+3])
			if end < 0 {
				return false
			}
			i += 3 + end + 2
		case strings.HasPrefix(text[i:], "//"):
			nl := strings.IndexByte(text[i:], '\n')
			if nl < 0 {
				return depth <= 0
			}
			i += nl
		case c == '"' || c == '\'':
			i = closeQuote(text, i, i > 0 && text[i-1] == '@')
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
	}
	// More closing than opening brackets is an error the parser reports, not a reason to wait.
	return depth <= 0
}

// closeQuote returns the index of the quote closing the string opened at i, or of the end of its
// line. Kusto's quoted strings cannot span lines, so an open one is no reason to keep reading:
// running the text shows the lexer's error under the quote.
func closeQuote(text string, i int, verbatim bool) int {
	quote := text[i]
	for j := i + 1; j < len(text); j++ {
		switch text[j] {
		case '\n':
			return j
		case '\\':
			if !verbatim {
				j++
			}
		case quote:
			if verbatim && j+1 < len(text) && text[j+1] == quote {
				j++
				continue
			}
			return j
		}
	}
	return len(text)
}
