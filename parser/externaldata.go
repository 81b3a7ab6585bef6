package parser

import "github.com/alecthomas/participle/v2/lexer"

// ExternalDataSource is `externaldata (col:type, …) [StorageConnectionString, …] [with (…)]`
// (externaldata-operator.md): a table whose schema the query gives and whose rows are read from
// files. The engine decides which files may be read.
type ExternalDataSource struct {
	Pos     lexer.Position
	Columns []*ColumnDef `parser:"'externaldata' '(' @@ ( ',' @@ )* ')'"`
	Sources []*StringArg `parser:"'[' ( @@ ( ',' @@ )* )? ']'"`
	With    *Properties  `parser:"( 'with' @@ )?"`
}

func (*ExternalDataSource) tabularSource() {}
