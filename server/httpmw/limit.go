package httpmw

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// Limiter bounds the requests served at once across every front door that shares it. A request
// past the bound is refused at once, rather than queued: a client waiting in a queue it cannot see
// times out without knowing why, while clients retry a 429 by themselves. Each front door takes a
// slot after its own access checks, so that refused requests take none, and answers a refusal in
// its own error shape.
type Limiter struct {
	slots      chan struct{}
	retryAfter time.Duration
}

// NewLimiter returns a limiter of n slots (at least one) whose refusals say to retry after
// retryAfter.
func NewLimiter(n int, retryAfter time.Duration) *Limiter {
	return &Limiter{slots: make(chan struct{}, max(n, 1)), retryAfter: retryAfter}
}

// TryAcquire takes a slot if one is free; Release gives it back.
func (l *Limiter) TryAcquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot TryAcquire took.
func (l *Limiter) Release() { <-l.slots }

// Cap is the number of slots; RetryAfter what a refusal says.
func (l *Limiter) Cap() int                  { return cap(l.slots) }
func (l *Limiter) RetryAfter() time.Duration { return l.retryAfter }

// ErrBodyTimeout is what reading a request's body returns once the client has taken longer than
// the body timeout to send it.
var ErrBodyTimeout = errors.New("the client took too long to send the request body")

// BodyTimeoutError says how long the client had; it matches ErrBodyTimeout.
type BodyTimeoutError struct{ Timeout time.Duration }

func (e *BodyTimeoutError) Error() string {
	return fmt.Sprintf("the client took longer than %v, the server's body timeout, to send the request body", e.Timeout)
}
func (e *BodyTimeoutError) Is(target error) bool { return target == ErrBodyTimeout }

// BodyDeadline bounds how long a client may take to send a request's body: a client that sends
// it slowly would otherwise hold one of the limited slots for as long as it likes. The deadline
// is the connection's read deadline, set when the request arrives and cleared once the body has
// been read (or closed, or the handler returns), so that a response streamed for minutes is not
// cut off by it. Reading past the deadline returns a *BodyTimeoutError.
func BodyDeadline(next http.Handler, timeout time.Duration) http.Handler {
	if timeout <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines (a test's recorder)
			return
		}
		b := &deadlineBody{ReadCloser: r.Body, rc: rc, timeout: timeout}
		defer b.clear()
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

type deadlineBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	cleared bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The deadline stays: the server's own reads of the rest of the body then fail at once
		// too, and it closes the connection once the handler has answered.
		b.cleared = true
		return n, &BodyTimeoutError{Timeout: b.timeout}
	default:
		b.clear() // io.EOF, or a limit: the body is done with
	}
	return n, err
}

func (b *deadlineBody) Close() error {
	b.clear()
	return b.ReadCloser.Close()
}

// clear lifts the deadline, once; a handler's goroutine is the only one reading the body.
func (b *deadlineBody) clear() {
	if !b.cleared {
		b.cleared = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}
