package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/httpmw"
	"github.com/kustard/kustard/server/kustohttp"
	"github.com/spf13/cobra"
)

// serveLimits are serve's flags for its limits, its shutdown and its request log.
type serveLimits struct {
	maxBody       sizeFlag
	maxConcurrent int
	headerTimeout time.Duration
	bodyTimeout   time.Duration
	idleTimeout   time.Duration
	onShutdown    string
	logFormat     string
	logLevel      string
	logText       bool
}

const serveLimitsHelp = `

Limits: a body past --max-body-size gets 413; past --max-concurrent-requests a request gets
429 with Kusto's throttling error and Retry-After (the health check is always answered); a
client that takes longer than --header-timeout to send its headers is disconnected before its
request reaches Kustard (Go's server closes the connection without an answer), one that takes longer than
--body-timeout to send its body gets 408 in Kusto's shape, and one idle between requests past
--idle-timeout is disconnected. Queries and ingests draw from --max-memory; a result
is streamed batch by batch, never held whole. Every request is logged to standard error, one
record each (--log-format text or json, --log-level); the text of requests only with --log-text.`

func (l *serveLimits) flags(cmd *cobra.Command) {
	l.maxBody = kustohttp.DefaultMaxBodyBytes
	f := cmd.Flags()
	f.Var(&l.maxBody, "max-body-size", "the largest request body; a larger one gets 413")
	f.IntVar(&l.maxConcurrent, "max-concurrent-requests", kustohttp.DefaultMaxConcurrentRequests, "requests served at once; past it a request gets 429 and Retry-After")
	f.DurationVar(&l.headerTimeout, "header-timeout", 10*time.Second, "how long a client may take to send a request's headers")
	f.DurationVar(&l.bodyTimeout, "body-timeout", time.Minute, "how long a client may take to send a request's body; past it the request gets 408")
	f.DurationVar(&l.idleTimeout, "idle-timeout", 2*time.Minute, "how long a kept-alive connection may wait for its next request")
	f.StringVar(&l.onShutdown, "on-shutdown", "abandon", "what becomes of operations still running at shutdown: abandon (they end Abandoned) or cancel (Canceled)")
	f.StringVar(&l.logFormat, "log-format", "text", "the request log's format on standard error: text or json")
	f.StringVar(&l.logLevel, "log-level", "info", "the least level logged: debug, info (every request), warn (failures and refusals) or error (Kustard's faults)")
	f.BoolVar(&l.logText, "log-text", false, "log the first 200 characters of each request's text (it may hold data the logs should not)")
}

// check refuses settings that mean nothing, rather than using a default.
func (l *serveLimits) check() error {
	switch {
	case l.maxBody <= 0:
		return fmt.Errorf("--max-body-size %d: the limit must be positive", int64(l.maxBody))
	case l.maxConcurrent < 1:
		return fmt.Errorf("--max-concurrent-requests %d: at least one request must be served", l.maxConcurrent)
	case l.headerTimeout <= 0:
		return fmt.Errorf("--header-timeout %v: the timeout must be positive", l.headerTimeout)
	case l.bodyTimeout <= 0:
		return fmt.Errorf("--body-timeout %v: the timeout must be positive", l.bodyTimeout)
	case l.idleTimeout <= 0:
		return fmt.Errorf("--idle-timeout %v: the timeout must be positive", l.idleTimeout)
	case l.onShutdown != "abandon" && l.onShutdown != "cancel":
		return fmt.Errorf("--on-shutdown %q: use abandon or cancel", l.onShutdown)
	}
	return nil
}

// logger makes the request log from --log-format and --log-level.
func (l *serveLimits) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", l.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", l.logFormat)
}

func (l *serveLimits) handlerOptions(o kustohttp.Options, logger *slog.Logger) kustohttp.Options {
	o.MaxBodyBytes = int64(l.maxBody)
	o.MaxConcurrentRequests = l.maxConcurrent
	o.Logger, o.LogText = logger, l.logText
	return o
}

// wrap logs every request to the composed front doors, one record each, and bounds how long a
// client may take to send a body (the front doors answer a late one in their own shapes).
func (l *serveLimits) wrap(h http.Handler, logger *slog.Logger) http.Handler {
	return httpmw.Logged(httpmw.BodyDeadline(h, l.bodyTimeout), httpmw.LogOptions{Logger: logger, Text: l.logText})
}

// shutEngine ends the operations still running when the server stops, as --on-shutdown says:
// Abandoned (the default: Kusto's word for operations a node gave up on) or Canceled.
func (c *cli) shutEngine(eng *engine.Engine, onShutdown string) {
	if c.engineMade != nil {
		c.engineMade(eng)
	}
	verb, end := "abandoning", eng.Abandon
	if onShutdown == "cancel" {
		verb, end = "canceling", eng.Close
	}
	for _, op := range eng.Ops().Active() {
		fmt.Fprintf(c.stderr, "kustard: %s operation %s (%s), still %s at shutdown\n", verb, op.ID, op.Kind.Name, engine.KustoState(op.State))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := end(ctx); err != nil {
		fmt.Fprintf(c.stderr, "kustard: %v\n", err)
	}
	c.closeStore()
}
