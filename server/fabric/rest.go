package fabric

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/server/httpmw"
)

// REST returns the HTTP handler of the surface (see the package doc, and Owns).
func (s *Service) REST() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// recordingWriter carries the request's log record to writeError, which notes the error's code.
type recordingWriter struct {
	http.ResponseWriter
	rec *httpmw.Record
}

// Unwrap lets http.ResponseController reach the connection.
func (w recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// route is what a request's method and path call.
type route struct {
	api       string // StartDataLoss, GetFaultOperationList, …
	service   string // {serviceId}
	partition string // {partitionId}
	node      string // {nodeName}
}

// match routes a request; an unknown path or method is E_INVALIDARG, as the gateway answers a URL
// that matches no handler.
func match(r *http.Request) (route, *fabricError) {
	p := r.URL.Path
	post, get := r.Method == http.MethodPost, r.Method == http.MethodGet
	noRoute := errInvalidArg("%s %s matches no API of this gateway: it serves the Fault Analysis APIs under /Faults/ and GetNodeInfo under /Nodes/", r.Method, p)
	switch {
	case (p == "/Faults" || p == "/Faults/") && get:
		return route{api: "GetFaultOperationList"}, nil
	case p == "/Faults/$/Cancel" && post:
		return route{api: "CancelOperation"}, nil
	case (p == "/Nodes" || p == "/Nodes/") && get:
		return route{api: "GetNodeInfoList"}, nil
	case strings.HasPrefix(p, "/Nodes/") && get && !strings.Contains(p[len("/Nodes/"):], "/"):
		return route{api: "GetNodeInfo", node: p[len("/Nodes/"):]}, nil
	case strings.HasPrefix(p, "/Faults/Nodes/"):
		name, action, ok := strings.Cut(p[len("/Faults/Nodes/"):], "/$/")
		if !ok || name == "" {
			return route{}, noRoute
		}
		switch strings.TrimSuffix(action, "/") {
		case "StartTransition":
			if post {
				return route{api: "StartNodeTransition", node: name}, nil
			}
		case "GetTransitionProgress":
			if get {
				return route{api: "GetNodeTransitionProgress", node: name}, nil
			}
		}
	case strings.HasPrefix(p, "/Faults/Services/"):
		service, rest, ok := strings.Cut(p[len("/Faults/Services/"):], "/$/GetPartitions/")
		if !ok || service == "" {
			return route{}, noRoute
		}
		partition, action, ok := strings.Cut(rest, "/$/")
		if !ok || partition == "" {
			return route{}, noRoute
		}
		rt := route{service: service, partition: partition}
		apis := map[string]struct {
			api  string
			post bool
		}{
			"StartDataLoss": {"StartDataLoss", true}, "GetDataLossProgress": {"GetDataLossProgress", false},
			"StartRestart": {"StartPartitionRestart", true}, "GetRestartProgress": {"GetPartitionRestartProgress", false},
			"StartQuorumLoss": {"StartQuorumLoss", true}, "GetQuorumLossProgress": {"GetQuorumLossProgress", false},
		}
		if a, ok := apis[strings.TrimSuffix(action, "/")]; ok && a.post == post && (post || get) {
			rt.api = a.api
			return rt, nil
		}
	}
	return route{}, noRoute
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httpmw.RecordOf(r.Context())
	rec.SetKind("fabric")
	if rec != nil {
		w = recordingWriter{w, rec}
	}
	if !s.authorized(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Kustard"`)
		writeError(w, &fabricError{http.StatusUnauthorized, "FABRIC_E_SERVER_AUTHENTICATION_FAILED", "the request needs Authorization: Bearer and the server's token"})
		return
	}
	rt, ferr := match(r)
	if rt.api != "" {
		rec.SetKind("fabric." + rt.api)
	}
	if ferr != nil {
		writeError(w, ferr)
		return
	}
	q := r.URL.Query()
	for key, vals := range q {
		if len(vals) > 1 {
			writeError(w, errInvalidArg("query parameter %q is given %d times; give it once", key, len(vals)))
			return
		}
	}
	if ferr := checkAPIVersion(q); ferr != nil {
		writeError(w, ferr)
		return
	}
	if v := q.Get("timeout"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 1 || n > math.MaxUint32 {
			writeError(w, errInvalidArg("timeout %q is not a number of seconds from 1 to 4294967295", v))
			return
		}
	}
	if l := s.opts.Limiter; l != nil {
		if !l.TryAcquire() {
			seconds := max(1, int(math.Ceil(l.RetryAfter().Seconds())))
			w.Header().Set("Retry-After", strconv.Itoa(seconds))
			writeError(w, &fabricError{http.StatusServiceUnavailable, "FABRIC_E_SERVICE_TOO_BUSY", "the server is already serving its limit of concurrent requests; retry after " + strconv.Itoa(seconds) + " s"})
			return
		}
		defer l.Release()
	}
	var err *fabricError
	switch rt.api {
	case "GetFaultOperationList":
		err = s.list(w, q)
	case "CancelOperation":
		err = s.cancel(w, q)
	case "GetNodeInfoList":
		writeJSON(w, http.StatusOK, map[string]any{"ContinuationToken": "", "Items": []nodeInfo{s.node()}})
	case "GetNodeInfo":
		if rt.node != s.opts.NodeName {
			w.WriteHeader(http.StatusNoContent) // the gateway's answer for a node it does not know
			return
		}
		writeJSON(w, http.StatusOK, s.node())
	case "StartNodeTransition":
		err = s.startTransition(w, rt, q)
	case "StartDataLoss", "StartPartitionRestart":
		err = s.startPartitionFault(w, rt, q)
	case "StartQuorumLoss":
		err = s.startQuorumLoss(rt, q)
	default: // the progress APIs
		err = s.progress(w, rt, q)
	}
	if err != nil {
		writeError(w, err)
	}
}

func (s *Service) authorized(header string) bool {
	if s.opts.AuthToken == "" {
		return true
	}
	return httpmw.CheckBearer(header, s.opts.AuthToken) == httpmw.RightToken
}

// checkAPIVersion applies the gateway's rule: api-version is required, a -preview suffix is
// dropped, and the number must lie in [1.0, MaxAPIVersion].
func checkAPIVersion(q map[string][]string) *fabricError {
	vals, ok := q["api-version"]
	if !ok || vals[0] == "" {
		return errInvalidArg("api-version is required: give a version from 1.0 to %.1f, such as 6.0", MaxAPIVersion)
	}
	v := strings.TrimSuffix(vals[0], "-preview")
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 1.0 || f > MaxAPIVersion {
		return errInvalidArg("api-version %q is not supported: give a version from 1.0 to %.1f, such as 6.0", vals[0], MaxAPIVersion)
	}
	return nil
}

// operationID reads OperationId: missing is FABRIC_E_NAME_DOES_NOT_EXIST (404), as the gateway's
// argument parser reports it; not a GUID is E_INVALIDARG.
func operationID(q map[string][]string) (uuid.UUID, *fabricError) {
	vals, ok := q["OperationId"]
	if !ok {
		return uuid.Nil, &fabricError{http.StatusNotFound, "FABRIC_E_NAME_DOES_NOT_EXIST", "OperationId is required: a GUID that names the operation"}
	}
	id, err := uuid.Parse(vals[0])
	if err != nil {
		return uuid.Nil, errInvalidArg("OperationId %q is not a GUID", vals[0])
	}
	if id == uuid.Nil {
		return uuid.Nil, errInvalidArg("OperationId %q is the empty GUID: choose a GUID of your own for each operation", vals[0])
	}
	return id, nil
}

// enum reads a required enumeration parameter.
func enum(q map[string][]string, name string, allowed ...string) (string, *fabricError) {
	vals, ok := q[name]
	if !ok {
		return "", errInvalidArg("%s is required: one of %s", name, strings.Join(allowed, ", "))
	}
	for _, a := range allowed {
		if strings.EqualFold(vals[0], a) {
			return a, nil
		}
	}
	return "", errInvalidArg("%s %q is not one of %s", name, vals[0], strings.Join(allowed, ", "))
}

// partition resolves {serviceId} and {partitionId} to a database and one of its tables.
func (s *Service) partition(rt route) (db string, table engine.TableInfo, ferr *fabricError) {
	name := strings.TrimPrefix(rt.service, "fabric:/")
	if i := strings.LastIndexAny(name, "~/"); i >= 0 {
		name = name[i+1:]
	}
	d, ok := s.eng.Database(name)
	if !ok {
		return "", table, &fabricError{http.StatusNotFound, "FABRIC_E_SERVICE_DOES_NOT_EXIST", "service '" + rt.service + "' does not exist: a service is a database of this Kustard server"}
	}
	id, err := uuid.Parse(rt.partition)
	if err != nil {
		return "", table, errInvalidArg("partitionId %q is not a GUID", rt.partition)
	}
	t, ok := s.eng.TableByID(d.Name, id)
	if !ok {
		return "", table, &fabricError{http.StatusNotFound, "FABRIC_E_PARTITION_NOT_FOUND", "partition '" + rt.partition + "' was not found in service 'fabric:/" + d.Name + "': a partition is a table, by the TableId of .show table T details"}
	}
	return d.Name, t, nil
}

// started maps the engine's answer to a Start call: 202 Accepted, or its error.
func started(w http.ResponseWriter, id uuid.UUID, err error) *fabricError {
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
		return nil
	case errors.Is(err, ops.ErrAlreadyExists):
		return errAlreadyExists(id)
	case errors.Is(err, engine.ErrNoTable):
		return &fabricError{http.StatusNotFound, "FABRIC_E_PARTITION_NOT_FOUND", err.Error()}
	case errors.Is(err, engine.ErrNodeStopped):
		return &fabricError{http.StatusBadRequest, "FABRIC_E_NODE_IS_DOWN", "the node is down: " + err.Error()}
	case errors.Is(err, engine.ErrNodeUp):
		return &fabricError{http.StatusBadRequest, "FABRIC_E_NODE_IS_UP", "the node is up: Start applies to a node a Stop transition stopped"}
	case errors.Is(err, engine.ErrStopDuration):
		return &fabricError{http.StatusBadRequest, "FABRIC_E_INVALID_DURATION", "StopDurationInSeconds " + err.Error()}
	case errors.Is(err, ops.ErrClosed):
		return &fabricError{http.StatusServiceUnavailable, "FABRIC_E_NOT_READY", "Kustard is shutting down"}
	}
	return &fabricError{http.StatusInternalServerError, "E_FAIL", err.Error()}
}

