package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkInLiterals filters ten million rows of a range by a list of a thousand literals, which
// in's hash set answers with one lookup a row rather than a thousand comparisons.
func BenchmarkInLiterals(b *testing.B) {
	eng := New(Options{})
	defer closeEngine(b, eng)
	list := make([]string, 1000)
	for k := range list {
		list[k] = strconv.Itoa((k + 1) * 7)
	}
	text := fmt.Sprintf("range x from 1 to %d step 1 | where x in (%s) | count", ingestRows, strings.Join(list, ", "))
	benchmarkCount(b, eng.NewSession(), text, int64(len(list)), ingestRows)
}

// BenchmarkDynamicAccess filters a stored table of a million property bags by one property.
func BenchmarkDynamicAccess(b *testing.B) {
	const rows = 1_000_000
	eng := New(Options{})
	defer closeEngine(b, eng)
	s := eng.NewSession()
	benchExec(b, s, fmt.Sprintf(`.set-or-append T <| range x from 1 to %d step 1 | extend d = bag_pack("a", x %% 10, "b", "x")`, rows))
	benchmarkCount(b, s, "T | where tolong(d.a) == 3 | count", rows/10, rows)
}
