package formats

import (
	"errors"
	"io"

	"github.com/kustard/kustard/kusto"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// The column path: a top-level leaf read column chunk by column chunk, page by page, without
// reassembling rows (a map per row is most of the record path's cost). The ingest takes it
// for the columns of a file it reads by name with no mapping.

// ParquetLeaf is a top-level, non-repeated leaf of a Parquet file. Decode gives a value as the
// record path does; where the value is of one of the common types, the typed decoder for it is
// also set, so that the column it fills needs no boxing.
type ParquetLeaf struct {
	Name     string
	Decode   func(parquet.Value) any
	Bool     func(parquet.Value) bool
	Long     func(parquet.Value) int64
	Real     func(parquet.Value) float64
	Bytes    func(parquet.Value) []byte // text: the string is these bytes
	DateTime func(parquet.Value) (kusto.DateTime, bool)
	column   int
}

// Leaf returns the top-level field name as a leaf, or false when the file has no such field,
// or it is a group or repeated (the record path reads those).
func (p *ParquetReader) Leaf(name string) (ParquetLeaf, bool) {
	col := 0
	for _, f := range p.file.Schema().Fields() {
		if f.Name() == name {
			if !f.Leaf() || f.Repeated() {
				return ParquetLeaf{}, false
			}
			i := p.leafCol[col]
			return typedLeaf(ParquetLeaf{Name: name, Decode: p.fields[i].decode, column: col}, f), true
		}
		col += countLeaves(f)
	}
	return ParquetLeaf{}, false
}

// typedLeaf sets the typed decoders of the common types, whose decoding is the same as
// Decode's less the boxing.
func typedLeaf(l ParquetLeaf, n parquet.Node) ParquetLeaf {
	t := n.Type()
	kind := t.Kind()
	var value format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		value = lt.Value
	}
	var ct deprecated.ConvertedType = -1
	if c := t.ConvertedType(); c != nil {
		ct = *c
	}
	switch x := value.(type) {
	case *format.TimestampType:
		l.DateTime = timestampTicks(unitOf(&x.Unit))
		return l
	case *format.StringType, *format.EnumType:
		l.Bytes = parquet.Value.ByteArray
		return l
	case *format.IntType:
		if x.IsSigned {
			l.Long = longOf(kind)
		}
		return l
	case nil:
	default:
		return l
	}
	switch ct {
	case -1:
	case deprecated.UTF8, deprecated.Enum:
		l.Bytes = parquet.Value.ByteArray
		return l
	case deprecated.TimestampMillis:
		l.DateTime = timestampTicks(1e6)
		return l
	case deprecated.TimestampMicros:
		l.DateTime = timestampTicks(1e3)
		return l
	case deprecated.Int8, deprecated.Int16, deprecated.Int32, deprecated.Int64:
		l.Long = longOf(kind)
		return l
	default:
		return l
	}
	switch kind {
	case parquet.Boolean:
		l.Bool = parquet.Value.Boolean
	case parquet.Int32, parquet.Int64:
		l.Long = longOf(kind)
	case parquet.Float:
		l.Real = func(v parquet.Value) float64 { return float64(v.Float()) }
	case parquet.Double:
		l.Real = parquet.Value.Double
	case parquet.Int96:
		l.DateTime = func(v parquet.Value) (kusto.DateTime, bool) { return int96Time(v.Int96()), true }
	}
	return l
}

func longOf(kind parquet.Kind) func(parquet.Value) int64 {
	if kind == parquet.Int32 {
		return func(v parquet.Value) int64 { return int64(v.Int32()) }
	}
	return parquet.Value.Int64
}

// ParquetColumn reads one leaf's values, row group after row group. The values of a read are
// good until the next read: their bytes may be the page's.
type ParquetColumn struct {
	file   *parquet.File
	name   string
	column int
	group  int
	pages  parquet.Pages
	page   parquet.Page
	values parquet.ValueReader
}

// Column starts reading leaf's values from the first row.
func (p *ParquetReader) Column(l ParquetLeaf) *ParquetColumn {
	return &ParquetColumn{file: p.file, name: l.Name, column: l.column}
}

// Read reads up to len(buf) values, at most to the end of a page; at the end of the column it
// returns 0 and io.EOF. A malformed file is an *Error.
func (c *ParquetColumn) Read(buf []parquet.Value) (n int, err error) {
	defer recoverParquet(&err)
	for {
		if c.values == nil {
			if err := c.nextPage(); err != nil {
				return 0, err
			}
		}
		n, err := c.values.ReadValues(buf)
		if n > 0 {
			if errors.Is(err, io.EOF) {
				c.values = nil // the page's values stay good until the next read releases it
			} else if err != nil {
				return 0, parquetError("column %q: %v", c.name, err)
			}
			return n, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, parquetError("column %q: %v", c.name, err)
		}
		c.values = nil
	}
}

// nextPage releases the page read and opens the next, in this row group or the next ones.
func (c *ParquetColumn) nextPage() error {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	for {
		if c.pages == nil {
			groups := c.file.RowGroups()
			if c.group >= len(groups) {
				return io.EOF
			}
			c.pages = groups[c.group].ColumnChunks()[c.column].Pages()
			c.group++
		}
		p, err := c.pages.ReadPage()
		if errors.Is(err, io.EOF) {
			c.pages.Close()
			c.pages = nil
			continue
		}
		if err != nil {
			return parquetError("column %q: %v", c.name, err)
		}
		c.page, c.values = p, p.Values()
		return nil
	}
}

// Close releases what the column holds.
func (c *ParquetColumn) Close() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
}
