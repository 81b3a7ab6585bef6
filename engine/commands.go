package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// call carries what a command handler needs.
type call struct {
	sess  *Session
	req   *Request
	db    *Database
	block *parser.Block
}

func (c *call) errorf(offset int, kind kusto.Kind, format string, args ...any) error {
	return kusto.Errorf(kind, c.block.Source, offset, format, args...)
}

func (c *call) spec(kind string, cancellable bool) ops.Spec {
	return ops.Spec{
		Kind: kind, Database: c.db.Name, User: c.req.user(c.sess), Principal: c.req.Principal,
		Cancellable: cancellable, RootActivityId: c.req.RootActivityID,
	}
}

// Result schemas, as the Kusto docs and Kusto.Language's command table give them.
var (
	operationsSchema = Schema{
		{"OperationId", kusto.TypeGUID}, {"Operation", kusto.TypeString}, {"NodeId", kusto.TypeString},
		{"StartedOn", kusto.TypeDateTime}, {"LastUpdatedOn", kusto.TypeDateTime}, {"Duration", kusto.TypeTimespan},
		{"State", kusto.TypeString}, {"Status", kusto.TypeString}, {"RootActivityId", kusto.TypeGUID},
		{"ShouldRetry", kusto.TypeBool}, {"Database", kusto.TypeString}, {"Principal", kusto.TypeString},
		{"User", kusto.TypeString},
	}
	cancelSchema = Schema{
		{"OperationId", kusto.TypeGUID}, {"Operation", kusto.TypeString}, {"StartedOn", kusto.TypeDateTime},
		{"CancellationState", kusto.TypeString}, {"ReasonPhrase", kusto.TypeString},
	}
	extentsSchema = Schema{
		{"ExtentId", kusto.TypeGUID}, {"OriginalSize", kusto.TypeLong}, {"ExtentSize", kusto.TypeLong},
		{"ColumnSize", kusto.TypeLong}, {"IndexSize", kusto.TypeLong}, {"RowCount", kusto.TypeLong},
	}
	operationIDSchema = Schema{{"OperationId", kusto.TypeGUID}}
	tableSchemaSchema = Schema{
		{"TableName", kusto.TypeString}, {"Schema", kusto.TypeString}, {"DatabaseName", kusto.TypeString},
		{"Folder", kusto.TypeString}, {"DocString", kusto.TypeString},
	}
	tablesSchema = Schema{
		{"TableName", kusto.TypeString}, {"DatabaseName", kusto.TypeString}, {"Folder", kusto.TypeString},
		{"DocString", kusto.TypeString},
	}
	droppedSchema      = Schema{{"TableName", kusto.TypeString}, {"DatabaseName", kusto.TypeString}}
	tableDetailsSchema = Schema{
		{"TableName", kusto.TypeString}, {"DatabaseName", kusto.TypeString}, {"Folder", kusto.TypeString},
		{"DocString", kusto.TypeString}, {"TotalExtents", kusto.TypeLong}, {"TotalExtentSize", kusto.TypeReal},
		{"TotalOriginalSize", kusto.TypeReal}, {"TotalRowCount", kusto.TypeLong}, {"HotExtents", kusto.TypeLong},
		{"HotExtentSize", kusto.TypeReal}, {"HotOriginalSize", kusto.TypeReal}, {"HotRowCount", kusto.TypeLong},
		{"AuthorizedPrincipals", kusto.TypeString}, {"RetentionPolicy", kusto.TypeString},
		{"CachingPolicy", kusto.TypeString}, {"ShardingPolicy", kusto.TypeString}, {"MergePolicy", kusto.TypeString},
		{"StreamingIngestionPolicy", kusto.TypeString}, {"IngestionBatchingPolicy", kusto.TypeString},
		{"MinExtentsCreationTime", kusto.TypeDateTime}, {"MaxExtentsCreationTime", kusto.TypeDateTime},
		{"RowOrderPolicy", kusto.TypeString}, {"TableId", kusto.TypeGUID},
	}
	databasesSchema = Schema{
		{"DatabaseName", kusto.TypeString}, {"PersistentStorage", kusto.TypeString}, {"Version", kusto.TypeString},
		{"IsCurrent", kusto.TypeBool}, {"DatabaseAccessMode", kusto.TypeString}, {"PrettyName", kusto.TypeString},
		{"DatabaseId", kusto.TypeGUID}, {"InTransitionTo", kusto.TypeString}, {"SuspensionState", kusto.TypeString},
	}
	versionSchema = Schema{
		{"BuildVersion", kusto.TypeString}, {"BuildTime", kusto.TypeDateTime}, {"ServiceType", kusto.TypeString},
		{"ProductVersion", kusto.TypeString},
	}
)

