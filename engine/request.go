package engine

import (
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// Request is one call's options: who asks, and how this call should run. Front doors fill it from
// what the client sent (Kusto's request headers and client request properties, the shell's
// settings) and pass it with the text, so nothing about one call is stored on the session, which
// several calls may share over time. The zero Request runs with the session's identity and the
// engine's defaults.
type Request struct {
	// ClientRequestID is the client's id for this call (x-ms-client-request-id).
	ClientRequestID string
	// Application names the calling application (x-ms-app).
	Application string
	// User and Principal identify who asks; empty means the session's user. An operation's
	// record shows them.
	User, Principal string
	// RootActivityID is the activity the call belongs to; its operations' records carry it. A
	// new id is made when it is zero.
	RootActivityID uuid.UUID
	// QueryNow, when set, is the value of now() (and the base of ago()) for the call, as the
	// query_now client request property sets it.
	QueryNow *kusto.DateTime
	// ServerTimeout bounds the call (servertimeout); zero leaves it to ctx. An async command's
	// operation outlives the call and is not bound by it.
	ServerTimeout time.Duration
	// MaxResultRows bounds a query's result (truncationmaxrecords); zero uses the engine's.
	MaxResultRows int
	// MaxResultBytes bounds the size of a query's result, counted as the memory budget counts
	// it (truncationmaxsize); zero uses the engine's.
	MaxResultBytes int64
	// NoTruncation lifts both bounds (notruncation), unless a bound is also given, as the docs
	// say (concepts/query-limits.md).
	NoTruncation bool
	// Parameters are the values of the query's declared parameters (declare query_parameters),
	// by name. A client sends them as text, a string read as a literal of the declared type; a
	// value of the declared type is taken as it is.
	Parameters map[string]kusto.Literal
	// Progress, when set, is called as a synchronous ingest makes progress, with its rows so far.
	Progress func(rows int64)
}

func (r *Request) user(s *Session) string {
	if r.User != "" {
		return r.User
	}
	return s.User
}

// truncation returns a query's result bounds (0 for none), from the request and the query's set
// statements: the lower of the bounds given, the engine's where none is, and none at all with
// notruncation and no bound given.
func (r *Request) truncation(e *Engine, o queryOptions) (records int, size int64) {
	lower := func(a, b int64) int64 {
		if a == 0 || b > 0 && b < a {
			return b
		}
		return a
	}
	records = int(lower(int64(r.MaxResultRows), int64(o.maxRecords)))
	size = lower(r.MaxResultBytes, o.maxSize)
	if records == 0 && size == 0 && (r.NoTruncation || o.noTruncation) {
		return 0, 0
	}
	if records == 0 {
		records = e.opts.MaxResultRows
	}
	if size == 0 {
		size = e.opts.MaxResultBytes
	}
	return records, size
}
