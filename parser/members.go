package parser

import (
	"reflect"
	"regexp"
	"strings"
)

// The grammar's unions (operators, commands) are the single list of what Kustard parses. The
// words a member starts with are read off its grammar tag, so that the lists of supported
// operators and commands, which reject the rest of Kusto by name, never drift from the grammar.

// Operators returns one empty node of each tabular operator the grammar accepts, in the order
// the grammar tries them.
func Operators() []Operator { return append([]Operator(nil), operatorMembers...) }

// Commands returns one empty node of each management command the grammar accepts.
func Commands() []Command { return append([]Command(nil), commandMembers...) }

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

// operatorKeywords maps every keyword that starts an operator to its node type.
var operatorKeywords = func() map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for _, op := range operatorMembers {
		for _, kw := range LeadingKeywords(op) {
			m[kw] = reflect.TypeOf(op)
		}
	}
	return m
}()
