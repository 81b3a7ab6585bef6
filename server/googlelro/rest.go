package googlelro

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/kustard/kustard/server/httpmw"
)

// maxCancelBody bounds a cancel request's body, which is at most {"name": "…"}.
const maxCancelBody = 64 << 10

// Owns reports whether a request is for this front door's REST surface: a path under
// /v1/operations or /v1/projects/, or the REST client's WaitOperation (GET /?name=…), which it
// answers UNIMPLEMENTED. A server that composes front doors routes these here.
func Owns(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/v1/operations", strings.HasPrefix(p, "/v1/operations/"), strings.HasPrefix(p, "/v1/operations:"),
		strings.HasPrefix(p, "/v1/projects/"):
		return true
	case p == "/" || p == "":
		return r.URL.Query().Has("name")
	}
	return false
}

// REST returns the HTTP handler of the REST surface (see the package doc, and Owns).
func (s *Service) REST() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// route is what a path and method call, after AIP-127 transcoding.
type route struct {
	method string // the RPC
	name   string
}

// recordingWriter carries the request's log record to writeError, which notes the error's code.
type recordingWriter struct {
	http.ResponseWriter
	rec *httpmw.Record
}

// Unwrap lets http.ResponseController reach the connection.
func (w recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	// The request's log record (when the server logs) names the RPC: lro.CancelOperation.
	rec := httpmw.RecordOf(r.Context())
	rec.SetKind("lro")
	if rec != nil {
		w = recordingWriter{w, rec}
	}
	if aerr := s.authorize(r.Header.Get("Authorization")); aerr != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Kustard"`)
		writeError(w, aerr)
		return
	}
	rt, aerr := match(r)
	if rt.method != "" {
		rec.SetKind("lro." + rt.method)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	// Only authorized requests take one of the concurrent requests' places.
	if l := s.opts.Limiter; l != nil {
		if !l.TryAcquire() {
			seconds := max(1, int(math.Ceil(l.RetryAfter().Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(seconds))
			writeError(w, newError(codes.ResourceExhausted, "TOO_MANY_REQUESTS",
				"The server is already serving %d requests, its limit of concurrent requests; retry after %d s.", l.Cap(), seconds))
			return
		}
		defer l.Release()
	}
	q := r.URL.Query()
	allowed := []string{"$alt", "alt"}
	if rt.method == "ListOperations" {
		allowed = append(allowed, "filter", "pageSize", "pageToken", "returnPartialSuccess")
	}
	for key := range q {
		if !slices.Contains(allowed, key) {
			writeError(w, newError(codes.InvalidArgument, "INVALID_ARGUMENT", "Invalid query parameter %q: %s takes %s.", key, rt.method, strings.Join(allowed[2:], ", ")+orNone(allowed[2:])))
			return
		}
		if len(q[key]) > 1 {
			writeError(w, newError(codes.InvalidArgument, "INVALID_ARGUMENT", "Query parameter %q is given %d times; give it once.", key, len(q[key])))
			return
		}
	}
	switch rt.method {
	case "ListOperations":
		req := &longrunningpb.ListOperationsRequest{Name: rt.name, Filter: q.Get("filter"), PageToken: q.Get("pageToken")}
		if v := q.Get("pageSize"); v != "" {
			n, err := strconv.ParseInt(v, 10, 32)
			if err != nil {
				writeError(w, newError(codes.InvalidArgument, "INVALID_PAGE_SIZE", "pageSize %q is not a 32-bit integer.", v))
				return
			}
			req.PageSize = int32(n)
		}
		if v := q.Get("returnPartialSuccess"); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, newError(codes.InvalidArgument, "INVALID_ARGUMENT", "returnPartialSuccess %q is not true or false.", v))
				return
			}
			req.ReturnPartialSuccess = b
		}
		resp, aerr := s.list(req)
		reply(w, resp, aerr)
	case "GetOperation":
		op, aerr := s.get(rt.name)
		reply(w, op, aerr)
	case "DeleteOperation":
		empty, aerr := s.delete(rt.name)
		reply(w, empty, aerr)
	case "CancelOperation":
		if aerr := cancelBody(r, rt.name); aerr != nil {
			writeError(w, aerr)
			return
		}
		if aerr := s.cancel(rt.name); aerr != nil {
			writeError(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, []byte("{}"))
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "no query parameters"
	}
	return ""
}

