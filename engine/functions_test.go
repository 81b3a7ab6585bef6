package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kustard/kustard/internal/golden"
)

// TestFunctionsListing pins the listing that help and the README's table are made from.
func TestFunctionsListing(t *testing.T) {
	var out strings.Builder
	list := Functions()
	if len(list) != len(functions) {
		t.Fatalf("Functions() lists %d functions, the registry has %d", len(list), len(functions))
	}
	for _, f := range list {
		if f.Summary == "" || len(f.Signatures) == 0 || f.Usage == "" {
			t.Errorf("%s: incomplete declaration %+v", f.Name, f)
		}
		if unsupportedFunctions[f.Name] {
			t.Errorf("%s is both implemented and listed as unsupported", f.Name)
		}
		fmt.Fprintf(&out, "%s\t%s\t%s\n", f.Usage, f.Class, f.Summary)
		for _, s := range f.Signatures {
			fmt.Fprintf(&out, "\t%s\n", s)
		}
	}
	for _, a := range Aggregates() {
		fmt.Fprintf(&out, "aggregate %s\t%s\n", a.Usage, a.Summary)
	}
	golden.Check(t, "../testdata/engine/functions.golden", []byte(out.String()))
}

// TestUnsupportedFunctionsAreNotImplemented: a function is implemented or listed as Kusto's and
// unsupported, never both.
func TestUnsupportedFunctionsAreNotImplemented(t *testing.T) {
	for name := range unsupportedFunctions {
		if _, ok := functions[name]; ok {
			t.Errorf("%s is implemented and listed as unsupported", name)
		}
	}
}
