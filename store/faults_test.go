package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
)

func waitFault(t *testing.T, eng *engine.Engine, op *ops.Operation, err error) ops.Snapshot {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	s, err := eng.Ops().Wait(context.Background(), op.ID)
	if err != nil || s.State != ops.Succeeded {
		t.Fatalf("fault ended %v: %v %v", s.State, s.Err, err)
	}
	return s
}

// Data loss under --data drops the extents from the catalog at once, and their files go at the
// next open, as a dropped table's do; what is left comes back.
func TestDataLossDurable(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append T <| range x from 1 to 1 step 1\n\n.set-or-append T <| range x from 1 to 2 step 1\n\n.set-or-append T <| range x from 1 to 4 step 1")
	db, _ := eng.Database(engine.DefaultDatabase)
	tbl, _ := db.Table("T")
	op, err := eng.StartDataLoss(ops.Spec{}, engine.DefaultDatabase, tbl.ID, false)
	waitFault(t, eng, op, err)
	if got := run(t, eng, "T | count"); !strings.Contains(got, "│ 1 ") {
		t.Errorf("after the data loss:\n%s", got)
	}
	shut(t, eng, st)
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	if got := run(t, eng, "T | count"); !strings.Contains(got, "│ 1 ") {
		t.Errorf("after a restart:\n%s", got)
	}
	if n := len(extentFiles(t, dir)); n != 1 {
		t.Errorf("%d extent files after the open, want 1", n)
	}
}

// A table restart under --data reads the table's extents back from their files: a file
// corrupted since its ingest fails the queries after the restart, not before.
func TestTableRestartReloads(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	defer shut(t, eng, st)
	run(t, eng, ".set-or-append T <| range x from 1 to 3 step 1")
	db, _ := eng.Database(engine.DefaultDatabase)
	tbl, _ := db.Table("T")
	path := filepath.Join(dir, extentsDir, tbl.Extents[0].ID.String()+extentExt)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := run(t, eng, "T | summarize sum(x)"); !strings.Contains(got, "│ 6 ") {
		t.Fatalf("before the restart the table is in memory:\n%s", got)
	}
	op, err := eng.StartTableRestart(ops.Spec{}, engine.DefaultDatabase, tbl.ID)
	waitFault(t, eng, op, err)
	if got := run(t, eng, "T | summarize sum(x)"); !strings.Contains(got, "SHA-256") {
		t.Errorf("after the restart the table is read from its files:\n%s", got)
	}
}
