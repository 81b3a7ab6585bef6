package store

import (
	"strings"
	"testing"
)

// TestStreamingPolicySurvivesRestart: the streaming ingestion policies of a table and of
// databases (the default one, one created, and one detached and attached again) come back after
// a restart; one deleted does not, and a volatile database's is not stored at all.
func TestStreamingPolicySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, `.create table T (a:long)

.create table Gone (a:long)

.alter table T policy streamingingestion '{"IsEnabled": true, "HintAllocatedRate": 2.5}'

.alter table Gone policy streamingingestion enable

.delete table Gone policy streamingingestion

.alter database NetDefaultDB policy streamingingestion disable

.create database Other persist (@"/md", @"/data")

.alter database Other policy streamingingestion enable

.create database Mem volatile

.alter database Mem policy streamingingestion enable

.create database Away persist (@"/md2", @"/data2")

.alter database Away policy streamingingestion enable

.detach database Away

.attach database Away from @"/md2"
`)
	shut(t, eng, st)
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	got := run(t, eng, `.show table T policy streamingingestion | project EntityName, Policy

.show table Gone policy streamingingestion | project EntityName, Policy

.show database NetDefaultDB policy streamingingestion | project EntityName, Policy

.show database Other policy streamingingestion | project EntityName, Policy

.show database Away policy streamingingestion | project EntityName, Policy
`)
	for _, want := range []string{
		`│ [NetDefaultDB].[T] │ {"IsEnabled":true,"HintAllocatedRate":2.5} │`,
		`│ [NetDefaultDB].[Gone] │ null   │`,
		`│ [NetDefaultDB] │ {"IsEnabled":false,"HintAllocatedRate":null} │`,
		`│ [Other]    │ {"IsEnabled":true,"HintAllocatedRate":null} │`,
		`│ [Away]     │ {"IsEnabled":true,"HintAllocatedRate":null} │`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("after the restart, no %q in:\n%s", want, got)
		}
	}
}
