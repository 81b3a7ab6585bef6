package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// TestKustoView: every state of the core has its `.show operations` name, and Status is the
// reason of a cancel or a skip, or the error's text.
func TestKustoView(t *testing.T) {
	want := "Scheduled InProgress Completed PartiallySucceeded Failed Canceled Abandoned Skipped BadInput Throttled"
	got := ""
	for i, s := range ops.States {
		if i > 0 {
			got += " "
		}
		got += KustoState(s)
	}
	if got != want {
		t.Errorf("Kusto states = %s, want %s", got, want)
	}
	for _, tc := range []struct {
		s    ops.Snapshot
		want string
	}{
		{ops.Snapshot{State: ops.Running}, ""},
		{ops.Snapshot{State: ops.Succeeded, Cancels: []ops.Cancellation{{Reason: "late"}}}, ""},
		{ops.Snapshot{State: ops.Canceled, Err: &ops.CanceledError{Reason: "by me"}}, "by me"},
		{ops.Snapshot{State: ops.Canceled, Err: context.Canceled}, "Operation was canceled"},
		{ops.Snapshot{State: ops.Skipped, Err: fmt.Errorf("wrapped: %w", &ops.SkippedError{Reason: "tag exists"})}, "tag exists"},
		{ops.Snapshot{State: ops.BadInput, Err: &kusto.Error{Kind: kusto.KindSemantic, Offset: 3, Msg: "no column x"}}, "no column x"},
		{ops.Snapshot{State: ops.Failed, Err: errors.New("boom")}, "boom"},
	} {
		if got := KustoStatus(tc.s); got != tc.want {
			t.Errorf("KustoStatus(%s, %v) = %q, want %q", tc.s.State, tc.s.Err, got, tc.want)
		}
	}
}

// TestIngestPhaseAndProgress: a running ingest shows its phase and the rows it has read in its
// operation's snapshot.
func TestIngestPhaseAndProgress(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	eng := newConcurrencyEngine(0)
	gate := make(chan struct{})
	g := &gatedStream{src: 1, before: 3 * batchSize, after: 10, gate: gate, reached: make(chan struct{})}
	eng.RegisterStream("G", Stream{Schema: gatedSchema, Open: g.open})
	s := eng.NewSession()
	res := executeText(t, s, ".set-or-append async T <| G")
	if res == nil {
		t.FailNow()
	}
	id, _ := AsyncOperationID(res.Frame)
	<-g.reached
	// The stream waits at the gate once it has yielded its rows; the ingest has counted them by
	// the time it asks for the next batch.
	snap, err := eng.Ops().Get(id)
	if err != nil || snap.Phase != "building extent" || snap.Progress.Done != int64(g.before) || snap.Progress.Total != 0 {
		t.Errorf("running ingest: %q %+v, %v; want building extent, %d rows of an unknown total", snap.Phase, snap.Progress, err, g.before)
	}
	close(gate)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	final, err := eng.Ops().Wait(ctx, id)
	if err != nil || final.State != ops.Succeeded || final.Phase != "committing" || final.Progress.Done != int64(g.before+g.after) {
		t.Errorf("finished ingest: %s %q %+v, %v", final.State, final.Phase, final.Progress, err)
	}
	closeAndCheckGoroutines(t, eng, goroutines)
}
