package azuresql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// State is a ManagementOperationState, spelled as Azure SQL spells it: Cancelled with two l's,
// where Kusto (and ARM's async status) write Canceled.
type State string

// The states of ManagementOperationState.
const (
	Pending          State = "Pending"
	InProgress       State = "InProgress"
	Succeeded        State = "Succeeded"
	Failed           State = "Failed"
	CancelInProgress State = "CancelInProgress"
	Cancelled        State = "Cancelled"
)

// state is an operation's ManagementOperationState. A cancel that has been requested but has
// not yet stopped the work is CancelInProgress; once the work stops it ends as the work says
// (Cancelled, or Succeeded if the cancel came after its last check). Kusto's finer ends map to
// the coarser SQL ones: Skipped (ingestIfNotExists found its tag) and PartiallySucceeded are
// successes; BadInput, Abandoned and Throttled failures.
func state(s ops.Snapshot) State {
	switch s.State {
	case ops.Scheduled, ops.Running:
		if _, requested := s.CancelRequested(); requested {
			return CancelInProgress
		}
		if s.State == ops.Scheduled {
			return Pending
		}
		return InProgress
	case ops.Succeeded, ops.Skipped, ops.PartiallySucceeded:
		return Succeeded
	case ops.Canceled:
		return Cancelled
	}
	return Failed
}

// friendlyNames are the Kusto commands of the operation kinds, as SQL's operationFriendlyName
// names the T-SQL statement (ALTER DATABASE) of its operations.
var friendlyNames = map[string]string{
	"TableSet": ".set", "TableAppend": ".append", "TableSetOrAppend": ".set-or-append",
	"TableSetOrReplace": ".set-or-replace", "TableCreate": ".create table",
}

// Error numbers and severities of failed operations. Kustard's errors have no SQL error
// numbers: 50000 is the number SQL Server gives an error raised with a message and no number of
// its own; severity 16 is SQL's for errors the user can correct, 20 for faults of the server.
const (
	errorNumber         = 50000
	userErrorSeverity   = 16
	serverErrorSeverity = 20
)

// operation is a DatabaseOperation resource (ProxyResource and DatabaseOperationProperties),
// with the properties in the spec's order. Properties that do not apply are left out, as ARM
// leaves them out.
type operation struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Type       string     `json:"type"`
	Properties properties `json:"properties"`
}

type properties struct {
	DatabaseName            string  `json:"databaseName"`
	Operation               string  `json:"operation"`
	OperationFriendlyName   string  `json:"operationFriendlyName"`
	PercentComplete         int32   `json:"percentComplete"`
	ServerName              string  `json:"serverName"`
	StartTime               string  `json:"startTime"`
	State                   State   `json:"state"`
	ErrorCode               *int32  `json:"errorCode,omitempty"`
	ErrorDescription        *string `json:"errorDescription,omitempty"`
	ErrorSeverity           *int32  `json:"errorSeverity,omitempty"`
	IsUserError             *bool   `json:"isUserError,omitempty"`
	EstimatedCompletionTime *string `json:"estimatedCompletionTime,omitempty"`
	Description             string  `json:"description"`
	IsCancellable           bool    `json:"isCancellable"`
}

// resource is a snapshot as a DatabaseOperation of the scope's database, as of now.
func resource(sc scope, snap ops.Snapshot, now time.Time) operation {
	st := state(snap)
	friendly := friendlyNames[snap.Kind.Name]
	if friendly == "" {
		friendly = snap.Kind.Name
	}
	desc := fmt.Sprintf("'%s' on database '%s'", snap.Kind.Name, snap.Scope)
	if snap.Phase != "" && !snap.State.Terminal() {
		desc += ": " + snap.Phase
	}
	if snap.Progress.Total > 0 {
		desc += fmt.Sprintf(", %d of %d row%s", snap.Progress.Done, snap.Progress.Total, plural(snap.Progress.Total))
	} else if snap.Progress.Done > 0 {
		desc += fmt.Sprintf(", %d row%s", snap.Progress.Done, plural(snap.Progress.Done))
	}
	p := properties{
		DatabaseName:          snap.Scope,
		Operation:             snap.Kind.Name,
		OperationFriendlyName: friendly,
		PercentComplete:       percent(snap),
		ServerName:            sc.server,
		StartTime:             timestamp(snap.Created),
		State:                 st,
		Description:           desc,
		// What a cancel now would do: live, of a cancellable kind, and not already cancelling.
		IsCancellable: cannotCancel(snap) == nil,
	}
	if eta, ok := estimate(snap, now); ok {
		t := timestamp(eta)
		p.EstimatedCompletionTime = &t
	}
	if st == Failed || st == Cancelled {
		code, user := int32(errorNumber), isUserError(snap)
		severity := int32(serverErrorSeverity)
		if user {
			severity = userErrorSeverity
		}
		msg := engine.KustoStatus(snap)
		p.ErrorCode, p.ErrorDescription, p.ErrorSeverity, p.IsUserError = &code, &msg, &severity, &user
	}
	return operation{
		ID:         sc.prefix() + "/" + snap.ID.String(),
		Name:       snap.ID.String(),
		Type:       ResourceType,
		Properties: p,
	}
}

