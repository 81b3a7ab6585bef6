package repl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// testShell returns a shell on a deterministic engine, writing to a buffer, with timing off so
// that its output is stable.
func testShell(t *testing.T) (*Shell, *bytes.Buffer) {
	t.Helper()
	eng := engine.New(engine.Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:   &ops.SequentialIDs{}, User: "kustard", Capacity: 4,
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	var out bytes.Buffer
	s := newShell(Config{Engine: eng}, &out)
	s.timing = false
	return s, &out
}

// endless is an ingest source that runs until canceled, building almost nothing: the range
// never ends within a test and the filter keeps one row in a thousand.
const endless = "range x from 1 to 1000000000000 step 1 | where x % 1000 == 0"

func TestCompleteInput(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"", true},
		{".show operations", true},
		{"T | take 3", true},
		{"T |", false},
		{"T\n| where x ==", false},
		{".set-or-append T <|", false},
		{"print a = 1,", false},
		{"T | where a and", false},
		{"T | where a contains", false},
		{"print x = (1 +", false},
		{"print x = (1 + 2", false},
		{"print x = (1 + 2)", true},
		{"datatable(a:int)[1,\n2]", true},
		{"print s = ```a\n(b", false},
		{"print s = ```a\n(b```", true},
		{"print s = ~~~a\n", false},
		{"print d = dynamic({\"a\":\n[1,", false},
		{"print d = dynamic({\"a\":\n[1, 2]})", true},
		{"print s = 'a (b'", true},
		{"print s = \"a | \"", true},
		{`print s = 'unterminated`, true}, // strings end with their line: running shows the error
		{"T |\n", true},                   // a blank line runs whatever was typed
		{"T |\n   ", true},
		{"#help", true},
		{"print x = 1 // a comment (", true},
		{"print x = 1 ) )", true},                            // too many closers: the parser says so
		{".ingest inline into table T <|\na,1", false},       // inline data ends at a blank line
		{".ingest inline into table T <|\na,1\nb,2\n", true}, // which runs it
		{".ingest inline into table T <| a,\"(", false},
	} {
		if got := Complete(tc.text); got != tc.want {
			t.Errorf("Complete(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func values(c completion) []string {
	var out []string
	for _, it := range c.Items {
		out = append(out, it.Value)
	}
	return out
}

func run(t *testing.T, s *Shell, text string) {
	t.Helper()
	if err := s.handle(context.Background(), text); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
}

func TestCompletion(t *testing.T) {
	s, out := testShell(t)
	run(t, s, ".create table Events (Name:string, Level:int)")
	run(t, s, ".set-or-append async Running <| "+endless)
	id := s.eng.Ops().Active()[0].ID.String()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{".sh", []string{".show"}},
		{".show op", []string{"operations", "operation"}},
		{".show operation " + id + " ", []string{"details"}},
		{".cancel operation ", []string{id}},
		{".cancel operation " + id[:8], []string{id}},
		{".show operations (", []string{id}},
		{".cancel operation " + id + " with (", []string{"reason="}},
		{".set-or-append Events with (persistDetails=true, t", []string{"tags="}},
		{".create table Ev", []string{"Events"}},
		{".drop table Events ", []string{"ifexists"}},
		{"Ev", []string{"Events"}},
		{"Events | ", []string{"where", "filter", "project", "project-away", "extend", "take", "limit", "count", "summarize"}},
		{"Events | where L", []string{"Level"}},
		{"Events | summarize c", []string{"count(", "countif(", "count_distinct("}},
		{"Events | summarize count() by N", []string{"Name"}},
		{"Events | project-away ", []string{"Name", "Level"}},
		{"Events | extend Big = Level * 2 | project B", []string{"Big"}},
		{"range n from 1 to 3 step 1 | where ", []string{"n"}},
		{".show operations | where Sta", []string{"State", "StartedOn"}},
		{".set-or-append T <| Events | where N", []string{"Name"}},
		{"Events | where Name == 'a", nil}, // inside a string
		{"#f", []string{"#format"}},
		{"#format ", []string{"table", "csv", "json", "markdown"}},
		{"#timing o", []string{"on", "off"}},
		{"#database N", []string{"NetDefaultDB"}},
		{"#help .ca", []string{".cancel", ".cancel operation"}},
	} {
		got := values(s.complete(tc.text))
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete(%q) = %q, missing %q", tc.text, got, w)
			}
		}
		if tc.want == nil && len(got) > 0 {
			t.Errorf("complete(%q) = %q, want nothing", tc.text, got)
		}
	}
	// A running operation is offered with its kind and start time.
	c := s.complete(".cancel operation ")
	started := s.eng.Ops().Active()[0].Created.Format("2006-01-02 15:04:05")
	if len(c.Items) != 1 || c.Items[0].Desc != "TableSetOrAppend InProgress, started "+started {
		t.Errorf("operation candidate = %+v, want one started %s\n%s", c.Items, started, out)
	}
}

