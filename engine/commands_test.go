package engine

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// TestRegistryMatchesGrammar holds the command registry and the grammar in step: every entry has
// an example here, and each example parses to a command that dispatches to that entry. A command
// added to one and not the other fails here, not at a user's prompt.
func TestRegistryMatchesGrammar(t *testing.T) {
	examples := map[string]string{
		".cancel operation":                          `.cancel operation 078b2641-f10d-4694-96f8-1ee2b75dda48 with(Reason="x")`,
		".show operations":                           ".show operations (078b2641-f10d-4694-96f8-1ee2b75dda48)",
		".cancel query":                              `.cancel query "KE.RunQuery;8f70e9ab-958f-4955-99df-d2a288b32b2c" with (reason = "x")`,
		".show queries":                              ".show queries",
		".show running queries":                      `.show running queries by user "a@b.c"`,
		".show operation details":                    ".show operation 078b2641-f10d-4694-96f8-1ee2b75dda48 details",
		".set":                                       ".set async T <| print x = 1",
		".append":                                    ".append T <| print x = 1",
		".set-or-append":                             ".set-or-append T with (extend_schema=true) <| .show tables",
		".set-or-replace":                            ".set-or-replace T <| print x = 1",
		".create table":                              ".create table T (a:long)",
		".create-merge table":                        ".create-merge table T (a:long)",
		".drop table":                                ".drop table T ifexists",
		".show tables":                               ".show tables (T) details",
		".show table":                                ".show table T cslschema",
		".show databases":                            ".show databases",
		".show version":                              ".show version",
		".show cluster":                              ".show cluster details",
		".create database":                           `.create database D persist (@"/kustodata/dbs/D/md", @"/kustodata/dbs/D/data") ifnotexists`,
		".drop database":                             ".drop database D ifexists",
		".detach database":                           ".detach database D",
		".attach database":                           `.attach database metadata D from @"/kustodata/dbs/D/md"`,
		".show database":                             ".show database D extents",
		".show extents":                              ".show extents",
		".show kustard_test":                         ".show kustard_test with (loud=true)",
		".ingest into":                               ".ingest async into table T (h@'/tmp/a.csv') with (format='csv')",
		".ingest inline":                             ".ingest inline into table T <| 1,2",
		".alter table policy streamingingestion":     ".alter table T policy streamingingestion enable",
		".show table policy streamingingestion":      ".show table T policy streamingingestion",
		".delete table policy streamingingestion":    ".delete table T policy streamingingestion",
		".alter database policy streamingingestion":  `.alter database D policy streamingingestion '{"IsEnabled": true}'`,
		".show database policy streamingingestion":   ".show database D policy streamingingestion",
		".delete database policy streamingingestion": ".delete database D policy streamingingestion",
		".get ingestion resources":                   ".get ingestion resources",
		".get kusto identity token":                  ".get kusto identity token",
		".create ingestion mapping":                  `.create table T ingestion csv mapping "m" '[{"Column":"a","Properties":{"Ordinal":"0"}}]'`,
		".create-or-alter ingestion mapping":         `.create-or-alter table T ingestion json mapping "m" '[]'`,
		".show ingestion mappings":                   ".show table T ingestion csv mappings",
		".drop ingestion mapping":                    `.drop table T ingestion csv mapping "m"`,
		".show ingestion failures":                   ".show ingestion failures",
		".export":                                    ".export async compressed to csv (h@'/tmp') with (namePrefix='x') <| T",
		".show kustard_race":                         ".show kustard_race", // registered if TestRegisterWhileParsing ran first
	}
	registerTestCommand()
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
		if !seen[name] && name != ".show kustard_race" {
			t.Errorf("example for %q, which the registry does not have", name)
		}
	}

	// Every command node of the grammar has one entry per form it starts with, and an entry's
	// keywords are the grammar's; so no command reaches the engine without a handler, and
	// completion offers the keywords the grammar takes.
	members := parser.Commands()
	for _, node := range members {
		var got [][]string
		for _, info := range Commands() {
			if info.Node != nil && sameType(info.Node, node) {
				got = append(got, info.Keywords)
			}
		}
		want := parser.CommandForms(node)
		slices.SortFunc(got, slices.Compare)
		slices.SortFunc(want, slices.Compare)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%T: registry keywords %q, grammar %q", node, got, want)
		}
	}
	for _, info := range Commands() {
		if !slices.ContainsFunc(members, func(m parser.Command) bool { return sameType(m, info.Node) }) {
			t.Errorf("%q: its node %T is not in the grammar", info.Name, info.Node)
		}
		// The words completion offers are words of the command's grammar.
		grammar := parser.GrammarWords(info.Node)
		for _, arg := range info.Args {
			for _, w := range arg.Words {
				if !slices.Contains(grammar, w.Text) && !(w.Text == "<|" && info.HasSource()) {
					t.Errorf("%q: completion offers %q, which its grammar lacks", info.Name, w.Text)
				}
			}
		}
		if info.Async && !slices.Contains(grammar, "async") {
			t.Errorf("%q: Async, but its grammar has no async", info.Name)
		}
	}
}

