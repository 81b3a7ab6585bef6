package compat

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-kusto-go/azkustodata"
)

// streamFormat is a streamFormat for (*azkustodata.Conn).StreamIngest, which takes the ingest
// module's DataFormat; that module is not served by the Go module proxy.
type streamFormat string

func (f streamFormat) CamelCase() string                                  { return string(f) }
func (f streamFormat) KnownOrDefault() azkustodata.DataFormatForStreaming { return f }

// post sends a streaming ingest request shaped as api/rest/streaming-ingest.md shows it and
// returns the status and body.
func post(t *testing.T, s *server, path string, body []byte, gzipped bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-ms-client-request-id", "MyApp.Ingest;5c0656b9-37c9-4e3a-a671-5f83e6843fce")
	req.Header.Set("x-ms-app", "MyApp")
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestStreamingIngestHTTP: the docs' requests, plain and gzipped, against a real kustard serve;
// the policy and the mapping set up by the commands every streaming setup runs; the rows read
// back through the Go SDK; bad data refused permanently.
func TestStreamingIngestHTTP(t *testing.T) {
	s := startServer(t, serverConfig{})
	kc := connect(t, s)
	mgmt(t, kc, ".create table Logs (Timestamp:datetime, Level:string, EventText:string)")
	mgmt(t, kc, `.create table Logs ingestion json mapping "mylogmapping" '[{"column":"Timestamp","path":"$.Timestamp"},{"column":"Level","path":"$.Level"},{"column":"EventText","path":"$.EventText"}]'`)

	docs := `{"Timestamp":"2018-11-14 11:34","Level":"Info","EventText":"Nothing Happened"}
{"Timestamp":"2018-11-14 11:35","Level":"Error","EventText":"Something Happened"}
`
	status, body := post(t, s, "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Json&mappingName=mylogmapping", []byte(docs), false)
	if status != http.StatusBadRequest || !strings.Contains(body, "BadRequest_StreamingIngestionPolicyNotEnabled") {
		t.Fatalf("before the policy is enabled: %d %s", status, body)
	}
	mgmt(t, kc, ".alter table Logs policy streamingingestion enable")

	status, body = post(t, s, "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Json&mappingName=mylogmapping", []byte(docs), false)
	if status != http.StatusOK {
		t.Fatalf("plain JSON: %d %s", status, body)
	}
	var res struct {
		Tables []struct {
			Rows [][]any
		}
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Tables) != 1 || len(res.Tables[0].Rows) != 1 || res.Tables[0].Rows[0][0] != float64(2) {
		t.Errorf("the response is not a v1 table with the consumed records: %v %s", err, body)
	}
	status, body = post(t, s, "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Json&mappingName=mylogmapping", gz(t, docs), true)
	if status != http.StatusOK {
		t.Fatalf("gzipped JSON: %d %s", status, body)
	}
	status, body = post(t, s, "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv", []byte("2024-01-01,Warning,csv row\n"), false)
	if status != http.StatusOK {
		t.Fatalf("CSV: %d %s", status, body)
	}
	status, body = post(t, s, "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=MultiJson&mappingName=mylogmapping", []byte(`[{"Level":`), false)
	if status != http.StatusBadRequest || !strings.Contains(body, `"@permanent":true`) {
		t.Errorf("bad data: %d %s", status, body)
	}
	status, body = post(t, s, "/v1/rest/ingest/NetDefaultDB/Logs?streamFormat=Csv&sourceKind=uri", []byte(`{"sourceUri":"https://a.blob.core.windows.net/c/x.csv"}`), false)
	if status != http.StatusBadRequest || !strings.Contains(body, "sourceKind=uri is not supported") {
		t.Errorf("sourceKind=uri: %d %s", status, body)
	}

	rows := mgmt(t, kc, `Logs | summarize n = count() by Level | order by Level asc | project s = strcat(Level, "=", n)`)
	var got []string
	for _, r := range rows {
		got = append(got, str(t, r, "s"))
	}
	if want := "Error=2 Info=2 Warning=1"; strings.Join(got, " ") != want {
		t.Errorf("the rows read back: %v, want %s", got, want)
	}
}

// TestGoSDKStreamIngest: azkustodata's own (*Conn).StreamIngest, which gzips its body and reads
// the response's status, ingests into a table whose database has the policy, and reports the
// server's refusal of a table whose own policy disables it.
func TestGoSDKStreamIngest(t *testing.T) {
	s := startServer(t, serverConfig{})
	kc := connect(t, s)
	mgmt(t, kc, ".create table Events (Id:long, Name:string)")
	mgmt(t, kc, ".create table Closed (Id:long)")
	mgmt(t, kc, ".alter database NetDefaultDB policy streamingingestion enable")
	mgmt(t, kc, ".alter table Closed policy streamingingestion disable")

	conn, err := azkustodata.NewConn(s.URL, kc.Auth(), s.Client, kc.ClientDetails())
	if err != nil {
		t.Fatal(err)
	}
	var payload bytes.Buffer
	zw := gzip.NewWriter(&payload) // StreamIngest sends Content-Encoding: gzip; the body must be gzip
	zw.Write([]byte("1,one\n2,two\n3,\"three, with a comma\"\n"))
	zw.Close()
	if err := conn.StreamIngest(context.Background(), db, "Events", &payload, streamFormat("csv"), "", "", false); err != nil {
		t.Fatalf("StreamIngest: %v", err)
	}
	rows := mgmt(t, kc, "Events | order by Id asc | project Name")
	var names []string
	for _, r := range rows {
		names = append(names, str(t, r, "Name"))
	}
	if want := "one|two|three, with a comma"; strings.Join(names, "|") != want {
		t.Errorf("Events after StreamIngest: %q, want %q", strings.Join(names, "|"), want)
	}

	payload.Reset()
	zw = gzip.NewWriter(&payload)
	zw.Write([]byte("1\n"))
	zw.Close()
	err = conn.StreamIngest(context.Background(), db, "Closed", &payload, streamFormat("csv"), "", "", false)
	if err == nil || !strings.Contains(err.Error(), "BadRequest_StreamingIngestionPolicyNotEnabled") {
		t.Errorf("StreamIngest into a table whose policy is disabled: %v", err)
	}
}
