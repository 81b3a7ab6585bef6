package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Ingests racing other commands through the catalog's transactions. Each ingest reads a gated
// stream, so the test decides what commits while it holds rows: no sleeps.

const gatedRows = 2*batchSize + 500 + batchSize // gatedStream's before + after, as below

// startGated starts an async ingest (text with %s for the stream's name) from a new gated stream
// src, and returns its operation id once the stream holds rows and waits at gate.
func startGated(t *testing.T, eng *Engine, s *Session, src int64, gate <-chan struct{}, text string) uuid.UUID {
	t.Helper()
	g := &gatedStream{src: src, before: 2*batchSize + 500, after: batchSize, gate: gate, reached: make(chan struct{})}
	name := fmt.Sprintf("S%d", src)
	eng.RegisterStream(name, Stream{Schema: gatedSchema, Open: g.open})
	res := executeText(t, s, fmt.Sprintf(text, name))
	if res == nil {
		t.FailNow()
	}
	<-g.reached
	return res.Value(0, 0).(uuid.UUID)
}

func waitOp(t *testing.T, eng *Engine, s *Session, id uuid.UUID) (state, status string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := eng.Ops().Wait(ctx, id); err != nil {
		t.Fatalf("operation %s did not end: %v", id, err)
	}
	return showOperation(t, s, id)
}

// TestIngestsRaceIntoOneTable: two appends to one table, both holding rows when either commits,
// both commit all their rows.
func TestIngestsRaceIntoOneTable(t *testing.T) {
	eng := newConcurrencyEngine(4)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	executeText(t, s, ".create table T (x:long, src:long)")
	gate := make(chan struct{})
	a := startGated(t, eng, s, 1, gate, ".append async T <| %s")
	b := startGated(t, eng, s, 2, gate, ".append async T <| %s")
	close(gate)
	for _, id := range []uuid.UUID{a, b} {
		if state, status := waitOp(t, eng, s, id); state != "Completed" {
			t.Errorf("ingest %s: %s %q; want Completed", id, state, status)
		}
	}
	for src := 1; src <= 2; src++ {
		if n := queryScalar(t, s, fmt.Sprintf("T | where src == %d | count", src)); n != int64(gatedRows) {
			t.Errorf("src %d committed %v rows; want %d", src, n, gatedRows)
		}
	}
}

// TestIngestIfNotExistsRace: two ingests with the same ingestIfNotExists tag, both holding rows
// before either commits: exactly one commits its rows, the other is Skipped and commits none.
func TestIngestIfNotExistsRace(t *testing.T) {
	eng := newConcurrencyEngine(4)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	const text = `.set-or-append async T with (tags='["ingest-by:k"]', ingestIfNotExists='["k"]') <| %s`
	gate := make(chan struct{})
	ids := []uuid.UUID{startGated(t, eng, s, 1, gate, text), startGated(t, eng, s, 2, gate, text)}
	close(gate)
	var completed, skipped []int
	for i, id := range ids {
		switch state, status := waitOp(t, eng, s, id); state {
		case "Completed":
			completed = append(completed, i+1)
		case "Skipped":
			skipped = append(skipped, i+1)
		default:
			t.Errorf("ingest %d: %s %q; want Completed or Skipped", i+1, state, status)
		}
	}
	if len(completed) != 1 || len(skipped) != 1 {
		t.Fatalf("completed %v, skipped %v; want one of each", completed, skipped)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(gatedRows) {
		t.Errorf("T has %v rows; want the winner's %d", n, gatedRows)
	}
	if n := queryScalar(t, s, fmt.Sprintf("T | where src != %d | count", completed[0])); n != int64(0) {
		t.Errorf("T has %v rows of the skipped ingest", n)
	}
}

// TestDropRacesIngest: a table dropped while an ingest into it holds rows makes the ingest fail
// at commit, and it commits nothing, also when a new table of the same name was made meanwhile.
func TestDropRacesIngest(t *testing.T) {
	for _, recreate := range []bool{false, true} {
		t.Run(fmt.Sprintf("recreate=%v", recreate), func(t *testing.T) {
			eng := newConcurrencyEngine(4)
			defer closeEngine(t, eng)
			s := eng.NewSession()
			gate := make(chan struct{})
			id := startGated(t, eng, s, 1, gate, ".set-or-append async T <| %s")
			// The table the ingest created was committed before its data.
			executeText(t, s, ".drop table T")
			if recreate {
				executeText(t, s, ".create table T (x:long, src:long)")
			}
			close(gate)
			state, status := waitOp(t, eng, s, id)
			if state != "Failed" || !strings.Contains(status, `table "T" was dropped while the ingest ran`) {
				t.Errorf("ingest: %s %q; want Failed, the table was dropped", state, status)
			}
			res := executeText(t, s, ".show tables")
			switch {
			case res == nil:
			case !recreate && res.Rows != 0:
				t.Errorf("the dropped table is back: %d tables", res.Rows)
			case recreate && queryScalar(t, s, "T | count") != int64(0):
				t.Errorf("the ingest committed rows into the new table")
			}
		})
	}
}

// TestQueryKeepsItsSnapshot: a query compiled before a .set-or-replace commits reads the
// extents the table had when it was compiled; a query compiled after reads the new ones.
func TestQueryKeepsItsSnapshot(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	executeText(t, s, ".set-or-append T <| range x from 1 to 3000 step 1")
	db, _ := eng.Database(DefaultDatabase)
	compile := func(text string) Node {
		t.Helper()
		src := &kusto.Source{Text: text}
		b, err := parser.Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.compiler(db.Pinned(), &Request{}, src).query(b.Query)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	held := compile("T")
	executeText(t, s, ".set-or-replace T <| range x from 10 to 11 step 1")
	got, err := newCursor(context.Background(), held, 10_000, 0).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for r := range got.Rows {
		total += got.Value(r, 0).(int64)
	}
	if got.Rows != 3000 || total != 3000*3001/2 {
		t.Errorf("the held query read %d rows summing to %d; want the old 3000 rows", got.Rows, total)
	}
	if n := queryScalar(t, s, "T | count"); n != int64(2) {
		t.Errorf("a new query reads %v rows; want the replacement's 2", n)
	}
}