// percent is how much of the work is done. Where the work's size is known in advance (an
// ingest from a range knows its rows), it is the share of rows built, at most 99 until the
// operation has committed; where it is not, it is 0 until the operation succeeds. A success is
// 100.
func percent(s ops.Snapshot) int32 {
	if state(s) == Succeeded {
		return 100
	}
	if s.Progress.Total <= 0 || s.Progress.Done <= 0 {
		return 0
	}
	pct := min(int32(float64(s.Progress.Done)/float64(s.Progress.Total)*100), 100)
	if !s.State.Terminal() {
		pct = min(pct, 99)
	}
	return pct
}

// estimate is when a running operation of known size will end, at the pace it has kept since
// it was registered; false when it cannot be told (the size is unknown, nothing is done yet,
// or it has ended).
func estimate(s ops.Snapshot, now time.Time) (time.Time, bool) {
	if s.State != ops.Running || s.Progress.Total <= 0 || s.Progress.Done <= 0 || !now.After(s.Created) {
		return time.Time{}, false
	}
	elapsed := float64(now.Sub(s.Created))
	total := elapsed * float64(s.Progress.Total) / float64(s.Progress.Done)
	if total > float64(1<<62) {
		return time.Time{}, false
	}
	return s.Created.Add(time.Duration(total)), true
}

// isUserError reports whether what ended an operation is the user's doing: its input (BadInput,
// or a query past a limit) or a cancel a client asked for. Throttling, a shutdown and Kustard's
// own faults are not the user's.
func isUserError(s ops.Snapshot) bool {
	switch s.State {
	case ops.BadInput:
		return true
	case ops.Canceled:
		var ce *ops.CanceledError
		return errors.As(s.Err, &ce) && ce.Origin != "shutdown"
	case ops.Failed, ops.PartiallySucceeded:
		var ke *kusto.Error
		if errors.As(s.Err, &ke) {
			return ke.BadInput() || ke.Kind == kusto.KindLimits || ke.Kind == kusto.KindRuntime || ke.Kind == kusto.KindConflict
		}
	}
	return false
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// list is one page of the database's operations, oldest first, as a DatabaseOperationListResult
// whose nextLink (when more follow) is this URL with the next page's $skipToken.
func (s *Service) list(r *http.Request, sc scope) ([]byte, *armError) {
	q := r.URL.Query()
	token := q.Get("$skipToken")
	page, next, err := s.reg.List(ops.Filter{Scopes: []string{sc.database}}, s.opts.PageSize, token)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "InvalidSkipToken",
			"The $skipToken '%s' was not issued by this server for this database's operations; list again without it.", token)
	}
	now := s.now()
	result := struct {
		Value    []operation `json:"value"`
		NextLink string      `json:"nextLink,omitempty"`
	}{Value: make([]operation, 0, len(page))}
	for _, snap := range page {
		result.Value = append(result.Value, resource(sc, snap, now))
	}
	if next != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		q.Set("$skipToken", next)
		u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()}
		result.NextLink = u.String()
	}
	return marshal(result), nil
}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// marshal is JSON indented as in the REST API's examples, with & and < as themselves (a
// nextLink holds &).
func marshal(v any) []byte {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(err) // the values are built here from JSON-able fields
	}
	return out.Bytes()
}

// armError is ARM's ErrorResponse: {"error":{"code":…,"message":…}}.
type armError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
	allow   string // the Allow header of a 405
}

func newError(status int, code, format string, args ...any) *armError {
	return &armError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *armError) {
	if e.allow != "" {
		w.Header().Set("Allow", e.allow)
	}
	writeJSON(w, e.status, marshal(struct {
		Error *armError `json:"error"`
	}{e}))
}

func writeJSON(w http.ResponseWriter, status int, data []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
