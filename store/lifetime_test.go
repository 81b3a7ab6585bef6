package store

import (
	"context"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
)

// extentFiles lists the extent files of a data directory.
func extentFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, extentsDir, "*"+extentExt))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	return files
}

// collectUntil runs the garbage collector until done holds, a bounded number of times, and
// reports whether it came to hold: cleanups run on the runtime's own goroutine, after a cycle.
func collectUntil(done func() bool) bool {
	for range 50 {
		if done() {
			return true
		}
		runtime.GC()
		runtime.Gosched()
	}
	return done()
}

func openCursor(t *testing.T, eng *engine.Engine, text string) *engine.Cursor {
	t.Helper()
	b, err := engine.Check(&kusto.Source{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := eng.NewSession().Open(context.Background(), engine.Request{}, b)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

// drain reads a cursor's long column 0 to its end and returns its rows and their sum.
func drain(t *testing.T, cur *engine.Cursor) (rows int, sum int64) {
	t.Helper()
	for {
		b, err := cur.Next()
		if err != nil {
			t.Fatal(err)
		}
		if b == nil {
			return rows, sum
		}
		for i := range b.Len {
			sum += b.Cols[0].Value(i).(int64)
		}
		rows += b.Len
	}
}

// A query that began before a .set-or-replace (or a .drop table) reads the old extents from their
// files to its end; once it is closed and nothing reaches them, their files are removed while the
// process runs, and the new extents' files stay.
func TestReplacedExtentFileOutlivesItsReaders(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append T <| range x from 1 to 5000 step 1\n\n.set-or-append D <| range x from 1 to 10 step 1")
	shut(t, eng, st)
	old := extentFiles(t, dir)
	if len(old) != 2 {
		t.Fatalf("extent files after the ingests: %v", old)
	}

	// After a restart the extents are read from their files, when a scan reaches them.
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	cur := openCursor(t, eng, "T")
	defer func() {
		if cur != nil { // a failed check: the engine's Close waits for the query
			cur.Close()
		}
	}()
	if got := run(t, eng, ".set-or-replace T <| print x = 7"); strings.Contains(got, "rror") {
		t.Fatal(got)
	}
	run(t, eng, ".drop table D")
	now := extentFiles(t, dir)
	if len(now) != 3 { // T's old extent, D's, and T's new one
		t.Fatalf("extent files while a query holds the old snapshot: %v (before: %v)", now, old)
	}
	rows, sum := drain(t, cur)
	if rows != 5000 || sum != 5000*5001/2 {
		t.Errorf("the query that began before the replace read %d rows summing to %d", rows, sum)
	}
	cur.Close()
	cur = nil
	if !collectUntil(func() bool { return len(extentFiles(t, dir)) == 1 }) {
		t.Fatalf("files of the replaced and dropped extents not removed: %v", extentFiles(t, dir))
	}
	if got := extentFiles(t, dir); slices.Contains(old, got[0]) {
		t.Errorf("the new extent's file was removed, the old one kept: %v", got)
	}
	if got := run(t, eng, "T"); !strings.Contains(got, "│ 7") {
		t.Errorf("T after the replace:\n%s", got)
	}
	st.cat.mu.Lock()
	removed := st.cat.removed
	st.cat.mu.Unlock()
	if removed != 2 {
		t.Errorf("%d files removed while running, not 2", removed)
	}
}

// An extent ingested by this process (its columns in memory) loses its file once it is replaced
// and unreachable, as a stored one does.
func TestInMemoryExtentFileRemoved(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	defer shut(t, eng, st)
	run(t, eng, ".set-or-append T <| range x from 1 to 10 step 1")
	first := extentFiles(t, dir)
	run(t, eng, ".set-or-replace T <| print x = 1")
	if !collectUntil(func() bool { got := extentFiles(t, dir); return len(got) == 1 && got[0] != first[0] }) {
		t.Fatalf("extent files after the replace: %v (first: %v)", extentFiles(t, dir), first)
	}
}

// An extent that a replace keeps in the table's list keeps its file, through collections and a
// restart.
func TestKeptExtentKeepsItsFile(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append T <| range x from 1 to 10 step 1\n\n.set-or-append T <| range x from 11 to 20 step 1")
	shut(t, eng, st)

	eng, st = open(t, dir, 2)
	tbl, _ := eng.Catalog().Snapshot().Table(engine.DefaultDatabase, "T")
	keep := tbl.Extents[0]
	if _, err := eng.Catalog().Update(func(tx *engine.Txn) error {
		return tx.ReplaceExtents(engine.DefaultDatabase, "T", keep)
	}); err != nil {
		t.Fatal(err)
	}
	keep, tbl = nil, engine.TableInfo{}
	if !collectUntil(func() bool { return len(extentFiles(t, dir)) == 1 }) {
		t.Fatalf("extent files after the replace: %v", extentFiles(t, dir))
	}
	for range 5 { // the kept extent is reachable: its cleanup must not run
		runtime.GC()
	}
	want := run(t, eng, "T | summarize count(), sum(x)")
	shut(t, eng, st)

	eng, st = open(t, dir, 3)
	defer shut(t, eng, st)
	if got := run(t, eng, "T | summarize count(), sum(x)"); got != want || !strings.Contains(got, "│ 10") {
		t.Errorf("after a restart:\n%s\nbefore:\n%s", got, want)
	}
	if got := extentFiles(t, dir); len(got) != 1 {
		t.Errorf("extent files after a restart: %v", got)
	}
}

// Only an unlisted extent loses its file: one the metadata lists keeps it even when nothing
// reaches it any more (an engine closed, and collected, before its store).
func TestListedExtentKeepsItsFile(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append T <| range x from 1 to 10 step 1")
	shut(t, eng, st)
	eng, st = open(t, dir, 2)
	run(t, eng, "T | count")
	if err := eng.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eng = nil
	defer st.Close()
	// The extent's cleanup runs, and must leave the file.
	if !collectUntil(func() bool {
		st.cat.mu.Lock()
		defer st.cat.mu.Unlock()
		return len(st.cat.files) == 0
	}) {
		t.Fatal("the closed engine's extents are still reachable")
	}
	if got := extentFiles(t, dir); len(got) != 1 {
		t.Errorf("extent files: %v", got)
	}
}
