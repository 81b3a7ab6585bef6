package parser

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// The data-ingestion commands: `.ingest into` (from files), `.ingest inline`, and the ingestion
// mappings kept with a table.

// IngestData is `.ingest [async] into [table] T (SourceDataLocator, …) [with (…)]`, or
// `.ingest inline into [table] T [with (…)] <| Data`. The grammar takes both in one node (they
// share their first words); the engine checks that each form has what it needs.
type IngestData struct {
	Pos     lexer.Position
	Inline  bool         `parser:"'.' 'ingest' @'inline'?"`
	Async   bool         `parser:"@'async'? 'into' 'table'?"`
	Table   *Name        `parser:"@@"`
	Sources []*StringArg `parser:"( '(' @@ ( ',' @@ )* ')' | @@ )?"`
	With    *Properties  `parser:"( 'with' @@ )?"`
	Data    *InlineData  `parser:"( '<|' @@ )?"`
}

// InlineData is the data of `.ingest inline … <|`: the raw text to the end of the command, not
// lexed as Kusto (ingest-inline.md: "the text of the Data part of the command doesn't have to
// follow the syntactic conventions of the language").
type InlineData struct {
	Pos  lexer.Position
	Text string `parser:"@Raw"`
}

// CreateIngestionMapping is `.create | .create-or-alter table T ingestion Kind mapping
// "Name" 'MappingFormattedAsJson'`.
type CreateIngestionMapping struct {
	Pos   lexer.Position
	Verb  string `parser:"(?= '.' ( 'create-or-alter' | 'create' ) 'table' ( Ident | QuotedIdent ) 'ingestion' ) '.' @( 'create-or-alter' | 'create' ) 'table'"`
	Table *Name  `parser:"@@ 'ingestion'"`
	Kind  *Name  `parser:"@@ 'mapping'"`
	// The mapping's name, and the mapping: the lexer joins adjacent strings, so Strings holds
	// both when the name is a string, as in the docs ("Mapping1" '[' '…' ']'); StringPieces
	// splits them.
	Name    *Name      `parser:"@@?"`
	Strings *StringArg `parser:"@@"`
}

// ShowIngestionMappings is `.show table T ingestion [Kind] mappings` or `.show table T
// ingestion Kind mapping "Name"`.
type ShowIngestionMappings struct {
	Pos   lexer.Position
	Table *Name      `parser:"(?= '.' 'show' 'table' ( Ident | QuotedIdent ) 'ingestion' ) '.' 'show' 'table' @@ 'ingestion'"`
	All   bool       `parser:"( @'mappings'"`
	Kind  *Name      `parser:"| @@ ( 'mappings'"`
	Name  *StringArg `parser:"       | 'mapping' @@ ) )"`
}

// DropIngestionMapping is `.drop table T ingestion Kind mapping "Name"`.
type DropIngestionMapping struct {
	Pos   lexer.Position
	Table *Name      `parser:"(?= '.' 'drop' 'table' ( Ident | QuotedIdent ) 'ingestion' ) '.' 'drop' 'table' @@ 'ingestion'"`
	Kind  *Name      `parser:"@@ 'mapping'"`
	Name  *StringArg `parser:"@@"`
}

// ShowIngestionFailures is `.show ingestion failures [with (OperationId = …)]`.
type ShowIngestionFailures struct {
	Pos  lexer.Position
	Dot  string      `parser:"'.' 'show' 'ingestion' @'failures'"`
	With *Properties `parser:"( 'with' @@ )?"`
}

func (*IngestData) command()             {}
func (*CreateIngestionMapping) command() {}
func (*ShowIngestionMappings) command()  {}
func (*DropIngestionMapping) command()   {}
func (*ShowIngestionFailures) command()  {}

// StringPieces decodes the adjacent string literals of one string token's raw text, each on
// its own.
func StringPieces(raw string) ([]string, error) {
	src := &kusto.Source{Text: raw}
	var out []string
	off := 0
	for {
		off, _ = kusto.SkipSpace(raw, off)
		if off >= len(raw) {
			return out, nil
		}
		end, err := kusto.ScanString(src, off)
		if err != nil {
			return nil, err
		}
		s, _, err := kusto.DecodeStrings(raw[off:end])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		off = end
	}
}

// startsInlineIngest reports whether text is an `.ingest inline` command, whose `<|` is
// followed by raw data rather than Kusto tokens.
func startsInlineIngest(text string) bool {
	off, err := kusto.SkipSpace(text, 0)
	if err != nil || !strings.HasPrefix(text[off:], ".") {
		return false
	}
	off, _ = kusto.SkipSpace(text, off+1)
	word, end := kusto.WordAt(text, off)
	if word != "ingest" {
		return false
	}
	off, _ = kusto.SkipSpace(text, end)
	word, _ = kusto.WordAt(text, off)
	return word == "inline"
}
