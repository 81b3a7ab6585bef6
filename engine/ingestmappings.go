package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// Ingestion mappings (create-ingestion-mapping-command.md, show-ingestion-mapping-command.md,
// drop-ingestion-mapping-command.md), kept with their table in the catalog, and the record of
// failed ingests that `.show ingestion failures` lists (ingestion-failures.md).

// IngestionMapping is a named mapping of a table.
type IngestionMapping struct {
	Name          string
	Kind          string // Csv or Json
	Mapping       string // as formats.MappingJSON writes it
	LastUpdatedOn kusto.DateTime
}

// SetIngestionMapping creates or replaces a table's mapping of a kind and name.
type SetIngestionMapping struct {
	Database, Table string
	ID              uuid.UUID
	Mapping         IngestionMapping
}

// DropIngestionMapping removes a table's mapping of a kind and name.
type DropIngestionMapping struct {
	Database, Table string
	ID              uuid.UUID
	Kind, Name      string
}

func (c *SetIngestionMapping) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err != nil {
		return err
	}
	ms := slices.Clone(t.Mappings)
	if i := mappingIndex(ms, c.Mapping.Kind, c.Mapping.Name); i >= 0 {
		ms[i] = c.Mapping
	} else {
		ms = append(ms, c.Mapping)
	}
	t.Mappings = ms
	return nil
}

func (c *DropIngestionMapping) apply(w *writer) error {
	t, err := w.table(c.Database, c.Table, c.ID)
	if err != nil {
		return err
	}
	i := mappingIndex(t.Mappings, c.Kind, c.Name)
	if i < 0 {
		return conflictf("table %q has no %s mapping %q", c.Table, c.Kind, c.Name)
	}
	t.Mappings = slices.Delete(slices.Clone(t.Mappings), i, i+1)
	return nil
}

func mappingIndex(ms []IngestionMapping, kind, name string) int {
	return slices.IndexFunc(ms, func(m IngestionMapping) bool { return m.Kind == kind && m.Name == name })
}

// SetIngestionMapping creates or replaces a mapping of a table.
func (tx *Txn) SetIngestionMapping(db, name string, m IngestionMapping) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &SetIngestionMapping{Database: db, Table: name, ID: id, Mapping: m}
	})
}

// DropIngestionMapping removes a mapping of a table.
func (tx *Txn) DropIngestionMapping(db, name, kind, mapping string) error {
	return tx.tableChange(db, name, func(id uuid.UUID) Change {
		return &DropIngestionMapping{Database: db, Table: name, ID: id, Kind: kind, Name: mapping}
	})
}

// mappingsSchema is the result of the mapping commands, as Kusto returns it.
var mappingsSchema = Schema{
	{"Name", kusto.TypeString}, {"Kind", kusto.TypeString}, {"Mapping", kusto.TypeString},
	{"LastUpdatedOn", kusto.TypeDateTime}, {"Database", kusto.TypeString}, {"Table", kusto.TypeString},
}

// mappingKind returns a mapping kind as Kusto shows it (Csv, Json, Parquet), or an error naming the
// kinds Kustard takes.
func mappingKind(c *call, n *parser.Name) (string, error) {
	for _, k := range formats.MappingKinds {
		if strings.EqualFold(k, n.String()) {
			return k, nil
		}
	}
	for _, k := range formats.UnsupportedMappingKinds {
		if strings.EqualFold(k, n.String()) {
			return "", c.errorf(n.Pos.Offset, kusto.KindSemantic, "unsupported mapping kind %q; Kustard takes csv, json and parquet mappings", n.String())
		}
	}
	return "", c.errorf(n.Pos.Offset, kusto.KindSemantic, "unknown mapping kind %q; Kusto's are csv, json, avro, parquet, orc and w3clogfile (Kustard takes csv, json and parquet)", n.String())
}

func mappingRow(fb *frameBuilder, db, table string, m IngestionMapping) {
	fb.row(m.Name, m.Kind, m.Mapping, m.LastUpdatedOn, db, table)
}

