package kustohttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/internal/servertest"
	"github.com/kustard/kustard/ops"
)

// endlessCSV is a source that never ends: whole CSV lines, for as long as it is read. It
// closes started at its first Read, so the test knows the ingest is under way.
type endlessCSV struct {
	started chan struct{}
	once    bool
}

func (s *endlessCSV) Read(p []byte) (int, error) {
	if !s.once {
		s.once = true
		close(s.started)
	}
	const line = "1,a\n"
	n := len(p) / len(line) * len(line)
	for i := 0; i < n; i += len(line) {
		copy(p[i:], line)
	}
	return n, nil
}

func (s *endlessCSV) Close() error { return nil }

// A `.ingest into` stops when its client goes away, and commits nothing: the request's context
// is the ingest's. The source never ends, so an ingest that did not stop would run into the
// per-ingest cap and fail differently (or commit), and the test would see it.
func TestIngestStopsWhenTheClientGoesAway(t *testing.T) {
	src := &endlessCSV{started: make(chan struct{})}
	opts := servertest.Options()
	opts.MaxIngestBytes = 256 << 20
	opts.IngestFiles = engine.FileAccess{Open: func(string) (io.ReadCloser, int64, error) { return src, 1 << 40, nil }}
	eng := servertest.NewEngine(t, opts)
	srv := httptest.NewServer(New(eng, Options{}))
	t.Cleanup(srv.Close)
	servertest.Run(t, eng, ".create table T (n:long, s:string)")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"db": "NetDefaultDB", "csl": ".ingest into table T ('endless.csv') with (format='csv')"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/rest/mgmt", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	<-src.started
	cancel() // the client goes away
	if err := <-answered; err == nil {
		t.Fatal("the request was answered; want the client's cancel")
	}

	var ingest ops.Snapshot
	for _, s := range eng.Ops().Log() {
		if s.Kind.Name == "DataIngestPull" {
			ingest = s
		}
	}
	if ingest.Kind.Name == "" {
		t.Fatal("no DataIngestPull operation")
	}
	end := servertest.WaitDone(t, eng, ingest.ID)
	if end.State == ops.Succeeded {
		t.Fatalf("the ingest ended %v; want it stopped by the client's cancel", end.State)
	}
	t.Logf("the ingest ended %v: %v", end.State, end.Err)
	if end.Err == nil || !strings.Contains(end.Err.Error(), "cancel") {
		t.Errorf("the ingest ended %v with %v; want the request's cancel", end.State, end.Err)
	}
	if n := servertest.Run(t, eng, "T | count").Value(0, 0); n != int64(0) {
		t.Errorf("T has %v rows after the canceled ingest; want 0", n)
	}
}
