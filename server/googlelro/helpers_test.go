package googlelro

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// newEngine is a deterministic engine: a step clock from 2024-01-01 and sequential ids.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	ids, opIDs := ops.DeterministicIDs()
	eng := engine.New(engine.Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:   ids, OperationIDs: opIDs, User: "kustard", MaxMemory: 1 << 30,
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

// run runs Kusto text and returns its result.
func run(t *testing.T, eng *engine.Engine, text string) *engine.Result {
	t.Helper()
	res, err := eng.NewSession().Execute(context.Background(), engine.Request{}, &kusto.Source{Text: text})
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return res
}

// startAsync starts an async ingest and returns its operation id.
func startAsync(t *testing.T, eng *engine.Engine, text string) uuid.UUID {
	t.Helper()
	return run(t, eng, text).Value(0, 0).(uuid.UUID)
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

// kustoState is the State column of `.show operations ID`.
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

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "googlelro", name+".golden")
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
		t.Fatalf("%v (run go test ./server/googlelro -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./server/googlelro -update rewrites it; review the diff):\n%s", path, got)
	}
}
