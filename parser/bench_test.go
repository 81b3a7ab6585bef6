package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

func benchmarkParse(b *testing.B, text string) {
	b.ReportAllocs()
	if _, err := ParseString(text); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := ParseString(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseShowOperations(b *testing.B) {
	benchmarkParse(b, ".show operations")
}

func BenchmarkParseCancelDocsExample(b *testing.B) {
	benchmarkParse(b, `.cancel operation 078b2641-f10d-4694-96f8-1ee2b75dda48 with(Reason="Command canceled by me")`)
}

func BenchmarkParseSetOrAppendAsync(b *testing.B) {
	benchmarkParse(b, ".set-or-append async T <| range x from 1 to 1000000 step 1 | where x % 2 == 0 | extend y = x * 2 | project x, y | take 1000")
}

// errorText has a syntax error, a missing comma; correctText is the same text corrected.
const (
	errorText   = ".set-or-append async T <| range x from 1 to 10 step 1 | where x % 2 == 0 | extend y = x * 2 | project x y"
	correctText = ".set-or-append async T <| range x from 1 to 10 step 1 | where x % 2 == 0 | extend y = x * 2 | project x, y"
)

// BenchmarkParseError measures the cost of explaining a mistake, which parses again to find what
// could have come next; BenchmarkParseCorrected parses the same text corrected, to compare with.
func BenchmarkParseError(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseString(errorText); err == nil {
			b.Fatal("no error")
		}
	}
}

func BenchmarkParseCorrected(b *testing.B) {
	benchmarkParse(b, correctText)
}

// BenchmarkParseBlocks parses a script of 500 blocks, each with the mistake of BenchmarkParseError
// or corrected: what a stream of bad requests costs next to the same stream of good ones.
func BenchmarkParseBlocks(b *testing.B) {
	for _, bc := range []struct {
		name, project string
		bad           bool
	}{{"errors", "x y", true}, {"corrected", "x, y", false}} {
		b.Run(bc.name, func(b *testing.B) {
			var script strings.Builder
			for i := range 500 {
				fmt.Fprintf(&script, ".set-or-append async T%d <| range x from 1 to %d step 1 | where x %% 2 == 0 | extend y = x * 2 | project %s\n\n", i, 10+i, bc.project)
			}
			blocks := SplitBlocks(script.String())
			if len(blocks) != 500 {
				b.Fatalf("%d blocks", len(blocks))
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, c := range blocks {
					if _, err := Parse(&kusto.Source{Text: c.Text, FirstLine: c.FirstLine}); (err != nil) != bc.bad {
						b.Fatalf("%q: %v", c.Text, err)
					}
				}
			}
		})
	}
}

// BenchmarkParseLongError: mistakes at the end of a long statement. In a list, the explanation
// parses only the first item and the last again; in a long expression nothing before the error
// can be skipped, and where a required token is missing the whole text is parsed again for each
// probe.
func BenchmarkParseLongError(b *testing.B) {
	list := "datatable(a:long)[" + strings.Repeat("1, ", 199) + "1"
	expr := "print x = (1" + strings.Repeat(" + 1", 199)
	for _, bc := range []struct {
		name, text string
		bad        bool
	}{
		{"list/error", list, true}, {"list/corrected", list + "]", false},
		{"expression/error", expr, true}, {"expression/corrected", expr + ")", false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseString(bc.text); (err != nil) != bc.bad {
					b.Fatal(err)
				}
			}
		})
	}
}

// Big and deep inputs (BENCHMARKS.md, "Big and deep inputs"): a datatable of 400,000 rows of
// three columns, a chain of 300,000 terms, and 100,000 brackets, which are rejected.
func bigDatatable(rows int) string {
	var b strings.Builder
	b.WriteString("datatable(a:long, b:string, c:real)[")
	for i := range rows {
		fmt.Fprintf(&b, "%d, \"x%d\", %d.5, ", i, i, i)
	}
	b.WriteString("]")
	return b.String()
}

// BenchmarkParseBigDatatable: 300,000 rows are 900,000 values, which parsed before the fast path;
// 400,000 rows pass participle's limit of a million repetitions, which failed.
func BenchmarkParseBigDatatable(b *testing.B) {
	for _, rows := range []int{300_000, 400_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			text := bigDatatable(rows)
			b.SetBytes(int64(len(text)))
			benchmarkParse(b, text)
		})
	}
}

func BenchmarkParseLongChain(b *testing.B) {
	text := "print x = 1" + strings.Repeat(" + 1", 300_000)
	b.SetBytes(int64(len(text)))
	benchmarkParse(b, text)
}

func BenchmarkParseDeepBrackets(b *testing.B) {
	text := "print x = " + strings.Repeat("(", 100_000) + "1" + strings.Repeat(")", 100_000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseString(text); err == nil {
			b.Fatal("no error")
		}
	}
}

// BenchmarkGrammarBuild is what building the grammar costs, as a fresh process pays it at its
// first parse that needs it (or after a RegisterCommand).
func BenchmarkGrammarBuild(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		built.Store(nil)
		current()
	}
}

// BenchmarkFirstParse is a fresh process's first parse: of a block the block fast path takes
// (fastblock.go), and of one that builds the grammar.
func BenchmarkFirstParse(b *testing.B) {
	for _, bc := range []struct{ name, text string }{
		{"print", "print 1"},
		{"pipeline", "range x from 1 to 10 step 1 | where x > 1 | count"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				built.Store(nil)
				if _, err := ParseString(bc.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
