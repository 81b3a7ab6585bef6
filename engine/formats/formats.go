// Package formats reads the data formats Kusto ingests (the delimited family — CSV, TSV, PSV,
// SCsv, SOHsv — TXT, RAW, JSON, MultiJSON and Parquet) from a byte stream or, for Parquet, a file, one record at a time, never
// the whole stream at once; and converts a field's text or a JSON value to a column's type as
// Kusto's ingestion does. It knows nothing of tables or the engine: `.ingest` uses it today,
// and externaldata and streaming ingestion are meant to use it too.
//
// The rules are those of the Kusto docs: ingestion-supported-formats.md,
// ingest-invalid-data.md and the mapping pages (csv-mapping.md, json-mapping.md).
package formats

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Kind is how a format is read.
type Kind int

const (
	Delimited Kind = iota // fields separated by a delimiter, RFC 4180 quoting
	Lines                 // TXT: each line one record of one field
	Raw                   // RAW: the whole stream one record of one field
	JSONLines             // JSON: one JSON object per line; malformed lines are skipped
	MultiJSON             // MultiJSON: objects separated by whitespace, or an array of them
	Parquet               // Parquet: a file, read by NewParquetReader (it needs random access)
)

// Format is one of the formats Kusto names in `with (format=…)`.
type Format struct {
	Name      string // as Kusto spells it in the docs
	Kind      Kind
	Delimiter byte // for Delimited
	// MappingKind is the kind of ingestion mapping the format takes: "Csv", "Json" or "Parquet".
	MappingKind string
}

var known = []Format{
	{Name: "csv", Kind: Delimited, Delimiter: ',', MappingKind: "Csv"},
	{Name: "tsv", Kind: Delimited, Delimiter: '\t', MappingKind: "Csv"},
	{Name: "psv", Kind: Delimited, Delimiter: '|', MappingKind: "Csv"},
	{Name: "scsv", Kind: Delimited, Delimiter: ';', MappingKind: "Csv"},
	{Name: "sohsv", Kind: Delimited, Delimiter: 0x01, MappingKind: "Csv"},
	{Name: "txt", Kind: Lines, MappingKind: "Csv"},
	{Name: "raw", Kind: Raw, MappingKind: "Csv"},
	{Name: "json", Kind: JSONLines, MappingKind: "Json"},
	{Name: "multijson", Kind: MultiJSON, MappingKind: "Json"},
	{Name: "parquet", Kind: Parquet, MappingKind: "Parquet"},
}

// unsupported are formats Kusto ingests that Kustard does not read (yet): rejected by name.
var unsupported = []string{"avro", "apacheavro", "orc", "tsve", "w3clogfile", "azmonstream", "singlejson"}

// Lookup returns the format a `format` property names, in any case.
func Lookup(name string) (Format, error) {
	lower := strings.ToLower(name)
	for _, f := range known {
		if f.Name == lower {
			return f, nil
		}
	}
	if slices.Contains(unsupported, lower) {
		return Format{}, fmt.Errorf("unsupported format %q; Kustard reads %s", name, Names())
	}
	return Format{}, fmt.Errorf("unknown format %q; Kustard reads %s", name, Names())
}

// Names lists the formats Kustard reads, for messages and docs.
func Names() string {
	names := make([]string, len(known))
	for i, f := range known {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// Record is one record of a source: its fields (delimited, TXT and RAW) or its JSON value.
type Record struct {
	Line   int      // the 1-based line the record starts on
	Fields []string // valid until the next call to Next
	Value  any      // a JSON record as a dynamic value (map[string]any, []any, int64, float64, string, bool, nil)
}

// Reader reads the records of one source.
type Reader interface {
	// Next returns the next record, or io.EOF after the last. A malformed stream is an *Error.
	Next() (*Record, error)
	// Skipped is how many malformed records the reader skipped, where Kusto skips them (JSON
	// lines), and the first one's error.
	Skipped() (int, *Error)
}

// Options bound a reader.
type Options struct {
	// MaxRecordBytes bounds one record (Kusto: 64 MB for CSV and JSON records); 0 means that.
	MaxRecordBytes int
}

// DefaultMaxRecordBytes is Kusto's bound of one CSV or JSON record.
const DefaultMaxRecordBytes = 64 << 20

// NewReader returns a reader of format f over r.
func NewReader(f Format, r io.Reader, opts Options) Reader {
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = DefaultMaxRecordBytes
	}
	switch f.Kind {
	case JSONLines:
		return newJSONLines(r, opts)
	case MultiJSON:
		return newMultiJSON(r, opts)
	default:
		return newDelimited(f, r, opts)
	}
}

// Error is a malformed stream: Kusto's error code, and where.
type Error struct {
	Code   string // Kusto's: Stream_ClosingQuoteMissing, Stream_WrongNumberOfFields, BadRequest_InvalidBlob, …
	Line   int    // 1-based; 0 when unknown
	Column int    // 1-based byte column within the line; 0 when unknown
	Offset int64  // byte offset in the stream, when Line is unknown; -1 when that is unknown too
	Msg    string
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("line %d, column %d: %s (%s)", e.Line, e.Column, e.Msg, e.Code)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s (%s)", e.Line, e.Msg, e.Code)
	case e.Offset < 0:
		return fmt.Sprintf("%s (%s)", e.Msg, e.Code)
	}
	return fmt.Sprintf("byte %d: %s (%s)", e.Offset, e.Msg, e.Code)
}
