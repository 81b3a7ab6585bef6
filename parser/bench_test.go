package parser

import "testing"

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

// BenchmarkParseError measures the cost of explaining a mistake, which re-parses prefixes of the
// input to find what could have come next.
func BenchmarkParseError(b *testing.B) {
	b.ReportAllocs()
	text := ".set-or-append async T <| range x from 1 to 10 step 1 | where x % 2 == 0 | extend y = x * 2 | project x y"
	for b.Loop() {
		if _, err := ParseString(text); err == nil {
			b.Fatal("no error")
		}
	}
}
