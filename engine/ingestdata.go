package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// `.ingest into` and `.ingest inline`: data in one of Kusto's formats, read in batches from
// local files or the command's own text, converted to the table's columns (by position, by
// name, or by an ingestion mapping) and committed as one extent per source, in one
// transaction, or not at all (ingest-into-command.md, ingest-inline.md).

// dataIngestKind is the Operation name Kusto gives `.ingest` (ingestion-failures.md's
// OperationKind, show-operations.md's NodeId note).
const dataIngestKind = "DataIngestPull"

// ingestDataSchema is the result of `.ingest into` (ingest-into-command.md, "Returns"); the
// inline form returns the same columns.
var ingestDataSchema = Schema{
	{"ExtentId", kusto.TypeGUID}, {"ItemLoaded", kusto.TypeString}, {"Duration", kusto.TypeTimespan},
	{"HasErrors", kusto.TypeBool}, {"OperationId", kusto.TypeGUID},
}

// ingestDataProperties are the ingestion properties `.ingest` takes (ingestion-properties.md).
var ingestDataProperties = []PropertySpec{
	{Name: "format", Type: kusto.TypeString, Check: checkFormat, Doc: "the data format: " + formats.Names() + " (default csv)"},
	{Name: "ingestionMapping", Type: kusto.TypeString, Doc: "a Csv or Json mapping, as JSON text"},
	{Name: "ingestionMappingReference", Type: kusto.TypeString, Doc: "the name of a mapping created with .create table T ingestion … mapping"},
	{Name: "ignoreFirstRecord", Type: kusto.TypeBool, Doc: "skip the first record of each source (a header line)"},
	{Name: "creationTime", Type: kusto.TypeString, Check: checkCreationTime, Doc: "the creation time of the new extents, as an ISO 8601 datetime"},
	{Name: "tags", Type: kusto.TypeString, Check: checkStringList, Doc: `tags for the new extents, as a JSON list`},
	{Name: "ingestIfNotExists", Type: kusto.TypeString, Check: checkStringList, Doc: `skip the ingest if the table has an extent tagged ingest-by:<value>`},
	{Name: "persistDetails", Type: kusto.TypeBool, Doc: "keep the result for .show operation <id> details"},
}

var unsupportedIngestDataProperties = []string{
	"validationPolicy", "zipPattern", "policy_ingestiontime", "csvMapping", "jsonMapping", "avroMapping",
	"csvMappingReference", "jsonMappingReference", "avroMappingReference", "extend_schema", "recreate_schema",
	"ingestionMappingType", "dropByTags", "distributed", "folder", "docstring",
}

func checkFormat(v kusto.Literal) (kusto.Literal, error) {
	if _, err := formats.Lookup(v.Value.(string)); err != nil {
		return kusto.Literal{}, err
	}
	return v, nil
}

// dataIngest is an `.ingest` that has been checked and is ready to run.
type dataIngest struct {
	c          *call
	cmd        *parser.IngestData
	table      string
	tableID    uuid.UUID
	schema     Schema // the table's, as the ingest fills it
	format     formats.Format
	columns    []columnSource
	props      parser.NamedValues
	sources    []*sourceFile
	progress   func(rows int64)
	fields     []int    // the field each column takes, when the fast path can read them (ingesttext.go)
	keys       []string // for format json: the members the columns take, when the fast path can
	members    []int    // read them, and the member each column takes
	hasMapping bool     // for format parquet: a mapping sends it down the record path
}

// columnSource computes one table column's value from a record.
type columnSource func(src string, rec *formats.Record) any

func runIngestData(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.IngestData)
	info := CommandFor(cmd)
	spec := c.spec(info.Kind, info.Cancellable)
	job, err := prepareDataIngest(c, in)
	if err != nil {
		op, _ := c.sess.eng.ops.Reject(spec, err)
		if job != nil {
			job.recordFailure(op, err)
		}
		return nil, err
	}
	if in.Async {
		f, err := c.goAsync(spec, func(ctx context.Context) (any, error) {
			defer job.close()
			out, _, err := job.runAndRecord(ctx)
			return out, err
		})
		if err != nil {
			job.close() // the operation never started
		}
		return f, err
	}
	defer job.close()
	job.progress = c.req.Progress
	var result *Frame
	_, _, err = c.sess.eng.ops.Run(ctx, spec, func(ctx context.Context) (any, error) {
		out, frame, err := job.runAndRecord(ctx)
		result = frame
		if err != nil {
			return nil, err
		}
		return out, nil
	})
	var skipped *ops.SkippedError
	if errors.As(err, &skipped) {
		return newFrame(ingestDataSchema).frame(), nil
	}
	return result, err
}

