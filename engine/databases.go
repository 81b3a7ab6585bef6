package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The database commands: .create database (persist or volatile), .drop database, .detach
// database, .attach database and .show database. Their pages in the Kusto docs are
// management/create-database.md, detach-database.md, attach-database.md and
// show-databases.md.

// A DatabaseStore is a durable Store (kustard --data): it keeps persistent databases, and a
// detached database's tables and their data until it is attached again. A catalog whose store
// is not one keeps everything in memory: `persist` and `.attach` say they need --data.
type DatabaseStore interface {
	Store
	// Dir is the data directory, for messages.
	Dir() string
	// Detached returns the detached database named name (case-insensitively), with the changes
	// that bring back its tables (CreateTable, then AppendExtents); nil when there is none.
	Detached(name string) (*DetachedDatabase, error)
}

// DetachedDatabase is a database a store keeps detached, as AttachDatabase brings it back.
type DetachedDatabase struct {
	Name   string
	ID     uuid.UUID
	Paths  []string
	Tables []Change
}

// Result schemas, from the docs' pages.
var (
	createDatabaseSchema = Schema{
		{"DatabaseName", kusto.TypeString}, {"PersistentPath", kusto.TypeString}, {"Created", kusto.TypeBool},
		{"StoresMetadata", kusto.TypeBool}, {"StoresData", kusto.TypeBool},
	}
	// The docs type NumberOfRemovedExtents as a string.
	detachDatabaseSchema = Schema{{"Table", kusto.TypeString}, {"NumberOfRemovedExtents", kusto.TypeString}}
	attachDatabaseSchema = Schema{{"Step", kusto.TypeString}, {"Duration", kusto.TypeString}}
)

func init() {
	RegisterCommand(&CommandInfo{
		Name: ".create database", Keywords: []string{"create", "database"},
		Synopsis: `.create database DatabaseName (persist (@"MetadataPath", @"DataPath", …) | volatile) [ifnotexists]`,
		Summary:  "Creates a database: persist keeps it in the data directory (--data), volatile in memory only.",
		Notes: "`persist` needs `--data`: the paths are recorded and shown, the data lives under `--data`; " +
			"a database that exists is an error, or with `ifnotexists` its rows with `Created` false",
		Result: createDatabaseSchema, Kind: "DatabaseCreate",
		Args: []Arg{{}, {Words: []Word{
			{"persist", `persist (@"/kustodata/dbs/D/md", @"/kustodata/dbs/D/data")`},
			{"volatile", "in memory only"}, {"ifnotexists", "succeed when the database exists"},
		}}},
		Node: &parser.CreateDatabase{}, Run: runCreateDatabase,
	})
	RegisterCommand(&CommandInfo{
		Name: ".drop database", Keywords: []string{"drop", "database"},
		Synopsis: ".drop database DatabaseName [ifexists]",
		Summary:  "Drops a database, its tables and their data; returns the remaining databases.",
		Notes:    "returns the remaining databases; the default database cannot be dropped",
		Result:   databasesSchema, Kind: "DatabaseDrop",
		Args: []Arg{{}, {Words: []Word{{"ifexists", "succeed when the database does not exist"}}}},
		Node: &parser.DropDatabase{}, Run: runDropDatabase,
	})
	RegisterCommand(&CommandInfo{
		Name: ".detach database", Keywords: []string{"detach", "database"},
		Synopsis: ".detach database DatabaseName",
		Summary:  "Removes a persistent database from the catalog, keeping its data to attach again.",
		Notes:    "needs `--data`; a volatile database, or the default one, cannot be detached",
		Result:   detachDatabaseSchema, Kind: "DatabaseDetach",
		Node: &parser.DetachDatabase{}, Run: runDetachDatabase,
	})
	RegisterCommand(&CommandInfo{
		Name: ".attach database", Keywords: []string{"attach", "database"},
		Synopsis: `.attach database [metadata] DatabaseName from @"MetadataPath"`,
		Summary:  "Attaches a detached database again, with its tables and extents.",
		Notes:    "needs `--data`; the path is the metadata path the database was created with; attaching a database that is attached from that path succeeds without change",
		Result:   attachDatabaseSchema, Kind: "DatabaseAttach",
		Args: []Arg{{}, {Words: []Word{{"from", `from @"/kustodata/dbs/D/md"`}}}},
		Node: &parser.AttachDatabase{}, Run: runAttachDatabase,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show database", Keywords: []string{"show", "database"},
		Synopsis:  ".show database [DatabaseName extents]",
		Summary:   "Shows the current database, or the extents of a database.",
		ResultDoc: "the columns of `.show databases`; with extents, those of `.show extents`",
		Args:      []Arg{{}, {Words: []Word{{"extents", "the database's extents"}}}},
		Node:      &parser.ShowDatabase{}, Run: runShowDatabase,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show extents", Keywords: []string{"show", "extents"},
		Synopsis: ".show extents", Summary: "Lists the extents of the current database's tables.",
		Notes:  "also `.show table T extents` and `.show database D extents`; sizes are in bytes",
		Result: showExtentsSchema, Node: &parser.ShowExtents{}, Run: runShowExtents,
	})
}

