package kustohttp

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log destination that the server's goroutines and the test share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// withoutClock drops the record's time and the request's duration, the two fields a
// deterministic engine does not fix.
func withoutClock(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == "duration") {
		return slog.Attr{}
	}
	return a
}

// logExchanges are requests of every kind a record distinguishes: a command, a query, a syntax
// error, a failure mid-stream, a bad request, the health check, an unknown endpoint; one sends an
// Authorization header, which no record may show.
var logExchanges = []exchange{
	{path: "/v1/rest/mgmt", body: `{"db":"NetDefaultDB","csl":".show version"}`,
		headers: map[string]string{"x-ms-client-request-id": "KGC.execute;1", "x-ms-app": "tests", "Authorization": "Bearer secret-token"}},
	{path: "/v2/rest/query", body: `{"csl":"range x from 1 to 3 step 1\n| count","properties":{"Options":{"request_description":"nightly"}}}`},
	{path: "/v2/rest/query", body: `{"csl":"range x from 1 to"}`},
	{path: "/v2/rest/query", body: `{"csl":"range x from 1 to 2048 step 1","properties":{"Options":{"truncationmaxrecords":1000}}}`},
	{path: "/v1/rest/mgmt", body: `{"csl":`},
	{method: "GET", path: "/v1/rest/ping"},
	{method: "GET", path: "/nowhere"},
}

// TestLogText: one text record per request, in a golden file (without time and duration).
func TestLogText(t *testing.T) {
	var out syncBuffer
	logger := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: withoutClock}))
	srv, _ := newTestServerWith(t, Options{Logger: logger, LogText: true})
	for _, x := range logExchanges {
		do(t, srv, x)
	}
	got := out.String()
	if strings.Contains(got, "secret-token") {
		t.Errorf("a record shows the Authorization header:\n%s", got)
	}
	golden(t, "log-text", got)
}

// TestLogJSON: the JSON records parse, with the fields a log pipeline reads, and the request's
// text only when asked for.
func TestLogJSON(t *testing.T) {
	var out syncBuffer
	srv, _ := newTestServerWith(t, Options{Logger: slog.New(slog.NewJSONHandler(&out, nil))})
	for _, x := range logExchanges {
		do(t, srv, x)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(logExchanges) {
		t.Fatalf("%d records for %d requests:\n%s", len(lines), len(logExchanges), out.String())
	}
	type record struct {
		Level, Msg, RequestID, ActivityID, Endpoint, Kind, DB, Error string
		Status                                                       int
		Duration, Bytes                                              *int64
		Text                                                         *string
	}
	var recs []record
	for _, line := range lines {
		var raw map[string]any
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		var r record
		data, _ := json.Marshal(map[string]any{"Level": raw["level"], "Msg": raw["msg"], "RequestID": raw["request_id"],
			"ActivityID": raw["activity_id"], "Endpoint": raw["endpoint"], "Kind": raw["kind"], "DB": raw["db"],
			"Error": raw["error"], "Status": raw["status"], "Duration": raw["duration"], "Bytes": raw["bytes"], "Text": raw["text"]})
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if r.Msg != "request" || (r.ActivityID == "") != (r.Endpoint == "/v1/rest/ping") || r.Duration == nil || r.Bytes == nil || r.Text != nil {
			t.Errorf("record %s", line)
		}
		recs = append(recs, r)
	}
	want := []struct {
		level, kind, db, err string
		status               int
	}{
		{"INFO", ".show version", "NetDefaultDB", "", 200},
		{"INFO", "query", "NetDefaultDB", "", 200},
		{"WARN", "", "NetDefaultDB", "BadRequest_SyntaxError", 400},
		{"WARN", "query", "NetDefaultDB", "LimitsExceeded", 200},
		{"WARN", "", "", "General_BadRequest", 400},
		{"INFO", "ping", "", "", 200},
		{"WARN", "", "", "NotFound", 404},
	}
	for i, w := range want {
		r := recs[i]
		if r.Level != w.level || r.Kind != w.kind || r.DB != w.db || r.Error != w.err || r.Status != w.status {
			t.Errorf("record %d: %s", i, lines[i])
		}
	}
	if recs[0].RequestID != "KGC.execute;1" || *recs[0].Bytes == 0 {
		t.Errorf("the first record: %s", lines[0])
	}
}
