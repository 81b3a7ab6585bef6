package ops_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/kustard/kustard/ops"
)

func quick(context.Context) (any, error) { return nil, nil }

// TestCallerChosenID: an id the caller chooses is the operation's, and a reused one is refused,
// while the first operation runs and after it has ended; generated ids skip the chosen ones.
func TestCallerChosenID(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	key := id(2) // the next id SequentialIDs would make for an operation
	spec := cancellable
	spec.ID = key
	g := newGate(t)
	op, err := reg.Go(spec, g.held("first"))
	if err != nil || op.ID != key {
		t.Fatalf("Go with ID %s = %v, %v", key, op, err)
	}
	<-g.started
	if _, err := reg.Go(spec, never(t)); !errors.Is(err, ops.ErrAlreadyExists) {
		t.Errorf("Go with a live operation's id = %v, want ErrAlreadyExists", err)
	}
	g.release()
	wait(t, reg, key)
	if _, _, err := reg.Run(context.Background(), spec, never(t)); !errors.Is(err, ops.ErrAlreadyExists) {
		t.Errorf("Run with a finished operation's id = %v, want ErrAlreadyExists", err)
	}
	if _, err := reg.Reject(spec, errors.New("bad")); !errors.Is(err, ops.ErrAlreadyExists) {
		t.Errorf("Reject with a finished operation's id = %v, want ErrAlreadyExists", err)
	}
	if s, err := reg.Get(key); err != nil || s.Result != "first" || s.State != ops.Succeeded {
		t.Errorf("the first operation = %+v, %v; a refused reuse must not touch it", s, err)
	}
	// The first operation's activity took id 1; the next operation's id would be 2, which is
	// taken, so it is 3.
	next, _, err := reg.Run(context.Background(), plain, quick)
	if err != nil || next.ID != id(3) {
		t.Errorf("a generated id after a chosen one = %v, %v; want %s", next.ID, err, id(3))
	}
	if got, want := states(reg.Log()), "2:Running 2:Succeeded 3:Running 3:Succeeded"; got != want {
		t.Errorf("Log = %s, want %s: refused starts leave no record", got, want)
	}
}

// TestOperationIDsSource: with a source of their own, operation ids are 1, 2, 3, … whatever other
// ids are made between them.
func TestOperationIDsSource(t *testing.T) {
	other := &ops.SequentialIDs{}
	reg := ops.New(ops.Options{Clock: ops.NewStepClock(t0, time.Second), IDs: other, OperationIDs: &ops.SequentialIDs{}})
	defer reg.Close(context.Background(), "test over")
	for n := byte(1); n <= 3; n++ {
		reg.IDs().NewID() // the engine's own ids: a table, an extent
		op, _, err := reg.Run(context.Background(), plain, quick)
		if err != nil || op.ID != id(n) {
			t.Errorf("operation %d has id %s, %v; want %s", n, op.ID, err, id(n))
		}
		if s, _ := reg.Get(op.ID); s.ActivityID != id(2*n) {
			t.Errorf("operation %d has activity %s, want %s from the other source", n, s.ActivityID, id(2*n))
		}
	}
}