// databaseStore is the engine's store as a DatabaseStore, if it is durable.
func (e *Engine) databaseStore() (DatabaseStore, bool) {
	ds, ok := e.cat.store.(DatabaseStore)
	return ds, ok
}

// runDBOperation runs fn as a database command's operation, scoped to the database it names.
func (c *call) runDBOperation(ctx context.Context, kind, db string, fn func() error) error {
	s := c.spec(kind, false)
	s.Scope = db
	_, _, err := c.sess.eng.ops.Run(ctx, s, func(ctx context.Context) (any, error) { return nil, fn() })
	return err
}

func alreadyExists(c *call, n *parser.Name) error {
	return c.errorf(n.Pos.Offset, kusto.KindConflict, "Entity name '%s' of kind 'Database' already exists.", n.String())
}

func doesNotExist(c *call, n *parser.Name) error {
	return c.errorf(n.Pos.Offset, kusto.KindNotFound, "Entity name '%s' of kind 'Database' does not exist.", n.String())
}

// createdFrame is .create database's result: a row for each persist path (the first stores
// the metadata, the others the data, as the docs' example shows), or one row without a path
// for a volatile database.
func createdFrame(d DatabaseInfo, created bool) *Frame {
	fb := newFrame(createDatabaseSchema)
	if len(d.Paths) == 0 {
		fb.row(d.Name, "", created, false, false)
	}
	for i, p := range d.Paths {
		fb.row(d.Name, p, created, i == 0, i > 0)
	}
	return fb.frame()
}

