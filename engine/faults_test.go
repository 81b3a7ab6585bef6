package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// faultEngine is an engine whose fault timers are the test's: each timer asked for is sent on
// timers, and fires when the test closes or sends on it.
func faultEngine(t *testing.T) (*Engine, chan chan time.Time) {
	t.Helper()
	timers := make(chan chan time.Time, 8)
	eng := New(Options{Capacity: 2, After: func(time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		timers <- c
		return c
	}})
	t.Cleanup(func() { _ = eng.Close(context.Background()) })
	return eng, timers
}

// tableWithExtents makes table T with one extent of i rows for each i in rows, oldest first.
func tableWithExtents(t *testing.T, s *Session, rows ...int) uuid.UUID {
	t.Helper()
	for _, n := range rows {
		executeText(t, s, ".set-or-append T <| range x from 1 to "+itoa(n)+" step 1")
	}
	tab, ok := s.eng.cat.Snapshot().Table(DefaultDatabase, "T")
	if !ok {
		t.Fatal("no table T")
	}
	return tab.ID
}

func waitFault(t *testing.T, eng *Engine, op *ops.Operation) ops.Snapshot {
	t.Helper()
	s, err := eng.Ops().Wait(context.Background(), op.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDataLoss(t *testing.T) {
	for _, tc := range []struct {
		name          string
		all           bool
		rows          []int
		left, dropped int64
	}{
		{"partial drops the newest half, rounded up", false, []int{1, 2, 4}, 1, 6},
		{"partial of one extent drops it", false, []int{5}, 0, 5},
		{"partial of four drops two", false, []int{1, 2, 4, 8}, 3, 12},
		{"full drops all", true, []int{1, 2, 4}, 0, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, _ := faultEngine(t)
			s := eng.NewSession()
			id := tableWithExtents(t, s, tc.rows...)
			op, err := eng.StartDataLoss(ops.Spec{}, DefaultDatabase, id, tc.all)
			if err != nil {
				t.Fatal(err)
			}
			snap := waitFault(t, eng, op)
			res, ok := ops.ResultAs[*DataLossResult](snap)
			if snap.State != ops.Succeeded || !ok {
				t.Fatalf("ended %v (%v), result %#v", snap.State, snap.Err, snap.Result)
			}
			if res.Rows != tc.dropped || res.Table != "T" || snap.Kind.Name != "FaultDataLoss" {
				t.Errorf("result %+v, kind %s; want %d rows dropped from T", res, snap.Kind.Name, tc.dropped)
			}
			if got := queryScalar(t, s, "T | count"); got != tc.left {
				t.Errorf("T | count = %v, want %d", got, tc.left)
			}
		})
	}
}

func TestDataLossUnknownTable(t *testing.T) {
	eng, _ := faultEngine(t)
	if _, err := eng.StartDataLoss(ops.Spec{}, DefaultDatabase, uuid.New(), true); !errors.Is(err, ErrNoTable) {
		t.Fatalf("err = %v, want ErrNoTable", err)
	}
}

// A graceful cancel that reaches a data loss before it removes anything leaves the table whole.
func TestDataLossCanceledBeforeRemoval(t *testing.T) {
	eng, _ := faultEngine(t)
	s := eng.NewSession()
	id := tableWithExtents(t, s, 1, 2)
	reached, release := make(chan struct{}), make(chan struct{})
	eng.faults.step = func(phase string) {
		if phase == PhaseRemoving {
			close(reached)
			<-release
		}
	}
	op, err := eng.StartDataLoss(ops.Spec{}, DefaultDatabase, id, true)
	if err != nil {
		t.Fatal(err)
	}
	<-reached
	if _, err := eng.Ops().Cancel(context.Background(), op.ID, ops.CancelRequest{Mode: ops.Graceful, NoWait: true}); err != nil {
		t.Fatal(err)
	}
	close(release)
	if snap := waitFault(t, eng, op); snap.State != ops.Canceled {
		t.Errorf("ended %v, want Canceled", snap.State)
	}
	if got := queryScalar(t, s, "T | count"); got != int64(3) {
		t.Errorf("T | count = %v, want 3", got)
	}
}

// A restart abandons the ingests in flight into its table; they commit nothing.
func TestTableRestartAbandonsIngests(t *testing.T) {
	eng, _ := faultEngine(t)
	s := eng.NewSession()
	executeText(t, s, ".create table T (x:long, src:long)")
	g := &gatedStream{before: 10, after: 10, gate: make(chan struct{}), reached: make(chan struct{})}
	eng.RegisterStream("S", Stream{Schema: gatedSchema, Open: g.open})
	res := executeText(t, s, ".set-or-append async T <| S")
	ingest := res.Value(0, 0).(uuid.UUID)
	<-g.reached
	tab, _ := eng.cat.Snapshot().Table(DefaultDatabase, "T")
	op, err := eng.StartTableRestart(ops.Spec{}, DefaultDatabase, tab.ID)
	if err != nil {
		t.Fatal(err)
	}
	snap := waitFault(t, eng, op)
	out, _ := ops.ResultAs[*RestartResult](snap)
	if snap.State != ops.Succeeded || out == nil || len(out.Abandoned) != 1 || out.Abandoned[0] != ingest {
		t.Fatalf("restart ended %v (%v) with %+v; want the ingest %s abandoned", snap.State, snap.Err, out, ingest)
	}
	in, err := eng.Ops().Wait(context.Background(), ingest)
	if err != nil {
		t.Fatal(err)
	}
	if in.State != ops.Abandoned {
		t.Errorf("ingest ended %v (%v), want Abandoned", in.State, in.Err)
	}
	if got := queryScalar(t, s, "T | count"); got != int64(0) {
		t.Errorf("T | count = %v, want 0", got)
	}
	if got := queryScalar(t, s, ".show operations | where State == 'Abandoned' | count"); got != int64(1) {
		t.Errorf("Abandoned records = %v, want 1", got)
	}
}

func isUnavailable(err error) bool {
	var kerr *kusto.Error
	return errors.As(err, &kerr) && kerr.Kind == kusto.KindUnavailable
}

func TestNodeStopEndsWithItsDuration(t *testing.T) {
	eng, timers := faultEngine(t)
	s := eng.NewSession()
	op, err := eng.StopNode(ops.Spec{}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: "print 1"}); !isUnavailable(err) {
		t.Fatalf("a query while stopped: %v, want the service-unavailable error", err)
	}
	if _, err := eng.StopNode(ops.Spec{}, time.Minute); !errors.Is(err, ErrNodeStopped) {
		t.Errorf("a second stop: %v, want ErrNodeStopped", err)
	}
	if by, down := eng.NodeStoppedBy(); !down || by != op.ID {
		t.Errorf("NodeStoppedBy = %v, %v", by, down)
	}
	close(<-timers) // the stop's duration passes
	if snap := waitFault(t, eng, op); snap.State != ops.Succeeded {
		t.Errorf("stop ended %v, want Succeeded", snap.State)
	}
	if got := queryScalar(t, s, "print 1"); got != int64(1) {
		t.Errorf("after the stop: %v", got)
	}
	if _, err := eng.StartNode(ops.Spec{}); !errors.Is(err, ErrNodeUp) {
		t.Errorf("start of a node that is up: %v, want ErrNodeUp", err)
	}
}

