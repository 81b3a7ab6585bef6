// Package azuresql serves Kustard's operations through Azure SQL's database operations API, the
// ARM resource Microsoft.Sql/servers/databases/operations, so that Azure's SQL clients (armsql's
// DatabaseOperationsClient, `az sql db op list` and `cancel`) can list and cancel Kustard's
// ingests:
//
//	GET  /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/operations?api-version=…
//	     DatabaseOperations_ListByDatabase: the database's operations, paged with nextLink
//	POST …/databases/{db}/operations/{operationId}/cancel?api-version=…
//	     DatabaseOperations_Cancel: 200 with an empty body; the operation goes CancelInProgress,
//	     then Cancelled
//
// A database is a Kustard database; its operations are those of the engine's operations
// registry (the ones `.show operations` lists) whose scope is that database. Any subscription,
// resource group and server name is accepted unless Options name one. Errors are ARM's
// {"error":{"code":…,"message":…}} with the codes the SQL resource provider and ARM use. The
// package knows nothing of listening, TLS or the other front doors: cmd/kustard composes them.
package azuresql

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/server/httpmw"
)

// Surface is this front door's name in the operations core: the origin of its cancel requests.
const Surface = "azuresql"

// CancelReason is the reason a cancel through this surface records, which `.show operations`
// shows as the canceled operation's Status.
const CancelReason = "Canceled through Azure SQL DatabaseOperations.Cancel"

// ResourceType is the ARM type of the resources this surface lists.
const ResourceType = "Microsoft.Sql/servers/databases/operations"

// APIVersions are the api-versions of DatabaseOperations accepted: the first preview that had
// the API, the one Azure's Go SDK (armsql v1.2.0) sends, and the stable versions of 2023 and
// 2025 (seed-apis.md §3). Every one has the same two calls and the same resource; another is
// refused as ARM refuses a version a resource provider does not register.
var APIVersions = []string{"2017-03-01-preview", "2021-02-01-preview", "2023-08-01", "2025-01-01"}

// Defaults of Options.
const (
	DefaultPageSize = 100
	DefaultLocation = "local"
)

// Options configure a Service; zero values choose the defaults.
type Options struct {
	// Subscription, ResourceGroup and Server, when set, are the only ones this server has: a
	// request naming another gets ARM's 404 for it. When empty, any name is accepted.
	Subscription, ResourceGroup, Server string
	// Location is named in the error for an unknown api-version; default "local".
	Location string
	// AuthToken, when set, is the bearer token every request requires.
	AuthToken string
	// Limiter, when set, bounds the requests served at once, in a pool the server's other front
	// doors may share; past it a request gets 429 and Retry-After.
	Limiter *httpmw.Limiter
	// PageSize is the most operations one page of a list holds; default 100.
	PageSize int
}

// Service is the database operations API over one engine's operations. It is safe for
// concurrent use.
type Service struct {
	eng  *engine.Engine
	reg  *ops.Registry
	opts Options
	// cancelMu makes a cancel's look and request one step, so that of two cancels through this
	// surface at once one is accepted and the other is 409, as if they came one after the other.
	// (A cancel through another front door in between is still accepted here: the core has no
	// conditional cancel, and a second request is harmless.)
	cancelMu sync.Mutex
}

// New returns the service for eng's operations.
func New(eng *engine.Engine, opts Options) *Service {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.Location == "" {
		opts.Location = DefaultLocation
	}
	return &Service{eng: eng, reg: eng.Ops(), opts: opts}
}

// Owns reports whether a request is for this front door: a path under /subscriptions, as ARM's
// are (case-insensitively, as ARM matches them). A server that composes front doors routes these
// here.
func Owns(r *http.Request) bool {
	p := strings.ToLower(r.URL.Path)
	return p == "/subscriptions" || strings.HasPrefix(p, "/subscriptions/")
}

// Handler returns the HTTP handler of the surface (see the package doc, and Owns).
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// scope is the database a request names, with the names as the request spells them.
type scope struct {
	subscription, resourceGroup, server, database string
}

// prefix is the ARM id of the database's operations collection.
func (sc scope) prefix() string {
	return "/subscriptions/" + sc.subscription + "/resourceGroups/" + sc.resourceGroup +
		"/providers/Microsoft.Sql/servers/" + sc.server + "/databases/" + sc.database + "/operations"
}

