package compat

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-kusto-go/azkustodata"
	kerrors "github.com/Azure/azure-kusto-go/azkustodata/errors"
	"github.com/Azure/azure-kusto-go/azkustodata/kql"
	"github.com/Azure/azure-kusto-go/azkustodata/query"
	"github.com/google/uuid"
)

const db = "NetDefaultDB"

// forever is a query that runs until something cancels it, in bounded memory and returning
// nothing: range streams its rows batch by batch and the filter drops them all.
const forever = "range x from 1 to 9223372036854775807 step 1 | where x < 0"

// connect is the README's "Connecting from the Go SDK", exercised: an unauthenticated
// connection string to the server's URL (with the server's token, when it requires one), with
// the server's HTTP client.
func connect(t *testing.T, s *server) *azkustodata.Client {
	t.Helper()
	kcsb := azkustodata.NewConnectionStringBuilder(s.URL)
	if s.Token != "" {
		kcsb = kcsb.WithApplicationToken("kustard", s.Token)
	}
	client, err := azkustodata.New(kcsb, azkustodata.WithHttpClient(s.Client))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// mgmt runs a management command and returns its primary table's rows.
func mgmt(t *testing.T, c *azkustodata.Client, text string) []query.Row {
	t.Helper()
	ds, err := c.Mgmt(context.Background(), db, kql.New("").AddUnsafe(text))
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return ds.Tables()[0].Rows()
}

// ingest runs an async ingest through the Kusto SDK and returns its OperationId.
func ingest(t *testing.T, kc *azkustodata.Client, text string) uuid.UUID {
	t.Helper()
	rows := mgmt(t, kc, text)
	id, err := uuid.Parse(guid(t, rows[0], "OperationId"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func guid(t *testing.T, r query.Row, col string) string {
	t.Helper()
	g, err := r.GuidByName(col)
	if err != nil || g == nil {
		t.Fatalf("%s: %v %v", col, g, err)
	}
	return g.String()
}

func str(t *testing.T, r query.Row, col string) string {
	t.Helper()
	s, err := r.StringByName(col)
	if err != nil {
		t.Fatalf("%s: %v", col, err)
	}
	return s
}

// waitFor polls .show operations id, as a client of Kusto's async commands does, until the
// operation leaves InProgress, and returns its State and Status.
func waitFor(t *testing.T, c *azkustodata.Client, id string) (state, status string) {
	t.Helper()
	eventually(t, "operation "+id+" to end", func() bool {
		rows := mgmt(t, c, ".show operations "+id)
		if len(rows) != 1 {
			t.Fatalf(".show operations %s: %d rows", id, len(rows))
		}
		state, status = str(t, rows[0], "State"), str(t, rows[0], "Status")
		return state != "InProgress"
	})
	return state, status
}

// TestGoSDK: the scenario of a user of the Kusto emulator, through Microsoft's Go SDK over
// plain HTTP: a table, an async ingest polled to its end, a long one canceled, queries through
// v1 and v2. The server runs with --deterministic, as a test suite would run it for
// reproducible ids.
func TestGoSDK(t *testing.T) {
	s := startServer(t, serverConfig{deterministic: true})
	c := connect(t, s)

	rows := mgmt(t, c, ".create table Events (Id: long, Name: string)")
	if len(rows) != 1 || str(t, rows[0], "TableName") != "Events" {
		t.Fatalf(".create table: %v", rows)
	}

	rows = mgmt(t, c, `.set-or-append async Events <| range Id from 1 to 1000 step 1 | extend Name = strcat("e", Id)`)
	id := guid(t, rows[0], "OperationId")
	if want := "00000000-0000-0000-0000-000000000002"; id != want { // the second command's
		t.Errorf("--deterministic: the ingest's OperationId %s, want %s", id, want)
	}
	if state, status := waitFor(t, c, id); state != "Completed" {
		t.Fatalf("the ingest ended %s: %s", state, status)
	}

	ds, err := c.Query(context.Background(), db, kql.New("Events | summarize n = count(), s = sum(Id), last = max(Name)"))
	if err != nil {
		t.Fatal(err)
	}
	row := ds.Tables()[0].Rows()[0]
	n, _ := row.LongByName("n")
	sum, _ := row.LongByName("s")
	if n == nil || *n != 1000 || sum == nil || *sum != 500500 || str(t, row, "last") != "e999" {
		t.Errorf("after the ingest: %v", row)
	}

	// A long ingest canceled: the cancel's row, then the operation's.
	rows = mgmt(t, c, `.set-or-append async Events <| range Id from 1 to 9223372036854775807 step 1 | where Id < 0 | extend Name = "x"`)
	id = guid(t, rows[0], "OperationId")
	rows = mgmt(t, c, ".cancel operation "+id+` with (reason = "compat: enough")`)
	if got := str(t, rows[0], "CancellationState"); got != "Canceled successfully" {
		t.Errorf("CancellationState %q", got)
	}
	if got := str(t, rows[0], "ReasonPhrase"); got != "compat: enough" {
		t.Errorf("ReasonPhrase %q", got)
	}
	if state, status := waitFor(t, c, id); state != "Canceled" || !strings.Contains(status, "compat: enough") {
		t.Errorf("the canceled ingest: %s, %q", state, status)
	}
	if n := mgmt(t, c, "Events | count"); len(n) != 1 {
		t.Errorf("a query through the management endpoint: %v", n)
	} else if v, _ := n[0].LongByName("Count"); v == nil || *v != 1000 {
		t.Errorf("the canceled ingest left rows behind: %v", n[0])
	}
}

// allTypes is a row of every Kusto type, then a row of their nulls.
const allTypes = `datatable(b: bool, i: int, l: long, r: real, s: string, d: datetime, t: timespan, g: guid, dyn: dynamic)[
	true, int(-7), 9223372036854775807, 0.5, "a \"q\" é", datetime(2024-01-02 03:04:05.1234567), 1d + 2h + 3m + 4s + 5ms, guid(74be27de-1e4e-49d9-b579-fe0b331d3642), dynamic({"a":[1,2.5,"x",null,true]}),
	bool(null), int(null), long(null), real(null), "", datetime(null), timespan(null), guid(null), dynamic(null)]`

// checkTypes reads a table of allTypes with the SDK's typed getters.
func checkTypes(t *testing.T, via string, rows []query.Row) {
	t.Helper()
	if len(rows) != 2 {
		t.Fatalf("%s: %d rows, want 2", via, len(rows))
	}
	r := rows[0]
	b, err := r.BoolByName("b")
	if err != nil || b == nil || !*b {
		t.Errorf("%s: bool %v %v", via, b, err)
	}
	i, err := r.IntByName("i")
	if err != nil || i == nil || *i != -7 {
		t.Errorf("%s: int %v %v", via, i, err)
	}
	l, err := r.LongByName("l")
	if err != nil || l == nil || *l != 9223372036854775807 {
		t.Errorf("%s: long %v %v", via, l, err)
	}
	f, err := r.RealByName("r")
	if err != nil || f == nil || *f != 0.5 {
		t.Errorf("%s: real %v %v", via, f, err)
	}
	if s, err := r.StringByName("s"); err != nil || s != `a "q" é` {
		t.Errorf("%s: string %q %v", via, s, err)
	}
	d, err := r.DateTimeByName("d")
	if want := time.Date(2024, 1, 2, 3, 4, 5, 123456700, time.UTC); err != nil || d == nil || !d.Equal(want) {
		t.Errorf("%s: datetime %v %v", via, d, err)
	}
	ts, err := r.TimespanByName("t")
	if want := 26*time.Hour + 3*time.Minute + 4*time.Second + 5*time.Millisecond; err != nil || ts == nil || *ts != want {
		t.Errorf("%s: timespan %v %v", via, ts, err)
	}
	g, err := r.GuidByName("g")
	if err != nil || g == nil || g.String() != "74be27de-1e4e-49d9-b579-fe0b331d3642" {
		t.Errorf("%s: guid %v %v", via, g, err)
	}
	dyn, err := r.DynamicByName("dyn")
	if err != nil || string(dyn) != `{"a":[1,2.5,"x",null,true]}` {
		t.Errorf("%s: dynamic %s %v", via, dyn, err)
	}
	n := rows[1]
	nb, _ := n.BoolByName("b")
	ni, _ := n.IntByName("i")
	nl, _ := n.LongByName("l")
	nr, _ := n.RealByName("r")
	nd, _ := n.DateTimeByName("d")
	nt, _ := n.TimespanByName("t")
	ng, _ := n.GuidByName("g")
	ndyn, _ := n.DynamicByName("dyn")
	if nb != nil || ni != nil || nl != nil || nr != nil || nd != nil || nt != nil || ng != nil || (ndyn != nil && string(ndyn) != "null") {
		t.Errorf("%s: the nulls read as %v, %v, %v, %v, %v, %v, %v, %s", via, nb, ni, nl, nr, nd, nt, ng, ndyn)
	}
}

// TestGoSDKTypes: every Kusto type, read typed through v1 (Mgmt), v2 (Query) and v2 read
// row by row (IterativeQuery).
func TestGoSDKTypes(t *testing.T) {
	s := startServer(t, serverConfig{})
	c := connect(t, s)
	checkTypes(t, "v1", mgmt(t, c, allTypes))

	ds, err := c.Query(context.Background(), db, kql.New("").AddUnsafe(allTypes))
	if err != nil {
		t.Fatal(err)
	}
	checkTypes(t, "v2", ds.Tables()[0].Rows())

	it, err := c.IterativeQuery(context.Background(), db, kql.New("").AddUnsafe(allTypes))
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var rows []query.Row
	for res := range it.Tables() {
		if res.Err() != nil {
			t.Fatal(res.Err())
		}
		if !res.Table().IsPrimaryResult() {
			continue
		}
		for rr := range res.Table().Rows() {
			if rr.Err() != nil {
				t.Fatal(rr.Err())
			}
			rows = append(rows, rr.Row())
		}
	}
	checkTypes(t, "v2 iterative", rows)
}

// TestGoSDKParameters: a query with parameters from the SDK's builder, which declares them
// and sends their values as literals.
func TestGoSDKParameters(t *testing.T) {
	s := startServer(t, serverConfig{})
	c := connect(t, s)
	params := kql.NewParameters().
		AddLong("lo", 3).
		AddString("name", `it's "quoted"`).
		AddDateTime("at", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)).
		AddTimespan("span", 90*time.Minute).
		AddBool("flag", true).
		AddReal("ratio", 0.25)
	q := kql.New("range x from 1 to 5 step 1 | where x >= lo | summarize n = count() | extend name = name, at = at, span = span, flag = flag, ratio = ratio")
	ds, err := c.Query(context.Background(), db, q, azkustodata.QueryParameters(params))
	if err != nil {
		t.Fatal(err)
	}
	r := ds.Tables()[0].Rows()[0]
	n, _ := r.LongByName("n")
	at, _ := r.DateTimeByName("at")
	span, _ := r.TimespanByName("span")
	flag, _ := r.BoolByName("flag")
	ratio, _ := r.RealByName("ratio")
	if n == nil || *n != 3 || str(t, r, "name") != `it's "quoted"` || at == nil || !at.Equal(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)) ||
		span == nil || *span != 90*time.Minute || flag == nil || !*flag || ratio == nil || *ratio != 0.25 {
		t.Errorf("parameterized query: %v", r)
	}
}

// TestGoSDKCancelQuery: a running query canceled with .cancel query by its client request id;
// its client gets Kusto's query-canceled error with the reason, and .show queries shows it
// Canceled.
func TestGoSDKCancelQuery(t *testing.T) {
	s := startServer(t, serverConfig{})
	c := connect(t, s)
	const crid = "compat.cancel;1"
	ended := make(chan error, 1)
	go func() {
		ended <- func() error {
			it, err := c.IterativeQuery(context.Background(), db, kql.New("").AddUnsafe(forever), azkustodata.ClientRequestID(crid))
			if err != nil {
				return err
			}
			defer it.Close()
			var queryErr error
			for res := range it.Tables() {
				if res.Err() != nil {
					queryErr = res.Err()
					continue
				}
				for rr := range res.Table().Rows() {
					if rr.Err() != nil {
						queryErr = rr.Err()
					}
				}
			}
			return queryErr
		}()
	}()

	// The query is running once .show queries says so: poll it, as an operator would.
	running := `.show queries | where ClientActivityId == "` + crid + `" and State == "InProgress"`
	eventually(t, "the query InProgress in .show queries", func() bool {
		select {
		case err := <-ended:
			t.Fatalf("the query ended before it was canceled: %v", err)
		default:
		}
		return len(mgmt(t, c, running)) == 1
	})
	rows := mgmt(t, c, `.cancel query "`+crid+`" with (reason = "compat: stop")`)
	if len(rows) != 1 || str(t, rows[0], "ClientActivityId") != crid || str(t, rows[0], "ReasonPhrase") != "compat: stop" {
		t.Errorf(".cancel query: %v", rows)
	}
	select {
	case queryErr := <-ended:
		if queryErr == nil || !strings.Contains(queryErr.Error(), "compat: stop") {
			t.Errorf("the canceled query's error: %v", queryErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the canceled query's client did not end within 30 s")
	}
	rows = mgmt(t, c, `.show queries | where ClientActivityId == "`+crid+`"`)
	if len(rows) != 1 || str(t, rows[0], "State") != "Canceled" || !strings.Contains(str(t, rows[0], "FailureReason"), "compat: stop") {
		t.Errorf(".show queries: %v", rows)
	}
}

// TestGoSDKHTTPS: the same client over HTTPS with the self-signed certificate trusted, without
// and with a bearer token (the SDK refuses to send a token over plain HTTP).
func TestGoSDKHTTPS(t *testing.T) {
	s := startServer(t, serverConfig{https: true})
	c := connect(t, s)
	if rows := mgmt(t, c, ".show version"); len(rows) != 1 {
		t.Errorf(".show version over HTTPS: %v", rows)
	}

	const token = "compat-token"
	s = startServer(t, serverConfig{https: true, token: token})
	good, err := azkustodata.New(azkustodata.NewConnectionStringBuilder(s.URL).WithApplicationToken("kustard", token), azkustodata.WithHttpClient(s.Client))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	ds, err := good.Query(context.Background(), db, kql.New("print x = 42"))
	if err != nil {
		t.Fatalf("with the right token: %v", err)
	}
	if x, _ := ds.Tables()[0].Rows()[0].LongByName("x"); x == nil || *x != 42 {
		t.Errorf("with the right token: %v", ds.Tables()[0].Rows())
	}

	bad, err := azkustodata.New(azkustodata.NewConnectionStringBuilder(s.URL).WithApplicationToken("kustard", "wrong"), azkustodata.WithHttpClient(s.Client))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, err = bad.Mgmt(context.Background(), db, kql.New(".show version"))
	var httpErr *kerrors.HttpError
	if !errors.As(err, &httpErr) || httpErr.StatusCode != 401 {
		t.Fatalf("with a wrong token: %T %v", err, err)
	}
	if !strings.Contains(err.Error(), "Unauthorized") {
		t.Errorf("the SDK's error does not carry Kusto's code: %v", err)
	}

	// No token at all: the server asks for one.
	none, err := azkustodata.New(azkustodata.NewConnectionStringBuilder(s.URL), azkustodata.WithHttpClient(s.Client))
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if _, err := none.Mgmt(context.Background(), db, kql.New(".show version")); !errors.As(err, &httpErr) || httpErr.StatusCode != 401 {
		t.Errorf("without a token: %v", err)
	}

	plain, err := azkustodata.New(azkustodata.NewConnectionStringBuilder(strings.Replace(s.URL, "https://", "http://", 1)).WithApplicationToken("kustard", token))
	if err == nil {
		_, err = plain.Mgmt(context.Background(), db, kql.New(".show version"))
		plain.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Errorf("the SDK sent a token over plain HTTP: %v", err)
	}
}
