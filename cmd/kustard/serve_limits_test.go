package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
)

// lockedBuffer is standard error shared by the server's goroutines and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// served is kustard serve running in-process.
type served struct {
	url    string
	stop   context.CancelFunc
	done   chan struct{} // closed when serve has returned, code its exit status
	code   int
	stderr *lockedBuffer
	eng    chan *engine.Engine // the engine, handed over as it is shut
	before []string            // the lines serve printed before its URL's
}

// wait stops serve and returns its exit status.
func (s *served) wait() int {
	s.stop()
	<-s.done
	return s.code
}

// startServe runs kustard serve on a free loopback port with the extra arguments and returns
// once it has printed its URL; the test stops it with stop and reads its exit status.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	s := &served{stop: stop, done: make(chan struct{}), stderr: &lockedBuffer{}, eng: make(chan *engine.Engine, 1)}
	c := &cli{stdin: strings.NewReader(""), stdout: outW, stderr: s.stderr, engineMade: func(e *engine.Engine) { s.eng <- e }}
	go func() {
		s.code = c.execute(ctx, append([]string{"--deterministic", "serve", "--listen", "127.0.0.1:0"}, args...))
		outW.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		stop()
		<-s.done
	})
	r := bufio.NewReader(outR)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("serve printed %q: %v; stderr %s", line, err, s.stderr)
		}
		// What serve prints before its URL: the certificate, the gRPC address.
		if !strings.Contains(line, "serves Kusto's REST API at ") {
			s.before = append(s.before, line)
			continue
		}
		go io.Copy(io.Discard, r)
		_, after, _ := strings.Cut(line, " at ")
		s.url = strings.Fields(after)[0]
		return s
	}
}

func post(t *testing.T, url, csl string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"csl": csl})
	resp, err := http.Post(url+"/v1/rest/mgmt", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestServeShutdownEndsOperations: an async ingest still running when the server stops ends
// Abandoned by default and Canceled with --on-shutdown cancel, and the server exits 0.
func TestServeShutdownEndsOperations(t *testing.T) {
	for _, c := range []struct {
		args  []string
		state ops.State
		verb  string
	}{
		{nil, ops.Abandoned, "abandoning"},
		{[]string{"--on-shutdown", "cancel"}, ops.Canceled, "canceling"},
	} {
		t.Run(c.state.String(), func(t *testing.T) {
			s := startServe(t, c.args...)
			// A scan of 10^11 rows that keeps none: it runs until stopped, in constant memory.
			status, body := post(t, s.url, ".set-or-append async T <| range x from 1 to 100000000000 step 1 | where x < 0")
			var v1 struct{ Tables []struct{ Rows [][]string } }
			if err := json.Unmarshal([]byte(body), &v1); status != 200 || err != nil || len(v1.Tables) == 0 || len(v1.Tables[0].Rows) != 1 {
				t.Fatalf("%d %s", status, body)
			}
			id := uuid.MustParse(v1.Tables[0].Rows[0][0])
			if code := s.wait(); code != exitOK {
				t.Errorf("exit status %d after the stop, want 0; stderr %s", code, s.stderr)
			}
			eng := <-s.eng
			snap, err := eng.Ops().Get(id)
			if err != nil {
				t.Fatal(err)
			}
			if snap.State != c.state || engine.KustoStatus(snap) != "Kustard is shutting down" {
				t.Errorf("the ingest ended %s %q, want %s", snap.State, engine.KustoStatus(snap), c.state)
			}
			if !strings.Contains(s.stderr.String(), "kustard: "+c.verb+" operation "+id.String()) {
				t.Errorf("stderr: %s", s.stderr)
			}
		})
	}
}

// TestServeCutsOffSlowClients: a client sending its headers a byte at a time is cut off once
// --header-timeout passes, before its request reaches the handler, and the server goes on
// answering others.
func TestServeCutsOffSlowClients(t *testing.T) {
	s := startServe(t, "--header-timeout", "200ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // bounds the test if the timeout fails
	got := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(conn)
		got <- data
	}()
	headers := "POST /v1/rest/mgmt HTTP/1.1\r\nHost: kustard\r\nContent-Type: application/json\r\nX-Slow: " + strings.Repeat("a", 500) + "\r\n\r\n"
	tick := time.NewTicker(10 * time.Millisecond) // the client's pace, not a synchronization
	defer tick.Stop()
	start, sent := time.Now(), 0
	var data []byte
send:
	for ; sent < len(headers); sent++ {
		if _, err := conn.Write([]byte{headers[sent]}); err != nil {
			break
		}
		select {
		case data = <-got:
			break send
		case <-tick.C:
		}
	}
	if data == nil {
		data = <-got
	}
	// Go's server answers a request cut off mid-headers with a plain 400 and closes the
	// connection: it never reaches the handler.
	if sent >= len(headers) || !(len(data) == 0 || bytes.HasPrefix(data, []byte("HTTP/1.1 400 "))) || time.Since(start) > 15*time.Second {
		t.Errorf("sent %d of %d header bytes over %v, and read %q: the slow client was not cut off", sent, len(headers), time.Since(start), data)
	}
	if status, body := post(t, s.url, ".show version"); status != 200 {
		t.Errorf("after the slow client: %d %s", status, body)
	}
}

// TestServeRefusesBadLimits: a limit that means nothing is a usage error, never a default.
func TestServeRefusesBadLimits(t *testing.T) {
	for _, args := range [][]string{
		{"--max-body-size", "0"}, {"--max-concurrent-requests", "0"}, {"--header-timeout", "0s"},
		{"--idle-timeout", "-1s"}, {"--on-shutdown", "wait"}, {"--log-format", "xml"}, {"--log-level", "loud"},
	} {
		_, stderr, code := kustard(t, "", append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, args[0]) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestServeLogs: with --log-format json, each request is a JSON record on standard error.
func TestServeLogs(t *testing.T) {
	s := startServe(t, "--log-format", "json")
	post(t, s.url, ".show version")
	s.wait()
	var rec map[string]any
	line, _, _ := strings.Cut(s.stderr.String(), "\n")
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["kind"] != ".show version" || rec["status"] != float64(200) {
		t.Errorf("the first line of stderr is not the request's JSON record (%v): %s", err, s.stderr)
	}
}
