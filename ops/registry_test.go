package ops_test

import (
	"context"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/ops"
)

func TestRunCompleted(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	op, details, err := reg.Run(context.Background(), plain, func(ctx context.Context) (any, error) {
		return "the details", nil
	})
	if err != nil || details != "the details" {
		t.Fatalf("Run = %v, %v; want the details, nil", details, err)
	}
	if op.ID != id(1) || !isDone(op) {
		t.Errorf("op %s done=%v; want id %s, done", op.ID, isDone(op), id(1))
	}
	want := []ops.Snapshot{
		{Seq: 1, ID: id(1), Kind: plain.Kind, Created: t0, Updated: t0, State: ops.Running,
			ActivityID: id(2), Scope: "db", Principal: "p", User: "u"},
		{Seq: 1, ID: id(1), Kind: plain.Kind, Created: t0, Updated: t0.Add(time.Second), State: ops.Succeeded,
			ActivityID: id(2), Scope: "db", Principal: "p", User: "u", Result: "the details"},
	}
	got := reg.Log()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Log =\n%+v\nwant\n%+v", got, want)
	}
	if d := got[1].Duration(); d != time.Second {
		t.Errorf("Duration = %v, want 1s", d)
	}
	rec, err := reg.Get(op.ID)
	if err != nil || !reflect.DeepEqual(rec, want[1]) {
		t.Errorf("Get = %+v, %v; want the final snapshot with the result", rec, err)
	}
	if s, ok := ops.ResultAs[string](rec); !ok || s != "the details" {
		t.Errorf("ResultAs[string] = %q, %v", s, ok)
	}
	if _, ok := ops.ResultAs[int](rec); ok {
		t.Error("ResultAs[int] of a string result succeeded")
	}
	if _, err := reg.Get(id(99)); !errors.Is(err, ops.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func TestRunKeepsActivityID(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	spec := plain
	spec.ActivityID = uuid.UUID{0: 0xAA}
	op, _, _ := reg.Run(context.Background(), spec, func(context.Context) (any, error) { return nil, nil })
	if rec := latest(t, reg, op.ID); rec.ActivityID != spec.ActivityID {
		t.Errorf("ActivityID = %s, want %s", rec.ActivityID, spec.ActivityID)
	}
}

type statusError struct{}

func (statusError) Error() string  { return "plain text" }
func (statusError) Status() string { return `Status(StatusCode="Internal")` }

type endError struct{ state ops.State }

func (e endError) Error() string             { return "ended " + e.state.String() }
func (e endError) OperationState() ops.State { return e.state }

type inputError struct{ bad bool }

func (e inputError) Error() string  { return "column x not found" }
func (e inputError) BadInput() bool { return e.bad }

func TestRunOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		state  ops.State
		status string
	}{
		{"failed", errors.New("boom"), ops.Failed, "boom"},
		{"wrapped", errors.Join(errors.New("while appending"), errors.New("boom")), ops.Failed, "while appending\nboom"},
		{"status method", statusError{}, ops.Failed, `Status(StatusCode="Internal")`},
		{"bad input", inputError{bad: true}, ops.BadInput, "column x not found"},
		{"not bad input", inputError{bad: false}, ops.Failed, "column x not found"},
		{"skipped", &ops.SkippedError{Reason: "ingestIfNotExists: tag t1 exists"}, ops.Skipped, "ingestIfNotExists: tag t1 exists"},
		{"partially succeeded", endError{ops.PartiallySucceeded}, ops.PartiallySucceeded, "ended PartiallySucceeded"},
		{"throttled", endError{ops.Throttled}, ops.Throttled, "ended Throttled"},
		{"abandoned", endError{ops.Abandoned}, ops.Abandoned, "ended Abandoned"},
		{"an error cannot choose success", endError{ops.Succeeded}, ops.Failed, "ended Succeeded"},
		{"nor a live state", endError{ops.Running}, ops.Failed, "ended Running"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, _ := newRegistry(t, ops.Options{})
			op, _, err := reg.Run(context.Background(), cancellable, func(context.Context) (any, error) {
				return nil, tc.err
			})
			if err != tc.err {
				t.Errorf("Run error = %v, want the work's %v", err, tc.err)
			}
			if got, want := states(reg.Log()), "1:Running 1:"+tc.state.String(); got != want {
				t.Errorf("Log = %s, want %s", got, want)
			}
			rec := latest(t, reg, op.ID)
			if rec.State != tc.state || status(rec) != tc.status || !rec.State.Terminal() || rec.Err != tc.err {
				t.Errorf("final record %s %q, want %s %q", rec.State, status(rec), tc.state, tc.status)
			}
		})
	}
}

