// Package kustohttp serves an engine over Kusto's REST protocol (api/rest/index.md), so that
// Kusto's own SDKs and tools built for the Kusto emulator run against Kustard unchanged.
//
// New returns an http.Handler with Kusto's endpoints:
//
//	POST /v1/rest/mgmt              management commands (and queries), v1 response
//	GET|POST /v1/rest/query         queries and .show commands, v1 response
//	GET|POST /v2/rest/query         queries, v2 frames, streamed as the plan produces batches
//	POST /v1/rest/ingest/{db}/{t}   streaming ingestion of the body into table t (ingest.go)
//	GET /v1/rest/auth/metadata      404 with an empty body: the SDKs then use their defaults
//	GET /v1/rest/ping               200: the health check (api/rest/ping.md)
//
// A request is {"db": …, "csl": …, "properties": …} (api/rest/request.md), or the same as URL
// parameters for GET. Its client request properties and headers fill the engine.Request the
// text runs with. Each request runs in a session of its own, under the request's context, so a
// client that goes away cancels its query; an async command's operation belongs to the engine's
// operations registry and outlives the request. Failures are Kusto's error objects (OneApiErrors)
// with Kusto's HTTP statuses; a failure once a result has started streaming is reported inside
// it, where the request's results_error_reporting_placement says.
//
// Options.AuthToken requires a bearer token; Options.CORSOrigins lets browsers call it.
// The handler knows nothing of listening, TLS or signals: cmd/kustard's serve does that.
package kustohttp

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/server/httpmw"
)

// serviceAlias names the service in error contexts, where Kusto puts the cluster's name.
const serviceAlias = "KUSTARD"

// DefaultMaxBodyBytes bounds a request's body unless Options say otherwise.
const DefaultMaxBodyBytes = 64 << 20

// Options configure a Handler; zero values choose the defaults.
type Options struct {
	// Database is where a request that names no db runs (default NetDefaultDB).
	Database string
	// MachineName and ProcessID are what error contexts report (default the host's name and
	// this process's id); tests fix them.
	MachineName string
	ProcessID   int
	// MaxBodyBytes bounds a request's body; a larger one is refused with 413.
	MaxBodyBytes int64
	// MaxStreamingBytes bounds a streaming ingest's body, as sent (default
	// DefaultMaxStreamingBytes, Kusto's 4 MB); a larger one is refused with 413.
	MaxStreamingBytes int64
	// AuthToken, when set, is the bearer token every endpoint but auth metadata and health
	// requires (access.go).
	AuthToken string
	// CORSOrigins are the browser origins allowed to call the server ("*" for any).
	CORSOrigins []string
	// MaxConcurrentRequests bounds the requests served at once, but for the health check and the
	// auth metadata (default DefaultMaxConcurrentRequests); past it a request gets 429 with
	// Kusto's throttling error, and Retry-After says when to try again (RetryAfter, default
	// DefaultRetryAfter, in whole seconds).
	MaxConcurrentRequests int
	RetryAfter            time.Duration
	// Limiter, when set, is the pool of concurrent requests this handler shares with the server's
	// other front doors; it replaces MaxConcurrentRequests and RetryAfter.
	Limiter *httpmw.Limiter
	// Logger, when set, receives a record of every request (httpmw.Logged), unless the handler is
	// served inside a Logged already; LogText adds the first characters of the request's text,
	// which may hold data the logs should not.
	Logger  *slog.Logger
	LogText bool
}

// Handler serves Kusto's REST endpoints for one engine. It is safe for concurrent use.
type Handler struct {
	eng     *engine.Engine
	opts    Options
	mux     *http.ServeMux
	limiter *httpmw.Limiter
	served  http.Handler // serve, logged when Options.Logger is set
}

