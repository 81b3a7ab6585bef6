package azuresql

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/internal/servertest"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/server/httpmw"
)

const (
	base    = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Sql/servers/testsvr/databases/"
	version = "?api-version=2021-02-01-preview"
)

func opID(n byte) uuid.UUID { return uuid.UUID{15: n} }

func listPath(db string) string { return base + db + "/operations" + version }
func cancelPath(db string, id any) string {
	return base + db + "/operations/" + toString(id) + "/cancel" + version
}

func toString(id any) string {
	if u, ok := id.(uuid.UUID); ok {
		return u.String()
	}
	return id.(string)
}

// page is a DatabaseOperationListResult, as far as the tests read it.
type page struct {
	Value []struct {
		Name       string
		Properties struct {
			State           string
			PercentComplete int
			IsCancellable   bool
		}
	}
	NextLink string
}

func parsePage(t *testing.T, body string) page {
	t.Helper()
	var p page
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("not a list result: %v: %s", err, body)
	}
	return p
}

// TestSurface drives both calls through every state and every refusal, into a golden file.
func TestSurface(t *testing.T) {
	eng := newEngine(t)
	release1 := servertest.SlowStream(t, eng, "Slow1")
	servertest.SlowStream(t, eng, "Slow2")
	createDatabase(t, eng, "Other")
	servertest.Run(t, eng, ".create table T (x:long)")                                                         // 1: TableCreate
	servertest.Run(t, eng, ".set-or-append T <| range x from 1 to 10 step 1")                                  // 2: Succeeded
	if _, err := servertest.Exec(eng, engine.DefaultDatabase, `.set-or-append T <| print y="a"`); err == nil { // 3: BadInput
		t.Fatal("a schema mismatch was accepted")
	}
	elsewhere := startAsync(t, eng, "Other", ".set-or-append U <| print x=1")               // 4: another database
	long := startAsync(t, eng, engine.DefaultDatabase, ".set-or-append async T <| Slow1")   // 5: Running
	queued := startAsync(t, eng, engine.DefaultDatabase, ".set-or-append async T <| Slow2") // 6: Scheduled (capacity 1)
	created, done, bad, elsewhere := opID(1), opID(2), opID(3), opID(4)

	srv := httptest.NewServer(New(eng, Options{PageSize: 2}).Handler())
	t.Cleanup(srv.Close)
	tr := &transcript{t: t, srv: srv, eng: eng}
	db := engine.DefaultDatabase

	// Paging: five operations, pages of two, each nextLink followed as Azure's pager does.
	_, body := tr.do("list: the first page of two", "GET", listPath(db))
	p := parsePage(t, body)
	var names []string
	for n := 1; ; n++ {
		for _, v := range p.Value {
			names = append(names, v.Name)
		}
		if p.NextLink == "" {
			break
		}
		if !strings.HasPrefix(p.NextLink, srv.URL+"/") {
			t.Fatalf("nextLink %q is not an absolute URL of this server", p.NextLink)
		}
		_, body = tr.do("list: the page after", "GET", strings.TrimPrefix(p.NextLink, srv.URL))
		p = parsePage(t, body)
		if n > 5 {
			t.Fatal("the pages do not end")
		}
	}
	if len(names) != 5 || names[3] != long.String() || names[4] != queued.String() {
		t.Errorf("the pages hold %v; want operations 1 to 5, in order", names)
	}
	tr.do("list another database: only its own", "GET", listPath("Other"))

	tr.do("cancel a Scheduled ingest", "POST", cancelPath(db, queued))
	if s := servertest.WaitDone(t, eng, queued); s.State != ops.Canceled {
		t.Fatalf("the canceled Scheduled ingest ended %v", s.State)
	}
	tr.do("cancel a running ingest", "POST", cancelPath(db, long))
	_, body = tr.do("requested, not yet stopped: CancelInProgress, no longer cancellable", "GET", base+db+"/operations?api-version=2025-01-01&$skipToken="+secondPage(t, eng))
	if p := parsePage(t, body); len(p.Value) != 2 || p.Value[1].Name != long.String() || p.Value[1].Properties.State != "CancelInProgress" || p.Value[1].Properties.IsCancellable {
		t.Errorf("a cancel requested of a running ingest: %s", body)
	}
	tr.do("cancel again while it is cancelling: 409", "POST", cancelPath(db, long))
	release1()
	if s := servertest.WaitDone(t, eng, long); s.State != ops.Canceled {
		t.Fatalf("the canceled ingest ended %v", s.State)
	}
	if state, status := servertest.KustoState(t, eng, long); state != "Canceled" || status != CancelReason {
		t.Errorf(".show operations shows %s %q; want Canceled with the reason", state, status)
	}
	_, body = tr.do("stopped: Cancelled, Kusto's Canceled", "GET", base+db+"/operations?api-version=2025-01-01&$skipToken="+secondPage(t, eng))
	if p := parsePage(t, body); len(p.Value) != 2 || p.Value[1].Properties.State != "Cancelled" {
		t.Errorf("a canceled ingest: %s", body)
	}

	tr.do("cancel a finished operation: 409", "POST", cancelPath(db, done))
	tr.do("cancel an operation whose kind cannot be cancelled: 409", "POST", cancelPath(db, created))
	tr.do("cancel an operation that ended BadInput: 409", "POST", cancelPath(db, bad))
	tr.do("cancel an unknown operation: 404", "POST", cancelPath(db, "00000000-0000-0000-0000-0000000000ff"))
	tr.do("cancel another database's operation: 404", "POST", cancelPath(db, elsewhere))
	tr.do("cancel it in its own database: finished, 409", "POST", cancelPath("Other", elsewhere))

	// Bad input.
	tr.do("no api-version", "GET", base+db+"/operations")
	tr.do("an empty api-version", "POST", base+db+"/operations/"+long.String()+"/cancel?api-version=")
	tr.do("an unknown api-version", "GET", base+db+"/operations?api-version=2099-01-01")
	tr.do("an operationId that is not a GUID", "POST", cancelPath(db, "not-a-guid"))
	tr.do("an operationId with braces", "POST", cancelPath(db, "{"+long.String()+"}"))
	tr.do("an unknown database", "GET", listPath("Nope"))
	tr.do("cancel in an unknown database", "POST", cancelPath("Nope", long))
	tr.do("a $skipToken not issued here", "GET", listPath(db)+"&$skipToken=bogus")
	tr.do("another database's $skipToken", "GET", listPath("Other")+"&$skipToken="+secondPage(t, eng))
	tr.do("GET one operation: the API has none", "GET", base+db+"/operations/"+long.String()+version)
	tr.do("cancel with GET", "GET", cancelPath(db, long))
	tr.do("list with DELETE", "DELETE", listPath(db))
	tr.do("an unknown action", "POST", base+db+"/operations/"+long.String()+"/pause"+version)
	tr.do("elastic pool operations: not served", "GET", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/testsvr/elasticPools/p/operations"+version)
	tr.do("another resource provider", "GET", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"+version)
	tr.do("a path of no resource", "GET", "/subscriptions/s/resourceGroups"+version)
	tr.do("an empty segment", "GET", "/subscriptions/s/resourceGroups//providers/Microsoft.Sql/servers/testsvr/databases/"+db+"/operations"+version)
	tr.do("fixed segments in another case, as ARM accepts", "GET", "/SUBSCRIPTIONS/s/resourcegroups/rg/PROVIDERS/microsoft.sql/Servers/testsvr/Databases/Other/Operations"+version)

	_, body = tr.do("the server is unharmed", "GET", listPath("Other"))
	if p := parsePage(t, body); len(p.Value) != 1 || p.Value[0].Properties.State != "Succeeded" || p.Value[0].Properties.PercentComplete != 100 {
		t.Errorf("after the bad requests: %s", body)
	}
	golden(t, "surface", tr.out.String())
}

// secondPage is the $skipToken of NetDefaultDB's second page of two, which holds operations 3
// and 5 (4 is another database's).
func secondPage(t *testing.T, eng *engine.Engine) string {
	t.Helper()
	_, token, err := eng.Ops().List(ops.Filter{Scopes: []string{engine.DefaultDatabase}}, 2, "")
	if err != nil || token == "" {
		t.Fatalf("no second page: %v", err)
	}
	return token
}

// TestStateMapping is the ManagementOperationState, percentComplete, estimatedCompletionTime and
// isCancellable of each kind of snapshot.
func TestStateMapping(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	now := start.Add(10 * time.Second)
	ingest := ops.Kind{Name: "TableSetOrAppend", Cancellable: true}
	cancel := []ops.Cancellation{{At: start, Reason: "r", Origin: Surface}}
	for _, tc := range []struct {
		name        string
		snap        ops.Snapshot
		state       State
		percent     int32
		eta         string // "" for none
		cancellable bool
		userError   *bool
	}{
		{"scheduled", ops.Snapshot{Kind: ingest, State: ops.Scheduled}, Pending, 0, "", true, nil},
		{"scheduled, cancel requested", ops.Snapshot{Kind: ingest, State: ops.Scheduled, Cancels: cancel}, CancelInProgress, 0, "", false, nil},
		{"running, size unknown", ops.Snapshot{Kind: ingest, State: ops.Running, Progress: ops.Progress{Done: 500}}, InProgress, 0, "", true, nil},
		{"running, a quarter of a known size", ops.Snapshot{Kind: ingest, State: ops.Running, Progress: ops.Progress{Done: 250, Total: 1000}}, InProgress, 25, "2024-01-01T00:00:40Z", true, nil},
		{"running, every row built, not committed", ops.Snapshot{Kind: ingest, State: ops.Running, Progress: ops.Progress{Done: 1000, Total: 1000}}, InProgress, 99, "2024-01-01T00:00:10Z", true, nil},
		{"running, nothing built yet", ops.Snapshot{Kind: ingest, State: ops.Running, Progress: ops.Progress{Total: 1000}}, InProgress, 0, "", true, nil},
		{"running, cancel requested", ops.Snapshot{Kind: ingest, State: ops.Running, Cancels: cancel, Progress: ops.Progress{Done: 1, Total: 2}}, CancelInProgress, 50, "2024-01-01T00:00:20Z", false, nil},
		{"succeeded, size unknown", ops.Snapshot{Kind: ingest, State: ops.Succeeded}, Succeeded, 100, "", false, nil},
		{"succeeded after a cancel came too late", ops.Snapshot{Kind: ingest, State: ops.Succeeded, Cancels: cancel}, Succeeded, 100, "", false, nil},
		{"skipped", ops.Snapshot{Kind: ingest, State: ops.Skipped}, Succeeded, 100, "", false, nil},
		{"partially succeeded", ops.Snapshot{Kind: ingest, State: ops.PartiallySucceeded}, Succeeded, 100, "", false, nil},
		{"canceled by a client", ops.Snapshot{Kind: ingest, State: ops.Canceled, Err: &ops.CanceledError{Origin: "kusto"}, Progress: ops.Progress{Done: 3, Total: 10}}, Cancelled, 30, "", false, ptr(true)},
		{"canceled at shutdown", ops.Snapshot{Kind: ingest, State: ops.Canceled, Err: &ops.CanceledError{Origin: "shutdown"}}, Cancelled, 0, "", false, ptr(false)},
		{"failed", ops.Snapshot{Kind: ingest, State: ops.Failed, Err: errors.New("disk full")}, Failed, 0, "", false, ptr(false)},
		{"failed past a limit", ops.Snapshot{Kind: ingest, State: ops.Failed, Err: &kusto.Error{Kind: kusto.KindLimits, Msg: "too big"}}, Failed, 0, "", false, ptr(true)},
		{"bad input", ops.Snapshot{Kind: ingest, State: ops.BadInput, Err: errors.New("no such column")}, Failed, 0, "", false, ptr(true)},
		{"abandoned", ops.Snapshot{Kind: ingest, State: ops.Abandoned, Err: errors.New("shutting down")}, Failed, 0, "", false, ptr(false)},
		{"throttled", ops.Snapshot{Kind: ingest, State: ops.Throttled, Err: errors.New("busy")}, Failed, 0, "", false, ptr(false)},
		{"a kind that cannot be canceled, running", ops.Snapshot{Kind: ops.Kind{Name: "TableCreate"}, State: ops.Running}, InProgress, 0, "", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.snap.Created = start
			tc.snap.Scope = "db"
			got := resource(scope{server: "s"}, tc.snap, now).Properties
			eta := ""
			if got.EstimatedCompletionTime != nil {
				eta = *got.EstimatedCompletionTime
			}
			if got.State != tc.state || got.PercentComplete != tc.percent || eta != tc.eta || got.IsCancellable != tc.cancellable {
				t.Errorf("state %s, percent %d, eta %q, cancellable %v; want %s, %d, %q, %v",
					got.State, got.PercentComplete, eta, got.IsCancellable, tc.state, tc.percent, tc.eta, tc.cancellable)
			}
			switch {
			case (got.IsUserError == nil) != (tc.userError == nil):
				t.Errorf("isUserError %v; want %v", got.IsUserError, tc.userError)
			case got.IsUserError != nil && *got.IsUserError != *tc.userError:
				t.Errorf("isUserError %v; want %v", *got.IsUserError, *tc.userError)
			case got.IsUserError != nil && (got.ErrorCode == nil || got.ErrorDescription == nil || got.ErrorSeverity == nil):
				t.Errorf("an ended operation with an error lacks errorCode, errorDescription or errorSeverity: %+v", got)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestConfiguredScope: a configured subscription, resource group and server are the only ones
// served (matched case-insensitively, as ARM's names are); others get ARM's 404s.
func TestConfiguredScope(t *testing.T) {
	eng := newEngine(t)
	srv := httptest.NewServer(New(eng, Options{Subscription: "00000000-1111-2222-3333-444444444444", ResourceGroup: "rg", Server: "testsvr"}).Handler())
	t.Cleanup(srv.Close)
	tr := &transcript{t: t, srv: srv, eng: eng}
	tr.do("the configured names", "GET", listPath(engine.DefaultDatabase))
	tr.do("the configured names in another case", "GET", strings.ToUpper(base[:len("/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg")])+base[len("/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg"):]+engine.DefaultDatabase+"/operations"+version)
	tr.do("another subscription", "GET", strings.Replace(listPath(engine.DefaultDatabase), "00000000-1111", "99999999-1111", 1))
	tr.do("another resource group", "GET", strings.Replace(listPath(engine.DefaultDatabase), "/rg/", "/other-rg/", 1))
	tr.do("another server", "POST", strings.Replace(cancelPath(engine.DefaultDatabase, opID(1)), "testsvr", "othersvr", 1))
	golden(t, "scope", tr.out.String())
}

// TestBearerToken: with a token, a request needs it; ARM's 401 codes otherwise.
func TestBearerToken(t *testing.T) {
	eng := newEngine(t)
	srv := httptest.NewServer(New(eng, Options{AuthToken: "s3cret"}).Handler())
	t.Cleanup(srv.Close)
	tr := &transcript{t: t, srv: srv, eng: eng}
	tr.do("no token", "GET", listPath(engine.DefaultDatabase))
	tr.do("a wrong token", "GET", listPath(engine.DefaultDatabase), "Authorization", "Bearer nope")
	if code, _ := tr.do("the token", "GET", listPath(engine.DefaultDatabase), "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("with the token: %d", code)
	}
	golden(t, "token", tr.out.String())
}

// TestLimiter: past the shared pool of concurrent requests, 429 with Retry-After; the slot is
// given back after each request.
func TestLimiter(t *testing.T) {
	eng := newEngine(t)
	l := httpmw.NewLimiter(1, 2*time.Second)
	srv := httptest.NewServer(New(eng, Options{Limiter: l}).Handler())
	t.Cleanup(srv.Close)
	tr := &transcript{t: t, srv: srv, eng: eng}
	if !l.TryAcquire() {
		t.Fatal("the pool is full before any request")
	}
	tr.do("the pool is full", "GET", listPath(engine.DefaultDatabase))
	l.Release()
	if code, _ := tr.do("a slot is free", "GET", listPath(engine.DefaultDatabase)); code != 200 {
		t.Errorf("with a free slot: %d", code)
	}
	if !l.TryAcquire() {
		t.Error("a request kept its slot")
	}
	golden(t, "limit", tr.out.String())
}

func TestOwns(t *testing.T) {
	for path, want := range map[string]bool{
		"/subscriptions": true, "/subscriptions/x/resourceGroups/rg": true, "/Subscriptions/x": true,
		"/v1/rest/query": false, "/subscriptionsX": false, "/v1/operations": false, "/": false,
	} {
		if got := Owns(httptest.NewRequest("GET", path, nil)); got != want {
			t.Errorf("Owns(%s) = %v; want %v", path, got, want)
		}
	}
}

// TestLogRecord: the request log names the API, the database and ARM's error code.
func TestLogRecord(t *testing.T) {
	eng := newEngine(t)
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == "time" || a.Key == "duration" {
			return slog.Attr{}
		}
		return a
	}}))
	srv := httptest.NewServer(httpmw.Logged(New(eng, Options{}).Handler(), httpmw.LogOptions{Logger: logger}))
	t.Cleanup(srv.Close)
	tr := &transcript{t: t, srv: srv, eng: eng}
	tr.do("a list", "GET", listPath(engine.DefaultDatabase))
	tr.do("a cancel refused", "POST", cancelPath(engine.DefaultDatabase, opID(9)))
	for _, want := range []string{"kind=sql.ListByDatabase db=NetDefaultDB status=200", "kind=sql.Cancel db=NetDefaultDB status=404 error=OperationIdNotFound"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestConcurrentCancels: of cancels of one running ingest sent at once, one is accepted and the
// others are 409, whatever their order; the ingest then ends Cancelled.
func TestConcurrentCancels(t *testing.T) {
	eng := newEngine(t)
	release := servertest.SlowStream(t, eng, "Slow")
	long := startAsync(t, eng, engine.DefaultDatabase, ".set-or-append async T <| Slow")
	srv := httptest.NewServer(New(eng, Options{}).Handler())
	t.Cleanup(srv.Close)
	const n = 8
	start := make(chan struct{})
	codes := make(chan int, n)
	for range n {
		go func() {
			<-start
			resp, err := srv.Client().Post(srv.URL+cancelPath(engine.DefaultDatabase, long), "", nil)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	close(start)
	count := map[int]int{}
	for range n {
		count[<-codes]++
	}
	if count[200] != 1 || count[409] != n-1 {
		t.Errorf("statuses %v; want one 200 and %d 409", count, n-1)
	}
	release()
	if s := servertest.WaitDone(t, eng, long); s.State != ops.Canceled || len(s.Cancels) != 1 {
		t.Errorf("ended %v with %d cancel requests; want Canceled with one", s.State, len(s.Cancels))
	}
}
