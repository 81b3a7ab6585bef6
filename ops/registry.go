package ops

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Retention defaults from the `.show operations` docs: the log keeps two weeks of records, and the
// by-id form returns records less than six hours old.
const (
	DefaultRetention    = 14 * 24 * time.Hour
	DefaultLatestWindow = 6 * time.Hour
)

// Options configure a Registry. Zero values choose the defaults.
type Options struct {
	Clock        Clock
	IDs          IDSource
	Capacity     int           // concurrent cancellable operations; default NumCPU-1, at least 1
	Retention    time.Duration // how long the log keeps records
	LatestWindow time.Duration // how old a record `.show operations <id>` still returns
}

// Spec describes an operation to start.
type Spec struct {
	Kind           string // the Operation column: TableSetOrAppend, TableCreate, …
	Database       string
	User           string
	Principal      string
	Cancellable    bool      // ingest from query: takes a capacity slot and can be canceled
	RootActivityId uuid.UUID // the client request's activity; a new id when zero
}

// Work is what an operation does. It must return soon after ctx is done; details are kept for
// `.show operation <id> details` when the caller asks for them to persist.
type Work func(ctx context.Context) (details any, err error)

// Errors returned by the registry.
var (
	ErrNotFound       = errors.New("operation not found")
	ErrNotCancellable = errors.New("operation cannot be canceled")
	ErrClosed         = errors.New("operations registry is closed")
)

// CanceledError is the cancellation cause of an operation: Reason is the user's, as given to
// `.cancel operation … with (reason = …)`.
type CanceledError struct{ Reason string }

func (e *CanceledError) Error() string {
	if e.Reason == "" {
		return "Operation was canceled"
	}
	return e.Reason
}

// SkippedError ends an operation in the Skipped state: it did nothing because of a condition in
// its input (ingestIfNotExists found its tag).
type SkippedError struct{ Reason string }

func (e *SkippedError) Error() string { return e.Reason }

// Operation is a running or finished operation.
type Operation struct {
	ID        uuid.UUID
	Spec      Spec
	StartedOn time.Time

	reg      *Registry
	ctx      context.Context
	cancel   context.CancelCauseFunc
	admitted chan struct{} // closed when the operation may run
	done     chan struct{} // closed when it has stopped

	// Guarded by reg.mu.
	last      Record // its latest record
	holdsSlot bool
	queued    bool
	details   any
}

// Done is closed when the operation has stopped.
func (op *Operation) Done() <-chan struct{} { return op.done }

// Registry holds the operations of one Kustard instance.
type Registry struct {
	clock        Clock
	ids          IDSource
	capacity     int
	retention    time.Duration
	latestWindow time.Duration

	base       context.Context // parent of asynchronous operations
	cancelBase context.CancelCauseFunc
	wg         sync.WaitGroup // operations started and not yet stopped; Add under mu, before closed

	mu       sync.Mutex
	records  []Record
	ops      map[uuid.UUID]*Operation
	running  int          // cancellable operations holding a slot
	queue    []*Operation // Scheduled operations, first come first served
	watchers map[int]func(Record)
	nextW    int
	closed   bool
}

// New returns an empty registry.
func New(opts Options) *Registry {
	r := &Registry{
		clock:        opts.Clock,
		ids:          opts.IDs,
		capacity:     opts.Capacity,
		retention:    opts.Retention,
		latestWindow: opts.LatestWindow,
		ops:          map[uuid.UUID]*Operation{},
		watchers:     map[int]func(Record){},
	}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if r.ids == nil {
		r.ids = RandomIDs{}
	}
	if r.capacity <= 0 {
		r.capacity = DefaultCapacity()
	}
	if r.retention <= 0 {
		r.retention = DefaultRetention
	}
	if r.latestWindow <= 0 {
		r.latestWindow = DefaultLatestWindow
	}
	r.base, r.cancelBase = context.WithCancelCause(context.Background())
	return r
}

// DefaultCapacity is one less than the number of CPUs, at least one, so that a core stays free
// for the goroutine that must cancel a runaway ingest.
func DefaultCapacity() int { return max(1, runtime.NumCPU()-1) }

// Capacity is how many cancellable operations may run at once.
func (r *Registry) Capacity() int { return r.capacity }

// Clock is the registry's clock, shared with the engine so that all times agree.
func (r *Registry) Clock() Clock { return r.clock }

// IDs is the registry's id source, shared with the engine for extent ids.
func (r *Registry) IDs() IDSource { return r.ids }