func runCreateIngestionMapping(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.CreateIngestionMapping)
	kind, err := mappingKind(c, in.Kind)
	if err != nil {
		return nil, err
	}
	pieces, err := parser.StringPieces(in.Strings.Tokens[0].Value)
	if err != nil {
		return nil, c.errorf(in.Strings.Pos.Offset, kusto.KindSyntax, "%v", err)
	}
	name := ""
	if in.Name != nil {
		name = in.Name.String()
	} else {
		if len(pieces) < 2 {
			return nil, c.errorf(in.Strings.Pos.Offset, kusto.KindSyntax, "expected the mapping's name and then the mapping, as in \"Mapping1\" '[…]'")
		}
		name, pieces = pieces[0], pieces[1:]
	}
	ms, err := formats.ParseMapping(kind, strings.Join(pieces, ""))
	if err != nil {
		return nil, c.errorf(in.Strings.Pos.Offset, kusto.KindSemantic, "%s mapping %q: %v", strings.ToLower(kind), name, err)
	}
	table := in.Table.String()
	m := IngestionMapping{Name: name, Kind: kind, Mapping: formats.MappingJSON(ms), LastUpdatedOn: kusto.DateTimeOf(c.sess.eng.ops.Clock().Now())}
	db := c.db.Name
	_, err = c.sess.eng.cat.Update(func(tx *Txn) error {
		t, ok := tx.Table(db, table)
		if !ok {
			return c.errorf(in.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist", table)
		}
		if in.Verb == "create" && mappingIndex(t.Mappings, kind, name) >= 0 {
			return c.errorf(in.Pos.Offset, kusto.KindConflict, "table %q already has a %s mapping %q (.create-or-alter replaces it)", table, strings.ToLower(kind), name)
		}
		return tx.SetIngestionMapping(db, table, m)
	})
	if err != nil {
		return nil, err
	}
	fb := newFrame(mappingsSchema)
	mappingRow(fb, db, table, m)
	return fb.frame(), nil
}

func runShowIngestionMappings(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.ShowIngestionMappings)
	tables, err := c.tablesNamed([]*parser.Name{in.Table})
	if err != nil {
		return nil, err
	}
	kind := ""
	if in.Kind != nil {
		if kind, err = mappingKind(c, in.Kind); err != nil {
			return nil, err
		}
	}
	fb := newFrame(mappingsSchema)
	t := tables[0]
	found := false
	for _, m := range t.Mappings {
		if kind != "" && m.Kind != kind || in.Name != nil && m.Name != in.Name.Value {
			continue
		}
		found = true
		mappingRow(fb, c.db.Name, t.Name, m)
	}
	if in.Name != nil && !found {
		return nil, c.errorf(in.Name.Pos.Offset, kusto.KindNotFound, "table %q has no %s mapping %q", t.Name, strings.ToLower(kind), in.Name.Value)
	}
	return fb.frame(), nil
}

func runDropIngestionMapping(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.DropIngestionMapping)
	kind, err := mappingKind(c, in.Kind)
	if err != nil {
		return nil, err
	}
	table, db, name := in.Table.String(), c.db.Name, in.Name.Value
	var rest []IngestionMapping
	_, err = c.sess.eng.cat.Update(func(tx *Txn) error {
		t, ok := tx.Table(db, table)
		if !ok {
			return c.errorf(in.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist", table)
		}
		if mappingIndex(t.Mappings, kind, name) < 0 {
			return c.errorf(in.Name.Pos.Offset, kusto.KindNotFound, "table %q has no %s mapping %q", table, strings.ToLower(kind), name)
		}
		if err := tx.DropIngestionMapping(db, table, kind, name); err != nil {
			return err
		}
		t, _ = tx.Table(db, table)
		rest = t.Mappings
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Kusto returns the table's remaining mappings of the kind.
	fb := newFrame(mappingsSchema)
	for _, m := range rest {
		if m.Kind == kind {
			mappingRow(fb, db, table, m)
		}
	}
	return fb.frame(), nil
}

// ingestFailuresSchema is ingestion-failures.md's "Returns".
var ingestFailuresSchema = Schema{
	{"OperationId", kusto.TypeGUID}, {"Database", kusto.TypeString}, {"Table", kusto.TypeString},
	{"FailedOn", kusto.TypeDateTime}, {"IngestionSourcePath", kusto.TypeString}, {"Details", kusto.TypeString},
	{"FailureKind", kusto.TypeString}, {"RootActivityId", kusto.TypeGUID}, {"OperationKind", kusto.TypeString},
	{"OriginatesFromUpdatePolicy", kusto.TypeBool}, {"ErrorCode", kusto.TypeString}, {"Principal", kusto.TypeString},
	{"User", kusto.TypeString}, {"IngestionProperties", kusto.TypeString}, {"NumberOfSources", kusto.TypeInt},
	{"ShouldRetry", kusto.TypeBool},
}

// maxIngestFailures bounds the failures kept (Kusto keeps 14 days of them).
const maxIngestFailures = 1000

type ingestFailure struct {
	op                uuid.UUID
	db, table         string
	at                kusto.DateTime
	source, details   string
	code, user, princ string
	activity          uuid.UUID
	properties        string
	sources           int32
}

type ingestFailures struct {
	mu   sync.Mutex
	list []ingestFailure
}

func (f *ingestFailures) add(x ingestFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.list) >= maxIngestFailures {
		f.list = slices.Delete(f.list, 0, 1)
	}
	f.list = append(f.list, x)
}

func (f *ingestFailures) all() []ingestFailure {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list)
}

