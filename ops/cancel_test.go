package ops_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/ops"
)

// long is how long a Cancel waits when the operation is known to stop: a bound, never reached.
const long = 10 * time.Second

func TestCancelRunning(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	g := newGate(t)
	op, err := reg.Go(cancellable, g.held(nil))
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	out := cancel(t, reg, op.ID, "Command canceled by me")
	if !canceled(out) || out.ID != op.ID || out.Kind.Name != "TableSetOrAppend" || !out.Created.Equal(t0) {
		t.Errorf("Cancel = %+v, want the operation, stopped Canceled", out)
	}
	want := []ops.Cancellation{{At: t0.Add(time.Second), Reason: "Command canceled by me", Mode: ops.Graceful, Origin: "test"}}
	if !reflect.DeepEqual(out.Cancels, want) {
		t.Errorf("Cancels = %+v, want %+v", out.Cancels, want)
	}
	var c *ops.CanceledError
	if cause := <-g.cause; !errors.As(cause, &c) || c.Reason != "Command canceled by me" || c.Origin != "test" || c.Mode != ops.Graceful {
		t.Errorf("the work's context.Cause = %#v, want a *CanceledError with the request", cause)
	}
	rec := latest(t, reg, op.ID)
	if rec.State != ops.Canceled || status(rec) != "Command canceled by me" || !errors.As(rec.Err, &c) {
		t.Errorf("final snapshot %s %v, want Canceled with the request's *CanceledError", rec.State, rec.Err)
	}
	if got, want := states(reg.Log()), "1:Running 1:Canceled"; got != want {
		t.Errorf("Log = %s, want %s: a cancel request is not a state change", got, want)
	}
	if !isDone(op) {
		t.Error("Cancel returned before the operation was done")
	}
}

func TestCancelEmptyReason(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(cancellable, g.held(nil))
	<-g.started
	if out := cancel(t, reg, op.ID, ""); !canceled(out) {
		t.Errorf("Cancel = %+v, want Canceled", out)
	}
	var c *ops.CanceledError
	if cause := <-g.cause; !errors.As(cause, &c) || c.Reason != "" {
		t.Errorf("the work's context.Cause = %#v, want a *CanceledError without a reason", cause)
	}
	if rec := latest(t, reg, op.ID); rec.State != ops.Canceled || status(rec) != "Operation was canceled" {
		t.Errorf("final snapshot %s %q, want Canceled, \"Operation was canceled\"", rec.State, status(rec))
	}
}

func TestCancelFinished(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	for _, end := range []struct {
		err   error
		state ops.State
	}{{nil, ops.Succeeded}, {errors.New("boom"), ops.Failed}} {
		op, _, _ := reg.Run(context.Background(), cancellable, func(context.Context) (any, error) { return nil, end.err })
		out := cancel(t, reg, op.ID, "too late")
		if out.ID != op.ID || out.Accepted || !out.Stopped || out.State != end.state || len(out.Cancels) != 0 {
			t.Errorf("Cancel of a %s operation = %+v, want it left as it was", end.state, out)
		}
		if rec := latest(t, reg, op.ID); rec.State != end.state || len(rec.Cancels) != 0 {
			t.Errorf("Cancel changed a finished operation: %+v", rec)
		}
	}
}

// TestCancelWaitBoundedByContext: the work ignores its context until the test opens the gate,
// so a waiting Cancel returns when its ctx's deadline passes, the operation still running and
// the request standing.
func TestCancelWaitBoundedByContext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		end   func(context.Context) (any, error)
		state ops.State
	}{
		// Work that stops because of the cancel ends Canceled: the request stands after the wait.
		{"stops", endWithCause, ops.Canceled},
		// Work that completes anyway (it had committed before it looked) ends Succeeded.
		{"completes", func(context.Context) (any, error) { return "done", nil }, ops.Succeeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := newRegistry(t, ops.Options{})
			g := newGate(t)
			op, _ := reg.Go(cancellable, g.deaf(tc.end))
			<-g.started
			ctx, stop := context.WithTimeout(context.Background(), time.Millisecond)
			defer stop()
			out, err := reg.Cancel(ctx, op.ID, ops.CancelRequest{Reason: "reason", Origin: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if ctx.Err() == nil {
				t.Error("Cancel returned before its ctx was done, while the work ignored the cancel")
			}
			if !out.Accepted || out.Stopped || out.State != ops.Running || len(out.Cancels) != 1 {
				t.Errorf("Cancel = %+v, want accepted, not stopped, Running with the request", out)
			}
			g.release()
			rec := wait(t, reg, op.ID)
			if rec.State != tc.state {
				t.Errorf("the operation ended %s, want %s", rec.State, tc.state)
			}
			if c, ok := rec.CancelRequested(); !ok || c.Reason != "reason" {
				t.Errorf("the operation ended without its cancel request: %+v", rec.Cancels)
			}
			if again := cancel(t, reg, op.ID, "again"); again.Accepted || again.State != tc.state {
				t.Errorf("Cancel after the end = %+v", again)
			}
		})
	}
}

