package parser

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// The grammar's unions (operators, commands) are the single list of what Kustard parses. The
// words a member starts with are read off its grammar tag, so that the lists of supported
// operators and commands, which reject the rest of Kusto by name, never drift from the grammar.

// Operators returns one empty node of each tabular operator the grammar accepts, in the order
// the grammar tries them.
func Operators() []Operator { return append([]Operator(nil), operatorMembers...) }

var quotedWord = regexp.MustCompile(`'([a-z][a-z_-]*)'`)

// LeadingKeywords returns the keywords a union member may start with: the quoted words of its
// first tagged field, up to its first sub-rule (`@@`). For `@( 'where' | 'filter' )` they are
// where and filter; for `'.' 'cancel' 'operation' @@`, cancel and operation.
func LeadingKeywords(node any) []string {
	t := reflect.TypeOf(node).Elem()
	for i := range t.NumField() {
		tag, ok := t.Field(i).Tag.Lookup("parser")
		if !ok {
			continue
		}
		tag, _, _ = strings.Cut(tag, "@@")
		var out []string
		for _, m := range quotedWord.FindAllStringSubmatch(tag, -1) {
			out = append(out, m[1])
		}
		return out
	}
	return nil
}

// operatorKeywords maps every keyword that starts an operator to its node type. It is computed at
// first use, after every file's init has added its operators to the union.
var operatorKeywords = sync.OnceValue(func() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for _, op := range operatorMembers {
		for _, kw := range LeadingKeywords(op) {
			m[kw] = reflect.TypeOf(op)
		}
	}
	return m
})

// Commands returns one empty node of each management command the grammar accepts: the built-in
// ones and the registered ones, in the order the grammar tries them.
func Commands() []Command { return slices.Clone(current().commands) }

// CommandForms returns the keyword sequences a command node may start with, after its '.', read
// off its first tagged field up to its first sub-rule: `'.' 'cancel' 'operation' @@` gives
// [cancel operation]; `'.' ( 'create' | @'create-merge' ) 'table'` gives [create table] and
// [create-merge table]. It returns nil for a tag it cannot read so.
func CommandForms(node Command) [][]string {
	forms, _ := commandForms(reflect.TypeOf(node))
	out := make([][]string, len(forms))
	for i, f := range forms {
		out[i] = f.words
	}
	return out
}

// CommandForm returns the keywords a parsed command was written with: the one of its
// CommandForms that its first field's capture (Ingest.Verb, CreateTable.Merge) says.
func CommandForm(c Command) []string {
	forms, field := commandForms(reflect.TypeOf(c))
	if len(forms) == 1 {
		return forms[0].words
	}
	v := reflect.ValueOf(c).Elem().FieldByIndex(field.Index)
	for _, f := range forms {
		switch v.Kind() {
		case reflect.String:
			if v.String() == strings.Join(f.captured, "") {
				return f.words
			}
		case reflect.Bool:
			if v.Bool() == (len(f.captured) > 0) {
				return f.words
			}
		}
	}
	return nil
}

// tagForm is one keyword sequence of a tag, and the words of it that the field captures.
type tagForm struct{ words, captured []string }

var formCache sync.Map // reflect.Type → formsOf

type formsOf struct {
	forms []tagForm
	field reflect.StructField
}

func commandForms(t reflect.Type) ([]tagForm, reflect.StructField) {
	if f, ok := formCache.Load(t); ok {
		return f.(formsOf).forms, f.(formsOf).field
	}
	var out formsOf
	if t != nil && t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Struct {
		for _, field := range reflect.VisibleFields(t.Elem()) {
			tag, ok := field.Tag.Lookup("parser")
			if !ok {
				continue
			}
			tag, _, _ = strings.Cut(skipLookahead(tag), "@@")
			toks := tagToken.FindAllString(tag, -1)
			if len(toks) > 0 && toks[0] == "'.'" {
				r := &tagReader{toks: toks[1:]}
				forms, _ := r.sequence()
				for _, f := range forms {
					if len(f.words) > 0 {
						out.forms = append(out.forms, f)
					}
				}
			}
			out.field = field
			break
		}
	}
	formCache.Store(t, out)
	return out.forms, out.field
}

// skipLookahead drops a leading lookahead group, (?= … ), from a tag: a node whose first words
// are another's (.create table T ingestion …, .create table T (…)) starts with one, so that the
// grammar tries the other when it does not match; its keywords follow the group.
func skipLookahead(tag string) string {
	if !strings.HasPrefix(tag, "(?=") {
		return tag
	}
	depth, quoted := 0, false
	for i, c := range tag {
		switch {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth == 0 {
				return tag[i+1:]
			}
		}
	}
	return tag
}

