package parser

import (
	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// The grammar is the AST: each struct below is one production, its participle tag the rule.
// Fields without a tag are filled in after parsing (decoded values, the expression tree).

// Block is one unit of a script: a management command, optionally followed by a query over its
// result (`.show operations | where State == "InProgress"`), or a query.
type Block struct {
	Pos     lexer.Position
	Query   *Query        `parser:"( @@"`
	Command Command       `parser:"| @@"`
	Then    []Operator    `parser:"  ( '|' @@ )* ) ';'?"`
	Source  *kusto.Source // the text this block was parsed from
}

// Command is one of Kustard's management commands: a node of the command union. The built-in
// nodes follow; a node from outside the package (a test's) embeds CommandNode and is added with
// RegisterCommand.
type Command interface{ command() }

// CommandNode, embedded in a grammar struct, makes it a Command.
type CommandNode struct{}

func (CommandNode) command() {}

// CancelOperation is `.cancel operation <guid> [with (reason = "…")]`.
type CancelOperation struct {
	Pos  lexer.Position
	ID   *GuidArg    `parser:"'.' 'cancel' 'operation' @@"`
	With *Properties `parser:"( 'with' @@ )?"`
}

// CancelQuery is `.cancel query "<ClientActivityId>" [with (reason = "…")]`.
type CancelQuery struct {
	Pos  lexer.Position
	ID   *StringArg  `parser:"'.' 'cancel' 'query' @@"`
	With *Properties `parser:"( 'with' @@ )?"`
}

// ShowQueries is `.show queries`, or `.show running queries [by user "<UPN>" | by *]`.
type ShowQueries struct {
	Pos      lexer.Position
	Running  bool       `parser:"'.' 'show' @'running'? 'queries'"`
	AllUsers bool       `parser:"( 'by' ( @'*'"`
	User     *StringArg `parser:"  | 'user' @@ ) )?"`
}

// ShowOperations is `.show operations`, `.show operations <guid>` or `.show operations (<guid>, …)`.
type ShowOperations struct {
	Pos lexer.Position
	IDs []*GuidArg `parser:"'.' 'show' 'operations' ( '(' @@ ( ',' @@ )* ')' | @@ )?"`
}

// ShowOperationDetails is `.show operation <guid> details`.
type ShowOperationDetails struct {
	Pos lexer.Position
	ID  *GuidArg `parser:"'.' 'show' 'operation' @@ 'details'"`
}

// Ingest is an ingest-from-query command:
// `.set | .append | .set-or-append | .set-or-replace [async] T [with (…)] <| query`.
type Ingest struct {
	Pos    lexer.Position
	Verb   string      `parser:"'.' @( 'set-or-append' | 'set-or-replace' | 'set' | 'append' )"`
	Async  bool        `parser:"@'async'?"`
	Table  *Name       `parser:"@@"`
	With   *Properties `parser:"( 'with' @@ )?"`
	Source *Block      `parser:"'<|' @@"`
}

// CreateTable is `.create table T (col:type, …) [with (…)]` or the same with `.create-merge`.
type CreateTable struct {
	Pos     lexer.Position
	Merge   bool         `parser:"'.' ( 'create' | @'create-merge' ) 'table'"`
	Table   *Name        `parser:"@@"`
	Columns []*ColumnDef `parser:"'(' @@ ( ',' @@ )* ')'"`
	With    *Properties  `parser:"( 'with' @@ )?"`
}

// DropTable is `.drop table T [ifexists]`.
type DropTable struct {
	Pos      lexer.Position
	Table    *Name `parser:"'.' 'drop' 'table' @@"`
	IfExists bool  `parser:"@'ifexists'?"`
}

// ShowTables is `.show tables [(T1, …)] [details]`.
type ShowTables struct {
	Pos     lexer.Position
	Tables  []*Name `parser:"'.' 'show' 'tables' ( '(' @@ ( ',' @@ )* ')' )?"`
	Details bool    `parser:"@'details'?"`
}

// ShowTable is `.show table T schema as json`, `.show table T cslschema` or `.show table T details`.
type ShowTable struct {
	Pos   lexer.Position
	Table *Name  `parser:"'.' 'show' 'table' @@"`
	What  string `parser:"( @'schema' 'as' 'json' | @'cslschema' | @'details' | @'extents' )"`
}

// CreateDatabase is `.create database D persist (@"<md path>", @"<data path>", …) [ifnotexists]`
// or `.create database D volatile [ifnotexists]`.
type CreateDatabase struct {
	Pos         lexer.Position
	Database    *Name        `parser:"'.' 'create' 'database' @@"`
	Paths       []*StringArg `parser:"( 'persist' '(' @@ ( ',' @@ )* ')'"`
	Volatile    bool         `parser:"| @'volatile' )"`
	IfNotExists bool         `parser:"@'ifnotexists'?"`
}

// DropDatabase is `.drop database D [ifexists]`.
type DropDatabase struct {
	Pos      lexer.Position
	Database *Name `parser:"'.' 'drop' 'database' @@"`
	IfExists bool  `parser:"@'ifexists'?"`
}

// DetachDatabase is `.detach database D`.
type DetachDatabase struct {
	Pos      lexer.Position
	Database *Name `parser:"'.' 'detach' 'database' @@"`
}

// AttachDatabase is `.attach database [metadata] D from @"<md path>"`.
type AttachDatabase struct {
	Pos      lexer.Position
	Metadata bool       `parser:"'.' 'attach' 'database' @( 'metadata' (?= Ident | QuotedIdent ) )?"`
	Database *Name      `parser:"@@"`
	Path     *StringArg `parser:"'from' @@"`
}

// ShowDatabase is `.show database` (the current database) or `.show database D extents`.
type ShowDatabase struct {
	Pos      lexer.Position
	Database *Name `parser:"'.' 'show' 'database' ( @@ 'extents' )?"`
}

// ShowExtents is `.show extents`: the extents of the current database.
type ShowExtents struct {
	Pos lexer.Position
	Dot string `parser:"'.' 'show' @'extents'"`
}

// ShowDatabases is `.show databases`.
type ShowDatabases struct {
	Pos lexer.Position
	Dot string `parser:"'.' 'show' @'databases'"`
}

// ShowVersion is `.show version`.
type ShowVersion struct {
	Pos lexer.Position
	Dot string `parser:"'.' 'show' @'version'"`
}

// ShowCluster is `.show cluster [details]`.
type ShowCluster struct {
	Pos     lexer.Position
	Dot     string `parser:"'.' 'show' @'cluster'"`
	Details bool   `parser:"@'details'?"`
}

func (*CancelOperation) command()      {}
func (*CancelQuery) command()          {}
func (*ShowQueries) command()          {}
func (*ShowOperations) command()       {}
func (*ShowOperationDetails) command() {}
func (*Ingest) command()               {}
func (*CreateTable) command()          {}
func (*DropTable) command()            {}
func (*ShowTables) command()           {}
func (*ShowTable) command()            {}
func (*ShowDatabases) command()        {}
func (*ShowVersion) command()          {}
func (*ShowCluster) command()          {}
func (*CreateDatabase) command()       {}
func (*DropDatabase) command()         {}
func (*DetachDatabase) command()       {}
func (*AttachDatabase) command()       {}
func (*ShowDatabase) command()         {}
func (*ShowExtents) command()          {}

// commandMembers lists the command union in the order participle tries it: the built-in
// commands, then the registered ones (RegisterCommand).
var commandMembers = []Command{
	// The ingestion commands first: their forms extend .create table, .show table and .drop table.
	&IngestData{}, &CreateIngestionMapping{}, &ShowIngestionMappings{}, &DropIngestionMapping{}, &ShowIngestionFailures{}, &Export{},
	// The policy commands before .show table T and .show database D, whose forms they extend.
	&AlterStreamingPolicy{}, &ShowStreamingPolicy{}, &DeleteStreamingPolicy{}, &GetIngestionResources{},
	&CancelOperation{}, &CancelQuery{}, &ShowOperationDetails{}, &ShowOperations{}, &ShowQueries{},
	&Ingest{}, &CreateTable{}, &DropTable{}, &ShowTables{}, &ShowTable{}, &ShowDatabases{}, &ShowVersion{},
	&ShowCluster{}, &CreateDatabase{}, &DropDatabase{}, &DetachDatabase{}, &AttachDatabase{}, &ShowDatabase{},
	&ShowExtents{},
}

// Name is an identifier or a bracketed name (['a b']); Value is the name itself.
type Name struct {
	Pos   lexer.Position
	Value nameText `parser:"@( Ident | QuotedIdent )"`
}

func (n *Name) String() string { return string(n.Value) }

// ColumnDef is `name:type` in a schema.
type ColumnDef struct {
	Pos      lexer.Position
	Name     *Name  `parser:"@@ ':'"`
	TypeName string `parser:"@Ident"`
	Type     kusto.Type
}

// GuidArg is an operation id: a raw guid, a quoted string, or guid(…).
type GuidArg struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Text   string `parser:"@( GUID | String | TypedLit )"`
	Value  uuid.UUID
}

