// Package googlelro serves Kustard's operations through Google's long-running operations API,
// google.longrunning.Operations, so that any client built for Google LROs can list, watch, wait
// for and cancel Kustard's ingest operations: over gRPC (GRPCServer) and over REST (REST), with
// both HTTP templates of the seed services:
//
//	GET    /v1/operations                                   ListOperations (name "operations")
//	GET    /v1/operations/{id}                              GetOperation
//	DELETE /v1/operations/{id}                              DeleteOperation
//	POST   /v1/operations/{id}:cancel                       CancelOperation
//	GET    /v1/projects/{db}/locations/{loc}/operations      ListOperations of one database
//	GET    /v1/projects/{db}/locations/{loc}/operations/{id} GetOperation, and DELETE, POST …:cancel
//
// WaitOperation has no HTTP binding: it is gRPC only. The operations are the engine's operations
// registry, the one Kusto's `.show operations` reads, so both front doors see the same
// operations; a delete here hides an ended operation from this surface only (ops.Registry.Hide).
// JSON follows protojson; errors are Google's JSON error body over REST and the same codes over
// gRPC. The package knows nothing of listening, TLS or the Kusto endpoints: cmd/kustard composes
// them.
package googlelro

import (
	"context"
	"errors"
	"strings"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/server/httpmw"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Surface is this front door's name in the operations core: the origin of its cancel requests
// and the surface its deletes hide operations from.
const Surface = "google"

// CancelReason is the reason a cancel through this surface records, which `.show operations`
// shows as the canceled operation's Status and GetOperation as its error's message.
const CancelReason = "Canceled through google.longrunning.Operations.CancelOperation"

// Defaults of Options.
const (
	DefaultLocation = "local"
	DefaultPageSize = 100
	MaxPageSize     = 1000
	DefaultMaxWait  = 5 * time.Minute
)

// Options configure a Service; zero values choose the defaults.
type Options struct {
	// Location is the {location} of project-style names
	// (projects/{database}/locations/{location}/operations/{id}); default "local".
	Location string
	// AuthToken, when set, is the bearer token every call requires (REST: the Authorization
	// header; gRPC: the "authorization" metadata).
	AuthToken string
	// MaxWait bounds a WaitOperation, whatever its timeout asks; default 5 minutes.
	MaxWait time.Duration
	// Limiter, when set, bounds the REST requests served at once, in a pool the server's other
	// front doors may share; past it a request gets RESOURCE_EXHAUSTED (429) and Retry-After.
	Limiter *httpmw.Limiter
}

// Service is the Operations service over one engine's operations. It is safe for concurrent use.
type Service struct {
	eng  *engine.Engine
	reg  *ops.Registry
	opts Options
}

// New returns the service for eng's operations.
func New(eng *engine.Engine, opts Options) *Service {
	if opts.Location == "" {
		opts.Location = DefaultLocation
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	return &Service{eng: eng, reg: eng.Ops(), opts: opts}
}

// find returns the operation a name names, as this surface sees it.
func (s *Service) find(name string) (opName, ops.Snapshot, *apiError) {
	n, aerr := s.parseName(name)
	if aerr != nil {
		return n, ops.Snapshot{}, aerr
	}
	snap, err := s.reg.Get(n.id)
	if err != nil || snap.Hidden(Surface) || (n.project != "" && n.project != snap.Scope) {
		return n, ops.Snapshot{}, notFound(name)
	}
	return n, snap, nil
}

func notFound(name string) *apiError {
	return newError(codes.NotFound, "OPERATION_NOT_FOUND", "Operation %q was not found.", name)
}

func (s *Service) get(name string) (*longrunningpb.Operation, *apiError) {
	n, snap, aerr := s.find(name)
	if aerr != nil {
		return nil, aerr
	}
	return s.operation(snap, n.projectStyle), nil
}

// cancel asks the operation to stop and returns at once: the cancel is asynchronous and best
// effort, as the proto says. A repeated cancel while the operation runs is accepted again.
func (s *Service) cancel(name string) *apiError {
	_, snap, aerr := s.find(name)
	if aerr != nil {
		return aerr
	}
	out, err := s.reg.Cancel(context.Background(), snap.ID, ops.CancelRequest{
		Reason: CancelReason, Mode: ops.Graceful, Origin: Surface, NoWait: true,
	})
	switch {
	case errors.Is(err, ops.ErrNotFound):
		return notFound(name)
	case errors.Is(err, ops.ErrNotCancellable):
		return newError(codes.Unimplemented, "NOT_CANCELLABLE",
			"Operation %q is a %s operation, which cannot be canceled; cancel is supported for ingest-from-query operations (.set, .append, .set-or-append, .set-or-replace).", name, out.Kind.Name)
	case err != nil:
		return newError(codes.Internal, "INTERNAL", "%v", err)
	case !out.Accepted:
		return newError(codes.FailedPrecondition, "OPERATION_FINISHED", "Operation has already finished: its state is %s.", engine.KustoState(out.State))
	}
	return nil
}

// delete hides an ended operation from this surface; it never cancels.
func (s *Service) delete(name string) (*emptypb.Empty, *apiError) {
	_, snap, aerr := s.find(name)
	if aerr != nil {
		return nil, aerr
	}
	if _, err := s.reg.Hide(snap.ID, Surface); err != nil {
		if errors.Is(err, ops.ErrLive) {
			return nil, newError(codes.FailedPrecondition, "OPERATION_RUNNING",
				"Operation %q has not finished; DeleteOperation does not cancel it: cancel it first (CancelOperation), or wait until it is done.", name)
		}
		return nil, notFound(name)
	}
	return &emptypb.Empty{}, nil
}

// wait waits until the operation is done, timeout has passed, or ctx is done, whichever comes
// first, and returns the operation as it then is. The caller's deadline ends the call with its
// own error; timeout (MaxWait when not given, and at most MaxWait) ends it with the operation,
// done or not: a zero timeout returns at once.
func (s *Service) wait(ctx context.Context, name string, timeout time.Duration, given bool) (*longrunningpb.Operation, error) {
	n, snap, aerr := s.find(name)
	if aerr != nil {
		return nil, aerr
	}
	if !given || timeout > s.opts.MaxWait {
		timeout = s.opts.MaxWait
	}
	waitCtx, stop := context.WithTimeout(ctx, timeout)
	defer stop()
	if _, err := s.reg.Wait(waitCtx, snap.ID); err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if snap, aerr = s.refind(n); aerr != nil {
		return nil, aerr
	}
	return s.operation(snap, n.projectStyle), nil
}

func (s *Service) refind(n opName) (ops.Snapshot, *apiError) {
	snap, err := s.reg.Get(n.id)
	if err != nil || snap.Hidden(Surface) {
		return ops.Snapshot{}, notFound(n.String(s.opts.Location))
	}
	return snap, nil
}

// list pages through the operations a parent and filter select.
func (s *Service) list(req *longrunningpb.ListOperationsRequest) (*longrunningpb.ListOperationsResponse, *apiError) {
	parent, aerr := s.parseParent(req.GetName())
	if aerr != nil {
		return nil, aerr
	}
	if req.GetReturnPartialSuccess() {
		return nil, newError(codes.Unimplemented, "PARTIAL_SUCCESS_UNSUPPORTED",
			"returnPartialSuccess is not supported: every operation of this server is always reachable.")
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		return nil, newError(codes.InvalidArgument, "INVALID_PAGE_SIZE", "pageSize %d is negative; give 0 for the default (%d), or up to %d.", size, DefaultPageSize, MaxPageSize)
	case size == 0:
		size = DefaultPageSize
	case size > MaxPageSize:
		size = MaxPageSize
	}
	f, aerr := parseFilter(req.GetFilter())
	if aerr != nil {
		return nil, aerr
	}
	f.Surface = Surface
	if parent.project != "" {
		f.Scopes = []string{parent.project}
	}
	page, next, err := s.reg.List(f, size, req.GetPageToken())
	if err != nil {
		return nil, newError(codes.InvalidArgument, "INVALID_PAGE_TOKEN",
			"pageToken %q was not issued by this server for this list (same name and filter); start again without a pageToken.", req.GetPageToken())
	}
	resp := &longrunningpb.ListOperationsResponse{NextPageToken: next}
	for _, snap := range page {
		resp.Operations = append(resp.Operations, s.operation(snap, parent.projectStyle))
	}
	return resp, nil
}

// opName is an operation's name, parsed: operations/{id}, or
// projects/{project}/locations/{location}/operations/{id}.
type opName struct {
	id           uuid.UUID
	project      string // the database, for a project-style name
	projectStyle bool
}

func (n opName) String(location string) string {
	if n.projectStyle {
		return "projects/" + n.project + "/locations/" + location + "/operations/" + n.id.String()
	}
	return "operations/" + n.id.String()
}

const nameForms = "operations/{OperationId} or projects/{database}/locations/{location}/operations/{OperationId}, with the OperationId a GUID"

func (s *Service) parseName(name string) (opName, *apiError) {
	segs := strings.Split(name, "/")
	var n opName
	var id string
	switch {
	case len(segs) == 2 && segs[0] == "operations":
		id = segs[1]
	case len(segs) == 6 && segs[0] == "projects" && segs[2] == "locations" && segs[4] == "operations" && segs[1] != "":
		if segs[3] != s.opts.Location {
			return n, newError(codes.NotFound, "LOCATION_NOT_FOUND", "Location %q was not found: this server's location is %q.", segs[3], s.opts.Location)
		}
		n.project, n.projectStyle, id = segs[1], true, segs[5]
	default:
		return n, newError(codes.InvalidArgument, "INVALID_NAME", "%q is not an operation name: expected %s.", name, nameForms)
	}
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return n, newError(codes.InvalidArgument, "INVALID_NAME", "%q is not an operation name: %q is not a GUID (expected %s).", name, id, nameForms)
	}
	n.id = u
	return n, nil
}

// parseParent reads a list's name: "operations" (or empty), or projects/{database}/locations/
// {location}, with or without "/operations" after it (Google's REST client sends the name as
// the path); "-" as the database lists every database's operations.
func (s *Service) parseParent(name string) (opName, *apiError) {
	if name == "" || name == "operations" {
		return opName{}, nil
	}
	segs := strings.Split(strings.TrimSuffix(name, "/operations"), "/")
	if len(segs) != 4 || segs[0] != "projects" || segs[2] != "locations" || segs[1] == "" {
		return opName{}, newError(codes.InvalidArgument, "INVALID_NAME",
			"%q is not a parent of operations: expected operations, or projects/{database}/locations/{location}[/operations] (database - for every database).", name)
	}
	if segs[3] != s.opts.Location && segs[3] != "-" {
		return opName{}, newError(codes.NotFound, "LOCATION_NOT_FOUND", "Location %q was not found: this server's location is %q.", segs[3], s.opts.Location)
	}
	p := opName{projectStyle: true}
	if segs[1] != "-" {
		p.project = segs[1]
	}
	return p, nil
}
