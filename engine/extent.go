package engine

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Extent is an immutable horizontal slice of a table. Its columns are a prefix of the table's
// schema, by type: columns added to the table after it was written (extend_schema) read as
// nulls. A scan opens it for the columns its plan uses, and only those are read.
type Extent struct {
	ID        uuid.UUID
	Rows      int
	Types     []kusto.Type // of its columns
	CreatedOn kusto.DateTime
	Tags      []string
	Size      int64 // bytes of column data
	// FileSize is the size of the extent's file, set by a durable store when it writes or loads
	// the extent before the extent is committed; 0 for an extent in memory only.
	FileSize int64
	cost     int64 // what it holds of the engine's memory budget, given back when it leaves the catalog
	data     ExtentData
	stored   *storedColumns // the decoded columns of data other than MemoryData; nil in memory
}

// ExtentData holds an extent's column data. In memory (MemoryData) it is the columns themselves.
// Any other ExtentData is a stored extent (a durable store's file): its Column decodes the column
// anew on each call and keeps nothing, and the engine caches the decoded columns within its
// memory budget, evicting them under pressure (colcache.go).
type ExtentData interface {
	// Column returns column i, all of the extent's rows.
	Column(i int) (Column, error)
}

// MemoryData is the data of an extent kept in memory.
type MemoryData []Column

// Column returns column i.
func (m MemoryData) Column(i int) (Column, error) { return m[i], nil }

// NewExtent returns an extent of rows rows whose columns, of the given types, are in data. The
// caller sets CreatedOn, Tags and Size before the extent is committed.
func NewExtent(id uuid.UUID, rows int, types []kusto.Type, data ExtentData) *Extent {
	e := &Extent{ID: id, Rows: rows, Types: types, data: data}
	if _, ok := data.(MemoryData); !ok {
		e.stored = &storedColumns{slots: make([]*cachedColumn, len(types))}
	}
	return e
}

// Data returns the extent's column data, for a durable store to write.
func (e *Extent) Data() ExtentData { return e.data }

// SetStored replaces the in-memory data of an extent that a durable store has just written and
// recorded with its stored form, data, so that the extent's memory leaves the budget and its
// columns come from the cache like any stored extent's (an ingest that made it hands its
// columns to the cache, evictable). The store calls it while committing, under the catalog's
// commit lock and before the catalog publishes the commit, so that no scan has read the extent
// yet; afterwards an extent never changes.
func (e *Extent) SetStored(data ExtentData) {
	if _, ok := data.(MemoryData); ok || e.stored != nil {
		return
	}
	e.data = data
	e.stored = &storedColumns{slots: make([]*cachedColumn, len(e.Types))}
	e.cost = 0 // the ingest gives its reservation back (ingestJob.run); a drop owes nothing
}

// fits reports whether the extent's columns are a prefix of schema, by type.
func (e *Extent) fits(schema Schema) bool {
	if len(e.Types) > len(schema) {
		return false
	}
	for i, t := range e.Types {
		if schema[i].Type != t {
			return false
		}
	}
	return true
}

func (e *Extent) typeList() string {
	parts := make([]string, len(e.Types))
	for i, t := range e.Types {
		parts[i] = t.String()
	}
	return strings.Join(parts, ",")
}

// Open returns a reader of the extent's rows holding the given columns (indexes into schema, its
// table's schema, in the order given). A column the extent lacks reads as nulls of its type in
// schema. Only the columns asked for are read from the extent's data; a stored extent's are
// decoded each time, uncached and uncharged (an engine's scans cache them in its budget).
func (e *Extent) Open(schema Schema, columns []int) (*ExtentReader, error) {
	return e.open(schema, columns, nil)
}

