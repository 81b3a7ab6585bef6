package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding"
)

// The type mapping, lossless both ways (README, "Durable storage"):
//
//	bool      BOOLEAN
//	int       INT32 (INT(32, signed))
//	long      INT64 (INT(64, signed))
//	real      DOUBLE
//	string    BYTE_ARRAY (STRING)
//	datetime  INT64 TIMESTAMP(NANOS, isAdjustedToUTC=false; the values are UTC) holding
//	          ticks×100 from the Unix epoch; a column with a value outside 1677-09-21..2262-04-11,
//	          the nanosecond range, is plain INT64 ticks from 0001-01-01 instead (the extent's
//	          metadata says which)
//	timespan  INT64, ticks (100 ns)
//	guid      FIXED_LEN_BYTE_ARRAY(16) (UUID)
//	dynamic   BYTE_ARRAY (JSON), the value's JSON text
//
// A column is OPTIONAL where the extent holds a null in it, else REQUIRED; a Kusto null is a
// Parquet null.

const unixEpochTicks = 621_355_968_000_000_000 // ticks from 0001-01-01 to 1970-01-01

func parquetNode(t kusto.Type, ticks, optional bool) (parquet.Node, error) {
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
			// Not adjusted to UTC, though Kusto's datetimes are UTC: DuckDB reads an adjusted
			// nanosecond timestamp as a TIMESTAMPTZ, of microseconds, and drops the last digit of
			// the tick; an unadjusted one is its TIMESTAMP_NS (compat/node/duckdb.test.mjs).
			n = parquet.TimestampAdjusted(parquet.Nanosecond, false)
		}
	case kusto.TypeGUID:
		n = parquet.UUID()
	case kusto.TypeDynamic:
		n = parquet.JSON()
	default:
		return nil, fmt.Errorf("columns of type %s cannot be stored", t)
	}
	if optional {
		n = parquet.Optional(n)
	}
	return n, nil
}

// chunks calls f with column c in slices of writeChunk rows: views of the engine's chunks, which
// are vectors.
func chunks(c engine.Column, lo, hi int, f func(engine.Column)) {
	for b := lo; b < hi; b += writeChunk {
		f(c.Slice(b, min(b+writeChunk, hi)))
	}
}

// hasNulls reports whether column c holds a null.
func hasNulls(c engine.Column) bool {
	found := false
	chunks(c, 0, c.Len(), func(s engine.Column) {
		if found {
			return
		}
		if v, ok := s.(interface{ HasNulls() bool }); ok && !v.HasNulls() {
			return
		}
		for i := range s.Len() {
			if s.IsNull(i) {
				found = true
				return
			}
		}
	})
	return found
}

