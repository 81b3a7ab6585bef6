package engine

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/deprecated"
)

// The writers of `.export`: one file each, fed batch by batch. Text formats (csv, tsv, json)
// are written through a buffer and, when compressed, gzip; Parquet compresses its pages itself.

// exportWriter writes the rows of batches to one file.
type exportWriter interface {
	write(b *Batch) error
	// written is how many bytes the file holds so far, before compression (sizeLimit).
	written() int64
	// close flushes what is buffered; the file itself is closed by its owner.
	close() error
	// abandon gives back what a writer that will not be closed holds of the memory budget.
	abandon()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// textWriter writes csv, tsv or JSON lines.
type textWriter struct {
	schema Schema
	format string // csv, tsv, json
	gz     *gzip.Writer
	buf    *bufio.Writer
	count  *countWriter
	line   []byte
}

func newTextWriter(out io.Writer, schema Schema, format string, compressed, bom, header bool) (*textWriter, error) {
	w := &textWriter{schema: schema, format: format}
	if compressed {
		w.gz = gzip.NewWriter(out)
		out = w.gz
	}
	w.buf = bufio.NewWriterSize(out, 64<<10)
	w.count = &countWriter{w: w.buf}
	if bom {
		w.count.Write([]byte("\uFEFF"))
	}
	if header && format != "json" {
		w.line = w.line[:0]
		for i, col := range schema {
			if i > 0 {
				w.line = append(w.line, w.delimiter())
			}
			w.line = w.appendField(w.line, col.Name)
		}
		w.line = append(w.line, '\n')
		if _, err := w.count.Write(w.line); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *textWriter) delimiter() byte {
	if w.format == "tsv" {
		return '\t'
	}
	return ','
}

// appendField appends a field, quoted as RFC 4180 says when it holds the delimiter, a quote or a
// line break (and, for readers that trim, when it starts or ends with a space).
func (w *textWriter) appendField(b []byte, s string) []byte {
	d := w.delimiter()
	if !strings.ContainsAny(s, string(d)+"\"\r\n") && (s == "" || s[0] != ' ' && s[len(s)-1] != ' ') {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

func (w *textWriter) write(b *Batch) error {
	for r := 0; r < b.Len; r++ {
		w.line = w.line[:0]
		if w.format == "json" {
			w.line = append(w.line, '{')
			for i, col := range w.schema {
				if i > 0 {
					w.line = append(w.line, ',')
				}
				name, _ := json.Marshal(col.Name)
				w.line = append(w.line, name...)
				w.line = append(w.line, ':')
				w.line = appendJSONValue(w.line, b.Cols[i].Value(r))
			}
			w.line = append(w.line, '}', '\n')
		} else {
			for i := range w.schema {
				if i > 0 {
					w.line = append(w.line, w.delimiter())
				}
				w.line = w.appendField(w.line, kusto.FormatValue(b.Cols[i].Value(r)))
			}
			w.line = append(w.line, '\n')
		}
		if _, err := w.count.Write(w.line); err != nil {
			return err
		}
	}
	return nil
}

// appendJSONValue writes a value as Kusto's JSON export does: numbers and bools as themselves,
// datetimes, timespans and guids as strings, dynamic values as their JSON.
func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case string, kusto.DateTime, kusto.Timespan:
		s, _ := json.Marshal(kusto.FormatValue(x))
		return append(b, s...)
	}
	if s, ok := v.(interface{ String() string }); ok {
		q, _ := json.Marshal(s.String())
		return append(b, q...)
	}
	return append(b, kusto.DynamicJSON(v)...)
}

func (w *textWriter) written() int64 { return w.count.n }

func (w *textWriter) abandon() {}

func (w *textWriter) close() error {
	if err := w.buf.Flush(); err != nil {
		return err
	}
	if w.gz != nil {
		return w.gz.Close()
	}
	return nil
}

// The Parquet mapping of export-data-to-storage.md ("Parquet data types mapping"): bool
// BOOLEAN, int INT32, long INT64, real DOUBLE, string, guid and dynamic (its JSON) BYTE_ARRAY
// UTF-8, timespan INT64 ticks, and datetime INT96 — or, with useNativeParquetWriter=true,
// INT64 TIMESTAMP_MICROS. Every column is OPTIONAL, a null a Parquet null.

// orderedGroup is a Parquet group whose fields keep the table's column order: parquet-go's
// Group orders them by name.
type orderedGroup struct {
	parquet.Node
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type parquetWriter struct {
	schema   Schema
	native   bool
	count    *countWriter
	w        *parquet.Writer
	rows     []parquet.Row
	costs    []int64 // each row's share of held
	groupMax int64
	inGroup  int64
	// The library buffers a row group's values until it is flushed: up to groupMax rows
	// (100,000 by default), charged to the budget as they are buffered. held is what the
	// values of the group so far take in the library's column buffers: their fixed size or
	// bytes, and a definition level each.
	budget *Budget
	held   int64
}

func parquetExportNode(t kusto.Type, native bool) parquet.Node {
	switch t {
	case kusto.TypeBool:
		return parquet.Leaf(parquet.BooleanType)
	case kusto.TypeInt:
		return parquet.Int(32)
	case kusto.TypeLong, kusto.TypeTimespan:
		return parquet.Int(64)
	case kusto.TypeReal:
		return parquet.Leaf(parquet.DoubleType)
	case kusto.TypeDateTime:
		if native {
			return parquet.Timestamp(parquet.Microsecond)
		}
		return parquet.Leaf(parquet.Int96Type)
	}
	return parquet.String()
}

func newParquetWriter(out io.Writer, schema Schema, native bool, codec compress.Codec, rowGroup int64, budget *Budget) *parquetWriter {
	group := parquet.Group{}
	for _, col := range schema {
		group[col.Name] = parquet.Optional(parquetExportNode(col.Type, native))
	}
	byName := map[string]parquet.Field{}
	for _, f := range group.Fields() {
		byName[f.Name()] = f
	}
	fields := make([]parquet.Field, len(schema))
	for i, col := range schema {
		fields[i] = byName[col.Name]
	}
	ps := parquet.NewSchema("kustard_export", orderedGroup{Node: group, fields: fields})
	w := &parquetWriter{schema: schema, native: native, count: &countWriter{w: out}, groupMax: rowGroup, budget: budget}
	opts := []parquet.WriterOption{ps, parquet.CreatedBy("kustard", "", "")}
	if codec != nil {
		opts = append(opts, parquet.Compression(codec))
	}
	w.w = parquet.NewWriter(w.count, opts...)
	return w
}

func (w *parquetWriter) write(b *Batch) error {
	if cap(w.rows) < b.Len {
		w.rows = make([]parquet.Row, b.Len)
	}
	if cap(w.costs) < b.Len {
		w.costs = make([]int64, b.Len)
	}
	rows, costs := w.rows[:b.Len], w.costs[:b.Len]
	for r := range rows {
		row := rows[r][:0]
		var cost int64
		for i, col := range w.schema {
			v := w.value(col.Type, b.Cols[i].Value(r))
			if b.Cols[i].IsNull(r) && col.Type != kusto.TypeString {
				v = parquet.NullValue()
			}
			cost += 1 + parquetValueBytes(v)
			if v.IsNull() {
				row = append(row, v.Level(0, 0, i))
			} else {
				row = append(row, v.Level(0, 1, i))
			}
		}
		rows[r], costs[r] = row, cost
	}
	for len(rows) > 0 {
		n := min(int64(len(rows)), w.groupMax-w.inGroup)
		var cost int64
		for _, c := range costs[:n] {
			cost += c
		}
		if err := w.budget.reserve(cost); err != nil {
			return err
		}
		w.held += cost
		if _, err := w.w.WriteRows(rows[:n]); err != nil {
			return err
		}
		rows, costs, w.inGroup = rows[n:], costs[n:], w.inGroup+n
		if w.inGroup >= w.groupMax {
			err := w.w.Flush()
			w.abandon()
			if err != nil {
				return err
			}
			w.inGroup = 0
		}
	}
	return nil
}

// parquetValueBytes is what a value takes in the library's column buffer.
func parquetValueBytes(v parquet.Value) int64 {
	switch v.Kind() {
	case parquet.Boolean:
		return 1
	case parquet.Int32, parquet.Float:
		return 4
	case parquet.Int64, parquet.Double:
		return 8
	case parquet.Int96:
		return 12
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return 4 + int64(len(v.ByteArray())) // an offset and the bytes
	}
	return 0
}

func (w *parquetWriter) value(t kusto.Type, v any) parquet.Value {
	if v == nil && t != kusto.TypeString {
		return parquet.NullValue()
	}
	if t == kusto.TypeDynamic {
		return parquet.ByteArrayValue(kusto.DynamicJSON(v))
	}
	switch x := v.(type) {
	case bool:
		return parquet.BooleanValue(x)
	case int32:
		return parquet.Int32Value(x)
	case int64:
		return parquet.Int64Value(x)
	case float64:
		return parquet.DoubleValue(x)
	case kusto.Timespan:
		return parquet.Int64Value(int64(x))
	case kusto.DateTime:
		unix := int64(x) - unixEpochTicks
		if w.native {
			return parquet.Int64Value(floorDiv(unix, 10))
		}
		days := floorDiv(unix, kusto.TicksPerDay)
		nanos := (unix - days*kusto.TicksPerDay) * 100
		return parquet.Int96Value(deprecated.Int96{uint32(nanos), uint32(nanos >> 32), uint32(days + julianUnixEpoch)})
	case string:
		return parquet.ByteArrayValue([]byte(x))
	case nil:
		return parquet.ByteArrayValue(nil)
	}
	return parquet.ByteArrayValue([]byte(kusto.FormatValue(v)))
}

const (
	unixEpochTicks  = 621_355_968_000_000_000 // ticks from 0001-01-01 to 1970-01-01
	julianUnixEpoch = 2_440_588               // the Julian day of 1970-01-01
)

func (w *parquetWriter) written() int64 { return w.count.n }

func (w *parquetWriter) close() error {
	defer w.abandon()
	return w.w.Close()
}

func (w *parquetWriter) abandon() {
	w.budget.release(w.held)
	w.held = 0
}
