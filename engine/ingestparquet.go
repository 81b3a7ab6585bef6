package engine

import (
	"errors"
	"fmt"
	"io"

	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
	"github.com/parquet-go/parquet-go"
)

// parquetSource is a Parquet file being read: the reader, reporting how far through the file's
// rows it is, as the fraction progress wants.
type parquetSource struct {
	*formats.ParquetReader
	name     string
	rows     int64
	progress func(frac float64)
}

// openParquetSource opens a Parquet source. Parquet needs random access (its footer is at the
// end), so the source must be a file; a gzip-compressed Parquet file is refused by name:
// Parquet compresses its pages itself (ingestion-supported-formats.md).
func openParquetSource(name string, r io.Reader, size int64, progress func(float64)) (*parquetSource, error) {
	ra, ok := r.(io.ReaderAt)
	if !ok {
		return nil, fileError(kusto.KindSemantic, name, "format parquet needs a file to read")
	}
	var magic [2]byte
	if n, _ := ra.ReadAt(magic[:], 0); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		return nil, fileError(kusto.KindSemantic, name, "is gzip-compressed; a Parquet file compresses its pages itself and is ingested as it is (BadRequest_InvalidBlob)")
	}
	pr, err := formats.NewParquetReader(ra, size)
	if err != nil {
		return nil, fileError(kusto.KindSemantic, name, "%v", err)
	}
	return &parquetSource{ParquetReader: pr, name: name, rows: pr.NumRows(), progress: progress}, nil
}

func (p *parquetSource) Next() (*formats.Record, error) {
	rec, err := p.ParquetReader.Next()
	if rec != nil && p.progress != nil && rec.Line%ingestBatchRows == 0 && p.rows > 0 {
		p.progress(float64(rec.Line) / float64(p.rows))
	}
	return rec, err
}

// parquetColumns is the column path's plan for a source: for each column of the table, the
// file's leaf it takes, or false for a column the file lacks (so null). It is false when some
// column needs the record path: a mapping, ignoreFirstRecord, a column that is a group in the
// file, or no column in the file at all (the rows still count).
func (j *dataIngest) parquetColumns(p *parquetSource) ([]formats.ParquetLeaf, []bool, bool) {
	if j.hasMapping || j.ignoreFirst() {
		return nil, nil, false
	}
	names := map[string]bool{}
	for _, n := range p.Columns() {
		names[n] = true
	}
	leaves := make([]formats.ParquetLeaf, len(j.schema))
	has := make([]bool, len(j.schema))
	any := false
	for i, col := range j.schema {
		l, ok := p.Leaf(col.Name)
		if !ok && names[col.Name] {
			return nil, nil, false
		}
		leaves[i], has[i] = l, ok
		any = any || ok
	}
	return leaves, has, any
}

// readParquet reads a flat Parquet source column by column, a batch of ingestBatchRows rows
// at a time, each leaf's values straight into its column's typed vector.
func (j *dataIngest) readParquet(p *parquetSource, leaves []formats.ParquetLeaf, has []bool, flush func([]Column) error) (int, error) {
	sinks := make([]textSink, len(j.schema))
	feeds := make([]func([]parquet.Value), len(j.schema))
	readers := make([]*formats.ParquetColumn, len(j.schema))
	defer func() {
		for _, r := range readers {
			if r != nil {
				r.Close()
			}
		}
	}()
	for i, col := range j.schema {
		sinks[i] = newTextSink(col.Type, ingestBatchRows)
		if has[i] {
			feeds[i] = parquetFeed(col.Type, leaves[i], sinks[i])
			readers[i] = p.Column(leaves[i])
		}
	}
	cols := make([]Column, len(j.schema))
	buf := make([]parquet.Value, ingestBatchRows)
	rows := 0
	for {
		n := -1
		for i, r := range readers {
			if r == nil {
				continue
			}
			got := 0
			for got < ingestBatchRows {
				k, err := r.Read(buf[:ingestBatchRows-got])
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return rows, err
				}
				feeds[i](buf[:k])
				got += k
			}
			if n >= 0 && got != n {
				return rows, &formats.Error{Code: "BadRequest_InvalidBlob", Offset: -1, Msg: fmt.Sprintf(
					"the file is corrupt: column %q has %d values after row %d, another %d", leaves[i].Name, got, rows, n)}
			}
			n = got
		}
		if n <= 0 {
			return rows, nil
		}
		for i, s := range sinks {
			if !has[i] {
				for range n {
					s.appendNull()
				}
			}
			cols[i] = s.take(ingestBatchRows)
		}
		rows += n
		if p.progress != nil && p.rows > 0 {
			p.progress(float64(rows) / float64(p.rows))
		}
		if err := flush(cols); err != nil {
			return rows, err
		}
	}
}

// parquetFeed appends a leaf's values to the sink of a column of type t: typed where the leaf's
// values are of the column's type, else through the record path's conversion.
func parquetFeed(t kusto.Type, l formats.ParquetLeaf, sink textSink) func([]parquet.Value) {
	switch s := sink.(type) {
	case *parsedSink[int64]:
		if t == kusto.TypeLong && l.Long != nil {
			return func(vs []parquet.Value) {
				for _, v := range vs {
					if v.IsNull() {
						s.appendNull()
					} else {
						s.add(l.Long(v))
					}
				}
			}
		}
	case *parsedSink[float64]:
		if l.Real != nil {
			return func(vs []parquet.Value) {
				for _, v := range vs {
					if v.IsNull() {
						s.appendNull()
					} else {
						s.add(l.Real(v))
					}
				}
			}
		}
	case *parsedSink[bool]:
		if l.Bool != nil {
			return func(vs []parquet.Value) {
				for _, v := range vs {
					if v.IsNull() {
						s.appendNull()
					} else {
						s.add(l.Bool(v))
					}
				}
			}
		}
	case *parsedSink[kusto.DateTime]:
		if l.DateTime != nil {
			return func(vs []parquet.Value) {
				for _, v := range vs {
					if d, ok := l.DateTime(v); ok && !v.IsNull() {
						s.add(d)
					} else {
						s.appendNull()
					}
				}
			}
		}
	case *stringSink:
		if l.Bytes != nil {
			return func(vs []parquet.Value) {
				for _, v := range vs {
					if v.IsNull() {
						s.appendNull()
					} else {
						s.appendText(l.Bytes(v))
					}
				}
			}
		}
	}
	return func(vs []parquet.Value) {
		for _, v := range vs {
			if v.IsNull() {
				sink.appendNull()
				continue
			}
			x, _ := formats.FromParquet(t, l.Decode(v))
			sink.appendValue(x)
		}
	}
}