// open is Open with the stored columns pinned for p, from the cache of p's budget.
func (e *Extent) open(schema Schema, columns []int, p *columnPins) (*ExtentReader, error) {
	r := &ExtentReader{rows: e.Rows, types: make([]kusto.Type, len(columns)), cols: make([]Column, len(columns))}
	for i, c := range columns {
		if c < 0 || c >= len(schema) {
			return nil, fmt.Errorf("engine: column %d of a table of %d columns", c, len(schema))
		}
		r.types[i] = schema[c].Type
		if c >= len(e.Types) {
			continue // added by extend_schema after this extent was written
		}
		var col Column
		var err error
		if e.stored != nil {
			col, err = e.storedColumn(c, p)
		} else {
			col, err = e.data.Column(c)
		}
		if err != nil {
			return nil, err
		}
		if col.Len() != e.Rows || col.Type() != schema[c].Type {
			return nil, fmt.Errorf("engine: column %d of extent %s is %d rows of %s, not %d rows of %s", c, e.ID, col.Len(), col.Type(), e.Rows, schema[c].Type)
		}
		r.cols[i] = col
	}
	return r, nil
}

// ExtentReader yields an opened extent's rows in batches of at most batchSize rows. The batch,
// its columns views of the extent's, is reused by the next call to Next.
type ExtentReader struct {
	rows, row int
	types     []kusto.Type
	cols      []Column // nil for a column that reads as nulls
	nulls     []Column // batchSize nulls for each column that reads as nulls, made when first needed
	batch     Batch
}

// Next returns the next batch, or nil at the end.
func (r *ExtentReader) Next() (*Batch, error) {
	if r.row >= r.rows {
		return nil, nil
	}
	hi := min(r.row+batchSize, r.rows)
	b := &r.batch
	if b.Cols == nil {
		b.Cols = make([]Column, len(r.cols))
	}
	b.Len = hi - r.row
	for i, col := range r.cols {
		if col != nil {
			b.Cols[i] = col.Slice(r.row, hi)
			continue
		}
		if r.nulls == nil {
			r.nulls = make([]Column, len(r.cols))
		}
		if r.nulls[i] == nil {
			r.nulls[i] = nullColumn(r.types[i], batchSize)
		}
		b.Cols[i] = r.nulls[i].Slice(0, b.Len)
	}
	r.row = hi
	return b, nil
}

// Scan returns a reader of the table's rows, extent by extent, holding the given columns of its
// schema in the order given. It reads the extents of this snapshot of the table, whatever
// commits after; each extent is opened when the scan reaches it.
func (t TableInfo) Scan(columns []int) *TableScan {
	return &TableScan{table: t, columns: columns}
}

// AllColumns returns the indexes of a schema's columns, for a scan that reads them all.
func (s Schema) AllColumns() []int {
	out := make([]int, len(s))
	for i := range out {
		out[i] = i
	}
	return out
}

// scanIn is Scan within a query's memory budget: the stored columns it reads are cached in the
// budget, and pinned while the scan reads their extent. The query's end closes it.
func (t TableInfo) scanIn(columns []int, q *queryState) *TableScan {
	s := t.Scan(columns)
	if q != nil && q.budget != nil {
		s.pins = &columnPins{budget: q.budget}
		q.addScan(s)
	}
	return s
}

// TableScan yields a table snapshot's rows in batches.
type TableScan struct {
	table   TableInfo
	columns []int
	next    int // the next extent to open
	cur     *ExtentReader
	pins    *columnPins // the stored columns of the extent it reads; nil outside a query
}

// Close unpins the stored columns the scan holds. A scan may be closed more than once.
func (s *TableScan) Close() { s.pins.unpin() }

// Next returns the next batch, or nil at the end.
func (s *TableScan) Next() (*Batch, error) {
	for {
		if s.cur != nil {
			b, err := s.cur.Next()
			if b != nil || err != nil {
				return b, err
			}
			s.cur = nil
			s.pins.unpin()
		}
		if s.next == len(s.table.Extents) {
			return nil, nil
		}
		e := s.table.Extents[s.next]
		s.next++
		if e.Rows == 0 {
			continue
		}
		r, err := e.open(s.table.Schema, s.columns, s.pins)
		if err != nil {
			return nil, err
		}
		s.cur = r
	}
}