func (j *dataIngest) close() {
	for _, s := range j.sources {
		s.f.Close()
	}
}

// prepareDataIngest checks the command, resolves its mapping, settles the table's schema
// (creating the table or adding columns when the mapping gives their types, as csv-mapping.md
// says) and opens the sources. What fails here fails at once, before any operation runs. The
// job it returns with an error is only for recording the failure.
func prepareDataIngest(c *call, in *parser.IngestData) (*dataIngest, error) {
	j := &dataIngest{c: c, cmd: in, table: in.Table.String()}
	if in.With != nil {
		j.props = in.With.Values
	}
	switch {
	case in.Inline && in.Async:
		return nil, c.errorf(in.Pos.Offset, kusto.KindSyntax, ".ingest inline does not take async; it runs as it is sent")
	case in.Inline && len(in.Sources) > 0:
		return nil, c.errorf(in.Sources[0].Pos.Offset, kusto.KindSyntax, ".ingest inline takes its data after <|, not sources")
	case in.Inline && in.Data == nil:
		return nil, c.errorf(in.Table.Pos.Offset, kusto.KindSyntax, ".ingest inline needs its data after <|")
	case !in.Inline && in.Data != nil:
		return nil, c.errorf(in.Data.Pos.Offset-2, kusto.KindSyntax, ".ingest into takes sources, not data after <| (use .ingest inline)")
	case !in.Inline && len(in.Sources) == 0:
		return nil, c.errorf(in.Table.Pos.Offset, kusto.KindSyntax, ".ingest into needs one or more sources: .ingest into table %s (h@'/path/file.csv')", j.table)
	}
	j.format, _ = formats.Lookup("csv")
	if v, ok := j.props["format"]; ok {
		j.format, _ = formats.Lookup(v.Value.(string))
	}
	if in.Inline && j.format.Kind == formats.Parquet {
		return nil, c.errorf(in.Pos.Offset, kusto.KindSemantic, ".ingest inline takes text; Parquet is a binary format (ingest the file with .ingest into)")
	}
	mapping, err := j.mapping()
	if err != nil {
		return nil, err
	}
	if err := j.settleTable(mapping); err != nil {
		return nil, err
	}
	j.plan(mapping)
	for _, s := range in.Sources {
		f, err := c.sess.eng.opts.IngestFiles.open(s.Value)
		if err != nil {
			j.close()
			if ke, ok := err.(*kusto.Error); ok {
				ke.Src, ke.Offset = c.block.Source, s.Pos.Offset
			}
			return j, err
		}
		j.sources = append(j.sources, f)
	}
	return j, nil
}

// mapping returns the ingest's mapping: inline, by reference, or none (identity).
func (j *dataIngest) mapping() ([]formats.ColumnMapping, error) {
	c := j.c
	inline, hasInline := j.props["ingestionMapping"]
	ref, hasRef := j.props["ingestionMappingReference"]
	kind := j.format.MappingKind
	at := func(name string) int {
		for _, p := range j.cmd.With.List {
			if strings.EqualFold(p.Name.String(), name) {
				return p.Pos.Offset
			}
		}
		return j.cmd.Pos.Offset
	}
	switch {
	case hasInline && hasRef:
		return nil, c.errorf(at("ingestionMappingReference"), kusto.KindSyntax, "give ingestionMapping or ingestionMappingReference, not both")
	case hasInline:
		ms, err := formats.ParseMapping(kind, inline.Value.(string))
		if err != nil {
			return nil, c.errorf(at("ingestionMapping"), kusto.KindSemantic, "ingestionMapping (%s, for format %s): %v", kind, j.format.Name, err)
		}
		return ms, nil
	case hasRef:
		name := ref.Value.(string)
		t, ok := c.sess.eng.cat.Snapshot().Table(c.db.Name, j.table)
		if ok {
			for _, m := range t.Mappings {
				if m.Name == name && m.Kind == kind {
					return formats.ParseMapping(kind, m.Mapping)
				}
			}
		}
		return nil, c.errorf(at("ingestionMappingReference"), kusto.KindNotFound, "table %q has no %s ingestion mapping %q (format %s takes %s mappings)", j.table, strings.ToLower(kind), name, j.format.Name, strings.ToLower(kind))
	}
	return nil, nil
}

