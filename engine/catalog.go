package engine

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// DefaultDatabase is the database every session starts in, as in the Kusto emulator.
const DefaultDatabase = "NetDefaultDB"

// ColumnSchema is a column's name and type.
type ColumnSchema struct {
	Name string
	Type kusto.Type
}

// Schema is an ordered list of columns.
type Schema []ColumnSchema

// Index returns the position of the named column (names are case-sensitive), or -1.
func (s Schema) Index(name string) int {
	return slices.IndexFunc(s, func(c ColumnSchema) bool { return c.Name == name })
}

// CSL renders the schema as Kusto writes it: a:int,b:string.
func (s Schema) CSL() string {
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = quoteName(c.Name) + ":" + c.Type.String()
	}
	return strings.Join(parts, ",")
}

// quoteName brackets a name that is not a plain identifier.
func quoteName(name string) string {
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return "[" + kusto.Quote(name) + "]"
		}
	}
	if name == "" {
		return `[""]`
	}
	return name
}

// TableInfo is a table as one snapshot of the catalog has it. It is a value: nothing it holds
// (the schema, the extent list, the extents) is ever modified, so a query compiled against it
// keeps reading the same data whatever commits after.
type TableInfo struct {
	Name      string
	ID        uuid.UUID // a new id each time a table of this name is created
	Schema    Schema
	Folder    string
	DocString string
	Extents   []*Extent
	// Mappings are the table's ingestion mappings, in the order they were created.
	Mappings []IngestionMapping
	// StreamingIngestion is the table's streaming ingestion policy; nil when none is set, and
	// then its database's applies.
	StreamingIngestion *StreamingIngestionPolicy
	// Version is the catalog version of the commit that last changed the table.
	Version uint64
}

// Rows is the table's row count.
func (t TableInfo) Rows() int64 {
	var n int64
	for _, e := range t.Extents {
		n += int64(e.Rows)
	}
	return n
}

// Size is the bytes of the table's column data.
func (t TableInfo) Size() int64 {
	var n int64
	for _, e := range t.Extents {
		n += e.Size
	}
	return n
}

// Snapshot is the catalog at one version: its databases and their tables. It is immutable; a
// commit makes a new one, sharing what it did not change.
type Snapshot struct {
	Version uint64
	dbs     map[string]*dbState // by lower-cased name: database names are case-insensitive
}

type dbState struct {
	name     string
	id       uuid.UUID
	volatile bool
	paths    []string
	tables   map[string]*TableInfo // by name: table names are case-sensitive
	// streaming is the database's streaming ingestion policy, nil when none is set.
	streaming *StreamingIngestionPolicy
}

func (d *dbState) info() DatabaseInfo {
	return DatabaseInfo{Name: d.name, ID: d.id, Volatile: d.volatile, Paths: d.paths, StreamingIngestion: d.streaming}
}

// DatabaseInfo names a database of a snapshot.
type DatabaseInfo struct {
	Name string
	ID   uuid.UUID
	// Volatile says the database lives in memory only, even under a durable store.
	Volatile bool
	// Paths are the persist paths it was created with, as written: the metadata path first,
	// then the data paths. Kustard records them; the data lives in the store.
	Paths []string
	// StreamingIngestion is the database's streaming ingestion policy; nil when none is set.
	StreamingIngestion *StreamingIngestionPolicy
}

func (s *Snapshot) db(name string) *dbState { return s.dbs[strings.ToLower(name)] }

// Database returns the named database.
func (s *Snapshot) Database(name string) (DatabaseInfo, bool) {
	d := s.db(name)
	if d == nil {
		return DatabaseInfo{}, false
	}
	return d.info(), true
}

// Databases returns every database, by name.
func (s *Snapshot) Databases() []DatabaseInfo {
	out := make([]DatabaseInfo, 0, len(s.dbs))
	for _, d := range s.dbs {
		out = append(out, d.info())
	}
	slices.SortFunc(out, func(a, b DatabaseInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Table returns the named table of database db.
func (s *Snapshot) Table(db, name string) (TableInfo, bool) {
	d := s.db(db)
	if d == nil {
		return TableInfo{}, false
	}
	t, ok := d.tables[name]
	if !ok {
		return TableInfo{}, false
	}
	return *t, true
}

// Tables returns the tables of database db, by name.
func (s *Snapshot) Tables(db string) []TableInfo {
	d := s.db(db)
	if d == nil {
		return nil
	}
	out := make([]TableInfo, 0, len(d.tables))
	for _, t := range d.tables {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Database is a handle on one database of an engine's catalog, for sessions, commands and front
// doors. Its reads name the database explicitly. A handle from Pinned reads one snapshot
// throughout; any other takes the catalog's latest snapshot at each read.
type Database struct {
	Name string
	ID   uuid.UUID
	cat  *Catalog
	at   *Snapshot
}

func (db *Database) snapshot() *Snapshot {
	if db.at != nil {
		return db.at
	}
	return db.cat.Snapshot()
}

// Pinned returns a handle that reads the snapshot db reads now, whatever commits after: a query
// compiled with it sees every table as of one moment.
func (db *Database) Pinned() *Database {
	return &Database{Name: db.Name, ID: db.ID, cat: db.cat, at: db.snapshot()}
}

// Table returns a snapshot of the named table.
func (db *Database) Table(name string) (TableInfo, bool) { return db.snapshot().Table(db.Name, name) }

// Tables returns snapshots of all tables, by name, all from one snapshot of the catalog.
func (db *Database) Tables() []TableInfo { return db.snapshot().Tables(db.Name) }

// jsonSchema renders a table schema as `.show table T schema as json` does.
func jsonSchema(name string, s Schema) string {
	type col struct {
		Name    string `json:"Name"`
		Type    string `json:"Type"`
		CslType string `json:"CslType"`
	}
	cols := make([]col, len(s))
	for i, c := range s {
		cols[i] = col{c.Name, "System." + kusto.DotNetType(c.Type), c.Type.String()}
	}
	b, _ := json.Marshal(struct {
		Name           string `json:"Name"`
		OrderedColumns []col  `json:"OrderedColumns"`
	}{name, cols})
	return string(b)
}

// columnBytes estimates the bytes a column's data takes.
func columnBytes(c Column) int64 {
	switch c := c.(type) {
	case *Vector[bool]:
		return int64(len(c.Data))
	case *Vector[int32]:
		return 4 * int64(len(c.Data))
	case *Vector[string]:
		var n int64
		for _, s := range c.Data {
			n += int64(len(s))
		}
		return n
	case *Vector[uuid.UUID]:
		return 16 * int64(len(c.Data))
	case *Vector[any]:
		var n int64
		for i := range c.Data {
			if !c.IsNull(i) {
				n += int64(len(kusto.DynamicJSON(c.Data[i])))
			}
		}
		return n
	default: // long, real, datetime, timespan
		return 8 * int64(c.Len())
	}
}
