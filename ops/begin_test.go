package ops_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kustard/kustard/ops"
)

var stepKind = ops.Kind{Name: "Stepped", Cancellable: true}

// Work begun with Begin runs in the caller's steps; End records its end, once.
func TestBeginEnd(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 4})
	op, err := reg.Begin(context.Background(), ops.Spec{Kind: stepKind, Detail: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if s := latest(t, reg, op.ID); s.State != ops.Running || s.Detail != "mine" {
		t.Fatalf("after Begin: %v, detail %v; want Running, mine", s.State, s.Detail)
	}
	op.End(42, nil)
	op.End(nil, errors.New("a second End is ignored"))
	s := wait(t, reg, op.ID)
	if s.State != ops.Succeeded || s.Result != 42 || s.Detail != "mine" {
		t.Fatalf("after End: %v, result %v, detail %v; want Succeeded, 42, mine", s.State, s.Result, s.Detail)
	}
}

// A cancel request cancels the context of begun work, which ends Canceled with the request's
// reason as its error; a canceled caller's context does the same with its own cause.
func TestBeginCanceled(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 4})
	op, err := reg.Begin(context.Background(), ops.Spec{Kind: stepKind})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error)
	go func() {
		<-op.Context().Done() // the work's step notices the cancel
		err := context.Cause(op.Context())
		op.End(nil, err)
		stopped <- err
	}()
	out, err := reg.Cancel(context.Background(), op.ID, ops.CancelRequest{Reason: "enough", Origin: "test"})
	if err != nil || !canceled(out) {
		t.Fatalf("Cancel: %+v, %v; want accepted and stopped Canceled", out, err)
	}
	if err := <-stopped; err.Error() != "enough" {
		t.Fatalf("the work's cause: %v; want enough", err)
	}

	ctx, cancelCtx := context.WithCancelCause(context.Background())
	op2, err := reg.Begin(ctx, ops.Spec{Kind: stepKind})
	if err != nil {
		t.Fatal(err)
	}
	cancelCtx(errors.New("client went away"))
	<-op2.Context().Done()
	op2.End(nil, context.Cause(op2.Context()))
	if s := wait(t, reg, op2.ID); s.State != ops.Canceled || s.Err.Error() != "client went away" {
		t.Fatalf("after the caller's cancel: %v, %v; want Canceled, client went away", s.State, s.Err)
	}
}

// Begin waits for a slot; canceled while it waits, it records the end and returns the cause.
func TestBeginWaitsForSlot(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	first, err := reg.Begin(context.Background(), ops.Spec{Kind: stepKind})
	if err != nil {
		t.Fatal(err)
	}
	// A caller whose context is already canceled waits Scheduled for no time at all.
	ctx, cancelCtx := context.WithCancelCause(context.Background())
	cancelCtx(errors.New("gave up waiting"))
	if op, err := reg.Begin(ctx, ops.Spec{Kind: stepKind}); op != nil || err == nil || err.Error() != "gave up waiting" {
		t.Fatalf("Begin: %v, %v; want no operation and gave up waiting", op, err)
	}
	if got, want := states(reg.Log()), "1:Running 3:Scheduled 3:Canceled"; got != want {
		t.Fatalf("log %q; want %q", got, want)
	}
	first.End(nil, nil)
	if n := len(reg.Active()); n != 0 {
		t.Fatalf("%d operations active; want none", n)
	}
}

// MaxEnded bounds the ended operations kept, dropping the oldest; NoLog keeps no log.
func TestMaxEndedAndNoLog(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 4, MaxEnded: 3, NoLog: true})
	live, err := reg.Begin(context.Background(), ops.Spec{Kind: stepKind})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, _, err := reg.Run(context.Background(), ops.Spec{Kind: stepKind}, func(context.Context) (any, error) { return i, nil }); err != nil {
			t.Fatal(err)
		}
	}
	all, _, err := reg.List(ops.Filter{}, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, s := range all {
		got += fmt.Sprintf("%v:%v ", s.Result, s.State)
	}
	// The live one is kept however old; of the ten ended, the three newest.
	if want := "<nil>:Running 7:Succeeded 8:Succeeded 9:Succeeded "; got != want {
		t.Fatalf("kept %q; want %q", got, want)
	}
	if n := len(reg.Log()); n != 0 {
		t.Fatalf("the log has %d records; want none with NoLog", n)
	}
	live.End(nil, nil)
}

// Without a log, ended operations older than Retention are dropped when the registry prunes.
func TestRetentionWithoutLog(t *testing.T) {
	reg, clock := newRegistry(t, ops.Options{Capacity: 4, NoLog: true, Retention: time.Hour})
	for range 3 {
		if _, _, err := reg.Run(context.Background(), ops.Spec{Kind: stepKind}, quick); err != nil {
			t.Fatal(err)
		}
	}
	reg.Prune()
	if all, _, _ := reg.List(ops.Filter{}, 0, ""); len(all) != 3 {
		t.Fatalf("%d operations kept within the hour; want 3", len(all))
	}
	clock.Advance(time.Hour)
	reg.Prune()
	if all, _, _ := reg.List(ops.Filter{}, 0, ""); len(all) != 0 {
		t.Fatalf("%d operations kept an hour later; want none", len(all))
	}
}
