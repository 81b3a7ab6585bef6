package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

const g1 = "078b2641-f10d-4694-96f8-1ee2b75dda48"

// checkErrorCases are commands the grammar accepts and the registry rejects: with-properties
// and ingest sources. Their renderings are kept in testdata/engine/check-errors.golden, in the
// form of testdata/parser/errors.golden, where they were until the parser stopped knowing the
// property specs.
var checkErrorCases = []struct{ name, in string }{
	{"unknown cancel property", ".cancel operation " + g1 + ` with (foo="x")`},
	{"unknown ingest property", `.set T with (retention="1d") <| print 1`},
	{"unknown table property", `.create table T (a:string) with (retention="1d")`},
	{"unsupported ingest property", `.append T with (format="csv") <| print 1`},
	{"string property given a number", ".cancel operation " + g1 + " with (reason=1)"},
	{"bool property given a word", `.append T with (extend_schema="yes") <| print 1`},
	{"bool property given a number", ".set T with (persistDetails=1) <| print 1"},
	{"unquoted string value", ".cancel operation " + g1 + " with (reason=bogus)"},
	{"tags not a JSON list", `.set T with (tags="a") <| print 1`},
	{"creationTime not a datetime", `.set T with (creationTime="yesterday") <| print 1`},
	{"extend_schema on set", ".set T with (extend_schema=true) <| print 1"},
	{"recreate_schema on append", ".append T with (recreate_schema=true) <| print 1"},
	{"property given twice", ".cancel operation " + g1 + ` with (reason="a", Reason="b")`},
	{"empty with", ".cancel operation " + g1 + " with ()"},
	{"source is not a query or show", ".set T <| .cancel operation " + g1},
	// Function names are resolved before anything runs: Kusto's functions that Kustard lacks are
	// unsupported, other names unknown, wherever the call stands.
	{"unsupported function", "print atan2(2, 3)"},
	{"unsupported function array_sort_asc", `print array_sort_asc(dynamic(["a"]))`},
	{"unsupported function parse_url", "range x from 1 to 2 step 1 | extend t = parse_url(tostring(x))"},
	{"typeof", "print typeof(long)"},
	{"unknown function", "print frob(1)"},
	{"unknown function in a where", "range x from 1 to 2 step 1 | where x > 1 and frob(x)"},
	{"unknown function in an argument", `print strcat("a", tolower(frob(1)))`},
	{"unknown function in a let", "let y = frob(1); print y"},
	{"unknown function in a range bound", "range x from 1 to frob(3) step 1"},
	{"unknown function in an ingest", ".set T <| print x = atan(2)"},
	{"unknown function in an in list", "print 1 in (frob(1), 2)"},
}

func TestCheckErrorsGolden(t *testing.T) {
	var out strings.Builder
	for _, tc := range checkErrorCases {
		src := &kusto.Source{Name: "example.kql", Text: tc.in}
		if _, err := parser.Parse(src); err != nil {
			t.Errorf("%s: the grammar rejects it, so the registry is not what rejects it: %v", tc.name, err)
		}
		_, err := Check(src)
		var perr *kusto.Error
		if !errors.As(err, &perr) {
			t.Errorf("%s: Check(%q) = %v; want a *kusto.Error", tc.name, tc.in, err)
			continue
		}
		if perr.Kind != kusto.KindSyntax || perr.Src != src || perr.Offset < 0 || perr.Offset > len(tc.in) {
			t.Errorf("%s: kind %v, offset %d of %d, same source %v", tc.name, perr.Kind, perr.Offset, len(tc.in), perr.Src == src)
		}
		// Run reports the same error for a block that did not come from Check.
		b, _ := parser.Parse(src)
		if _, err := newConcurrencyEngine(0).NewSession().Run(t.Context(), Request{}, b); err == nil || err.Error() != perr.Error() {
			t.Errorf("%s: Run of an unchecked block = %v; want %v", tc.name, err, perr)
		}
		out.WriteString("### " + tc.name + "\n" + tc.in + "\n---\n" + perr.Detail() + "\n\n")
	}
	golden.Check(t, "../testdata/engine/check-errors.golden", []byte(out.String()))
}

// TestCheckOrder: a command is checked before the blocks it holds, so errors come in the
// order of the text.
func TestCheckOrder(t *testing.T) {
	_, err := Check(&kusto.Source{Text: `.set T with (foo=1) <| .show operation "nope" details`})
	if err == nil || !strings.Contains(err.Error(), `unknown property "foo"`) {
		t.Errorf("got %v; want the property's error, which comes first", err)
	}
}

func mustCheck[T parser.Command](t *testing.T, text string) T {
	t.Helper()
	b, err := Check(&kusto.Source{Text: text})
	if err != nil {
		t.Fatalf("Check(%q): %v", text, err)
	}
	c, ok := b.Command.(T)
	if !ok {
		t.Fatalf("Check(%q) command = %T; want %T", text, b.Command, *new(T))
	}
	return c
}