func TestNodeStartEndsAStop(t *testing.T) {
	eng, _ := faultEngine(t)
	stop, err := eng.StopNode(ops.Spec{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	start, err := eng.StartNode(ops.Spec{})
	if err != nil {
		t.Fatal(err)
	}
	if snap := waitFault(t, eng, start); snap.State != ops.Succeeded || snap.Kind.Name != "FaultNodeStart" {
		t.Errorf("start ended %v (%s)", snap.State, snap.Kind.Name)
	}
	snap := waitFault(t, eng, stop)
	if res, _ := ops.ResultAs[*NodeResult](snap); snap.State != ops.Succeeded || res == nil || !res.Early {
		t.Errorf("stop ended %v with %+v, want Succeeded early", snap.State, snap.Result)
	}
	if eng.Unavailable() != nil {
		t.Error("the node is still down")
	}
}

// A graceful cancel starts the node, which takes the start delay: the node stays down and the
// operation live until then, and a forced cancel cuts it short.
func TestNodeStopCanceledGracefullyThenForced(t *testing.T) {
	eng, timers := faultEngine(t)
	op, err := eng.StopNode(ops.Spec{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	<-timers // the stop's own timer, never fired
	ctx := context.Background()
	if _, err := eng.Ops().Cancel(ctx, op.ID, ops.CancelRequest{Mode: ops.Graceful, NoWait: true}); err != nil {
		t.Fatal(err)
	}
	<-timers // the start delay's timer: the work is starting the node
	if snap, _ := eng.Ops().Get(op.ID); snap.State.Terminal() || snap.Phase != PhaseStarting || eng.Unavailable() == nil {
		t.Fatalf("after a graceful cancel: %v, phase %q, down %v", snap.State, snap.Phase, eng.Unavailable() != nil)
	}
	out, err := eng.Ops().Cancel(ctx, op.ID, ops.CancelRequest{Mode: ops.Forced})
	if err != nil || !out.Stopped || out.State != ops.Canceled || !out.Forced() {
		t.Fatalf("forced cancel: %+v, %v", out, err)
	}
	if eng.Unavailable() != nil {
		t.Error("the node is still down")
	}
}

func TestNodeStopGracefulCancelStartsAfterDelay(t *testing.T) {
	eng, timers := faultEngine(t)
	op, _ := eng.StopNode(ops.Spec{}, time.Hour)
	<-timers
	eng.Ops().Cancel(context.Background(), op.ID, ops.CancelRequest{Mode: ops.Graceful, NoWait: true})
	close(<-timers)
	if snap := waitFault(t, eng, op); snap.State != ops.Canceled || snap.Forced() {
		t.Errorf("ended %v, forced %v; want Canceled gracefully", snap.State, snap.Forced())
	}
	if eng.Unavailable() != nil {
		t.Error("the node is still down")
	}
}

func TestNodeStopDurationBounded(t *testing.T) {
	eng, _ := faultEngine(t)
	for _, d := range []time.Duration{0, -time.Second, DefaultMaxNodeStop + time.Second} {
		if _, err := eng.StopNode(ops.Spec{}, d); !errors.Is(err, ErrStopDuration) {
			t.Errorf("StopNode(%v) = %v, want ErrStopDuration", d, err)
		}
	}
	if eng.Unavailable() != nil {
		t.Error("a refused stop stopped the node")
	}
	id := uuid.New()
	if _, err := eng.StopNode(ops.Spec{ID: id}, time.Minute); err != nil {
		t.Fatal(err)
	}
	eng.StartNode(ops.Spec{})
	eng.Ops().Wait(context.Background(), id)
	if _, err := eng.StopNode(ops.Spec{ID: id}, time.Minute); !errors.Is(err, ops.ErrAlreadyExists) {
		t.Errorf("a reused id: %v, want ErrAlreadyExists", err)
	}
	if eng.Unavailable() != nil {
		t.Error("a refused stop left the node down")
	}
}

// An engine that abandons its operations (a server stopping) does not wait for a stopped node's
// start delay.
func TestNodeStopAbandonedAtShutdown(t *testing.T) {
	eng, timers := faultEngine(t)
	op, err := eng.StopNode(ops.Spec{}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	<-timers
	if err := eng.Abandon(context.Background()); err != nil {
		t.Fatal(err)
	}
	if snap := waitFault(t, eng, op); snap.State != ops.Abandoned {
		t.Errorf("ended %v, want Abandoned", snap.State)
	}
	select {
	case <-timers:
		t.Error("the stop waited for a start delay")
	default:
	}
}
