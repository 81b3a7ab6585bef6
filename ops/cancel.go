package ops

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
)

// CanceledError is the cause of a canceled operation's context, and its error once it has ended
// Canceled: the request's reason, mode and origin.
type CanceledError struct {
	Reason string
	Mode   Mode
	Origin string
}

func (e *CanceledError) Error() string {
	if e.Reason == "" {
		return "Operation was canceled"
	}
	return e.Reason
}

// CancelRequest asks an operation to stop.
type CancelRequest struct {
	Reason string
	Mode   Mode
	Origin string // the front door: "kusto", "google", …
	// NoWait returns as soon as the request is recorded, without waiting for the operation to
	// stop.
	NoWait bool
}

// CancelOutcome is what Cancel found and did.
type CancelOutcome struct {
	Snapshot      // the operation as it was when Cancel returned
	Accepted bool // it was live: the request was recorded and its work's context canceled
	Stopped  bool // it had ended when Cancel returned
}

// Cancel asks a live operation to stop: it records the request as a Cancellation on the
// operation (every request, a repeated one too) and cancels the work's context with a
// *CanceledError as its cause (the first request does: a later one, a forced cancel after a
// graceful one, reaches the work through Handle.Cancellation). Unless req.NoWait, it then waits
// until the operation has stopped or ctx is done, whichever comes first; the outcome says which.
// The work may still end otherwise than Canceled: a cancel that comes after its last check is
// too late, and the operation ends as its work says, with the request kept.
//
// An operation that has already ended is left as it is (Accepted false, Stopped true). An unknown
// id is ErrNotFound, and an operation whose kind cannot be canceled ErrNotCancellable, with the
// operation's snapshot in the outcome. The registry applies no rule between modes: a front door
// that allows Forced only after Graceful checks the snapshot's Cancels.
func (r *Registry) Cancel(ctx context.Context, id uuid.UUID, req CancelRequest) (CancelOutcome, error) {
	r.mu.Lock()
	s, ok := r.store.Get(id)
	if !ok {
		r.mu.Unlock()
		return CancelOutcome{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if !s.Kind.Cancellable {
		s = r.viewLocked(s)
		r.mu.Unlock()
		return CancelOutcome{Snapshot: s}, fmt.Errorf("%w: operation %s is a %s operation", ErrNotCancellable, id, s.Kind.Name)
	}
	op := r.live[id]
	if op == nil {
		r.mu.Unlock()
		return CancelOutcome{Snapshot: s, Stopped: s.State.Terminal()}, nil
	}
	c := Cancellation{At: r.stamp(), Reason: req.Reason, Mode: req.Mode, Origin: req.Origin}
	r.requestLocked(op, c)
	r.mu.Unlock()

	op.cancel(&CanceledError{Reason: c.Reason, Mode: c.Mode, Origin: c.Origin})
	if !req.NoWait {
		select {
		case <-op.done:
		case <-ctx.Done():
		}
	}
	now := op.Snapshot()
	return CancelOutcome{Snapshot: now, Accepted: true, Stopped: now.State.Terminal()}, nil
}

// requestLocked records a cancel request on a live operation.
func (r *Registry) requestLocked(op *Operation, c Cancellation) {
	op.snap.Cancels = append(slices.Clip(op.snap.Cancels), c) // earlier snapshots keep theirs
	op.h.cancel.Store(&c)
	select {
	case op.h.wake <- struct{}{}:
	default: // one is pending already
	}
	r.write(r.store.Put(op.snap))
}