// The built-in commands. Each entry is all there is to know about its command but the grammar
// production (its Node, in package parser) and the handler; see RegisterCommand.
func init() {
	operationIDs := []Arg{{Names: RunningOperations}}
	RegisterCommand(&CommandInfo{
		Name: ".cancel operation", Keywords: []string{"cancel", "operation"},
		Synopsis: ".cancel operation OperationId [with (reason = ReasonPhrase)]",
		Summary:  "Cancels a running ingest-from-query operation and waits for it to stop.",
		Notes:    "see [Cancellation](#cancellation)",
		Result:   cancelSchema, Properties: cancelProperties,
		Args: append(operationIDs, Arg{Words: []Word{{"with", `with (reason = "…")`}}}),
		Node: &parser.CancelOperation{}, Run: runCancel,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show operations", Keywords: []string{"show", "operations"},
		Synopsis: ".show operations [OperationId | (OperationId, …)]",
		Summary:  "Lists the operations of the last two weeks, every state change a row; with ids, the latest state of each.",
		Notes:    "without ids, the log: one record per state change, kept two weeks; with ids, the latest record of each (at most six hours old), in the order named",
		Result:   operationsSchema, Args: []Arg{{Names: RunningOperations, ListOf: RunningOperations}},
		Node: &parser.ShowOperations{}, Run: runShowOperations,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show operation details", Keywords: []string{"show", "operation"},
		Synopsis:  ".show operation OperationId details",
		Summary:   "Returns the result a completed operation kept (ingest with persistDetails=true).",
		Notes:     "for an ingest run `with (persistDetails=true)` that completed",
		ResultDoc: "the result a sync run would have returned",
		Args: []Arg{{Names: AnyOperations}, {Words: []Word{
			{"details", "Returns the result a completed operation kept (ingest with persistDetails=true)."},
		}}},
		Node: &parser.ShowOperationDetails{}, Run: runShowOperationDetails,
	})
	ingestSummaries := map[string]string{
		"set":            "Creates a table from a query's result; fails if the table exists.",
		"append":         "Appends a query's result to an existing table.",
		"set-or-append":  "Appends a query's result to a table, creating it if needed.",
		"set-or-replace": "Replaces a table's data with a query's result, creating the table if needed.",
	}
	for _, verb := range []string{"set", "append", "set-or-append", "set-or-replace"} {
		RegisterCommand(&CommandInfo{
			Name: "." + verb, Keywords: []string{verb},
			Synopsis:   "." + verb + " [async] TableName [with (PropertyName = Value, …)] <| QueryOrShowCommand",
			Summary:    ingestSummaries[verb] + " With async, returns an OperationId at once.",
			Notes:      "runs as operation `" + ingestKinds[verb] + "`; see *Ingest semantics* below",
			ResultDoc:  "sync: `" + columnNames(extentsSchema) + "`; async: `" + columnNames(operationIDSchema) + "`",
			Properties: ingestProperties, Unsupported: unsupportedIngestProperties,
			Kind: ingestKinds[verb], Cancellable: true, Async: true,
			Args: []Arg{{Names: TableNames}, {Words: []Word{
				{"with", "with (property = value, …)"}, {"<|", "the query whose result is ingested"},
			}}},
			Node: &parser.Ingest{}, Run: runIngest,
		})
	}
	RegisterCommand(&CommandInfo{
		Name: ".create table", Keywords: []string{"create", "table"},
		Synopsis: ".create table TableName (Column:Type, …) [with (docstring = …, folder = …)]",
		Summary:  "Creates a table; succeeds without change if it exists.",
		Notes:    "succeeds without change if the table exists, as documented",
		Result:   tableSchemaSchema, Properties: tableProperties, Kind: "TableCreate",
		Args: []Arg{{Names: TableNames}}, Node: &parser.CreateTable{}, Run: runCreateTable,
	})
	RegisterCommand(&CommandInfo{
		Name: ".create-merge table", Keywords: []string{"create-merge", "table"},
		Synopsis: ".create-merge table TableName (Column:Type, …) [with (docstring = …, folder = …)]",
		Summary:  "Creates a table, or adds the missing columns to an existing one.",
		Notes:    "adds missing columns at the end; a type clash is an error",
		Result:   tableSchemaSchema, Properties: tableProperties, Kind: "TableCreateMerge",
		Args: []Arg{{Names: TableNames}}, Node: &parser.CreateTable{}, Run: runCreateTable,
	})
	RegisterCommand(&CommandInfo{
		Name: ".drop table", Keywords: []string{"drop", "table"},
		Synopsis: ".drop table TableName [ifexists]",
		Summary:  "Drops a table and its data; returns the remaining tables.",
		Notes:    "returns the remaining tables",
		Result:   droppedSchema, Kind: "TableDrop",
		Args: []Arg{{Names: TableNames}, {Words: []Word{{"ifexists", "succeed when the table does not exist"}}}},
		Node: &parser.DropTable{}, Run: runDropTable,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show tables", Keywords: []string{"show", "tables"},
		Synopsis: ".show tables [(TableName, …)] [details]",
		Summary:  "Lists the database's tables.",
		Notes:    "with `details`, the columns of `.show table T details`",
		Result:   tablesSchema,
		Args:     []Arg{{Words: []Word{{"details", "adds sizes, row counts and policies"}}, ListOf: TableNames}},
		Node:     &parser.ShowTables{}, Run: runShowTables,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show table", Keywords: []string{"show", "table"},
		Synopsis:  ".show table TableName (schema as json | cslschema | details)",
		Summary:   "Shows a table's schema or its details.",
		ResultDoc: "schema: `" + columnNames(tableSchemaSchema) + "`; details: `TableName, DatabaseName, Folder, DocString, TotalExtents, …`",
		Args: []Arg{{Names: TableNames}, {Words: []Word{
			{"schema", "schema as json"}, {"cslschema", "the schema as a:int, b:string"},
			{"details", "sizes, row counts and policies"},
		}}},
		Node: &parser.ShowTable{}, Run: runShowTable,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show databases", Keywords: []string{"show", "databases"},
		Synopsis: ".show databases", Summary: "Lists the databases.",
		Notes:  "one database, `NetDefaultDB`, as in the Kusto emulator",
		Result: databasesSchema, Node: &parser.ShowDatabases{}, Run: runShowDatabases,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show version", Keywords: []string{"show", "version"},
		Synopsis: ".show version", Summary: "Shows Kustard's version.",
		Result: versionSchema, Node: &parser.ShowVersion{}, Run: runShowVersion,
	})
}

