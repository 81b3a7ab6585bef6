package store

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	bolt "go.etcd.io/bbolt"
)

// fullDisk fails every write after the first limit bytes with ENOSPC, as a full disk does.
type fullDisk struct {
	w     io.Writer
	limit int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) > d.limit {
		n, _ := d.w.Write(p[:d.limit])
		d.limit = 0
		return n, &os.PathError{Op: "write", Path: "extent", Err: syscall.ENOSPC}
	}
	d.limit -= len(p)
	return d.w.Write(p)
}

// entries lists the files of one of the data directory's folders.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// A full disk fails the ingest with the system's error, leaves the table as it was, and removes
// the staged file; the store takes ingests again once there is room.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	defer shut(t, eng, st)
	run(t, eng, ".set-or-append T <| print x = 1")
	before := entries(t, filepath.Join(dir, extentsDir))
	wrapExtentWriter = func(w io.Writer) io.Writer { return &fullDisk{w: w, limit: 100} }
	got := run(t, eng, ".set-or-append T <| range x from 2 to 100000 step 1")
	wrapExtentWriter = nil
	if !strings.Contains(got, "no space left on device") || !strings.Contains(got, `of table "T"`) {
		t.Errorf("the ingest on a full disk said:\n%s", got)
	}
	if got := run(t, eng, "T | count"); !strings.Contains(got, "│ 1") {
		t.Errorf("T after the failed ingest:\n%s", got)
	}
	if s := entries(t, filepath.Join(dir, stagingDir)); len(s) != 0 {
		t.Errorf("staged files left: %v", s)
	}
	if after := entries(t, filepath.Join(dir, extentsDir)); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("extents %v, before the failed ingest %v", after, before)
	}
	if got := run(t, eng, ".set-or-append T <| print x = 2\n\nT | count"); !strings.Contains(got, "│ 2") {
		t.Errorf("an ingest after the disk has room again:\n%s", got)
	}
}

// A staging folder that cannot be written (here a file in its place, which root cannot write
// through either) fails the ingest with an error naming the path, and nothing is committed.
func TestStagingNotWritable(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	defer shut(t, eng, st)
	run(t, eng, ".set-or-append T <| print x = 1")
	staging := filepath.Join(dir, stagingDir)
	if err := os.Remove(staging); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(staging, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	got := run(t, eng, ".set-or-append T <| print x = 2")
	if !strings.Contains(got, staging) || !strings.Contains(got, "not a directory") {
		t.Errorf("the ingest into an unwritable staging folder said:\n%s", got)
	}
	if got := run(t, eng, "T | count"); !strings.Contains(got, "│ 1") {
		t.Errorf("T after the failed ingest:\n%s", got)
	}
	if es := entries(t, filepath.Join(dir, extentsDir)); len(es) != 1 {
		t.Errorf("extents after the failed ingest: %v", es)
	}
}

// A data directory the process may not write is refused at open, naming it, and the open
// leaves nothing in it. Root writes whatever the permissions say, so as root the open runs on a
// thread whose file system user id is nobody's, where the kernel checks them as for any user.
func TestDataDirectoryNotWritable(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	open := func() (*Store, error) { return Open(dir, Options{}) }
	if os.Geteuid() == 0 {
		// nobody must reach the directory: the test's temporary folders are root's, 0700.
		for _, d := range []string{filepath.Dir(base), base} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		var ok bool
		open, ok = asNobody(open)
		if !ok {
			t.Skip("the kernel refused setfsuid(nobody); root would write through the permissions")
		}
	}
	st, err := open()
	if err == nil {
		st.Close()
		t.Fatal("opened a read-only data directory")
	}
	if !strings.Contains(err.Error(), "data directory "+dir+" is not writable") || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("open of a read-only data directory: %v", err)
	}
	if es := entries(t, dir); len(es) != 0 {
		t.Errorf("the failed open left %v", es)
	}
}

// nobody is the uid of the user nobody.
const nobody = 65534

// asNobody makes fn run on a thread of its own whose file system user id is nobody's
// (setfsuid(2), which also drops root's power to override permissions for that thread); false
// if the kernel refuses. The thread is never given back to the runtime, so it ends with fn.
func asNobody(fn func() (*Store, error)) (func() (*Store, error), bool) {
	type result struct {
		st  *Store
		err error
	}
	refused := make(chan bool, 1)
	start := make(chan struct{})
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread exits with this goroutine
		syscall.RawSyscall(syscall.SYS_SETFSUID, nobody, 0, 0)
		now, _, _ := syscall.RawSyscall(syscall.SYS_SETFSUID, ^uintptr(0), 0, 0) // -1 only reads it
		refused <- now != nobody
		if now != nobody {
			return
		}
		<-start
		st, err := fn()
		done <- result{st, err}
	}()
	if <-refused {
		return nil, false
	}
	return func() (*Store, error) {
		close(start)
		r := <-done
		return r.st, r.err
	}, true
}

