package ops

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// CancellationState values. The `.cancel operation` docs spell success both "Cancelled
// successfully" (description) and "Canceled successfully" (example); Kustard follows the example,
// as the materialized-view page and the Canceled state do.
const (
	CanceledSuccessfully = "Canceled successfully"
	CancelFailed         = "Cancel failed"
)

// CancelResult is the row `.cancel operation` returns.
type CancelResult struct {
	OperationId       uuid.UUID
	Operation         string
	StartedOn         time.Time
	CancellationState string
	ReasonPhrase      string
}

// Cancel asks a running ingest operation to stop, with reason as the cause, and waits up to wait
// for it to stop. It returns an error for an unknown id or an operation that is not an ingest from
// query; every other outcome is a CancelResult, as Kusto reports it.
func (r *Registry) Cancel(id uuid.UUID, reason string, wait time.Duration) (CancelResult, error) {
	r.mu.Lock()
	op := r.ops[id]
	if op == nil {
		r.mu.Unlock()
		return CancelResult{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if !op.Spec.Cancellable {
		r.mu.Unlock()
		return CancelResult{}, fmt.Errorf("%w: operation %s is a %s operation; cancel is supported only for ingest-from-query operations (.set, .append, .set-or-append, .set-or-replace)", ErrNotCancellable, id, op.Spec.Kind)
	}
	result := CancelResult{OperationId: op.ID, Operation: op.Spec.Kind, StartedOn: op.StartedOn}
	if state := op.last.State; state.Terminal() {
		r.mu.Unlock()
		result.CancellationState = CancelFailed
		result.ReasonPhrase = fmt.Sprintf("The operation is no longer running: its state is %s", state)
		return result, nil
	}
	r.mu.Unlock()

	op.cancel(&CanceledError{Reason: reason})
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-op.done:
	case <-timer.C:
		result.CancellationState = CancelFailed
		result.ReasonPhrase = fmt.Sprintf("The operation did not stop within %v; cancellation was requested, and it will end Canceled if it stops before it completes", wait)
		return result, nil
	}
	r.mu.Lock()
	state := op.last.State
	r.mu.Unlock()
	if state != Canceled {
		result.CancellationState = CancelFailed
		result.ReasonPhrase = fmt.Sprintf("The operation finished before it could be canceled: its state is %s", state)
		return result, nil
	}
	result.CancellationState = CanceledSuccessfully
	result.ReasonPhrase = reason
	return result, nil
}