// errorCode is the Kusto error code a failure's message ends with, "(Code)", or a general one.
func errorCode(msg string) string {
	if i := strings.LastIndexByte(msg, '('); i >= 0 && strings.HasSuffix(msg, ")") {
		code := msg[i+1 : len(msg)-1]
		if !strings.ContainsAny(code, " ,") && strings.Contains(code, "_") {
			return code
		}
	}
	return "BadRequest_InvalidBlob"
}

func (j *dataIngest) failure(op *ops.Handle, source, details string) ingestFailure {
	c := j.c
	var id uuid.UUID
	if op != nil {
		id = op.ID()
	}
	return ingestFailure{
		op: id, db: c.db.Name, table: j.table, at: kusto.DateTimeOf(c.sess.eng.ops.Clock().Now()),
		source: source, details: details, code: errorCode(details), user: c.req.user(c.sess), princ: c.req.Principal,
		activity: c.req.RootActivityID, properties: j.propertiesText(), sources: int32(max(1, len(j.cmd.Sources))),
	}
}

// recordFailure keeps a failed ingest for `.show ingestion failures`.
func (j *dataIngest) recordFailure(op any, err error) {
	var h *ops.Handle
	switch x := op.(type) {
	case *ops.Handle:
		h = x
	case *ops.Operation:
		if x != nil {
			j.c.sess.eng.failures.add(j.failureFor(x.ID, err))
			return
		}
	}
	f := j.failure(h, j.itemsLoaded(), failureDetails(err))
	j.c.sess.eng.failures.add(f)
}

// failureDetails is an error's message without its place in the command's text.
func failureDetails(err error) string {
	if ke, ok := err.(*kusto.Error); ok {
		return ke.Status()
	}
	return err.Error()
}

func (j *dataIngest) failureFor(id uuid.UUID, err error) ingestFailure {
	f := j.failure(nil, j.itemsLoaded(), failureDetails(err))
	f.op = id
	return f
}

// recordSkipped keeps the malformed records a source skipped (format json), which do not fail
// the ingest.
func (j *dataIngest) recordSkipped(h *ops.Handle, source string, n int, first *formats.Error) {
	details := fmt.Sprintf("%d malformed JSON records were skipped; the first: %v", n, first)
	j.c.sess.eng.failures.add(j.failure(h, source, details))
}

func (j *dataIngest) propertiesText() string {
	var parts []string
	if j.cmd.With != nil {
		for _, p := range j.cmd.With.List {
			parts = append(parts, p.Name.String()+"="+kusto.FormatValue(p.Value.Value))
		}
	}
	if len(parts) == 0 {
		return "Format=" + j.format.Name
	}
	return strings.Join(parts, ", ")
}

var ingestFailuresProperties = []PropertySpec{
	{Name: "OperationId", Type: kusto.TypeString, Check: checkGUIDText, Doc: "only the failures of this operation"},
}

func checkGUIDText(v kusto.Literal) (kusto.Literal, error) {
	g, err := kusto.ParseGUID(strings.TrimSpace(v.Value.(string)))
	if err != nil {
		return kusto.Literal{}, err
	}
	return kusto.Literal{Type: kusto.TypeGUID, Value: g}, nil
}

func runShowIngestionFailures(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.ShowIngestionFailures)
	var only *uuid.UUID
	if in.With != nil {
		if v, ok := in.With.Values["OperationId"]; ok {
			g := v.Value.(uuid.UUID)
			only = &g
		}
	}
	fb := newFrame(ingestFailuresSchema)
	for _, f := range c.sess.eng.failures.all() {
		if only != nil && f.op != *only || !strings.EqualFold(f.db, c.db.Name) {
			continue
		}
		fb.row(f.op, f.db, f.table, f.at, f.source, f.details, "Permanent", f.activity, dataIngestKind,
			false, f.code, f.princ, f.user, f.properties, f.sources, false)
	}
	return fb.frame(), nil
}

