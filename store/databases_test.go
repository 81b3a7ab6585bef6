package store

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/script"
)

// runIn runs text in a session of database db, as a request naming db would.
func runIn(t *testing.T, eng *engine.Engine, db, text string) string {
	t.Helper()
	var out bytes.Buffer
	s := eng.NewSession()
	s.Database = db
	r := &script.Runner{Session: s, Out: &out, Err: &out, ContinueOnError: true}
	if _, err := r.Run(context.Background(), "test.kql", strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// A persistent database comes back after a restart with its tables and paths, a volatile one
// does not and writes nothing; a detached database stays in the store, away from the catalog,
// through a restart, and .attach brings back its tables; .drop database removes its tables and,
// at the next open, their files. The transcript is testdata/databases.txt.
func TestDatabasesAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	var log strings.Builder
	step := func(title, out string) {
		log.WriteString("### " + title + "\n" + out + "\n")
	}

	eng, st := open(t, dir, 1)
	step("create", run(t, eng, `.create database D persist (@"/kustodata/dbs/D/md", @"/kustodata/dbs/D/data")

.create database V volatile
`))
	step("ingest into D and V", runIn(t, eng, "D", `.set-or-append T <| print x = 1

.set-or-append T <| print x = 2
`)+runIn(t, eng, "V", `.set-or-append T <| print v = "volatile"
`))
	if n := len(extentFiles(t, dir)); n != 2 {
		t.Fatalf("%d extent files after ingesting two extents into D and one into V; want 2 (V's stay in memory)", n)
	}
	shut(t, eng, st)

	eng, st = open(t, dir, 2)
	step("after a restart: D is back, V is gone", run(t, eng, `.show databases | project DatabaseName, PersistentStorage, DatabaseAccessMode

database("D").T | order by x

.show database D extents | project TableName, RowCount, Kind

.create database D persist (@"/kustodata/dbs/D/md", @"/kustodata/dbs/D/data") ifnotexists

.create database D persist (@"/kustodata/dbs/D/md", @"/kustodata/dbs/D/data")

.attach database D from @"/kustodata/dbs/D/md"

database("V").T
`))
	// ExtentSize is the file's size, which differs from the in-memory OriginalSize.
	sizes := run(t, eng, `.show database D extents | where ExtentSize > 0 and ExtentSize != OriginalSize | count`)
	if !strings.Contains(sizes, "│ 2     │") {
		t.Errorf("the extents' ExtentSize is not their file size:\n%s", sizes)
	}
	step("detach", run(t, eng, `.detach database D

.show databases | project DatabaseName

database("D").T
`))
	shut(t, eng, st)

	eng, st = open(t, dir, 3)
	if n := len(extentFiles(t, dir)); n != 2 {
		t.Errorf("%d extent files after reopening with D detached; want its 2 kept", n)
	}
	step("after a restart, D stays detached", run(t, eng, `.show databases | project DatabaseName

.create database D volatile

.attach database D from @"/elsewhere/md"

.attach database D from @"/kustodata/dbs/D/md"

database("D").T | order by x
`))
	step("D takes ingests again", runIn(t, eng, "D", `.set-or-append T <| print x = 3

T | count
`))
	shut(t, eng, st)

	eng, st = open(t, dir, 4)
	step("after a restart: attached, with the new extent", run(t, eng, `database("D").T | count

.drop database D

.show databases | project DatabaseName

.drop database D

.drop database D ifexists | project DatabaseName
`))
	shut(t, eng, st)

	eng, st = open(t, dir, 5)
	defer shut(t, eng, st)
	if n := len(extentFiles(t, dir)); n != 0 {
		t.Errorf("%d extent files after reopening with D dropped; want 0", n)
	}
	step("after a restart, D is gone", run(t, eng, `.show databases | project DatabaseName
`))
	golden(t, "databases.txt", log.String())
}