func TestReject(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	op, err := reg.Reject(cancellable, inputError{bad: true})
	if err != nil {
		t.Fatal(err)
	}
	if !isDone(op) {
		t.Error("a rejected operation is not done")
	}
	got := reg.Log()
	if len(got) != 1 {
		t.Fatalf("Log = %s, want one record", render(got))
	}
	if r := got[0]; r.ID != op.ID || r.State != ops.BadInput || r.Err != (inputError{bad: true}) || r.Duration() != 0 {
		t.Errorf("record = %+v, want BadInput with the error and no duration", r)
	}
	if out := cancel(t, reg, op.ID, "r"); out.Accepted || out.State != ops.BadInput {
		t.Errorf("Cancel of a rejected operation = %+v; want it left as it was", out)
	}
}

func TestStateTerminal(t *testing.T) {
	for _, s := range ops.EndStates {
		if !s.Terminal() {
			t.Errorf("%s is not terminal", s)
		}
	}
	for _, s := range ops.LiveStates {
		if s.Terminal() {
			t.Errorf("%s is terminal", s)
		}
	}
	if len(ops.LiveStates)+len(ops.EndStates) != len(ops.States) {
		t.Errorf("LiveStates and EndStates do not cover States")
	}
	var names []string
	for _, s := range ops.States {
		names = append(names, s.String())
	}
	if got, want := strings.Join(names, " "), "Scheduled Running Succeeded PartiallySucceeded Failed Canceled Abandoned Skipped BadInput Throttled"; got != want {
		t.Errorf("States = %s, want %s", got, want)
	}
}

func TestLogAndLatest(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	a, _, _ := reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, nil })
	b, _, _ := reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, errors.New("boom") })
	g := newGate(t)
	c, err := reg.Go(cancellable, g.held(nil))
	if err != nil {
		t.Fatal(err)
	}
	<-g.started

	log := reg.Log()
	if got, want := states(log), "1:Running 1:Succeeded 3:Running 3:Failed 5:Running"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
	for i := 1; i < len(log); i++ {
		if log[i].Updated.Before(log[i-1].Updated) {
			t.Errorf("Log is not oldest first:\n%s", render(log))
		}
	}
	if got, want := states(reg.Latest([]uuid.UUID{c.ID, uuid.New(), a.ID, c.ID, b.ID, a.ID})), "5:Running 1:Succeeded 3:Failed"; got != want {
		t.Errorf("Latest = %s, want %s", got, want)
	}
	if got := reg.Latest(nil); len(got) != 0 {
		t.Errorf("Latest(nil) = %s, want nothing", render(got))
	}
	if got, want := states(reg.Active()), "5:Running"; got != want {
		t.Errorf("Active = %s, want %s", got, want)
	}

	g.release()
	if rec := wait(t, reg, c.ID); rec.State != ops.Succeeded {
		t.Errorf("c ended %s, want Completed", rec.State)
	}
	if got := reg.Active(); len(got) != 0 {
		t.Errorf("Active = %s, want nothing", render(got))
	}
	// Log returns a copy.
	log = reg.Log()
	log[0].State = ops.Abandoned
	if reg.Log()[0].State != ops.Running {
		t.Error("changing Log's result changed the registry's log")
	}
}

