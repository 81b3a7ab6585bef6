package kustohttp

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
)

// gatedStream registers a table Gated whose first batch comes at once and whose second waits for
// the gate (or the query's end), so that a test holds a plan open without sleeping.
func gatedStream(eng *engine.Engine) chan struct{} {
	gate := make(chan struct{})
	schema := engine.Schema{{Name: "x", Type: kusto.TypeLong}}
	eng.RegisterStream("Gated", engine.Stream{Schema: schema, Open: func(ctx context.Context) engine.Operator {
		n := 0
		return engine.NewOperator(func() (*engine.Batch, error) {
			n++
			switch n {
			case 1:
			case 2:
				select {
				case <-gate:
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
			default:
				return nil, nil
			}
			return &engine.Batch{Cols: []engine.Column{engine.NewVector(kusto.TypeLong, []int64{int64(n)}, nil)}, Len: 1}, nil
		})
	}})
	return gate
}

// TestStreaming: the frames before the rows and the first batch's fragment reach the client
// while the plan is still held open; the rest follows when it goes on.
func TestStreaming(t *testing.T) {
	srv, eng := newTestServer(t)
	gate := gatedStream(eng)
	body := `{"csl":"Gated","properties":{"Options":{"results_v2_fragment_primary_tables":true,"results_v2_newlines_between_frames":true}}}`
	resp, err := srv.Client().Post(srv.URL+"/v2/rest/query", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	var before []string
	for len(before) < 4 { // DataSetHeader, QueryProperties, TableHeader, the first fragment
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("after %q: %v", before, err)
		}
		before = append(before, line)
	}
	if !strings.Contains(before[3], `"FrameType":"TableFragment"`) || !strings.Contains(before[3], `"Rows":[[1]]`) {
		t.Fatalf("the first batch's fragment did not arrive while the plan was held open: %q", before)
	}
	close(gate)
	rest, _ := r.ReadString(0)
	if !strings.Contains(rest, `"Rows":[[2]]`) || !strings.Contains(rest, `"RowCount":2`) || !strings.HasSuffix(rest, "\n]\n") {
		t.Errorf("after the gate opened: %q", rest)
	}
}

// TestClientGoneCancelsQuery: a client that goes away cancels its query, through the request's
// context, and the server goes on answering.
func TestClientGoneCancelsQuery(t *testing.T) {
	srv, eng := newTestServer(t)
	gatedStream(eng) // never opened: only the client's leaving ends the query
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v2/rest/query", strings.NewReader(`{"csl":"Gated","properties":{"Options":{"results_v2_newlines_between_frames":true}}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	srv.Config.SetKeepAlivesEnabled(false)
	srv.CloseClientConnections()
	if check, _ := do(t, srv, exchange{path: "/v1/rest/mgmt", body: `{"csl":".show version"}`}); check.StatusCode != http.StatusOK {
		t.Errorf("after a client went away: %s", check.Status)
	}
}

// TestAsyncOutlivesRequest: an async ingest started through the server goes on after the request
// that started it has been answered, and commits when its plan ends.
func TestAsyncOutlivesRequest(t *testing.T) {
	srv, eng := newTestServer(t)
	gate := gatedStream(eng)
	resp, body := do(t, srv, exchange{path: "/v1/rest/mgmt", body: `{"csl":".set-or-append async T <| Gated"}`,
		headers: map[string]string{"x-ms-client-request-id": "Test;async", "x-ms-app": "kustard-tests", "x-ms-user": "alice"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `"OperationId"`) {
		t.Fatalf("%s %s", resp.Status, body)
	}
	if got := resp.Header.Get("x-ms-client-request-id"); got != "Test;async" {
		t.Errorf("x-ms-client-request-id echoed as %q", got)
	}
	active := eng.Ops().Active()
	if len(active) != 1 {
		t.Fatalf("%d operations running after the request was answered, want 1", len(active))
	}
	close(gate)
	if _, err := eng.Ops().Wait(context.Background(), active[0].ID); err != nil {
		t.Fatal(err)
	}
	_, body = do(t, srv, exchange{path: "/v1/rest/mgmt", body: `{"csl":".show operations | where Operation == 'TableSetOrAppend' | summarize arg_max(LastUpdatedOn, *) | project State, User"}`})
	if !strings.Contains(body, `["Completed","alice"]`) {
		t.Errorf("the operation's record: %s", body)
	}
	_, body = do(t, srv, exchange{path: "/v2/rest/query", body: `{"csl":"T | count"}`})
	if !strings.Contains(body, `"Rows":[[2]]`) {
		t.Errorf("T after the ingest: %s", body)
	}
}

// TestManyClients: many requests at once, each answered whole and right (run under -race).
func TestManyClients(t *testing.T) {
	srv, _ := newTestServer(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := exchange{path: "/v2/rest/query", body: `{"csl":"range x from 1 to 3000 step 1 | summarize sum(x)"}`}
			if i%2 == 1 {
				x = exchange{path: "/v1/rest/mgmt", body: `{"csl":".show cluster"}`}
			}
			resp, body := do(t, srv, x)
			if resp.StatusCode != 200 || !(strings.Contains(body, "[[4501500]]") || strings.Contains(body, `"Kustard"`)) {
				t.Errorf("request %d: %s %s", i, resp.Status, body)
			}
		}()
	}
	wg.Wait()
}

// TestParameters: properties' Parameters bind declare query_parameters: strings read as literals
// of the declared type, numbers as longs.
func TestParameters(t *testing.T) {
	srv, _ := newTestServer(t)
	transcript(t, srv, "parameters", []exchange{
		{name: "typed parameters", path: "/v2/rest/query",
			body: `{"csl":"declare query_parameters(n:long, s:string, d:datetime, ts:timespan, g:guid, dyn:dynamic, r:real = 1.5);\nprint n, s, d, ts, g, dyn, r","properties":{"Parameters":{"n":5,"s":"it's","d":"2024-05-01T10:00:00Z","ts":"1h","g":"74be27de-1e4e-49d9-b579-fe0b331d3642","dyn":{"a":[1]}}}}`},
		{name: "a value that is not of its type", path: "/v2/rest/query",
			body: `{"csl":"declare query_parameters(d:datetime);\nprint d","properties":{"Parameters":{"d":"yesterday"}}}`},
		{name: "query_now", path: "/v2/rest/query",
			body: `{"csl":"print now()","properties":{"Options":{"query_now":"2030-01-01T00:00:00Z"}}}`},
	})
}
