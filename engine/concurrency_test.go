package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// Concurrency tests: many ingests canceled from many goroutines must each commit all their rows
// or none, end in the state their history calls for, and leave no goroutine behind. Run them
// under -race.

// newConcurrencyEngine returns an engine with a deterministic clock and ids. capacity 0 means
// the default.
func newConcurrencyEngine(capacity int) *Engine {
	return New(Options{
		Clock:    ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:      &ops.SequentialIDs{},
		Capacity: capacity,
		User:     "kustard",
	})
}

// executeText executes text and fails the test (from any goroutine) on an error.
func executeText(t *testing.T, s *Session, text string) *Result {
	t.Helper()
	res, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: text})
	if err != nil {
		t.Errorf("%s: %v", text, err)
		return nil
	}
	return res
}

// queryScalar runs a query that returns one value, and returns it.
func queryScalar(t *testing.T, s *Session, text string) any {
	t.Helper()
	res := executeText(t, s, text)
	if res == nil || res.Rows != 1 || len(res.Cols) != 1 {
		t.Fatalf("%s: want one value, got %v", text, res)
	}
	return res.Value(0, 0)
}

// showOperation returns State and Status of `.show operations <id>`.
func showOperation(t *testing.T, s *Session, id uuid.UUID) (state, status string) {
	t.Helper()
	res := executeText(t, s, ".show operations "+id.String())
	if res == nil || res.Rows != 1 {
		t.Fatalf(".show operations %s: want one row, got %v", id, res)
	}
	return res.Value(0, operationsSchema.Index("State")).(string), res.Value(0, operationsSchema.Index("Status")).(string)
}

// closeAndCheckGoroutines closes the engine and waits, up to a deadline, until no more
// goroutines are left than there were before it was made.
func closeAndCheckGoroutines(t *testing.T, eng *Engine, before int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := eng.Close(ctx); err != nil {
		t.Fatalf("closing the engine: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines left after Close, %d before the engine:\n%s", runtime.NumGoroutine(), before, buf)
		}
		time.Sleep(time.Millisecond) // polling a count, not waiting for an event
	}
}

// gatedStream is a stream of rows (x = 1…, src = its number) that yields before rows, in
// batches, then waits for gate (or its context) before it yields after more.
type gatedStream struct {
	src           int64
	before, after int
	gate          <-chan struct{}
	reached       chan struct{} // closed when it has yielded before rows and waits at the gate
}

var gatedSchema = Schema{{"x", kusto.TypeLong}, {"src", kusto.TypeLong}}

func (g *gatedStream) open(ctx context.Context) Operator {
	done := ctx.Done()
	sent, total := 0, g.before+g.after
	return NewOperator(func() (*Batch, error) {
		if sent == g.before {
			close(g.reached)
			select {
			case <-g.gate:
			case <-done:
				return nil, context.Cause(ctx)
			}
		}
		select {
		case <-done:
			return nil, context.Cause(ctx)
		default:
		}
		if sent == total {
			return nil, nil
		}
		hi := min(sent+batchSize, total)
		if sent < g.before {
			hi = min(hi, g.before)
		}
		xs, srcs := make([]int64, hi-sent), make([]int64, hi-sent)
		for i := range xs {
			xs[i], srcs[i] = int64(sent+i+1), g.src
		}
		sent = hi
		return &Batch{Cols: []Column{NewVector(kusto.TypeLong, xs, nil), NewVector(kusto.TypeLong, srcs, nil)}, Len: len(xs)}, nil
	})
}

// TestConcurrentIngestCancel starts 200 async ingests, each from its own gated stream into its
// own table, cancels a seeded half of them from several goroutines while every running one
// holds rows and waits at its gate, then opens the gates. Each canceled ingest must commit
// nothing and end Canceled with its reason; each other must commit all its rows and end
// Completed. One table per ingest is what makes "nothing" and "all" checkable: a table the
// command creates is committed before the data, so a canceled ingest leaves it empty.
func TestConcurrentIngestCancel(t *testing.T) {
	for _, capacity := range []int{4, 0} {
		name := fmt.Sprintf("capacity=%d", capacity)
		if capacity == 0 {
			name = "capacity=default"
		}
		t.Run(name, func(t *testing.T) { testConcurrentIngestCancel(t, capacity) })
	}
}

