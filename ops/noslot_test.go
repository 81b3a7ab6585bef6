package ops_test

import (
	"context"
	"testing"

	"github.com/kustard/kustard/ops"
)

// A NoSlot kind runs at once while every slot is held, and takes none from the ingests.
func TestNoSlotRunsBesideFullCapacity(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	hold := make(chan struct{})
	busy, err := reg.Go(cancellable, func(ctx context.Context) (any, error) { <-hold; return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	fault := ops.Spec{Kind: ops.Kind{Name: "Fault", Cancellable: true, NoSlot: true}}
	op, err := reg.Go(fault, func(ctx context.Context) (any, error) { <-ctx.Done(); return nil, context.Cause(ctx) })
	if err != nil {
		t.Fatal(err)
	}
	if s := op.Snapshot(); s.State != ops.Running {
		t.Errorf("the NoSlot operation is %v, want Running", s.State)
	}
	queued, _ := reg.Go(cancellable, func(ctx context.Context) (any, error) { return nil, nil })
	if s := queued.Snapshot(); s.State != ops.Scheduled {
		t.Errorf("an ingest past capacity is %v, want Scheduled", s.State)
	}
	reg.Cancel(context.Background(), op.ID, ops.CancelRequest{})
	close(hold)
	<-busy.Done()
	<-queued.Done()
}

// CancelRequests tells waiting work of every cancel request, a forced one after a graceful one too.
func TestHandleCancelRequests(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	heard := make(chan ops.Mode, 2)
	started := make(chan struct{})
	op, err := reg.Go(cancellable, func(ctx context.Context) (any, error) {
		h := ops.FromContext(ctx)
		close(started)
		for range 2 {
			<-h.CancelRequests()
			c, _ := h.Cancellation()
			heard <- c.Mode
		}
		return nil, context.Cause(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started // a cancel before the work starts ends it without running it
	ctx := context.Background()
	reg.Cancel(ctx, op.ID, ops.CancelRequest{Mode: ops.Graceful, NoWait: true})
	if m := <-heard; m != ops.Graceful {
		t.Errorf("first request heard as %v", m)
	}
	reg.Cancel(ctx, op.ID, ops.CancelRequest{Mode: ops.Forced, NoWait: true})
	if m := <-heard; m != ops.Forced {
		t.Errorf("second request heard as %v", m)
	}
	<-op.Done()
	if s := op.Snapshot(); s.State != ops.Canceled || !s.Forced() {
		t.Errorf("ended %v, forced %v", s.State, s.Forced())
	}
}
