package kustohttp

import (
	"fmt"
	"strings"
	"testing"
)

// TestBadInput: each bad request is a clear Kusto error object with Kusto's status, and the server
// answers the next request (transcript checks that after every one).
func TestBadInput(t *testing.T) {
	srv, _ := newTestServer(t)
	transcript(t, srv, "bad-input", []exchange{
		{name: "malformed JSON", path: "/v2/rest/query", body: `{"db":"NetDefaultDB","csl":"print 1"`},
		{name: "JSON that is not an object", path: "/v2/rest/query", body: `["print 1"]`},
		{name: "text after the object", path: "/v1/rest/mgmt", body: `{"csl":".show version"} {}`},
		{name: "no csl", path: "/v2/rest/query", body: `{"db":"NetDefaultDB"}`},
		{name: "a form body, as curl -d sends it", path: "/v1/rest/mgmt", contentType: "application/x-www-form-urlencoded", body: `csl=.show version`},
		{name: "a charset other than UTF-8", path: "/v1/rest/mgmt", contentType: "application/json; charset=latin1", body: `{"csl":".show version"}`},
		{name: "properties neither an object nor a string", path: "/v2/rest/query", body: `{"csl":"print 1","properties":42}`},
		{name: "properties a string that is not JSON", path: "/v2/rest/query", body: `{"csl":"print 1","properties":"{Options"}`},
		{name: "an option Kustard uses, of the wrong type", path: "/v2/rest/query", body: `{"csl":"print 1","properties":{"Options":{"servertimeout":"soon"}}}`},
		{name: "an unknown error placement", path: "/v2/rest/query", body: `{"csl":"print 1","properties":{"Options":{"results_error_reporting_placement":"nowhere"}}}`},
		{name: "options Kustard does not use are ignored, as Kusto does", path: "/v2/rest/query", body: `{"csl":"print 1","properties":{"Options":{"queryconsistency":"strongconsistency","x-unknown":[1]}}}`},
		{name: "an unknown database", path: "/v2/rest/query", body: `{"db":"Nope","csl":"print 1"}`},
		{name: "a syntax error, with its position", path: "/v2/rest/query", body: `{"csl":"range x from 1 to 3 step 1\n| where x >"}`},
		{name: "a semantic error", path: "/v1/rest/query", body: `{"csl":"print y"}`},
		{name: "a management command on the v2 query endpoint", path: "/v2/rest/query", body: `{"csl":".show version"}`},
		{name: "a management command other than .show on the v1 query endpoint", path: "/v1/rest/query", body: `{"csl":".create table T (a:long)"}`},
		{name: "an unknown endpoint", method: "GET", path: "/v1/rest/nothing"},
		{name: "a wrong method", method: "GET", path: "/v1/rest/mgmt"},
		{name: "a query past truncationmaxrecords, before any row was sent, in_data", path: "/v2/rest/query",
			body: `{"csl":"range x from 1 to 5 step 1","properties":{"Options":{"truncationmaxrecords":2}}}`},
	})
}

// TestErrorPlacement: an error once the result has started is reported where
// results_error_reporting_placement says, and always in DataSetCompletion, which marks a cancel.
func TestErrorPlacement(t *testing.T) {
	srv, eng := newTestServer(t)
	gatedStream(eng) // never opened: the servertimeout below ends the query after its first batch
	var xs []exchange
	for _, fragment := range []bool{false, true} {
		for _, place := range []string{"in_data", "end_of_table", "end_of_dataset"} {
			xs = append(xs, exchange{
				name: fmt.Sprintf("%s, fragmented %v", place, fragment), path: "/v2/rest/query",
				body: fmt.Sprintf(`{"csl":"range x from 1 to 2048 step 1 | where x < 3 or x > 1024","properties":{"Options":{"truncationmaxrecords":1000,"results_v2_newlines_between_frames":true,"results_v2_fragment_primary_tables":%v,"results_error_reporting_placement":%q}}}`, fragment, place),
			})
		}
	}
	xs = append(xs,
		exchange{name: "v1: a row of Exceptions, and Exceptions after the tables", path: "/v1/rest/query",
			body: `{"csl":"range x from 1 to 2048 step 1 | where x < 3 or x > 1024","properties":{"Options":{"truncationmaxrecords":1000}}}`},
		// Before any row has been sent there is nothing partial to report: the failure is the
		// answer, with its status, which every SDK surfaces (the Node SDK reads no in-band
		// Exceptions).
		exchange{name: "v1 query: a failure before any row is the error, with its status", path: "/v1/rest/query",
			body: `{"csl":"range x from 1 to 2048 step 1","properties":{"Options":{"truncationmaxrecords":1000}}}`},
		exchange{name: "v1 mgmt: a failure before any row is the error, with its status", path: "/v1/rest/mgmt",
			body: `{"csl":"range x from 1 to 2048 step 1","properties":{"Options":{"truncationmaxrecords":1000}}}`},
		exchange{name: "servertimeout passed: Cancelled", path: "/v2/rest/query",
			body: `{"csl":"Gated","properties":{"Options":{"servertimeout":"00:00:01"}}}`},
	)
	transcript(t, srv, "error-placement", xs)
	resp, body := do(t, srv, xs[len(xs)-1])
	if resp.StatusCode != 200 || !strings.Contains(body, `"Cancelled":true`) || !strings.Contains(body, "servertimeout") {
		t.Errorf("a query past its servertimeout: %s %s", resp.Status, body)
	}
}
