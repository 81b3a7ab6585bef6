package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// showQueries runs a .show queries command and returns the named columns of each row, joined
// by " | ".
func showQueries(t *testing.T, s *Session, text string, cols ...string) []string {
	t.Helper()
	res := executeText(t, s, text)
	if res == nil {
		t.FailNow()
	}
	var rows []string
	for r := range res.Rows {
		var vals []string
		for _, c := range cols {
			i := res.Schema.Index(c)
			if i < 0 {
				t.Fatalf("%s has no column %s", text, c)
			}
			vals = append(vals, kusto.FormatValue(res.Value(r, i)))
		}
		rows = append(rows, strings.Join(vals, " | "))
	}
	return rows
}

func checkRows(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCancelQuery holds a query open at a gate, finds it with .show running queries from
// another session, cancels it with .cancel query, and checks what its client got and what
// .show queries kept. Run under -race, it also checks that the query's goroutine and the
// cancel's meet only through the registry.
func TestCancelQuery(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	eng := newConcurrencyEngine(0)
	gate := make(chan struct{})
	defer close(gate)
	g := &gatedStream{src: 1, before: batchSize, after: 10, gate: gate, reached: make(chan struct{})}
	eng.RegisterStream("G", Stream{Schema: gatedSchema, Open: g.open})

	client := eng.NewSession()
	req := Request{ClientRequestID: "KGC.execute;1f0e", Application: "tests", User: "alice@example.com", Principal: "aadapp=1"}
	failed := make(chan error, 1)
	go func() {
		_, err := client.Execute(context.Background(), req, &kusto.Source{Text: "G | summarize n = count()"})
		failed <- err
	}()
	<-g.reached

	admin := eng.NewSession()
	checkRows(t, ".show running queries", showQueries(t, admin, ".show running queries",
		"ClientActivityId", "Text", "State", "User", "Application", "Principal", "FailureReason"),
		"KGC.execute;1f0e | G | summarize n = count() | InProgress | alice@example.com | tests | aadapp=1 | ")
	checkRows(t, "by another user", showQueries(t, admin, `.show running queries by user "bob@example.com"`, "ClientActivityId"))
	checkRows(t, "by the user", showQueries(t, admin, `.show running queries by user "alice@example.com"`, "ClientActivityId"), "KGC.execute;1f0e")

	checkRows(t, ".cancel query", showQueries(t, admin, `.cancel query "KGC.execute;1f0e" with (reason = "runs too long")`,
		"ClientActivityId", "CancellationState", "ReasonPhrase"),
		"KGC.execute;1f0e | Canceled successfully | runs too long")

	err := <-failed
	var perr *kusto.Error
	want := "E_QUERY_CANCELLED (0x80DA0006): Query was cancelled: runs too long"
	if !errors.As(err, &perr) || perr.Kind != kusto.KindCanceled || perr.Msg != want {
		t.Fatalf("the query's client got %v; want a canceled error %q", err, want)
	}
	checkRows(t, ".show queries", showQueries(t, admin, ".show queries", "ClientActivityId", "State", "FailureReason"),
		"KGC.execute;1f0e | Canceled | "+want)
	checkRows(t, "running after the cancel", showQueries(t, admin, ".show running queries", "ClientActivityId"))
	if n := len(eng.Ops().Log()); n != 0 {
		t.Errorf(".show operations has %d records; queries are not operations", n)
	}
	closeAndCheckGoroutines(t, eng, goroutines)
}

// TestQueryContextEnds: a query whose client goes away, or whose server timeout passes, is
// canceled through its context and recorded Canceled with why.
func TestQueryContextEnds(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	eng := newConcurrencyEngine(0)
	gate := make(chan struct{}) // never opened: only the context ends these queries
	for i, name := range []string{"Gone", "Slow"} {
		g := &gatedStream{src: int64(i), before: 10, gate: gate, reached: make(chan struct{})}
		eng.RegisterStream(name, Stream{Schema: gatedSchema, Open: g.open})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client has gone before the query reads its first batch
	_, err := eng.NewSession().Execute(ctx, Request{ClientRequestID: "gone"}, &kusto.Source{Text: "Gone | count"})
	if err == nil || !strings.Contains(err.Error(), "E_QUERY_CANCELLED (0x80DA0006): Query was cancelled: the client canceled the request") {
		t.Errorf("a query whose client went away: %v", err)
	}
	_, err = eng.NewSession().Execute(context.Background(), Request{ClientRequestID: "slow", ServerTimeout: time.Millisecond}, &kusto.Source{Text: "Slow | count"})
	if err == nil || !strings.Contains(err.Error(), "the request exceeded its server timeout of 1ms (servertimeout)") {
		t.Errorf("a query past its server timeout: %v", err)
	}
	checkRows(t, ".show queries", showQueries(t, eng.NewSession(), ".show queries", "ClientActivityId", "State", "FailureReason", "ClientRequestProperties"),
		"gone | Canceled | E_QUERY_CANCELLED (0x80DA0006): Query was cancelled: the client canceled the request | ",
		`slow | Canceled | the request exceeded its server timeout of 1ms (servertimeout) | {"Options":{"servertimeout":"00:00:00.0010000"}}`)
	closeAndCheckGoroutines(t, eng, goroutines)
}

// TestQueryCursorClosedEarly: a client that stops reading a streamed result has completed its
// query; the statistics count what it read.
func TestQueryCursorClosedEarly(t *testing.T) {
	eng := newConcurrencyEngine(0)
	s := eng.NewSession()
	b, err := Check(&kusto.Source{Text: fmt.Sprintf("range x from 1 to %d step 1", 10*batchSize)})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := s.Open(context.Background(), Request{ClientRequestID: "early"}, b)
	if err != nil {
		t.Fatal(err)
	}
	if batch, err := cur.Next(); err != nil || batch == nil {
		t.Fatalf("first batch: %v, %v", batch, err)
	}
	checkRows(t, "while it streams", showQueries(t, eng.NewSession(), ".show running queries", "ClientActivityId", "State"), "early | InProgress")
	cur.Close()
	checkRows(t, "once closed", showQueries(t, eng.NewSession(), ".show queries", "ClientActivityId", "State", "ResultSetStatistics"),
		fmt.Sprintf(`early | Completed | {"TableCount":1,"TablesStatistics":[{"RowCount":%d,"TableSize":%d}]}`,
			batchSize, memoryCost(NewVector(kusto.TypeLong, make([]int64, batchSize), nil))))
}

// TestQueriesRetention: finished queries are kept for QueriesRetention, and at most MaxQueries
// of them, the oldest going first.
func TestQueriesRetention(t *testing.T) {
	clock := ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second)
	eng := New(Options{Clock: clock, IDs: &ops.SequentialIDs{}, QueriesRetention: time.Hour, MaxQueries: 3})
	s := eng.NewSession()
	for i := range 5 {
		executeText(t, s, fmt.Sprintf("print n = %d", i))
	}
	checkRows(t, "the count bound", showQueries(t, s, ".show queries", "Text"), "print n = 2", "print n = 3", "print n = 4")
	clock.Advance(time.Hour - time.Minute)
	executeText(t, s, "print n = 5")
	clock.Advance(2 * time.Minute) // the first four are past the hour, the last is not
	checkRows(t, "the retention", showQueries(t, s, ".show queries", "Text"), "print n = 5")
	last := showQueries(t, s, ".show queries", "ClientActivityId")[0]
	clock.Advance(time.Hour)
	checkRows(t, "all expired", showQueries(t, s, ".show queries", "Text"))
	if _, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: ".cancel query " + kusto.Quote(last)}); err == nil || !strings.Contains(err.Error(), "no query with ClientActivityId") {
		t.Errorf("cancel of an expired query: %v; want not found", err)
	}
}
