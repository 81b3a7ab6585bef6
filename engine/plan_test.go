package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// TestPlanGolden prints the plans of queries that use every operator and source.
func TestPlanGolden(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	executeText(t, sess, ".set-or-append T <| range x from 1 to 100 step 1 | extend s = tostring(x)")
	queries := []string{
		"range x from 1 to 100000000 step 1 | where x % 2 == 0 | count",
		"T | where x > 10 and s has '1' | project y = x * 2, s | take 5",
		"T | extend z = x + 1, x = x * 10 | project-away s",
		"let n = 3; print a = n + 1, b = 'text', now() > datetime(2020-01-01)",
		"datatable(a:long, b:string)[1, 'x', 2, 'y'] | filter a in (1, 3) | limit 1",
		"let Big = T | where x > 50; Big | count",
		"range t from datetime(2024-01-01) to datetime(2024-01-02) step 1h | where t > ago(1d)",
		"T | sort by s asc, x * 2 nulls first | project x",
		"T | order by x | take 3",
		"T | top 2 by strlen(s) asc nulls last, x | project s",
		"T | distinct s | count",
		"T | extend y = x % 3 | distinct *",
		"T | join kind=leftouter hint.strategy=shuffle (T | where x > 50 | project y = x, s) on $left.x == $right.y | project s1",
		"let U = print x = 1, z = 2; T | union withsource=Source U | project Source, z",
		"range x from 1 to 50000000 step 1 | summarize count(), sum(x) by k = x % 10",
		"T | summarize c = count(), avg(x) / 2, make_set_if(x, x > 1) by s",
		"T | summarize count() by bin(x, 10), s | summarize n = count()",
		"T | summarize arg_max(x, *), take_any(s)",
		"T | extend y = x * 2 | summarize dcount(y) by tostring(x % 3)",
		"T | project-keep x* | project-rename y = x | project-reorder y desc | getschema",
		"T | sort by x asc | extend n = row_number(), p = prev(s), q = next(x, 2) | where prev(x) < x | serialize m = row_number()",
		"T | as A | sample 3 | render timechart with (title = 'x')",
	}
	var out strings.Builder
	for _, q := range queries {
		n, err := sess.Plan(Request{}, &kusto.Source{Text: q})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		fmt.Fprintf(&out, "> %s\n%s\n", q, FormatPlan(n))
	}
	golden.Check(t, "../testdata/engine/plans.golden", []byte(out.String()))
	if _, err := sess.Plan(Request{}, &kusto.Source{Text: ".show tables"}); err == nil {
		t.Error("a command has no plan, but Plan returned one")
	}
}

// TestOperatorRegistryMatchesGrammar: every operator the grammar parses has exactly one registry
// entry, named by the keywords the grammar starts it with; so no operator can reach the engine
// without a compile function.
func TestOperatorRegistryMatchesGrammar(t *testing.T) {
	members := parser.Operators()
	if len(members) != len(Operators()) {
		t.Errorf("the grammar has %d operators, the registry %d", len(members), len(Operators()))
	}
	for _, op := range members {
		info := OperatorFor(op) // panics without an entry
		if got, want := info.Keywords(), parser.LeadingKeywords(op); !slices.Equal(got, want) {
			t.Errorf("%T: registry keywords %q, grammar %q", op, got, want)
		}
		for _, kw := range info.Keywords() {
			if found, ok := LookupOperator(kw); !ok || found != info {
				t.Errorf("LookupOperator(%q) = %v, %v", kw, found, ok)
			}
		}
	}
}
