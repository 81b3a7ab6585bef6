package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	bolt "go.etcd.io/bbolt"
)

// catalogStore is the engine.Store of a data directory: the latest state of each database and
// table, which Commit updates in one bbolt transaction per catalog commit, and Load replays as
// one commit.
type catalogStore struct {
	s *Store

	mu     sync.Mutex
	staged map[*engine.Extent]extentRec // written by Stage, awaiting their Commit
	// volatile holds the lower-cased names of the volatile databases: the store records none
	// of their changes, and writes none of their extents.
	volatile map[string]bool
	// files are the records of the extents this process loaded or committed, by extent, for as
	// long as the extent is reachable (lifetime.go).
	files map[weak.Pointer[engine.Extent]]extentRec
	// live are the extent files the metadata lists.
	live    map[string]bool
	closed  bool
	removed int // files removed while running, for tests
}

// tableChanges are the changes that make the catalog's table of a record: CreateTable, and
// AppendExtents with its extents, whose data is read from their files when a scan first
// needs it.
func (c *catalogStore) tableChanges(k []byte, t tableRec) ([]engine.Change, error) {
	id, err := uuid.FromBytes(k)
	if err != nil {
		return nil, err
	}
	schema, err := t.schema()
	if err != nil {
		return nil, err
	}
	changes := []engine.Change{&engine.CreateTable{Database: t.Database, Name: t.Name, ID: id, Schema: schema, Folder: t.Folder, DocString: t.DocString}}
	for _, m := range t.Mappings {
		changes = append(changes, &engine.SetIngestionMapping{Database: t.Database, Table: t.Name, ID: id, Mapping: engine.IngestionMapping{
			Name: m.Name, Kind: m.Kind, Mapping: m.Mapping, LastUpdatedOn: kusto.DateTime(m.LastUpdatedOn)}})
	}
	if t.Streaming != nil {
		changes = append(changes, &engine.SetStreamingIngestionPolicy{Database: t.Database, Table: t.Name, ID: id, Policy: t.Streaming.policy()})
	}
	if len(t.Extents) == 0 {
		return changes, nil
	}
	extents := make([]*engine.Extent, len(t.Extents))
	for i, er := range t.Extents {
		if extents[i], err = c.extent(t, er); err != nil {
			return nil, err
		}
	}
	return append(changes, &engine.AppendExtents{Database: t.Database, Table: t.Name, ID: id, Extents: extents}), nil
}

// Stage writes the files of the extents a commit adds before the catalog's commit lock is
// taken (engine.Stager), so that ingests write in parallel; Commit records them, and discard
// removes them when the commit does not happen. The column names come from the schema the
// commit's own changes give the table, or else its stored record.
func (c *catalogStore) Stage(ctx context.Context, changes []engine.Change) (discard func(), err error) {
	var mine []*engine.Extent
	discard = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, e := range mine {
			if er, ok := c.staged[e]; ok {
				os.Remove(filepath.Join(c.s.dir, extentsDir, er.File))
				delete(c.staged, e)
			}
		}
	}
	defer func() {
		if err != nil {
			discard()
		}
	}()
	schemas := map[uuid.UUID]tableRec{}
	table := func(id uuid.UUID, name string) (tableRec, error) {
		if t, ok := schemas[id]; ok {
			return t, nil
		}
		var t tableRec
		err := c.s.db.View(func(tx *bolt.Tx) error {
			v := tx.Bucket(bucketTables).Get(id[:])
			if v == nil {
				return fmt.Errorf("table %q is not in the store", name)
			}
			return json.Unmarshal(v, &t)
		})
		return t, err
	}
	for _, ch := range changes {
		if db, ok := changeDatabase(ch); ok && c.isVolatile(db) {
			continue // a volatile database's extents stay in memory
		}
		var extents []*engine.Extent
		var id uuid.UUID
		var name string
		switch ch := ch.(type) {
		case *engine.CreateTable:
			schemas[ch.ID] = tableRec{Database: ch.Database, Name: ch.Name, Schema: schemaRec(ch.Schema)}
			continue
		case *engine.SetSchema:
			t, err := table(ch.ID, ch.Table)
			if err != nil {
				return discard, c.recordErr(err)
			}
			t.Schema = schemaRec(ch.Schema)
			schemas[ch.ID] = t
			continue
		case *engine.AppendExtents:
			extents, id, name = ch.Extents, ch.ID, ch.Table
		case *engine.ReplaceExtents:
			extents, id, name = ch.Extents, ch.ID, ch.Table
		default:
			continue
		}
		for _, e := range extents {
			if _, ok := c.recorded(e); ok {
				continue // already stored
			}
			c.mu.Lock()
			_, done := c.staged[e]
			c.mu.Unlock()
			if done {
				continue
			}
			t, err := table(id, name)
			if err != nil {
				return discard, c.recordErr(err)
			}
			er, path, err := c.writeExtent(ctx, t, e)
			if err != nil {
				if path != "" {
					os.Remove(path)
				}
				if ctx.Err() != nil {
					return discard, context.Cause(ctx) // canceled: the ingest says so, not the store
				}
				return discard, c.recordErr(err)
			}
			c.mu.Lock()
			if c.staged == nil {
				c.staged = map[*engine.Extent]extentRec{}
			}
			c.staged[e] = er
			c.mu.Unlock()
			mine = append(mine, e)
		}
	}
	return discard, nil
}

