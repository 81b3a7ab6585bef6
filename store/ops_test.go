package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	bolt "go.etcd.io/bbolt"
)

// crashAfterCommit is the catalog store of a process killed just after a commit that completes
// an operation: the commit is on disk, and every later write of the process (the operation's
// own Completed record) is lost, as the metadata file is closed under it.
type crashAfterCommit struct {
	*catalogStore
	crashed chan struct{}
}

func (c *crashAfterCommit) Commit(cm *engine.Commit) error {
	err := c.catalogStore.Commit(cm)
	if err == nil && slices.ContainsFunc(cm.Changes, func(ch engine.Change) bool {
		_, ok := ch.(*engine.CompleteOperation)
		return ok
	}) {
		c.s.db.Close()
		close(c.crashed)
	}
	return err
}

// crashAfterIngest runs ingest (one async ingest command) on a new store in dir, and "kills"
// the process just after the ingest's data commits, before its operation is recorded
// Completed.
func crashAfterIngest(t *testing.T, dir, ingest string) {
	t.Helper()
	eng, st := open(t, dir, 1, func(o *engine.Options) {
		o.Store = &crashAfterCommit{catalogStore: st0(o), crashed: make(chan struct{})}
	})
	crash := eng.Options().Store.(*crashAfterCommit)
	run(t, eng, ingest)
	<-crash.crashed
	eng.Close(context.Background()) // its writes fail: the metadata file is closed
	st.Close()
}

// st0 is the catalog store the options were made with.
func st0(o *engine.Options) *catalogStore { return o.Store.(*catalogStore) }

// An ingest killed after its data committed, before its operation was recorded Completed,
// comes back Completed with its result, not Abandoned: the commit recorded the completion.
func TestCompletedWithItsCommit(t *testing.T) {
	dir := t.TempDir()
	crashAfterIngest(t, dir, ".set-or-append async T with (persistDetails=true) <| range x from 1 to 5 step 1")
	// Before the open, the operation's own record is still Running, and the completion waits.
	db, err := bolt.Open(dir+"/"+metaName, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pending int
	db.View(func(tx *bolt.Tx) error { pending = tx.Bucket(bucketCompleted).Stats().KeyN; return nil })
	db.Close()
	if pending != 1 {
		t.Fatalf("%d completion records after the crash; want 1", pending)
	}

	eng, st := open(t, dir, 2)
	got := run(t, eng, `T | count

.show operations | project OperationId, Operation, State, Status

.show operation 01000000-0000-0000-0000-000000000001 details`)
	shut(t, eng, st)
	golden(t, "completed_at_restart.txt", got)
	if strings.Contains(got, "Abandoned") || !strings.Contains(got, "Completed") {
		t.Errorf("the operation whose rows committed did not come back Completed:\n%s", got)
	}
	if !strings.Contains(got, "│ 5") {
		t.Errorf("T or the details do not show the 5 rows:\n%s", got)
	}
	db, err = bolt.Open(dir+"/"+metaName, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error { pending = tx.Bucket(bucketCompleted).Stats().KeyN; return nil })
	db.Close()
	if pending != 0 {
		t.Errorf("%d completion records after the open; each belongs in its operation's record", pending)
	}
}

// A completion is kept only until the operation's record says it ended: a clean run leaves
// none, and a canceled or failed ingest never makes one.
func TestCompletionsCleared(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	got := run(t, eng, `.set-or-append T <| print x = 1

.set-or-replace R <| print x = 1 | where x > 1

.set-or-append T <| print x = 1/0

.set-or-append T <| range x from 1 to 3 step 1 | extend y = toint(x)`)
	var pending int
	st.db.View(func(tx *bolt.Tx) error { pending = tx.Bucket(bucketCompleted).Stats().KeyN; return nil })
	shut(t, eng, st)
	if pending != 0 {
		t.Errorf("%d completion records after the ingests ended:\n%s", pending, got)
	}
}

// `.show operation <id> details` works after a restart: the ingest's extents table is kept in
// the operation's record; an operation that did not persist its details still says so.
func TestDetailsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	const show = `.show operation 01000000-0000-0000-0000-000000000001 details

.show operation 01000000-0000-0000-0000-000000000002 details

.show operation 01000000-0000-0000-0000-000000000003 details`
	run(t, eng, `.set-or-append T with (persistDetails=true) <| range x from 1 to 7 step 1

.set-or-append T <| print x = 8

.set-or-replace R with (persistDetails=true) <| print x = 1 | where x > 1`)
	before := run(t, eng, show)
	shut(t, eng, st)

	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	after := run(t, eng, show)
	if after != before {
		t.Errorf("the details after a restart:\n%s\nbefore:\n%s", after, before)
	}
	golden(t, "details.txt", after)
	if !strings.Contains(after, "│ 7") || !strings.Contains(after, "did not persist its results") {
		t.Errorf("the details after a restart:\n%s", after)
	}
}

// A canceled ingest leaves nothing: its rows were built, the cancel came before the commit, so
// no extent and no completion is recorded, and after a restart it is still Canceled.
func TestCanceledIngestLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	gate, reached := make(chan struct{}), make(chan struct{})
	eng.RegisterStream("Slow", engine.Stream{Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}}, Open: func(ctx context.Context) engine.Operator {
		n := 0
		return engine.NewOperator(func() (*engine.Batch, error) {
			if n++; n == 1 {
				return &engine.Batch{Cols: []engine.Column{engine.NewVector(kusto.TypeLong, []int64{1}, nil)}, Len: 1}, nil
			}
			close(reached)
			<-gate // the rows are built; the ingest's end waits for the test
			return nil, nil
		})
	}})
	run(t, eng, ".set-or-append async T <| Slow")
	<-reached
	run(t, eng, ".cancel operation 01000000-0000-0000-0000-000000000001")
	close(gate)
	final, err := eng.Ops().Wait(context.Background(), uuid.MustParse("01000000-0000-0000-0000-000000000001"))
	if err != nil {
		t.Fatal(err)
	}
	var pending int
	st.db.View(func(tx *bolt.Tx) error { pending = tx.Bucket(bucketCompleted).Stats().KeyN; return nil })
	shut(t, eng, st)
	if engine.KustoState(final.State) != "Canceled" || pending != 0 {
		t.Fatalf("the canceled ingest ended %s, with %d completion records", engine.KustoState(final.State), pending)
	}
	if es := entries(t, dir+"/"+extentsDir); len(es) != 0 {
		t.Errorf("extent files after the canceled ingest: %v", es)
	}
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	got := run(t, eng, "T | count\n\n.show operations | project State")
	if !strings.Contains(got, "│ 0") || !strings.Contains(got, "│ Canceled   │\n└") { // the last state
		t.Errorf("after a restart:\n%s", got)
	}
}
