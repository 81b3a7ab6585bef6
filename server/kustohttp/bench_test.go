package kustohttp

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
)

// benchServer serves a real engine (system clock, random ids) over loopback TCP, with a client
// that keeps its connections alive, as the SDKs do.
func benchServer(b *testing.B) (*httptest.Server, *http.Client, *engine.Engine) {
	b.Helper()
	eng := engine.New(engine.Options{MaxMemory: 4 << 30})
	srv := httptest.NewServer(New(eng, Options{MaxConcurrentRequests: 1024}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
		eng.Close(context.Background())
	})
	return srv, client, eng
}

func benchPost(b *testing.B, client *http.Client, url, body string) string {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s %s %v", resp.Status, data, err)
	}
	return string(data)
}

// BenchmarkServerRequests: requests per second of .show version and of a small query, from one
// client and from eight at once.
func BenchmarkServerRequests(b *testing.B) {
	for _, c := range []struct{ name, path, body string }{
		{"show-version", "/v1/rest/mgmt", `{"csl":".show version"}`},
		{"small-query", "/v2/rest/query", `{"csl":"range x from 1 to 100 step 1 | summarize sum(x)"}`},
	} {
		for _, clients := range []int{1, 8} {
			b.Run(c.name+"/clients="+string(rune('0'+clients)), func(b *testing.B) {
				srv, client, _ := benchServer(b)
				url := srv.URL + c.path
				b.SetParallelism(max(1, clients/2)) // GOMAXPROCS 2 on the benchmark machine
				if clients == 1 {
					b.SetParallelism(1)
				}
				b.ResetTimer()
				if clients == 1 {
					for b.Loop() {
						benchPost(b, client, url, c.body)
					}
				} else {
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							benchPost(b, client, url, c.body)
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

// BenchmarkServerCancelOperation: the latency of .cancel operation through the server, from
// sending it to reading its answer, which comes once the ingest has stopped. Each iteration
// starts an async ingest that waits until canceled, then cancels it; p50 and p99 are of the
// cancels alone.
func BenchmarkServerCancelOperation(b *testing.B) {
	srv, client, eng := benchServer(b)
	eng.RegisterStream("Endless", engine.Stream{Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}},
		Open: func(ctx context.Context) engine.Operator {
			return engine.NewOperator(func() (*engine.Batch, error) {
				<-ctx.Done()
				return nil, context.Cause(ctx)
			})
		}})
	var lat []time.Duration
	for b.Loop() {
		body := benchPost(b, client, srv.URL+"/v1/rest/mgmt", `{"csl":".set-or-append async T <| Endless"}`)
		var v1 struct{ Tables []struct{ Rows [][]string } }
		if err := json.Unmarshal([]byte(body), &v1); err != nil || len(v1.Tables) == 0 || len(v1.Tables[0].Rows) == 0 {
			b.Fatalf("%s %v", body, err)
		}
		start := time.Now()
		got := benchPost(b, client, srv.URL+"/v1/rest/mgmt", `{"csl":".cancel operation `+v1.Tables[0].Rows[0][0]+`"}`)
		lat = append(lat, time.Since(start))
		if !strings.Contains(got, "Canceled successfully") {
			b.Fatalf("the cancel: %s", got)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
}

// BenchmarkServerFirstFrame: how soon a client of a large result (range over 10M rows,
// fragmented, a frame a line) reads the first frame and the first rows; ns/op is the time to
// the first rows. The client then goes away, which cancels the query.
func BenchmarkServerFirstFrame(b *testing.B) {
	srv, client, _ := benchServer(b)
	body := `{"csl":"range x from 1 to 10000000 step 1","properties":{"Options":{"notruncation":true,"results_v2_fragment_primary_tables":true,"results_v2_newlines_between_frames":true}}}`
	var first, rows time.Duration
	for b.Loop() {
		start := time.Now()
		resp, err := client.Post(srv.URL+"/v2/rest/query", "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if strings.Contains(line, `"DataSetHeader"`) {
				first += time.Since(start)
			}
			if strings.Contains(line, `"TableFragment"`) {
				rows += time.Since(start)
				break
			}
		}
		resp.Body.Close()
	}
	b.ReportMetric(float64(first.Microseconds())/float64(b.N), "first-frame-µs")
	b.ReportMetric(float64(rows.Microseconds())/float64(b.N), "first-rows-µs")
}