// Run runs an operation in the caller's goroutine and returns when it has stopped. Canceling ctx
// cancels the operation, as `.cancel operation` does.
func (r *Registry) Run(ctx context.Context, spec Spec, work Work) (*Operation, any, error) {
	op, err := r.start(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	details, err := r.execute(op, work)
	return op, details, err
}

// Go starts an operation in its own goroutine and returns at once. The goroutine ends with the
// operation.
func (r *Registry) Go(spec Spec, work Work) (*Operation, error) {
	op, err := r.start(r.base, spec)
	if err != nil {
		return nil, err
	}
	go func() {
		_, _ = r.execute(op, work) // the outcome is in the operation's records
	}()
	return op, nil
}

// Reject records an operation that did not start because its input was bad, and tells the
// watchers of it as of any operation that stops.
func (r *Registry) Reject(spec Spec, cause error) *Operation {
	r.mu.Lock()
	op := r.newOperationLocked(context.Background(), spec, r.clock.Now())
	close(op.admitted)
	_, status := outcome(context.Background(), cause)
	rec := r.recordLocked(op, BadInput, status, op.StartedOn)
	watchers := r.watchersLocked()
	r.mu.Unlock()
	op.cancel(nil)
	close(op.done)
	for _, w := range watchers {
		w(rec)
	}
	return op
}

func (r *Registry) newOperationLocked(parent context.Context, spec Spec, now time.Time) *Operation {
	ctx, cancel := context.WithCancelCause(parent)
	op := &Operation{
		ID: r.ids.NewID(), Spec: spec, StartedOn: now, reg: r, ctx: ctx, cancel: cancel,
		admitted: make(chan struct{}), done: make(chan struct{}),
	}
	if op.Spec.RootActivityId == uuid.Nil {
		op.Spec.RootActivityId = r.ids.NewID()
	}
	r.ops[op.ID] = op
	return op
}

// start registers an operation: InProgress if it may run now, Scheduled if it must wait for a slot.
// The operation counts in wg until execute has finished it, so that Close waits for it.
func (r *Registry) start(parent context.Context, spec Spec) (*Operation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	r.wg.Add(1)
	now := r.clock.Now()
	op := r.newOperationLocked(parent, spec, now)
	switch {
	case !spec.Cancellable:
		close(op.admitted)
		r.recordLocked(op, InProgress, "", now)
	case r.running < r.capacity && len(r.queue) == 0:
		r.running++
		op.holdsSlot = true
		close(op.admitted)
		r.recordLocked(op, InProgress, "", now)
	default:
		op.queued = true
		r.queue = append(r.queue, op)
		r.recordLocked(op, Scheduled, "", now)
	}
	return op, nil
}

// execute waits for the operation's slot, runs its work and records how it ended.
func (r *Registry) execute(op *Operation, work Work) (any, error) {
	defer r.wg.Done()
	var details any
	err := r.admit(op)
	if err == nil {
		details, err = work(op.ctx)
	}
	r.finish(op, details, err)
	return details, err
}

func (r *Registry) admit(op *Operation) error {
	select {
	case <-op.admitted:
		return nil
	case <-op.ctx.Done():
		r.mu.Lock()
		if op.queued {
			op.queued = false
			r.queue = slices.DeleteFunc(r.queue, func(q *Operation) bool { return q == op })
		}
		r.mu.Unlock()
		return context.Cause(op.ctx)
	}
}

// finish records the operation's final state, hands its slot to the next Scheduled operation
// (recording that one's InProgress before anything else can happen, so logs are deterministic),
// and closes Done.
func (r *Registry) finish(op *Operation, details any, err error) {
	state, status := outcome(op.ctx, err)
	r.mu.Lock()
	op.details = details
	rec := r.recordLocked(op, state, status, r.clock.Now())
	if op.holdsSlot {
		op.holdsSlot = false
		r.running--
		r.admitNextLocked()
	}
	watchers := r.watchersLocked()
	r.mu.Unlock()
	op.cancel(nil) // release the context's resources
	close(op.done)
	for _, w := range watchers {
		w(rec)
	}
}

// watchersLocked returns the watchers to call, once the lock is released, with a final record.
func (r *Registry) watchersLocked() []func(Record) {
	watchers := make([]func(Record), 0, len(r.watchers))
	for _, w := range r.watchers {
		watchers = append(watchers, w)
	}
	return watchers
}

func (r *Registry) admitNextLocked() {
	for r.running < r.capacity && len(r.queue) > 0 {
		next := r.queue[0]
		r.queue = r.queue[1:]
		next.queued = false
		if next.ctx.Err() != nil {
			continue // canceled while it waited; its own goroutine records that
		}
		next.holdsSlot = true
		r.running++
		r.recordLocked(next, InProgress, "", r.clock.Now())
		close(next.admitted)
	}
}

// outcome maps how work ended to a state and status. An error may say more about itself:
// a Status() string method gives the Status text, and BadInput() bool true ends the operation
// BadInput rather than Failed.
func outcome(ctx context.Context, err error) (State, string) {
	var skipped *SkippedError
	var status interface{ Status() string }
	var badInput interface{ BadInput() bool }
	switch {
	case err == nil:
		return Completed, ""
	case errors.As(err, &skipped):
		return Skipped, skipped.Reason
	case ctx.Err() != nil:
		cause := context.Cause(ctx)
		var canceled *CanceledError
		if errors.As(cause, &canceled) {
			return Canceled, canceled.Error()
		}
		return Canceled, (&CanceledError{}).Error()
	}
	text := err.Error()
	if errors.As(err, &status) {
		text = status.Status()
	}
	if errors.As(err, &badInput) && badInput.BadInput() {
		return BadInput, text
	}
	return Failed, text
}

func (r *Registry) recordLocked(op *Operation, state State, status string, now time.Time) Record {
	rec := Record{
		OperationId: op.ID, Operation: op.Spec.Kind, StartedOn: op.StartedOn, LastUpdatedOn: now,
		State: state, Status: status, RootActivityId: op.Spec.RootActivityId,
		Database: op.Spec.Database, Principal: op.Spec.Principal, User: op.Spec.User,
	}
	op.last = rec
	r.records = append(r.records, rec)
	r.pruneLocked(now)
	return rec
}

// pruneLocked drops records older than the retention, and operations whose last record went.
func (r *Registry) pruneLocked(now time.Time) {
	cutoff := now.Add(-r.retention)
	n := 0
	for n < len(r.records) && r.records[n].LastUpdatedOn.Before(cutoff) {
		if op := r.ops[r.records[n].OperationId]; op != nil && op.last.LastUpdatedOn.Before(cutoff) && op.last.State.Terminal() {
			delete(r.ops, op.ID)
		}
		n++
	}
	if n > 0 {
		r.records = slices.Delete(r.records, 0, n)
	}
}

// Log returns every record of the retention period, oldest first: `.show operations`.
func (r *Registry) Log() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pruneLocked(r.clock.Now())
	return slices.Clone(r.records)
}