// TestPhaseAndProgress: what running work reports through its Handle shows in every snapshot
// while it runs, and the final snapshot keeps the last report.
func TestPhaseAndProgress(t *testing.T) {
	reg, _ := newRegistry(t, ops.Options{})
	reported, g := make(chan struct{}), newGate(t)
	var seenID uuid.UUID
	op, _ := reg.Go(cancellable, func(ctx context.Context) (any, error) {
		h := ops.FromContext(ctx)
		seenID = h.ID()
		h.SetPhase("building extent")
		h.SetProgress(250, 1000)
		close(reported)
		<-g.open
		h.SetDone(1000)
		h.SetPhase("committing")
		return nil, nil
	})
	<-reported
	want := ops.Progress{Done: 250, Total: 1000}
	get, _ := reg.Get(op.ID)
	listed, _, _ := reg.List(ops.Filter{}, 0, "")
	for name, s := range map[string]ops.Snapshot{
		"Get": get, "Latest": latest(t, reg, op.ID), "Active": reg.Active()[0], "List": listed[0], "Operation.Snapshot": op.Snapshot(),
	} {
		if s.Phase != "building extent" || s.Progress != want || s.State != ops.Running {
			t.Errorf("%s: %s %q %+v, want Running, building extent, %+v", name, s.State, s.Phase, s.Progress, want)
		}
	}
	if log := reg.Log(); log[0].Phase != "" || log[0].Progress != (ops.Progress{}) {
		t.Errorf("the Running record shows %q %+v: a record is the operation at its state change", log[0].Phase, log[0].Progress)
	}
	g.release()
	rec := wait(t, reg, op.ID)
	if seenID != op.ID || rec.Phase != "committing" || rec.Progress != (ops.Progress{Done: 1000, Total: 1000}) {
		t.Errorf("final snapshot %q %+v (handle id %s), want committing, 1000 of 1000", rec.Phase, rec.Progress, seenID)
	}

	// Work run outside a registry has no Handle; its methods do nothing.
	h := ops.FromContext(context.Background())
	h.SetPhase("x")
	h.SetProgress(1, 2)
	h.SetDone(2)
	if _, ok := h.Cancellation(); ok || h.ID() != uuid.Nil {
		t.Error("a nil Handle reported something")
	}
}

// listAll pages through List with pageSize, and returns the ids it saw, as "<last byte>" words.
func listAll(t *testing.T, reg *ops.Registry, f ops.Filter, pageSize int) []byte {
	t.Helper()
	var got []byte
	tok := ""
	for range 100 {
		page, next, err := reg.List(f, pageSize, tok)
		if err != nil {
			t.Fatal(err)
		}
		if pageSize > 0 && len(page) > pageSize {
			t.Fatalf("a page of %d, want at most %d", len(page), pageSize)
		}
		for _, s := range page {
			got = append(got, s.ID[15])
		}
		if next == "" {
			return got
		}
		tok = next
	}
	t.Fatal("List never ended")
	return nil
}

func TestListFilterAndPaging(t *testing.T) {
	reg, clock := newRegistry(t, ops.Options{})
	reg.Run(context.Background(), plain, quick)                                                                       // 1, at t0
	reg.Run(context.Background(), cancellable, func(context.Context) (any, error) { return nil, errors.New("boom") }) // 3
	g := newGate(t)
	live, _ := reg.Go(cancellable, g.held(nil)) // 5
	<-g.started
	clock.Advance(time.Hour)
	later := clock.Peek()
	reg.Run(context.Background(), plain, quick)      // 7
	reg.Reject(cancellable, errors.New("bad input")) // 9

	for _, tc := range []struct {
		name string
		f    ops.Filter
		want []byte
	}{
		{"all", ops.Filter{}, []byte{1, 3, 5, 7, 9}},
		{"kind", ops.Filter{Kinds: []string{"TableCreate"}}, []byte{1, 7}},
		{"live", ops.Filter{States: ops.LiveStates}, []byte{5}},
		{"ended", ops.Filter{States: ops.EndStates}, []byte{1, 3, 7, 9}},
		{"state and kind", ops.Filter{Kinds: []string{"TableSetOrAppend"}, States: []ops.State{ops.Failed, ops.BadInput}}, []byte{3, 9}},
		{"since", ops.Filter{Since: later}, []byte{7, 9}},
		{"until", ops.Filter{Until: later}, []byte{1, 3, 5}},
		{"match", ops.Filter{Match: func(s ops.Snapshot) bool { return s.Err != nil }}, []byte{3, 9}},
	} {
		for _, size := range []int{0, 1, 2, 10} {
			if got := listAll(t, reg, tc.f, size); !slices.Equal(got, tc.want) {
				t.Errorf("%s, pages of %d: %v, want %v", tc.name, size, got, tc.want)
			}
		}
	}

	// Operations that start between pages come after the ones listed, and none is listed twice;
	// one that ends between pages is listed as it is when its page is read.
	page, tok, err := reg.List(ops.Filter{}, 2, "")
	if err != nil || len(page) != 2 || tok == "" {
		t.Fatalf("first page = %d, %q, %v", len(page), tok, err)
	}
	reg.Run(context.Background(), plain, quick) // 11
	g.release()
	wait(t, reg, live.ID)
	var rest []byte
	var ended []ops.State
	for tok != "" {
		page, tok, err = reg.List(ops.Filter{}, 2, tok)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			rest = append(rest, s.ID[15])
			ended = append(ended, s.State)
		}
	}
	if !slices.Equal(rest, []byte{5, 7, 9, 11}) || ended[0] != ops.Succeeded {
		t.Errorf("after an insert, the next pages are %v (%v), want [5 7 9 11], 5 Succeeded", rest, ended)
	}

	_, tok, _ = reg.List(ops.Filter{Kinds: []string{"TableCreate"}}, 1, "")
	if _, _, err := reg.List(ops.Filter{}, 1, tok); !errors.Is(err, ops.ErrBadPageToken) {
		t.Errorf("a token with another filter = %v, want ErrBadPageToken", err)
	}
	for _, bad := range []string{"x", "bm90IGEgdG9rZW4", "MS54LjE"} {
		if _, _, err := reg.List(ops.Filter{}, 1, bad); !errors.Is(err, ops.ErrBadPageToken) {
			t.Errorf("List with token %q = %v, want ErrBadPageToken", bad, err)
		}
	}
}

