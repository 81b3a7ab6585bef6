package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Catalog holds an engine's databases, their tables, schemas and extent lists. They change only
// by transactions: Begin, then changes (CreateTable, SetSchema, SetFolder, SetDocString,
// DropTable, AppendExtents, ReplaceExtents), then Commit or Abort. Reads take a Snapshot, which
// never changes.
//
// Transactions are optimistic. A transaction reads its base snapshot with its own changes over
// it, and keeps two lists: preconditions, what must still hold when it commits (the table an
// ingest targets still has the id it had when the ingest began, no extent carries a tag), and
// changes. Commit, one at a time under the catalog's lock, checks the preconditions against the
// latest snapshot, applies the changes to it (each checks that the table it names still has the
// id it had when the change was made), checks that every extent still fits its table's schema,
// hands the commit to the Store, and only then publishes the new snapshot. A transaction that
// computed a change from what it read (a merged schema) requires that the table is Unchanged;
// when another commit got there first it fails with ErrConflict, and Update runs it again on
// the new snapshot.
//
// A committed transaction is a value, a Commit: the version it made and its list of changes,
// which is what a durable store writes to its log and replays on open.
type Catalog struct {
	store Store
	mu    sync.Mutex // serializes commits
	cur   atomic.Pointer[Snapshot]
	// released, when set, is told the extents a commit removed (a dropped table's, a replaced
	// extent list), so that the engine's budget gets back what they hold.
	released func(removed []*Extent)
}

// Store is where committed transactions go. Commit is called under the catalog's commit lock,
// in version order, before the catalog publishes the commit: an error fails the transaction and
// nothing changes. Load replays the commits a store holds, oldest first, when the catalog opens.
// MemoryStore keeps nothing; a durable store (a write-ahead log) writes and syncs each commit,
// with the data of the extents it adds.
type Store interface {
	Load(replay func(*Commit) error) error
	Commit(*Commit) error
}

// A Stager is a Store that writes the data of a commit's new extents before the catalog's commit
// lock is taken, so that ingests write their files at the same time rather than one after
// another; Commit then records what Stage wrote. Stage returns discard, which the catalog calls
// when the commit does not happen (a precondition fails, a conflict, Commit fails), to remove
// what was staged. ctx is the transaction's (UpdateContext): once it is done, Stage stops
// writing and fails with its cause, leaving nothing behind.
type Stager interface {
	Stage(ctx context.Context, changes []Change) (discard func(), err error)
}

// MemoryStore is the Store of a catalog that lives in memory only.
type MemoryStore struct{}

func (MemoryStore) Load(func(*Commit) error) error { return nil }
func (MemoryStore) Commit(*Commit) error           { return nil }

// Commit is a committed transaction: the catalog version it made and its changes, in order.
type Commit struct {
	Version uint64
	Changes []Change
}

// ErrConflict is what a transaction fails with when another commit changed what it relied on.
// Update retries such a transaction; errors.Is tells it apart.
var ErrConflict = errors.New("conflicting transaction")

type conflictError struct{ msg string }

func (e *conflictError) Error() string        { return e.msg }
func (e *conflictError) Is(target error) bool { return target == ErrConflict }

func conflictf(format string, args ...any) error {
	return &conflictError{fmt.Sprintf(format, args...)}
}

// maxAttempts bounds how often Update runs a transaction that keeps conflicting. A conflict
// needs another commit between a transaction's begin and its commit, microseconds apart.
const maxAttempts = 100

// NewCatalog opens a catalog on a store, replaying what the store holds.
func NewCatalog(store Store) (*Catalog, error) {
	c := &Catalog{store: store}
	c.cur.Store(&Snapshot{dbs: map[string]*dbState{}})
	err := store.Load(func(cm *Commit) error {
		cur := c.cur.Load()
		if cm.Version != cur.Version+1 {
			return fmt.Errorf("catalog: commit %d follows version %d", cm.Version, cur.Version)
		}
		next, err := apply(cur, cm.Changes)
		if err != nil {
			return fmt.Errorf("catalog: replaying commit %d: %w", cm.Version, err)
		}
		c.cur.Store(next)
		return nil
	})
	return c, err
}

// Snapshot returns the latest committed state.
func (c *Catalog) Snapshot() *Snapshot { return c.cur.Load() }

// Begin starts a transaction on the latest snapshot. A transaction is for one goroutine.
func (c *Catalog) Begin() *Txn {
	base := c.cur.Load()
	return &Txn{cat: c, base: base, view: newWriter(base)}
}