// frameBuilder builds a small result frame row by row.
type frameBuilder struct {
	schema   Schema
	builders []builder
	rows     int
}

func newFrame(schema Schema) *frameBuilder {
	fb := &frameBuilder{schema: schema}
	for _, c := range schema {
		fb.builders = append(fb.builders, builderFor(newColumn(c.Type, 0)))
	}
	return fb
}

func (fb *frameBuilder) row(values ...any) {
	for i, v := range values {
		fb.builders[i].appendValue(v)
	}
	fb.rows++
}

func (fb *frameBuilder) frame() *Frame {
	f := &Frame{Schema: fb.schema, Rows: fb.rows}
	for _, b := range fb.builders {
		f.Cols = append(f.Cols, b.column())
	}
	return f
}

func runCancel(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	cancel := cmd.(*parser.CancelOperation)
	reason := ""
	if cancel.With != nil {
		if v, ok := cancel.With.Values["reason"]; ok {
			reason = v.Value.(string)
		}
	}
	r, err := c.sess.eng.ops.Cancel(cancel.ID.Value, reason, c.sess.eng.opts.CancelWait)
	switch {
	case errors.Is(err, ops.ErrNotFound):
		return nil, c.errorf(cancel.ID.Pos.Offset, kusto.KindNotFound, "operation %s does not exist", cancel.ID.Value)
	case errors.Is(err, ops.ErrNotCancellable):
		return nil, c.errorf(cancel.ID.Pos.Offset, kusto.KindSemantic, "%s", strings.TrimPrefix(err.Error(), ops.ErrNotCancellable.Error()+": "))
	case err != nil:
		return nil, err
	}
	fb := newFrame(cancelSchema)
	fb.row(r.OperationId, r.Operation, kusto.DateTimeOf(r.StartedOn), r.CancellationState, r.ReasonPhrase)
	return fb.frame(), nil
}