// match transcodes a request by the HTTP rules of both seed services (AIP-127): the verb is the
// ":…" suffix of the last segment, * is one segment, ** the rest.
func match(r *http.Request) (route, *apiError) {
	path := r.URL.EscapedPath()
	if path == "/" || path == "" {
		return route{}, newError(codes.Unimplemented, "WAIT_OVER_REST",
			"WaitOperation has no HTTP binding: call it over gRPC (kustard serve --grpc-listen), or poll GetOperation.")
	}
	notFound := newError(codes.NotFound, "METHOD_NOT_FOUND", "Method not found: %s %s; %s.", r.Method, path, routesHelp)
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return route{}, notFound
	}
	verb := ""
	last := rest[strings.LastIndexByte(rest, '/')+1:]
	if i := strings.LastIndexByte(last, ':'); i >= 0 {
		verb = last[i+1:]
		rest = rest[:len(rest)-len(last)+i]
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		if seg == "" {
			return route{}, notFound
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return route{}, newError(codes.InvalidArgument, "INVALID_NAME", "The path segment %q is not valid percent-encoding.", seg)
		}
		segs[i] = dec
	}
	name := strings.Join(segs, "/")
	var methods map[string]string // HTTP method → RPC
	switch {
	case segs[0] == "operations" && len(segs) == 1 && verb == "":
		methods = map[string]string{http.MethodGet: "ListOperations"}
	case segs[0] == "operations" && verb == "cancel":
		methods = map[string]string{http.MethodPost: "CancelOperation"}
	case segs[0] == "operations" && verb == "":
		methods = map[string]string{http.MethodGet: "GetOperation", http.MethodDelete: "DeleteOperation"}
	case segs[0] == "projects" && len(segs) == 5 && segs[2] == "locations" && segs[4] == "operations" && verb == "":
		methods = map[string]string{http.MethodGet: "ListOperations"}
		name = strings.Join(segs[:4], "/")
	case segs[0] == "projects" && len(segs) == 6 && segs[2] == "locations" && segs[4] == "operations" && verb == "cancel":
		methods = map[string]string{http.MethodPost: "CancelOperation"}
	case segs[0] == "projects" && len(segs) == 6 && segs[2] == "locations" && segs[4] == "operations" && verb == "":
		methods = map[string]string{http.MethodGet: "GetOperation", http.MethodDelete: "DeleteOperation"}
	default:
		return route{}, notFound
	}
	rpc, ok := methods[r.Method]
	if !ok {
		var allow []string
		for m := range methods {
			allow = append(allow, m)
		}
		slices.Sort(allow)
		return route{}, newError(codes.NotFound, "METHOD_NOT_FOUND", "Method not found: %s %s; this path takes %s.", r.Method, path, strings.Join(allow, " and "))
	}
	return route{method: rpc, name: name}, nil
}

const routesHelp = "the operations API is GET /v1/operations, GET and DELETE /v1/operations/{id}, POST /v1/operations/{id}:cancel, and the same under /v1/projects/{database}/locations/{location}"

// cancelBody checks a cancel request's body: empty, {}, or {"name": …} with the path's name, as
// Google's REST client sends it. Any other field is INVALID_ARGUMENT.
func cancelBody(r *http.Request, name string) *apiError {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxCancelBody+1))
	if errors.Is(err, httpmw.ErrBodyTimeout) {
		return newError(codes.DeadlineExceeded, "BODY_TIMEOUT", "%v.", err)
	}
	if err != nil {
		return newError(codes.InvalidArgument, "INVALID_BODY", "The request body could not be read: %v.", err)
	}
	if len(data) > maxCancelBody {
		return newError(codes.InvalidArgument, "INVALID_BODY", "The request body is over %d bytes; a cancel's body is empty, {} or {\"name\": …}.", maxCancelBody)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&fields); err != nil || fields == nil || dec.More() {
		return newError(codes.InvalidArgument, "INVALID_BODY", "Invalid JSON payload received: the body of a cancel is empty, {} or {\"name\": %q}.", name)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k != "name" {
			return newError(codes.InvalidArgument, "INVALID_BODY", "Invalid JSON payload received. Unknown name %q: Cannot find field; a cancel's body holds at most name.", k)
		}
		var got string
		if err := json.Unmarshal(fields[k], &got); err != nil {
			return newError(codes.InvalidArgument, "INVALID_BODY", "Invalid JSON payload received: name is a string, not %s.", fields[k])
		}
		if got != name {
			return newError(codes.InvalidArgument, "NAME_MISMATCH", "The body's name %q is not the path's %q.", got, name)
		}
	}
	return nil
}

// authorize checks the bearer token when the service has one (REST: the Authorization header;
// gRPC: the authorization metadata, same form).
func (s *Service) authorize(header string) *apiError {
	if s.opts.AuthToken == "" {
		return nil
	}
	switch httpmw.CheckBearer(header, s.opts.AuthToken) {
	case httpmw.RightToken:
		return nil
	case httpmw.WrongToken:
		return newError(codes.Unauthenticated, "INVALID_TOKEN", "The bearer token is not this server's.")
	}
	return newError(codes.Unauthenticated, "TOKEN_REQUIRED", "The request needs the server's bearer token (Authorization: Bearer <token>).")
}

func reply(w http.ResponseWriter, m proto.Message, aerr *apiError) {
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	data, err := marshal(m)
	if err != nil {
		writeError(w, newError(codes.Internal, "INTERNAL", "encoding the reply: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, data)
}

// marshal is protojson, indented as Google's REST replies are. protojson varies its whitespace
// on purpose; re-indenting makes the bytes the same on every run.
func marshal(m proto.Message) ([]byte, error) {
	data, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, data, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// writeError writes Google's JSON error body (AIP-193): the HTTP code, the message, the
// google.rpc.Code name and an ErrorInfo.
func writeError(w http.ResponseWriter, e *apiError) {
	if rw, ok := w.(recordingWriter); ok {
		rw.rec.Failed(codeName(e.code))
	}
	st := e.GRPCStatus().Proto()
	details := make([]json.RawMessage, 0, len(st.Details))
	for _, d := range st.Details {
		if data, err := protojson.Marshal(d); err == nil {
			details = append(details, data)
		}
	}
	body := struct {
		Error struct {
			Code    int               `json:"code"`
			Message string            `json:"message"`
			Status  string            `json:"status"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}{}
	body.Error.Code, body.Error.Message, body.Error.Status, body.Error.Details = httpStatus(e.code), e.message, codeName(e.code), details
	data, _ := json.Marshal(body)
	var out bytes.Buffer
	_ = json.Indent(&out, data, "", "  ")
	out.WriteByte('\n')
	writeJSON(w, httpStatus(e.code), out.Bytes())
}

func writeJSON(w http.ResponseWriter, code int, data []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}
