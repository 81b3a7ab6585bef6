package engine

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Streaming ingestion (api/rest/streaming-ingest.md): a request's body, in one of Kusto's
// formats, appended to an existing table whose streaming ingestion policy is enabled. It reads
// the body through the readers `.ingest` uses, batch by batch, within the memory budget and the
// per-ingest cap, and commits one extent, or nothing. Kusto lists no operation for a streaming
// ingest (.show operations lists commands; its failures have .show streamingingestion failures),
// so neither does Kustard: the request is the unit, and its context cancels it.

// StreamIngest is one streaming ingest request.
type StreamIngest struct {
	Database, Table string
	// Format is the request's streamFormat, as sent (Csv, json, …).
	Format string
	// MappingName names an ingestion mapping of the table, of the format's kind.
	MappingName string
	// Body is the data: plain, or gzip-compressed (which its first bytes tell).
	Body io.Reader
}

// StreamIngestResult is what a streaming ingest did.
type StreamIngestResult struct {
	Rows int64
}

// StreamIngestError is a refusal of a streaming ingest with the code Kusto gives it
// (BadRequest_StreamingIngestionPolicyNotEnabled, …), for the front door to report.
type StreamIngestError struct {
	Code string
	Err  *kusto.Error
}

func (e *StreamIngestError) Error() string { return e.Err.Error() }
func (e *StreamIngestError) Unwrap() error { return e.Err }

// streamFormats are the streamFormat values streaming-ingest.md lists that Kustard reads;
// unsupportedStreamFormats are the ones it lists that Kustard does not, refused by name.
var (
	streamFormats            = map[string]bool{"csv": true, "tsv": true, "scsv": true, "sohsv": true, "psv": true, "json": true, "multijson": true}
	streamFormatNames        = "Csv, Tsv, Scsv, SOHsv, Psv, Json and MultiJson"
	unsupportedStreamFormats = map[string]bool{"avro": true, "singlejson": true}
)

// StreamIngest runs one streaming ingest.
func (e *Engine) StreamIngest(ctx context.Context, in StreamIngest) (StreamIngestResult, error) {
	bad := func(kind kusto.Kind, code, format string, args ...any) error {
		return &StreamIngestError{Code: code, Err: &kusto.Error{Kind: kind, Offset: -1, Msg: fmt.Sprintf(format, args...)}}
	}
	db, ok := e.Database(in.Database)
	if !ok {
		return StreamIngestResult{}, bad(kusto.KindNotFound, "BadRequest_EntityNotFound", "Entity name '%s' of kind 'Database' does not exist.", in.Database)
	}
	snap := e.cat.Snapshot()
	t, ok := snap.Table(db.Name, in.Table)
	if !ok {
		return StreamIngestResult{}, bad(kusto.KindNotFound, "BadRequest_EntityNotFound",
			"table %q does not exist in database %q; streaming ingestion appends to an existing table (create it with .create table)", in.Table, db.Name)
	}
	if !snap.StreamingEnabled(db.Name, t.Name) {
		return StreamIngestResult{}, bad(kusto.KindSemantic, "BadRequest_StreamingIngestionPolicyNotEnabled",
			"Streaming ingestion policy is not enabled for the table %q of database %q; enable it with .alter table %s policy streamingingestion enable (or on the database)",
			t.Name, db.Name, quoteName(t.Name))
	}
	name := strings.ToLower(in.Format)
	switch {
	case name == "":
		return StreamIngestResult{}, bad(kusto.KindSemantic, "BadRequest_InvalidArgument", "streamFormat is required: one of %s", streamFormatNames)
	case unsupportedStreamFormats[name]:
		return StreamIngestResult{}, bad(kusto.KindSemantic, "BadRequest_InvalidArgument",
			"unsupported streamFormat %q; Kustard's streaming ingestion reads %s", in.Format, streamFormatNames)
	case !streamFormats[name]:
		return StreamIngestResult{}, bad(kusto.KindSemantic, "BadRequest_InvalidArgument",
			"unknown streamFormat %q; streaming ingestion takes %s", in.Format, streamFormatNames)
	}
	format, err := formats.Lookup(name)
	if err != nil {
		return StreamIngestResult{}, err
	}
	var mapping []formats.ColumnMapping
	if in.MappingName != "" {
		found := false
		for _, m := range t.Mappings {
			if m.Name == in.MappingName && m.Kind == format.MappingKind {
				if mapping, err = formats.ParseMapping(m.Kind, m.Mapping); err != nil {
					return StreamIngestResult{}, err
				}
				found = true
			}
		}
		if !found {
			return StreamIngestResult{}, bad(kusto.KindNotFound, "BadRequest_MappingReferenceWasNotFound",
				"table %q has no %s ingestion mapping %q (streamFormat %s takes %s mappings)", t.Name, strings.ToLower(format.MappingKind), in.MappingName, format.Name, strings.ToLower(format.MappingKind))
		}
	} else if format.MappingKind == "Json" {
		// streaming-ingest.md: mappingName is "Required if streamFormat is one of JSON,
		// MultiJSON, or Avro".
		return StreamIngestResult{}, bad(kusto.KindSemantic, "BadRequest_MappingReferenceRequired",
			"streamFormat %s needs mappingName, the name of a json ingestion mapping of table %q (.create table %s ingestion json mapping \"Name\" '[…]')", format.Name, t.Name, quoteName(t.Name))
	}
	for _, m := range mapping {
		if t.Schema.Index(m.Column) < 0 {
			return StreamIngestResult{}, bad(kusto.KindSemantic, "BadRequest_InvalidMapping",
				"the mapping's column %q is not in table %q; streaming ingestion does not change a table's schema", m.Column, t.Name)
		}
	}
	c := &call{sess: e.NewSession(), req: &Request{}, db: db, block: &parser.Block{}}
	j := &dataIngest{c: c, cmd: &parser.IngestData{}, table: t.Name,
		tableID: t.ID, schema: t.Schema, format: format}
	j.plan(mapping)
	stream, err := newSourceStream(ctx, "stream", in.Body, e.opts.MaxIngestBytes)
	if err != nil {
		return StreamIngestResult{}, err
	}
	left := e.opts.MaxIngestBytes
	var rows int64
	built, err := j.readSource(ctx, "stream", formats.NewReader(j.format, stream, formats.Options{}), &left, &rows)
	committed := false
	defer func() {
		if !committed {
			e.budget.release(built.held)
		}
	}()
	if err != nil {
		return StreamIngestResult{}, err
	}
	var extents []*Extent
	if built.extent != nil {
		extents = append(extents, built.extent)
	}
	if err := j.commit(ctx, extents, [16]byte{}, nil); err != nil {
		return StreamIngestResult{}, err
	}
	committed = true
	return StreamIngestResult{Rows: built.rows}, nil
}
