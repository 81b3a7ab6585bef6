package formats

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// records reads every record of text as strings: fields joined by | (JSON values printed).
func records(t *testing.T, format, text string) ([]string, error) {
	t.Helper()
	f, err := Lookup(format)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(f, strings.NewReader(text), Options{MaxRecordBytes: 1 << 10})
	var out []string
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if rec.Fields != nil && f.Kind != JSONLines && f.Kind != MultiJSON {
			out = append(out, fmt.Sprintf("%d:%q", rec.Line, rec.Fields))
		} else {
			out = append(out, fmt.Sprintf("%d:%s", rec.Line, kusto.FormatDynamic(rec.Value)))
		}
	}
}

func TestDelimited(t *testing.T) {
	cases := []struct{ format, in, want, err string }{
		{"csv", "a,b\n1,2\n", `1:["a" "b"] 2:["1" "2"]`, ""},
		{"csv", "\xef\xbb\xbfa,b\r\n1,2", `1:["a" "b"] 2:["1" "2"]`, ""},
		{"csv", `"Coats with ""quotes""",5`, `1:["Coats with \"quotes\"" "5"]`, ""},
		{"csv", "\"two\nlines\",1\r\nx,2\n", `1:["two\nlines" "1"] 3:["x" "2"]`, ""},
		{"csv", "\"a,b\",\"\"\n\nc,d\n", `1:["a,b" ""] 3:["c" "d"]`, ""},
		{"csv", "a,\"b\"\r\n", `1:["a" "b"]`, ""},
		{"csv", `x"y,z`, `1:["x\"y" "z"]`, ""},
		{"csv", "a,b\nc\n", `1:["a" "b"]`, "line 2: the record has 1 fields, but the first record has 2 (Stream_WrongNumberOfFields)"},
		{"csv", "a,\"b\nc", ``, "line 1: a quoted field that starts on line 1 has no closing quote (Stream_ClosingQuoteMissing)"},
		{"csv", `"a"b,c`, ``, `line 1, column 4: unexpected 'b' after the closing quote of a field (a quote inside a quoted field is written "") (BadRequest_InvalidBlob)`},
		{"csv", strings.Repeat("x", 2000), ``, "line 1: a record is larger than 1024 bytes (Stream_InputStreamTooLarge)"},
		{"tsv", "a\tb,c\n", `1:["a" "b,c"]`, ""},
		{"psv", "a|b\n", `1:["a" "b"]`, ""},
		{"scsv", "a;b\n", `1:["a" "b"]`, ""},
		{"sohsv", "a\x01b\n", `1:["a" "b"]`, ""},
		{"txt", "one, two\n\"three\"\n", `1:["one, two"] 2:["\"three\""]`, ""},
		{"raw", "all\nof it\n", `1:["all\nof it\n"]`, ""},
		{"json", "{\"a\":1}\nnot json\n\n{\"a\":[2.5,\"x\"]}\n", `1:{"a":1} 4:{"a":[2.5,"x"]}`, ""},
		{"multijson", "{\"a\":1}\n{\n\"a\":2}", `0:{"a":1} 0:{"a":2}`, ""},
		{"multijson", "[{\"a\":1},\n{\"a\":2}]", `0:{"a":1} 0:{"a":2}`, ""},
		{"multijson", "{\"a\":1} {\"a\":", `0:{"a":1}`, "byte 7: malformed JSON in record 2: the stream ends inside a JSON record (BadRequest_InvalidBlob)"},
	}
	for _, c := range cases {
		got, err := records(t, c.format, c.in)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if strings.Join(got, " ") != c.want || errText != c.err {
			t.Errorf("%s %q:\n got %s, %q\nwant %s, %q", c.format, c.in, strings.Join(got, " "), errText, c.want, c.err)
		}
	}
}

func TestJSONLinesSkipped(t *testing.T) {
	f, _ := Lookup("json")
	r := NewReader(f, strings.NewReader("{\"a\":1}\n{\"a\":\n[1]\n{} {}\n"), Options{})
	n := 0
	for {
		_, err := r.Next()
		if err != nil {
			break
		}
		n++
	}
	skipped, first := r.Skipped()
	if n != 2 || skipped != 2 || first == nil || first.Line != 2 {
		t.Fatalf("got %d records, %d skipped, first %v; want 2, 2, at line 2", n, skipped, first)
	}
}

