package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestQueryParameters: declare query_parameters takes the request's values, as text of the
// declared type or as values of it, and their defaults otherwise.
func TestQueryParameters(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	str := func(s string) kusto.Literal { return kusto.Literal{Type: kusto.TypeString, Value: s} }
	long := func(n int64) kusto.Literal { return kusto.Literal{Type: kusto.TypeLong, Value: n} }
	birthday, _ := kusto.ParseDateTime("1970-05-11")
	const query = "declare query_parameters(n:long = 90, d:datetime = datetime(2000-01-01), s:string = 'x'); print n, d, s"
	tests := []struct {
		params  map[string]kusto.Literal
		n       int64
		d       kusto.DateTime
		s       string
		wantErr string
	}{
		{params: nil, n: 90, d: mustDate(t, "2000-01-01"), s: "x"},
		{params: map[string]kusto.Literal{"n": long(5), "d": str("datetime(1970-05-11)"), "s": str("it's")}, n: 5, d: birthday, s: "it's"},
		{params: map[string]kusto.Literal{"n": str("7"), "d": str("1970-05-11")}, n: 7, d: birthday, s: "x"},
		// A string literal, as Microsoft's SDKs send a string (kql.QuoteValue), is its value.
		{params: map[string]kusto.Literal{"s": str(`"it\'s \"q\""`)}, n: 90, d: mustDate(t, "2000-01-01"), s: `it's "q"`},
		{params: map[string]kusto.Literal{"s": str(` @'a\b' `)}, n: 90, d: mustDate(t, "2000-01-01"), s: `a\b`},
		{params: map[string]kusto.Literal{"s": str(`"a" + "b"`)}, n: 90, d: mustDate(t, "2000-01-01"), s: `"a" + "b"`},
		{params: map[string]kusto.Literal{"n": {Type: kusto.TypeInt, Value: int32(3)}}, n: 3, d: mustDate(t, "2000-01-01"), s: "x"},
		{params: map[string]kusto.Literal{"n": str("seven")}, wantErr: `query parameter "n": "seven" is not a long`},
		{params: map[string]kusto.Literal{"n": str("datetime(2000-01-01)")}, wantErr: `is a datetime, not a long`},
		{params: map[string]kusto.Literal{"d": long(1)}, wantErr: `query parameter "d": the value must be a datetime, not long`},
		{params: map[string]kusto.Literal{"unused": long(1)}, n: 90, d: mustDate(t, "2000-01-01"), s: "x"},
	}
	for _, tc := range tests {
		res, err := executeRequest(t, sess, Request{Parameters: tc.params}, query)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: %v, want %q", tc.params, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.params, err)
			continue
		}
		if n, d, s := res.Value(0, 0), res.Value(0, 1), res.Value(0, 2); n != tc.n || d != tc.d || s != tc.s {
			t.Errorf("%v: got %v, %v, %v; want %v, %v, %v", tc.params, n, d, s, tc.n, tc.d, tc.s)
		}
	}
	_, err := executeRequest(t, sess, Request{}, "declare query_parameters(birthday:datetime); print birthday")
	if err == nil || !strings.Contains(err.Error(), `query parameter "birthday" has no value`) {
		t.Errorf("a parameter without a value or a default: %v", err)
	}
}

func mustDate(t *testing.T, s string) kusto.DateTime {
	t.Helper()
	d, err := kusto.ParseDateTime(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTruncationOptions: the request's truncation options and the query's set statements meet
// as the docs say: the lower bound wins, and notruncation yields to any bound given.
func TestTruncationOptions(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	tests := []struct {
		req   Request
		query string
		fails string
	}{
		{Request{MaxResultRows: 10}, "set truncationmaxrecords = 20; range x from 1 to 11 step 1", "record count limit 10 "},
		{Request{MaxResultRows: 20}, "set truncationmaxrecords = 10; range x from 1 to 11 step 1", "record count limit 10 "},
		{Request{MaxResultRows: 20}, "set truncationmaxrecords = 10; range x from 1 to 10 step 1", ""},
		{Request{NoTruncation: true}, "range x from 1 to 500001 step 1", ""},
		{Request{NoTruncation: true, MaxResultRows: 5}, "range x from 1 to 6 step 1", "record count limit 5 "},
		{Request{MaxResultBytes: 100}, "range x from 1 to 100 step 1", "data size limit 100 "},
		{Request{MaxResultBytes: 100}, "set notruncation; range x from 1 to 100 step 1", "data size limit 100 "},
		{Request{}, "set truncationmaxrecords = 600000; range x from 1 to 500001 step 1", ""},
		{Request{}, "range x from 1 to 500001 step 1", "record count limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE)"},
	}
	for _, tc := range tests {
		_, err := executeRequest(t, sess, tc.req, tc.query)
		switch {
		case tc.fails == "" && err != nil:
			t.Errorf("%+v %s: %v", tc.req, tc.query, err)
		case tc.fails != "" && (err == nil || !strings.Contains(err.Error(), tc.fails)):
			t.Errorf("%+v %s: %v, want %q", tc.req, tc.query, err, tc.fails)
		}
	}
}

// TestResultSizeLimit: Kusto's default 64 MB bound on a result, counted as memoryCost counts it.
func TestResultSizeLimit(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	// 300,000 strings of 300 bytes: 90 MB, under the record bound.
	q := `range x from 1 to 300000 step 1 | extend s = strcat(x, "` + strings.Repeat("a", 300) + `")`
	_, err := executeRequest(t, sess, Request{}, q)
	if err == nil || !strings.Contains(err.Error(), "data size limit 67108864 (E_QUERY_RESULT_SET_TOO_LARGE)") {
		t.Errorf("90 MB result: %v, want the 64 MB bound", err)
	}
	if _, err := executeRequest(t, sess, Request{}, "set notruncation; "+q+" | count"); err != nil {
		t.Error(err)
	}
}

// TestUserFunctionBounds: inlining is bounded in depth and in total, so that neither a long chain
// of functions nor one that doubles at each step exhausts the stack or the time.
func TestUserFunctionBounds(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	var chain strings.Builder
	chain.WriteString("let f0 = (x:long) { x };\n")
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&chain, "let f%d = (x:long) { f%d(x) + 1 };\n", i, i-1)
	}
	chain.WriteString("print f200(0)")
	_, err := executeRequest(t, sess, Request{}, chain.String())
	if err == nil || !strings.Contains(err.Error(), "nest more than 64 deep") {
		t.Errorf("a chain of 200 functions: %v", err)
	}
	var doubling strings.Builder
	doubling.WriteString("let g0 = (x:long) { x };\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "let g%d = (x:long) { g%d(x) + g%d(x) };\n", i, i-1, i-1)
	}
	doubling.WriteString("print g40(1)")
	_, err = executeRequest(t, sess, Request{}, doubling.String())
	if err == nil || !strings.Contains(err.Error(), "expands more than 10000 calls") {
		t.Errorf("40 doubling functions: %v", err)
	}
	res, err := executeRequest(t, sess, Request{}, "let g0 = (x:long) { x }; let g1 = (x:long) { g0(x) + g0(x) }; let g2 = (x:long) { g1(x) + g1(x) }; print g2(1)")
	if err != nil || res.Value(0, 0) != int64(4) {
		t.Errorf("g2(1) = %v, %v; want 4", res, err)
	}
}