// settleTable checks that the table exists, or creates it from a mapping that types every
// column, and adds the mapping's typed columns the table lacks.
func (j *dataIngest) settleTable(mapping []formats.ColumnMapping) error {
	c := j.c
	db, newID := c.db.Name, c.lazyID()
	_, err := c.sess.eng.cat.Update(func(tx *Txn) error {
		t, exists := tx.Table(db, j.table)
		var schema Schema
		if exists {
			schema = t.Schema
		}
		extended := false
		for _, m := range mapping {
			if schema.Index(m.Column) >= 0 {
				continue
			}
			if m.DataType == kusto.TypeUnknown {
				if !exists {
					return c.errorf(j.cmd.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist; .ingest creates it only from a mapping that gives every column's DataType (%q has none)", j.table, m.Column)
				}
				return c.errorf(j.cmd.Table.Pos.Offset, kusto.KindSemantic, "the mapping's column %q is not in table %q, and has no DataType to add it with", m.Column, j.table)
			}
			schema = append(schema, ColumnSchema{m.Column, m.DataType})
			extended = true
		}
		if !exists {
			if len(schema) == 0 {
				return c.errorf(j.cmd.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist; create it first (.create table %s (Column:Type, …))", j.table, quoteName(j.table))
			}
			if err := tx.CreateTable(db, j.table, newID(), schema, "", ""); err != nil {
				return err
			}
		} else if extended {
			if err := tx.Unchanged(db, j.table); err != nil {
				return err
			}
			if err := tx.SetSchema(db, j.table, schema); err != nil {
				return err
			}
		}
		t, _ = tx.Table(db, j.table)
		j.tableID, j.schema = t.ID, t.Schema
		return nil
	})
	return err
}

// columnSources says, for each column of the table, where its value comes from.
func (j *dataIngest) columnSources(mapping []formats.ColumnMapping) []columnSource {
	return columnSourcesFor(j.schema, j.format, mapping)
}

// columnSourcesFor says, for each column of schema, where its value comes from in a record of
// format f: `.ingest` and externaldata share it.
func columnSourcesFor(schema Schema, f formats.Format, mapping []formats.ColumnMapping) []columnSource {
	out := make([]columnSource, len(schema))
	for i := range out {
		out[i] = func(string, *formats.Record) any { return nil }
	}
	json := f.MappingKind != "Csv" // Json and Parquet records are objects
	conv := formats.FromJSON
	if f.Kind == formats.Parquet {
		conv = formats.FromParquet
	}
	if mapping == nil {
		for i, col := range schema {
			t, i, name := col.Type, i, col.Name
			if json {
				out[i] = func(_ string, rec *formats.Record) any {
					obj, _ := rec.Value.(map[string]any)
					v, _ := conv(t, obj[name])
					return v
				}
			} else {
				out[i] = func(_ string, rec *formats.Record) any {
					if i >= len(rec.Fields) {
						return nil
					}
					v, _ := formats.FromText(t, rec.Fields[i])
					return v
				}
			}
		}
		return out
	}
	for _, m := range mapping {
		i := schema.Index(m.Column)
		t := schema[i].Type
		var raw func(src string, rec *formats.Record) (any, bool) // the value before conversion; bool: is text
		switch {
		case m.Transform == "SourceLocation":
			raw = func(src string, _ *formats.Record) (any, bool) { return src, true }
		case m.Transform == "SourceLineNumber":
			raw = func(_ string, rec *formats.Record) (any, bool) { return int64(rec.Line), false }
		case m.Const != nil:
			v, _ := formats.FromText(t, *m.Const)
			out[i] = func(string, *formats.Record) any { return v }
			continue
		case m.Path != nil:
			path := m.Path
			raw = func(_ string, rec *formats.Record) (any, bool) {
				v, _ := formats.Select(rec.Value, path)
				return v, false
			}
		default:
			k := m.Ordinal
			raw = func(_ string, rec *formats.Record) (any, bool) {
				if k >= len(rec.Fields) {
					return nil, false
				}
				return rec.Fields[k], true
			}
		}
		if unit := unixUnit(m.Transform); unit > 0 {
			inner := raw
			raw = func(src string, rec *formats.Record) (any, bool) {
				v, _ := inner(src, rec)
				return fromUnix(v, unit), false
			}
		}
		out[i] = func(src string, rec *formats.Record) any {
			v, text := raw(src, rec)
			if s, ok := v.(string); ok && text {
				v, _ = formats.FromText(t, s)
				return v
			}
			if d, ok := v.(kusto.DateTime); ok {
				if t == kusto.TypeDateTime {
					return d
				}
				return nil
			}
			v, _ = conv(t, v)
			return v
		}
	}
	return out
}

// unixUnit is the ticks per unit of a DateTimeFromUnix… transform, or 0.
func unixUnit(transform string) float64 {
	switch strings.ToLower(transform) {
	case "datetimefromunixseconds":
		return 1e7
	case "datetimefromunixmilliseconds":
		return 1e4
	case "datetimefromunixmicroseconds":
		return 10
	case "datetimefromunixnanoseconds":
		return 0.01
	}
	return 0
}

// fromUnix converts a number (or its text) of a unit since 1970 to a datetime; null if it is
// not a number or out of range.
func fromUnix(v any, ticksPerUnit float64) any {
	var f float64
	switch x := v.(type) {
	case int64:
		f = float64(x)
	case float64:
		f = x
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil
		}
		f = n
	default:
		return nil
	}
	ticks := f*ticksPerUnit + float64(kusto.DateTimeOf(time.Unix(0, 0).UTC()))
	if math.IsNaN(ticks) || ticks < 0 || ticks > float64(kusto.MaxDateTime) {
		return nil
	}
	return kusto.DateTime(int64(ticks))
}

// ingestBatchRows is how many records are converted before their columns join the extent and
// their memory is reserved: the unit of the budget's checks and of cancellation.
const ingestBatchRows = 4096

// builtSource is one source's extent, or nothing when it had no rows.
type builtSource struct {
	name   string
	extent *Extent
	held   int64
	rows   int64
}

// runAndRecord runs the ingest and records a failure for `.show ingestion failures`.
func (j *dataIngest) runAndRecord(ctx context.Context) (*ingestOutcome, *Frame, error) {
	out, frame, err := j.run(ctx)
	if err != nil {
		var skipped *ops.SkippedError
		if !errors.As(err, &skipped) && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			j.recordFailure(ops.FromContext(ctx), err)
		}
	}
	return out, frame, err
}

