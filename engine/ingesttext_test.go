package engine

import (
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
)

// TestJSONFastPathAgreesWithDecoder: the members the fast path finds, converted by appendJSON,
// are what decoding the whole record and formats.FromJSON give, for every type, and the same
// lines are skipped as malformed.
func TestJSONFastPathAgreesWithDecoder(t *testing.T) {
	lines := []string{
		`{"v": 1}`, `{"v": -0}`, `{"v": -0.0}`, `{"v": 0}`, `{"v": 12345678901234567890}`, `{"v": 123456789012345678}`,
		`{"v": 1234567890123456789}`, `{"v": 1.0}`, `{"v": 1.5}`, `{"v": -2.25e3}`, `{"v": 1e400}`, `{"v": 1e-400}`,
		`{"v": 2147483648}`, `{"v": -2147483648}`, `{"v": true}`, `{"v": false}`, `{"v": null}`, `{"w": 1}`,
		`{"v": "true"}`, `{"v": " 42 "}`, `{"v": "1.5"}`, `{"v": ""}`, `{"v": "2024-01-31T12:30:00Z"}`,
		`{"v": "2024-01-31T12:30:00+01:00"}`, `{"v": "a\"b\\c\u00e9\n"}`, `{"v": "caf` + "\xe9" + `"}`, `{"v": "café"}`,
		`{"v": {"a": [1, "x", {"b": null}]}}`, `{"v": [1, 2]}`, `{"v": []}`, `{"v": {}}`, `{"v": 1, "v": "later"}`,
		`{"\u0076": 7}`, `{ "x" : { "v" : 1 } , "v" : [ "}" , "]" ] }`, `[{"v": 1}]`, `5`, `"v"`, `null`,
		"\t{\"v\": 3}\r", `{"v": 1} {"v": 2}`, `{"v": 1`, `{"v": 01}`, `{"v": tru}`, `{v: 1}`, "\u00a0{\"v\": 1}",
		`{"v": "00000000-0000-0000-0000-000000000001"}`, `{"v": "1.02:03:04"}`, `{"v": "1d"}`,
		`{"v": 1.}`, `{"v": -}`, `{"v": 1e}`, `{"v": 1e+}`, `{"v": 1E-2}`, `{"v": -01}`, `{"v": .5}`, "{\"v\": \"a\tb\"}",
		`{"v":1,}`, `{,"v":1}`, `{"v" 1}`, `{"v":1}}`, `{"v":1} x`, `{"v":truex}`, `{"v":nul}`, `{"v":1 2}`, `{}`, `{ }`,
		`{"a":1,"v":"x","b":{"c":[1,2,{"v":3}]},"v":4}`, `{"v":"\u00e9"}`, `{"v\"":1,"v":2}`, "{\"v\":1}\u00a0",
	}
	// Mutations of a record: a byte dropped, doubled or replaced.
	base := `{"v": -12.5e1, "s": "x", "t": [true, null], "n": 0}`
	for i := range len(base) {
		lines = append(lines, base[:i]+base[i+1:], base[:i]+base[i:i+1]+base[i:])
		for _, c := range []byte("{}[],:\"0-.e tnx\\") {
			lines = append(lines, base[:i]+string(c)+base[i+1:])
		}
	}
	// One reader over all the lines, whose records vary in their members' order, finds what a
	// reader of each line alone finds.
	all := formats.NewMemberReader(strings.NewReader(strings.Join(lines, "\n")), formats.Options{}, []string{"v", "s"})
	for _, line := range lines {
		if _, err := formats.DecodeJSON([]byte(line)); err != nil {
			continue
		}
		one := formats.NewMemberReader(strings.NewReader(line), formats.Options{}, []string{"v", "s"})
		_, want, _ := one.NextMembers()
		want = append([][]byte(nil), want...)
		_, got, err := all.NextMembers()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read with the others %q, %v; alone %q", line, got, err, want)
		}
	}
	types := []kusto.Type{kusto.TypeBool, kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeString,
		kusto.TypeDateTime, kusto.TypeTimespan, kusto.TypeGUID, kusto.TypeDynamic}
	for _, line := range lines {
		want, werr := formats.DecodeJSON([]byte(line))
		mr := formats.NewMemberReader(strings.NewReader(line), formats.Options{}, []string{"v"})
		_, vals, err := mr.NextMembers()
		if werr != nil {
			if n, _ := mr.Skipped(); !errors.Is(err, io.EOF) || n != 1 {
				t.Errorf("%s: the decoder fails (%v), the fast path gives %q, %v with %d skipped", line, werr, vals, err, n)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		obj, _ := want.(map[string]any)
		for _, typ := range types {
			w, _ := formats.FromJSON(typ, obj["v"])
			sink := newTextSink(typ, 1)
			appendJSON(sink, typ, vals[0])
			got := sink.take(1).Value(0)
			if typ == kusto.TypeString && w == nil {
				w = ""
			}
			if f, ok := w.(float64); ok {
				if g, ok := got.(float64); ok && math.Float64bits(f) == math.Float64bits(g) {
					continue
				}
			} else if reflect.DeepEqual(got, w) {
				continue
			}
			t.Errorf("%s as %s: fast path %#v, decoder %#v", line, typ, got, w)
		}
	}
}
