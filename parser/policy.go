package parser

import "github.com/alecthomas/participle/v2/lexer"

// The streaming ingestion policy commands (streaming-ingestion-policy-command.md) and the
// data-management commands the SDKs' queued ingest clients send first.

// AlterStreamingPolicy is `.alter table T policy streamingingestion enable|disable|'{…}'`, or
// the same of a database.
type AlterStreamingPolicy struct {
	Pos     lexer.Position
	Entity  string     `parser:"(?= '.' 'alter' ( 'table' | 'database' ) ( Ident | QuotedIdent ) 'policy' ) '.' 'alter' @( 'table' | 'database' )"`
	Name    *Name      `parser:"@@ 'policy' 'streamingingestion'"`
	Enable  bool       `parser:"( @'enable'"`
	Disable bool       `parser:"| @'disable'"`
	Policy  *StringArg `parser:"| @@ )"`
}

// ShowStreamingPolicy is `.show table T policy streamingingestion`, or of a database.
type ShowStreamingPolicy struct {
	Pos    lexer.Position
	Entity string `parser:"(?= '.' 'show' ( 'table' | 'database' ) ( Ident | QuotedIdent ) 'policy' ) '.' 'show' @( 'table' | 'database' )"`
	Name   *Name  `parser:"@@ 'policy' 'streamingingestion'"`
}

// DeleteStreamingPolicy is `.delete table T policy streamingingestion`, or of a database.
type DeleteStreamingPolicy struct {
	Pos    lexer.Position
	Entity string `parser:"'.' 'delete' @( 'table' | 'database' )"`
	Name   *Name  `parser:"@@ 'policy' 'streamingingestion'"`
}

// GetIngestionResources is `.get ingestion resources` or `.get kusto identity token`: the
// commands of Kusto's data-management service, which queued ingestion needs.
type GetIngestionResources struct {
	Pos  lexer.Position
	What string `parser:"'.' 'get' @( 'ingestion' 'resources' | 'kusto' 'identity' 'token' )"`
}

func (*AlterStreamingPolicy) command()  {}
func (*ShowStreamingPolicy) command()   {}
func (*DeleteStreamingPolicy) command() {}
func (*GetIngestionResources) command() {}
