package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kustard/kustard/kusto"
)

func execText(t *testing.T, s *Session, req Request, text string) error {
	t.Helper()
	_, err := s.Execute(t.Context(), req, &kusto.Source{Text: text})
	return err
}

// TestIngestGzipBomb: a small gzip file that decompresses to far more than --max-ingest-bytes
// stops at the limit, commits nothing and gives its memory back.
func TestIngestGzipBomb(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	line := bytes.Repeat([]byte("1\n"), 1<<16)
	for range 400 { // 50 MiB of data
		zw.Write(line)
	}
	zw.Close()
	if buf.Len() > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed", buf.Len())
	}
	path := filepath.Join(dir, "bomb.csv.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	eng := newBudgetEngine(1<<30, 1<<20, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	if err := execText(t, s, Request{}, ".create table T (a:long)"); err != nil {
		t.Fatal(err)
	}
	err := execText(t, s, Request{}, ".ingest into table T (h@'"+path+"')")
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindLimits {
		t.Fatalf("got %v, want the ingest limit", err)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the ingest failed", used)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(0) {
		t.Errorf("the failed ingest committed %v rows", n)
	}
}

// TestIngestRefusesWhatIsNotARegularFile: FIFOs (which would block the open), devices and
// directories are refused by name, and a server without an ingest root reads no file at all.
func TestIngestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.csv")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	plain := filepath.Join(dir, "plain.csv")
	os.WriteFile(plain, []byte("1\n2\n"), 0o644)
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	if err := execText(t, s, Request{}, ".create table T (a:long)"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		fifo:                    "is a FIFO",
		"/dev/null":             "is a device",
		dir:                     "is a directory",
		"file://" + plain + "x": "no such file or directory",
	} {
		err := execText(t, s, Request{}, ".ingest into table T ('"+path+"')")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", path, err, want)
		}
	}
	if err := execText(t, s, Request{}, ".ingest into table T ('file://"+plain+"')"); err != nil {
		t.Errorf("a file: URI: %v", err)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(2) {
		t.Errorf("T has %v rows, want 2", n)
	}

	closed := New(Options{IngestFiles: FileAccess{Disabled: true}})
	defer closeEngine(t, closed)
	cs := closed.NewSession()
	execText(t, cs, Request{}, ".create table T (a:long)")
	if err := execText(t, cs, Request{}, ".ingest into table T ('"+plain+"')"); err == nil || !strings.Contains(err.Error(), "reads no local files") {
		t.Errorf("with file access disabled: %v", err)
	}
}

// TestIngestCanceledCommitsNothing: a request canceled while its ingest reads stops it; nothing
// is committed and its memory is given back. The cancel comes from the ingest's own progress
// report, after its first batch, so no goroutine needs to be waited for.
func TestIngestCanceledCommitsNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.csv")
	os.WriteFile(path, bytes.Repeat([]byte("12345,some text\n"), 100_000), 0o644)
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	if err := execText(t, s, Request{}, ".create table T (a:long, b:string)"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var seen int64
	req := Request{Progress: func(rows int64) {
		seen = rows
		cancel()
	}}
	_, err := s.Execute(ctx, req, &kusto.Source{Text: ".ingest into table T ('" + path + "')"})
	if err == nil || seen == 0 || seen >= 100_000 {
		t.Fatalf("got %v after %d rows, want a cancel partway", err, seen)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the cancel", used)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(0) {
		t.Errorf("the canceled ingest committed %v rows", n)
	}
}

// TestIngestLargeFileInBatches: a file of many batches lands whole, in one extent.
func TestIngestLargeFileInBatches(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "big.tsv")
	var b strings.Builder
	for i := range 50_000 {
		b.WriteString("row\t")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("\n")
	}
	os.WriteFile(path, []byte(b.String()), 0o644)
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	execText(t, s, Request{}, ".create table T (a:string, b:string)")
	if err := execText(t, s, Request{}, ".ingest into table T ('"+path+"') with (format='tsv')"); err != nil {
		t.Fatal(err)
	}
	if n := queryScalar(t, s, "T | where strlen(b) == 6 | count"); n != int64(50_000/7) {
		t.Errorf("got %v rows of 6 x's, want %d", n, 50_000/7)
	}
}