func (j *dataIngest) run(ctx context.Context) (_ *ingestOutcome, _ *Frame, err error) {
	eng := j.c.sess.eng
	start := eng.ops.Clock().Now()
	var built []builtSource
	committed := false
	defer func() {
		if !committed {
			for _, b := range built {
				eng.budget.release(b.held)
			}
		}
	}()
	h := ops.FromContext(ctx)
	var total, done int64
	for _, s := range j.sources {
		total += s.size
	}
	if j.cmd.Inline {
		total = int64(len(j.cmd.Data.Text))
	}
	h.SetPhase("reading sources")
	h.SetProgress(0, total)
	var budgetLeft = eng.opts.MaxIngestBytes
	var rows int64
	read := func(name string, r io.Reader, size int64) error {
		var reader formats.Reader
		if j.format.Kind == formats.Parquet {
			pr, err := openParquetSource(name, r, size, func(frac float64) { h.SetDone(done + int64(frac*float64(size))) })
			if err != nil {
				return err
			}
			defer pr.Close()
			reader = pr
		} else {
			stream, err := newSourceStream(ctx, name, r, eng.opts.MaxIngestBytes)
			if err != nil {
				return err
			}
			stream.onProgress = func() { h.SetDone(done + min(stream.raw.n, size)) }
			reader = formats.NewReader(j.format, stream, formats.Options{})
		}
		b, err := j.readSource(ctx, name, reader, &budgetLeft, &rows)
		built = append(built, b)
		done += size
		return err
	}
	if j.cmd.Inline {
		data := inlineData(j.cmd.Data.Text)
		if err := read("inline", strings.NewReader(data), total); err != nil {
			return nil, nil, err
		}
	}
	for _, s := range j.sources {
		if err := read(s.name, s.f, s.size); err != nil {
			return nil, nil, err
		}
	}
	h.SetPhase("committing")
	fb := newFrame(extentsSchema)
	result := newFrame(ingestDataSchema)
	elapsed := kusto.Timespan(eng.ops.Clock().Now().Sub(start) / 100)
	var extents []*Extent
	for _, b := range built {
		if b.extent == nil {
			continue
		}
		extents = append(extents, b.extent)
		e := b.extent
		fb.row(e.ID, e.Size, e.Size, e.Size, int64(0), int64(e.Rows))
		result.row(e.ID, b.name, elapsed, false, h.ID())
	}
	if len(extents) == 0 {
		// ingest-into-command.md: "If no data shards were generated, a single record is returned
		// with an empty (zero-valued) extent ID."
		result.row(uuid.Nil, j.itemsLoaded(), elapsed, false, h.ID())
	}
	out := &ingestOutcome{extents: fb.frame(), rows: rows}
	if v, ok := j.props["persistDetails"]; ok && v.Value.(bool) {
		out.persisted = true
	}
	if err := j.commit(ctx, extents, h.ID(), out); err != nil {
		return nil, nil, err
	}
	committed = true
	return out, result.frame(), nil
}