// fitsNanos reports whether every datetime of a column is a nanosecond count from the Unix epoch
// that an int64 holds.
func fitsNanos(c engine.Column) bool {
	const limit = math.MaxInt64 / 100
	fits := true
	chunks(c, 0, c.Len(), func(s engine.Column) {
		v, ok := s.(*engine.Vector[kusto.DateTime])
		if !ok || !fits {
			fits = fits && ok
			return
		}
		for i, d := range v.Data {
			if v.IsNull(i) {
				continue
			}
			if n := int64(d) - unixEpochTicks; n > limit || n < -limit {
				fits = false
				return
			}
		}
	})
	return fits
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
// (without File). It stops, with ctx's cause, once ctx is done.
func writeParquet(ctx context.Context, path string, t tableRec, e *engine.Extent) (extentRec, error) {
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
	nullable := make([]bool, len(cols))
	for i, c := range cols {
		er.Types = append(er.Types, e.Types[i].String())
		if e.Types[i] == kusto.TypeDateTime && !fitsNanos(c) {
			er.Ticks[i], anyTicks = true, true
		}
		optional := hasNulls(c)
		if optional {
			nullable[i] = true
		}
		n, err := parquetNode(e.Types[i], er.Ticks[i], optional)
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
	err = writeRows(ctx, bw, schema, cols, leaf, er.Ticks, nullable)
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

// rowGroupRows is the rows of a Parquet row group: a multiple of the engine's chunks, small
// enough that the writer holds little (a few row groups' pages at a time), that row groups can
// be encoded in parallel, and that readers such as DuckDB can split a large extent between
// threads.
const rowGroupRows = 1 << 20

// writeChunk is the rows converted to Parquet values at a time: the engine's chunk of a large
// column, so that each slice of a column is a view of one chunk.
const writeChunk = 1 << 13

// extentCodec compresses the pages of extent files. zstd at its fastest level costs about what
// Snappy does here and writes a file a quarter the size (BENCHMARKS.md, "Stored data").
var extentCodec compress.Codec = &zstd.Codec{Level: zstd.SpeedFastest}

// writeRows writes the columns one row group at a time, and within a row group one column at a
// time, so that each column's values are converted in a typed loop over its vectors (no boxing).
// A column without nulls is REQUIRED, so its values need no levels and the writer copies them in
// one gather. Longs, ints, datetimes and timespans are delta-encoded, reals byte-stream-split,
// strings and dynamics dictionary-encoded (plain past 1 MB of dictionary), pages compressed
// (extentCodec): the file is a fraction of the data, and writing fewer bytes costs less than
// encoding them.
//
// Row groups are encoded in parallel, as many at a time as there are cores (GOMAXPROCS), each on
// its own goroutine into its own ConcurrentRowGroupWriter, and appended to the file in order by
// this goroutine as each is done: the encoding is most of the write's cost. At most that many row
// groups' encoded pages are held at once. Every goroutine has ended when writeRows returns: on an
// error (the file's, or ctx done) the others stop at their next chunk and are waited for.
func writeRows(ctx context.Context, out io.Writer, schema *parquet.Schema, cols []engine.Column, leaf []int, ticks, nullable []bool) error {
	// Each page's min and max go to the column index and the row group's statistics; not also
	// to the page's header (DataPageStatistics), which readers use less and costs as much again.
	w := parquet.NewWriter(out, schema, parquet.Compression(extentCodec),
		parquet.DefaultEncodingFor(parquet.Int64, &parquet.DeltaBinaryPacked),
		parquet.DefaultEncodingFor(parquet.Int32, &parquet.DeltaBinaryPacked),
		// Reals byte-stream-split, as Parquet means floating point to be: zstd compresses the
		// streams of first bytes, second bytes, … faster than the values (BENCHMARKS.md).
		parquet.DefaultEncodingFor(parquet.Double, &parquet.ByteStreamSplit),
		parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.RLEDictionary),
		parquet.DictionaryMaxBytes(1<<20),
		parquet.DataPageStatistics(false))
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	groups := (n + rowGroupRows - 1) / rowGroupRows
	workers := max(1, min(runtime.GOMAXPROCS(0), groups))
	type pending struct {
		rg   *parquet.ConcurrentRowGroupWriter
		done chan error
	}
	inFlight := make([]pending, groups)
	var stop atomic.Bool // set at the first error: the other encoders give up
	start := func(g int) {
		p := pending{rg: w.BeginRowGroup(), done: make(chan error, 1)}
		inFlight[g] = p
		lo, hi := g*rowGroupRows, min((g+1)*rowGroupRows, n)
		go func() {
			if rowGroupStarted != nil {
				rowGroupStarted(g)
			}
			p.done <- encodeRowGroup(ctx, &stop, p.rg, cols, lo, hi, leaf, ticks, nullable)
		}()
	}
	var err error
	started := 0
	for g := 0; g < groups; g++ {
		for err == nil && started < min(groups, g+workers) {
			start(started)
			started++
		}
		if g == started {
			break // an error stopped the starts, and every started one has been waited for
		}
		gerr := <-inFlight[g].done
		if err == nil {
			err = gerr
		}
		if err == nil {
			_, err = inFlight[g].rg.Commit()
		}
		if err != nil {
			stop.Store(true)
		}
		inFlight[g] = pending{} // its pages are written: let them go
	}
	if err != nil {
		return err
	}
	return w.Close()
}

// encodeRowGroup encodes rows lo..hi of the columns into rg, column after column, and flushes
// its last pages; it stops early once stop is set or ctx is done.
func encodeRowGroup(ctx context.Context, stop *atomic.Bool, rg *parquet.ConcurrentRowGroupWriter, cols []engine.Column, lo, hi int, leaf []int, ticks, nullable []bool) error {
	writers := rg.ColumnWriters()
	buf := make([]parquet.Value, 0, writeChunk)
	var err error
	for i, c := range cols {
		asTicks := ticks != nil && ticks[i]
		chunks(c, lo, hi, func(s engine.Column) {
			if err != nil {
				return
			}
			if stop.Load() {
				err = errStopped
				return
			}
			if err = ctx.Err(); err != nil {
				err = context.Cause(ctx)
				return
			}
			if nullable[i] {
				buf = appendOptional(buf[:0], s, asTicks, leaf[i])
			} else {
				buf = appendRequired(buf[:0], s, asTicks)
			}
			_, err = writers[leaf[i]].WriteRowValues(buf)
		})
		if err != nil {
			return err
		}
	}
	return rg.Flush()
}

// rowGroupStarted, when set (by tests), is called as the encoding of row group g starts, on its
// goroutine.
var rowGroupStarted func(g int)

// errStopped is what an encoder stopped by another's error returns; the first error is the one
// reported.
var errStopped = errors.New("stopped")

// appendRequired appends the Parquet values of column c, which holds no null.
func appendRequired(out []parquet.Value, c engine.Column, ticks bool) []parquet.Value {
	switch v := c.(type) {
	case *engine.Vector[bool]:
		for _, x := range v.Data {
			out = append(out, parquet.BooleanValue(x))
		}
	case *engine.Vector[int32]:
		for _, x := range v.Data {
			out = append(out, parquet.Int32Value(x))
		}
	case *engine.Vector[int64]:
		for _, x := range v.Data {
			out = append(out, parquet.Int64Value(x))
		}
	case *engine.Vector[float64]:
		for _, x := range v.Data {
			out = append(out, parquet.DoubleValue(x))
		}
	case *engine.Vector[string]:
		// The writer copies a value's bytes into its page, so a string's bytes are lent to it
		// rather than copied, which would allocate once a row.
		for _, x := range v.Data {
			out = append(out, parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(x), len(x))))
		}
	case *engine.Vector[kusto.DateTime]:
		if ticks {
			for _, x := range v.Data {
				out = append(out, parquet.Int64Value(int64(x)))
			}
		} else {
			for _, x := range v.Data {
				out = append(out, parquet.Int64Value((int64(x)-unixEpochTicks)*100))
			}
		}
	case *engine.Vector[kusto.Timespan]:
		for _, x := range v.Data {
			out = append(out, parquet.Int64Value(int64(x)))
		}
	case *engine.Vector[uuid.UUID]:
		for j := range v.Data { // the writer copies the bytes, so the value points into the vector
			out = append(out, parquet.FixedLenByteArrayValue(v.Data[j][:]))
		}
	default: // dynamic, or any other column: value by value
		for r := range c.Len() {
			out = append(out, parquetValue(c, r, ticks))
		}
	}
	return out
}