// TestOperatorsParse holds the completion's operator list in step with the grammar: each one
// offered must parse.
func TestOperatorsParse(t *testing.T) {
	forms := map[string]string{
		"where": "where x > 1", "filter": "filter x > 1", "project": "project x", "project-away": "project-away x",
		"extend": "extend y = x", "take": "take 1", "limit": "limit 1", "count": "count",
		"sort": "sort by x", "order": "order by x asc nulls last", "top": "top 1 by x", "distinct": "distinct x",
		"join": "join (print x = 1) on x", "union": "union (print x = 1)", "lookup": "lookup (print x = 1) on x",
		"invoke":    "invoke f()",
		"summarize": "summarize count() by x",
		"mv-expand": "mv-expand d = pack_array(x) to typeof(long)", "mv-apply": "mv-apply d = pack_array(x) on (take 1)",
		"parse": `parse tostring(x) with n: long`, "parse-where": `parse-where tostring(x) with "1" rest`,
		"project-keep": "project-keep x*", "project-rename": "project-rename y = x", "project-reorder": "project-reorder x desc",
		"getschema": "getschema", "as": "as T", "sample": "sample 2", "serialize": "serialize n = row_number()",
		"render": "render timechart with (title = 'x', ycolumns = x, y)",
	}
	for _, op := range operatorCandidates() {
		form, ok := forms[op.Value]
		if !ok {
			t.Errorf("no example for operator %q", op.Value)
			continue
		}
		if _, err := parser.ParseString("range x from 1 to 3 step 1 | " + form); err != nil {
			t.Errorf("%s: %v", op.Value, err)
		}
	}
}