func (j *dataIngest) itemsLoaded() string {
	if j.cmd.Inline {
		return "inline"
	}
	names := make([]string, len(j.cmd.Sources))
	for i, s := range j.cmd.Sources {
		names[i] = s.Value
	}
	return strings.Join(names, ", ")
}

// inlineData is the data of an .ingest inline: the text after <|, less the rest of the line
// when only blanks follow <| (the docs put the data on the lines below).
func inlineData(text string) string {
	rest := strings.TrimLeft(text, " \t")
	if strings.HasPrefix(rest, "\r\n") {
		return rest[2:]
	}
	if strings.HasPrefix(rest, "\n") {
		return rest[1:]
	}
	return rest
}

// readSource reads one source into an extent, batch by batch.
func (j *dataIngest) readSource(ctx context.Context, name string, reader formats.Reader, left *int64, total *int64) (builtSource, error) {
	eng := j.c.sess.eng
	out := builtSource{name: name}
	chunks := make([]*chunkedBuilder, len(j.schema))
	for i, col := range j.schema {
		chunks[i] = newChunkedBuilder(col.Type, math.MaxUint64)
	}
	var size int64
	// flush adds a batch's columns to the extent, reserving their memory.
	flush := func(cols []Column) error {
		if len(cols) == 0 || cols[0].Len() == 0 {
			return nil
		}
		var cost int64
		for i, col := range cols {
			chunks[i].appendColumn(col)
			size += columnBytes(col)
			cost += memoryCost(col)
		}
		n := int64(cols[0].Len())
		out.rows += n
		*total += n
		if cost > *left {
			return &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
				"source %q: the ingest exceeded %d bytes after %d rows (Kustard's limit is set by --max-ingest-bytes)", name, eng.opts.MaxIngestBytes, *total)}
		}
		if err := eng.budget.reserve(cost); err != nil {
			return err
		}
		*left -= cost
		out.held += cost
		if j.progress != nil {
			j.progress(*total)
		}
		return ctx.Err()
	}
	var records int
	var err error
	var leaves []formats.ParquetLeaf
	var has []bool
	ps, flat := reader.(*parquetSource)
	if flat {
		leaves, has, flat = j.parquetColumns(ps)
	}
	if flat {
		records, err = j.readParquet(ps, leaves, has, flush)
	} else if fr, ok := reader.(formats.FieldReader); ok && j.fields != nil {
		records, err = j.readFields(fr, flush)
	} else if mr, ok := formats.Members(reader, j.keys); ok && j.members != nil {
		reader = mr
		records, err = j.readMembers(mr, flush)
	} else {
		records, err = j.readRecords(name, reader, flush)
	}
	if err != nil {
		return out, j.dataError(name, err)
	}
	if records == 0 {
		return out, fileError(kusto.KindSemantic, name, "has no records in format %s (BadRequest_NoRecordsOrWrongFormat)", j.format.Name)
	}
	if n, first := reader.Skipped(); n > 0 {
		j.recordSkipped(ops.FromContext(ctx), name, n, first)
	}
	if out.rows > 0 {
		cols := make(MemoryData, len(chunks))
		types := make([]kusto.Type, len(chunks))
		for i, b := range chunks {
			cols[i], types[i] = b.column(), j.schema[i].Type
		}
		e := NewExtent(eng.ops.IDs().NewID(), int(out.rows), types, cols)
		e.Size, e.cost = size, out.held
		if v, ok := j.props["tags"]; ok {
			e.Tags = kusto.StringList(v)
		}
		e.CreatedOn = kusto.DateTimeOf(eng.ops.Clock().Now())
		if v, ok := j.props["creationTime"]; ok {
			e.CreatedOn = v.Value.(kusto.DateTime)
		}
		out.extent = e
	}
	return out, nil
}

