package engine

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Catalog tests: transactions commit all their changes or none, conflicting ones are detected,
// snapshots never change, and the store sees every commit, in order, as a list of changes it
// could replay.

// recordingStore keeps the commits it is given, and replays them on Load.
type recordingStore struct {
	mu      sync.Mutex
	commits []*Commit
	fail    error // returned by Commit when set
}

func (s *recordingStore) Load(replay func(*Commit) error) error {
	for _, c := range s.commits {
		if err := replay(c); err != nil {
			return err
		}
	}
	return nil
}

func (s *recordingStore) Commit(c *Commit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.commits = append(s.commits, c)
	return nil
}

func (s *recordingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.commits)
}

const testDB = "db"

var testSchema = Schema{{"a", kusto.TypeLong}, {"b", kusto.TypeString}}

// newTestCatalog returns a catalog with database db and table T (testSchema).
func newTestCatalog(t *testing.T) (*Catalog, *recordingStore) {
	t.Helper()
	store := &recordingStore{}
	cat, err := NewCatalog(store)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, cat, func(tx *Txn) error {
		if err := tx.CreateDatabase(testDB, uuid.New()); err != nil {
			return err
		}
		return tx.CreateTable(testDB, "T", uuid.New(), testSchema, "", "")
	})
	return cat, store
}