// Update runs fn in a transaction and commits it, running it again on the new snapshot when it
// conflicts with another commit. An error from fn aborts the transaction and is returned. It
// returns the snapshot the commit made (the latest one, if fn changed nothing).
func (c *Catalog) Update(fn func(tx *Txn) error) (*Snapshot, error) {
	return c.UpdateContext(context.Background(), fn)
}

// UpdateContext is Update for work that can be canceled: a durable store's staging of the
// commit's extent files (Stager) stops when ctx is done.
func (c *Catalog) UpdateContext(ctx context.Context, fn func(tx *Txn) error) (*Snapshot, error) {
	for attempt := 1; ; attempt++ {
		tx := c.Begin()
		tx.ctx = ctx
		err := fn(tx)
		var s *Snapshot
		if err == nil {
			s, err = tx.Commit()
		} else {
			tx.Abort()
		}
		if !errors.Is(err, ErrConflict) {
			return s, err
		}
		if attempt == maxAttempts {
			return nil, &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: err.Error() + "; other commands kept changing the catalog (retried " + fmt.Sprint(maxAttempts) + " times)"}
		}
	}
}

// Txn is a transaction of a catalog.
type Txn struct {
	cat     *Catalog
	base    *Snapshot
	view    *writer // base with this transaction's changes applied
	conds   []Precondition
	changes []Change
	done    bool
	ctx     context.Context // of the staging; nil for Background
}

// Precondition is something a transaction relies on, checked against the snapshot the
// transaction's changes are about to be applied to. Its error fails the commit as it is; an
// ErrConflict makes Update try again.
type Precondition func(s *Snapshot) error

// Unchanged requires that table name of db is as the transaction read it: absent if it was
// absent, otherwise not changed by any commit since.
func (tx *Txn) Unchanged(db, name string) error {
	seen, existed := tx.base.Table(db, name)
	return tx.Require(func(s *Snapshot) error {
		t, exists := s.Table(db, name)
		if exists != existed || exists && t.Version != seen.Version {
			return conflictf("table %q of database %q changed while the command ran", name, db)
		}
		return nil
	})
}

// Require adds a precondition. It is checked at once, against the transaction's view, and
// again at commit.
func (tx *Txn) Require(p Precondition) error {
	if err := tx.check(); err != nil {
		return err
	}
	if err := p(tx.view.snap); err != nil {
		return err
	}
	tx.conds = append(tx.conds, p)
	return nil
}

// Snapshot is the transaction's view: its base snapshot with its changes so far. It is valid
// until the transaction's next change.
func (tx *Txn) Snapshot() *Snapshot { return tx.view.snap }

// Table reads a table as the transaction sees it.
func (tx *Txn) Table(db, name string) (TableInfo, bool) { return tx.view.snap.Table(db, name) }

// Changes returns the transaction's changes so far.
func (tx *Txn) Changes() []Change { return slices.Clip(tx.changes) }

var errTxnDone = errors.New("catalog: the transaction has already committed or aborted")

func (tx *Txn) check() error {
	if tx.done {
		return errTxnDone
	}
	return nil
}

// add applies a change to the view and records it.
func (tx *Txn) add(ch Change) error {
	if err := tx.check(); err != nil {
		return err
	}
	if err := ch.apply(tx.view); err != nil {
		return err
	}
	tx.changes = append(tx.changes, ch)
	return nil
}

// tableID is the id of a table in the transaction's view.
func (tx *Txn) tableID(db, name string) (uuid.UUID, error) {
	t, ok := tx.Table(db, name)
	if !ok {
		return uuid.Nil, conflictf("table %q of database %q does not exist", name, db)
	}
	return t.ID, nil
}

// CreateDatabase adds a database.
func (tx *Txn) CreateDatabase(name string, id uuid.UUID) error {
	return tx.add(&CreateDatabase{Name: name, ID: id})
}

// CreatePersistentDatabase adds a database that a durable store keeps, recording the paths it
// was created with.
func (tx *Txn) CreatePersistentDatabase(name string, id uuid.UUID, paths []string) error {
	return tx.add(&CreateDatabase{Name: name, ID: id, Paths: slices.Clone(paths)})
}

// CreateVolatileDatabase adds a database that lives in memory only: a store records none of
// its changes.
func (tx *Txn) CreateVolatileDatabase(name string, id uuid.UUID) error {
	return tx.add(&CreateDatabase{Name: name, ID: id, Volatile: true})
}

// databaseID is the id of a database in the transaction's view.
func (tx *Txn) databaseID(name string) (uuid.UUID, error) {
	d, ok := tx.view.snap.Database(name)
	if !ok {
		return uuid.Nil, conflictf("database %q does not exist", name)
	}
	return d.ID, nil
}

