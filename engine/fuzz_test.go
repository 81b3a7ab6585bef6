package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// FuzzRun compiles and runs each input as one block against a throwaway engine with a small
// memory budget, a short timeout and small result truncation. Whatever the input, the engine
// must answer with a result or with a *kusto.Error placed in the input: never a panic (which the
// engine turns into an internal error), never an unplaced error, never a hang past the timeout.
// Run it with
//
//	go test ./engine -run '^$' -fuzz FuzzRun -parallel 1
//
// The seeds are every block of testdata/scripts/*.kql, the parser's FuzzParse corpus, and the
// crashers found so far, all under testdata/fuzz/FuzzRun (which `go test` runs as ordinary
// tests).

const (
	fuzzBudget  = 64 << 20
	fuzzTimeout = 2 * time.Second
	// fuzzGrace is how long past its timeout an input may take to stop before it counts as a
	// hang: long enough for a loaded machine, short next to a real hang.
	fuzzGrace = 8 * time.Second
)

// fuzzTables are the tables every input can read: every type Kustard has (it rejects decimal),
// nulls, and dynamic bags, arrays and scalars.
var fuzzTables = []string{
	`.set T <| datatable(b:bool, i:int, l:long, r:real, s:string, d:datetime, t:timespan, g:guid, y:dynamic) [
		true, 1, 10, 1.5, "alpha", datetime(2024-01-01), 1h, guid(00000000-0000-0000-0000-000000000001), dynamic({"a": 1, "b": [1, 2, 3], "c": {"d": "x"}}),
		false, -2, -20, -0.5, "Beta gamma", datetime(2024-02-29 12:30:00), -90m, guid(078b2641-f10d-4694-96f8-1ee2b75dda48), dynamic([1, "two", 3.5, null, {"k": true}]),
		bool(null), int(null), long(null), real(null), "", datetime(null), timespan(null), guid(null), dynamic(null),
		true, 2147483647, 9223372036854775807, real(nan), "alpha", datetime(1970-01-01), 0s, guid(00000000-0000-0000-0000-000000000001), dynamic("text"),
		false, 0, 0, real(+inf), "a,b;c", datetime(2100-12-31 23:59:59.9999999), 10675199d, guid(ffffffff-ffff-ffff-ffff-ffffffffffff), dynamic(42)
	]`,
	`.set U <| datatable(s:string, l:long, y:dynamic) [
		"alpha", 1, dynamic(["alpha", "x"]),
		"Beta gamma", 2, dynamic({"a": 2}),
		"", long(null), dynamic([]),
		"delta", 4, dynamic({})
	]`,
}