func (s *Service) spec(id uuid.UUID, info *faultInfo) ops.Spec {
	return ops.Spec{ID: id, User: "fabric", Principal: "fabric", Detail: info}
}

func (s *Service) startPartitionFault(w http.ResponseWriter, rt route, q map[string][]string) *fabricError {
	id, ferr := operationID(q)
	if ferr != nil {
		return ferr
	}
	var all bool
	if rt.api == "StartDataLoss" {
		mode, ferr := enum(q, "DataLossMode", "PartialDataLoss", "FullDataLoss")
		if ferr != nil {
			return ferr
		}
		all = mode == "FullDataLoss"
	} else {
		mode, ferr := enum(q, "RestartPartitionMode", "AllReplicasOrInstances", "OnlyActiveSecondaries")
		if ferr != nil {
			return ferr
		}
		if mode == "OnlyActiveSecondaries" {
			return errInvalidArg("RestartPartitionMode OnlyActiveSecondaries restarts nothing here: a Kustard table has one replica, its primary; use AllReplicasOrInstances")
		}
	}
	if ferr := s.unused(id); ferr != nil {
		return ferr
	}
	db, t, ferr := s.partition(rt)
	if ferr != nil {
		return ferr
	}
	spec := s.spec(id, &faultInfo{serviceName: "fabric:/" + db, partition: t.ID})
	var err error
	if rt.api == "StartDataLoss" {
		_, err = s.eng.StartDataLoss(spec, db, t.ID, all)
	} else {
		_, err = s.eng.StartTableRestart(spec, db, t.ID)
	}
	return started(w, id, err)
}