func TestRetentionAndLatestWindow(t *testing.T) {
	reg, clock := newRegistry(t, ops.Options{Retention: time.Hour, LatestWindow: 10 * time.Minute})
	g := newGate(t)
	long, err := reg.Go(cancellable, g.held(nil)) // record at t0
	if err != nil {
		t.Fatal(err)
	}
	<-g.started
	a, _, _ := reg.Run(context.Background(), plain, func(context.Context) (any, error) { return "a", nil }) // t0+1s, t0+2s

	if got := states(reg.Latest([]uuid.UUID{a.ID})); got != "3:Succeeded" {
		t.Errorf("Latest(a) inside the window = %q", got)
	}
	clock.Advance(10 * time.Minute) // a's last record is now older than the window
	if got := reg.Latest([]uuid.UUID{a.ID, long.ID}); len(got) != 0 {
		t.Errorf("Latest after the window = %s, want nothing", render(got))
	}
	if got, want := states(reg.Log()), "1:Running 3:Running 3:Succeeded"; got != want {
		t.Errorf("Log inside the retention = %s, want %s", got, want)
	}
	if s, err := reg.Get(a.ID); err != nil || s.Result != "a" {
		t.Errorf("Get(a) inside the retention = %v, %v", s.Result, err)
	}

	b, _, _ := reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, nil })
	clock.Advance(50 * time.Minute) // a's records, and long's first, are now older than the retention
	if got, want := states(reg.Log()), "5:Running 5:Succeeded"; got != want {
		t.Errorf("Log after the retention = %s, want %s", got, want)
	}
	if _, err := reg.Get(a.ID); !errors.Is(err, ops.ErrNotFound) {
		t.Errorf("Get(a) after the retention: %v, want ErrNotFound", err)
	}
	if _, err := reg.Wait(context.Background(), a.ID); !errors.Is(err, ops.ErrNotFound) {
		t.Errorf("Wait(a) after the retention: %v, want ErrNotFound", err)
	}
	if _, err := reg.Cancel(context.Background(), a.ID, ops.CancelRequest{}); !errors.Is(err, ops.ErrNotFound) {
		t.Errorf("Cancel(a) after the retention: %v, want ErrNotFound", err)
	}
	if _, err := reg.Get(b.ID); err != nil {
		t.Errorf("Get(b): %v", err)
	}

	// An operation still running outlives its pruned records, and can still be canceled.
	if got, want := states(reg.Active()), "1:Running"; got != want {
		t.Errorf("Active = %s, want %s", got, want)
	}
	if out := cancel(t, reg, long.ID, "too long"); !canceled(out) {
		t.Errorf("Cancel(long) = %+v", out)
	}
	if got, want := states(reg.Log()), "5:Running 5:Succeeded 1:Canceled"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
}

func TestCapacityQueuesScheduled(t *testing.T) {
	for _, capacity := range []int{1, 2} {
		t.Run(map[int]string{1: "one", 2: "two"}[capacity], func(t *testing.T) {
			reg, _ := newRegistry(t, ops.Options{Capacity: capacity})
			if reg.Capacity() != capacity {
				t.Fatalf("Capacity = %d, want %d", reg.Capacity(), capacity)
			}
			n := capacity + 2
			gates := make([]*gate, n)
			started := make([]*ops.Operation, n)
			for i := range n {
				gates[i] = newGate(t)
				op, err := reg.Go(cancellable, gates[i].held(nil))
				if err != nil {
					t.Fatal(err)
				}
				started[i] = op
			}
			for i := range capacity {
				<-gates[i].started
			}
			for i, op := range started {
				want := ops.Running
				if i >= capacity {
					want = ops.Scheduled
				}
				if got := latest(t, reg, op.ID).State; got != want {
					t.Errorf("op %d is %s, want %s", i, got, want)
				}
			}

			// Operations that cannot be canceled take no slot: they run while the slots are full.
			plainGate := newGate(t)
			p, err := reg.Go(plain, plainGate.held(nil))
			if err != nil {
				t.Fatal(err)
			}
			<-plainGate.started
			if _, _, err := reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, nil }); err != nil {
				t.Fatal(err)
			}
			plainGate.release()
			wait(t, reg, p.ID)

			// Each operation that stops hands its slot to the first Scheduled one.
			for i := range n {
				gates[i].release()
				if rec := wait(t, reg, started[i].ID); rec.State != ops.Succeeded {
					t.Errorf("op %d ended %s", i, rec.State)
				}
				if i+capacity < n {
					<-gates[i+capacity].started
				}
			}

			log := reg.Log()
			want := map[int]string{
				// 1 runs; 3, 5 wait; 7 and 9 take no slot; each stop admits the next.
				1: "1:Running 3:Scheduled 5:Scheduled 7:Running 9:Running 9:Succeeded 7:Succeeded " +
					"1:Succeeded 3:Running 3:Succeeded 5:Running 5:Succeeded",
				2: "1:Running 3:Running 5:Scheduled 7:Scheduled 9:Running 11:Running 11:Succeeded 9:Succeeded " +
					"1:Succeeded 5:Running 3:Succeeded 7:Running 5:Succeeded 7:Succeeded",
			}[capacity]
			if got := states(log); got != want {
				t.Errorf("Log =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestDefaultCapacity(t *testing.T) {
	want := max(1, runtime.NumCPU()-1)
	if got := ops.DefaultCapacity(); got != want {
		t.Errorf("DefaultCapacity = %d, want %d", got, want)
	}
	for _, c := range []int{0, -3} {
		if got := ops.New(ops.Options{Capacity: c}).Capacity(); got != want {
			t.Errorf("Capacity with option %d = %d, want the default %d", c, got, want)
		}
	}
	if got := ops.New(ops.Options{Capacity: 3}).Capacity(); got != 3 {
		t.Errorf("Capacity with option 3 = %d", got)
	}
}

func TestWatch(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	seen := make(chan ops.Snapshot, 10)
	var watcherErr error
	stop := reg.Watch(func(rec ops.Snapshot) {
		// A watcher may use the registry: it must not be called with the registry's lock held.
		if got := reg.Latest([]uuid.UUID{rec.ID}); len(got) != 1 || !reflect.DeepEqual(got[0], rec) {
			watcherErr = errors.New("the record watched is not the operation's latest")
		}
		seen <- rec
	})
	other := make(chan ops.Snapshot, 10)
	stopOther := reg.Watch(func(rec ops.Snapshot) { other <- rec })
	defer stopOther()

	a, _, _ := reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, nil })
	if rec := <-seen; rec.ID != a.ID || rec.State != ops.Succeeded {
		t.Errorf("watched %+v, want a Completed", rec)
	}
	g := newGate(t)
	b, _ := reg.Go(cancellable, g.held(nil))
	<-g.started
	if len(seen) != 0 {
		t.Errorf("watched a record of an operation that has not stopped: %+v", <-seen)
	}
	cancel(t, reg, b.ID, "stop")
	if rec := <-seen; rec.ID != b.ID || rec.State != ops.Canceled || status(rec) != "stop" {
		t.Errorf("watched %+v, want b Canceled", rec)
	}
	c, _ := reg.Reject(cancellable, errors.New("bad"))
	if len(seen) != 1 {
		t.Fatalf("Reject told the watcher %d records, want 1", len(seen))
	}
	if rec := <-seen; rec.ID != c.ID || rec.State != ops.BadInput {
		t.Errorf("watched %+v, want c BadInput", rec)
	}

	stop()
	reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, nil })
	if len(seen) != 0 {
		t.Errorf("a stopped watcher was told %+v", <-seen)
	}
	if watcherErr != nil {
		t.Error(watcherErr)
	}
	if got, want := states([]ops.Snapshot{<-other, <-other, <-other, <-other}), "1:Succeeded 3:Canceled 5:BadInput 7:Succeeded"; got != want {
		t.Errorf("the other watcher saw %s, want %s", got, want)
	}
}

