package engine

import (
	"io"

	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
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