func TestFromText(t *testing.T) {
	cases := []struct {
		typ  kusto.Type
		in   string
		want any
		ok   bool
	}{
		{kusto.TypeString, "", "", true},
		{kusto.TypeLong, "", nil, true},
		{kusto.TypeLong, " 42 ", int64(42), true},
		{kusto.TypeLong, "1.5", nil, false},
		{kusto.TypeInt, "3000000000", nil, false},
		{kusto.TypeReal, "2.5e3", 2500.0, true},
		{kusto.TypeBool, "TRUE", true, true},
		{kusto.TypeBool, "0", false, true},
		{kusto.TypeBool, "yes", nil, false},
		{kusto.TypeDateTime, "2015-01-01", kusto.DateTime(635556672000000000), true},
		{kusto.TypeTimespan, "01:00:00", kusto.Timespan(36000000000), true},
		{kusto.TypeDynamic, `{"a":1}`, map[string]any{"a": int64(1)}, true},
		{kusto.TypeDynamic, `plain`, "plain", true},
	}
	for _, c := range cases {
		got, ok := FromText(c.typ, c.in)
		if fmt.Sprint(got) != fmt.Sprint(c.want) || ok != c.ok {
			t.Errorf("FromText(%s, %q) = %v, %v; want %v, %v", c.typ, c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestParseMapping(t *testing.T) {
	// create-ingestion-mapping-command.md's example, and the legacy flat form it shows.
	ms, err := ParseMapping("Csv", `[{ "column" : "rownumber", "DataType":"int", "Properties":{"Ordinal":"0"}},
		{ "column" : "rowguid", "DataType":"string", "Properties":{"Ordinal":"1"}}]`)
	if err != nil {
		t.Fatal(err)
	}
	if got := MappingJSON(ms); got != `[{"Column":"rownumber","DataType":"int","Properties":{"Ordinal":"0"}},{"Column":"rowguid","DataType":"string","Properties":{"Ordinal":"1"}}]` {
		t.Errorf("got %s", got)
	}
	legacy, err := ParseMapping("Csv", `[{"Name":"rownumber","DataType":"int","CsvDataType":null,"Ordinal":0,"ConstValue":null}]`)
	if err != nil || legacy[0].Ordinal != 0 || legacy[0].Column != "rownumber" {
		t.Errorf("legacy: %v %+v", err, legacy)
	}
	bad := map[string]string{
		`[{"Column":"a","Properties":{"Ordinal":"0","ConstValue":"x"}}]`: `column mapping "a": Ordinal and ConstValue are mutually exclusive`,
		`[{"Column":"a","Properties":{"Path":"$.a"}}]`:                   `column mapping "a": Path is a property of Json mappings; a Csv mapping takes Ordinal or ConstValue`,
		`{"Column":"a"}`: `the mapping is not a JSON array of column mappings: json: cannot unmarshal object into Go value of type []map[string]interface {}`,
		`[{"Column":"a","Properties":{"Ordinal":"0","Transform":"GetPathElement(3)"}}]`: `column mapping "a": unknown transform "GetPathElement(3)"; Kustard applies SourceLocation, SourceLineNumber, DateTimeFromUnixSeconds, DateTimeFromUnixMilliseconds, DateTimeFromUnixMicroseconds, DateTimeFromUnixNanoseconds`,
	}
	for in, want := range bad {
		if _, err := ParseMapping("Csv", in); err == nil || err.Error() != want {
			t.Errorf("ParseMapping(%s) = %v; want %s", in, err, want)
		}
	}
}

func TestPath(t *testing.T) {
	doc, _ := decodeJSON([]byte(`{"Obj":{"Property":1},"Property name with space":[10,20]}`))
	for path, want := range map[string]string{
		"$":                                 `{"Obj":{"Property":1},"Property name with space":[10,20]}`,
		"$.Obj.Property":                    "1",
		"$.['Property name with space'][1]": "20",
		`$["Obj"]`:                          `{"Property":1}`,
	} {
		steps, err := ParsePath(path)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := Select(doc, steps)
		if !ok || kusto.FormatDynamic(v) != want {
			t.Errorf("%s: got %v %v, want %s", path, kusto.FormatDynamic(v), ok, want)
		}
	}
	if _, ok := Select(doc, []PathStep{{Name: "missing"}}); ok {
		t.Error("a missing property was found")
	}
	if _, err := ParsePath("$.a['b"); err == nil {
		t.Error("an unclosed bracket parsed")
	}
}
