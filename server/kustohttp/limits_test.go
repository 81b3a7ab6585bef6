package kustohttp

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// holdQuery starts a v2 query of Gated and returns once its first fragment has arrived, so that
// the request is in flight, held by the gate; the returned function reads the rest.
func holdQuery(t *testing.T, url string, client *http.Client) func() string {
	t.Helper()
	body := `{"csl":"Gated","properties":{"Options":{"results_v2_fragment_primary_tables":true,"results_v2_newlines_between_frames":true}}}`
	resp, err := client.Post(url+"/v2/rest/query", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	for range 4 { // DataSetHeader, QueryProperties, TableHeader, the first fragment
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	return func() string {
		defer resp.Body.Close()
		rest, _ := io.ReadAll(r)
		return string(rest)
	}
}

// TestConcurrencyCap: with two requests held open at a cap of two, a flood of others gets 429
// with Kusto's throttling error and Retry-After, the health check still answers, the held ones
// then finish whole, and the server answers again.
func TestConcurrencyCap(t *testing.T) {
	srv, eng := newTestServerWith(t, Options{MaxConcurrentRequests: 2})
	gate := gatedStream(eng)
	rest := []func() string{holdQuery(t, srv.URL, srv.Client()), holdQuery(t, srv.URL, srv.Client())}

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := exchange{path: "/v1/rest/mgmt", body: `{"csl":".show version"}`}
			if i%2 == 1 {
				x = exchange{path: "/v2/rest/query", body: `{"csl":"print 1"}`}
			}
			resp, body := do(t, srv, x)
			var e struct {
				Error struct {
					Code      string `json:"code"`
					Type      string `json:"@type"`
					Message   string `json:"@message"`
					Permanent bool   `json:"@permanent"`
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Errorf("request %d: %s %v", i, body, err)
				return
			}
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
				e.Error.Code != "TooManyRequests" || e.Error.Type != "Kusto.Data.Exceptions.KustoRequestThrottledException" ||
				e.Error.Permanent || !strings.Contains(e.Error.Message, "already serving 2 requests") {
				t.Errorf("request %d past the cap: %s Retry-After %q %s", i, resp.Status, resp.Header.Get("Retry-After"), body)
			}
		}()
	}
	wg.Wait()
	if resp, _ := do(t, srv, exchange{method: "GET", path: "/v1/rest/ping"}); resp.StatusCode != http.StatusOK {
		t.Errorf("the health check of a throttled server: %s", resp.Status)
	}
	close(gate)
	for i, r := range rest {
		if got := r(); !strings.Contains(got, `"RowCount":2`) || !strings.Contains(got, `"HasErrors":false`) {
			t.Errorf("held request %d: %q", i, got)
		}
	}
	if resp, body := do(t, srv, exchange{path: "/v1/rest/mgmt", body: `{"csl":".show version"}`}); resp.StatusCode != http.StatusOK {
		t.Errorf("after the flood: %s %s", resp.Status, body)
	}
}

// TestBodyLimit: a body past the limit gets 413 in Kusto's shape, and the server goes on.
func TestBodyLimit(t *testing.T) {
	srv, _ := newTestServerWith(t, Options{MaxBodyBytes: 1 << 10})
	big := `{"csl":"print s = '` + strings.Repeat("x", 2<<10) + `'"}`
	resp, body := do(t, srv, exchange{path: "/v2/rest/query", body: big})
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than the server's limit of 1024 bytes") ||
		!strings.Contains(body, `"@type":"Kusto.Data.Exceptions.KustoRequestPayloadTooLargeException"`) || !strings.Contains(body, `"code":"PayloadTooLarge"`) {
		t.Errorf("%s %s", resp.Status, body)
	}
	if resp, body := do(t, srv, exchange{path: "/v2/rest/query", body: `{"csl":"print 1"}`}); resp.StatusCode != http.StatusOK {
		t.Errorf("after an oversized body: %s %s", resp.Status, body)
	}
}
