package ops_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kustard/kustard/ops"
)

// TestStress starts 200 cancellable operations and cancels a random half of them from several
// goroutines, while the other half are let finish and readers look on. Run it under -race.
func TestStress(t *testing.T) {
	for _, capacity := range []int{1, 4} {
		t.Run(fmt.Sprintf("capacity%d", capacity), func(t *testing.T) { stress(t, capacity) })
	}
}

func stress(t *testing.T, capacity int) {
	const n, cancellers = 200, 4
	before := runtime.NumGoroutine()
	reg := ops.New(ops.Options{Clock: ops.NewStepClock(t0, time.Millisecond), IDs: &ops.SequentialIDs{}, Capacity: capacity})
	rng := rand.New(rand.NewPCG(20260801, uint64(capacity)))

	doomed := map[int]int{} // operation index → the canceller that cancels it
	for k, i := range rng.Perm(n)[:n/2] {
		doomed[i] = k % cancellers
	}
	release := make(chan struct{}) // lets the operations not canceled complete
	var running, most atomic.Int64 // works running now, and at most
	started := make([]*ops.Operation, n)
	for i := range n {
		_, isDoomed := doomed[i]
		op, err := reg.Go(cancellable, func(ctx context.Context) (any, error) {
			now := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
			}
			if isDoomed {
				<-ctx.Done()
				return nil, context.Cause(ctx)
			}
			select {
			case <-release:
				return i, nil
			case <-ctx.Done():
				return nil, errors.New("canceled, but not chosen to be")
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		started[i] = op
	}

	var wg sync.WaitGroup
	for k := range cancellers {
		var mine []int
		for _, i := range rng.Perm(n) {
			if c, ok := doomed[i]; ok && c == k {
				mine = append(mine, i)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			reason := fmt.Sprintf("canceller %d", k)
			for _, i := range mine {
				ctx, stop := context.WithTimeout(context.Background(), long)
				out, err := reg.Cancel(ctx, started[i].ID, ops.CancelRequest{Reason: reason, Origin: "stress"})
				stop()
				if err != nil || !canceled(out) || out.Cancels[0].Reason != reason {
					t.Errorf("Cancel(op %d) = %+v, %v", i, out, err)
				}
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		close(release)
	}()
	go func() { // readers
		defer wg.Done()
		ids := make([]uuid.UUID, 0, n)
		for _, op := range started {
			ids = append(ids, op.ID)
		}
		for range 20 {
			reg.Log()
			reg.Latest(ids)
			reg.Active()
			for tok, first := "", true; first || tok != ""; first = false {
				var err error
				if _, tok, err = reg.List(ops.Filter{States: ops.LiveStates}, 16, tok); err != nil {
					t.Error(err)
					break
				}
			}
			runtime.Gosched()
		}
	}()
	wg.Wait()

	for i, op := range started {
		rec := wait(t, reg, op.ID)
		k, isDoomed := doomed[i]
		switch {
		case isDoomed && (rec.State != ops.Canceled || status(rec) != fmt.Sprintf("canceller %d", k)):
			t.Errorf("op %d ended %s %q, want Canceled by canceller %d", i, rec.State, status(rec), k)
		case !isDoomed && rec.State != ops.Succeeded:
			t.Errorf("op %d ended %s %q, want Completed", i, rec.State, status(rec))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), long)
	defer cancel()
	if err := reg.Close(ctx, "test over"); err != nil {
		t.Fatal(err)
	}
	if m := most.Load(); m > int64(capacity) {
		t.Errorf("%d works ran at once, capacity %d", m, capacity)
	}
	checkHistories(t, reg.Log(), n)
	checkGoroutines(t, before)
}

// checkHistories checks every operation's records: Scheduled or InProgress first, InProgress at
// most once, and one terminal record, last.
func checkHistories(t *testing.T, log []ops.Snapshot, n int) {
	t.Helper()
	byOp := map[uuid.UUID][]ops.State{}
	for _, r := range log {
		byOp[r.ID] = append(byOp[r.ID], r.State)
	}
	if len(byOp) != n {
		t.Errorf("%d operations in the log, want %d", len(byOp), n)
	}
	for id, h := range byOp {
		ok := len(h) >= 2 && len(h) <= 3 && h[len(h)-1].Terminal()
		for i, s := range h[:len(h)-1] {
			ok = ok && !s.Terminal() && (s == ops.Running || i == 0)
		}
		if !ok {
			t.Errorf("operation %s has history %v", id, h)
		}
	}
}