func sameType(a, b parser.Command) bool { return reflectType(a) == reflectType(b) }

// showKustardTest is a command that only tests register: `.show kustard_test [with (loud=…)]`.
type showKustardTest struct {
	parser.CommandNode
	Pos     lexer.Position
	Keyword string             `parser:"'.' 'show' @'kustard_test'"`
	With    *parser.Properties `parser:"( 'with' @@ )?"`
}

var registerOnce sync.Once

// registerTestCommand registers .show kustard_test, in one place: its entry.
func registerTestCommand() {
	registerOnce.Do(func() {
		RegisterCommand(&CommandInfo{
			Name: ".show kustard_test", Keywords: []string{"show", "kustard_test"},
			Synopsis: ".show kustard_test [with (loud = true)]", Summary: "Answers, for the registry's tests.",
			Result:     Schema{{"Answer", kusto.TypeString}},
			Properties: []PropertySpec{{Name: "loud", Type: kusto.TypeBool, Doc: "answer in capitals"}},
			Node:       &showKustardTest{},
			Run: func(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
				answer := "forty-two"
				if with := cmd.(*showKustardTest).With; with != nil && with.Values["loud"].Value == true {
					answer = strings.ToUpper(answer)
				}
				fb := newFrame(Schema{{"Answer", kusto.TypeString}})
				fb.row(answer)
				return fb.frame(), nil
			},
		})
	})
}

// TestRegisterCommand: one registration is all a command needs to parse, be checked, run, and
// be queried further; the shell's side (help, completion) is tested in package repl.
func TestRegisterCommand(t *testing.T) {
	registerTestCommand()
	sess := newConcurrencyEngine(0).NewSession()
	for text, want := range map[string]any{
		".show kustard_test":                                    "forty-two",
		".show kustard_test with (LOUD=\"true\")":               "FORTY-TWO",
		".show kustard_test | where Answer has 'two' | count":   int64(1),
		".set T <| .show kustard_test":                          nil, // a .show command may feed an ingest
		".show kustard_test with (loud=false) | project Answer": "forty-two",
		"let x = 1; print y = x":                                int64(1),
	} {
		if _, err := Check(&kusto.Source{Text: text}); err != nil {
			t.Errorf("Check(%s): %v", text, err)
			continue
		}
		res := executeText(t, sess, text)
		if want != nil && res != nil && res.Value(0, 0) != want {
			t.Errorf("%s = %v; want %v", text, res.Value(0, 0), want)
		}
	}
	for text, want := range map[string]string{
		".show kustard_test with (quiet=true)": `<input>:1:26: unknown property "quiet" for .show kustard_test; accepted: loud`,
		".show kustard_test with (loud=1)":     "<input>:1:26: property loud: expected a bool value, got a long",
		".show kustard_test extra":             "<input>:1:20: ",
	} {
		_, err := Check(&kusto.Source{Text: text})
		var perr *kusto.Error
		if !errors.As(err, &perr) || perr.Kind != kusto.KindSyntax || !strings.HasPrefix(perr.Error(), want) {
			t.Errorf("Check(%s) = %v; want a syntax error starting %q", text, err, want)
		}
	}
}

func reflectType(c parser.Command) reflect.Type { return reflect.TypeOf(c) }

// showKustardRace is registered while other goroutines parse, to hold the lazy rebuild of the
// grammar to being safe for concurrent use.
type showKustardRace struct {
	parser.CommandNode
	Keyword string `parser:"'.' 'show' @'kustard_race'"`
}

var raceOnce sync.Once

func TestRegisterWhileParsing(t *testing.T) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := Check(&kusto.Source{Text: ".show tables | count"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	raceOnce.Do(func() {
		RegisterCommand(&CommandInfo{
			Name: ".show kustard_race", Keywords: []string{"show", "kustard_race"},
			Synopsis: ".show kustard_race", Summary: "Registered while parsing.", Node: &showKustardRace{},
			Run: func(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
				return newFrame(nil).frame(), nil
			},
		})
	})
	if _, err := Check(&kusto.Source{Text: ".show kustard_race"}); err != nil {
		t.Errorf("after registration: %v", err)
	}
	close(stop)
	wg.Wait()
}