func runCreateDatabase(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	create := cmd.(*parser.CreateDatabase)
	name := create.Database.String()
	e := c.sess.eng
	ds, durable := e.databaseStore()
	var paths []string
	for _, p := range create.Paths {
		paths = append(paths, p.Value)
	}
	if !create.Volatile {
		if !durable {
			return nil, c.errorf(create.Database.Pos.Offset, kusto.KindSemantic,
				"a persistent database needs a data directory: start kustard with --data DIR, or create the database volatile")
		}
		if len(paths) < 2 {
			return nil, c.errorf(create.Database.Pos.Offset, kusto.KindSemantic,
				"persist takes a metadata path and at least one data path: persist (@\"<md path>\", @\"<data path>\")")
		}
	}
	if d, ok := e.cat.Snapshot().Database(name); ok {
		if !create.IfNotExists {
			return nil, alreadyExists(c, create.Database)
		}
		return createdFrame(d, false), nil
	}
	if durable {
		det, err := ds.Detached(name)
		if err != nil {
			return nil, err
		}
		if det != nil {
			return nil, c.errorf(create.Database.Pos.Offset, kusto.KindConflict,
				"database %q is detached, with its data; attach it with .attach database %s from @%q, or attach and drop it",
				det.Name, det.Name, firstPath(det.Paths))
		}
	}
	newID := c.lazyID()
	var created bool
	var snap *Snapshot
	err := c.runDBOperation(ctx, "DatabaseCreate", name, func() (err error) {
		snap, err = e.cat.Update(func(tx *Txn) error {
			if _, ok := tx.Snapshot().Database(name); ok {
				if !create.IfNotExists {
					return alreadyExists(c, create.Database)
				}
				return nil
			}
			created = true
			if create.Volatile {
				return tx.CreateVolatileDatabase(name, newID())
			}
			return tx.CreatePersistentDatabase(name, newID(), paths)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	d, _ := snap.Database(name)
	return createdFrame(d, created), nil
}

func firstPath(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return paths[0]
}

// checkRemovable refuses to drop or detach the default database, which every session starts in.
func checkRemovable(c *call, n *parser.Name, verb string) error {
	if strings.EqualFold(n.String(), DefaultDatabase) {
		return c.errorf(n.Pos.Offset, kusto.KindConflict, "%s is the default database, which every session starts in; it cannot be %s", DefaultDatabase, verb)
	}
	return nil
}

func runDropDatabase(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	drop := cmd.(*parser.DropDatabase)
	name := drop.Database.String()
	if err := checkRemovable(c, drop.Database, "dropped"); err != nil {
		return nil, err
	}
	e := c.sess.eng
	var snap *Snapshot
	err := c.runDBOperation(ctx, "DatabaseDrop", name, func() (err error) {
		snap, err = e.cat.Update(func(tx *Txn) error {
			if _, ok := tx.Snapshot().Database(name); !ok {
				if drop.IfExists {
					return nil
				}
				return doesNotExist(c, drop.Database)
			}
			return tx.DropDatabase(name)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return databasesFrame(snap.Databases(), c), nil
}

func runDetachDatabase(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	detach := cmd.(*parser.DetachDatabase)
	name := detach.Database.String()
	e := c.sess.eng
	d, ok := e.cat.Snapshot().Database(name)
	if !ok {
		return nil, doesNotExist(c, detach.Database)
	}
	if err := checkRemovable(c, detach.Database, "detached"); err != nil {
		return nil, err
	}
	if _, durable := e.databaseStore(); !durable || d.Volatile {
		return nil, c.errorf(detach.Database.Pos.Offset, kusto.KindConflict,
			"database %q is volatile: it lives in memory only, so there is nothing to detach and attach again (only a database created with persist, under --data, can be)", d.Name)
	}
	var tables []TableInfo // as the commit found them
	err := c.runDBOperation(ctx, "DatabaseDetach", name, func() error {
		_, err := e.cat.Update(func(tx *Txn) error {
			if _, ok := tx.Snapshot().Database(name); !ok {
				return doesNotExist(c, detach.Database)
			}
			tables = tx.Snapshot().Tables(name)
			return tx.DetachDatabase(name)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	fb := newFrame(detachDatabaseSchema)
	for _, t := range tables {
		fb.row(t.Name, itoa(len(t.Extents)))
	}
	return fb.frame(), nil
}

func runAttachDatabase(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	attach := cmd.(*parser.AttachDatabase)
	name, path := attach.Database.String(), attach.Path.Value
	e := c.sess.eng
	ds, durable := e.databaseStore()
	if !durable {
		return nil, c.errorf(attach.Pos.Offset, kusto.KindSemantic,
			"attaching a database needs a data directory: without --data nothing is kept to attach from")
	}
	clock := e.ops.Clock()
	start := clock.Now()
	fb := newFrame(attachDatabaseSchema)
	if d, ok := e.cat.Snapshot().Database(name); ok {
		// A tool written for the emulator attaches its databases at start; here they came
		// back by themselves.
		if len(d.Paths) > 0 && d.Paths[0] == path {
			fb.row("Metadata deserialization", formatDuration(clock.Now().Sub(start)))
			return fb.frame(), nil
		}
		return nil, alreadyExists(c, attach.Database)
	}
	det, err := ds.Detached(name)
	if err != nil {
		return nil, err
	}
	if det == nil {
		return nil, c.errorf(attach.Database.Pos.Offset, kusto.KindNotFound,
			"no detached database %q is kept in the data directory %s", name, ds.Dir())
	}
	if firstPath(det.Paths) != path {
		return nil, c.errorf(attach.Path.Pos.Offset, kusto.KindNotFound,
			"database %q was created with the metadata path @%q, not @%q", det.Name, firstPath(det.Paths), path)
	}
	err = c.runDBOperation(ctx, "DatabaseAttach", det.Name, func() error {
		_, err := e.cat.Update(func(tx *Txn) error {
			if _, ok := tx.Snapshot().Database(name); ok {
				return alreadyExists(c, attach.Database)
			}
			return tx.AttachDatabase(det)
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	fb.row("Metadata deserialization", formatDuration(clock.Now().Sub(start)))
	return fb.frame(), nil
}

// formatDuration writes a duration as .NET writes a TimeSpan: 00:00:00.0320816.
func formatDuration(d time.Duration) string {
	return kusto.FormatValue(kusto.Timespan(d / 100))
}

func itoa(n int) string { return kusto.FormatValue(int64(n)) }

func databasesFrame(dbs []DatabaseInfo, c *call) *Frame {
	fb := newFrame(databasesSchema)
	slices.SortFunc(dbs, func(a, b DatabaseInfo) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	for _, d := range dbs {
		mode := "ReadWrite"
		if d.Volatile {
			mode = "ReadWriteEphemeral"
		}
		fb.row(d.Name, firstPath(d.Paths), "v1.0", d.ID == c.db.ID, mode, "", d.ID, "", "")
	}
	return fb.frame()
}

func runShowDatabase(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowDatabase)
	snap := c.db.snapshot()
	if show.Database == nil {
		d, ok := snap.Database(c.db.Name)
		if !ok {
			return nil, c.errorf(show.Pos.Offset, kusto.KindNotFound, "Entity name '%s' of kind 'Database' does not exist.", c.db.Name)
		}
		return databasesFrame([]DatabaseInfo{d}, c), nil
	}
	d, ok := snap.Database(show.Database.String())
	if !ok {
		return nil, doesNotExist(c, show.Database)
	}
	return c.sess.eng.extentsFrame(d.Name, snap.Tables(d.Name)), nil
}