func runShowOperations(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowOperations)
	var records []ops.Record
	if len(show.IDs) == 0 {
		records = c.sess.eng.ops.Log()
	} else {
		ids := make([]uuid.UUID, len(show.IDs))
		for i, id := range show.IDs {
			ids[i] = id.Value
		}
		records = c.sess.eng.ops.Latest(ids)
	}
	fb := newFrame(operationsSchema)
	for _, r := range records {
		fb.row(r.OperationId, r.Operation, r.NodeId, kusto.DateTimeOf(r.StartedOn), kusto.DateTimeOf(r.LastUpdatedOn),
			kusto.Timespan(r.Duration()/100), string(r.State), r.Status, r.RootActivityId, r.ShouldRetry,
			r.Database, r.Principal, r.User)
	}
	return fb.frame(), nil
}

func runShowOperationDetails(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowOperationDetails)
	rec, details, err := c.sess.eng.ops.Details(show.ID.Value)
	if err != nil {
		return nil, c.errorf(show.ID.Pos.Offset, kusto.KindNotFound, "operation %s does not exist", show.ID.Value)
	}
	if rec.State != ops.Completed {
		return nil, c.errorf(show.ID.Pos.Offset, kusto.KindConflict, "operation %s is %s; its details are available only after it completes successfully", show.ID.Value, rec.State)
	}
	out, ok := details.(*ingestOutcome)
	if !ok || !out.persisted {
		return nil, c.errorf(show.ID.Pos.Offset, kusto.KindNotFound, "operation %s did not persist its results; run it with (persistDetails=true)", show.ID.Value)
	}
	return out.extents, nil
}