// Latest returns the latest record of each operation named, in the order named, leaving out
// unknown ids and records older than the latest window: `.show operations <id>, …`.
func (r *Registry) Latest(ids []uuid.UUID) []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	cutoff := r.clock.Now().Add(-r.latestWindow)
	var out []Record
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		op := r.ops[id]
		if op == nil || seen[id] || op.last.LastUpdatedOn.Before(cutoff) {
			continue
		}
		seen[id] = true
		out = append(out, op.last)
	}
	return out
}

// Active returns the latest record of each operation that has not stopped, oldest first.
func (r *Registry) Active() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Record
	for _, op := range r.ops {
		if !op.last.State.Terminal() {
			out = append(out, op.last)
		}
	}
	slices.SortFunc(out, func(a, b Record) int { return a.StartedOn.Compare(b.StartedOn) })
	return out
}

// Details returns what a finished operation kept for `.show operation <id> details`.
func (r *Registry) Details(id uuid.UUID) (Record, any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op := r.ops[id]
	if op == nil {
		return Record{}, nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return op.last, op.details, nil
}

// Wait blocks until the operation has stopped or ctx is done, and returns its final record.
func (r *Registry) Wait(ctx context.Context, id uuid.UUID) (Record, error) {
	r.mu.Lock()
	op := r.ops[id]
	r.mu.Unlock()
	if op == nil {
		return Record{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	select {
	case <-op.done:
	case <-ctx.Done():
		return Record{}, context.Cause(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return op.last, nil
}

// Watch calls fn with the final record of every operation that stops from now on, until the
// returned function is called. fn runs in the goroutine that ran (or rejected) the operation, after
// its Done is closed, and must not block.
func (r *Registry) Watch(fn func(Record)) (stop func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := r.nextW
	r.nextW++
	r.watchers[id] = fn
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.watchers, id)
	}
}

// Close cancels every operation still running, with reason, and waits until they have stopped
// (those started with Run as well as with Go) or ctx is done. No operation can start afterwards.
// Work must not call Close: it would wait for itself until ctx is done.
func (r *Registry) Close(ctx context.Context, reason string) error {
	r.mu.Lock()
	r.closed = true
	var live []*Operation
	for _, op := range r.ops {
		if !op.last.State.Terminal() {
			live = append(live, op)
		}
	}
	r.mu.Unlock()
	cause := &CanceledError{Reason: reason}
	for _, op := range live {
		op.cancel(cause)
	}
	r.cancelBase(cause)
	finished := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("operations still running after %v: %w", reason, context.Cause(ctx))
	}
}
