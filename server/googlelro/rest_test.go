package googlelro

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/internal/servertest"
	"github.com/kustard/kustard/ops"
)

// restTranscript sends requests and records each with its response, for a golden file; after
// each, the server must still list operations, so that no bad request harms it.
type restTranscript struct {
	t   *testing.T
	srv *httptest.Server
	out bytes.Buffer
}

func (tr *restTranscript) do(title, method, path, body string, header ...string) (int, string) {
	tr.t.Helper()
	resp, text := servertest.Send(tr.t, tr.srv, method, path, body, header...)
	data := []byte(text)
	fmt.Fprintf(&tr.out, "### %s\n%s %s\n", title, method, path)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&tr.out, "%s: %s\n", header[i], header[i+1])
	}
	if body != "" {
		fmt.Fprintf(&tr.out, "%s\n", body)
	}
	fmt.Fprintf(&tr.out, "----\n%d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
		tr.t.Errorf("%s: Content-Type %q", title, ct)
	}
	fmt.Fprintf(&tr.out, "%s\n\n", strings.TrimSuffix(string(data), "\n"))
	if !json.Valid(data) {
		tr.t.Errorf("%s: the body is not JSON: %s", title, data)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct {
				Code   int
				Status string
			}
		}
		if json.Unmarshal(data, &e) != nil || e.Error.Code != resp.StatusCode || e.Error.Status == "" {
			tr.t.Errorf("%s: not Google's error body with code %d: %s", title, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, string(data)
}

func TestRESTSurface(t *testing.T) {
	eng := newEngine(t)
	release1 := servertest.SlowStream(t, eng, "Slow1")
	release2 := servertest.SlowStream(t, eng, "Slow2")
	servertest.Run(t, eng, ".create table T (x:long)")             // operation 1: TableCreate
	servertest.Run(t, eng, ".set-or-append T <| print x=1")        // 2: succeeds
	long := startAsync(t, eng, ".set-or-append async T <| Slow1")  // 3: running
	other := startAsync(t, eng, ".set-or-append async T <| Slow2") // 4: running
	created, done := uuid.MustParse("00000000-0000-0000-0000-000000000001"), uuid.MustParse("00000000-0000-0000-0000-000000000002")
	srv := httptest.NewServer(New(eng, Options{}).REST())
	t.Cleanup(srv.Close)
	tr := &restTranscript{t: t, srv: srv}
	project := "/v1/projects/NetDefaultDB/locations/local/operations"

	tr.do("list every operation, Cloud Channel's template", "GET", "/v1/operations", "")
	_, body := tr.do("the first page of two", "GET", "/v1/operations?pageSize=2", "")
	var page struct{ NextPageToken string }
	if err := json.Unmarshal([]byte(body), &page); err != nil || page.NextPageToken == "" {
		t.Fatalf("no next page token: %s", body)
	}
	_, body = tr.do("the second page, the last", "GET", "/v1/operations?pageSize=2&pageToken="+page.NextPageToken, "")
	if strings.Contains(body, "nextPageToken") {
		t.Errorf("the last page has a next page token: %s", body)
	}
	tr.do("filter: live operations", "GET", "/v1/operations?filter="+url.QueryEscape("done = false"), "")
	tr.do("filter: ended ingests", "GET", "/v1/operations?filter="+url.QueryEscape(`metadata.kind = "TableSetOrAppend" AND done = true`), "")
	tr.do("list, Data Fusion's template: project-style names", "GET", project+"?pageSize=1", "")
	tr.do("list every database's operations", "GET", "/v1/projects/-/locations/-/operations?filter="+url.QueryEscape("done=true"), "")
	tr.do("list another database: none", "GET", "/v1/projects/Other/locations/local/operations", "")
	tr.do("get a succeeded ingest: its extents", "GET", project+"/"+done.String(), "")
	tr.do("get a running ingest", "GET", "/v1/operations/"+long.String(), "")

	tr.do("cancel a running ingest, with the body Google's REST client sends", "POST", "/v1/operations/"+long.String()+":cancel", `{"name":"operations/`+long.String()+`"}`)
	tr.do("cancel again while it is pending: accepted", "POST", project+"/"+long.String()+":cancel", "")
	tr.do("cancel requested, not yet done", "GET", "/v1/operations/"+long.String(), "")
	release1()
	if s := servertest.WaitDone(t, eng, long); s.State != ops.Canceled {
		t.Fatalf("the canceled ingest ended %v", s.State)
	}
	if state, status := servertest.KustoState(t, eng, long); state != "Canceled" || status != CancelReason {
		t.Errorf(".show operations shows %s %q; want Canceled with the reason", state, status)
	}
	tr.do("canceled: error code 1 with the reason", "GET", "/v1/operations/"+long.String(), "")
	tr.do("cancel a finished operation", "POST", "/v1/operations/"+long.String()+":cancel", "{}")
	tr.do("cancel an operation whose kind cannot be canceled", "POST", "/v1/operations/"+created.String()+":cancel", "")
	tr.do("delete a running operation: refused, and not canceled", "DELETE", "/v1/operations/"+other.String(), "")
	tr.do("delete a finished one", "DELETE", "/v1/operations/"+long.String(), "")
	tr.do("deleted: gone from this surface", "GET", "/v1/operations/"+long.String(), "")
	tr.do("deleted: not listed", "GET", "/v1/operations?filter="+url.QueryEscape("done = true"), "")
	if state, _ := servertest.KustoState(t, eng, long); state != "Canceled" {
		t.Errorf("after a Google delete, .show operations shows %s; want it still there, Canceled", state)
	}
	if s, _ := eng.Ops().Get(other); s.State != ops.Running || len(s.Cancels) != 0 {
		t.Errorf("a refused delete changed the operation: %v, cancels %v", s.State, s.Cancels)
	}

	// Bad input: each the right status and body.
	tr.do("malformed: no id", "POST", "/v1/operations:cancel", "")
	tr.do("malformed: not a GUID", "GET", "/v1/operations/not-a-guid", "")
	tr.do("malformed: extra segments", "GET", "/v1/operations/"+other.String()+"/extra", "")
	tr.do("malformed: extra segments, project style", "GET", project+"/"+other.String()+"/extra", "")
	tr.do("malformed: an encoded slash", "GET", "/v1/operations/a%2Fb", "")
	tr.do("unknown operation", "GET", "/v1/operations/00000000-0000-0000-0000-0000000000ff", "")
	tr.do("another database's name for it", "GET", "/v1/projects/Other/locations/local/operations/"+other.String(), "")
	tr.do("unknown location", "GET", "/v1/projects/NetDefaultDB/locations/us-central1/operations/"+other.String(), "")
	tr.do("cancel body with another field", "POST", "/v1/operations/"+other.String()+":cancel", `{"name":"operations/`+other.String()+`","force":true}`)
	tr.do("cancel body with another name", "POST", "/v1/operations/"+other.String()+":cancel", `{"name":"operations/`+long.String()+`"}`)
	tr.do("cancel body that is not an object", "POST", "/v1/operations/"+other.String()+":cancel", `[1]`)
	tr.do("wrong method", "PUT", "/v1/operations/"+other.String(), "")
	tr.do("cancel with GET", "GET", "/v1/operations/"+other.String()+":cancel", "")
	tr.do("an unknown verb", "POST", "/v1/operations/"+other.String()+":wait", "")
	tr.do("a path of no method", "GET", "/v1/projects/NetDefaultDB/locations", "")
	tr.do("a page token not issued here", "GET", "/v1/operations?pageToken=bogus", "")
	tr.do("a page token for another filter", "GET", "/v1/operations?filter=done%3Dtrue&pageToken="+page.NextPageToken, "")
	tr.do("a negative page size", "GET", "/v1/operations?pageSize=-1", "")
	tr.do("a page size that is not a number", "GET", "/v1/operations?pageSize=ten", "")
	tr.do("an unsupported filter field", "GET", "/v1/operations?filter="+url.QueryEscape(`state = "Running"`), "")
	tr.do("an unsupported filter operator", "GET", "/v1/operations?filter="+url.QueryEscape(`done = true OR done = false`), "")
	tr.do("a filter string not closed", "GET", "/v1/operations?filter="+url.QueryEscape(`metadata.kind = "Table`), "")
	tr.do("returnPartialSuccess", "GET", "/v1/operations?returnPartialSuccess=true", "")
	tr.do("an unknown query parameter", "GET", "/v1/operations/"+other.String()+"?view=full", "")
	tr.do("WaitOperation over REST, as Google's REST client tries it", "GET", "/?name=operations%2F"+other.String()+"&timeout=1s", "")
	release2()
	servertest.WaitDone(t, eng, other)
	servertest.Run(t, eng, `.set-or-append T with (tags = '["ingest-by:a"]') <| print x=2`)    // 5
	servertest.Run(t, eng, `.set-or-append T with (ingestIfNotExists = '["a"]') <| print x=3`) // 6: Skipped
	tr.do("get a skipped ingest: a success with no extents", "GET", "/v1/operations/00000000-0000-0000-0000-000000000006", "")
	tr.do("the server is unharmed", "GET", "/v1/operations?filter="+url.QueryEscape("done = false"), "")
	golden(t, "rest", tr.out.String())
}

func TestRESTBearerToken(t *testing.T) {
	eng := newEngine(t)
	srv := httptest.NewServer(New(eng, Options{AuthToken: "s3cret"}).REST())
	t.Cleanup(srv.Close)
	tr := &restTranscript{t: t, srv: srv}
	tr.do("no token", "GET", "/v1/operations", "")
	tr.do("a wrong token", "GET", "/v1/operations", "", "Authorization", "Bearer nope")
	if code, _ := tr.do("the token", "GET", "/v1/operations", "", "Authorization", "Bearer s3cret"); code != http.StatusOK {
		t.Errorf("with the token: %d", code)
	}
	golden(t, "rest-token", tr.out.String())
}

func TestOwns(t *testing.T) {
	for path, want := range map[string]bool{
		"/v1/operations": true, "/v1/operations/x": true, "/v1/operations:cancel": true, "/v1/projects/p": true,
		"/?name=operations/x": true, "/": false, "/v1/rest/query": false, "/v1/operationsX": false, "/v2/operations": false,
	} {
		r := httptest.NewRequest("GET", path, nil)
		if got := Owns(r); got != want {
			t.Errorf("Owns(%s) = %v; want %v", path, got, want)
		}
	}
}
