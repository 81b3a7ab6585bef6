package ops_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/kustard/kustard/ops"
)

func TestClose(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	running, plainRunning, syncRunning := newGate(t), newGate(t), newGate(t)
	a, _ := reg.Go(cancellable, running.held(nil))
	<-running.started
	b, _ := reg.Go(cancellable, never(t)) // Scheduled
	c, _ := reg.Go(plain, plainRunning.held(nil))
	<-plainRunning.started
	ran := make(chan *ops.Operation, 1)
	go func() {
		op, _, _ := reg.Run(context.Background(), plain, syncRunning.held(nil))
		ran <- op
	}()
	<-syncRunning.started

	if err := reg.Close(context.Background(), "Kustard is shutting down"); err != nil {
		t.Fatal(err)
	}
	if got := reg.Active(); len(got) != 0 {
		t.Errorf("operations still live after Close:\n%s", render(got))
	}
	d := <-ran
	for _, op := range []*ops.Operation{a, b, c, d} {
		if !isDone(op) {
			t.Errorf("%s not done after Close", op.ID)
		}
		if rec := latest(t, reg, op.ID); rec.State != ops.Canceled || status(rec) != "Kustard is shutting down" {
			t.Errorf("%s ended %s %q, want Canceled with Close's reason", op.ID, rec.State, status(rec))
		}
	}
	var canceled *ops.CanceledError
	if cause := <-running.cause; !errors.As(cause, &canceled) || canceled.Reason != "Kustard is shutting down" {
		t.Errorf("the work's context.Cause = %#v, want Close's reason", cause)
	}

	if _, err := reg.Go(cancellable, never(t)); !errors.Is(err, ops.ErrClosed) {
		t.Errorf("Go after Close = %v, want ErrClosed", err)
	}
	if _, _, err := reg.Run(context.Background(), plain, never(t)); !errors.Is(err, ops.ErrClosed) {
		t.Errorf("Run after Close = %v, want ErrClosed", err)
	}
	if err := reg.Close(context.Background(), "again"); err != nil {
		t.Errorf("a second Close = %v", err)
	}
}

// TestAbandon: Abandon ends the running and the scheduled operations Abandoned, with its reason
// and no cancel request recorded, and refuses new ones as Close does.
func TestAbandon(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	running := newGate(t)
	a, _ := reg.Go(cancellable, running.held(nil))
	<-running.started
	b, _ := reg.Go(cancellable, never(t)) // Scheduled
	if err := reg.Abandon(context.Background(), "the server stopped"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []*ops.Operation{a, b} {
		rec := latest(t, reg, op.ID)
		var abandoned *ops.AbandonedError
		if rec.State != ops.Abandoned || !errors.As(rec.Err, &abandoned) || abandoned.Reason != "the server stopped" {
			t.Errorf("%s ended %s (%v), want Abandoned with Abandon's reason", op.ID, rec.State, rec.Err)
		}
		if len(rec.Cancels) != 0 {
			t.Errorf("%s records cancel requests %v; abandoning is not a cancel", op.ID, rec.Cancels)
		}
	}
	var abandoned *ops.AbandonedError
	if cause := <-running.cause; !errors.As(cause, &abandoned) {
		t.Errorf("the work's context.Cause = %#v, want an *AbandonedError", cause)
	}
	if _, err := reg.Go(cancellable, never(t)); !errors.Is(err, ops.ErrClosed) {
		t.Errorf("Go after Abandon = %v, want ErrClosed", err)
	}
}

func TestCloseGivesUp(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	g := newGate(t)
	op, _ := reg.Go(cancellable, g.deaf(endWithCause))
	<-g.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := reg.Close(ctx, "bye")
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "still running") {
		t.Errorf("Close with a done ctx = %v, want an error saying operations are still running", err)
	}
	g.release()
	if err := reg.Close(context.Background(), "bye"); err != nil {
		t.Errorf("Close = %v", err)
	}
	if rec := latest(t, reg, op.ID); rec.State != ops.Canceled || status(rec) != "bye" {
		t.Errorf("the operation ended %s %q, want Canceled", rec.State, status(rec))
	}
}

// TestCloseRacesStart starts operations while Close runs: every operation that started must have
// stopped by the time Close returns.
func TestCloseRacesStart(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 100 {
		reg := ops.New(ops.Options{Clock: ops.NewStepClock(t0, 0), IDs: &ops.SequentialIDs{}, Capacity: 2})
		work := func(ctx context.Context) (any, error) {
			<-ctx.Done()
			return nil, context.Cause(ctx)
		}
		quick := func(context.Context) (any, error) { return nil, nil }
		first := make(chan struct{}, 2)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if _, err := reg.Go(cancellable, work); err != nil {
					return
				}
				if i == 0 {
					first <- struct{}{}
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if _, _, err := reg.Run(context.Background(), plain, quick); err != nil {
					return
				}
				if i == 0 {
					first <- struct{}{}
				}
			}
		}()
		<-first
		<-first
		ctx, cancel := context.WithTimeout(context.Background(), long)
		err := reg.Close(ctx, "bye")
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if live := reg.Active(); len(live) != 0 {
			t.Fatalf("Close returned with operations still live:\n%s", render(live))
		}
		wg.Wait()
	}
	checkGoroutines(t, before)
}