// appendOptional appends the Parquet values of column c, the values of the OPTIONAL Parquet
// column leaf: each with its definition level, 0 for a null.
func appendOptional(out []parquet.Value, c engine.Column, ticks bool, leaf int) []parquet.Value {
	for r := range c.Len() {
		out = append(out, parquetValue(c, r, ticks).Level(0, defLevel(c, r), leaf))
	}
	return out
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
	ticks := d.rec.Ticks != nil && d.rec.Ticks[i]
	var dec decoder
	switch d.types[i] {
	case kusto.TypeBool:
		dec = &typedDecoder[bool]{t: d.types[i], value: func(v parquet.Value) bool { return v.Boolean() }}
	case kusto.TypeInt:
		dec = &typedDecoder[int32]{t: d.types[i], value: func(v parquet.Value) int32 { return v.Int32() },
			kind: parquet.Int32, fast: func(x encoding.Values) []int32 { return x.Int32() }}
	case kusto.TypeLong:
		dec = int64Decoder(d.types[i], func(x int64) int64 { return x })
	case kusto.TypeDateTime:
		if ticks {
			dec = int64Decoder(d.types[i], func(x int64) kusto.DateTime { return kusto.DateTime(x) })
		} else {
			dec = int64Decoder(d.types[i], func(x int64) kusto.DateTime { return kusto.DateTime(x/100 + unixEpochTicks) })
		}
	case kusto.TypeTimespan:
		dec = int64Decoder(d.types[i], func(x int64) kusto.Timespan { return kusto.Timespan(x) })
	case kusto.TypeReal:
		dec = &typedDecoder[float64]{t: d.types[i], value: func(v parquet.Value) float64 { return v.Double() },
			kind: parquet.Double, fast: func(x encoding.Values) []float64 { return x.Double() }}
	case kusto.TypeString:
		// A string column is usually of few distinct values (dictionary-encoded on disk): the
		// first few thousand distinct strings are kept and shared, not allocated once a row.
		seen := map[string]string{}
		dec = &typedDecoder[string]{t: d.types[i], value: func(v parquet.Value) string {
			b := v.ByteArray()
			if s, ok := seen[string(b)]; ok {
				return s
			}
			s := string(b)
			if len(seen) < 1<<12 {
				seen[s] = s
			}
			return s
		}}
	case kusto.TypeGUID:
		g := &typedDecoder[uuid.UUID]{t: d.types[i]}
		g.value = func(v parquet.Value) uuid.UUID {
			u, err := uuid.FromBytes(v.ByteArray())
			if err != nil && g.bad == nil {
				g.bad = err
			}
			return u
		}
		dec = g
	case kusto.TypeDynamic:
		y := &typedDecoder[any]{t: d.types[i]}
		y.value = func(v parquet.Value) any {
			x, err := kusto.ParseDynamic(string(v.ByteArray()))
			if err != nil && y.bad == nil {
				y.bad = err
			}
			return x
		}
		dec = y
	default:
		return nil, fmt.Errorf("columns of type %s cannot be read", d.types[i])
	}
	dec.reserve(d.rec.Rows)
	buf := make([]parquet.Value, 4096)
	for _, rg := range f.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err == nil {
				err = dec.page(p, leaf.MaxDefinitionLevel, buf)
				parquet.Release(p)
			}
			if err != nil {
				pages.Close()
				return nil, err
			}
		}
	}
	return dec.column(d.rec.Rows)
}