// TestCheckedValues: the checked values are under their canonical names, converted to the
// property's type.
func TestCheckedValues(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{".cancel operation " + g1 + ` with(Reason="Command canceled by me")`, "Command canceled by me"},
		{".cancel operation " + g1 + ` with (reason = 'why')`, "why"},
		{".cancel operation " + g1 + ` with (REASON=@"a\b")`, `a\b`},
		{".cancel operation " + g1 + ` with (reason=h"secret" " part")`, "secret part"},
	} {
		c := mustCheck[*parser.CancelOperation](t, tc.in)
		if got := c.With.Values["reason"]; got.Type != kusto.TypeString || got.Value != tc.reason || len(c.With.Values) != 1 {
			t.Errorf("%s: with values %v; want reason=%q", tc.in, c.With.Values, tc.reason)
		}
	}

	text := ".set-or-append async T\nwith (tags='[\"ingest-by:v1\"]', extend_schema=true, persistDetails=\"true\",\n  creationTime='2017-02-13T11:09:36.7992775Z', distributed=false, folder=\"F\", docstring='D', ingestIfNotExists='[\"v1\"]')\n<| .show operations | where State == \"InProgress\""
	c := mustCheck[*parser.Ingest](t, text)
	v := c.With.Values
	wantCreation, _ := kusto.ParseDateTime("2017-02-13T11:09:36.7992775Z")
	for name, want := range map[string]kusto.Literal{
		"tags":              {Type: kusto.TypeString, Value: `["ingest-by:v1"]`},
		"extend_schema":     {Type: kusto.TypeBool, Value: true},
		"persistDetails":    {Type: kusto.TypeBool, Value: true},
		"creationTime":      {Type: kusto.TypeDateTime, Value: wantCreation},
		"distributed":       {Type: kusto.TypeBool, Value: false},
		"folder":            {Type: kusto.TypeString, Value: "F"},
		"docstring":         {Type: kusto.TypeString, Value: "D"},
		"ingestIfNotExists": {Type: kusto.TypeString, Value: `["v1"]`},
	} {
		if v[name] != want {
			t.Errorf("property %s = %#v; want %#v", name, v[name], want)
		}
	}
	if len(v) != 8 {
		t.Errorf("%d properties; want 8: %v", len(v), v)
	}

	c = mustCheck[*parser.Ingest](t, ".set-or-replace T with (recreate_schema=true) <| .show tables")
	if c.With.Values["recreate_schema"] != (kusto.Literal{Type: kusto.TypeBool, Value: true}) {
		t.Errorf("recreate_schema = %v", c.With.Values["recreate_schema"])
	}
	for _, cmd := range []string{".show version", ".show databases", ".show tables", ".show table T details", ".show operation " + g1 + " details"} {
		if c := mustCheck[*parser.Ingest](t, ".set T <| "+cmd); c.Source.Command == nil {
			t.Errorf("source of .set T <| %s is not a command", cmd)
		}
	}

	ct := mustCheck[*parser.CreateTable](t, ".create table T (a:string) with (docstring=\"the docs\", folder='f/g')")
	if ct.With.Values["docstring"] != (kusto.Literal{Type: kusto.TypeString, Value: "the docs"}) || ct.With.Values["folder"] != (kusto.Literal{Type: kusto.TypeString, Value: "f/g"}) {
		t.Errorf("with = %v", ct.With.Values)
	}
}

// TestPropertySpecs: help and completion read the property lists; they must be complete.
func TestPropertySpecs(t *testing.T) {
	for _, info := range Commands() {
		for _, p := range info.Properties {
			if p.Name == "" || p.Doc == "" || (p.Type != kusto.TypeBool && p.Type != kusto.TypeString && p.Type != kusto.TypeLong) {
				t.Errorf("%s: incomplete spec %+v", info.Name, p)
			}
			for _, name := range p.AppliesTo {
				if other := commandNamed(name); other == nil || !slices.ContainsFunc(other.Properties, func(q PropertySpec) bool { return q.Name == p.Name }) {
					t.Errorf("%s: %s applies to %s, which does not list it", info.Name, p.Name, name)
				}
			}
		}
	}
	cancel := commandNamed(".cancel operation")
	if len(cancel.Properties) != 1 || cancel.Properties[0].Name != "reason" {
		t.Errorf("cancel properties %v", cancel.Properties)
	}
	if p, ok := commandNamed(".append").property("EXTEND_SCHEMA"); !ok || p.Name != "extend_schema" {
		t.Error("property lookup does not match case-insensitively")
	}
	if _, ok := commandNamed(".append").property("nope"); ok {
		t.Error("property lookup found nope")
	}
}

func commandNamed(name string) *CommandInfo {
	for _, info := range Commands() {
		if info.Name == name {
			return info
		}
	}
	return nil
}
