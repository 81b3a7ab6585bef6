package kustohttp

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// streamExchange is one streaming ingest request of a golden test: its body is sent gzipped
// (Content-Encoding: gzip) when gzipped says so, and shown as the text it compresses.
type streamExchange struct {
	name, path, body string
	gzipped          bool
	headers          map[string]string
}

func gzipText(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// streamTranscript sends the exchanges, then the query, and compares what they showed with
// testdata/server/NAME.golden.
func streamTranscript(t *testing.T, srv *httptest.Server, name string, xs []streamExchange, after string) {
	t.Helper()
	var out bytes.Buffer
	for _, x := range xs {
		body := []byte(x.body)
		if x.gzipped {
			body = gzipText(t, x.body)
		}
		req, err := http.NewRequest(http.MethodPost, srv.URL+x.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if x.gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		for k, v := range x.headers {
			req.Header.Set(k, v)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "### %s\nPOST %s\n", x.name, x.path)
		if x.gzipped {
			fmt.Fprintf(&out, "Content-Encoding: gzip\n")
		}
		for k, v := range x.headers {
			fmt.Fprintf(&out, "%s: %s\n", k, v)
		}
		shown := x.body
		if len(shown) > 200 {
			shown = fmt.Sprintf("(%d bytes)", len(shown))
		}
		fmt.Fprintf(&out, "%s\n----\n%d %s\n%s\n\n", strings.TrimSuffix(shown, "\n"), resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSuffix(string(data), "\n"))
	}
	if after != "" {
		resp, body := do(t, srv, exchange{path: "/v1/rest/query", body: fmt.Sprintf(`{"db":"NetDefaultDB","csl":%q}`, after)})
		fmt.Fprintf(&out, "### afterwards\n%s\n----\n%d %s\n%s\n", after, resp.StatusCode, http.StatusText(resp.StatusCode), strings.TrimSuffix(body, "\n"))
	}
	golden(t, name, out.String())
}

func runMgmt(t *testing.T, srv *httptest.Server, csl string) {
	t.Helper()
	resp, body := do(t, srv, exchange{path: "/v1/rest/mgmt", body: fmt.Sprintf(`{"db":"NetDefaultDB","csl":%q}`, csl)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %s", csl, resp.Status, body)
	}
}

// TestStreamingIngest: POST /v1/rest/ingest/{db}/{table} as streaming-ingest.md shows it, plain
// and gzipped, with a mapping, and its refusals: each permanent, with Kusto's code.
func TestStreamingIngest(t *testing.T) {
	srv, _ := newTestServerWith(t, Options{MaxStreamingBytes: 1 << 10})
	runMgmt(t, srv, ".create table Logs (Timestamp:datetime, Level:string, EventText:string)")
	runMgmt(t, srv, ".create table Closed (a:long)")
	runMgmt(t, srv, `.create table Logs ingestion json mapping "mylogmapping" '[{"column":"Timestamp","path":"$.Timestamp"},{"column":"Level","path":"$.Level"},{"column":"EventText","path":"$.EventText"}]'`)
	runMgmt(t, srv, ".alter table Logs policy streamingingestion enable")
	// The docs' example body (streaming-ingest.md, "Examples").
	docsJSON := `{"Timestamp":"2018-11-14 11:34","Level":"Info","EventText":"Nothing Happened"}
{"Timestamp":"2018-11-14 11:35","Level":"Error","EventText":"Something Happened"}
`
	streamTranscript(t, srv, "streaming-ingest", []streamExchange{
		{name: "CSV, plain", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv",
			body:    "2024-01-01T00:00:00Z,Info,plain one\n2024-01-01T00:00:01Z,Warning,\"plain, two\"\n",
			headers: map[string]string{"x-ms-client-request-id": "MyApp.Ingest;5c0656b9-37c9-4e3a-a671-5f83e6843fce"}},
		{name: "JSON with the mapping by name, gzipped (the docs' example)", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Json&mappingName=mylogmapping",
			body: docsJSON, gzipped: true},
		{name: "MultiJSON with the mapping", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=MultiJson&mappingName=mylogmapping",
			body: `[{"Timestamp":"2018-11-14 11:36","Level":"Info","EventText":"multi"}]`},
		{name: "bad data: a record that is not JSON", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=MultiJson&mappingName=mylogmapping",
			body: `[{"Timestamp":"2018-11-14 11:36",`},
		{name: "Content-Encoding gzip on an empty body", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv",
			body: "", headers: map[string]string{"Content-Encoding": "gzip"}},
		{name: "JSON without a mapping name", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Json", body: docsJSON},
		{name: "a mapping the table does not have", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Json&mappingName=nope", body: docsJSON},
		{name: "the policy is not enabled", path: "/v1/rest/ingest/NetDefaultDB/Closed?streamFormat=Csv", body: "1\n"},
		{name: "an unknown table", path: "/v1/rest/ingest/NetDefaultDB/Nope?streamFormat=Csv", body: "1\n"},
		{name: "an unknown database", path: "/v1/rest/ingest/NoSuchDB/Logs?streamFormat=Csv", body: "1\n"},
		{name: "sourceKind=uri", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv&sourceKind=uri", body: `{"sourceUri":"https://x.blob.core.windows.net/c/b.csv"}`},
		{name: "a format Kustard does not stream", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Avro&mappingName=mylogmapping", body: "x"},
		{name: "no format", path: "/v1/rest/ingest/NetDefaultDB/Logs", body: "x"},
		{name: "too big: past MaxStreamingBytes (here 1 KiB), nothing is committed", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv",
			body: strings.Repeat("2024-01-01T00:00:00Z,Info,too big\n", 100)},
		{name: "a Content-Encoding other than gzip", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv", body: "1\n",
			headers: map[string]string{"Content-Encoding": "br"}},
		{name: "Content-Encoding gzip on a plain body", path: "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv", body: "1,2,3\n",
			headers: map[string]string{"Content-Encoding": "gzip"}},
	}, "Logs | summarize n = count() by Level | order by Level asc")
}

// TestStreamingIngestTruncatedGzip: a gzip body cut short fails as bad data, permanently, and
// commits nothing.
func TestStreamingIngestTruncatedGzip(t *testing.T) {
	srv, _ := newTestServer(t)
	runMgmt(t, srv, ".create table T (a:long, b:string)")
	runMgmt(t, srv, ".alter database NetDefaultDB policy streamingingestion enable")
	full := gzipText(t, strings.Repeat("1,one\n", 10000))
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/rest/ingest/NetDefaultDB/T?streamFormat=csv", bytes.NewReader(full[:len(full)/2]))
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(data), `"@permanent":true`) || !strings.Contains(string(data), "truncated or corrupt") {
		t.Errorf("a truncated gzip body: %s\n%s", resp.Status, data)
	}
	_, body := do(t, srv, exchange{path: "/v1/rest/query", body: `{"db":"NetDefaultDB","csl":"T | count"}`})
	if !strings.Contains(body, `"Rows":[[0]]`) {
		t.Errorf("rows were committed from a failed ingest: %s", body)
	}
	// The database's policy lets the table's decide: disabled on the table, refused.
	runMgmt(t, srv, ".alter table T policy streamingingestion disable")
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/v1/rest/ingest/NetDefaultDB/T?streamFormat=csv", strings.NewReader("1,x\n"))
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(data), "BadRequest_StreamingIngestionPolicyNotEnabled") {
		t.Errorf("a table whose own policy is disabled took a streaming ingest: %s %s", resp.Status, data)
	}
}

// TestStreamingIngestMethod: the streaming endpoint takes POST only, and says so.
func TestStreamingIngestMethod(t *testing.T) {
	srv, _ := newTestServer(t)
	resp, body := do(t, srv, exchange{method: http.MethodGet, path: "/v1/rest/ingest/NetDefaultDB/T?streamFormat=csv"})
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" || !strings.Contains(body, "use POST") {
		t.Errorf("GET on the streaming endpoint: %s Allow=%q %s", resp.Status, resp.Header.Get("Allow"), body)
	}
}
