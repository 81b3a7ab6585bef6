package store

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/parquet-go/parquet-go"
)

// The type mapping, lossless both ways (README, "Durable storage"):
//
//	bool      BOOLEAN
//	int       INT32 (INT(32, signed))
//	long      INT64 (INT(64, signed))
//	real      DOUBLE
//	string    BYTE_ARRAY (STRING)
//	datetime  INT64 TIMESTAMP(NANOS, UTC) holding ticks×100 from the Unix epoch; a column with
//	          a value outside 1677-09-21..2262-04-11, the nanosecond range, is plain INT64 ticks
//	          from 0001-01-01 instead (the extent's metadata says which)
//	timespan  INT64, ticks (100 ns)
//	guid      FIXED_LEN_BYTE_ARRAY(16) (UUID)
//	dynamic   BYTE_ARRAY (JSON), the value's JSON text
//
// Every column is OPTIONAL; a Kusto null is a Parquet null.

const unixEpochTicks = 621_355_968_000_000_000 // ticks from 0001-01-01 to 1970-01-01

func parquetNode(t kusto.Type, ticks bool) (parquet.Node, error) {
	var n parquet.Node
	switch t {
	case kusto.TypeBool:
		n = parquet.Leaf(parquet.BooleanType)
	case kusto.TypeInt:
		n = parquet.Int(32)
	case kusto.TypeLong, kusto.TypeTimespan:
		n = parquet.Int(64)
	case kusto.TypeReal:
		n = parquet.Leaf(parquet.DoubleType)
	case kusto.TypeString:
		n = parquet.String()
	case kusto.TypeDateTime:
		if ticks {
			n = parquet.Int(64)
		} else {
			n = parquet.Timestamp(parquet.Nanosecond)
		}
	case kusto.TypeGUID:
		n = parquet.UUID()
	case kusto.TypeDynamic:
		n = parquet.JSON()
	default:
		return nil, fmt.Errorf("columns of type %s cannot be stored", t)
	}
	return parquet.Optional(n), nil
}

// fitsNanos reports whether every datetime of a column is a nanosecond count from the Unix epoch
// that an int64 holds.
func fitsNanos(c engine.Column) bool {
	const limit = math.MaxInt64 / 100
	for i := range c.Len() {
		if c.IsNull(i) {
			continue
		}
		d := int64(c.Value(i).(kusto.DateTime)) - unixEpochTicks
		if d > limit || d < -limit {
			return false
		}
	}
	return true
}

// columnNames names an extent's Parquet columns after its table's columns, so that a file reads
// well in other tools; a name the table no longer has, or an empty one, becomes c<i>.
func columnNames(t tableRec, n int) []string {
	out := make([]string, n)
	seen := map[string]bool{}
	for i := range n {
		name := ""
		if i < len(t.Schema) {
			name = t.Schema[i].Name
		}
		if name == "" || seen[name] {
			name = fmt.Sprintf("c%d", i)
		}
		for seen[name] {
			name += "_"
		}
		seen[name] = true
		out[i] = name
	}
	return out
}

// wrapExtentWriter, when set (by tests), wraps the file an extent is written to, so that a test
// can fail a write as a full disk would.
var wrapExtentWriter func(io.Writer) io.Writer

// writeParquet writes an extent's columns to path, syncs the file, and returns its record
// (without File).
func writeParquet(path string, t tableRec, e *engine.Extent) (extentRec, error) {
	er := extentRec{ID: e.ID, Rows: e.Rows, CreatedOn: int64(e.CreatedOn), Tags: e.Tags, Size: e.Size}
	cols := make([]engine.Column, len(e.Types))
	for i := range cols {
		c, err := e.Data().Column(i)
		if err != nil {
			return er, err
		}
		cols[i] = c
	}
	er.Columns = columnNames(t, len(cols))
	group := parquet.Group{}
	er.Ticks = make([]bool, len(cols))
	anyTicks := false
	for i, c := range cols {
		er.Types = append(er.Types, e.Types[i].String())
		if e.Types[i] == kusto.TypeDateTime && !fitsNanos(c) {
			er.Ticks[i], anyTicks = true, true
		}
		n, err := parquetNode(e.Types[i], er.Ticks[i])
		if err != nil {
			return er, err
		}
		group[er.Columns[i]] = n
	}
	if !anyTicks {
		er.Ticks = nil
	}
	schema := parquet.NewSchema("extent", group)
	leaf := make([]int, len(cols)) // Parquet orders a group's columns by name
	for i, name := range er.Columns {
		l, ok := schema.Lookup(name)
		if !ok {
			return er, fmt.Errorf("parquet schema lacks column %q", name)
		}
		leaf[i] = l.ColumnIndex
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return er, err
	}
	sum := sha256.New()
	var fw io.Writer = f
	if wrapExtentWriter != nil {
		fw = wrapExtentWriter(fw)
	}
	bw := bufio.NewWriterSize(io.MultiWriter(fw, sum), 1<<20)
	err = writeRows(bw, schema, cols, leaf, er.Ticks)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		return er, err
	}
	er.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return er, nil
}

