package engine

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// Ingests of sources far larger than memory: a bad row a million lines in, a 2 GB source
// canceled halfway, and a budget smaller than the source. The big sources are generated as they
// are read (genSource), through the engine's test hook for opening sources, so nothing of that
// size is written to disk or held in memory.

// genSource is a deterministic CSV stream of size bytes: row i is "i,<pad>" followed by
// further fields from row, cut to whole rows. It counts the bytes it has given.
type genSource struct {
	size   int64
	row    func(i int64, buf []byte) []byte
	given  atomic.Int64
	i      int64
	rowBuf []byte
	rest   []byte
	onRead func(given int64)
}

func (g *genSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.rest) == 0 {
			if g.given.Load()+int64(n) >= g.size {
				break
			}
			g.rowBuf = g.row(g.i, g.rowBuf[:0])
			g.rest = g.rowBuf
			g.i++
		}
		c := copy(p[n:], g.rest)
		g.rest = g.rest[c:]
		n += c
	}
	given := g.given.Add(int64(n))
	if g.onRead != nil {
		g.onRead(given)
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (g *genSource) Close() error { return nil }

// genEngine returns an engine whose every source is g.
func genEngine(maxMemory, maxIngest int64, g *genSource) *Engine {
	return New(Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second), IDs: &ops.SequentialIDs{},
		User: "kustard", MaxMemory: maxMemory, MaxIngestBytes: maxIngest,
		IngestFiles: FileAccess{Open: func(string) (io.ReadCloser, int64, error) { return g, g.size, nil }},
	})
}

// heapObjects is the bytes of live and not yet swept heap objects, cheaply read.
func heapObjects() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestIngestBadRowAtLineMillion: a file whose line 1,000,001 has a malformed field fails naming
// the source, the line and the column, and commits nothing of the million good rows before it.
func TestIngestBadRowAtLineMillion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	var line []byte
	for i := range 1_000_000 {
		line = strconv.AppendInt(line[:0], int64(i), 10)
		line = append(line, ",name,2024-01-01T00:00:00Z\n"...)
		w.Write(line)
	}
	w.WriteString(`1000000,"na"me,2024-01-01T00:00:00Z` + "\n") // the quote closes before "me"
	w.WriteString("1000001,name,2024-01-01T00:00:00Z\n")
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	if err := execText(t, s, Request{}, ".create table T (a:long, s:string, d:datetime)"); err != nil {
		t.Fatal(err)
	}
	before := eng.Memory().Used()
	err = execText(t, s, Request{}, ".ingest into table T (h@'"+path+"')")
	want := `source "` + path + `": line 1000001, column 13: unexpected 'm' after the closing quote of a field`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "BadRequest_InvalidBlob") {
		t.Fatalf("got %v\nwant it to contain %s", err, want)
	}
	if used := eng.Memory().Used(); used != before {
		t.Errorf("%d bytes reserved after the ingest failed, %d before", used, before)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(0) {
		t.Errorf("the failed ingest committed %v rows", n)
	}
}

// padRow is row i of a source whose rows are about 1 KiB, of which the table takes the long.
func padRow(i int64, buf []byte) []byte {
	buf = strconv.AppendInt(buf, i, 10)
	buf = append(buf, ',')
	for range 1000 / 50 {
		buf = append(buf, "padding-padding-padding-padding-padding-padding-pa"...)
	}
	return append(buf, '\n')
}

