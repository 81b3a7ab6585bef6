package ops_test

import (
	"context"
	"errors"
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
	res, err := reg.Cancel(op.ID, "Command canceled by me", long)
	if err != nil {
		t.Fatal(err)
	}
	want := ops.CancelResult{OperationId: op.ID, Operation: "TableSetOrAppend", StartedOn: t0,
		CancellationState: "Canceled successfully", ReasonPhrase: "Command canceled by me"}
	if res != want {
		t.Errorf("Cancel = %+v, want %+v", res, want)
	}
	var canceled *ops.CanceledError
	if cause := <-g.cause; !errors.As(cause, &canceled) || canceled.Reason != "Command canceled by me" {
		t.Errorf("the work's context.Cause = %#v, want a *CanceledError with the reason", cause)
	}
	rec := latest(t, reg, op.ID)
	if rec.State != ops.Canceled || rec.Status != "Command canceled by me" {
		t.Errorf("final record %s %q, want Canceled with the reason", rec.State, rec.Status)
	}
	if got, want := states(reg.Log()), "1:InProgress 1:Canceled"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
	if !isDone(op) {
		t.Error("Cancel returned success before the operation was done")
	}
}

func TestCancelEmptyReason(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(cancellable, g.held(nil))
	<-g.started
	res, err := reg.Cancel(op.ID, "", long)
	if err != nil || res.CancellationState != ops.CanceledSuccessfully || res.ReasonPhrase != "" {
		t.Errorf("Cancel = %+v, %v; want Canceled successfully with no reason", res, err)
	}
	var canceled *ops.CanceledError
	if cause := <-g.cause; !errors.As(cause, &canceled) || canceled.Reason != "" {
		t.Errorf("the work's context.Cause = %#v, want a *CanceledError without a reason", cause)
	}
	if rec := latest(t, reg, op.ID); rec.State != ops.Canceled || rec.Status != "Operation was canceled" {
		t.Errorf("final record %s %q, want Canceled, \"Operation was canceled\"", rec.State, rec.Status)
	}
}

func TestCancelFinished(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	for _, end := range []struct {
		err   error
		state ops.State
	}{{nil, ops.Completed}, {errors.New("boom"), ops.Failed}} {
		op, _, _ := reg.Run(context.Background(), cancellable, func(context.Context) (any, error) { return nil, end.err })
		res, err := reg.Cancel(op.ID, "too late", long)
		if err != nil {
			t.Fatal(err)
		}
		if res.OperationId != op.ID || res.CancellationState != ops.CancelFailed || !strings.Contains(res.ReasonPhrase, string(end.state)) {
			t.Errorf("Cancel of a %s operation = %+v, want Cancel failed naming the state", end.state, res)
		}
		if rec := latest(t, reg, op.ID); rec.State != end.state {
			t.Errorf("Cancel changed a finished operation to %s", rec.State)
		}
	}
}

func TestCancelWaitExpires(t *testing.T) {
	for _, tc := range []struct {
		name   string
		end    func(context.Context) (any, error)
		state  ops.State
		status string
	}{
		// Work that stops because of the cancel ends Canceled: the request stands after the wait.
		{"stops", endWithCause, ops.Canceled, "reason"},
		// Work that completes anyway (it had committed before it looked) ends Completed.
		{"completes", func(context.Context) (any, error) { return "done", nil }, ops.Completed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := newRegistry(t, ops.Options{})
			g := newGate(t)
			op, _ := reg.Go(cancellable, g.deaf(tc.end))
			<-g.started
			res, err := reg.Cancel(op.ID, "reason", time.Millisecond) // the work is shut in: the wait expires
			if err != nil {
				t.Fatal(err)
			}
			if res.CancellationState != ops.CancelFailed || !strings.Contains(res.ReasonPhrase, "did not stop within 1ms") {
				t.Errorf("Cancel = %+v, want Cancel failed saying the wait expired", res)
			}
			if rec := latest(t, reg, op.ID); rec.State != ops.InProgress {
				t.Errorf("after the wait the operation is %s, want InProgress", rec.State)
			}
			g.release()
			if rec := wait(t, reg, op.ID); rec.State != tc.state || rec.Status != tc.status {
				t.Errorf("the operation ended %s %q, want %s %q", rec.State, rec.Status, tc.state, tc.status)
			}
			res, _ = reg.Cancel(op.ID, "again", long)
			if res.CancellationState != ops.CancelFailed || !strings.Contains(res.ReasonPhrase, string(tc.state)) {
				t.Errorf("Cancel after the end = %+v", res)
			}
		})
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
	res, err := reg.Cancel(op.ID, "reason", long)
	if err != nil {
		t.Fatal(err)
	}
	if res.CancellationState != ops.CancelFailed || !strings.Contains(res.ReasonPhrase, "finished before it could be canceled") ||
		!strings.Contains(res.ReasonPhrase, "Completed") {
		t.Errorf("Cancel = %+v, want Cancel failed: finished before it could be canceled", res)
	}
	if rec := latest(t, reg, op.ID); rec.State != ops.Completed {
		t.Errorf("final state %s, want Completed", rec.State)
	}
}

func TestCancelNotCancellable(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(plain, g.held(nil))
	<-g.started
	_, err := reg.Cancel(op.ID, "reason", long)
	if !errors.Is(err, ops.ErrNotCancellable) || !strings.Contains(err.Error(), "supported only for ingest-from-query operations") ||
		!strings.Contains(err.Error(), op.ID.String()) || !strings.Contains(err.Error(), "TableCreate") {
		t.Errorf("Cancel = %v, want ErrNotCancellable naming the operation and what can be canceled", err)
	}
	g.release()
	if rec := wait(t, reg, op.ID); rec.State != ops.Completed {
		t.Errorf("the operation ended %s, want Completed: a refused cancel must not touch it", rec.State)
	}
}

func TestCancelUnknown(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	_, err := reg.Cancel(id(42), "reason", long)
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
	res, err := reg.Cancel(b.ID, "not needed", long)
	if err != nil || res.CancellationState != ops.CanceledSuccessfully || res.ReasonPhrase != "not needed" {
		t.Errorf("Cancel of a Scheduled operation = %+v, %v", res, err)
	}
	if rec := latest(t, reg, b.ID); rec.State != ops.Canceled || rec.Status != "not needed" {
		t.Errorf("b ended %s %q, want Canceled", rec.State, rec.Status)
	}
	if got := latest(t, reg, c.ID).State; got != ops.Scheduled {
		t.Errorf("c is %s while a holds the slot, want Scheduled", got)
	}
	first.release()
	<-third.started // c, not the canceled b, gets the slot
	third.release()
	wait(t, reg, c.ID)
	if got, want := states(reg.Log()), "1:InProgress 3:Scheduled 5:Scheduled 3:Canceled 1:Completed 5:InProgress 5:Completed"; got != want {
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
			if rec := latest(t, reg, r.op.ID); rec.State != ops.Canceled || rec.Status != tc.status {
				t.Errorf("final record %s %q, want Canceled %q", rec.State, rec.Status, tc.status)
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
	var canceled *ops.CanceledError
	if !errors.As(err, &canceled) || canceled.Reason != "gave up waiting" {
		t.Errorf("Run = %v, want the context's cause", err)
	}
	if got, want := states(reg.Log()), "1:InProgress 3:Scheduled 3:Canceled"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
	g.release()
	wait(t, reg, a.ID)
	_ = b
}
