package kustohttp

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kustard/kustard/engine"
	goldenfile "github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/internal/servertest"
)

// newTestServer serves a deterministic engine: a step clock from 2024-01-01 and sequential ids,
// so that every response body is the same on every run.
func newTestServer(t *testing.T) (*httptest.Server, *engine.Engine) {
	t.Helper()
	return newTestServerWith(t, Options{})
}

// newTestServerWith is newTestServer with options; the machine name and process id are fixed.
func newTestServerWith(t *testing.T, opts Options) (*httptest.Server, *engine.Engine) {
	t.Helper()
	eng := servertest.NewEngine(t, servertest.Options())
	opts.MachineName, opts.ProcessID = "kustard-test", 1
	srv := httptest.NewServer(New(eng, opts))
	t.Cleanup(srv.Close) // before the engine closes: cleanups run last first
	return srv, eng
}

// exchange is one request of a golden test and what it should show of the response.
type exchange struct {
	name, method, path, contentType, body string
	headers                               map[string]string
}

// do sends a request and returns the response with its body read.
func do(t *testing.T, srv *httptest.Server, x exchange) (*http.Response, string) {
	t.Helper()
	method := x.method
	if method == "" {
		method = http.MethodPost
	}
	var header []string
	ct := x.contentType
	if ct == "" && x.body != "" {
		ct = "application/json; charset=utf-8"
	}
	if ct != "-" && ct != "" {
		header = append(header, "Content-Type", ct)
	}
	for k, v := range x.headers {
		header = append(header, k, v)
	}
	return servertest.Send(t, srv, method, x.path, x.body, header...)
}

// transcript runs exchanges and compares what they showed with testdata/server/NAME.golden. After
// each, the server must still answer .show version, so that no bad request harms it.
func transcript(t *testing.T, srv *httptest.Server, name string, xs []exchange) {
	t.Helper()
	var out bytes.Buffer
	for _, x := range xs {
		resp, body := do(t, srv, x)
		method := x.method
		if method == "" {
			method = http.MethodPost
		}
		fmt.Fprintf(&out, "### %s\n%s %s\n", x.name, method, x.path)
		for _, k := range []string{"Content-Type", "x-ms-client-request-id"} {
			if v := x.headers[k]; v != "" {
				fmt.Fprintf(&out, "%s: %s\n", k, v)
			}
		}
		if x.body != "" {
			fmt.Fprintf(&out, "%s\n", x.body)
		}
		fmt.Fprintf(&out, "----\n%d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
		for _, k := range []string{"Content-Type", "X-Ms-Client-Request-Id", "X-Ms-Activity-Id", "Allow"} {
			if v := resp.Header.Get(k); v != "" {
				fmt.Fprintf(&out, "%s: %s\n", k, v)
			}
		}
		fmt.Fprintf(&out, "%s\n\n", strings.TrimSuffix(body, "\n"))
		if check, _ := do(t, srv, exchange{path: "/v1/rest/mgmt", body: `{"csl":".show version"}`}); check.StatusCode != http.StatusOK {
			t.Errorf("%s: the server does not answer .show version afterwards: %s", x.name, check.Status)
		}
	}
	golden(t, name, out.String())
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("..", "..", "testdata", "server", name+".golden"), []byte(got))
}

// TestEndpoints: each endpoint's response, v1 and v2, in Kusto's shapes.
func TestEndpoints(t *testing.T) {
	srv, _ := newTestServer(t)
	transcript(t, srv, "endpoints", []exchange{
		{name: "a management command, v1", path: "/v1/rest/mgmt", body: `{"db":"NetDefaultDB","csl":".show version"}`,
			headers: map[string]string{"x-ms-client-request-id": "KGC.execute;11111111-1111-1111-1111-111111111111"}},
		{name: "a command with operators after it", path: "/v1/rest/mgmt", body: `{"db":"NetDefaultDB","csl":".show databases | project DatabaseName"}`},
		{name: "a query on the management endpoint is run, with the query's tables", path: "/v1/rest/mgmt", body: `{"db":"NetDefaultDB","csl":"print x = 1"}`},
		{name: "a query, v1", path: "/v1/rest/query", body: `{"db":"NetDefaultDB","csl":"range x from 1 to 3 step 1"}`},
		{name: "a .show command on the v1 query endpoint", path: "/v1/rest/query", body: `{"db":"NetDefaultDB","csl":".show version"}`},
		{name: "the GET form of the v1 query endpoint", method: "GET", path: "/v1/rest/query?db=NetDefaultDB&csl=print%20s%20%3D%20%22GET%22"},
		{name: "a query, v2, one DataTable", path: "/v2/rest/query", body: `{"db":"NetDefaultDB","csl":"range x from 1 to 3 step 1"}`},
		{name: "v2 fragmented, with newlines between frames (what the Go SDK asks for)", path: "/v2/rest/query",
			body: `{"db":"NetDefaultDB","csl":"range x from 1 to 3 step 1","properties":{"Options":{"results_v2_fragment_primary_tables":true,"results_v2_newlines_between_frames":true,"results_error_reporting_placement":"end_of_table"}}}`},
		{name: "properties as a JSON string holding the object (what Python's SDK sends)", path: "/v2/rest/query",
			body: `{"db":"NetDefaultDB","csl":"print n = 1","properties":"{\"Options\":{\"results_v2_newlines_between_frames\":true}}"}`},
		{name: "the GET form of the v2 query endpoint", method: "GET", path: "/v2/rest/query?db=NetDefaultDB&csl=print%201"},
		{name: "render's chart in the QueryProperties table, v2", path: "/v2/rest/query",
			body: `{"db":"NetDefaultDB","csl":"range x from 1 to 3 step 1 | extend y = x * 2 | sort by x asc | render timechart with (title = 'Doubling', xcolumn = x, ycolumns = y)"}`},
		{name: "render's chart in @ExtendedProperties, v1", path: "/v1/rest/query",
			body: `{"db":"NetDefaultDB","csl":"print x = 1 | render table"}`},
		{name: "auth metadata: 404 with an empty body", method: "GET", path: "/v1/rest/auth/metadata"},
		{name: "ping, the health check", method: "GET", path: "/v1/rest/ping"},
	})
}

// TestTypes: every Kusto type as Kusto writes it in JSON, v1 and v2, nulls included.
func TestTypes(t *testing.T) {
	srv, _ := newTestServer(t)
	q := `print b = true, i = int(-7), l = 9223372036854775807, r = 0.5, big = 1e300, tiny = 1e-9, nan = real(nan), inf = real(+inf), ninf = real(-inf), ` +
		`s = "a \"q\" <b> & é\n", d = datetime(2024-01-02 03:04:05.1234567), d0 = datetime(2024-01-02), t = 1d + 2h + 3m + 4s + 5ms, nt = -90m, ` +
		`g = guid(74be27de-1e4e-49d9-b579-fe0b331d3642), dyn = dynamic({"a":[1,2.5,"x",null,true]}), ds = dynamic("str"), ` +
		`nb = bool(null), ni = int(null), nl = long(null), nr = real(null), nd = datetime(null), nts = timespan(null), ng = guid(null), ndyn = dynamic(null)`
	body := fmt.Sprintf(`{"db":"NetDefaultDB","csl":%q}`, q)
	transcript(t, srv, "types", []exchange{
		{name: "v1", path: "/v1/rest/query", body: body},
		{name: "v2", path: "/v2/rest/query", body: body},
	})
}