func writeRows(out io.Writer, schema *parquet.Schema, cols []engine.Column, leaf []int, ticks []bool) error {
	w := parquet.NewWriter(out, schema)
	const chunk = 4096
	rows := make([]parquet.Row, 0, chunk)
	values := make([]parquet.Value, 0, chunk*len(cols))
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		rows, values = rows[:0], values[:0]
		for r := lo; r < hi; r++ {
			start := len(values)
			values = values[:start+len(cols)]
			for i, c := range cols {
				values[start+leaf[i]] = parquetValue(c, r, ticks != nil && ticks[i]).Level(0, defLevel(c, r), leaf[i])
			}
			rows = append(rows, parquet.Row(values[start:start+len(cols):start+len(cols)]))
		}
		if _, err := w.WriteRows(rows); err != nil {
			return err
		}
	}
	return w.Close()
}

func defLevel(c engine.Column, r int) int {
	if c.IsNull(r) {
		return 0
	}
	return 1
}

func parquetValue(c engine.Column, r int, ticks bool) parquet.Value {
	if c.IsNull(r) {
		return parquet.NullValue()
	}
	if c.Type() == kusto.TypeDynamic { // whatever Go type the value has
		return parquet.ByteArrayValue(kusto.DynamicJSON(c.Value(r)))
	}
	switch v := c.Value(r).(type) {
	case bool:
		return parquet.BooleanValue(v)
	case int32:
		return parquet.Int32Value(v)
	case int64:
		return parquet.Int64Value(v)
	case float64:
		return parquet.DoubleValue(v)
	case string:
		return parquet.ByteArrayValue([]byte(v))
	case kusto.DateTime:
		if ticks {
			return parquet.Int64Value(int64(v))
		}
		return parquet.Int64Value((int64(v) - unixEpochTicks) * 100)
	case kusto.Timespan:
		return parquet.Int64Value(int64(v))
	case uuid.UUID:
		return parquet.FixedLenByteArrayValue(v[:])
	default: // dynamic
		return parquet.ByteArrayValue(kusto.DynamicJSON(v))
	}
}

// fileData is the data of a stored extent. Each Column call opens the file, decodes that one
// column and keeps nothing: the engine caches decoded columns within its memory budget. The
// file's checksum is checked, reading it through once, before its first column is decoded.
type fileData struct {
	path            string
	rec             extentRec
	types           []kusto.Type
	table, database string

	once sync.Once
	err  error // of the checksum check
}

// check checks the file's checksum.
func (d *fileData) check() {
	d.err = func() error {
		f, err := os.Open(d.path)
		if err != nil {
			return d.corrupt("cannot be read: %v", unwrapPath(err))
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return d.corrupt("cannot be read: %v", unwrapPath(err))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != d.rec.SHA256 {
			return d.corrupt("is corrupt: the SHA-256 of its file (%s/%s) is %s, not the %s recorded when it was written", extentsDir, d.rec.File, got, d.rec.SHA256)
		}
		return nil
	}()
}

func (d *fileData) corrupt(format string, args ...any) error {
	return &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: fmt.Sprintf("extent %s of table %q (database %q) ", d.rec.ID, d.table, d.database) + fmt.Sprintf(format, args...)}
}

