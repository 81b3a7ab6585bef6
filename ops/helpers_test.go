package ops_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kustard/kustard/ops"
)

// t0 is the first reading of every test's clock.
var t0 = time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)

// id is the n-th id SequentialIDs makes.
func id(n byte) uuid.UUID { return uuid.UUID{15: n} }

// newRegistry returns a registry with a step clock (one second a reading) and sequential ids.
// When the test ends it closes the registry and checks that no goroutine it started is left.
func newRegistry(t *testing.T, opts ops.Options) (*ops.Registry, *ops.StepClock) {
	t.Helper()
	before := runtime.NumGoroutine()
	clock := ops.NewStepClock(t0, time.Second)
	opts.Clock = clock
	opts.IDs = &ops.SequentialIDs{}
	reg := ops.New(opts)
	t.Cleanup(func() {
		closeAndCheck(t, reg, before)
	})
	return reg, clock
}

// closeAndCheck closes reg, bounded, and checks that the goroutine count is back to before.
func closeAndCheck(t testing.TB, reg *ops.Registry, before int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := reg.Close(ctx, "test over"); err != nil {
		t.Errorf("Close: %v", err)
	}
	checkGoroutines(t, before)
}

// checkGoroutines fails if more than want goroutines are still running after a bounded wait.
// Goroutines that have finished their work may take a moment to exit, so it yields to them until a
// deadline; it waits for no particular goroutine, so nothing depends on the timing.
func checkGoroutines(t testing.TB, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Errorf("%d goroutines still running, want at most %d:\n%s", n, want, buf)
			return
		}
		runtime.Gosched()
	}
}

// gate holds an operation's work open until the test opens it.
type gate struct {
	started chan struct{} // closed by the work when it begins
	open    chan struct{} // closed by the test to let the work finish
	cause   chan error    // context.Cause as the work saw it when ctx was done
	once    sync.Once
}

// newGate returns a shut gate, opened at the latest when the test ends (before the registry closes).
func newGate(t *testing.T) *gate {
	g := &gate{started: make(chan struct{}), open: make(chan struct{}), cause: make(chan error, 1)}
	t.Cleanup(g.release)
	return g
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// held is work that runs until the gate opens, returning details, or until ctx is done,
// returning its cause.
func (g *gate) held(details any) ops.Work {
	return func(ctx context.Context) (any, error) {
		close(g.started)
		select {
		case <-g.open:
			return details, nil
		case <-ctx.Done():
			g.cause <- context.Cause(ctx)
			return nil, context.Cause(ctx)
		}
	}
}

// deaf is work that ignores ctx until the gate opens, then ends as end says.
func (g *gate) deaf(end func(ctx context.Context) (any, error)) ops.Work {
	return func(ctx context.Context) (any, error) {
		close(g.started)
		<-g.open
		return end(ctx)
	}
}

// endWithCause ends work as one that noticed its cancellation does.
func endWithCause(ctx context.Context) (any, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return "done", nil
}

// never is work that must not run.
func never(t *testing.T) ops.Work {
	return func(context.Context) (any, error) {
		t.Error("work ran that should never have run")
		return nil, nil
	}
}

// latest returns an operation as it is now, failing if there is none.
func latest(t *testing.T, reg *ops.Registry, id uuid.UUID) ops.Snapshot {
	t.Helper()
	recs := reg.Latest([]uuid.UUID{id})
	if len(recs) != 1 {
		t.Fatalf("Latest(%s) = %d snapshots, want 1", id, len(recs))
	}
	return recs[0]
}

// wait waits for an operation to stop and returns its final snapshot.
func wait(t *testing.T, reg *ops.Registry, id uuid.UUID) ops.Snapshot {
	t.Helper()
	rec, err := reg.Wait(context.Background(), id)
	if err != nil {
		t.Fatalf("Wait(%s): %v", id, err)
	}
	return rec
}

// cancel cancels an operation, waiting for it to stop (up to long), and fails on an error.
func cancel(t *testing.T, reg *ops.Registry, id uuid.UUID, reason string) ops.CancelOutcome {
	t.Helper()
	ctx, stop := context.WithTimeout(context.Background(), long)
	defer stop()
	out, err := reg.Cancel(ctx, id, ops.CancelRequest{Reason: reason, Origin: "test"})
	if err != nil {
		t.Fatalf("Cancel(%s): %v", id, err)
	}
	return out
}

// canceled reports whether an outcome is a cancel that stopped the operation.
func canceled(out ops.CancelOutcome) bool {
	return out.Accepted && out.Stopped && out.State == ops.Canceled
}

// kustoNames are the states as Kusto's `.show operations` names them, so that the log golden
// reads as the Kusto front door shows it (the engine keeps the real view; this mirrors it).
var kustoNames = map[ops.State]string{
	ops.Scheduled: "Scheduled", ops.Running: "InProgress", ops.Succeeded: "Completed", ops.Failed: "Failed",
	ops.PartiallySucceeded: "PartiallySucceeded", ops.Canceled: "Canceled", ops.Abandoned: "Abandoned",
	ops.Skipped: "Skipped", ops.BadInput: "BadInput", ops.Throttled: "Throttled",
}

// status is the text of how an operation ended: a cancel's reason, the error's text, or "".
func status(s ops.Snapshot) string {
	var c *ops.CanceledError
	switch {
	case s.State == ops.Canceled && errors.As(s.Err, &c):
		return c.Error()
	case s.State == ops.Canceled:
		return (&ops.CanceledError{}).Error()
	case s.Err == nil:
		return ""
	}
	var st interface{ Status() string }
	if errors.As(s.Err, &st) {
		return st.Status()
	}
	return s.Err.Error()
}

// render writes snapshots as lines of text, one a snapshot, in the order given.
func render(recs []ops.Snapshot) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s %s %s %s %v %s %q\n", r.ID, r.Kind.Name,
			r.Created.Format(time.TimeOnly), r.Updated.Format(time.TimeOnly), r.Duration(), kustoNames[r.State], status(r))
	}
	return b.String()
}

// states renders snapshots briefly, as "<last byte of id>:<state>" words, for comparing orders.
func states(recs []ops.Snapshot) string {
	var words []string
	for _, r := range recs {
		words = append(words, fmt.Sprintf("%d:%s", r.ID[15], r.State))
	}
	return strings.Join(words, " ")
}

// isDone reports whether an operation has stopped, without waiting.
func isDone(op *ops.Operation) bool {
	select {
	case <-op.Done():
		return true
	default:
		return false
	}
}

var (
	cancellable = ops.Spec{Kind: ops.Kind{Name: "TableSetOrAppend", Cancellable: true}, Scope: "db", User: "u", Principal: "p"}
	plain       = ops.Spec{Kind: ops.Kind{Name: "TableCreate"}, Scope: "db", User: "u", Principal: "p"}
)