// StringArg is a string literal argument of a command (a query's ClientActivityId, a user's
// name); Value is its decoded text.
type StringArg struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Text   string `parser:"@String"`
	Value  string
}

// Properties is a `with (name = value, …)` list. The parser decodes each value; which names a
// command takes, and their types, the engine checks against its command registry, which then
// fills Values with the checked values under their canonical names.
type Properties struct {
	Pos    lexer.Position
	List   []*Property `parser:"'(' ( @@ ( ',' @@ )* )? ')'"`
	Values NamedValues
}

// Property is one `name = value` of a with list.
type Property struct {
	Pos    lexer.Position
	Name   *Name `parser:"@@ '='"`
	Tokens []lexer.Token
	Text   string `parser:"@( String | Int | Real | Timespan | TypedLit | GUID | Ident )"`
	// Value is the value as written (true and false written bare are bools); when it does not
	// decode, Invalid says why, for the engine to report under the property's canonical name.
	Value   kusto.Literal
	Invalid error
}

// NamedValues holds checked with-properties by canonical name.
type NamedValues map[string]kusto.Literal

// Query is statements (let, declare query_parameters, set; statements.go) followed by a tabular
// expression.
type Query struct {
	Pos        lexer.Position
	Statements []*Statement `parser:"( @@ ';' )*"`
	Body       *Pipeline    `parser:"@@"`
}