// Load replays the stored catalog as one commit: its databases, their tables, and each table's
// extents, whose data is read from their files when a scan first needs it. Detached databases,
// and their tables, stay in the store.
func (c *catalogStore) Load(replay func(*engine.Commit) error) error {
	var changes []engine.Change
	err := c.s.db.View(func(tx *bolt.Tx) error {
		detached := map[string]bool{} // lower-cased names
		err := tx.Bucket(bucketDatabases).ForEach(func(k, v []byte) error {
			var d databaseRec
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("database record %x: %w", k, err)
			}
			id, err := uuid.FromBytes(k)
			if err != nil {
				return err
			}
			if d.Detached {
				detached[strings.ToLower(d.Name)] = true
				return nil
			}
			changes = append(changes, &engine.CreateDatabase{Name: d.Name, ID: id, Paths: d.Paths})
			if d.Streaming != nil {
				changes = append(changes, &engine.SetStreamingIngestionPolicy{Database: d.Name, ID: id, Policy: d.Streaming.policy()})
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketTables).ForEach(func(k, v []byte) error {
			var t tableRec
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("table record %x: %w", k, err)
			}
			if detached[strings.ToLower(t.Database)] {
				return nil
			}
			tc, err := c.tableChanges(k, t)
			changes = append(changes, tc...)
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("data directory %s: the metadata is unreadable: %w", c.s.dir, err)
	}
	if len(changes) == 0 {
		return nil
	}
	return replay(&engine.Commit{Version: 1, Changes: changes})
}

// extent makes the catalog's extent of a record, reading its file lazily.
func (c *catalogStore) extent(t tableRec, er extentRec) (*engine.Extent, error) {
	types := make([]kusto.Type, len(er.Types))
	for i, name := range er.Types {
		var err error
		if types[i], err = parseType(name); err != nil {
			return nil, fmt.Errorf("extent %s of table %q: %w", er.ID, t.Name, err)
		}
	}
	data := &fileData{path: filepath.Join(c.s.dir, extentsDir, er.File), rec: er, types: types, table: t.Name, database: t.Database}
	e := engine.NewExtent(er.ID, er.Rows, types, data)
	e.CreatedOn, e.Tags, e.Size = kusto.DateTime(er.CreatedOn), er.Tags, er.Size
	e.FileSize = er.FileSize
	if e.FileSize == 0 {
		if info, err := os.Stat(data.path); err == nil {
			e.FileSize = info.Size()
		}
	}
	c.mu.Lock()
	c.track(e, er)
	c.mu.Unlock()
	return e, nil
}

// Commit writes the files of the extents a commit adds, then records the commit in one bbolt
// transaction. Nothing of a commit that fails stays: its files are removed.
func (c *catalogStore) Commit(cm *engine.Commit) (err error) {
	var written []string
	// The volatile set changes once the commit is recorded; until then a change of the commit
	// reads it as it was.
	volatileAfter := map[string]bool{}
	// What the commit changes of the files the metadata lists, applied once it is recorded.
	type recorded struct {
		e  *engine.Extent
		er extentRec
		t  tableRec
	}
	var added []recorded
	type listing struct {
		file   string
		listed bool
	}
	var listings []listing // in the commit's order
	list := func(listed bool, files ...string) {
		for _, f := range files {
			listings = append(listings, listing{f, listed})
		}
	}
	defer func() {
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
			syncDir(filepath.Join(c.s.dir, extentsDir))
		}
	}()
	err = c.s.db.Update(func(tx *bolt.Tx) error {
		dbs, tables := tx.Bucket(bucketDatabases), tx.Bucket(bucketTables)
		put := func(id uuid.UUID, t tableRec) error {
			b, err := json.Marshal(t)
			if err != nil {
				return err
			}
			return tables.Put(id[:], b)
		}
		// update reads a table's record, changes it and writes it back.
		update := func(id uuid.UUID, change func(t *tableRec) error) error {
			var t tableRec
			v := tables.Get(id[:])
			if v == nil {
				return fmt.Errorf("table %s is not in the store", id)
			}
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			if err := change(&t); err != nil {
				return err
			}
			return put(id, t)
		}
		stage := func(t tableRec, extents []*engine.Extent) ([]extentRec, error) {
			out := make([]extentRec, len(extents))
			for i, e := range extents {
				if er, ok := c.recorded(e); ok {
					out[i] = er // already stored: a .set-or-replace that keeps it
					continue
				}
				c.mu.Lock()
				er, ok := c.staged[e]
				c.mu.Unlock()
				if !ok {
					var path string
					var err error
					if er, path, err = c.writeExtent(context.Background(), t, e); err != nil {
						return nil, err
					}
					written = append(written, path)
				} // else written by Stage; on failure its discard removes it
				out[i] = er
				added = append(added, recorded{e, er, t})
			}
			for _, er := range out {
				list(true, er.File)
			}
			return out, nil
		}
		putDB := func(id uuid.UUID, d databaseRec) error {
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			return dbs.Put(id[:], b)
		}
		for _, ch := range cm.Changes {
			if db, ok := changeDatabase(ch); ok && c.isVolatile(db) {
				continue // a volatile database lives in memory only
			}
			switch ch := ch.(type) {
			case *engine.CreateDatabase:
				if ch.Volatile {
					volatileAfter[ch.Name] = true
					continue
				}
				if err := putDB(ch.ID, databaseRec{Name: ch.Name, Paths: ch.Paths}); err != nil {
					return err
				}
			case *engine.AttachDatabase:
				if err := putDB(ch.ID, databaseRec{Name: ch.Name, Paths: ch.Paths}); err != nil {
					return err
				}
			case *engine.DetachDatabase:
				v := dbs.Get(ch.ID[:])
				if v == nil {
					return fmt.Errorf("database %q is not in the store", ch.Name)
				}
				var d databaseRec
				if err := json.Unmarshal(v, &d); err != nil {
					return err
				}
				d.Detached = true
				if err := putDB(ch.ID, d); err != nil {
					return err
				}
			case *engine.DropDatabase:
				// Its tables went first, each a DropTable change.
				if c.isVolatile(ch.Name) {
					volatileAfter[ch.Name] = false
					continue
				}
				if err := dbs.Delete(ch.ID[:]); err != nil {
					return err
				}
			case *engine.CreateTable:
				if err := put(ch.ID, tableRec{Database: ch.Database, Name: ch.Name, Schema: schemaRec(ch.Schema), Folder: ch.Folder, DocString: ch.DocString}); err != nil {
					return err
				}
			case *engine.SetSchema:
				if err := update(ch.ID, func(t *tableRec) error { t.Schema = schemaRec(ch.Schema); return nil }); err != nil {
					return err
				}
			case *engine.SetFolder:
				if err := update(ch.ID, func(t *tableRec) error { t.Folder = ch.Folder; return nil }); err != nil {
					return err
				}
			case *engine.SetDocString:
				if err := update(ch.ID, func(t *tableRec) error { t.DocString = ch.DocString; return nil }); err != nil {
					return err
				}
			case *engine.SetIngestionMapping:
				m := mappingRec{Name: ch.Mapping.Name, Kind: ch.Mapping.Kind, Mapping: ch.Mapping.Mapping, LastUpdatedOn: int64(ch.Mapping.LastUpdatedOn)}
				if err := update(ch.ID, func(t *tableRec) error {
					i := slices.IndexFunc(t.Mappings, func(r mappingRec) bool { return r.Kind == m.Kind && r.Name == m.Name })
					if i >= 0 {
						t.Mappings[i] = m
					} else {
						t.Mappings = append(t.Mappings, m)
					}
					return nil
				}); err != nil {
					return err
				}
			case *engine.DropIngestionMapping:
				if err := update(ch.ID, func(t *tableRec) error {
					t.Mappings = slices.DeleteFunc(t.Mappings, func(r mappingRec) bool { return r.Kind == ch.Kind && r.Name == ch.Name })
					return nil
				}); err != nil {
					return err
				}
			case *engine.SetStreamingIngestionPolicy:
				if ch.Table != "" {
					if err := update(ch.ID, func(t *tableRec) error { t.Streaming = policyRecOf(ch.Policy); return nil }); err != nil {
						return err
					}
					continue
				}
				v := dbs.Get(ch.ID[:])
				if v == nil {
					return fmt.Errorf("database %q is not in the store", ch.Database)
				}
				var d databaseRec
				if err := json.Unmarshal(v, &d); err != nil {
					return err
				}
				d.Streaming = policyRecOf(ch.Policy)
				if err := putDB(ch.ID, d); err != nil {
					return err
				}
			case *engine.DropTable:
				// The dropped table's files go once no query can read them (lifetime.go).
				files, err := dropTable(tables, ch.ID)
				if err != nil {
					return err
				}
				list(false, files...)
			case *engine.AppendExtents:
				if err := update(ch.ID, func(t *tableRec) error {
					recs, err := stage(*t, ch.Extents)
					t.Extents = append(t.Extents, recs...)
					return err
				}); err != nil {
					return err
				}
			case *engine.ReplaceExtents:
				if err := update(ch.ID, func(t *tableRec) error {
					for _, old := range t.Extents {
						list(false, old.File) // a kept one is listed again by stage
					}
					recs, err := stage(*t, ch.Extents)
					t.Extents = recs
					return err
				}); err != nil {
					return err
				}
			case *engine.CompleteOperation:
				// With the data, in this transaction: the operation's own record, written
				// after, may not make it to disk (see openOps).
				b, err := encodeCompletion(ch)
				if err != nil {
					return err
				}
				if err := tx.Bucket(bucketCompleted).Put(ch.ID[:], b); err != nil {
					return err
				}
			default:
				return fmt.Errorf("the store cannot record a change of type %T", ch)
			}
		}
		return nil
	})
	if err != nil {
		return c.recordErr(err)
	}
	for name, on := range volatileAfter {
		c.setVolatile(name, on)
	}
	c.mu.Lock()
	if c.live == nil {
		c.live = map[string]bool{}
	}
	for _, l := range listings {
		if l.listed {
			c.live[l.file] = true
		} else {
			delete(c.live, l.file)
		}
	}
	for _, a := range added {
		c.track(a.e, a.er)
		// Recorded, and not yet published: from now on the extent reads its file, and its
		// memory goes back to the budget (engine.Extent.SetStored).
		a.e.SetStored(&fileData{path: filepath.Join(c.s.dir, extentsDir, a.er.File), rec: a.er, types: a.e.Types, table: a.t.Name, database: a.t.Database})
	}
	for _, ch := range cm.Changes {
		switch ch := ch.(type) {
		case *engine.AppendExtents:
			for _, e := range ch.Extents {
				delete(c.staged, e)
			}
		case *engine.ReplaceExtents:
			for _, e := range ch.Extents {
				delete(c.staged, e)
			}
		}
	}
	c.mu.Unlock()
	return nil
}

// dropTable deletes a table's record and returns the files of its extents, which the metadata no
// longer lists (a dropped database's tables go the same way).
func dropTable(tables *bolt.Bucket, id uuid.UUID) ([]string, error) {
	var files []string
	if v := tables.Get(id[:]); v != nil {
		var t tableRec
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, err
		}
		for _, e := range t.Extents {
			files = append(files, e.File)
		}
	}
	return files, tables.Delete(id[:])
}

// recordErr is the error of a change the store could not record.
func (c *catalogStore) recordErr(err error) error {
	return &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: fmt.Sprintf("the data directory %s could not record the change: %v", c.s.dir, err)}
}