// DropDatabase removes a database: first each of its tables, as DropTable does (so that a
// store removes their data the way it removes a dropped table's), then the database.
func (tx *Txn) DropDatabase(name string) error {
	id, err := tx.databaseID(name)
	if err != nil {
		return err
	}
	for _, t := range tx.view.snap.Tables(name) {
		if err := tx.DropTable(name, t.Name); err != nil {
			return err
		}
	}
	return tx.add(&DropDatabase{Name: name, ID: id})
}

// DetachDatabase removes a database from the catalog; a durable store keeps its tables, to
// attach again.
func (tx *Txn) DetachDatabase(name string) error {
	id, err := tx.databaseID(name)
	if err != nil {
		return err
	}
	return tx.add(&DetachDatabase{Name: name, ID: id})
}

// AttachDatabase brings back a database a store kept detached: the database, then its tables
// and extents, as the store's changes give them.
func (tx *Txn) AttachDatabase(d *DetachedDatabase) error {
	if err := tx.add(&AttachDatabase{Name: d.Name, ID: d.ID, Paths: slices.Clone(d.Paths)}); err != nil {
		return err
	}
	for _, ch := range d.Tables {
		if err := tx.add(ch); err != nil {
			return err
		}
	}
	return nil
}

// CreateTable adds an empty table.
func (tx *Txn) CreateTable(db, name string, id uuid.UUID, schema Schema, folder, docString string) error {
	return tx.add(&CreateTable{Database: db, Name: name, ID: id, Schema: slices.Clone(schema), Folder: folder, DocString: docString})
}

// tableChange adds a change to an existing table, made with the table's id.
func (tx *Txn) tableChange(db, name string, make func(id uuid.UUID) Change) error {
	id, err := tx.tableID(db, name)
	if err != nil {
		return err
	}
	return tx.add(make(id))
}

// SetSchema replaces a table's schema. Its extents must still fit it when the transaction
// commits: they are a prefix of it, by type.
func (tx *Txn) SetSchema(db, name string, schema Schema) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &SetSchema{Database: db, Table: name, ID: id, Schema: slices.Clone(schema)}
	})
}

// SetFolder sets a table's folder.
func (tx *Txn) SetFolder(db, name, folder string) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &SetFolder{Database: db, Table: name, ID: id, Folder: folder}
	})
}

// SetDocString sets a table's docstring.
func (tx *Txn) SetDocString(db, name, docString string) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &SetDocString{Database: db, Table: name, ID: id, DocString: docString}
	})
}

// DropTable removes a table and its extents.
func (tx *Txn) DropTable(db, name string) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change { return &DropTable{Database: db, Table: name, ID: id} })
}

// AppendExtents adds extents to a table.
func (tx *Txn) AppendExtents(db, name string, extents ...*Extent) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &AppendExtents{Database: db, Table: name, ID: id, Extents: slices.Clone(extents)}
	})
}

// ReplaceExtents makes extents a table's only ones.
func (tx *Txn) ReplaceExtents(db, name string, extents ...*Extent) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &ReplaceExtents{Database: db, Table: name, ID: id, Extents: slices.Clone(extents)}
	})
}

// CompleteOperation records that the transaction is the end of an operation's work, and what
// the work returns (see the change CompleteOperation).
func (tx *Txn) CompleteOperation(id uuid.UUID, at time.Time, result any) error {
	return tx.add(&CompleteOperation{ID: id, At: at, Result: result})
}

// Abort ends the transaction without changing anything.
func (tx *Txn) Abort() { tx.done = true }

// Commit checks the preconditions and applies the changes in one step, or fails and changes
// nothing. It returns the snapshot it made; a transaction without changes makes none and
// returns the latest.
func (tx *Txn) Commit() (*Snapshot, error) {
	if err := tx.check(); err != nil {
		return nil, err
	}
	tx.done = true
	st, ok := tx.cat.store.(Stager)
	if !ok || len(tx.changes) == 0 {
		return tx.commit()
	}
	ctx := tx.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	discard, err := st.Stage(ctx, tx.changes)
	if err != nil {
		return nil, err
	}
	snap, err := tx.commit()
	if err != nil {
		discard()
	}
	return snap, err
}