var tagToken = regexp.MustCompile(`'[^']*'|[A-Za-z_]+|\S`)

// tagReader reads the keyword sequences at the start of a participle tag.
type tagReader struct {
	toks []string
	i    int
}

// sequence reads items up to a ')' or '|' or the end. It stops early, reporting so, at anything
// that is not made of keywords: a sub-rule, a token class, punctuation, an unclosed group.
func (r *tagReader) sequence() (forms []tagForm, stopped bool) {
	forms = []tagForm{{}}
	for r.i < len(r.toks) && r.toks[r.i] != ")" && r.toks[r.i] != "|" {
		start := r.i
		item, ok := r.item()
		if !ok {
			r.i = start
			return forms, true
		}
		var next []tagForm
		for _, a := range forms {
			for _, b := range item {
				next = append(next, tagForm{
					words:    append(slices.Clip(a.words), b.words...),
					captured: append(slices.Clip(a.captured), b.captured...),
				})
			}
		}
		forms = next
	}
	return forms, false
}

func (r *tagReader) item() ([]tagForm, bool) {
	capture := r.toks[r.i] == "@"
	if capture {
		r.i++
		if r.i >= len(r.toks) {
			return nil, false
		}
	}
	var alts []tagForm
	switch tok := r.toks[r.i]; {
	case tok == "(":
		r.i++
		for {
			forms, stopped := r.sequence()
			if stopped || r.i >= len(r.toks) {
				return nil, false
			}
			alts = append(alts, forms...)
			r.i++ // '|' or ')'
			if r.toks[r.i-1] == ")" {
				break
			}
		}
	case quotedWord.MatchString(tok) && quotedWord.FindString(tok) == tok:
		alts = []tagForm{{words: []string{tok[1 : len(tok)-1]}}}
		r.i++
	default:
		return nil, false
	}
	if capture {
		for i := range alts {
			alts[i].captured = append(slices.Clip(alts[i].captured), alts[i].words...)
		}
	}
	if r.i < len(r.toks) {
		switch r.toks[r.i] {
		case "?":
			r.i++
			alts = append(alts, tagForm{})
		case "*", "+":
			return nil, false
		}
	}
	return alts, true
}

// grammarWords returns the quoted keywords anywhere in a node's tags.
func grammarWords(node any) []string {
	var out []string
	for _, field := range reflect.VisibleFields(reflect.TypeOf(node).Elem()) {
		if tag, ok := field.Tag.Lookup("parser"); ok {
			for _, m := range quotedWord.FindAllStringSubmatch(tag, -1) {
				if !slices.Contains(out, m[1]) {
					out = append(out, m[1])
				}
			}
		}
	}
	return out
}

// GrammarWords returns the keywords a command's grammar uses anywhere, for tests that hold
// completion to the grammar.
func GrammarWords(node Command) []string { return grammarWords(node) }

// supportedFormsOf derives, from the command union, which word may follow each verb Kustard
// implements: the second keyword of its forms, or, for a verb that is a whole form (.set T),
// any word that does not make it another Kusto command.
func supportedFormsOf(members []Command) map[string]func(next string) bool {
	seconds := map[string]map[string]bool{}
	anyNext := map[string]bool{}
	for _, m := range members {
		for _, f := range CommandForms(m) {
			verb := f[0]
			if seconds[verb] == nil {
				seconds[verb] = map[string]bool{}
			}
			if len(f) == 1 {
				anyNext[verb] = true
			} else {
				seconds[verb][f[1]] = true
			}
		}
	}
	out := map[string]func(string) bool{}
	for verb, next := range seconds {
		anyWord := anyNext[verb]
		out[verb] = func(n string) bool { return next[n] || anyWord && !kustoCommandsAfterVerb[n] }
	}
	return out
}

// tableWordsOf derives, for the commands of the form `.verb table T …`, the words their grammar
// accepts after the keywords.
func tableWordsOf(members []Command) map[string][]string {
	out := map[string][]string{}
	for _, m := range members {
		for _, f := range CommandForms(m) {
			if len(f) != 2 || f[1] != "table" {
				continue
			}
			for _, w := range grammarWords(m) {
				if !slices.Contains(f, w) && !slices.Contains(out[f[0]], w) {
					out[f[0]] = append(out[f[0]], w)
				}
			}
		}
	}
	return out
}