// fuzzFeatureSeeds aim at what the scripts' seeds reach least: the fuzz tables, the newer
// operators and functions, and edges (extreme numbers, recursion, deep JSON, huge counts).
var fuzzFeatureSeeds = []string{
	"T | mv-expand y | mv-expand y to typeof(long) limit 2",
	"T | mv-expand with_itemindex=i y, b2 = y.b | project i, y, b2",
	"T | mv-expand y limit 9223372036854775807",
	"T | mv-apply e = y to typeof(long) on (summarize s = sum(e))",
	"T | mv-apply y on (top 1 by tostring(y) | extend z = y)",
	"T | parse s with a:string \" \" b:long",
	"T | parse kind=regex s with \"(a\" x:string",
	"T | parse-where kind=relaxed s with * \",\" x:string \";\" z",
	"T | where s matches regex \"((\"",
	"T | where s matches regex \"a{100000}\"",
	"T | project-keep s, l | project-rename k = s | project-reorder l, k",
	"T | getschema | as X | sample 3",
	"T | sample -1",
	"T | sample 9223372036854775807",
	"T | take -1",
	"T | top 9223372036854775807 by l",
	"T | serialize | extend r = row_number(), p = prev(l, 100000000000), n = next(s, -1), q = row_number(-9223372036854775808)",
	"T | extend p = prev(l)",
	"print r = row_number()",
	"T | render timechart with (title = 'x', ymin = 1)",
	"T | lookup U on s",
	"T | lookup kind=leftouter (U | project s, l2 = l) on $left.s == $right.s",
	"print toscalar(T | summarize make_bag(y))",
	"print toscalar(print toscalar(print toscalar(print 1)))",
	"let m = materialize(T); m | join kind=inner m on l | count",
	"let m = materialize(T | mv-expand y); m | union m | summarize make_bag(y)",
	"T | summarize make_bag(y), make_bag_if(y, b), make_set(y), make_list(y) by s",
	"T | summarize percentiles(l, 50, 101, -1, 0)",
	"T | summarize percentiles_array(r, dynamic([50, 90])), percentile(t, 50), percentile(d, 50)",
	"T | extend z = y.a, w = y['b'][1], v = y.c.d, u = y[100000000000], x = y[-9223372036854775808]",
	"T | where l between (1 .. -1) or d between (datetime(2024-01-01) .. 1d) or r !between (0 .. 1)",
	"T | where s has_any (dynamic([])) or s has_all (\"alpha\", 1) or s has_any (U | project s)",
	"T | where s in (U | project s) and l !in (U | project l) and y in (dynamic([1]))",
	"T | where s in (U) ",
	"T | extend z = y + 1, w = y * y, v = y > 1, u = y == 'text', q = -y",
	"range x from 1 to 9223372036854775807 step 4611686018427387904",
	"range x from 9223372036854775800 to 9223372036854775807 step 5",
	"range x from -9223372036854775808 to 9223372036854775807 step 1 | take 3",
	"range x from 1 to 100000000000 step 1 | summarize make_list(x)",
	"range x from 1 to 100000000 step 1 | extend y = strcat(x, 'abcdefghijklmnopqrstuvwxyz') | summarize make_set(y)",
	"range x from 1 to 100000000 step 1 | sort by x desc",
	"range x from 1 to 100000 step 1 | join kind=inner (range x from 1 to 100000 step 1 | extend k = 1) on $left.x == $right.k",
	"range x from datetime(0001-01-01) to datetime(9999-12-31) step 1tick | count",
	"print a = 1/0, b = -9223372036854775808 / -1, c = -9223372036854775808 % -1, d = bin(1, 0), e = 1 % 0",
	"print a = toint(1e300), b = tolong(real(nan)), c = datetime_add('year', 100000000, now()), d = make_datetime(99999, 1, 1)",
	"print f = format_datetime(now(), 'yyyyyyyyyyyyyyyyy'), g = format_timespan(1d, 'ddddddddddddddd')",
	"print substring('abc', -9223372036854775808, 9223372036854775807), substring('abc', 9223372036854775807)",
	"print strcat_array(pack_array(1, 2), strcat('a', 'b')), array_slice(dynamic([1,2,3]), -9223372036854775808, 9223372036854775807)",
	"print parse_json(strcat('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[', '1'))",
	"print todynamic('{\"a\":') , parse_json('1e999'), parse_json('-0'), parse_json('[1,2,]')",
	"print zip(dynamic([1,2]), dynamic([3]), dynamic(null)), set_union(dynamic([1]), dynamic(null)), bag_merge(dynamic({}), dynamic([1]))",
	"print extract_all('(a)(b)', 'ababab'), extract('(', 1, 'a'), replace_regex('aaa', '', 'b'), countof('aaa', '', 'regex')",
	"print split('a,b', ''), split('abc', 'b', 100000000000), indexof('abc', 'b', -100000000000, -1, 9223372036854775807)",
	"print hash('a', 0), hash('a', -1), round(1.5, 100000), round(1.5, -100000), pow(2, 1e10), log(-1)",
	"let f = (x:long) { f(x) }; print f(1)",
	"let A = view() { A }; A",
	"let a = b; let b = a; print a",
	"let f = (t:(*)) { t | invoke f() }; T | invoke f()",
	"set notruncation; range x from 1 to 100000000 step 1",
	"set truncationmaxrecords = -1; T",
	".set-or-append async T <| range x from 1 to 100000000000 step 1",
	".set-or-append T <| range l from 1 to 100000000000 step 1 | project l",
	".set T2 <| T | mv-expand y | summarize make_bag(y) by s",
	".drop table T | where false",
}

func FuzzRun(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	for _, seed := range fuzzFeatureSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 {
			return // long inputs test the parser (FuzzDeepInputs), not the engine
		}
		runFuzzInput(t, text)
	})
}

