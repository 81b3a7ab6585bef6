package engine

import (
	"context"
	"slices"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
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

// Result schemas, as the Kusto docs and Kusto.Language's command table give them.
var (
	extentsSchema = Schema{
		{"ExtentId", kusto.TypeGUID}, {"OriginalSize", kusto.TypeLong}, {"ExtentSize", kusto.TypeLong},
		{"ColumnSize", kusto.TypeLong}, {"IndexSize", kusto.TypeLong}, {"RowCount", kusto.TypeLong},
	}
	operationIDSchema = Schema{{"OperationId", kusto.TypeGUID}}
	versionSchema     = Schema{
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
		Name: ".cancel query", Keywords: []string{"cancel", "query"},
		Synopsis: ".cancel query ClientActivityId [with (reason = ReasonPhrase)]",
		Summary:  "Cancels the running queries with a ClientActivityId and waits for them to stop.",
		Notes:    "see [Queries](#queries); a row for each query canceled",
		Result:   cancelQuerySchema, Properties: cancelQueryProperties,
		Args: []Arg{{Names: RunningQueries}, {Words: []Word{{"with", `with (reason = "…")`}}}},
		Node: &parser.CancelQuery{}, Run: runCancelQuery,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show queries", Keywords: []string{"show", "queries"},
		Synopsis: ".show queries",
		Summary:  "Lists the queries of the last 30 days, running and finished, with their state and statistics.",
		Notes:    "kept 30 days (`--queries-retention`), at most 1,000 finished; not in `.show operations`; see [Queries](#queries)",
		Result:   queriesSchema, Node: &parser.ShowQueries{}, Run: runShowQueries,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show running queries", Keywords: []string{"show", "running", "queries"},
		Synopsis: `.show running queries [by user UserPrincipalName | by *]`,
		Summary:  "Lists the queries running now.",
		Notes:    "the columns of `.show queries`",
		Result:   queriesSchema,
		Args:     []Arg{{Words: []Word{{"by", `by user "UPN": one user's queries`}}}},
		Node:     &parser.ShowQueries{}, Run: runShowQueries,
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
		Synopsis:  ".show table TableName (schema as json | cslschema | details | extents)",
		Summary:   "Shows a table's schema, its details or its extents.",
		ResultDoc: "schema: `" + columnNames(tableSchemaSchema) + "`; details: `TableName, DatabaseName, Folder, DocString, TotalExtents, …`; extents: the columns of `.show extents`",
		Args: []Arg{{Names: TableNames}, {Words: []Word{
			{"schema", "schema as json"}, {"cslschema", "the schema as a:int, b:string"},
			{"details", "sizes, row counts and policies"}, {"extents", "the table's extents"},
		}}},
		Node: &parser.ShowTable{}, Run: runShowTable,
	})
	RegisterCommand(&CommandInfo{
		Name: ".show databases", Keywords: []string{"show", "databases"},
		Synopsis: ".show databases", Summary: "Lists the databases.",
		Notes:  "`NetDefaultDB`, as in the Kusto emulator, and those `.create database` made; PersistentStorage is the metadata path a database was created with; a volatile one is `ReadWriteEphemeral`",
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

func runShowVersion(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	fb := newFrame(versionSchema)
	fb.row(Version, c.sess.eng.started, "Engine", "Kustard_"+Version)
	return fb.frame(), nil
}

// CanceledOperationID returns the operation a .cancel operation asked to cancel, if f is that
// command's result.
func CanceledOperationID(f *Frame) (uuid.UUID, bool) {
	if f == nil || f.Rows != 1 || !slices.Equal(f.Schema, cancelSchema) {
		return uuid.Nil, false
	}
	id, ok := f.Value(0, 0).(uuid.UUID)
	return id, ok
}

// AsyncOperationID returns the operation id an async command returned, if f is that result.
func AsyncOperationID(f *Frame) (uuid.UUID, bool) {
	if f == nil || f.Rows != 1 || len(f.Schema) != 1 || f.Schema[0] != operationIDSchema[0] {
		return uuid.Nil, false
	}
	id, ok := f.Value(0, 0).(uuid.UUID)
	return id, ok
}
