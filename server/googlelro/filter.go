package googlelro

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kustard/kustard/ops"
	"google.golang.org/grpc/codes"
)

const supportedFilters = `the filter supports done = true, done = false and metadata.kind = "KIND" (such as "TableSetOrAppend"), joined by AND`

// parseFilter reads the AIP-160 filter Kustard supports: terms `done = true|false` and
// `metadata.kind = "…"`, joined by AND. Anything else is INVALID_ARGUMENT, naming what is
// supported, rather than a filter silently ignored.
func parseFilter(text string) (ops.Filter, *apiError) {
	var f ops.Filter
	toks, aerr := lexFilter(text)
	if aerr != nil {
		return f, aerr
	}
	bad := func(at int, what string) *apiError {
		return newError(codes.InvalidArgument, "INVALID_FILTER", "filter %q: %s at column %d; %s.", text, what, at+1, supportedFilters)
	}
	var kind string
	var states []ops.State
	none := false // contradictory terms: nothing matches
	for i := 0; i < len(toks); {
		if i > 0 {
			if toks[i].text != "AND" || toks[i].quoted {
				return f, bad(toks[i].at, "expected AND, found "+strconv.Quote(toks[i].text))
			}
			i++
		}
		if i+3 > len(toks) {
			at := len(text)
			if i < len(toks) {
				at = toks[i].at
			}
			return f, bad(at, "expected a term such as done = true")
		}
		field, op, value := toks[i], toks[i+1], toks[i+2]
		i += 3
		if op.text != "=" || op.quoted {
			return f, bad(op.at, "expected =, found "+strconv.Quote(op.text))
		}
		switch {
		case field.text == "done" && !field.quoted:
			var want []ops.State
			switch {
			case value.text == "true" && !value.quoted:
				want = ops.EndStates
			case value.text == "false" && !value.quoted:
				want = ops.LiveStates
			default:
				return f, bad(value.at, "done is compared with true or false, not "+strconv.Quote(value.text))
			}
			if states != nil && states[0] != want[0] {
				none = true
			}
			states = want
		case field.text == "metadata.kind" && !field.quoted:
			if !value.quoted {
				return f, bad(value.at, "metadata.kind is compared with a quoted string, not "+value.text)
			}
			if kind != "" && kind != value.text {
				none = true
			}
			kind = value.text
		default:
			return f, bad(field.at, "unsupported field "+strconv.Quote(field.text))
		}
	}
	f.States = states
	if kind != "" {
		f.Kinds = []string{kind}
	}
	if none {
		f.Match = func(ops.Snapshot) bool { return false }
	}
	return f, nil
}

type filterToken struct {
	text   string
	at     int
	quoted bool
}

func lexFilter(text string) ([]filterToken, *apiError) {
	var toks []filterToken
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '=':
			toks = append(toks, filterToken{text: "=", at: i})
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(text) && text[j] != c {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(text) {
				return nil, newError(codes.InvalidArgument, "INVALID_FILTER", "filter %q: the string at column %d is not closed; %s.", text, i+1, supportedFilters)
			}
			raw := text[i+1 : j]
			value := strings.ReplaceAll(strings.ReplaceAll(raw, `\`+string(c), string(c)), `\\`, `\`)
			toks = append(toks, filterToken{text: value, at: i, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(text) && (isWordByte(text[j])) {
				j++
			}
			if j == i {
				r, _ := utf8.DecodeRuneInString(text[i:])
				return nil, newError(codes.InvalidArgument, "INVALID_FILTER", "filter %q: unexpected %q at column %d; %s.", text, string(r), i+1, supportedFilters)
			}
			toks = append(toks, filterToken{text: text[i:j], at: i})
			i = j
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