func runCreateTable(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	create := cmd.(*parser.CreateTable)
	info := CommandFor(cmd)
	name := create.Table.String()
	var schema Schema
	for _, col := range create.Columns {
		schema = append(schema, ColumnSchema{col.Name.String(), col.Type})
	}
	var folder, doc *string
	if create.With != nil {
		if v, ok := create.With.Values["folder"]; ok {
			s := v.Value.(string)
			folder = &s
		}
		if v, ok := create.With.Values["docstring"]; ok {
			s := v.Value.(string)
			doc = &s
		}
	}
	var result TableInfo
	_, _, err := c.sess.eng.ops.Run(ctx, c.spec(info.Kind, false), func(ctx context.Context) (any, error) {
		return nil, c.db.update(func(tables map[string]*Table) error {
			t, exists := tables[name]
			switch {
			case !exists:
				t = &Table{Name: name, ID: c.sess.eng.ops.IDs().NewID(), schema: schema}
				tables[name] = t
				setText(&t.folder, folder)
				setText(&t.docString, doc)
			case create.Merge:
				merged, err := mergeSchema(t.schema, schema)
				if err != nil {
					return c.errorf(create.Table.Pos.Offset, kusto.KindSemantic, "%v", err)
				}
				t.schema = merged
				setText(&t.folder, folder)
				setText(&t.docString, doc)
			}
			// `.create table` on an existing table succeeds without changing it, as documented.
			result = t.infoLocked()
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return schemaFrame(result, c.db.Name, jsonSchema(result.Name, result.Schema)), nil
}

func setText(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// mergeSchema appends the columns of add that existing lacks; a column of the same name must
// have the same type.
func mergeSchema(existing, add Schema) (Schema, error) {
	out := slices.Clone(existing)
	for _, col := range add {
		i := out.Index(col.Name)
		switch {
		case i < 0:
			out = append(out, col)
		case out[i].Type != col.Type:
			return nil, fmt.Errorf("column %q is %s in the table, not %s", col.Name, out[i].Type, col.Type)
		}
	}
	return out, nil
}

func schemaFrame(t TableInfo, db, schema string) *Frame {
	fb := newFrame(tableSchemaSchema)
	fb.row(t.Name, schema, db, t.Folder, t.DocString)
	return fb.frame()
}

func runDropTable(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	drop := cmd.(*parser.DropTable)
	name := drop.Table.String()
	_, _, err := c.sess.eng.ops.Run(ctx, c.spec("TableDrop", false), func(ctx context.Context) (any, error) {
		return nil, c.db.update(func(tables map[string]*Table) error {
			if _, ok := tables[name]; !ok && !drop.IfExists {
				return c.errorf(drop.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist", name)
			}
			delete(tables, name)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	fb := newFrame(droppedSchema)
	for _, t := range c.db.Tables() {
		fb.row(t.Name, c.db.Name)
	}
	return fb.frame(), nil
}

// tablesNamed returns snapshots of the named tables, or all of them when names is empty.
func (c *call) tablesNamed(names []*parser.Name) ([]TableInfo, error) {
	if len(names) == 0 {
		return c.db.Tables(), nil
	}
	var out []TableInfo
	for _, n := range names {
		t, ok := c.db.Table(n.String())
		if !ok {
			return nil, c.errorf(n.Pos.Offset, kusto.KindNotFound, "table %q does not exist", n.String())
		}
		out = append(out, t)
	}
	return out, nil
}

func runShowTables(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowTables)
	tables, err := c.tablesNamed(show.Tables)
	if err != nil {
		return nil, err
	}
	if show.Details {
		return tableDetails(tables, c.db.Name), nil
	}
	fb := newFrame(tablesSchema)
	for _, t := range tables {
		fb.row(t.Name, c.db.Name, t.Folder, t.DocString)
	}
	return fb.frame(), nil
}

func runShowTable(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowTable)
	tables, err := c.tablesNamed([]*parser.Name{show.Table})
	if err != nil {
		return nil, err
	}
	t := tables[0]
	switch show.What {
	case "schema":
		return schemaFrame(t, c.db.Name, jsonSchema(t.Name, t.Schema)), nil
	case "cslschema":
		return schemaFrame(t, c.db.Name, t.Schema.CSL()), nil
	default:
		return tableDetails(tables, c.db.Name), nil
	}
}

func tableDetails(tables []TableInfo, db string) *Frame {
	fb := newFrame(tableDetailsSchema)
	for _, t := range tables {
		var minCreated, maxCreated any
		for _, e := range t.Extents {
			if minCreated == nil || e.CreatedOn < minCreated.(kusto.DateTime) {
				minCreated = e.CreatedOn
			}
			if maxCreated == nil || e.CreatedOn > maxCreated.(kusto.DateTime) {
				maxCreated = e.CreatedOn
			}
		}
		size := float64(t.Size())
		// Kustard keeps every extent in memory, uncompressed: all of it is hot, and the
		// original, extent and column sizes are the same.
		fb.row(t.Name, db, t.Folder, t.DocString, int64(len(t.Extents)), size, size, t.Rows(),
			int64(len(t.Extents)), size, size, t.Rows(), "[]", "null", "null", "null", "null", "null", "null",
			minCreated, maxCreated, "null", t.ID)
	}
	return fb.frame()
}

func runShowDatabases(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	fb := newFrame(databasesSchema)
	dbs := c.sess.eng.Databases()
	slices.SortFunc(dbs, func(a, b *Database) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	for _, db := range dbs {
		fb.row(db.Name, "", "v1.0", db == c.db, "ReadWrite", "", db.ID, "", "")
	}
	return fb.frame(), nil
}

func runShowVersion(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	fb := newFrame(versionSchema)
	fb.row(Version, c.sess.eng.started, "Engine", "Kustard_"+Version)
	return fb.frame(), nil
}

// AsyncOperationID returns the operation id an async command returned, if f is that result.
func AsyncOperationID(f *Frame) (uuid.UUID, bool) {
	if f == nil || f.Rows != 1 || len(f.Schema) != 1 || f.Schema[0] != operationIDSchema[0] {
		return uuid.Nil, false
	}
	id, ok := f.Value(0, 0).(uuid.UUID)
	return id, ok
}
