package kustohttp

import (
	"context"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/parser"
)

// maxLoggedText bounds how much of a request's text a log record holds, when Options.LogText
// asks for it at all.
const maxLoggedText = 200

// requestLog is what a request's record says beyond what the response shows: the handler fills
// it as it learns the command's kind, database and text, and writeError its error's code.
type requestLog struct {
	kind, db, text, description string
	errCode                     string // Kusto's error code, for a refusal or a failure mid-stream
}

type logKey struct{}

// logOf returns the record of the request ctx belongs to, or nil when nothing logs.
func logOf(ctx context.Context) *requestLog {
	l, _ := ctx.Value(logKey{}).(*requestLog)
	return l
}

// note records what the request asks: its database, text and description.
func (l *requestLog) note(c *call) {
	if l != nil {
		l.db, l.text, l.description = c.db, c.text, c.description
	}
}

// named records the kind of the checked text: "query", or the management command's name from
// the registry (".set-or-append").
func (l *requestLog) named(b *parser.Block) {
	switch {
	case l == nil:
	case b.Command != nil:
		l.kind = engine.CommandFor(b.Command).Name
	default:
		l.kind = "query"
	}
}

func (l *requestLog) failed(code string) {
	if l != nil && l.errCode == "" {
		l.errCode = code
	}
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

// Unwrap lets http.ResponseController reach the connection's Flush.
func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// pathKinds name the kind of the requests to endpoints that run no text.
var pathKinds = map[string]string{"/v1/rest/ping": "ping", "/v1/rest/auth/metadata": "auth-metadata"}

// logged serves r through next and, when the handler has a Logger, writes one record of it once
// it is answered: Info for a success, Warn for a refusal or a failure the client caused (4xx, or
// an error reported inside a streamed result), Error for Kustard's own faults (5xx). The record
// never holds the Authorization header, and holds the text only when Options.LogText asks.
func (h *Handler) logged(w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	if h.opts.Logger == nil {
		next(w, r)
		return
	}
	start := time.Now()
	l := &requestLog{kind: pathKinds[r.URL.Path]}
	lw := &loggingWriter{ResponseWriter: w}
	next(lw, r.WithContext(context.WithValue(r.Context(), logKey{}, l)))
	h.writeLog(r, lw, l, time.Since(start))
}

func (h *Handler) writeLog(r *http.Request, lw *loggingWriter, l *requestLog, d time.Duration) {
	status := lw.status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400 || l.errCode != "":
		level = slog.LevelWarn
	}
	ctx := r.Context()
	if !h.opts.Logger.Enabled(ctx, level) {
		return
	}
	hdr := lw.Header()
	// The ids first, as a reader greps for them; the health check has none.
	attrs := make([]slog.Attr, 0, 14)
	for _, a := range []struct{ key, value string }{
		{"request_id", hdr.Get("x-ms-client-request-id")}, {"activity_id", hdr.Get("x-ms-activity-id")},
		{"method", r.Method}, {"endpoint", r.URL.Path},
		{"kind", l.kind}, {"db", l.db}, {"app", r.Header.Get("x-ms-app")}, {"description", l.description},
	} {
		if a.value != "" {
			attrs = append(attrs, slog.String(a.key, a.value))
		}
	}
	attrs = append(attrs, slog.Int("status", status))
	if l.errCode != "" {
		attrs = append(attrs, slog.String("error", l.errCode))
	}
	attrs = append(attrs, slog.Duration("duration", d), slog.Int64("bytes", lw.bytes))
	if h.opts.LogText && l.text != "" {
		attrs = append(attrs, slog.String("text", clip(l.text, maxLoggedText)))
	}
	h.opts.Logger.LogAttrs(ctx, level, "request", attrs...)
}

// clip cuts text to at most n bytes on a character boundary, marking the cut with "…". The
// handlers escape what they write, so a newline or a control character in it cannot forge a
// record.
func clip(text string, n int) string {
	if len(text) <= n {
		return text
	}
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n] + "…"
}