func TestWait(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	if _, err := reg.Wait(context.Background(), id(99)); !errors.Is(err, ops.ErrNotFound) {
		t.Errorf("Wait(unknown) = %v, want ErrNotFound", err)
	}
	g := newGate(t)
	op, _ := reg.Go(cancellable, g.held("kept"))
	<-g.started

	giveUp := errors.New("the client gave up")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(giveUp)
	if _, err := reg.Wait(ctx, op.ID); err != giveUp {
		t.Errorf("Wait with a done ctx = %v, want its cause", err)
	}
	if latest(t, reg, op.ID).State != ops.Running {
		t.Error("giving up a Wait changed the operation")
	}

	done := make(chan ops.Snapshot)
	go func() {
		rec, err := reg.Wait(context.Background(), op.ID)
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	g.release()
	if rec := <-done; rec.ID != op.ID || rec.State != ops.Succeeded || rec.Result != "kept" {
		t.Errorf("Wait = %+v, want Completed", rec)
	}
	if rec := wait(t, reg, op.ID); rec.State != ops.Succeeded {
		t.Errorf("Wait after the end = %+v", rec)
	}
}

func TestLogGolden(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{Capacity: 1})
	reg.Run(context.Background(), plain, func(context.Context) (any, error) { return nil, nil })
	reg.Run(context.Background(), cancellable, func(context.Context) (any, error) { return nil, errors.New("Partial query failure") })
	reg.Run(context.Background(), cancellable, func(context.Context) (any, error) {
		return nil, &ops.SkippedError{Reason: "ingestIfNotExists: tag exists"}
	})
	reg.Reject(cancellable, errors.New("table T has no column x"))

	running, queued, next := newGate(t), newGate(t), newGate(t)
	a, _ := reg.Go(cancellable, running.held(nil))
	<-running.started
	b, _ := reg.Go(cancellable, queued.held(nil))
	c, _ := reg.Go(cancellable, next.held(nil))
	cancel(t, reg, b.ID, "Command canceled by me")
	running.release()
	<-next.started
	wait(t, reg, a.ID)
	cancel(t, reg, c.ID, "")
	golden.Check(t, "../testdata/ops/log.golden", []byte("OperationId Operation StartedOn LastUpdatedOn Duration State Status\n"+render(reg.Log())))
}