// unused refuses an OperationId the registry already holds, before anything else is checked:
// the id is the idempotency key of a Start call.
func (s *Service) unused(id uuid.UUID) *fabricError {
	if _, err := s.reg.Get(id); err == nil {
		return errAlreadyExists(id)
	}
	return nil
}

func (s *Service) startQuorumLoss(rt route, q map[string][]string) *fabricError {
	if _, ferr := operationID(q); ferr != nil {
		return ferr
	}
	if _, _, ferr := s.partition(rt); ferr != nil {
		return ferr
	}
	return &fabricError{http.StatusBadRequest, "FABRIC_E_INVALID_OPERATION",
		"StartQuorumLoss is not supported: a Kustard table has one replica, which cannot lose a quorum; use StartDataLoss or StartPartitionRestart"}
}

func (s *Service) startTransition(w http.ResponseWriter, rt route, q map[string][]string) *fabricError {
	id, ferr := operationID(q)
	if ferr != nil {
		return ferr
	}
	kind, ferr := enum(q, "NodeTransitionType", "Start", "Stop")
	if ferr != nil {
		return ferr
	}
	instance, ok := q["NodeInstanceId"]
	if !ok {
		return errInvalidArg("NodeInstanceId is required: the InstanceId of GET /Nodes/%s", s.opts.NodeName)
	}
	var stop time.Duration
	if kind == "Stop" {
		v, ok := q["StopDurationInSeconds"]
		if !ok {
			return errInvalidArg("StopDurationInSeconds is required for a Stop")
		}
		n, err := strconv.ParseInt(v[0], 10, 32)
		if err != nil {
			return errInvalidArg("StopDurationInSeconds %q is not a 32-bit integer", v[0])
		}
		stop = time.Duration(n) * time.Second
		if most := s.eng.Options().MaxNodeStop; n < 1 || stop > most {
			return &fabricError{http.StatusBadRequest, "FABRIC_E_INVALID_DURATION", fmt.Sprintf(
				"StopDurationInSeconds %d is out of range: this server stops its node for 1 to %d seconds", n, int64(most/time.Second))}
		}
	}
	if ferr := s.unused(id); ferr != nil {
		return ferr
	}
	if rt.node != s.opts.NodeName {
		return &fabricError{http.StatusNotFound, "FABRIC_E_NODE_NOT_FOUND", "node '" + rt.node + "' was not found: this server is one node, '" + s.opts.NodeName + "'"}
	}
	if instance[0] != s.opts.InstanceID {
		return &fabricError{http.StatusConflict, "FABRIC_E_INSTANCE_ID_MISMATCH", "The provided InstanceId did not match: node '" + s.opts.NodeName + "' is instance " + s.opts.InstanceID + ", not " + instance[0]}
	}
	spec := s.spec(id, &faultInfo{})
	var err error
	if kind == "Stop" {
		_, err = s.eng.StopNode(spec, stop)
	} else {
		_, err = s.eng.StartNode(spec)
	}
	return started(w, id, err)
}

