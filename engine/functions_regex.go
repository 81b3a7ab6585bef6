package engine

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The string functions of regular expressions, and split. Kusto's regular expressions are RE2's
// syntax (query/regex.md), which Go's regexp implements; a constant pattern is compiled once.

func init() {
	trim := func(name, summary string, start, end bool) *function {
		return &function{name: name, usage: name + "(regex, source)", summary: summary,
			overload: []overload{{params: []typeSet{tString, tString}, result: returns(kusto.TypeString), build: buildTrim(start, end)}}}
	}
	declare(
		trim("trim", "source without the matches of regex at its start and its end.", true, true),
		trim("trim_start", "source without the matches of regex at its start.", true, false),
		trim("trim_end", "source without the matches of regex at its end.", false, true),
		&function{name: "replace_regex", usage: "replace_regex(text, regex, rewrite)",
			summary:  "text with every match of regex replaced by rewrite, in which \\0 is the match and \\1 to \\9 its capture groups.",
			overload: []overload{{params: []typeSet{tString, tString, tString}, result: returns(kusto.TypeString), build: buildReplaceRegex}}},
		&function{name: "extract", usage: "extract(regex, captureGroup, source)",
			summary:  "The text of a capture group (0 for the whole match) of the first match of regex in source; null if there is none.",
			overload: []overload{{params: []typeSet{tString, tLong, tString}, result: returns(kusto.TypeString), build: buildExtract}}},
		&function{name: "extract_all", usage: "extract_all(regex, [captureGroups,] source)",
			summary: "The capture groups of every match of regex in source, as a dynamic array (of arrays if there are several groups); null if none match.",
			overload: []overload{
				{params: []typeSet{tString, tString}, result: returns(kusto.TypeDynamic), build: buildExtractAll},
				{params: []typeSet{tString, exactly(kusto.TypeDynamic), tString}, result: returns(kusto.TypeDynamic), build: buildExtractAll},
			}},
		&function{name: "split", usage: "split(source, delimiter[, requestedIndex])",
			summary: "The substrings of source between the delimiters, as a dynamic array; with requestedIndex, an array of that one substring (empty if there is none).",
			overload: []overload{
				{params: []typeSet{tString, tString}, result: returns(kusto.TypeDynamic), build: buildSplit},
				{params: []typeSet{tString, tString, tLong}, result: returns(kusto.TypeDynamic), build: buildSplit},
			}},
	)
}

// buildTrim removes repeated matches anchored at the ends: ^(?:regex)+ and (?:regex)+$. RE2
// has no catastrophic backtracking, so the repetition costs linear time.
func buildTrim(start, end bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		compile := func(p string) (lead, tail *regexp.Regexp, err error) {
			if lead, err = regexp.Compile(`^(?:` + p + `)+`); err != nil {
				return nil, nil, err
			}
			tail, err = regexp.Compile(`(?:` + p + `)+$`)
			return lead, tail, err
		}
		var fixedLead, fixedTail *regexp.Regexp
		if p, ok := constString(args[0]); ok {
			var err error
			if fixedLead, fixedTail, err = compile(p); err != nil {
				return nil, sc.c.errorf(call.Args[0].Offset(), kusto.KindSemantic, "%s: argument 1 is not a valid regular expression: %v", call.Func, err)
			}
		}
		return map2Node(kusto.TypeString, args[0], args[1], func(p, s string) (string, bool) {
			lead, tail := fixedLead, fixedTail
			if lead == nil {
				var err error
				if lead, tail, err = compile(p); err != nil {
					return "", true
				}
			}
			if start {
				if loc := lead.FindStringIndex(s); loc != nil {
					s = s[loc[1]:]
				}
			}
			if end {
				if loc := tail.FindStringIndex(s); loc != nil {
					s = s[:loc[0]]
				}
			}
			return s, true
		}), nil
	}
}