// Let is `let name = scalar`, `let name = tabular` or `let name = [view] (params) { body }`. A
// scalar expression followed by operators (`let t = f(1) | count`) is tabular: it names a table
// or calls a tabular function, which only the engine can tell.
type Let struct {
	Pos     lexer.Position
	Name    *Name       `parser:"'let' @@ '='"`
	Func    *FuncDef    `parser:"( (?= 'view' | '(' ( ')' | ( Ident | QuotedIdent ) ':' ) ) @@"`
	Tabular *Pipeline   `parser:"| (?= 'range' | 'datatable' | 'externaldata' | 'print' | 'union' | ( Ident | QuotedIdent ) ( '|' | '(' '(' ( 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) '|' ) ) | '(' ( 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) '|' ) ) @@"`
	Scalar  *ScalarExpr `parser:"| @@"`
	Then    []Operator  `parser:"  ( '|' @@ )* )"`
}

// Pipeline is a tabular source followed by `| operator` steps.
type Pipeline struct {
	Pos    lexer.Position
	Source TabularSource `parser:"@@"`
	Ops    []Operator    `parser:"( '|' @@ )*"`
}

// TabularSource starts a pipeline.
type TabularSource interface{ tabularSource() }

// RangeSource is `range x from A to B step C`.
type RangeSource struct {
	Pos    lexer.Position
	Column *Name       `parser:"'range' @@"`
	From   *ScalarExpr `parser:"'from' @@"`
	To     *ScalarExpr `parser:"'to' @@"`
	Step   *ScalarExpr `parser:"'step' @@"`
}

// DatatableSource is `datatable(col:type, …)[value, …]`. When every value is a literal, as in a
// datatable of data, the lexer takes the list as one token and the finisher decodes it into
// Literals, with no node per value; otherwise the values are expressions, in Values.
type DatatableSource struct {
	Pos      lexer.Position
	Columns  []*ColumnDef  `parser:"'datatable' '(' @@ ( ',' @@ )* ')'"`
	List     *valuesToken  `parser:"(  @@"`
	Fast     *valueList    `parser:" | @@"`
	Values   []*ScalarExpr `parser:" | '[' ( @@ ( ',' @@ )* ','? )? ']' )"` // the finisher moves Fast's here
	Literals []LiteralExpr // decoded from List
}

