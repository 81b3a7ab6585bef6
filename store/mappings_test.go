package store

import (
	"strings"
	"testing"
)

// TestIngestionMappingsSurviveRestart: a table's mappings come back after a restart, with what
// an alter changed, without what a drop removed, and an ingest by reference uses them.
func TestIngestionMappingsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, `.create table T (a:long, b:string)

.create table T ingestion csv mapping "swap" '[{"Column":"a","Properties":{"Ordinal":"1"}},{"Column":"b","Properties":{"Ordinal":"0"}}]'

.create table T ingestion json mapping "gone" '[{"Column":"a","Properties":{"Path":"$.a"}}]'

.create-or-alter table T ingestion csv mapping "swap" '[{"Column":"a","Properties":{"Ordinal":"1"}},{"Column":"b","Properties":{"ConstValue":"c"}}]'

.drop table T ingestion json mapping "gone"
`)
	shut(t, eng, st)
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	got := run(t, eng, `.show table T ingestion mappings | project Name, Kind, Mapping

.ingest inline into table T with (ingestionMappingReference='swap') <| x,5

T
`)
	for _, want := range []string{
		`[{"Column":"a","Properties":{"Ordinal":"1"}},{"Column":"b","Properties":{"ConstValue":"c"}}]`,
		"│ 5 │ c │",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("after the restart, no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "gone") {
		t.Errorf("a dropped mapping came back:\n%s", got)
	}
}