func mustUpdate(t *testing.T, cat *Catalog, fn func(tx *Txn) error) *Snapshot {
	t.Helper()
	s, err := cat.Update(fn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// longExtent returns an extent of one long column holding xs.
func longExtent(xs ...int64) *Extent {
	return NewExtent(uuid.New(), len(xs), []kusto.Type{kusto.TypeLong}, MemoryData{NewVector(kusto.TypeLong, xs, nil)})
}

func mustTable(t *testing.T, s *Snapshot, name string) TableInfo {
	t.Helper()
	ti, ok := s.Table(testDB, name)
	if !ok {
		t.Fatalf("table %q does not exist at version %d", name, s.Version)
	}
	return ti
}

func TestTxnCommitAndAbort(t *testing.T) {
	cat, store := newTestCatalog(t)
	before := cat.Snapshot()

	tx := cat.Begin()
	if err := tx.CreateTable(testDB, "U", uuid.New(), testSchema, "f", "d"); err != nil {
		t.Fatal(err)
	}
	if err := tx.AppendExtents(testDB, "T", longExtent(1, 2)); err != nil {
		t.Fatal(err)
	}
	if _, ok := tx.Table(testDB, "U"); !ok {
		t.Errorf("a transaction does not see its own table")
	}
	if _, ok := cat.Snapshot().Table(testDB, "U"); ok {
		t.Errorf("an uncommitted table is visible outside its transaction")
	}
	tx.Abort()
	if cat.Snapshot() != before || store.count() != 1 {
		t.Errorf("abort changed the catalog (version %d, %d commits); want it untouched", cat.Snapshot().Version, store.count())
	}
	if mustTable(t, cat.Snapshot(), "T").Rows() != 0 {
		t.Errorf("an aborted append left rows")
	}
	if err := tx.DropTable(testDB, "T"); !errors.Is(err, errTxnDone) {
		t.Errorf("a change after abort: %v; want errTxnDone", err)
	}
	if _, err := tx.Commit(); !errors.Is(err, errTxnDone) {
		t.Errorf("commit after abort: %v; want errTxnDone", err)
	}

	tx = cat.Begin()
	u := uuid.New()
	if err := tx.CreateTable(testDB, "U", u, testSchema, "f", "d"); err != nil {
		t.Fatal(err)
	}
	if err := tx.AppendExtents(testDB, "U", longExtent(1, 2)); err != nil {
		t.Fatal(err)
	}
	s, err := tx.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if s != cat.Snapshot() || s.Version != before.Version+1 {
		t.Errorf("commit returned version %d, latest %d; want both %d", s.Version, cat.Snapshot().Version, before.Version+1)
	}
	got := mustTable(t, s, "U")
	if got.ID != u || got.Folder != "f" || got.DocString != "d" || got.Rows() != 2 || got.Version != s.Version {
		t.Errorf("committed table: %+v", got)
	}
	if _, ok := before.Table(testDB, "U"); ok {
		t.Errorf("a commit changed an earlier snapshot")
	}
	last := store.commits[len(store.commits)-1]
	if last.Version != s.Version || len(last.Changes) != 2 {
		t.Fatalf("the store got %+v; want version %d with 2 changes", last, s.Version)
	}
	if _, ok := last.Changes[0].(*CreateTable); !ok {
		t.Errorf("first change is %T; want *CreateTable", last.Changes[0])
	}
	if a, ok := last.Changes[1].(*AppendExtents); !ok || a.ID != u || len(a.Extents) != 1 {
		t.Errorf("second change is %#v; want AppendExtents of table %s", last.Changes[1], u)
	}

	// The commits are what a durable store replays: a catalog opened on them is the same.
	again, err := NewCatalog(store)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again.Snapshot().Tables(testDB)) != fmt.Sprint(s.Tables(testDB)) || again.Snapshot().Version != s.Version {
		t.Errorf("replayed catalog %v differs from %v", again.Snapshot().Tables(testDB), s.Tables(testDB))
	}
}

func TestTxnStoreFailureCommitsNothing(t *testing.T) {
	cat, store := newTestCatalog(t)
	before := cat.Snapshot()
	store.fail = errors.New("disk full")
	_, err := cat.Update(func(tx *Txn) error { return tx.AppendExtents(testDB, "T", longExtent(1)) })
	if err != store.fail {
		t.Errorf("commit: %v; want the store's error", err)
	}
	if cat.Snapshot() != before {
		t.Errorf("a commit the store refused was published")
	}
}

// TestTxnPreconditionCheckedAtCommit: a precondition true when the transaction begins but false
// by the time it commits fails the commit, which then changes nothing.
func TestTxnPreconditionCheckedAtCommit(t *testing.T) {
	cat, store := newTestCatalog(t)
	tag := "ingest-by:x"
	tx := cat.Begin()
	err := tx.Require(func(s *Snapshot) error {
		if tableHasTag(mustTable(t, s, "T"), tag) {
			return errors.New("tagged")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.AppendExtents(testDB, "T", longExtent(1)); err != nil {
		t.Fatal(err)
	}
	tagged := longExtent(2)
	tagged.Tags = []string{tag}
	mustUpdate(t, cat, func(tx *Txn) error { return tx.AppendExtents(testDB, "T", tagged) })
	before, commits := cat.Snapshot(), store.count()
	if _, err := tx.Commit(); err == nil || err.Error() != "tagged" {
		t.Errorf("commit: %v; want the precondition's error", err)
	}
	if cat.Snapshot() != before || store.count() != commits {
		t.Errorf("a failed precondition committed something")
	}
	if got := mustTable(t, cat.Snapshot(), "T").Extents; len(got) != 1 || got[0] != tagged {
		t.Errorf("T has extents %v; want just the tagged one", got)
	}
}

// TestTxnRebase: two transactions begun on the same snapshot that append to the same table both
// commit, the second on top of the first.
func TestTxnRebase(t *testing.T) {
	cat, _ := newTestCatalog(t)
	e1, e2 := longExtent(1), longExtent(2, 3)
	tx1, tx2 := cat.Begin(), cat.Begin()
	if err := tx1.AppendExtents(testDB, "T", e1); err != nil {
		t.Fatal(err)
	}
	if err := tx2.AppendExtents(testDB, "T", e2); err != nil {
		t.Fatal(err)
	}
	if _, err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
	s, err := tx2.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if got := mustTable(t, s, "T").Extents; !slices.Equal(got, []*Extent{e1, e2}) {
		t.Errorf("T has %v; want both extents, in commit order", got)
	}
}

// TestTxnTableRecreatedConflicts: a change to a table fails when the table was dropped and made
// again under the same name since the change was made.
func TestTxnTableRecreatedConflicts(t *testing.T) {
	cat, _ := newTestCatalog(t)
	tx := cat.Begin()
	if err := tx.AppendExtents(testDB, "T", longExtent(1)); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, cat, func(tx *Txn) error {
		if err := tx.DropTable(testDB, "T"); err != nil {
			return err
		}
		return tx.CreateTable(testDB, "T", uuid.New(), testSchema, "", "")
	})
	before := cat.Snapshot()
	if _, err := tx.Commit(); !errors.Is(err, ErrConflict) {
		t.Errorf("commit: %v; want ErrConflict", err)
	}
	if cat.Snapshot() != before || mustTable(t, before, "T").Rows() != 0 {
		t.Errorf("the append reached the new table")
	}
}

// TestUpdateRetriesOnConflict: a transaction that relies on a table being Unchanged runs again
// when another commit changes it between its read and its commit, and then sees that change.
func TestUpdateRetriesOnConflict(t *testing.T) {
	cat, _ := newTestCatalog(t)
	attempts := 0
	s := mustUpdate(t, cat, func(tx *Txn) error {
		attempts++
		ti, _ := tx.Table(testDB, "T")
		if err := tx.Unchanged(testDB, "T"); err != nil {
			return err
		}
		if attempts == 1 { // another command extends the schema meanwhile
			mustUpdate(t, cat, func(tx *Txn) error {
				return tx.SetSchema(testDB, "T", append(slices.Clone(testSchema), ColumnSchema{"c", kusto.TypeReal}))
			})
		}
		return tx.SetSchema(testDB, "T", append(slices.Clone(ti.Schema), ColumnSchema{"d", kusto.TypeBool}))
	})
	if attempts != 2 {
		t.Errorf("the transaction ran %d times; want 2", attempts)
	}
	if got := mustTable(t, s, "T").Schema.CSL(); got != "a:long,b:string,c:real,d:bool" {
		t.Errorf("schema %s; want both added columns", got)
	}
}

// TestCommitChecksExtentsFitSchema: a schema change that would leave extents whose columns no
// longer match fails, and commits nothing.
func TestCommitChecksExtentsFitSchema(t *testing.T) {
	cat, _ := newTestCatalog(t)
	mustUpdate(t, cat, func(tx *Txn) error { return tx.AppendExtents(testDB, "T", longExtent(1)) })
	before := cat.Snapshot()
	_, err := cat.Update(func(tx *Txn) error {
		return tx.SetSchema(testDB, "T", Schema{{"a", kusto.TypeString}})
	})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindConflict {
		t.Errorf("commit: %v; want a KindConflict error", err)
	}
	if cat.Snapshot() != before {
		t.Errorf("a schema that does not fit the extents was committed")
	}
}

// TestSnapshotIsolation: a snapshot, and a scan opened on it, keep reading the extents they had
// after a replace commits.
func TestSnapshotIsolation(t *testing.T) {
	cat, _ := newTestCatalog(t)
	old := make([]int64, 3*batchSize)
	for i := range old {
		old[i] = int64(i)
	}
	mustUpdate(t, cat, func(tx *Txn) error { return tx.AppendExtents(testDB, "T", longExtent(old...)) })
	held := mustTable(t, cat.Snapshot(), "T")
	scan := held.Scan([]int{0})
	b, err := scan.Next()
	if err != nil || b == nil {
		t.Fatalf("first batch: %v, %v", b, err)
	}
	mustUpdate(t, cat, func(tx *Txn) error { return tx.ReplaceExtents(testDB, "T", longExtent(-1)) })

	rows := b.Len
	for {
		b, err := scan.Next()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			break
		}
		if first := b.Cols[0].Value(0); first != int64(rows) {
			t.Errorf("row %d reads %v after the replace; want the old extent's %d", rows, first, rows)
		}
		rows += b.Len
	}
	if rows != len(old) {
		t.Errorf("the held scan read %d rows; want the old %d", rows, len(old))
	}
	if held.Rows() != int64(len(old)) || mustTable(t, cat.Snapshot(), "T").Rows() != 1 {
		t.Errorf("held snapshot has %d rows, latest %d; want %d and 1", held.Rows(), mustTable(t, cat.Snapshot(), "T").Rows(), len(old))
	}
}

// TestConcurrentTransactions: many goroutines appending to one table and creating tables of
// their own. Every commit lands once, the store sees versions in order, and no snapshot a reader
// takes is torn: a reader's table always holds whole transactions (two extents each).
func TestConcurrentTransactions(t *testing.T) {
	const writers, txns = 16, 25
	cat, store := newTestCatalog(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := len(mustTable(t, cat.Snapshot(), "T").Extents); n%2 != 0 {
				t.Errorf("a snapshot holds %d extents: half a transaction", n)
				return
			}
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range txns {
				_, err := cat.Update(func(tx *Txn) error {
					if err := tx.AppendExtents(testDB, "T", longExtent(1), longExtent(2)); err != nil {
						return err
					}
					return tx.CreateTable(testDB, fmt.Sprintf("W%d_%d", w, i), uuid.New(), testSchema, "", "")
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-readerDone
	s := cat.Snapshot()
	if got := len(mustTable(t, s, "T").Extents); got != 2*writers*txns {
		t.Errorf("T has %d extents; want %d", got, 2*writers*txns)
	}
	if got := len(s.Tables(testDB)); got != 1+writers*txns {
		t.Errorf("%d tables; want %d", got, 1+writers*txns)
	}
	for i, c := range store.commits {
		if c.Version != uint64(i+1) {
			t.Fatalf("commit %d has version %d; the store must see versions in order", i, c.Version)
		}
	}
}