// TestIngestCanceledHalfwayCommitsNothing: a 2 GB source canceled once half of it is read stops
// there, commits nothing, and gives back every byte it reserved.
func TestIngestCanceledHalfwayCommitsNothing(t *testing.T) {
	g := &genSource{size: 2 << 30, row: padRow}
	eng := genEngine(1<<30, 4<<30, g) // the per-ingest cap, which counts the text read, past the source
	defer closeEngine(t, eng)
	s := eng.NewSession()
	if err := execText(t, s, Request{}, ".create table T (a:long)"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	heapBefore := heapObjects()
	before := eng.Memory().Used()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var atCancel int64
	req := Request{Progress: func(rows int64) {
		if given := g.given.Load(); given >= g.size/2 && atCancel == 0 {
			atCancel = given
			cancel()
		}
	}}
	_, err := s.Execute(ctx, req, &kusto.Source{Text: ".ingest into table T ('generated.csv')"})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindCanceled {
		t.Fatalf("got %v, want the ingest canceled", err)
	}
	if atCancel == 0 {
		t.Fatal("the progress callback never saw half the source read")
	}
	// The reader runs ahead of the rows by at most its buffers.
	if read := g.given.Load(); read > atCancel+1<<20 {
		t.Errorf("the ingest read %d bytes, %d after the cancel at %d", read, read-atCancel, atCancel)
	}
	if used := eng.Memory().Used(); used != before {
		t.Errorf("%d bytes reserved after the cancel, %d before", used, before)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(0) {
		t.Errorf("the canceled ingest committed %v rows", n)
	}
	runtime.GC()
	if grown := heapObjects() - heapBefore; grown > 16<<20 {
		t.Errorf("the heap holds %d bytes more than before the ingest", grown)
	}
}

// nameRow is row i of a source whose every row costs memory: a long, a string of 100,000
// distinct values and a datetime.
func nameRow(i int64, buf []byte) []byte {
	buf = strconv.AppendInt(buf, i, 10)
	buf = append(buf, ",customer-"...)
	buf = strconv.AppendInt(buf, i%100_000, 10)
	return append(buf, ",2024-01-01T00:00:00Z\n"...)
}

// TestIngestBoundedByBudget: a source far larger than the memory budget, or than the per-ingest
// cap, fails cleanly at the bound (the low-memory error or the ingest limit) after reading only
// about as much as the bound allows, with the heap bounded throughout and the budget given back.
func TestIngestBoundedByBudget(t *testing.T) {
	const budget = 32 << 20
	for _, tc := range []struct {
		name                string
		maxMemory, maxBytes int64
		want                string
	}{
		{"budget", budget, 1 << 30, LowMemoryCode},
		{"per-ingest cap", 1 << 30, budget, "--max-ingest-bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			heapBefore := heapObjects()
			var heapPeak atomic.Int64
			var lastSample int64
			g := &genSource{size: 2 << 30, row: nameRow, onRead: func(given int64) {
				if given-lastSample >= 4<<20 {
					lastSample = given
					if h := heapObjects() - heapBefore; h > heapPeak.Load() {
						heapPeak.Store(h)
					}
				}
			}}
			eng := genEngine(tc.maxMemory, tc.maxBytes, g)
			defer closeEngine(t, eng)
			s := eng.NewSession()
			if err := execText(t, s, Request{}, ".create table T (a:long, s:string, d:datetime)"); err != nil {
				t.Fatal(err)
			}
			before := eng.Memory().Used()
			err := execText(t, s, Request{}, ".ingest into table T ('generated.csv')")
			var kerr *kusto.Error
			if !errors.As(err, &kerr) || kerr.Kind != kusto.KindLimits || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want the limits error naming %s", err, tc.want)
			}
			if peak := eng.Memory().Peak(); peak > tc.maxMemory {
				t.Errorf("the budget's peak %d passed its limit %d", peak, tc.maxMemory)
			}
			// Each row costs more in memory than its ~40 bytes of text, so the ingest stops
			// before it has read the bound's worth of text.
			if read := g.given.Load(); read > budget+1<<20 {
				t.Errorf("the ingest read %d bytes of the source before stopping at a bound of %d", read, budget)
			}
			// The heap holds the batches under the bound, the reader's buffers and garbage not yet
			// collected: a few times the bound, whatever the source's size.
			if peak := heapPeak.Load(); peak > 4*budget {
				t.Errorf("the heap grew by %d bytes, for a bound of %d", peak, budget)
			}
			if used := eng.Memory().Used(); used != before {
				t.Errorf("%d bytes reserved after the ingest failed, %d before", used, before)
			}
			if n := queryScalar(t, s, "T | count"); n != int64(0) {
				t.Errorf("the failed ingest committed %v rows", n)
			}
		})
	}
}