// readRecords reads the records of a source through the columns' sources, value by value,
// handing each batch of ingestBatchRows rows to flush. It returns how many records it read.
func (j *dataIngest) readRecords(name string, reader formats.Reader, flush func([]Column) error) (int, error) {
	batch := make([]builder, len(j.schema))
	cols := make([]Column, len(j.schema))
	newBatch := func() {
		for i, col := range j.schema {
			batch[i] = builderFor(newColumn(col.Type, ingestBatchRows))
		}
	}
	take := func() error {
		for i, b := range batch {
			cols[i] = b.column()
		}
		newBatch()
		return flush(cols)
	}
	newBatch()
	var rec *formats.Record
	next := func() (err error) {
		rec, err = reader.Next()
		return err
	}
	records, err := j.eachRecord(next, func() error {
		for i, src := range j.columns {
			batch[i].appendValue(src(name, rec))
		}
		if len(j.schema) > 0 && batch[0].len() >= ingestBatchRows {
			return take()
		}
		return nil
	})
	if err != nil {
		return records, err
	}
	return records, take()
}

// eachRecord calls next until io.EOF, counting the records, and hands each to add but a first
// one that ignoreFirstRecord skips. It returns how many records it read.
func (j *dataIngest) eachRecord(next, add func() error) (int, error) {
	records := 0
	for {
		err := next()
		if errors.Is(err, io.EOF) {
			return records, nil
		}
		if err != nil {
			return records, err
		}
		records++
		if records == 1 && j.ignoreFirst() {
			continue
		}
		if err := add(); err != nil {
			return records, err
		}
	}
}

func (j *dataIngest) ignoreFirst() bool {
	v, ok := j.props["ignoreFirstRecord"]
	return ok && v.Value.(bool)
}

// dataError names the source of a malformed stream; an inline one is placed in the command's
// text, with a caret.
func (j *dataIngest) dataError(name string, err error) error {
	var fe *formats.Error
	if !errors.As(err, &fe) {
		return err
	}
	if j.cmd.Inline && fe.Line > 0 {
		text := j.cmd.Data.Text
		base := j.cmd.Data.Pos.Offset + len(text) - len(inlineData(text))
		data := inlineData(text)
		off := 0
		for l := 1; l < fe.Line; l++ {
			nl := strings.IndexByte(data[off:], '\n')
			if nl < 0 {
				break
			}
			off += nl + 1
		}
		if fe.Column > 0 {
			off += fe.Column - 1
		}
		msg := fe.Msg + " (" + fe.Code + ")"
		return &kusto.Error{Kind: kusto.KindSemantic, Msg: "inline data: " + msg, Offset: base + off, Src: j.c.block.Source}
	}
	return fileError(kusto.KindSemantic, name, "%v", fe)
}

// commit appends the extents in one transaction whose preconditions are what must still hold
// since prepareDataIngest: the table has the id it had then, its schema still starts with the
// columns the extents were built for, the ingest was not canceled, and no extent has an
// ingestIfNotExists tag. It completes operation op with out in the same transaction.
func (j *dataIngest) commit(ctx context.Context, extents []*Extent, op uuid.UUID, out *ingestOutcome) error {
	db := j.c.db.Name
	_, err := j.c.sess.eng.cat.Update(func(tx *Txn) error {
		err := tx.Require(func(s *Snapshot) error {
			t, ok := s.Table(db, j.table)
			if !ok || t.ID != j.tableID {
				return &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: fmt.Sprintf("table %q was dropped while the ingest ran", j.table)}
			}
			if len(t.Schema) < len(j.schema) || !typesMatch(t.Schema, j.schema) {
				return &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: fmt.Sprintf("the schema of table %q changed while the ingest ran", j.table)}
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if v, ok := j.props["ingestIfNotExists"]; ok {
				for _, tag := range kusto.StringList(v) {
					if tableHasTag(t, "ingest-by:"+tag) {
						return &ops.SkippedError{Reason: fmt.Sprintf("table %q already has data tagged ingest-by:%s", j.table, tag)}
					}
				}
			}
			return nil
		})
		if err != nil || len(extents) == 0 {
			return err
		}
		if err := tx.AppendExtents(db, j.table, extents...); err != nil {
			return err
		}
		if op == uuid.Nil {
			return nil
		}
		return tx.CompleteOperation(op, j.c.sess.eng.ops.Stamp(), out)
	})
	return err
}
