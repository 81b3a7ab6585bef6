package parser

import (
	"testing"
)

func TestParseIngestCommands(t *testing.T) {
	for _, text := range []string{
		".ingest into table T (h@'/tmp/a.csv', 'file:///tmp/b.csv') with (format='csv', ignoreFirstRecord=true)",
		".ingest async into T h'/tmp/a.csv'",
		".ingest inline into table Purchases <|\nShoes,1000\n\"Coats with \"\"quotes\"\"\",5\n// not a comment",
		".ingest inline into table T with (format='json') <| {\"a\": 'x\n",
		".create table MyTable ingestion csv mapping \"Mapping1\" '[{\"column\":\"a\",\"Properties\":{\"Ordinal\":\"0\"}}]'",
		".create-or-alter table MyTable ingestion json mapping \"Mapping1\" '[]'",
		".create table T (a:int)",
		".show table MyTable ingestion csv mapping \"Mapping1\"",
		".show table MyTable ingestion csv mappings",
		".show table MyTable ingestion mappings",
		".show table T cslschema",
		".drop table MyTable ingestion csv mapping \"Mapping1\"",
		".drop table T ifexists",
		".show ingestion failures",
		".show ingestion failures with (OperationId = '3827def6-0773-4f2a-859e-c02cf395deaf') | where Table == 'T'",
	} {
		b, err := ParseString(text)
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if in, ok := b.Command.(*IngestData); ok && in.Inline && (in.Data == nil || in.Data.Text == "") {
			t.Errorf("%q: no data", text)
		}
	}
	b, err := ParseString(".ingest inline into table T <| a,b\n// c")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Command.(*IngestData).Data.Text; got != " a,b\n// c" {
		t.Errorf("inline data %q", got)
	}
}

func TestStringPieces(t *testing.T) {
	b, err := ParseString(".create table MyTable ingestion csv mapping \"Mapping1\"\n'['\n'   { \"column\" : \"rownumber\"}'\n']'")
	if err != nil {
		t.Fatal(err)
	}
	m := b.Command.(*CreateIngestionMapping)
	got, err := StringPieces(m.Strings.Tokens[0].Value)
	if err != nil || len(got) != 4 || got[0] != "Mapping1" || got[2] != `   { "column" : "rownumber"}` {
		t.Fatalf("pieces %q, %v", got, err)
	}
}