func init() {
	RegisterCommand(&CommandInfo{
		Name: ".ingest into", Keywords: []string{"ingest"},
		Synopsis: ".ingest [async] into table TableName (SourceDataLocator, …) [with (format = …, ingestionMappingReference = …, …)]",
		Summary:  "Ingests local files (plain or gzip) in a Kusto data format into a table.",
		Notes:    "local files only (a path, `h@'…'` or `file:///…`); one extent per source, committed together; see [Loading data](#loading-data)",
		Result:   ingestDataSchema, Properties: ingestDataProperties, Unsupported: unsupportedIngestDataProperties,
		Kind: dataIngestKind, Async: true,
		Args: []Arg{{Words: []Word{{"into", "into table TableName (sources)"}, {"async", "return an OperationId at once"}}}},
		Node: &parser.IngestData{}, Run: runIngestData,
	})
	RegisterCommand(&CommandInfo{
		Name: ".ingest inline", Keywords: []string{"ingest", "inline"},
		Synopsis: ".ingest inline into table TableName [with (format = …, …)] <| Data",
		Summary:  "Ingests the data that follows <| into a table.",
		Notes:    "the data is the rest of the block, not lexed as Kusto; see [Loading data](#loading-data)",
		Result:   ingestDataSchema, Properties: ingestDataProperties, Unsupported: unsupportedIngestDataProperties,
		Kind: dataIngestKind,
		Args: []Arg{{Words: []Word{{"into", "into table TableName <| data"}}}},
		Node: &parser.IngestData{}, Run: runIngestData,
	})
	RegisterCommand(&CommandInfo{
		Name: ".create ingestion mapping", Keywords: []string{"create", "table"},
		Synopsis: `.create table TableName ingestion csv|json|parquet mapping "MappingName" 'MappingFormattedAsJson'`,
		Summary:  "Creates a named ingestion mapping of a table; fails if it exists.",
		Notes:    "csv, json and parquet kinds; kept with the table (and under `--data`)",
		Result:   mappingsSchema, Kind: "IngestionMappingCreate",
		Args: []Arg{{Names: TableNames}, {Words: []Word{{"ingestion", "ingestion csv|json|parquet mapping \"Name\" '[…]'"}}}},
		Node: &parser.CreateIngestionMapping{}, Run: runCreateIngestionMapping,
	})
	RegisterCommand(&CommandInfo{
		Name: ".create-or-alter ingestion mapping", Keywords: []string{"create-or-alter", "table"},
		Synopsis: `.create-or-alter table TableName ingestion csv|json|parquet mapping "MappingName" 'MappingFormattedAsJson'`,
		Summary:  "Creates or replaces a named ingestion mapping of a table.",
		Notes:    "csv, json and parquet kinds",
		Result:   mappingsSchema, Kind: "IngestionMappingCreateOrAlter",
		Args: []Arg{{Names: TableNames}, {Words: []Word{{"ingestion", "ingestion csv|json|parquet mapping \"Name\" '[…]'"}}}},
		Node: &parser.CreateIngestionMapping{}, Run: runCreateIngestionMapping,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show ingestion mappings", Keywords: []string{"show", "table"},
		Synopsis: `.show table TableName ingestion [csv|json|parquet] mappings | .show table TableName ingestion csv|json|parquet mapping "MappingName"`,
		Summary:  "Lists a table's ingestion mappings, of every kind or of one, or one by name.",
		Result:   mappingsSchema,
		Args:     []Arg{{Names: TableNames}, {Words: []Word{{"ingestion", "ingestion [csv|json|parquet] mappings"}}}},
		Node:     &parser.ShowIngestionMappings{}, Run: runShowIngestionMappings,
	})
	RegisterCommand(&CommandInfo{
		Name: ".drop ingestion mapping", Keywords: []string{"drop", "table"},
		Synopsis: `.drop table TableName ingestion csv|json|parquet mapping "MappingName"`,
		Summary:  "Drops a named ingestion mapping of a table; returns the table's other mappings of the kind.",
		Result:   mappingsSchema, Kind: "IngestionMappingDrop",
		Args: []Arg{{Names: TableNames}, {Words: []Word{{"ingestion", "ingestion csv|json|parquet mapping \"Name\""}}}},
		Node: &parser.DropIngestionMapping{}, Run: runDropIngestionMapping,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show ingestion failures", Keywords: []string{"show", "ingestion", "failures"},
		Synopsis: ".show ingestion failures [with (OperationId = …)]",
		Summary:  "Lists the failed ingests, and the malformed JSON records ingests skipped.",
		Notes:    "kept in memory, the last 1,000",
		Result:   ingestFailuresSchema, Properties: ingestFailuresProperties,
		Node: &parser.ShowIngestionFailures{}, Run: runShowIngestionFailures,
	})
}