// route is what a request calls: the API and, for a cancel, the operation id as given.
type route struct {
	api         string // "ListByDatabase" or "Cancel"
	scope       scope
	operationID string
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httpmw.RecordOf(r.Context())
	rec.SetKind("sql")
	rec.SetIDs(r.Header.Get("x-ms-client-request-id"), "")
	fail := func(e *armError) {
		rec.Failed(e.Code)
		writeError(w, e)
	}
	if e := s.authorize(r.Header.Get("Authorization")); e != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Kustard"`)
		fail(e)
		return
	}
	version := r.URL.Query().Get("api-version")
	if version == "" {
		fail(newError(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests."))
		return
	}
	rt, e := match(r, version)
	if e != nil {
		fail(e)
		return
	}
	rec.SetKind("sql." + rt.api)
	if rec != nil {
		rec.DB = rt.scope.database
	}
	if !slices.Contains(APIVersions, version) {
		fail(newError(http.StatusBadRequest, "NoRegisteredProviderFound",
			"No registered resource provider found for location '%s' and API version '%s' for type 'servers/databases/operations'. The supported api-versions are '%s'. The supported locations are '%s'.",
			s.opts.Location, version, strings.Join(APIVersions, ", "), s.opts.Location))
		return
	}
	// Only authorized requests take one of the concurrent requests' places.
	if l := s.opts.Limiter; l != nil {
		if !l.TryAcquire() {
			seconds := max(1, int(math.Ceil(l.RetryAfter().Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(seconds))
			fail(newError(http.StatusTooManyRequests, "SubscriptionTooManyRequests",
				"The server is already serving %d requests, its limit of concurrent requests; retry after %d seconds.", l.Cap(), seconds))
			return
		}
		defer l.Release()
	}
	if e := s.checkScope(rt.scope); e != nil {
		fail(e)
		return
	}
	switch rt.api {
	case "ListByDatabase":
		data, e := s.list(r, rt.scope)
		if e != nil {
			fail(e)
			return
		}
		writeJSON(w, http.StatusOK, data)
	case "Cancel":
		if e := s.cancel(rt); e != nil {
			fail(e)
			return
		}
		// ARM's 200 with no body (CancelDatabaseOperation.json: "200": {}).
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}
}

// match reads an ARM path: the database operations collection (GET) and an operation's cancel
// action (POST). Fixed segments match case-insensitively, as ARM matches them.
func match(r *http.Request, version string) (route, *armError) {
	raw := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	segs := make([]string, len(raw))
	for i, seg := range raw {
		dec, err := url.PathUnescape(seg)
		if err != nil || dec == "" {
			return route{}, notFound(r)
		}
		segs[i] = dec
	}
	is := func(i int, word string) bool { return i < len(segs) && strings.EqualFold(segs[i], word) }
	if len(segs) < 6 || !is(0, "subscriptions") || !is(2, "resourceGroups") || !is(4, "providers") {
		return route{}, notFound(r)
	}
	if !is(5, "Microsoft.Sql") {
		return route{}, newError(http.StatusNotFound, "InvalidResourceNamespace", "The resource namespace '%s' is invalid: this server serves Microsoft.Sql only.", segs[5])
	}
	// The resource type is the provider's path without the names: servers/databases/operations.
	var types []string
	for i := 6; i < len(segs); i += 2 {
		types = append(types, segs[i])
	}
	typ := strings.Join(types, "/")
	sc := scope{subscription: segs[1], resourceGroup: segs[3]}
	var rt route
	switch {
	case len(segs) == 11 && is(6, "servers") && is(8, "databases") && is(10, "operations"):
		rt = route{api: "ListByDatabase"}
		if r.Method != http.MethodGet {
			return route{}, methodNotAllowed(r, http.MethodGet)
		}
	case len(segs) == 13 && is(6, "servers") && is(8, "databases") && is(10, "operations") && is(12, "cancel"):
		rt = route{api: "Cancel", operationID: segs[11]}
		if r.Method != http.MethodPost {
			return route{}, methodNotAllowed(r, http.MethodPost)
		}
	case len(segs) == 12 && is(6, "servers") && is(8, "databases") && is(10, "operations"):
		// The API has no read of one operation: clients list and find it by name.
		return route{}, newError(http.StatusNotFound, "InvalidResourceType",
			"The resource type 'servers/databases/operations' has no read of one operation; list the database's operations (GET …/databases/{databaseName}/operations) and find it by name, or POST …/operations/%s/cancel.", segs[11])
	default:
		return route{}, newError(http.StatusNotFound, "InvalidResourceType",
			"The resource type '%s' could not be found in the namespace 'Microsoft.Sql' for api version '%s'; this server serves %s and its operations' cancel action.", typ, version, ResourceType)
	}
	sc.server, sc.database = segs[7], segs[9]
	rt.scope = sc
	return rt, nil
}

func notFound(r *http.Request) *armError {
	return newError(http.StatusNotFound, "NotFound",
		"No route for %s %s: this server serves GET /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Sql/servers/{serverName}/databases/{databaseName}/operations and POST …/operations/{operationId}/cancel.", r.Method, r.URL.EscapedPath())
}

func methodNotAllowed(r *http.Request, allow string) *armError {
	e := newError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The requested resource does not support http method '%s'; it takes %s.", r.Method, allow)
	e.allow = allow
	return e
}

// checkScope answers 404 for a subscription, resource group or server other than the
// configured one, and for a database this server does not have.
func (s *Service) checkScope(sc scope) *armError {
	switch {
	case s.opts.Subscription != "" && !strings.EqualFold(sc.subscription, s.opts.Subscription):
		return newError(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", sc.subscription)
	case s.opts.ResourceGroup != "" && !strings.EqualFold(sc.resourceGroup, s.opts.ResourceGroup):
		return newError(http.StatusNotFound, "ResourceGroupNotFound", "Resource group '%s' could not be found.", sc.resourceGroup)
	case s.opts.Server != "" && !strings.EqualFold(sc.server, s.opts.Server):
		return newError(http.StatusNotFound, "ServerNotInSubscriptionResourceGroup",
			"Specified server '%s' does not exist in the specified resource group and subscription.", sc.server)
	}
	if _, ok := s.eng.Database(sc.database); !ok {
		return newError(http.StatusNotFound, "DatabaseDoesNotExist",
			"User has specified a database name that does not exist on this server instance: '%s'.", sc.database)
	}
	return nil
}

// cancel asks a live, cancellable operation of the database to stop and returns at once: the
// operation shows CancelInProgress until its work stops, then Cancelled (or how it ended, if
// the cancel came after its last check).
func (s *Service) cancel(rt route) *armError {
	id, err := uuid.Parse(rt.operationID)
	if err != nil || len(rt.operationID) != 36 {
		return newError(http.StatusBadRequest, "InvalidParameterValue",
			"Invalid value given for parameter operationId: '%s' is not a GUID. Specify a valid parameter value.", rt.operationID)
	}
	s.cancelMu.Lock()
	defer s.cancelMu.Unlock()
	snap, err := s.reg.Get(id)
	if err != nil || snap.Scope != rt.scope.database {
		return operationNotFound(id)
	}
	if e := cannotCancel(snap); e != nil {
		return e
	}
	out, err := s.reg.Cancel(context.Background(), id, ops.CancelRequest{
		Reason: CancelReason, Mode: ops.Graceful, Origin: Surface, NoWait: true,
	})
	switch {
	case errors.Is(err, ops.ErrNotFound):
		return operationNotFound(id)
	case err != nil:
		if e := cannotCancel(out.Snapshot); e != nil {
			return e
		}
		return newError(http.StatusInternalServerError, "InternalServerError", "%v", err)
	case !out.Accepted:
		return cannotCancel(out.Snapshot) // it ended between the look and the cancel
	}
	return nil
}

func operationNotFound(id uuid.UUID) *armError {
	return newError(http.StatusNotFound, "OperationIdNotFound", "The operation with Id '%s' does not exist.", id)
}

// cannotCancel is the 409 for an operation that is not cancellable, has ended, or is already
// being cancelled; nil for one a cancel may stop.
func cannotCancel(snap ops.Snapshot) *armError {
	why := ""
	switch {
	case !snap.Kind.Cancellable:
		why = "a " + snap.Kind.Name + " operation cannot be cancelled; cancel is supported for ingest-from-query operations (.set, .append, .set-or-append, .set-or-replace)"
	case snap.State.Terminal():
		why = "its state is " + string(state(snap))
	default:
		if _, requested := snap.CancelRequested(); requested {
			why = "its state is " + string(CancelInProgress)
		}
	}
	if why == "" {
		return nil
	}
	return newError(http.StatusConflict, "CannotCancelOperation", "The management operation is in a state that cannot be cancelled: %s.", why)
}

// authorize checks the bearer token when the service has one, in ARM's words.
func (s *Service) authorize(header string) *armError {
	if s.opts.AuthToken == "" {
		return nil
	}
	switch httpmw.CheckBearer(header, s.opts.AuthToken) {
	case httpmw.RightToken:
		return nil
	case httpmw.WrongToken:
		return newError(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid: it is not this server's token.")
	}
	return newError(http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing: give Authorization: Bearer <the server's token>.")
}

// now is the registry's clock, read without taking a reading from a deterministic one, so that
// listing does not shift a deterministic run's times.
func (s *Service) now() time.Time {
	c := s.reg.Clock()
	if p, ok := c.(interface{ Peek() time.Time }); ok {
		return p.Peek()
	}
	return c.Now()
}