// recordingStore is a Store that counts the writes it passes on to another.
type recordingStore struct {
	ops.Store
	puts, appends int
	fail          error // returned by every write once set
}

func (s *recordingStore) Put(snap ops.Snapshot) error {
	if s.fail != nil {
		return s.fail
	}
	s.puts++
	return s.Store.Put(snap)
}

func (s *recordingStore) Append(rec ops.Snapshot) error {
	if s.fail != nil {
		return s.fail
	}
	s.appends++
	return s.Store.Append(rec)
}

var _ ops.Store = (*ops.MemoryStore)(nil)

// TestStore: the registry keeps everything in its Store, through the interface: a second
// registry over the same store finds the first one's operations, their cancel requests and log,
// continues their order, and refuses their ids.
func TestStore(t *testing.T) {
	store := &recordingStore{Store: ops.NewMemoryStore()}
	first := ops.New(ops.Options{Clock: ops.NewStepClock(t0, time.Second), IDs: &ops.SequentialIDs{}, Store: store})
	a, _, _ := first.Run(context.Background(), plain, func(context.Context) (any, error) { return "a", nil })
	started := make(chan struct{})
	b, _ := first.Go(cancellable, func(ctx context.Context) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	<-started
	ctx, stop := context.WithTimeout(context.Background(), long)
	defer stop()
	if out, err := first.Cancel(ctx, b.ID, ops.CancelRequest{Reason: "stop", Origin: "test"}); err != nil || !canceled(out) {
		t.Fatalf("Cancel = %+v, %v", out, err)
	}
	if err := first.Close(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	// Each operation: its first snapshot and one a state change; b's cancel request, once more.
	if store.puts != 7 || store.appends != 4 {
		t.Errorf("the registry wrote %d snapshots and %d records, want 7 and 4", store.puts, store.appends)
	}
	var seqs []uint64
	for s := range store.Scan(0) {
		seqs = append(seqs, s.Seq)
	}
	if !slices.Equal(seqs, []uint64{1, 2}) {
		t.Errorf("the store holds operations %v, want [1 2]", seqs)
	}

	second := ops.New(ops.Options{Clock: ops.NewStepClock(t0.Add(time.Minute), time.Second), IDs: &ops.SequentialIDs{}, Store: store})
	defer second.Close(context.Background(), "test over")
	if s, err := second.Get(a.ID); err != nil || s.Result != "a" || s.State != ops.Succeeded {
		t.Errorf("Get(a) from the second registry = %+v, %v", s, err)
	}
	if s, err := second.Get(b.ID); err != nil || s.State != ops.Canceled || len(s.Cancels) != 1 || s.Cancels[0].Reason != "stop" {
		t.Errorf("Get(b) from the second registry = %+v, %v; want Canceled with its request", s, err)
	}
	if got, want := states(second.Log()), "1:Running 1:Succeeded 3:Running 3:Canceled"; got != want {
		t.Errorf("Log = %s, want %s", got, want)
	}
	// Its SequentialIDs start again at 1: taken ids are skipped, and the order goes on.
	c, _, err := second.Run(context.Background(), plain, quick)
	if err != nil || c.ID == a.ID || c.ID == b.ID {
		t.Fatalf("Run on the second registry = %v, %v", c, err)
	}
	if s, _ := second.Get(c.ID); s.Seq != 3 {
		t.Errorf("the second registry's first operation has Seq %d, want 3", s.Seq)
	}
	spec := plain
	spec.ID = a.ID
	if _, _, err := second.Run(context.Background(), spec, never(t)); !errors.Is(err, ops.ErrAlreadyExists) {
		t.Errorf("reusing an id of the first registry = %v, want ErrAlreadyExists", err)
	}
}

// TestStoreErrors: a store that fails at the start fails the start; one that fails later is
// reported to StoreError, and the operation goes on.
func TestStoreErrors(t *testing.T) {
	store := &recordingStore{Store: ops.NewMemoryStore()}
	var reported []error
	reg := ops.New(ops.Options{Clock: ops.NewStepClock(t0, time.Second), IDs: &ops.SequentialIDs{}, Store: store,
		StoreError: func(err error) { reported = append(reported, err) }})
	defer reg.Close(context.Background(), "test over")
	disk := errors.New("disk full")
	op, _, err := reg.Run(context.Background(), plain, func(context.Context) (any, error) {
		store.fail = disk
		return "ran", nil
	})
	if err != nil || op == nil {
		t.Fatalf("Run = %v, %v", op, err)
	}
	if len(reported) != 2 || !errors.Is(reported[0], disk) {
		t.Errorf("StoreError heard %v, want the failed snapshot and record", reported)
	}
	if _, _, err := reg.Run(context.Background(), plain, never(t)); !errors.Is(err, disk) {
		t.Errorf("Run with a failing store = %v, want its error", err)
	}
	if len(reg.Active()) != 0 {
		t.Error("a start that failed left a live operation")
	}
}

// Scan must be stable in Seq order after pruning too.
func TestMemoryStorePrune(t *testing.T) {
	m := ops.NewMemoryStore()
	for n := range byte(200) {
		s := ops.Snapshot{Seq: uint64(n) + 1, ID: id(n + 1), Created: t0, Updated: t0.Add(time.Duration(n) * time.Second), State: ops.Succeeded}
		if n%3 == 0 {
			s.State = ops.Running // live: never pruned
		}
		m.Put(s)
		m.Append(s)
	}
	m.Prune(t0.Add(150*time.Second), 0)
	var seqs []uint64
	for s := range m.Scan(0) {
		seqs = append(seqs, s.Seq)
	}
	var want []uint64
	for n := range uint64(200) {
		if n%3 == 0 || n >= 150 {
			want = append(want, n+1)
		}
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("after Prune, Scan = %v\nwant %v", seqs, want)
	}
	if got := collect(m.Scan(151)); len(got) == 0 || got[0].Seq != 152 {
		t.Errorf("Scan(151) starts at %v, want Seq 152", got)
	}
	if _, ok := m.Get(id(2)); ok {
		t.Error("Get found a pruned operation")
	}
	if s, ok := m.Get(id(4)); !ok || s.Seq != 4 {
		t.Error("Get lost a live operation")
	}
	if n := len(collect(m.Log())); n != 50 {
		t.Errorf("the log keeps %d records, want 50", n)
	}
	// Pruning the rest leaves only the live operations, and compacts the store.
	m.Prune(t0.Add(time.Hour), 0)
	seqs, want = nil, nil
	for s := range m.Scan(0) {
		seqs = append(seqs, s.Seq)
		if got, ok := m.Get(s.ID); !ok || got.Seq != s.Seq {
			t.Errorf("Get(%s) after compaction = %v, %v", s.ID, got.Seq, ok)
		}
	}
	for n := uint64(0); n < 200; n += 3 {
		want = append(want, n+1)
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("after a second Prune, Scan = %v\nwant %v", seqs, want)
	}
	if got := collect(m.Scan(100)); len(got) == 0 || got[0].Seq != 103 {
		t.Errorf("Scan(100) after compaction starts at %v, want Seq 103", got)
	}
}

func collect(seq iter.Seq[ops.Snapshot]) []ops.Snapshot { return slices.Collect(seq) }
