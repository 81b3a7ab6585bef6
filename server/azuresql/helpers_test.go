package azuresql

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// newEngine is a deterministic engine: a step clock from 2024-01-01 and sequential ids, one
// ingest at a time, so that a second one waits Scheduled.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	ids, opIDs := ops.DeterministicIDs()
	eng := engine.New(engine.Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:   ids, OperationIDs: opIDs, User: "kustard", MaxMemory: 1 << 30, Capacity: 1,
	})
	t.Cleanup(func() { eng.Close(context.Background()) })
	return eng
}

// slowStream registers a stream that yields nothing until release is called, whatever its
// context says, so that an ingest from it stays Running, with a cancel request pending, until
// the test lets it go; then it stops with its context's cause if it was canceled.
func slowStream(t *testing.T, eng *engine.Engine, name string) (release func()) {
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

// exec runs Kusto text in a database and returns its result or error.
func exec(eng *engine.Engine, db, text string) (*engine.Result, error) {
	s := eng.NewSession()
	s.Database = db
	return s.Execute(context.Background(), engine.Request{}, &kusto.Source{Text: text})
}

func run(t *testing.T, eng *engine.Engine, text string) *engine.Result {
	t.Helper()
	res, err := exec(eng, engine.DefaultDatabase, text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return res
}

func startAsync(t *testing.T, eng *engine.Engine, db, text string) uuid.UUID {
	t.Helper()
	res, err := exec(eng, db, text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return res.Value(0, 0).(uuid.UUID)
}

func createDatabase(t *testing.T, eng *engine.Engine, name string) {
	t.Helper()
	id := eng.Ops().IDs().NewID()
	if _, err := eng.Catalog().Update(func(tx *engine.Txn) error { return tx.CreateDatabase(name, id) }); err != nil {
		t.Fatal(err)
	}
}

// waitDone waits for an operation to end (through the registry, not by sleeping).
func waitDone(t *testing.T, eng *engine.Engine, id uuid.UUID) ops.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := eng.Ops().Wait(ctx, id)
	if err != nil {
		t.Fatalf("waiting for %s: %v", id, err)
	}
	return s
}

// kustoState is the State and Status columns of `.show operations ID`.
func kustoState(t *testing.T, eng *engine.Engine, id uuid.UUID) (state, status string) {
	t.Helper()
	res := run(t, eng, ".show operations "+id.String())
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

// opsState is what a request could change of the operations: each one's state and cancel
// requests.
func opsState(eng *engine.Engine) []string {
	page, _, _ := eng.Ops().List(ops.Filter{}, 0, "")
	out := make([]string, len(page))
	for i, s := range page {
		out[i] = fmt.Sprintf("%s %s %d", s.ID, s.State, len(s.Cancels))
	}
	return out
}

// transcript sends requests and records each with its response, for a golden file.
type transcript struct {
	t   *testing.T
	srv *httptest.Server
	eng *engine.Engine
	out bytes.Buffer
}

// do sends a request and records it. A request answered with an error must change nothing of
// the operations.
func (tr *transcript) do(title, method, path string, header ...string) (int, string) {
	tr.t.Helper()
	before := opsState(tr.eng)
	code, hdr, body := tr.send(method, tr.srv.URL+path, header...)
	fmt.Fprintf(&tr.out, "### %s\n%s %s\n", title, method, path)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&tr.out, "%s: %s\n", header[i], header[i+1])
	}
	fmt.Fprintf(&tr.out, "----\n%d %s\n", code, http.StatusText(code))
	for _, h := range []string{"Allow", "Retry-After", "WWW-Authenticate"} {
		if v := hdr.Get(h); v != "" {
			fmt.Fprintf(&tr.out, "%s: %s\n", h, v)
		}
	}
	// The server's address changes from run to run; the golden file names it {server}.
	fmt.Fprintf(&tr.out, "%s\n\n", strings.TrimSuffix(strings.ReplaceAll(body, tr.srv.URL, "{server}"), "\n"))
	if code != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
			tr.t.Errorf("%s: not ARM's error body: %s", title, body)
		}
		if after := opsState(tr.eng); !reflect.DeepEqual(before, after) {
			tr.t.Errorf("%s: a refused request changed the operations:\n%v\n%v", title, before, after)
		}
	}
	return code, body
}

func (tr *transcript) send(method, url string, header ...string) (int, http.Header, string) {
	tr.t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		tr.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := tr.srv.Client().Do(req)
	if err != nil {
		tr.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 && resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		tr.t.Errorf("%s %s: Content-Type %q", method, url, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, resp.Header, string(data)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "azuresql", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./server/azuresql -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./server/azuresql -update rewrites it; review the diff):\n%s", path, got)
	}
}
