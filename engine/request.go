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
	// Progress, when set, is called as a synchronous ingest makes progress, with its rows so far.
	Progress func(rows int64)
}

func (r *Request) user(s *Session) string {
	if r.User != "" {
		return r.User
	}
	return s.User
}

func (r *Request) maxResultRows(e *Engine) int {
	if r.MaxResultRows > 0 {
		return r.MaxResultRows
	}
	return e.opts.MaxResultRows
}
