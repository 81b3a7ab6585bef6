package azuresql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	goldenfile "github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/internal/servertest"
	"github.com/kustard/kustard/ops"
)

// newEngine is a deterministic engine: a step clock from 2024-01-01 and sequential ids, one
// ingest at a time, so that a second one waits Scheduled.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	opts := servertest.Options()
	opts.Capacity = 1
	return servertest.NewEngine(t, opts)
}

func startAsync(t *testing.T, eng *engine.Engine, db, text string) uuid.UUID {
	t.Helper()
	res, err := servertest.Exec(eng, db, text)
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
	code, hdr, body := tr.send(method, path, header...)
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

func (tr *transcript) send(method, path string, header ...string) (int, http.Header, string) {
	tr.t.Helper()
	resp, body := servertest.Send(tr.t, tr.srv, method, path, "", header...)
	if body != "" && resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		tr.t.Errorf("%s %s: Content-Type %q", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, resp.Header, body
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("..", "..", "testdata", "azuresql", name+".golden"), []byte(got))
}
