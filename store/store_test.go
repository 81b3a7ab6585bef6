package store

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/script"
	bolt "go.etcd.io/bbolt"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// open opens an engine on dir with a deterministic clock, and ids that continue from first so
// that a restarted engine does not reuse the ids of the one before.
func open(t *testing.T, dir string, first byte, tune ...func(*engine.Options)) (*engine.Engine, *Store) {
	t.Helper()
	clock := ops.NewStepClock(epoch, time.Second)
	st, err := Open(dir, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	opts := engine.Options{Clock: clock, IDs: &ops.SequentialIDs{Prefix: 0x10 + first}, OperationIDs: &ops.SequentialIDs{Prefix: first},
		User: "kustard", Store: st.Catalog(), Operations: st.Operations(), CancelWait: -1}
	for _, f := range tune {
		f(&opts)
	}
	eng, err := engine.Open(opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	return eng, st
}

func shut(t *testing.T, eng *engine.Engine, st *Store) {
	t.Helper()
	if err := eng.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if err := st.Close(); err != nil {
		t.Error(err)
	}
}

func run(t *testing.T, eng *engine.Engine, text string) string {
	t.Helper()
	var out, errs bytes.Buffer
	r := &script.Runner{Session: eng.NewSession(), Out: &out, Err: &errs, ContinueOnError: true}
	if _, err := r.Run(context.Background(), "test.kql", strings.NewReader(text)); err != nil {
		t.Fatal(err)
	}
	return out.String() + errs.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./store -update):\n%s", name, got)
	}
}

const ingestEveryType = `.set-or-append T <| datatable(b:bool, i:int, l:long, r:real, s:string, d:datetime, t:timespan, g:guid, y:dynamic)
[true, 1, 2, 1.5, "x", datetime(2024-01-02 03:04:05.1234567), time(1.02:03:04.5), guid(6ba7b810-9dad-11d1-80b4-00c04fd430c8), dynamic({"a":[1,2.5,"s",null]}),
 bool(null), int(null), long(null), real(null), "", datetime(null), timespan(null), guid(null), dynamic(null),
 false, -5, 9223372036854775807, 2.5e300, "ünï [x]", datetime(0001-01-01), timespan(-1tick), guid(00000000-0000-0000-0000-000000000000), dynamic(1.0)]

.set-or-append U <| datatable(d:datetime, n:long)[datetime(9999-12-31 23:59:59.9999999), 1, datetime(1601-01-01), 2]

.set-or-replace ['odd name'] <| print x = 1

.set-or-replace ['odd name'] <| print x = 2

.create table Empty (a:string)

.set-or-append U <| print d = datetime(2020-01-01), n = 3
`

const queries = `T

U

['odd name']

.show tables | project TableName

.show operations | project OperationId, Operation, State, Status
`

// Every type comes back through a restart, as do the tables and the operations log.
func TestRoundTripEveryType(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ingestEveryType)
	before := run(t, eng, queries)
	shut(t, eng, st)

	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	after := run(t, eng, queries)
	if after != before {
		t.Errorf("after a restart:\n%s\nbefore:\n%s", after, before)
	}
	golden(t, "roundtrip.txt", after)
	files, _ := filepath.Glob(filepath.Join(dir, extentsDir, "*"+extentExt))
	if len(files) != 4 { // T, U twice, the second ['odd name']: the replaced one is gone
		t.Errorf("extent files: %v", files)
	}
	for _, f := range files {
		if strings.Contains(f, "odd") {
			t.Errorf("a file is named after a table: %s", f)
		}
	}
}

// Staged files and extent files no commit recorded are removed at open.
func TestStagedFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append T <| print x = 1")
	shut(t, eng, st)
	staged := filepath.Join(dir, stagingDir, "10000000-0000-0000-0000-0000000000ff.parquet")
	orphan := filepath.Join(dir, extentsDir, "10000000-0000-0000-0000-0000000000fe.parquet")
	for _, p := range []string{staged, orphan} {
		if err := os.WriteFile(p, []byte("half-written"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	for _, p := range []string{staged, orphan} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the open: %v", p, err)
		}
	}
	if got := run(t, eng, "T | count"); !strings.Contains(got, "│ 1") {
		t.Errorf("T after the cleanup:\n%s", got)
	}
}

// An operation running when the process dies comes back Abandoned, saying why.
func TestCrashedOperationAbandoned(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	gate, reached := make(chan struct{}), make(chan struct{})
	eng.RegisterStream("Slow", engine.Stream{Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}}, Open: func(ctx context.Context) engine.Operator {
		return engine.NewOperator(func() (*engine.Batch, error) {
			close(reached)
			select {
			case <-gate:
			case <-ctx.Done():
			}
			return nil, context.Cause(ctx)
		})
	}})
	run(t, eng, ".set-or-append async T <| Slow")
	<-reached
	// The crash: the files are closed without the engine ending its operations.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	eng2, st2 := open(t, dir, 2)
	got := run(t, eng2, ".show operations | project OperationId, Operation, State, Status")
	shut(t, eng2, st2)
	close(gate)
	eng.Close(context.Background())
	golden(t, "abandoned.txt", got)
	if !strings.Contains(got, "Abandoned") || !strings.Contains(got, "found at restart") {
		t.Errorf("the operation did not come back Abandoned:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(dir, extentsDir)); err != nil {
		t.Fatal(err)
	}
}

// A second process (here, a second open) is refused, naming the holder.
func TestLockConflict(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "is in use by process "+itoa(os.Getpid())) {
		t.Errorf("second open: %v", err)
	}
	st.Close()
	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("open after the holder closed: %v", err)
	}
	st.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }

// A flipped byte in one extent's file fails the queries of that table, naming it and the
// extent; the other tables stay usable.
func TestChecksumCorruption(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	run(t, eng, ".set-or-append Bad <| print x = 1\n\n.set-or-append Good <| print y = 2")
	bad, _ := eng.Database(engine.DefaultDatabase)
	tbl, _ := bad.Table("Bad")
	shut(t, eng, st)
	path := filepath.Join(dir, extentsDir, tbl.Extents[0].ID.String()+extentExt)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	eng, st = open(t, dir, 2)
	defer shut(t, eng, st)
	got := run(t, eng, "Bad\n\nGood")
	golden(t, "corrupt.txt", got)
	if !strings.Contains(got, `extent `+tbl.Extents[0].ID.String()+` of table "Bad"`) || !strings.Contains(got, "SHA-256") {
		t.Errorf("no checksum error naming the table and extent:\n%s", got)
	}
	if !strings.Contains(got, "│ 2") {
		t.Errorf("Good is not usable:\n%s", got)
	}
}

// A store of another format version is refused at open.
func TestFormatVersionChecked(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyFormat, []byte("99")) })
	st.Close()
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), `format version "99"`) {
		t.Errorf("open of format 99: %v", err)
	}
}
