package engine

import (
	"testing"

	"github.com/kustard/kustard/parser"
)

// TestRegistryMatchesGrammar holds the command registry and the grammar in step: every entry has
// an example here, and each example parses to a command that dispatches to that entry. A command
// added to one and not the other fails here, not at a user's prompt.
func TestRegistryMatchesGrammar(t *testing.T) {
	examples := map[string]string{
		".cancel operation":       `.cancel operation 078b2641-f10d-4694-96f8-1ee2b75dda48 with(Reason="x")`,
		".show operations":        ".show operations (078b2641-f10d-4694-96f8-1ee2b75dda48)",
		".show operation details": ".show operation 078b2641-f10d-4694-96f8-1ee2b75dda48 details",
		".set":                    ".set async T <| print x = 1",
		".append":                 ".append T <| print x = 1",
		".set-or-append":          ".set-or-append T with (extend_schema=true) <| .show tables",
		".set-or-replace":         ".set-or-replace T <| print x = 1",
		".create table":           ".create table T (a:long)",
		".create-merge table":     ".create-merge table T (a:long)",
		".drop table":             ".drop table T ifexists",
		".show tables":            ".show tables (T) details",
		".show table":             ".show table T cslschema",
		".show databases":         ".show databases",
		".show version":           ".show version",
	}
	seen := map[string]bool{}
	for _, info := range Commands() {
		seen[info.Name] = true
		text, ok := examples[info.Name]
		if !ok {
			t.Errorf("registry entry %q has no example in this test", info.Name)
			continue
		}
		b, err := parser.ParseString(text)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		if b.Command == nil {
			t.Errorf("%s parsed as a query", text)
			continue
		}
		if got := CommandFor(b.Command); got != info {
			t.Errorf("%s dispatches to %q, want %q", text, got.Name, info.Name)
		}
		if info.Synopsis == "" || info.Summary == "" {
			t.Errorf("%q lacks a synopsis or summary, which help shows", info.Name)
		}
	}
	for name := range examples {
		if !seen[name] {
			t.Errorf("example for %q, which the registry does not have", name)
		}
	}
}
