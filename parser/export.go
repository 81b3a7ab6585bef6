package parser

import "github.com/alecthomas/participle/v2/lexer"

// Export is `.export [async] [compressed] to Format (StorageConnectionString, …) [with (…)] <|
// Query` (export-data-to-storage.md).
type Export struct {
	Pos        lexer.Position
	Keyword    string       `parser:"'.' @'export'"`
	Async      bool         `parser:"@'async'?"`
	Compressed bool         `parser:"@'compressed'? 'to'"`
	Format     *Name        `parser:"@@"`
	Targets    []*StringArg `parser:"'(' @@ ( ',' @@ )* ')'"`
	With       *Properties  `parser:"( 'with' @@ )?"`
	Source     *Block       `parser:"'<|' @@"`
}

func (*Export) command() {}
