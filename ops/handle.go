package ops

import (
	"context"
	"sync/atomic"

	"github.com/google/uuid"
)

// Handle is what running work knows of its own operation: it reports the work's phase and
// progress, cheaply (each update is an atomic store), and tells the work of cancel requests.
// Every method may be called from any goroutine, and on a nil Handle, where it does nothing: work
// run outside a registry needs no special case.
type Handle struct {
	id     uuid.UUID
	phase  atomic.Pointer[string]
	done   atomic.Int64
	total  atomic.Int64
	cancel atomic.Pointer[Cancellation] // the latest cancel request
	wake   chan struct{}                // a value after cancel requests, coalesced
}

type handleKey struct{}

// FromContext returns the Handle of the operation whose work ctx was given to, or nil.
func FromContext(ctx context.Context) *Handle {
	h, _ := ctx.Value(handleKey{}).(*Handle)
	return h
}

// ID is the operation's id.
func (h *Handle) ID() uuid.UUID {
	if h == nil {
		return uuid.Nil
	}
	return h.id
}

// SetPhase says what the work is doing now ("building extent", "committing").
func (h *Handle) SetPhase(phase string) {
	if h != nil {
		h.phase.Store(&phase)
	}
}

// SetProgress sets the units done, and the total where known (0 when not).
func (h *Handle) SetProgress(done, total int64) {
	if h != nil {
		h.done.Store(done)
		h.total.Store(total)
	}
}

// SetDone sets the units done, leaving the total as it is.
func (h *Handle) SetDone(done int64) {
	if h != nil {
		h.done.Store(done)
	}
}

// Cancellation returns the latest cancel request, if one was made. The first one cancels the
// work's context; a later one (a forced cancel after a graceful one) is known only here.
func (h *Handle) Cancellation() (Cancellation, bool) {
	if h == nil {
		return Cancellation{}, false
	}
	if c := h.cancel.Load(); c != nil {
		return *c, true
	}
	return Cancellation{}, false
}

// CancelRequests receives a value after each cancel request (requests close together may share
// one), so that work waiting on something else also hears of a forced cancel that follows a
// graceful one; Cancellation then says which came last. On a nil Handle it never receives.
func (h *Handle) CancelRequests() <-chan struct{} {
	if h == nil {
		return nil
	}
	return h.wake
}

func (h *Handle) phaseNow() string {
	if p := h.phase.Load(); p != nil {
		return *p
	}
	return ""
}

func (h *Handle) progressNow() Progress {
	return Progress{Done: h.done.Load(), Total: h.total.Load()}
}