// Column decodes column i of the extent from its file.
func (d *fileData) Column(i int) (engine.Column, error) {
	d.once.Do(d.check)
	if d.err != nil {
		return nil, d.err
	}
	f, err := os.Open(d.path)
	if err != nil {
		return nil, d.corrupt("cannot be read: %v", unwrapPath(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, d.corrupt("cannot be read: %v", unwrapPath(err))
	}
	pf, err := parquet.OpenFile(f, info.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, d.corrupt("is not a readable Parquet file: %v", err)
	}
	if pf.NumRows() != int64(d.rec.Rows) {
		return nil, d.corrupt("has %d rows, not the %d recorded", pf.NumRows(), d.rec.Rows)
	}
	c, err := d.decode(pf, i)
	if err != nil {
		return nil, d.corrupt("cannot be decoded: column %d: %v", i, err)
	}
	return c, nil
}

// decode reads column i page by page into a typed column, converting each value as it comes.
func (d *fileData) decode(f *parquet.File, i int) (engine.Column, error) {
	leaf, ok := f.Schema().Lookup(d.rec.Columns[i])
	if !ok {
		return nil, fmt.Errorf("the file has no column %q", d.rec.Columns[i])
	}
	b, err := newDecoder(d.types[i], d.rec.Rows, d.rec.Ticks != nil && d.rec.Ticks[i])
	if err != nil {
		return nil, err
	}
	buf := make([]parquet.Value, 4096)
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		err := func() error {
			defer pages.Close()
			for {
				p, err := pages.ReadPage()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
				err = readValues(p.Values(), buf, b)
				parquet.Release(p)
				if err != nil {
					return err
				}
			}
		}()
		if err != nil {
			return nil, err
		}
	}
	if b.len() != d.rec.Rows {
		return nil, fmt.Errorf("%d values, not %d", b.len(), d.rec.Rows)
	}
	return b.column(), nil
}

// readValues adds a page's values to b; a byte array is copied before the page is released.
func readValues(r parquet.ValueReader, buf []parquet.Value, b decoder) error {
	for {
		n, err := r.ReadValues(buf)
		for _, v := range buf[:n] {
			if err := b.add(v); err != nil {
				return err
			}
		}
		if err == io.EOF || err == nil && n == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// decoder builds a column of one Kusto type from Parquet values.
type decoder interface {
	add(v parquet.Value) error
	len() int
	column() engine.Column
}

type typedDecoder[T any] struct {
	t     kusto.Type
	data  []T
	nulls []bool
	get   func(parquet.Value) (T, error)
}

func (b *typedDecoder[T]) add(v parquet.Value) error {
	if v.IsNull() {
		if b.nulls == nil {
			b.nulls = make([]bool, len(b.data), cap(b.data))
		}
		var zero T
		b.data = append(b.data, zero)
		b.nulls = append(b.nulls, true)
		return nil
	}
	x, err := b.get(v)
	if err != nil {
		return err
	}
	b.data = append(b.data, x)
	if b.nulls != nil {
		b.nulls = append(b.nulls, false)
	}
	return nil
}

func (b *typedDecoder[T]) len() int { return len(b.data) }

func (b *typedDecoder[T]) column() engine.Column { return engine.NewVector(b.t, b.data, b.nulls) }

func decoderOf[T any](t kusto.Type, rows int, get func(parquet.Value) (T, error)) decoder {
	return &typedDecoder[T]{t: t, data: make([]T, 0, rows), get: get}
}

func newDecoder(t kusto.Type, rows int, ticks bool) (decoder, error) {
	switch t {
	case kusto.TypeBool:
		return decoderOf(t, rows, func(v parquet.Value) (bool, error) { return v.Boolean(), nil }), nil
	case kusto.TypeInt:
		return decoderOf(t, rows, func(v parquet.Value) (int32, error) { return v.Int32(), nil }), nil
	case kusto.TypeLong:
		return decoderOf(t, rows, func(v parquet.Value) (int64, error) { return v.Int64(), nil }), nil
	case kusto.TypeReal:
		return decoderOf(t, rows, func(v parquet.Value) (float64, error) { return v.Double(), nil }), nil
	case kusto.TypeString:
		return decoderOf(t, rows, func(v parquet.Value) (string, error) { return string(v.ByteArray()), nil }), nil
	case kusto.TypeDateTime:
		return decoderOf(t, rows, func(v parquet.Value) (kusto.DateTime, error) {
			if ticks {
				return kusto.DateTime(v.Int64()), nil
			}
			return kusto.DateTime(v.Int64()/100 + unixEpochTicks), nil
		}), nil
	case kusto.TypeTimespan:
		return decoderOf(t, rows, func(v parquet.Value) (kusto.Timespan, error) { return kusto.Timespan(v.Int64()), nil }), nil
	case kusto.TypeGUID:
		return decoderOf(t, rows, func(v parquet.Value) (uuid.UUID, error) { return uuid.FromBytes(v.ByteArray()) }), nil
	case kusto.TypeDynamic:
		return decoderOf(t, rows, func(v parquet.Value) (any, error) { return kusto.ParseDynamic(string(v.ByteArray())) }), nil
	}
	return nil, fmt.Errorf("columns of type %s cannot be read", t)
}