// New returns a handler serving eng.
func New(eng *engine.Engine, opts Options) *Handler {
	if opts.Database == "" {
		opts.Database = engine.DefaultDatabase
	}
	if opts.MachineName == "" {
		opts.MachineName, _ = os.Hostname()
	}
	if opts.ProcessID == 0 {
		opts.ProcessID = os.Getpid()
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxStreamingBytes <= 0 {
		opts.MaxStreamingBytes = DefaultMaxStreamingBytes
	}
	if opts.MaxConcurrentRequests <= 0 {
		opts.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = DefaultRetryAfter
	}
	h := &Handler{eng: eng, opts: opts, mux: http.NewServeMux(), limiter: opts.Limiter}
	if h.limiter == nil {
		h.limiter = httpmw.NewLimiter(opts.MaxConcurrentRequests, opts.RetryAfter)
	}
	h.served = httpmw.Logged(http.HandlerFunc(h.serve), httpmw.LogOptions{Logger: opts.Logger, Text: opts.LogText})
	h.mux.HandleFunc("POST /v1/rest/mgmt", h.endpoint(mgmt))
	h.mux.HandleFunc("GET /v1/rest/query", h.endpoint(queryV1))
	h.mux.HandleFunc("POST /v1/rest/query", h.endpoint(queryV1))
	h.mux.HandleFunc("GET /v2/rest/query", h.endpoint(queryV2))
	h.mux.HandleFunc("POST /v2/rest/query", h.endpoint(queryV2))
	h.mux.HandleFunc("POST /v1/rest/ingest/{db}/{table}", h.streamIngest)
	h.mux.HandleFunc("GET /v1/rest/auth/metadata", func(w http.ResponseWriter, r *http.Request) {
		// The SDKs ask before their first request, without credentials, and take a 404 as
		// "no cloud metadata: use the defaults".
		w.WriteHeader(http.StatusNotFound)
	})
	h.mux.HandleFunc("GET /v1/rest/ping", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	h.mux.HandleFunc("/", h.notFound)
	return h
}

// ServeHTTP serves one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.served.ServeHTTP(w, r) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)
	if rec := httpmw.RecordOf(r.Context()); rec != nil {
		rec.Kind, rec.App = pathKinds[r.URL.Path], r.Header.Get("x-ms-app")
	}
	// Refused requests (a bad token, a preflight from another origin) are logged too, and they
	// do not take one of the concurrent requests' places.
	if h.admit(w, r) {
		h.limit(w, r, h.mux)
	}
}

// The endpoints that run text, and what they accept.
type endpointKind int

const (
	mgmt endpointKind = iota
	queryV1
	queryV2
)

var activityTypes = [...]string{mgmt: "KD.RestApi.ExecuteControlCommand", queryV1: "KD.RestApi.ExecuteQuery", queryV2: "KD.RestApi.ExecuteQuery"}

// endpoints lists, for a path the handler serves, the methods it takes there, so that a wrong
// method is told which are right.
var endpoints = map[string]string{
	"/v1/rest/mgmt": "POST", "/v1/rest/query": "GET, POST", "/v2/rest/query": "GET, POST",
	"/v1/rest/auth/metadata": "GET", "/v1/rest/ping": "GET",
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	act := h.newActivity(r, "KD.RestApi.Unknown")
	h.setHeaders(w, &act)
	allow, ok := endpoints[r.URL.Path]
	if strings.HasPrefix(r.URL.Path, "/v1/rest/ingest/") && strings.Count(r.URL.Path, "/") == 5 {
		allow, ok = "POST", true
	}
	if ok {
		w.Header().Set("Allow", allow)
		h.writeError(w, &badRequest{http.StatusMethodNotAllowed, "MethodNotAllowed",
			"method " + r.Method + " is not allowed on " + r.URL.Path + "; use " + allow}, act)
		return
	}
	h.writeError(w, &badRequest{http.StatusNotFound, "NotFound", "no endpoint " + r.Method + " " + r.URL.Path +
		"; Kustard serves POST /v1/rest/mgmt, GET or POST /v1/rest/query and /v2/rest/query, POST /v1/rest/ingest/{database}/{table}, GET /v1/rest/auth/metadata and GET /v1/rest/ping"}, act)
}

// newActivity starts a request's activity: its RootActivityId, new for every request, and the
// client's request id, or one made up as the emulator does (unspecified;<guid>).
func (h *Handler) newActivity(r *http.Request, kind string) activity {
	ids := h.eng.Ops().IDs()
	act := activity{rootID: ids.NewID(), subID: ids.NewID(), kind: kind, log: httpmw.RecordOf(r.Context())}
	act.clientRequestID = r.Header.Get("x-ms-client-request-id")
	return act
}

// setHeaders names the request's ids in the response, as Kusto does, making up the client's
// request id if nothing gave one.
func (h *Handler) setHeaders(w http.ResponseWriter, act *activity) {
	if act.clientRequestID == "" {
		act.clientRequestID = "unspecified;" + act.rootID.String()
	}
	w.Header().Set("x-ms-client-request-id", act.clientRequestID)
	w.Header().Set("x-ms-activity-id", act.rootID.String())
	act.log.SetIDs(act.clientRequestID, act.rootID.String())
}

func (h *Handler) endpoint(kind endpointKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.run(w, r, kind) }
}

// run parses, checks and runs one request's text and writes its result.
func (h *Handler) run(w http.ResponseWriter, r *http.Request, kind endpointKind) {
	act := h.newActivity(r, activityTypes[kind])
	c, err := h.parseCall(r)
	if err == nil && act.clientRequestID == "" {
		act.clientRequestID = c.req.ClientRequestID // from the properties, when no header gave it
	}
	h.setHeaders(w, &act)
	if err != nil {
		h.writeError(w, err, act)
		return
	}
	c.req.ClientRequestID, c.req.RootActivityID = act.clientRequestID, act.rootID
	noteCall(act.log, c)
	if _, ok := h.eng.Database(c.db); !ok {
		h.writeError(w, &kusto.Error{Kind: kusto.KindNotFound, Offset: -1,
			Msg: "Entity name '" + c.db + "' of kind 'Database' does not exist."}, act)
		return
	}
	b, err := engine.Check(&kusto.Source{Text: c.text})
	if err != nil {
		h.writeError(w, err, act)
		return
	}
	noteKind(act.log, b)
	if b.Command != nil {
		switch {
		case kind == queryV2:
			h.writeError(w, errCommandOnQueryV2, act)
			return
		case kind == queryV1 && !engine.CommandFor(b.Command).IsShow():
			h.writeError(w, errCommandOnQueryV1, act)
			return
		}
	}
	sess := h.eng.NewSession()
	sess.Database = c.db
	cur, err := sess.Open(r.Context(), c.req, b)
	if err != nil {
		h.writeError(w, err, act)
		return
	}
	defer cur.Close()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	out := newStream(w)
	if kind == queryV2 {
		h.writeV2(out, c, cur, act)
	} else {
		h.writeV1(out, cur, b.Query != nil, act)
	}
}

// id returns a new id from the engine's source, so that deterministic runs number them too.
func (h *Handler) id() uuid.UUID { return h.eng.Ops().IDs().NewID() }

// isCanceled reports whether err ended its request by a cancel or a timeout.
func isCanceled(err error) bool {
	var kerr *kusto.Error
	return errors.As(err, &kerr) && kerr.Kind == kusto.KindCanceled
}