func testConcurrentIngestCancel(t *testing.T, capacity int) {
	const (
		ingests   = 200
		before    = 2*batchSize + 500 // three batches, then the gate
		after     = 2 * batchSize
		cancelers = 8
	)
	goroutines := runtime.NumGoroutine()
	eng := newConcurrencyEngine(capacity)
	gate := make(chan struct{})
	streams := make([]*gatedStream, ingests)
	for i := range streams {
		g := &gatedStream{src: int64(i), before: before, after: after, gate: gate, reached: make(chan struct{})}
		streams[i] = g
		eng.RegisterStream(fmt.Sprintf("S%d", i), Stream{Schema: gatedSchema, Open: g.open})
	}
	s := eng.NewSession()
	ids := make([]uuid.UUID, ingests)
	for i := range ids {
		res := executeText(t, s, fmt.Sprintf(".set-or-append async T%d <| S%d", i, i))
		if res == nil {
			t.FailNow()
		}
		ids[i] = res.Value(0, 0).(uuid.UUID)
	}

	// A seeded half to cancel; ingest 0 always among them, so that at least one cancel finds
	// rows already built.
	rng := rand.New(rand.NewSource(20240101))
	toCancel := rng.Perm(ingests)[:ingests/2]
	if !slices.Contains(toCancel, 0) {
		toCancel[0] = 0
	}
	canceled := make([]bool, ingests)
	for _, i := range toCancel {
		canceled[i] = true
	}
	// The first Capacity ingests were admitted at once; wait until each holds its rows.
	for i := range min(eng.Ops().Capacity(), ingests) {
		<-streams[i].reached
	}

	reason := func(i int) string { return fmt.Sprintf("canceled by the test (%d)", i) }
	work := make(chan int)
	var wg sync.WaitGroup
	for range cancelers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := eng.NewSession()
			for i := range work {
				res := executeText(t, cs, fmt.Sprintf(".cancel operation %s with(reason=%q)", ids[i], reason(i)))
				if res == nil {
					continue
				}
				state, phrase := res.Value(0, cancelSchema.Index("CancellationState")), res.Value(0, cancelSchema.Index("ReasonPhrase"))
				if state != canceledSuccessfully || phrase != reason(i) {
					t.Errorf("cancel of ingest %d: %v, %v; want %q, %q", i, state, phrase, canceledSuccessfully, reason(i))
				}
			}
		}()
	}
	for _, i := range toCancel {
		work <- i
	}
	close(work)
	wg.Wait()
	close(gate)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	heldRows := 0 // canceled ingests whose stream had yielded rows
	for i, id := range ids {
		if _, err := eng.Ops().Wait(ctx, id); err != nil {
			t.Fatalf("ingest %d did not stop: %v", i, err)
		}
		state, status := showOperation(t, s, id)
		rows := queryScalar(t, s, fmt.Sprintf("T%d | count", i))
		if canceled[i] {
			select {
			case <-streams[i].reached:
				heldRows++
			default:
			}
			if state != "Canceled" || status != reason(i) || rows != int64(0) {
				t.Errorf("canceled ingest %d: state %s, status %q, %v rows committed; want Canceled, %q, 0 rows", i, state, status, rows, reason(i))
			}
			continue
		}
		if state != "Completed" || status != "" || rows != int64(before+after) {
			t.Errorf("ingest %d: state %s, status %q, %v rows committed; want Completed, no status, %d rows", i, state, status, rows, before+after)
		}
		if bad := queryScalar(t, s, fmt.Sprintf("T%d | where src != %d or x < 1 or x > %d | count", i, i, before+after)); bad != int64(0) {
			t.Errorf("ingest %d committed %v rows that are not its stream's", i, bad)
		}
	}
	if heldRows == 0 {
		t.Errorf("no canceled ingest held rows when it was canceled; the test proves nothing about atomicity")
	}
	closeAndCheckGoroutines(t, eng, goroutines)
}

// TestCancelStopsHugeRange cancels an ingest of a range that would take hours: it must stop,
// commit no rows, and leave no goroutine. The synchronous form is canceled once it holds a
// million rows.
func TestCancelStopsHugeRange(t *testing.T) {
	const huge = "range x from 1 to 1000000000000 step 1"
	t.Run("async", func(t *testing.T) {
		goroutines := runtime.NumGoroutine()
		eng := newConcurrencyEngine(0)
		s := eng.NewSession()
		res := executeText(t, s, ".set-or-append async T <| "+huge)
		if res == nil {
			t.FailNow()
		}
		id := res.Value(0, 0).(uuid.UUID)
		checkHugeRangeCanceled(t, s, id)
		closeAndCheckGoroutines(t, eng, goroutines)
	})
	t.Run("sync", func(t *testing.T) {
		goroutines := runtime.NumGoroutine()
		eng := newConcurrencyEngine(0)
		ingest := eng.NewSession()
		reached := make(chan struct{})
		progress := func(rows int64) {
			if rows >= 1_000_000 && reached != nil {
				close(reached)
				reached = nil
			}
		}
		wait := reached
		done := make(chan error, 1)
		go func() {
			_, err := ingest.Execute(context.Background(), Request{Progress: progress}, &kusto.Source{Text: ".set-or-append T <| " + huge})
			done <- err
		}()
		<-wait
		active := eng.Ops().Active()
		if len(active) != 1 {
			t.Fatalf("want one operation in progress, got %v", active)
		}
		s := eng.NewSession()
		checkHugeRangeCanceled(t, s, active[0].ID)
		var perr *kusto.Error
		if err := <-done; !errors.As(err, &perr) || perr.Kind != kusto.KindCanceled {
			t.Errorf("the canceled ingest returned %v; want a KindCanceled error", err)
		}
		closeAndCheckGoroutines(t, eng, goroutines)
	})
}

func checkHugeRangeCanceled(t *testing.T, s *Session, id uuid.UUID) {
	t.Helper()
	res := executeText(t, s, ".cancel operation "+id.String()+` with(reason="too big")`)
	if res == nil {
		t.FailNow()
	}
	if got := res.Value(0, cancelSchema.Index("CancellationState")); got != canceledSuccessfully {
		t.Errorf(".cancel operation: %v, %v; want %q", got, res.Value(0, cancelSchema.Index("ReasonPhrase")), canceledSuccessfully)
	}
	if state, status := showOperation(t, s, id); state != "Canceled" || status != "too big" {
		t.Errorf(".show operations: %s, %q; want Canceled, %q", state, status, "too big")
	}
	if rows := queryScalar(t, s, "T | count"); rows != int64(0) {
		t.Errorf("the canceled ingest committed %v rows", rows)
	}
}