// A truncated metadata file is refused at open with an error naming it, not a panic.
func TestTruncatedMetadata(t *testing.T) {
	for _, size := range []int64{0, 100, 4096, 8192 + 10, 20000} {
		dir := t.TempDir()
		eng, st := open(t, dir, 1)
		run(t, eng, ".set-or-append T <| print x = 1")
		shut(t, eng, st)
		meta := filepath.Join(dir, metaName)
		if err := os.Truncate(meta, size); err != nil {
			t.Fatal(err)
		}
		st, err := Open(dir, Options{})
		if err == nil {
			st.Close()
			t.Errorf("meta.db truncated to %d bytes: opened", size)
			continue
		}
		if !strings.Contains(err.Error(), metaName) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("meta.db truncated to %d bytes: %v", size, err)
		}
	}
}

// gatedWriter holds the first write of the first extent written until release is closed.
type gatedWriter struct {
	w       io.Writer
	entered chan struct{}
	release chan struct{}
	first   bool
}

func (g *gatedWriter) Write(p []byte) (int, error) {
	if g.first {
		g.first = false
		close(g.entered)
		<-g.release
	}
	return g.w.Write(p)
}

// An extent's file is written before the commit lock: an ingest whose file is still being
// written does not hold up another's.
func TestIngestsWriteInParallel(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1, func(o *engine.Options) { o.Capacity = 2 })
	defer shut(t, eng, st)
	run(t, eng, ".create table A (x:long)\n\n.create table B (x:long)")
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	wrapExtentWriter = func(w io.Writer) io.Writer {
		g := &gatedWriter{w: w}
		once.Do(func() { g.entered, g.release, g.first = entered, release, true })
		return g
	}
	defer func() { wrapExtentWriter = nil }()
	slow := make(chan string, 1)
	go func() { slow <- run(t, eng, ".set-or-append A <| print x = 1") }()
	<-entered
	fast := make(chan string, 1)
	go func() { fast <- run(t, eng, ".set-or-append B <| print x = 2") }()
	select {
	case got := <-fast:
		if !strings.Contains(got, "│ 1") { // RowCount
			t.Errorf("the second ingest said:\n%s", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("the second ingest waited for the first's file")
	}
	close(release)
	<-slow
	if got := run(t, eng, "A | count\n\nB | count"); strings.Count(got, "│ 1") != 2 {
		t.Errorf("after both ingests:\n%s", got)
	}
}

// A crash between an operation's record (Completed) and its log record leaves the log one state
// behind; the open catches the log up, so that .show operations ends with the operation's state.
func TestOperationsLogCaughtUp(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append T <| print x = 1")
	shut(t, eng, st)
	// Drop the log's last record, the Completed one, as a crash before its Append would.
	db, err := bolt.Open(filepath.Join(dir, metaName), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketLog).Cursor().Last()
		return tx.Bucket(bucketLog).Delete(k)
	})
	if err := errors.Join(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	got := run(t, eng, ".show operations | project State")
	if lines := strings.Split(strings.TrimSpace(got), "\n"); !strings.Contains(lines[len(lines)-2], "Completed") {
		t.Errorf("the log after the open:\n%s", got)
	}
}

// An ingest canceled while its file's row groups are being encoded stops its encoders: the
// ingest fails as canceled, none of the encoding goroutines is left when it returns, and
// nothing of the extent stays, on disk or in the table.
func TestCanceledWhileWriting(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	defer shut(t, eng, st)
	run(t, eng, ".create table T (x:long)")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var started atomic.Int32
	rowGroupStarted = func(g int) {
		started.Add(1)
		cancel()
	}
	defer func() { rowGroupStarted = nil }()
	_, err := eng.NewSession().Execute(ctx, engine.Request{}, &kusto.Source{Text: ".append T <| range x from 1 to 3000000 step 1"})
	if err == nil || !strings.Contains(err.Error(), "the command was canceled") {
		t.Fatalf("the canceled ingest: %v", err)
	}
	// The 3 row groups are encoded up to GOMAXPROCS at a time, the next started once the first is
	// written: a cancel seen by the encoders stops the first, and the third never starts.
	if n := started.Load(); n == 0 || n == 3 {
		t.Errorf("%d of the 3 row groups were started: the cancel came before the file, or did not stop it", n)
	}
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "encodeRowGroup") {
		t.Errorf("an encoder outlived the canceled ingest:\n%s", stacks)
	}
	if got := run(t, eng, "T | count"); !strings.Contains(got, "│ 0") {
		t.Errorf("T after the canceled ingest:\n%s", got)
	}
	if s := entries(t, filepath.Join(dir, stagingDir)); len(s) != 0 {
		t.Errorf("staged files left: %v", s)
	}
	if es := entries(t, filepath.Join(dir, extentsDir)); len(es) != 0 {
		t.Errorf("extent files left: %v", es)
	}
}
