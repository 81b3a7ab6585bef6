// Package servertest is what the front doors' tests share: a deterministic engine, a stream that
// holds an ingest Running until the test lets it go, waiting on an operation, reading `.show
// operations`, sending an HTTP request. Only _test files import it.
package servertest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// Options are a deterministic engine's: a step clock from 2024-01-01 and sequential ids, so that
// every response is the same on every run.
func Options() engine.Options {
	ids, opIDs := ops.DeterministicIDs()
	return engine.Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:   ids, OperationIDs: opIDs, User: "kustard", MaxMemory: 1 << 30,
	}
}

// NewEngine is an engine on opts (from Options, perhaps changed), closed when the test ends.
func NewEngine(t testing.TB, opts engine.Options) *engine.Engine {
	t.Helper()
	eng := engine.New(opts)
	t.Cleanup(func() { eng.Close(context.Background()) })
	return eng
}

// SlowStream registers a stream that yields nothing until release is called, whatever its
// context says, so that an ingest from it stays Running, with a cancel request pending, until
// the test lets it go; then it stops with its context's cause if it was canceled.
func SlowStream(t testing.TB, eng *engine.Engine, name string) (release func()) {
	gate := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	eng.RegisterStream(name, engine.Stream{
		Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}},
		Open: func(ctx context.Context) engine.Operator {
			return engine.NewOperator(func() (*engine.Batch, error) {
				<-gate
				if ctx.Err() != nil {
					return nil, context.Cause(ctx)
				}
				return nil, nil
			})
		},
	})
	return release
}

// Exec runs Kusto text in a database and returns its result or error.
func Exec(eng *engine.Engine, db, text string) (*engine.Result, error) {
	s := eng.NewSession()
	s.Database = db
	return s.Execute(context.Background(), engine.Request{}, &kusto.Source{Text: text})
}

// Run runs Kusto text in the default database and fails the test if it fails.
func Run(t testing.TB, eng *engine.Engine, text string) *engine.Result {
	t.Helper()
	res, err := Exec(eng, engine.DefaultDatabase, text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return res
}

// WaitDone waits for an operation to end (through the registry, not by sleeping).
func WaitDone(t testing.TB, eng *engine.Engine, id uuid.UUID) ops.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := eng.Ops().Wait(ctx, id)
	if err != nil {
		t.Fatalf("waiting for %s: %v", id, err)
	}
	return s
}

// KustoState is the State and Status columns of `.show operations ID`.
func KustoState(t testing.TB, eng *engine.Engine, id uuid.UUID) (state, status string) {
	t.Helper()
	res := Run(t, eng, ".show operations "+id.String())
	if res.Rows != 1 {
		t.Fatalf(".show operations %s: %d rows", id, res.Rows)
	}
	for c, col := range res.Schema {
		switch col.Name {
		case "State":
			state = res.Value(0, c).(string)
		case "Status":
			status = res.Value(0, c).(string)
		}
	}
	return state, status
}

// Send sends a request with a body and header name, value pairs to the server and returns the
// response with its body read.
func Send(t testing.TB, srv *httptest.Server, method, path, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(data)
}