// decoder turns the pages of one Parquet column into an engine column.
type decoder interface {
	reserve(rows int)
	page(p parquet.Page, maxDef int, buf []parquet.Value) error
	column(rows int) (engine.Column, error)
}

// typedDecoder decodes a column of element type T. Where the pages hold plain values of the
// Parquet kind the type is written as (not dictionary-encoded), fast reads them as a slice;
// any other page is read value by value.
type typedDecoder[T any] struct {
	t     kusto.Type
	value func(parquet.Value) T
	kind  parquet.Kind
	fast  func(encoding.Values) []T
	data  []T
	nulls []bool
	bad   error
}

func int64Decoder[T any](t kusto.Type, conv func(int64) T) *typedDecoder[T] {
	var scratch []T
	return &typedDecoder[T]{t: t, value: func(v parquet.Value) T { return conv(v.Int64()) }, kind: parquet.Int64,
		fast: func(x encoding.Values) []T {
			ints := x.Int64()
			scratch = scratch[:0]
			for _, n := range ints {
				scratch = append(scratch, conv(n))
			}
			return scratch
		}}
}

func (d *typedDecoder[T]) reserve(rows int) { d.data = make([]T, 0, rows) }

func (d *typedDecoder[T]) null() {
	if d.nulls == nil {
		d.nulls = make([]bool, len(d.data), cap(d.data))
	}
	var zero T
	d.data = append(d.data, zero)
	d.nulls = append(d.nulls, true)
}

func (d *typedDecoder[T]) add(v T) {
	d.data = append(d.data, v)
	if d.nulls != nil {
		d.nulls = append(d.nulls, false)
	}
}

func (d *typedDecoder[T]) page(p parquet.Page, maxDef int, buf []parquet.Value) error {
	if d.fast != nil && p.Dictionary() == nil && p.Type().Kind() == d.kind && p.NumValues() <= int64(cap(d.data)-len(d.data)) {
		vals := d.fast(p.Data())
		if p.NumNulls() == 0 {
			if int64(len(vals)) != p.NumValues() {
				return fmt.Errorf("a page of %d values holds %d", p.NumValues(), len(vals))
			}
			for _, v := range vals {
				d.add(v)
			}
			return nil
		}
		levels := p.DefinitionLevels()
		if int64(len(levels)) != p.NumValues() || int64(len(vals)) != p.NumValues()-p.NumNulls() {
			return fmt.Errorf("a page of %d values holds %d levels and %d values", p.NumValues(), len(levels), len(vals))
		}
		k := 0
		for _, l := range levels {
			if int(l) != maxDef {
				d.null()
				continue
			}
			d.add(vals[k])
			k++
		}
		return nil
	}
	r := p.Values()
	for {
		n, err := r.ReadValues(buf)
		for _, v := range buf[:n] {
			if v.IsNull() {
				d.null()
			} else {
				d.add(d.value(v))
			}
		}
		if err == io.EOF || (err == nil && n == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (d *typedDecoder[T]) column(rows int) (engine.Column, error) {
	if len(d.data) != rows {
		return nil, fmt.Errorf("%d values, not %d", len(d.data), rows)
	}
	if d.bad != nil {
		return nil, d.bad
	}
	return engine.NewVector(d.t, d.data, d.nulls), nil
}
