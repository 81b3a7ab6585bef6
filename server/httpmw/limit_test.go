package httpmw

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestBodyDeadline: a body sent too slowly fails its read with a BodyTimeoutError; a body sent
// in time lifts the deadline, so a response written long after it is not cut off and the
// request's context lives on.
func TestBodyDeadline(t *testing.T) {
	const timeout = 50 * time.Millisecond
	type outcome struct {
		readErr, ctxErr error
	}
	seen := make(chan outcome, 1)
	srv := httptest.NewServer(BodyDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if err == nil {
			// Work for longer than the body timeout, as a streamed query does.
			<-time.After(4 * timeout)
		}
		seen <- outcome{err, r.Context().Err()}
		io.WriteString(w, "done")
	}), timeout))
	defer srv.Close()

	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("all at once"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := <-seen; got.readErr != nil || got.ctxErr != nil || string(body) != "done" {
		t.Errorf("a body in time: read %v, context %v, response %q", got.readErr, got.ctxErr, body)
	}

	// A client that promises 100 bytes and sends 5.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second)) // bounds the test if the deadline fails
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nslow.")
	got := <-seen
	var bt *BodyTimeoutError
	if !errors.As(got.readErr, &bt) || !errors.Is(got.readErr, ErrBodyTimeout) || bt.Timeout != timeout {
		t.Errorf("a slow body: read %v", got.readErr)
	}
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("the answer to a slow body: %v, %v", resp, err)
	}
}

// TestLimiter: n slots, then refusals until one is released.
func TestLimiter(t *testing.T) {
	l := NewLimiter(2, time.Second)
	if !l.TryAcquire() || !l.TryAcquire() {
		t.Fatal("two slots not granted")
	}
	if l.TryAcquire() {
		t.Fatal("a third slot granted")
	}
	l.Release()
	if !l.TryAcquire() || l.Cap() != 2 || l.RetryAfter() != time.Second {
		t.Error("a released slot not granted again")
	}
}