// TestCancelNoWait: with NoWait, Cancel records the request and returns while the work is still
// running; the operation ends as its work decides.
func TestCancelNoWait(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(cancellable, g.deaf(endWithCause))
	<-g.started
	out, err := reg.Cancel(context.Background(), op.ID, ops.CancelRequest{Reason: "later", Origin: "google", NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Accepted || out.Stopped || out.State != ops.Running {
		t.Errorf("Cancel with NoWait = %+v, want accepted and still Running", out)
	}
	if c, ok := out.CancelRequested(); !ok || c.Origin != "google" || c.Reason != "later" {
		t.Errorf("Cancels = %+v, want the request", out.Cancels)
	}
	if isDone(op) {
		t.Error("the operation stopped while its work ignored the cancel")
	}
	g.release()
	if rec := wait(t, reg, op.ID); rec.State != ops.Canceled || status(rec) != "later" {
		t.Errorf("the operation ended %s %q, want Canceled", rec.State, status(rec))
	}
}

// TestCancelFactsKeptWhenWorkSucceeds: work that ignores its context and then returns nil ends
// Succeeded, and still reports that a cancel was requested, and when.
func TestCancelFactsKeptWhenWorkSucceeds(t *testing.T) {
	reg, clock := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(cancellable, g.deaf(func(context.Context) (any, error) { return "committed", nil }))
	<-g.started
	clock.Advance(time.Minute)
	at := clock.Peek()
	out, err := reg.Cancel(context.Background(), op.ID, ops.CancelRequest{Reason: "stop", Origin: "kusto", NoWait: true})
	if err != nil || !out.Accepted {
		t.Fatalf("Cancel = %+v, %v", out, err)
	}
	g.release()
	rec := wait(t, reg, op.ID)
	want := []ops.Cancellation{{At: at, Reason: "stop", Mode: ops.Graceful, Origin: "kusto"}}
	if rec.State != ops.Succeeded || rec.Result != "committed" || rec.Err != nil || !reflect.DeepEqual(rec.Cancels, want) {
		t.Errorf("final snapshot %s %v %v %+v, want Succeeded with its result and the request %+v", rec.State, rec.Result, rec.Err, rec.Cancels, want)
	}
	if log := reg.Log(); !reflect.DeepEqual(log[len(log)-1].Cancels, want) {
		t.Errorf("the final log record has Cancels %+v, want %+v", log[len(log)-1].Cancels, want)
	}
}

// TestCancelModes: a graceful request cancels the work's context; a forced one after it is
// recorded, and the work learns of it through its Handle.
func TestCancelModes(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	seen := make(chan ops.Cancellation, 1)
	op, _ := reg.Go(cancellable, g.deaf(func(ctx context.Context) (any, error) {
		c, _ := ops.FromContext(ctx).Cancellation()
		seen <- c
		return nil, context.Cause(ctx)
	}))
	<-g.started
	for _, m := range []ops.Mode{ops.Graceful, ops.Forced} {
		out, err := reg.Cancel(context.Background(), op.ID, ops.CancelRequest{Reason: m.String(), Mode: m, Origin: "fabric", NoWait: true})
		if err != nil || !out.Accepted {
			t.Fatalf("Cancel %s = %+v, %v", m, out, err)
		}
	}
	g.release()
	rec := wait(t, reg, op.ID)
	if len(rec.Cancels) != 2 || rec.Cancels[0].Mode != ops.Graceful || rec.Cancels[1].Mode != ops.Forced || !rec.Forced() {
		t.Errorf("Cancels = %+v, want graceful then forced", rec.Cancels)
	}
	if c := <-seen; c.Mode != ops.Forced {
		t.Errorf("the work's Handle saw %+v, want the forced request", c)
	}
	var c *ops.CanceledError
	if !errors.As(rec.Err, &c) || c.Mode != ops.Graceful || rec.State != ops.Canceled {
		t.Errorf("ended %s %v, want Canceled by the first, graceful, request", rec.State, rec.Err)
	}
}

func TestCancelFinishesAnyway(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	started := make(chan struct{})
	op, _ := reg.Go(cancellable, func(ctx context.Context) (any, error) {
		close(started)
		<-ctx.Done()
		return "committed", nil // it had nothing left to undo
	})
	<-started
	out := cancel(t, reg, op.ID, "reason")
	if !out.Accepted || !out.Stopped || out.State != ops.Succeeded || out.Result != "committed" {
		t.Errorf("Cancel = %+v, want it stopped Succeeded", out)
	}
}

func TestCancelNotCancellable(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(plain, g.held(nil))
	<-g.started
	out, err := reg.Cancel(context.Background(), op.ID, ops.CancelRequest{Reason: "reason"})
	if !errors.Is(err, ops.ErrNotCancellable) || !strings.Contains(err.Error(), op.ID.String()) || !strings.Contains(err.Error(), "TableCreate") {
		t.Errorf("Cancel = %v, want ErrNotCancellable naming the operation and its kind", err)
	}
	if strings.Contains(err.Error(), ".set") || strings.Contains(err.Error(), "ingest") {
		t.Errorf("Cancel = %v: the core must not name a front door's commands", err)
	}
	if out.ID != op.ID || out.Kind.Name != "TableCreate" || out.State != ops.Running || len(out.Cancels) != 0 {
		t.Errorf("outcome = %+v, want the operation's snapshot, untouched", out)
	}
	g.release()
	if rec := wait(t, reg, op.ID); rec.State != ops.Succeeded {
		t.Errorf("the operation ended %s, want Succeeded: a refused cancel must not touch it", rec.State)
	}
}

func TestCancelUnknown(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	_, err := reg.Cancel(context.Background(), id(42), ops.CancelRequest{Reason: "reason"})
	if !errors.Is(err, ops.ErrNotFound) || !strings.Contains(err.Error(), id(42).String()) {
		t.Errorf("Cancel = %v, want ErrNotFound naming the id", err)
	}
}

func TestCancelScheduled(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	first, third := newGate(t), newGate(t)
	a, _ := reg.Go(cancellable, first.held(nil))
	<-first.started
	b, _ := reg.Go(cancellable, never(t))
	c, _ := reg.Go(cancellable, third.held(nil))
	if got := latest(t, reg, b.ID).State; got != ops.Scheduled {
		t.Fatalf("b is %s, want Scheduled", got)
	}
	if out := cancel(t, reg, b.ID, "not needed"); !canceled(out) {
		t.Errorf("Cancel of a Scheduled operation = %+v", out)
	}
	if rec := latest(t, reg, b.ID); rec.State != ops.Canceled || status(rec) != "not needed" {
		t.Errorf("b ended %s %q, want Canceled", rec.State, status(rec))
	}
	if got := latest(t, reg, c.ID).State; got != ops.Scheduled {
		t.Errorf("c is %s while a holds the slot, want Scheduled", got)
	}
	first.release()
	<-third.started // c, not the canceled b, gets the slot
	third.release()
	wait(t, reg, c.ID)
	if got, want := states(reg.Log()), "1:Running 3:Scheduled 5:Scheduled 3:Canceled 1:Succeeded 5:Running 5:Succeeded"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
	_ = a
}

func TestRunContextCancels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cause  error
		status string
	}{
		{"plain", nil, "Operation was canceled"},
		{"with reason", &ops.CanceledError{Reason: "the client went away"}, "the client went away"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := newRegistry(t, ops.Options{})
			g := newGate(t)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			type result struct {
				op  *ops.Operation
				err error
			}
			ran := make(chan result)
			go func() {
				op, _, err := reg.Run(ctx, cancellable, g.held(nil))
				ran <- result{op, err}
			}()
			<-g.started
			cancel(tc.cause)
			r := <-ran
			if r.err == nil {
				t.Error("Run returned no error after its context was canceled")
			}
			if rec := latest(t, reg, r.op.ID); rec.State != ops.Canceled || status(rec) != tc.status {
				t.Errorf("final snapshot %s %q, want Canceled %q", rec.State, status(rec), tc.status)
			}
		})
	}
}

func TestRunContextCanceledWhileScheduled(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	g := newGate(t)
	a, _ := reg.Go(cancellable, g.held(nil))
	<-g.started
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&ops.CanceledError{Reason: "gave up waiting"})
	b, _, err := reg.Run(ctx, cancellable, never(t))
	var c *ops.CanceledError
	if !errors.As(err, &c) || c.Reason != "gave up waiting" {
		t.Errorf("Run = %v, want the context's cause", err)
	}
	if got, want := states(reg.Log()), "1:Running 3:Scheduled 3:Canceled"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
	g.release()
	wait(t, reg, a.ID)
	_ = b
}