// valuesToken is a datatable's values lexed as one token (scanValues).
type valuesToken struct {
	Pos  lexer.Position
	Text string `parser:"@Values"`
}

// PrintSource is `print [name =] expr, …`.
type PrintSource struct {
	Pos     lexer.Position
	Columns []*NamedExpr `parser:"'print' @@ ( ',' @@ )*"`
}

// ParenSource is a parenthesized pipeline.
type ParenSource struct {
	Pos  lexer.Position
	Body *Pipeline `parser:"'(' @@ ')'"`
}

// TableRef names a table or a tabular let. Keywords that start a statement or a source are not
// table names (['print'] is), so that `print )` is reported as a bad print, not a bad table.
//
// database("D").T names table T of database D; cluster("C").database("D").T parses so that the
// engine can reject cluster() by name.
type TableRef struct {
	Pos      lexer.Position
	Cluster  *StringArg `parser:"( 'cluster' '(' @@ ')' '.' )?"`
	Database *StringArg `parser:"( 'database' '(' @@ ')' '.' )?"`
	Name     *Name      `parser:"(?! 'let' | 'set' | 'declare' | 'alias' | 'pattern' | 'restrict' | 'print' | 'range' | 'datatable' | 'externaldata' ) @@"`
}

func (*RangeSource) tabularSource()     {}
func (*DatatableSource) tabularSource() {}
func (*PrintSource) tabularSource()     {}
func (*ParenSource) tabularSource()     {}
func (*TableRef) tabularSource()        {}

var sourceMembers = []TabularSource{&RangeSource{}, &DatatableSource{}, &ExternalDataSource{}, &PrintSource{}, &ParenSource{}, &CallSource{}, &TableRef{}}

// Operator is one `| operator` step of a pipeline: a sealed union with one node per tabular
// operator. The engine's operator registry has an entry for every member; a test holds the two
// in step.
type Operator interface {
	operator()
	// Position is where the operator's keyword stands.
	Position() lexer.Position
	// scalars returns the operator's scalar expressions, for the finisher to build their trees.
	scalars() []*ScalarExpr
}

// WhereOp is `where predicate` (alias `filter`).
type WhereOp struct {
	Pos       lexer.Position
	Keyword   string      `parser:"@( 'where' | 'filter' )"`
	Predicate *ScalarExpr `parser:"@@"`
}

// ProjectOp is `project [name =] expr, …`.
type ProjectOp struct {
	Pos     lexer.Position
	Columns []*NamedExpr `parser:"'project' @@ ( ',' @@ )*"`
}

// ProjectAwayOp is `project-away ColumnNameOrPattern, …` (shape.go).
type ProjectAwayOp struct {
	Pos     lexer.Position
	Columns []*ColumnPattern `parser:"'project-away' @@ ( ',' @@ )*"`
}

// ExtendOp is `extend [name =] expr, …`.
type ExtendOp struct {
	Pos     lexer.Position
	Columns []*NamedExpr `parser:"'extend' @@ ( ',' @@ )*"`
}

// TakeOp is `take N` (alias `limit`).
type TakeOp struct {
	Pos     lexer.Position
	Keyword string      `parser:"@( 'take' | 'limit' )"`
	Count   *ScalarExpr `parser:"@@"`
}

// CountOp is `count`.
type CountOp struct {
	Pos     lexer.Position
	Keyword string `parser:"@'count'"`
}

// SummarizeOp is `summarize [[name =] aggregation, …] [by [name =] expr, …]`. The keyword `by`
// ends the aggregations; a column named by is written ['by'].
type SummarizeOp struct {
	Pos          lexer.Position
	Keyword      string       `parser:"@'summarize'"`
	Aggregations []*NamedExpr `parser:"( (?! 'by' ) @@ ( ',' @@ )* )?"`
	By           []*NamedExpr `parser:"( 'by' @@ ( ',' @@ )* )?"`
}

func (*WhereOp) operator()       {}
func (*ProjectOp) operator()     {}
func (*ProjectAwayOp) operator() {}
func (*ExtendOp) operator()      {}
func (*TakeOp) operator()        {}
func (*CountOp) operator()       {}
func (*SummarizeOp) operator()   {}