// TestDirectives runs directives, queries and mistakes as a user would type them and compares
// the shell's output with a golden transcript.
func TestDirectives(t *testing.T) {
	s, out := testShell(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "setup.kql")
	if err := os.WriteFile(script, []byte(".create table T (a:long, s:string)\n\n.set-or-append T <| range a from 1 to 3 step 1 | extend s = strcat('row ', tostring(a))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var transcript strings.Builder
	for _, in := range []string{
		"#save " + filepath.Join(dir, "early.csv"),
		"#help",
		"#help .cancel",
		"#help .show op",
		"#help #save",
		"#help .frob",
		"#format",
		"#format markdown",
		"print n = 1, s = 'a|b'",
		"#format yaml",
		"#format table",
		"#timing",
		"#timing maybe",
		"#maxrows 2",
		"range x from 1 to 5 step 1",
		"#maxrows 0",
		"#maxrows -3",
		"#save " + filepath.Join(dir, "none.csv"),
		"#run " + script,
		"T | project a",
		"#save " + filepath.Join(dir, "out.csv"),
		"#run " + filepath.Join(dir, "missing.kql"),
		"#database",
		"#database Nope",
		"#database NetDefaultDB extra",
		"#bogus",
		"#quit now",
		"T | frob",
		"print x = 'open",
		".cancel operation 00000000-0000-0000-0000-00000000ffff",
	} {
		out.Reset()
		if err := s.handle(context.Background(), in); err != nil {
			t.Errorf("%s returned %v; the shell goes on after every mistake", in, err)
		}
		fmt.Fprintf(&transcript, "> %s\n%s", strings.ReplaceAll(in, dir, "$DIR"), strings.ReplaceAll(out.String(), dir, "$DIR"))
	}
	golden.Check(t, "../testdata/repl/directives.golden", []byte(transcript.String()))
	saved, err := os.ReadFile(filepath.Join(dir, "out.csv"))
	if err != nil || string(saved) != "a\n1\n2\n3\n" {
		t.Errorf("#save wrote %q, %v", saved, err)
	}
	if err := s.handle(context.Background(), "#exit"); err != errQuit {
		t.Errorf("#exit returned %v, want errQuit", err)
	}
}

func TestFitTable(t *testing.T) {
	s, out := testShell(t)
	run(t, s, "print id = guid(00000000-0000-0000-0000-000000000001), note = strcat('a long note that goes on ', 'and on and on'), empty = '', other = guid(00000000-0000-0000-0000-000000000002), n = 42")
	full := out.String()
	f := s.last
	shown, hidden := fitTable(f, f.Rows, 60)
	var names []string
	for _, c := range shown.Schema {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "id,note,n" {
		t.Errorf("columns shown at width 60 = %s (hidden %v), want id,note,n\nwhole:\n%s", got, hidden, full)
	}
	if got := strings.Join(hidden, ","); got != "empty,other" {
		t.Errorf("hidden = %s, want empty,other", got)
	}
	if note := shown.Value(0, 1).(string); !strings.HasSuffix(note, "…") || len([]rune(note)) >= 38 {
		t.Errorf("note was not shortened: %q", note)
	}
	if id := shown.Value(0, 0).(string); id != "00000000-0000-0000-0000-000000000001" {
		t.Errorf("a guid was shortened: %q", id)
	}
	// Wide enough: nothing changes.
	if shown, hidden := fitTable(f, f.Rows, 500); len(hidden) > 0 || shown.Value(0, 1) != "a long note that goes on and on and on" {
		t.Errorf("at width 500: hidden %v, note %q", hidden, shown.Value(0, 1))
	}
}

// TestProgressOnlyOnTerminal checks that a synchronous ingest reports progress on a terminal and
// never when the output is not one. The clock moves a second at every reading, so progress is
// due at every batch.
func TestProgressOnlyOnTerminal(t *testing.T) {
	for _, tty := range []bool{true, false} {
		s, out := testShell(t)
		s.tty = tty
		clock := ops.NewStepClock(time.Now(), time.Second)
		s.now = clock.Now
		run(t, s, ".set-or-append T <| range x from 1 to 10000 step 1")
		shown := strings.Contains(out.String(), "ingesting: ")
		if shown != tty {
			t.Errorf("tty=%v: progress shown = %v\n%s", tty, shown, out.String())
		}
		if tty && !strings.Contains(out.String(), "\r\x1b[2K┌") {
			t.Errorf("the progress line was not cleared before the result:\n%q", out.String())
		}
	}
}

// TestNotices checks the announcement of async operations that end: the one that completed
// with its rows, the one canceled with its reason, and none for operations started elsewhere.
func TestNotices(t *testing.T) {
	s, out := testShell(t)
	// Each operation that ends reaches the shell's watcher, then this channel.
	ended := make(chan struct{}, 8)
	stop := s.eng.Ops().Watch(func(r ops.Snapshot) {
		s.finished(r)
		ended <- struct{}{}
	})
	defer stop()
	run(t, s, ".set-or-append async Done <| range x from 1 to 1000 step 1")
	run(t, s, ".set-or-append async Kept with (persistDetails=true) <| range x from 1 to 10 step 1")
	other := s.eng.NewSession()
	if _, err := other.Execute(context.Background(), engine.Request{}, &kusto.Source{Text: ".set-or-append async Elsewhere <| range x from 1 to 5 step 1"}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, s.eng)
	run(t, s, ".set-or-append async Stopped <| "+endless)
	for _, r := range s.eng.Ops().Active() {
		if _, err := s.eng.Ops().Cancel(context.Background(), r.ID, ops.CancelRequest{Origin: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	// Done, Kept, Elsewhere and Stopped: four operations ended, each told to the watcher after
	// its Done closed.
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for range 4 {
		select {
		case <-ended:
		case <-deadline.C:
			t.Fatal("the watcher was not told of every operation that ended")
		}
	}
	out.Reset()
	s.announce()
	got := out.String()
	for _, want := range []string{"ended Completed: 1,000 rows ingested into Done", "ended Completed: 10 rows ingested into Kept", "ended Canceled: Operation was canceled"} {
		if !strings.Contains(got, want) {
			t.Errorf("notices lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Elsewhere") || strings.Count(got, "⚑") != 3 {
		t.Errorf("want 3 notices, none for another session's operation:\n%s", got)
	}
}

func waitIdle(t *testing.T, eng *engine.Engine) {
	t.Helper()
	for _, r := range eng.Ops().Log() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := eng.Ops().Wait(ctx, r.ID)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestHistoryFilePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "kustard", "history")
	if _, err := openHistory(path); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
	t.Setenv("XDG_STATE_HOME", "/xdg")
	if p, _ := HistoryPath(); p != "/xdg/kustard/history" {
		t.Errorf("HistoryPath = %s", p)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if p, _ := HistoryPath(); p != "/home/u/.local/state/kustard/history" {
		t.Errorf("HistoryPath = %s", p)
	}
}

// TestCompleteRunningQueries: after `.cancel query` the shell offers the ClientActivityIds of
// the running queries, quoted as the command takes them.
func TestCompleteRunningQueries(t *testing.T) {
	s, _ := testShell(t)
	b, err := engine.Check(&kusto.Source{Text: "range x from 1 to 100000 step 1"})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.eng.NewSession().Open(context.Background(), engine.Request{ClientRequestID: `KE.RunQuery;"1"`}, b)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	c := s.complete(".cancel query ")
	if got := values(c); !slices.Equal(got, []string{`"KE.RunQuery;\"1\""`}) {
		t.Fatalf(`complete(".cancel query ") = %q; want the running query's id, quoted`, got)
	}
	if desc := c.Items[0].Desc; !strings.HasSuffix(desc, ": range x from 1 to 100000 step 1") {
		t.Errorf("query candidate described as %q; want its start and text", desc)
	}
	if got := values(s.complete(".show r")); !slices.Contains(got, "running") {
		t.Errorf(`complete(".show r") = %q; want running`, got)
	}
}