// commit commits under the catalog's commit lock.
func (tx *Txn) commit() (*Snapshot, error) {
	c := tx.cat
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.cur.Load()
	for _, p := range tx.conds {
		if err := p(cur); err != nil {
			return nil, err
		}
	}
	if len(tx.changes) == 0 {
		return cur, nil
	}
	var next *Snapshot
	var err error
	if cur == tx.base {
		next, err = tx.view.finish()
	} else {
		next, err = apply(cur, tx.changes) // rebase on what committed since Begin
	}
	if err != nil {
		return nil, err
	}
	if err := c.store.Commit(&Commit{Version: next.Version, Changes: slices.Clip(tx.changes)}); err != nil {
		return nil, err
	}
	c.cur.Store(next)
	if c.released != nil && removesExtents(tx.changes) {
		c.released(removedExtents(cur, next))
	}
	return next, nil
}

func removesExtents(changes []Change) bool {
	return slices.ContainsFunc(changes, func(ch Change) bool {
		switch ch.(type) {
		case *DropTable, *ReplaceExtents, *DetachDatabase:
			return true
		}
		return false
	})
}

// removedExtents are the extents before has and after has not.
func removedExtents(before, after *Snapshot) []*Extent {
	kept := map[*Extent]bool{}
	for _, d := range after.dbs {
		for _, t := range d.tables {
			for _, e := range t.Extents {
				kept[e] = true
			}
		}
	}
	var out []*Extent
	for _, d := range before.dbs {
		for _, t := range d.tables {
			for _, e := range t.Extents {
				if !kept[e] {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// apply makes the snapshot that follows base with changes.
func apply(base *Snapshot, changes []Change) (*Snapshot, error) {
	w := newWriter(base)
	for _, ch := range changes {
		if err := ch.apply(w); err != nil {
			return nil, err
		}
	}
	return w.finish()
}

// writer builds the snapshot after base copy-on-write: it copies a database's table map, and a
// table, the first time it changes them, and shares the rest with base.
type writer struct {
	snap    *Snapshot
	ownDB   map[*dbState]bool
	touched map[*TableInfo]bool // tables this writer made, to check against their schema
}

func newWriter(base *Snapshot) *writer {
	return &writer{
		snap:    &Snapshot{Version: base.Version + 1, dbs: maps.Clone(base.dbs)},
		ownDB:   map[*dbState]bool{},
		touched: map[*TableInfo]bool{},
	}
}

func (w *writer) db(name string) (*dbState, error) {
	d := w.snap.db(name)
	if d == nil {
		return nil, conflictf("database %q does not exist", name)
	}
	if !w.ownDB[d] {
		d = &dbState{name: d.name, id: d.id, volatile: d.volatile, paths: d.paths, tables: maps.Clone(d.tables), streaming: d.streaming}
		w.snap.dbs[strings.ToLower(name)] = d
		w.ownDB[d] = true
	}
	return d, nil
}

// table returns a copy of the table to change, and stores it.
func (w *writer) table(db, name string, id uuid.UUID) (*TableInfo, error) {
	d, err := w.db(db)
	if err != nil {
		return nil, err
	}
	t := d.tables[name]
	if t == nil || t.ID != id {
		return nil, conflictf("table %q of database %q was dropped or recreated", name, db)
	}
	if !w.touched[t] {
		c := *t
		t = &c
		t.Version = w.snap.Version
		d.tables[name] = t
		w.touched[t] = true
	}
	return t, nil
}

// finish checks that every extent of the tables the writer changed fits its table's schema. A
// misfit means a transaction lacked a precondition: it fails, and is not retried.
func (w *writer) finish() (*Snapshot, error) {
	for t := range w.touched {
		for _, e := range t.Extents {
			if !e.fits(t.Schema) {
				return nil, &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: fmt.Sprintf(
					"an extent of table %q has columns (%s) that do not fit its schema (%s)", t.Name, e.typeList(), t.Schema.CSL())}
			}
		}
	}
	return w.snap, nil
}

// Change is one change of a transaction. Changes are values, for a log to record.
type Change interface {
	apply(w *writer) error
}

// CreateDatabase adds a database.
type CreateDatabase struct {
	Name string
	ID   uuid.UUID
	// Volatile: the database lives in memory only, and a store records none of its changes.
	Volatile bool
	// Paths are the persist paths as written (metadata path first), recorded and shown.
	Paths []string
}

// DropDatabase removes a database that has no tables left (DropDatabase drops them first).
type DropDatabase struct {
	Name string
	ID   uuid.UUID
}

// DetachDatabase removes a database and its tables from the catalog; a durable store keeps
// them, marked detached, for AttachDatabase.
type DetachDatabase struct {
	Name string
	ID   uuid.UUID
}

// AttachDatabase adds back a database a store kept detached; the CreateTable and
// AppendExtents changes after it in the same commit bring back its tables.
type AttachDatabase struct {
	Name  string
	ID    uuid.UUID
	Paths []string
}

// CreateTable adds an empty table.
type CreateTable struct {
	Database, Name    string
	ID                uuid.UUID
	Schema            Schema
	Folder, DocString string
}

// SetSchema replaces a table's schema.
type SetSchema struct {
	Database, Table string
	ID              uuid.UUID
	Schema          Schema
}

// SetFolder sets a table's folder.
type SetFolder struct {
	Database, Table string
	ID              uuid.UUID
	Folder          string
}

// SetDocString sets a table's docstring.
type SetDocString struct {
	Database, Table string
	ID              uuid.UUID
	DocString       string
}

// DropTable removes a table.
type DropTable struct {
	Database, Table string
	ID              uuid.UUID
}

// AppendExtents adds extents to a table.
type AppendExtents struct {
	Database, Table string
	ID              uuid.UUID
	Extents         []*Extent
}

// ReplaceExtents makes extents a table's only ones.
type ReplaceExtents struct {
	Database, Table string
	ID              uuid.UUID
	Extents         []*Extent
}

// CompleteOperation marks a commit as the end of an operation's work (an ingest's extents):
// the catalog has nothing to change, but a durable store records the operation's completion
// and result in the same transaction as the data, so that after a crash between the commit and
// the operation's own record the operation comes back complete rather than abandoned, whenever
// its data is there.
type CompleteOperation struct {
	ID     uuid.UUID // the operation
	At     time.Time // when the work completed
	Result any       // what its work returns (an ingest's outcome; see EncodeResult)
}

func (*CompleteOperation) apply(*writer) error { return nil }

func (c *CreateDatabase) apply(w *writer) error {
	return w.addDatabase(&dbState{name: c.Name, id: c.ID, volatile: c.Volatile, paths: c.Paths, tables: map[string]*TableInfo{}})
}

func (c *AttachDatabase) apply(w *writer) error {
	return w.addDatabase(&dbState{name: c.Name, id: c.ID, paths: c.Paths, tables: map[string]*TableInfo{}})
}

func (w *writer) addDatabase(d *dbState) error {
	key := strings.ToLower(d.name)
	if _, ok := w.snap.dbs[key]; ok {
		return conflictf("database %q already exists", d.name)
	}
	w.snap.dbs[key] = d
	w.ownDB[d] = true
	return nil
}

// removeDatabase removes database name, which must still have the id id.
func (w *writer) removeDatabase(name string, id uuid.UUID) (*dbState, error) {
	key := strings.ToLower(name)
	d := w.snap.dbs[key]
	if d == nil || d.id != id {
		return nil, conflictf("database %q was dropped or recreated", name)
	}
	delete(w.snap.dbs, key)
	return d, nil
}

func (c *DropDatabase) apply(w *writer) error {
	d, err := w.removeDatabase(c.Name, c.ID)
	if err == nil && len(d.tables) > 0 {
		return conflictf("database %q still has tables", c.Name)
	}
	return err
}

func (c *DetachDatabase) apply(w *writer) error {
	d, err := w.removeDatabase(c.Name, c.ID)
	if err == nil {
		for _, t := range d.tables {
			delete(w.touched, t)
		}
	}
	return err
}

func (c *CreateTable) apply(w *writer) error {
	d, err := w.db(c.Database)
	if err != nil {
		return err
	}
	if _, ok := d.tables[c.Name]; ok {
		return conflictf("table %q of database %q already exists", c.Name, c.Database)
	}
	t := &TableInfo{Name: c.Name, ID: c.ID, Schema: c.Schema, Folder: c.Folder, DocString: c.DocString, Version: w.snap.Version}
	d.tables[c.Name] = t
	w.touched[t] = true
	return nil
}

func (c *SetSchema) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err == nil {
		t.Schema = c.Schema
	}
	return err
}

func (c *SetFolder) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err == nil {
		t.Folder = c.Folder
	}
	return err
}

func (c *SetDocString) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err == nil {
		t.DocString = c.DocString
	}
	return err
}

func (c *DropTable) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err != nil {
		return err
	}
	d, _ := w.db(c.Database)
	delete(d.tables, c.Table)
	delete(w.touched, t)
	return nil
}

func (c *AppendExtents) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err == nil {
		// A new list: the old one is shared with the snapshots before this one.
		t.Extents = append(slices.Clip(t.Extents), c.Extents...)
	}
	return err
}

func (c *ReplaceExtents) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err == nil {
		t.Extents = slices.Clip(c.Extents)
	}
	return err
}
