package engine

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

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

// Extent is an immutable horizontal slice of a table. Its columns are a prefix of the table's
// schema: columns added later by extend_schema read as nulls.
type Extent struct {
	ID        uuid.UUID
	Cols      []Column
	Rows      int
	CreatedOn kusto.DateTime
	Tags      []string
	Size      int64 // bytes of column data
}

// Table is a table of a database. Its fields change only under the database's lock, and its
// extent list is replaced, never modified, so a query that took a snapshot reads it unlocked.
type Table struct {
	Name      string
	ID        uuid.UUID
	schema    Schema
	folder    string
	docString string
	extents   []*Extent
}

// TableInfo is a consistent snapshot of a table.
type TableInfo struct {
	Name      string
	ID        uuid.UUID
	Schema    Schema
	Folder    string
	DocString string
	Extents   []*Extent
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

// Database is a named set of tables.
type Database struct {
	Name string
	ID   uuid.UUID

	mu     sync.RWMutex
	tables map[string]*Table
}

func newDatabase(name string, id uuid.UUID) *Database {
	return &Database{Name: name, ID: id, tables: map[string]*Table{}}
}

func (t *Table) infoLocked() TableInfo {
	return TableInfo{Name: t.Name, ID: t.ID, Schema: t.schema, Folder: t.folder, DocString: t.docString, Extents: t.extents}
}

// Table returns a snapshot of the named table.
func (db *Database) Table(name string) (TableInfo, bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	t, ok := db.tables[name]
	if !ok {
		return TableInfo{}, false
	}
	return t.infoLocked(), true
}

// Tables returns snapshots of all tables, by name.
func (db *Database) Tables() []TableInfo {
	db.mu.RLock()
	defer db.mu.RUnlock()
	out := make([]TableInfo, 0, len(db.tables))
	for _, t := range db.tables {
		out = append(out, t.infoLocked())
	}
	slices.SortFunc(out, func(a, b TableInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// update runs fn with the database locked for writing.
func (db *Database) update(fn func(tables map[string]*Table) error) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	return fn(db.tables)
}

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