// operationStatus is one entry of GetFaultOperationList.
type operationStatus struct {
	OperationID uuid.UUID `json:"OperationId"`
	State       string    `json:"State"`
	Type        string    `json:"Type"`
}

// filterBits reads TypeFilter or StateFilter: absent is 0, which like 65535 selects everything;
// decimal or hex (0xFF), as the gateway takes them.
func filterBits(q map[string][]string, name string) (int64, *fabricError) {
	vals, ok := q[name]
	if !ok || vals[0] == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(vals[0], 0, 32)
	if err != nil || n < 0 {
		return 0, errInvalidArg("%s %q is not a bit mask (a non-negative 32-bit integer, such as 65535 or 0xFF)", name, vals[0])
	}
	return n, nil
}

func (s *Service) list(w http.ResponseWriter, q map[string][]string) *fabricError {
	types, ferr := filterBits(q, "TypeFilter")
	if ferr != nil {
		return ferr
	}
	states, ferr := filterBits(q, "StateFilter")
	if ferr != nil {
		return ferr
	}
	snaps, _, err := s.reg.List(ops.Filter{Match: func(s ops.Snapshot) bool { return opType(s.Kind.Name) != "" }}, 0, "")
	if err != nil {
		return &fabricError{http.StatusInternalServerError, "E_FAIL", err.Error()}
	}
	out := []operationStatus{}
	for _, snap := range snaps {
		typ, state := opType(snap.Kind.Name), State(snap)
		if types != 0 && types&typeBits[typ] == 0 || states != 0 && states&stateBits[state] == 0 {
			continue
		}
		out = append(out, operationStatus{OperationID: snap.ID, State: state, Type: typ})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// cancel applies the shipped Fault Analysis Service's rules (ActionStore.CancelTestCommandAsync):
// only a live operation can be canceled (else FABRIC_E_KEY_NOT_FOUND); a forced cancel needs a
// graceful one first and cannot be repeated, and a graceful cancel cannot follow a forced one
// (FABRIC_E_INVALID_TEST_COMMAND_STATE); a graceful cancel repeated is a no-op.
func (s *Service) cancel(w http.ResponseWriter, q map[string][]string) *fabricError {
	id, ferr := operationID(q)
	if ferr != nil {
		return ferr
	}
	force := false
	if v, ok := q["Force"]; ok {
		b, err := parseBool(v[0])
		if err != nil {
			return errInvalidArg("Force %q is not a boolean: give true or false", v[0])
		}
		force = b
	}
	snap, err := s.reg.Get(id)
	if err != nil || opType(snap.Kind.Name) == "" || snap.State.Terminal() {
		return errKeyNotFound(id)
	}
	graceful := slices.ContainsFunc(snap.Cancels, func(c ops.Cancellation) bool { return c.Mode == ops.Graceful })
	switch {
	case snap.Forced():
		if force {
			return errInvalidState("force is not allowed for something in RollingBackForce")
		}
		return errInvalidState("CancelTestCommandAsync has already been called with force==true. Switching to force==false is not valid.")
	case force && !graceful:
		return errInvalidState("force is not allowed for something in NotRollingBack: cancel with Force=false first")
	case !force && graceful:
		w.WriteHeader(http.StatusOK) // already rolling back, as asked
		return nil
	}
	mode, reason := ops.Graceful, "Canceled through Service Fabric's CancelOperation"
	if force {
		mode, reason = ops.Forced, "Force-canceled through Service Fabric's CancelOperation"
	}
	out, err := s.reg.Cancel(context.Background(), id, ops.CancelRequest{Reason: reason, Mode: mode, Origin: Surface, NoWait: true})
	if err != nil || !out.Accepted {
		return errKeyNotFound(id) // it ended meanwhile
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// parseBool takes true and false in any case, as the gateway does, and nothing else.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, strconv.ErrSyntax
}