// writeExtent writes an extent's file under staging/, syncs it, and moves it into extents/.
func (c *catalogStore) writeExtent(ctx context.Context, t tableRec, e *engine.Extent) (extentRec, string, error) {
	name := e.ID.String() + extentExt
	staged := filepath.Join(c.s.dir, stagingDir, name)
	final := filepath.Join(c.s.dir, extentsDir, name)
	er, err := writeParquet(ctx, staged, t, e)
	if err != nil {
		os.Remove(staged)
		return er, "", fmt.Errorf("writing extent %s of table %q: %w", e.ID, t.Name, unwrapPath(err))
	}
	if err := os.Rename(staged, final); err != nil {
		os.Remove(staged)
		return er, "", fmt.Errorf("writing extent %s of table %q: %w", e.ID, t.Name, unwrapPath(err))
	}
	if err := syncDir(filepath.Join(c.s.dir, extentsDir)); err != nil {
		return er, final, err
	}
	er.File = name
	if info, err := os.Stat(final); err == nil {
		er.FileSize = info.Size()
		e.FileSize = er.FileSize // the extent is not committed yet: no one else reads it
	}
	return er, final, nil
}

// recover removes what no commit recorded: every staged file, and the extent files no table
// lists (those of a commit that crashed before its bbolt transaction, and of dropped tables and
// replaced extents).
func (c *catalogStore) recover() error {
	staging := filepath.Join(c.s.dir, stagingDir)
	entries, err := os.ReadDir(staging)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", c.s.dir, unwrapPath(err))
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(staging, e.Name())))
	}
	live := map[string]bool{}
	err = c.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTables).ForEach(func(k, v []byte) error {
			var t tableRec
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("table record %x: %w", k, err)
			}
			for _, e := range t.Extents {
				live[e.File] = true
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("data directory %s: the metadata is unreadable: %w", c.s.dir, err)
	}
	c.live = live
	dir := filepath.Join(c.s.dir, extentsDir)
	entries, err = os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("data directory %s: %w", c.s.dir, unwrapPath(err))
	}
	for _, e := range entries {
		if !live[e.Name()] && strings.HasSuffix(e.Name(), extentExt) {
			errs = append(errs, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("data directory %s: cleaning up uncommitted files: %w", c.s.dir, err)
	}
	return nil
}

// tableNames lists the stored tables' names, for tests.
func (c *catalogStore) tableNames() []string {
	var out []string
	c.s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTables).ForEach(func(k, v []byte) error {
			var t tableRec
			json.Unmarshal(v, &t)
			out = append(out, t.Name)
			return nil
		})
	})
	slices.Sort(out)
	return out
}