// runFuzzInput runs text on a fresh engine and fails on anything but a result or a placed error.
func runFuzzInput(t *testing.T, text string) {
	eng := New(Options{
		Clock:          ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:            &ops.SequentialIDs{},
		User:           "fuzz",
		MaxMemory:      fuzzBudget,
		MaxResultRows:  1000,
		MaxResultBytes: 1 << 20,
		MaxIngestBytes: 16 << 20,
		CancelWait:     -1,
		RandomSeed:     1,
	})
	s := eng.NewSession()
	for _, setup := range fuzzTables {
		if _, err := s.Execute(context.Background(), Request{}, &kusto.Source{Name: "setup.kql", Text: setup}); err != nil {
			t.Fatalf("setting up the fuzz tables: %v", err)
		}
	}
	src := &kusto.Source{Name: "fuzz.kql", Text: text}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), fuzzTimeout)
		defer cancel()
		b, err := Check(src)
		if err == nil {
			_, err = s.Run(ctx, Request{}, b)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			checkFuzzError(t, src, err)
		}
	case <-time.After(fuzzTimeout + fuzzGrace):
		t.Fatalf("%q still runs %v after its timeout of %v:\n%s", text, fuzzGrace, fuzzTimeout, allStacks())
	}
	ctx, cancel := context.WithTimeout(context.Background(), fuzzGrace)
	defer cancel()
	if err := eng.Close(ctx); err != nil {
		t.Fatalf("%q: closing the engine: %v\n%s", text, err, allStacks())
	}
}

// checkFuzzError checks the promise every error keeps: a *kusto.Error, not internal, placed in
// the input, with a one-line message that renders with a caret.
func checkFuzzError(t *testing.T, src *kusto.Source, err error) {
	t.Helper()
	var kerr *kusto.Error
	if !errors.As(err, &kerr) {
		t.Fatalf("%q: error %T is not a *kusto.Error: %v", src.Text, err, err)
	}
	if kerr.Kind == kusto.KindInternal || strings.Contains(kerr.Msg, "internal error") {
		t.Fatalf("%q: internal error: %s", src.Text, kerr.Msg)
	}
	if kerr.Src != src || kerr.Offset < 0 || kerr.Offset > len(src.Text) {
		t.Fatalf("%q: error not placed in the input (offset %d of %d): %v", src.Text, kerr.Offset, len(src.Text), kerr)
	}
	if kerr.Msg == "" {
		t.Fatalf("%q: error with an empty message", src.Text)
	}
	if detail := kerr.Detail(); !strings.HasSuffix(detail, "^") {
		t.Fatalf("%q: error does not render with a caret: %q", src.Text, detail)
	}
}

// fuzzSeeds returns every block of the script goldens' inputs, without their directives, and the
// parser's FuzzParse corpus.
func fuzzSeeds(tb testing.TB) []string {
	var seeds []string
	scripts, err := filepath.Glob("../testdata/scripts/*.kql")
	if err != nil || len(scripts) == 0 {
		tb.Fatalf("no scripts to seed from: %v", err)
	}
	for _, name := range scripts {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range parser.SplitBlocks(string(data)) {
			var lines []string
			for _, l := range strings.Split(c.Text, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(l), "#") {
					lines = append(lines, l)
				}
			}
			if text := strings.TrimSpace(strings.Join(lines, "\n")); text != "" {
				seeds = append(seeds, text)
			}
		}
	}
	corpus, err := filepath.Glob("../parser/testdata/fuzz/FuzzParse/*")
	if err != nil || len(corpus) == 0 {
		tb.Fatalf("no FuzzParse corpus to seed from: %v", err)
	}
	for _, name := range corpus {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		text, ok := corpusString(string(data))
		if !ok {
			tb.Fatalf("%s: not a corpus file of one string", name)
		}
		seeds = append(seeds, text)
	}
	return seeds
}

// corpusString reads the one string of a Go fuzz corpus file ("go test fuzz v1\nstring(…)").
func corpusString(data string) (string, bool) {
	_, body, ok := strings.Cut(data, "\n")
	body = strings.TrimSpace(body)
	if !ok || !strings.HasPrefix(body, "string(") || !strings.HasSuffix(body, ")") {
		return "", false
	}
	lit := body[len("string(") : len(body)-1]
	s, err := strconv.Unquote(lit)
	return s, err == nil
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