func (o *WhereOp) Position() lexer.Position       { return o.Pos }
func (o *ProjectOp) Position() lexer.Position     { return o.Pos }
func (o *ProjectAwayOp) Position() lexer.Position { return o.Pos }
func (o *ExtendOp) Position() lexer.Position      { return o.Pos }
func (o *TakeOp) Position() lexer.Position        { return o.Pos }
func (o *CountOp) Position() lexer.Position       { return o.Pos }
func (o *SummarizeOp) Position() lexer.Position   { return o.Pos }

func (o *WhereOp) scalars() []*ScalarExpr       { return []*ScalarExpr{o.Predicate} }
func (o *ProjectOp) scalars() []*ScalarExpr     { return namedScalars(o.Columns) }
func (o *ProjectAwayOp) scalars() []*ScalarExpr { return nil }
func (o *ExtendOp) scalars() []*ScalarExpr      { return namedScalars(o.Columns) }
func (o *TakeOp) scalars() []*ScalarExpr        { return []*ScalarExpr{o.Count} }
func (o *CountOp) scalars() []*ScalarExpr       { return nil }
func (o *SummarizeOp) scalars() []*ScalarExpr {
	return append(namedScalars(o.Aggregations), namedScalars(o.By)...)
}

func namedScalars(list []*NamedExpr) []*ScalarExpr {
	out := make([]*ScalarExpr, len(list))
	for i, n := range list {
		out[i] = n.Expr
	}
	return out
}

// operatorMembers lists the operator union in the order participle tries it.
var operatorMembers = []Operator{&WhereOp{}, &ProjectOp{}, &ProjectAwayOp{}, &ExtendOp{}, &TakeOp{}, &CountOp{},
	&SortOp{}, &TopOp{}, &DistinctOp{}, &InvokeOp{}, &SummarizeOp{},
	&MvExpandOp{}, &MvApplyOp{}, &ParseOp{}, &ParseWhereOp{},
	&ProjectKeepOp{}, &ProjectRenameOp{}, &ProjectReorderOp{}, &GetSchemaOp{}, &AsOp{}, &SampleOp{}, &SerializeOp{}, &RenderOp{}}

// NamedExpr is `[name =] expr`, as in project, extend and print.
type NamedExpr struct {
	Pos  lexer.Position
	Name *Name       `parser:"( @@ '=' )?"`
	Expr *ScalarExpr `parser:"@@"`
}

// ScalarExpr is a scalar expression. The layered grammar fields encode precedence; Tree is the
// expression itself, built after parsing.
type ScalarExpr struct {
	Pos  lexer.Position
	Fast *fastExpr `parser:"  @@"` // the tree, when the fast path parsed it (fastexpr.go)
	Or   *orExpr   `parser:"| @@"`
	Tree Expr
}

type orExpr struct {
	Pos   lexer.Position
	Left  *andExpr   `parser:"@@"`
	Right []*andExpr `parser:"( 'or' @@ )*"`
}

type andExpr struct {
	Pos   lexer.Position
	Left  *cmpExpr   `parser:"@@"`
	Right []*cmpExpr `parser:"( 'and' @@ )*"`
}

// cmpExpr is a comparison, an in-list (in, has_any and has_all take one), a between or a
// matches regex, or just its left operand.
type cmpExpr struct {
	Pos    lexer.Position
	Left   *addExpr      `parser:"@@"`
	InOp   string        `parser:"( @( 'in' | '!in' | 'in~' | '!in~' | 'has_any' | 'has_all' )"`
	InList []*inListItem `parser:"  '(' @@ ( ',' @@ )* ')'"`
	// Between is `between (From .. To)` or `!between (…)`.
	Between string   `parser:"| @( 'between' | '!between' ) '('"`
	From    *addExpr `parser:"  @@ '..'"`
	To      *addExpr `parser:"  @@ ')'"`
	// Matches is `matches regex Right`. It is a field of its own, not one of Op's, so that the
	// fast path, which reads Op's operators off this tag, leaves it to the grammar.
	Matches bool     `parser:"| ( @'matches' 'regex'"`
	Op      string   `parser:"  | @( '==' | '!=' | '<>' | '<=' | '>=' | '<' | '>' | '=~' | '!~' | 'contains' | '!contains' | 'contains_cs' | '!contains_cs' | 'has' | '!has' | 'has_cs' | '!has_cs' | 'hasprefix' | '!hasprefix' | 'hassuffix' | '!hassuffix' | 'startswith' | '!startswith' | 'startswith_cs' | '!startswith_cs' | 'endswith' | '!endswith' | 'endswith_cs' | '!endswith_cs' ) )"`
	Right   *addExpr `parser:"  @@ )?"`
}

