// Package httpmw holds what every HTTP front door of `kustard serve` shares, so that a request is
// logged, limited and bounded the same way whichever front door answers it, without the front
// doors knowing each other: one structured record per request (Logged, with the Record a front
// door fills through the request's context), one pool of concurrent requests (Limiter, which each
// front door applies after its own access checks and answers in its own error shape), and a
// deadline on reading a request's body (BodyDeadline).
package httpmw

import (
	"context"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"
)

// MaxLoggedText bounds how much of a request's text a record holds, when LogOptions.Text asks for
// it at all.
const MaxLoggedText = 200

// Record is what a request's log record says beyond what the response shows. The front door that
// answers the request fills it as it learns its ids, kind, database and text; its methods do
// nothing on a nil Record, which is what RecordOf returns when nothing logs.
type Record struct {
	RequestID, ActivityID string // the client's request id and the server's activity id
	Kind                  string // "query", ".set-or-append", "ping", "lro.CancelOperation"
	DB, App, Description  string
	Text                  string // the request's text; logged only when LogOptions.Text says so
	Error                 string // the error's code, for a refusal or a failure mid-stream
}

type recordKey struct{}

// RecordOf returns the record of the request ctx belongs to, or nil when nothing logs.
func RecordOf(ctx context.Context) *Record {
	rec, _ := ctx.Value(recordKey{}).(*Record)
	return rec
}

// SetKind names the request's kind.
func (rec *Record) SetKind(kind string) {
	if rec != nil {
		rec.Kind = kind
	}
}

// SetIDs records the request's ids.
func (rec *Record) SetIDs(requestID, activityID string) {
	if rec != nil {
		rec.RequestID, rec.ActivityID = requestID, activityID
	}
}

// Failed records the code of the request's error; the first one stands.
func (rec *Record) Failed(code string) {
	if rec != nil && rec.Error == "" {
		rec.Error = code
	}
}

// LogOptions configure Logged.
type LogOptions struct {
	Logger *slog.Logger
	Text   bool // log the first MaxLoggedText bytes of the request's text
}

// Logged serves requests through next and writes one record of each once it is answered: Info
// for a success, Warn for a refusal or a failure the client caused (4xx, or an error reported
// inside a streamed result), Error for the server's own faults (5xx). A record never holds the
// Authorization header. Inside another Logged (a front door that logs when used alone, composed
// under the server's), a request is logged once, by the outer one.
func Logged(next http.Handler, opts LogOptions) http.Handler {
	if opts.Logger == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if RecordOf(r.Context()) != nil {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &Record{}
		lw := &loggingWriter{ResponseWriter: w}
		next.ServeHTTP(lw, r.WithContext(context.WithValue(r.Context(), recordKey{}, rec)))
		writeLog(opts, r, lw, rec, time.Since(start))
	})
}

func writeLog(opts LogOptions, r *http.Request, lw *loggingWriter, rec *Record, d time.Duration) {
	status := lw.status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400 || rec.Error != "":
		level = slog.LevelWarn
	}
	ctx := r.Context()
	if !opts.Logger.Enabled(ctx, level) {
		return
	}
	// The ids first, as a reader greps for them; the health check has none.
	attrs := make([]slog.Attr, 0, 14)
	for _, a := range []struct{ key, value string }{
		{"request_id", rec.RequestID}, {"activity_id", rec.ActivityID},
		{"method", r.Method}, {"endpoint", r.URL.Path},
		{"kind", rec.Kind}, {"db", rec.DB}, {"app", rec.App}, {"description", rec.Description},
	} {
		if a.value != "" {
			attrs = append(attrs, slog.String(a.key, a.value))
		}
	}
	attrs = append(attrs, slog.Int("status", status))
	if rec.Error != "" {
		attrs = append(attrs, slog.String("error", rec.Error))
	}
	attrs = append(attrs, slog.Duration("duration", d), slog.Int64("bytes", lw.bytes))
	if opts.Text && rec.Text != "" {
		attrs = append(attrs, slog.String("text", Clip(rec.Text, MaxLoggedText)))
	}
	opts.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// loggingWriter counts what a response writes and keeps its status.
type loggingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *loggingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *loggingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's Flush and deadlines.
func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Clip cuts text to at most n bytes on a character boundary, marking the cut with "…". The log
// handlers escape what they write, so a newline or a control character in it cannot forge a
// record.
func Clip(text string, n int) string {
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n] + "…"
}