// rewriteTemplate turns Kusto's rewrite (\0 … \9 for groups) into a template for Go's Expand,
// whose $ must then be escaped.
func rewriteTemplate(r string) string {
	var sb strings.Builder
	for i := 0; i < len(r); i++ {
		switch c := r[i]; {
		case c == '$':
			sb.WriteString("$$")
		case c == '\\' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			sb.WriteString("${" + string(r[i+1]) + "}")
			i++
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func buildReplaceRegex(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	res, err := newRegexCache(sc, call, 1, args)
	if err != nil {
		return nil, err
	}
	return map3Node(kusto.TypeString, args[0], args[1], args[2], func(text, p, rewrite string) (string, bool) {
		re := res.get(p)
		if re == nil {
			return "", true
		}
		return re.ReplaceAllString(text, rewriteTemplate(rewrite)), true
	}), nil
}

func buildExtract(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	res, err := newRegexCache(sc, call, 0, args)
	if err != nil {
		return nil, err
	}
	return map3Node(kusto.TypeString, args[0], args[1], args[2], func(p string, group int64, s string) (string, bool) {
		re := res.get(p)
		if re == nil || group < 0 || group > int64(re.NumSubexp()) {
			return "", true
		}
		m := re.FindStringSubmatchIndex(s)
		if m == nil || m[2*group] < 0 {
			return "", true
		}
		return s[m[2*group]:m[2*group+1]], true
	}), nil
}

// groupsOf resolves extract_all's captureGroups (numbers from 1, or names) against re; nil if
// one is not a group of re.
func groupsOf(re *regexp.Regexp, sel any) []int {
	if sel == nil {
		var all []int
		for g := 1; g <= re.NumSubexp(); g++ {
			all = append(all, g)
		}
		return all
	}
	list, ok := sel.([]any)
	if !ok || len(list) == 0 {
		return nil
	}
	var out []int
	for _, x := range list {
		g := -1
		switch x := x.(type) {
		case int64:
			g = int(x)
		case string:
			g = re.SubexpIndex(x)
			if n, err := strconv.Atoi(x); err == nil {
				g = n
			}
		}
		if g < 1 || g > re.NumSubexp() {
			return nil
		}
		out = append(out, g)
	}
	return out
}

func buildExtractAll(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	res, err := newRegexCache(sc, call, 0, args)
	if err != nil {
		return nil, err
	}
	// The page: the regex has between one and 16 capture groups.
	if re := res.fixed; re != nil && (re.NumSubexp() < 1 || re.NumSubexp() > 16) {
		return nil, sc.c.errorf(call.Args[0].Offset(), kusto.KindSemantic, "extract_all: the regular expression must have between 1 and 16 capture groups, not %d", re.NumSubexp())
	}
	source := args[len(args)-1]
	inputs := []*compiled{args[0], source}
	if len(args) == 3 {
		inputs = append(inputs, args[1])
	}
	return boxedNode(kusto.TypeDynamic, inputs, func(v []any) (any, bool) {
		re := res.get(v[0].(string))
		if re == nil || re.NumSubexp() < 1 {
			return nil, false
		}
		var sel any
		if len(v) == 3 {
			if sel = v[2]; sel == nil {
				return nil, false
			}
		}
		groups := groupsOf(re, sel)
		if groups == nil {
			return nil, false
		}
		s := v[1].(string)
		var out []any
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			text := func(g int) any {
				if m[2*g] < 0 {
					return ""
				}
				return s[m[2*g]:m[2*g+1]]
			}
			if len(groups) == 1 {
				out = append(out, text(groups[0]))
				continue
			}
			row := make([]any, len(groups))
			for k, g := range groups {
				row[k] = text(g)
			}
			out = append(out, row)
		}
		if out == nil {
			return nil, false
		}
		return out, true
	}), nil
}

func buildSplit(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	split := func(s, delim string) []any {
		if delim == "" { // Go would split between characters; Kusto has nothing to split at
			return []any{s}
		}
		parts := strings.Split(s, delim)
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out
	}
	if len(args) == 2 {
		return map2Node(kusto.TypeDynamic, args[0], args[1], func(s, delim string) (any, bool) { return split(s, delim), true }), nil
	}
	return map3Node(kusto.TypeDynamic, args[0], args[1], args[2], func(s, delim string, k int64) (any, bool) {
		parts := split(s, delim)
		if k < 0 || k >= int64(len(parts)) {
			return []any{}, true
		}
		return []any{parts[k]}, true
	}), nil
}
