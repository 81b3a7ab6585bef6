package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// failingNode yields one batch of its rows and then fails (or, with a gate, waits for its
// context to end and returns why): an export that has begun writing when its query fails.
type failingNode struct {
	schema Schema
	gate   chan struct{} // closed when the first batch has been taken; nil for a plain failure
}

func (n *failingNode) Schema() Schema   { return n.schema }
func (n *failingNode) Children() []Node { return nil }
func (n *failingNode) Describe() string { return "failing" }
func (n *failingNode) Open(ctx context.Context) Operator {
	sent := false
	return NewOperator(func() (*Batch, error) {
		if !sent {
			sent = true
			return &Batch{Cols: []Column{NewVector(kusto.TypeLong, []int64{1, 2, 3}, nil)}, Len: 3}, nil
		}
		if n.gate != nil {
			close(n.gate)
			<-ctx.Done()
			return nil, context.Cause(ctx)
		}
		return nil, errors.New("the query failed")
	})
}

// exportJobFor prepares an .export of text, with its plan replaced by node.
func exportJobFor(t *testing.T, s *Session, text string, node Node) *exportJob {
	t.Helper()
	src := &kusto.Source{Text: text}
	b, err := parser.ParseChecked(src, checkCommand)
	if err != nil {
		t.Fatal(err)
	}
	db, ok := s.eng.Database(s.Database)
	if !ok {
		t.Fatalf("no database %q", s.Database)
	}
	c := &call{sess: s, req: &Request{}, db: db, block: b}
	j, err := prepareExport(t.Context(), c, b.Command.(*parser.Export))
	if err != nil {
		t.Fatal(err)
	}
	j.plan = node
	return j
}

// TestExportFailureRemovesFiles: an export whose query fails after its first file was begun,
// or that is canceled, leaves no file behind.
func TestExportFailureRemovesFiles(t *testing.T) {
	for _, canceled := range []bool{false, true} {
		dir := t.TempDir()
		eng := New(Options{ExportFiles: FileAccess{Root: dir}})
		s := eng.NewSession()
		node := &failingNode{schema: Schema{{"x", kusto.TypeLong}}}
		ctx, cancel := context.WithCancel(t.Context())
		if canceled {
			node.gate = make(chan struct{})
			go func() { <-node.gate; cancel() }()
		}
		j := exportJobFor(t, s, ".export to csv ('.') <| print x = 1", node)
		_, err := j.run(ctx, false)
		cancel()
		if err == nil {
			t.Fatalf("canceled=%v: the export succeeded", canceled)
		}
		if canceled && !errors.Is(err, context.Canceled) {
			t.Errorf("canceled export: %v, want context.Canceled", err)
		}
		if len(j.created) != 1 {
			t.Errorf("canceled=%v: %d files begun, want 1 (the test must fail after writing)", canceled, len(j.created))
		}
		left, _ := filepath.Glob(filepath.Join(dir, "*"))
		if len(left) != 0 {
			t.Errorf("canceled=%v: files left behind: %v", canceled, left)
		}
		closeEngine(t, eng)
	}
}

// TestExportNeverOverwrites: a file of the export's name that exists fails the export by name
// and is left as it was.
func TestExportNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	eng := New(Options{ExportFiles: FileAccess{Root: dir}})
	defer closeEngine(t, eng)
	s := eng.NewSession()
	j := exportJobFor(t, s, ".export to csv ('.') with (namePrefix='x') <| print x = 1", &failingNode{schema: Schema{{"x", kusto.TypeLong}}})
	// The name the next file would take: the id the job will draw is the engine's next.
	probe := *j
	probe.created = nil
	f, err := probe.create(0, Schema{{"x", kusto.TypeLong}}, "same")
	if err != nil {
		t.Fatal(err)
	}
	f.f.Close()
	if err := os.WriteFile(f.path, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = j.create(0, Schema{{"x", kusto.TypeLong}}, "same")
	var ke *kusto.Error
	if !errors.As(err, &ke) || ke.Kind != kusto.KindConflict {
		t.Fatalf("got %v, want a conflict naming the file", err)
	}
	if b, _ := os.ReadFile(f.path); string(b) != "keep" {
		t.Errorf("the existing file was changed: %q", b)
	}
}

// TestExportDisabled: a server without --export-root writes nothing.
func TestExportDisabled(t *testing.T) {
	eng := New(Options{ExportFiles: FileAccess{Disabled: true}})
	defer closeEngine(t, eng)
	err := execText(t, eng.NewSession(), Request{}, ".export to csv ('/tmp') <| print 1")
	var ke *kusto.Error
	if !errors.As(err, &ke) || ke.Offset != len(".export to csv (") {
		t.Fatalf("got %v, want a refusal placed at the target", err)
	}
}

// TestExportParquetRowGroupInBudget: the row group the Parquet writer buffers is charged to
// the memory budget as it fills and given back when it is flushed, so a row group larger than
// the budget fails with the low-memory error (leaving no file and nothing reserved), and
// smaller ones under the same budget succeed.
func TestExportParquetRowGroupInBudget(t *testing.T) {
	const query = `range i from 1 to 200000 step 1 | extend s = strcat("name ", i)` // about 25 bytes a row
	eng := newBudgetEngine(2<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	dir := t.TempDir()
	err := execText(t, s, Request{}, ".export to parquet ('"+dir+"') with (namePrefix='big') <| "+query)
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindLimits || !strings.Contains(kerr.Msg, LowMemoryCode) {
		t.Fatalf("a 100,000-row group under a 2 MiB budget: got %v, want the low-memory error", err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*")); len(files) != 0 {
		t.Errorf("the failed export left %v", files)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the export failed", used)
	}
	base := eng.Memory().Peak()
	if err := execText(t, s, Request{}, ".export to parquet ('"+dir+"') with (namePrefix='small', parquetRowGroupSize=10000) <| "+query); err != nil {
		t.Fatalf("10,000-row groups under a 2 MiB budget: %v", err)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the export", used)
	}
	if peak := eng.Memory().Peak(); peak < 10_000*20 && base < 10_000*20 {
		t.Errorf("peak %d bytes: a row group of 10,000 rows was not charged", peak)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "small_*.parquet"))
	if len(files) != 1 {
		t.Fatalf("exported %v", files)
	}
	big := newBudgetEngine(1<<30, 1<<30, 0) // the table takes more than the export's budget
	defer closeEngine(t, big)
	s = big.NewSession()
	if err := execText(t, s, Request{}, ".create table T (i:long, s:string)"); err != nil {
		t.Fatal(err)
	}
	if err := execText(t, s, Request{}, ".ingest into table T ('"+files[0]+"') with (format='parquet')"); err != nil {
		t.Fatal(err)
	}
	if n := queryScalar(t, s, "T | where s == strcat('name ', i) | count"); n != int64(200000) {
		t.Errorf("read back %v rows", n)
	}
}