// inListItem is an item of an in-list or a has_any list: a scalar, or a tabular expression
// whose first column holds the values (in-operator.md: x in (T | project a)). A tabular item
// starts as toscalar()'s argument does; a bare name is read as a column, which the engine may
// find is a table.
type inListItem struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Tabular *Pipeline   `parser:"(?= 'range' | 'datatable' | 'externaldata' | 'print' | 'union' | ( Ident | QuotedIdent ) '|' | '(' ( 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) '|' ) ) @@"`
	Expr    *ScalarExpr `parser:"| @@"`
}

type addExpr struct {
	Pos   lexer.Position
	Left  *mulExpr   `parser:"@@"`
	Right []*addTerm `parser:"@@*"`
}

type addTerm struct {
	Pos     lexer.Position
	Op      string   `parser:"@( '+' | '-' )"`
	Operand *mulExpr `parser:"@@"`
}

type mulExpr struct {
	Pos   lexer.Position
	Left  *signedExpr `parser:"@@"`
	Right []*mulTerm  `parser:"@@*"`
}

type mulTerm struct {
	Pos     lexer.Position
	Op      string      `parser:"@( '*' | '/' | '%' )"`
	Operand *signedExpr `parser:"@@"`
}

type signedExpr struct {
	Pos     lexer.Position
	Op      string       `parser:"(  @( '-' | '+' )"`
	Signed  *signedExpr  `parser:"   @@"`
	Operand *postfixExpr `parser:"| @@ )"`
}

// postfixExpr is a primary followed by dynamic accessors: d.a, d["a"], d['a'], d[0], d[i].
type postfixExpr struct {
	Pos     lexer.Position
	Operand *primary    `parser:"@@"`
	Access  []*accessor `parser:"@@*"`
}

// accessor is one step into a dynamic value: `.name`, `['name']` (which lexes as a bracketed
// name), or `[expression]`.
type accessor struct {
	Pos   lexer.Position
	Dot   *Name       `parser:"(  '.' @@"`
	Key   *nameText   `parser:" | @QuotedIdent"`
	Index *ScalarExpr `parser:" | '[' @@ ']' )"`
}

// primary does not take the keywords and, or and let as a column name (['and'] is one), so that
// `x and and y` is reported at the second and rather than at y.
type primary struct {
	Pos     lexer.Position
	Literal *literal    `parser:"  @@"`
	Call    *call       `parser:"| (?! 'and' | 'or' | 'let' ) @@"`
	Column  *Name       `parser:"| (?! 'and' | 'or' | 'let' ) @@"`
	Paren   *ScalarExpr `parser:"| '(' @@ ')'"`
}

type literal struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Text   string `parser:"@( String | Int | Real | Timespan | TypedLit | 'true' | 'false' | 'True' | 'False' | 'TRUE' | 'FALSE' )"`
}

type call struct {
	Pos  lexer.Position
	Func *Name      `parser:"@@ '('"`
	Args []*callArg `parser:"( @@ ( ',' @@ )* )? ')'"`
}

// callArg is an argument of a call: an expression, `*`, which arg_max(), arg_min() and
// take_any() take for all the columns, or `name = expression`, which they take to name a column.
//
// An argument may also be a tabular expression, as toscalar() and materialize() take one: a
// source keyword, or a name followed by `|`, starts one (a bare name is read as a column, which
// the engine may find is a table).
type callArg struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Star    bool        `parser:"(  @'*'"`
	Tabular *Pipeline   `parser:"| (?= 'range' | 'datatable' | 'externaldata' | 'print' | 'union' | ( Ident | QuotedIdent ) '|' ) @@"`
	Name    *Name       `parser:"| ( @@ '=' )?"`
	Expr    *ScalarExpr `parser:"  @@ )"`
}

// nameText decodes a name as it is captured.
type nameText string

func (t *nameText) Capture(values []string) error {
	v := values[0]
	if len(v) > 0 && v[0] == '[' {
		name, err := kusto.DecodeBracketedName(v)
		if err != nil {
			return err
		}
		v = name
	}
	*t = nameText(v)
	return nil
}
