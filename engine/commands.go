package engine

import (
	"context"
	"fmt"
	"reflect"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// CommandInfo is one entry of the command registry. The registry is the single list of the
// management commands Kustard implements: dispatch, `kustard check`, help and completion all read
// it.
type CommandInfo struct {
	Name       string // .cancel operation
	Synopsis   string
	Summary    string
	Result     Schema // nil when the result depends on the form (sync or async ingest)
	Properties []parser.PropertySpec
	// Kind is the Operation column of the operation the command runs as; empty for commands
	// that only read.
	Kind  string
	node  reflect.Type
	verb  string // for ingest commands, which share one AST node
	run   func(ctx context.Context, c *call, cmd parser.Command) (*Frame, error)
	async bool
}

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

var registry []*CommandInfo

func init() {
	ingestSynopsis := func(verb string) string {
		return "." + verb + " [async] TableName [with (PropertyName = Value, …)] <| QueryOrShowCommand"
	}
	ingestSummaries := map[string]string{
		"set":            "Creates a table from a query's result; fails if the table exists.",
		"append":         "Appends a query's result to an existing table.",
		"set-or-append":  "Appends a query's result to a table, creating it if needed.",
		"set-or-replace": "Replaces a table's data with a query's result, creating the table if needed.",
	}
	registry = []*CommandInfo{
		{
			Name: ".cancel operation", Synopsis: ".cancel operation OperationId [with (reason = ReasonPhrase)]",
			Summary: "Cancels a running ingest-from-query operation and waits for it to stop.",
			Result:  cancelSchema, Properties: parser.CancelProperties(), node: nodeType(&parser.CancelOperation{}),
			run: runCancel,
		},
		{
			Name: ".show operations", Synopsis: ".show operations [OperationId | (OperationId, …)]",
			Summary: "Lists the operations of the last two weeks, every state change a row; with ids, the latest state of each.",
			Result:  operationsSchema, node: nodeType(&parser.ShowOperations{}), run: runShowOperations,
		},
		{
			Name: ".show operation details", Synopsis: ".show operation OperationId details",
			Summary: "Returns the result a completed operation kept (ingest with persistDetails=true).",
			node:    nodeType(&parser.ShowOperationDetails{}), run: runShowOperationDetails,
		},
	}
	for _, verb := range []string{"set", "append", "set-or-append", "set-or-replace"} {
		registry = append(registry, &CommandInfo{
			Name: "." + verb, Synopsis: ingestSynopsis(verb), Summary: ingestSummaries[verb] + " With async, returns an OperationId at once.",
			Properties: parser.IngestProperties(), Kind: ingestKinds[verb], node: nodeType(&parser.Ingest{}), verb: verb,
			run: runIngest, async: true,
		})
	}
	registry = append(registry,
		&CommandInfo{
			Name: ".create table", Synopsis: ".create table TableName (Column:Type, …) [with (docstring = …, folder = …)]",
			Summary: "Creates a table; succeeds without change if it exists.", Result: tableSchemaSchema,
			Properties: parser.TableProperties(), Kind: "TableCreate", node: nodeType(&parser.CreateTable{}), run: runCreateTable,
		},
		&CommandInfo{
			Name: ".create-merge table", Synopsis: ".create-merge table TableName (Column:Type, …) [with (docstring = …, folder = …)]",
			Summary: "Creates a table, or adds the missing columns to an existing one.", Result: tableSchemaSchema,
			Properties: parser.TableProperties(), Kind: "TableCreateMerge", node: nodeType(&parser.CreateTable{}), verb: "merge", run: runCreateTable,
		},
		&CommandInfo{
			Name: ".drop table", Synopsis: ".drop table TableName [ifexists]",
			Summary: "Drops a table and its data; returns the remaining tables.", Result: droppedSchema,
			Kind: "TableDrop", node: nodeType(&parser.DropTable{}), run: runDropTable,
		},
		&CommandInfo{
			Name: ".show tables", Synopsis: ".show tables [(TableName, …)] [details]",
			Summary: "Lists the database's tables.", Result: tablesSchema, node: nodeType(&parser.ShowTables{}), run: runShowTables,
		},
		&CommandInfo{
			Name: ".show table", Synopsis: ".show table TableName (schema as json | cslschema | details)",
			Summary: "Shows a table's schema or its details.", node: nodeType(&parser.ShowTable{}), run: runShowTable,
		},
		&CommandInfo{
			Name: ".show databases", Synopsis: ".show databases", Summary: "Lists the databases.",
			Result: databasesSchema, node: nodeType(&parser.ShowDatabases{}), run: runShowDatabases,
		},
		&CommandInfo{
			Name: ".show version", Synopsis: ".show version", Summary: "Shows Kustard's version.",
			Result: versionSchema, node: nodeType(&parser.ShowVersion{}), run: runShowVersion,
		},
	)
}

func nodeType(c parser.Command) reflect.Type { return reflect.TypeOf(c) }

// Commands returns the registry.
func Commands() []*CommandInfo { return registry }

// CommandFor returns the registry entry that runs a parsed command. Every command the grammar
// accepts has one; a test holds the two in step.
func CommandFor(c parser.Command) *CommandInfo {
	verb := ""
	switch c := c.(type) {
	case *parser.Ingest:
		verb = c.Verb
	case *parser.CreateTable:
		if c.Merge {
			verb = "merge"
		}
	}
	t := reflect.TypeOf(c)
	for _, info := range registry {
		if info.node == t && info.verb == verb {
			return info
		}
	}
	panic(fmt.Sprintf("engine: no registry entry for %T", c))
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

// AsyncOperationID returns the operation id an async command returned, if f is that result.
func AsyncOperationID(f *Frame) (uuid.UUID, bool) {
	if f == nil || f.Rows != 1 || len(f.Schema) != 1 || f.Schema[0] != operationIDSchema[0] {
		return uuid.Nil, false
	}
	id, ok := f.Value(0, 0).(uuid.UUID)
	return id, ok
}
