package ops

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Retention defaults: the log keeps two weeks of records, and Latest returns snapshots less than
// six hours old (the windows of Kusto's `.show operations`).
const (
	DefaultRetention    = 14 * 24 * time.Hour
	DefaultLatestWindow = 6 * time.Hour
)

// Options configure a Registry. Zero values choose the defaults.
type Options struct {
	Clock Clock
	// IDs makes the ids the registry needs (activity ids, and operation ids unless OperationIDs
	// is set); IDs() shares it with the engine. Default: random.
	IDs IDSource
	// OperationIDs, when set, makes operation ids the caller does not choose, apart from every
	// other id: in a deterministic run an operation's id then depends only on how many
	// operations started before it.
	OperationIDs IDSource
	// Store keeps snapshots and the log; default a new MemoryStore.
	Store        Store
	Capacity     int           // concurrent cancellable operations; default NumCPU-1, at least 1
	Retention    time.Duration // how long the log keeps records, and the store ended operations
	LatestWindow time.Duration // how old a snapshot Latest still returns
	// MaxEnded bounds how many ended operations the store keeps: past it, the oldest go first,
	// whatever their age. Zero: no bound but Retention.
	MaxEnded int
	// NoLog keeps no log of state changes (Log returns none), for operations whose front door
	// shows only their latest state: memory then grows with the operations kept, not with their
	// changes.
	NoLog bool
	// StoreError is told of a Store write that failed after the operation had started (a failed
	// write at the start fails the start instead). Default: the error is dropped.
	StoreError func(error)
}

// Spec describes an operation to start.
type Spec struct {
	// ID is the caller's id for the operation, an idempotency key: an id the registry already
	// holds is ErrAlreadyExists. Zero for a new id.
	ID         uuid.UUID
	Kind       Kind
	Scope      string // the database or other resource it acts on
	User       string
	Principal  string
	ActivityID uuid.UUID // the client request's activity; a new id when zero
	// Detail is what the front door keeps with the operation and shows from its snapshots (a
	// query's text, the client's own id for it); the registry does not look inside it.
	Detail any
}

// Work is what an operation does. It must return soon after ctx is done; FromContext(ctx) is its
// Handle. The result is kept on the finished operation.
type Work func(ctx context.Context) (result any, err error)

// Errors returned by the registry.
var (
	ErrNotFound       = errors.New("operation not found")
	ErrNotCancellable = errors.New("operation cannot be canceled")
	ErrAlreadyExists  = errors.New("operation already exists")
	ErrClosed         = errors.New("operations registry is closed")
	ErrBadPageToken   = errors.New("invalid page token")
)

// SkippedError ends an operation Skipped: it did nothing because of a condition in its input.
type SkippedError struct{ Reason string }

func (e *SkippedError) Error() string { return e.Reason }

// AbandonedError is the cause of the context of an operation its registry gave up on (see
// Abandon), and its error once it has ended Abandoned.
type AbandonedError struct{ Reason string }

func (e *AbandonedError) Error() string {
	if e.Reason == "" {
		return "Operation was abandoned"
	}
	return e.Reason
}

// How work's error chooses the end state (see outcome): an error may have a method
//
//	OperationState() State // a terminal state other than Succeeded and Canceled
//	BadInput() bool        // true: the input was at fault (BadInput rather than Failed)
type stateError interface{ OperationState() State }
type badInputError interface{ BadInput() bool }

// Operation is a running or finished operation, as the caller that started it holds it.
type Operation struct {
	ID uuid.UUID

	reg      *Registry
	h        Handle
	ctx      context.Context
	cancel   context.CancelCauseFunc
	admitted chan struct{} // closed when the operation may run
	done     chan struct{} // closed when it has stopped
	ended    atomic.Bool   // its end is being recorded: End does nothing

	// Guarded by reg.mu.
	snap      Snapshot // its latest snapshot, without live phase and progress
	holdsSlot bool
	queued    bool
}

// Done is closed when the operation has stopped.
func (op *Operation) Done() <-chan struct{} { return op.done }

// Snapshot returns the operation as it is now.
func (op *Operation) Snapshot() Snapshot {
	op.reg.mu.Lock()
	defer op.reg.mu.Unlock()
	return op.reg.viewLocked(op.snap)
}

// Registry holds the operations of one Kustard instance.
type Registry struct {
	clock        Clock
	ids          IDSource
	opIDs        IDSource
	store        Store
	storeErr     func(error)
	capacity     int
	retention    time.Duration
	latestWindow time.Duration
	maxEnded     int
	noLog        bool

	base       context.Context // parent of asynchronous operations
	cancelBase context.CancelCauseFunc
	wg         sync.WaitGroup // operations started and not yet stopped; Add under mu, before closed

	mu       sync.Mutex
	seq      uint64
	live     map[uuid.UUID]*Operation // operations that have not ended
	running  int                      // cancellable operations holding a slot
	queue    []*Operation             // Scheduled operations, first come first served
	watchers map[int]func(Snapshot)
	nextW    int
	closed   bool
}

// New returns a registry over opts.Store (a new MemoryStore by default).
func New(opts Options) *Registry {
	r := &Registry{
		clock:        opts.Clock,
		ids:          opts.IDs,
		opIDs:        opts.OperationIDs,
		store:        opts.Store,
		storeErr:     opts.StoreError,
		capacity:     opts.Capacity,
		retention:    opts.Retention,
		latestWindow: opts.LatestWindow,
		maxEnded:     max(0, opts.MaxEnded),
		noLog:        opts.NoLog,
		live:         map[uuid.UUID]*Operation{},
		watchers:     map[int]func(Snapshot){},
	}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if r.ids == nil {
		r.ids = RandomIDs{}
	}
	if r.opIDs == nil {
		r.opIDs = r.ids
	}
	if r.store == nil {
		r.store = NewMemoryStore()
	}
	if r.storeErr == nil {
		r.storeErr = func(error) {}
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
	for s := range r.store.Scan(0) {
		r.seq = max(r.seq, s.Seq)
	}
	r.base, r.cancelBase = context.WithCancelCause(context.Background())
	return r
}

// DefaultCapacity is one less than the number of CPUs, at least one, so that a core stays free
// for the goroutine that must cancel a runaway operation.
func DefaultCapacity() int { return max(1, runtime.NumCPU()-1) }

// Capacity is how many cancellable operations may run at once.
func (r *Registry) Capacity() int { return r.capacity }

// Clock is the registry's clock, shared with the engine so that all times agree.
func (r *Registry) Clock() Clock { return r.clock }

// IDs is the registry's id source (Options.IDs), shared with the engine for its own ids.
func (r *Registry) IDs() IDSource { return r.ids }

// Stamp is the time of a fact that is not a state change (a cancel request, the commit of an
// operation's data): with a deterministic clock, the time of the next state change, without
// taking a reading that would shift the log's times.
func (r *Registry) Stamp() time.Time { return r.stamp() }

func (r *Registry) stamp() time.Time {
	if p, ok := r.clock.(interface{ Peek() time.Time }); ok {
		return p.Peek()
	}
	return r.clock.Now()
}

// Run runs an operation in the caller's goroutine and returns when it has stopped, with what the
// work returned. Canceling ctx cancels the operation.
func (r *Registry) Run(ctx context.Context, spec Spec, work Work) (*Operation, any, error) {
	op, err := r.start(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	result, err := r.execute(op, work)
	return op, result, err
}

// Begin registers an operation whose work the caller does itself, in steps of its own (a query
// whose rows a client pulls batch by batch), rather than as one Work: it waits for a slot as Run
// does, and returns the operation Running. The work runs under op.Context(), which a cancel
// request (and canceling ctx) cancels; the caller must call End once the work has stopped, and
// Close waits for that. When the operation is canceled before it may run, Begin records its end
// and returns the cancellation's cause.
func (r *Registry) Begin(ctx context.Context, spec Spec) (*Operation, error) {
	op, err := r.start(ctx, spec)
	if err != nil {
		return nil, err
	}
	if err := r.admit(op); err != nil {
		op.End(nil, err)
		return nil, err
	}
	return op, nil
}

// Context is the context of the operation's work (see Begin): canceled, with a *CanceledError
// as its cause, by a cancel request.
func (op *Operation) Context() context.Context { return op.ctx }

// End records how the work of an operation begun with Begin ended, as Run records what its Work
// returned: the end state follows from err and the context, as for Work. Calls after the first,
// and calls on an operation started otherwise, do nothing.
func (op *Operation) End(result any, err error) {
	if !op.ended.CompareAndSwap(false, true) {
		return
	}
	defer op.reg.wg.Done()
	op.reg.finish(op, result, err)
}

// Go starts an operation in its own goroutine and returns at once. The goroutine ends with the
// operation.
func (r *Registry) Go(spec Spec, work Work) (*Operation, error) {
	op, err := r.start(r.base, spec)
	if err != nil {
		return nil, err
	}
	go func() {
		_, _ = r.execute(op, work) // the outcome is in the operation's snapshot
	}()
	return op, nil
}

// Reject records an operation that did not start because its input was bad: it ends BadInput at
// once, with cause as its error, and the watchers hear of it as of any operation that stops.
func (r *Registry) Reject(spec Spec, cause error) (*Operation, error) {
	r.mu.Lock()
	now := r.clock.Now()
	op, err := r.newOperationLocked(context.Background(), spec, now)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	close(op.admitted)
	op.ended.Store(true)
	final := r.changeLocked(op, BadInput, op.snap.Created, nil, cause)
	watchers := r.watchersLocked()
	r.mu.Unlock()
	op.cancel(nil)
	close(op.done)
	for _, w := range watchers {
		w(final)
	}
	return op, nil
}

// newOperationLocked makes an operation and stores its first snapshot, in state Scheduled; the
// caller records its first state change.
func (r *Registry) newOperationLocked(parent context.Context, spec Spec, now time.Time) (*Operation, error) {
	id := spec.ID
	if id != uuid.Nil {
		if r.knownLocked(id) {
			return nil, fmt.Errorf("%w: %s", ErrAlreadyExists, id)
		}
	} else {
		// Skip ids the caller chose earlier; a source that keeps repeating itself is broken.
		id = r.opIDs.NewID()
		for tries := 1; r.knownLocked(id); tries++ {
			if tries == 100 {
				return nil, fmt.Errorf("%w: the id source keeps making ids in use, such as %s", ErrAlreadyExists, id)
			}
			id = r.opIDs.NewID()
		}
	}
	activity := spec.ActivityID
	if activity == uuid.Nil {
		activity = r.ids.NewID()
	}
	r.seq++
	ctx, cancel := context.WithCancelCause(parent)
	op := &Operation{
		ID: id, reg: r, cancel: cancel,
		admitted: make(chan struct{}), done: make(chan struct{}),
		snap: Snapshot{
			Seq: r.seq, ID: id, Kind: spec.Kind, Scope: spec.Scope, User: spec.User, Principal: spec.Principal,
			ActivityID: activity, Detail: spec.Detail, Created: now, Updated: now, State: Scheduled,
		},
	}
	op.h.id = id
	op.h.wake = make(chan struct{}, 1)
	op.ctx = context.WithValue(ctx, handleKey{}, &op.h)
	if err := r.store.Put(op.snap); err != nil {
		cancel(nil)
		return nil, err
	}
	r.live[id] = op
	return op, nil
}

func (r *Registry) knownLocked(id uuid.UUID) bool {
	if r.live[id] != nil {
		return true
	}
	_, ok := r.store.Get(id)
	return ok
}

// start registers an operation: Running if it may run now, Scheduled if it must wait for a slot.
// The operation counts in wg until execute has finished it, so that Close waits for it.
func (r *Registry) start(parent context.Context, spec Spec) (*Operation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	now := r.clock.Now()
	op, err := r.newOperationLocked(parent, spec, now)
	if err != nil {
		return nil, err
	}
	r.wg.Add(1)
	switch {
	case !spec.Kind.Cancellable || spec.Kind.NoSlot:
		close(op.admitted)
		r.changeLocked(op, Running, now, nil, nil)
	case r.running < r.capacity && len(r.queue) == 0:
		r.running++
		op.holdsSlot = true
		close(op.admitted)
		r.changeLocked(op, Running, now, nil, nil)
	default:
		op.queued = true
		r.queue = append(r.queue, op)
		r.changeLocked(op, Scheduled, now, nil, nil)
	}
	return op, nil
}

// execute waits for the operation's slot, runs its work and records how it ended.
func (r *Registry) execute(op *Operation, work Work) (any, error) {
	op.ended.Store(true) // recorded here, not by End
	defer r.wg.Done()
	var result any
	err := r.admit(op)
	if err == nil {
		result, err = work(op.ctx)
	}
	r.finish(op, result, err)
	return result, err
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

// finish records the operation's end, hands its slot to the next Scheduled operation (recording
// that one's Running before anything else can happen, so logs are deterministic), and closes
// Done.
func (r *Registry) finish(op *Operation, result any, err error) {
	state, err := outcome(op.ctx, err)
	r.mu.Lock()
	final := r.changeLocked(op, state, r.clock.Now(), result, err)
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
		w(final)
	}
}

// watchersLocked returns the watchers to call, once the lock is released, with a final snapshot.
func (r *Registry) watchersLocked() []func(Snapshot) {
	watchers := make([]func(Snapshot), 0, len(r.watchers))
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
		r.changeLocked(next, Running, r.clock.Now(), nil, nil)
		close(next.admitted)
	}
}

// outcome maps how work ended to an end state and the error to keep. A nil error is Succeeded and
// a *SkippedError Skipped, whatever happened to ctx; any other error after ctx was canceled is
// Canceled (Abandoned when the cause is an *AbandonedError), with ctx's cause kept as the error.
// Otherwise the error may choose its state (see
// stateError, badInputError); the rest are Failed.
func outcome(ctx context.Context, err error) (State, error) {
	var skipped *SkippedError
	var chooses stateError
	var badInput badInputError
	switch {
	case err == nil:
		return Succeeded, nil
	case errors.As(err, &skipped):
		return Skipped, err
	case ctx.Err() != nil:
		var abandoned *AbandonedError
		if cause := context.Cause(ctx); errors.As(cause, &abandoned) {
			return Abandoned, cause
		}
		return Canceled, context.Cause(ctx)
	case errors.As(err, &chooses) && chooses.OperationState().Terminal() &&
		chooses.OperationState() != Succeeded && chooses.OperationState() != Canceled:
		return chooses.OperationState(), err
	case errors.As(err, &badInput) && badInput.BadInput():
		return BadInput, err
	}
	return Failed, err
}

// changeLocked records a state change of op at now: its snapshot, with the work's phase and
// progress, goes to the store and the log. An end also keeps the result and error and takes the
// operation off the live ones.
func (r *Registry) changeLocked(op *Operation, state State, now time.Time, result any, err error) Snapshot {
	s := op.snap
	s.State, s.Updated = state, now
	s.Phase, s.Progress = op.h.phaseNow(), op.h.progressNow()
	if state.Terminal() {
		s.Result, s.Err = result, err
		delete(r.live, op.ID)
	}
	op.snap = s
	r.write(r.store.Put(s))
	if !r.noLog {
		r.write(r.store.Append(s))
	}
	r.write(r.store.Prune(now.Add(-r.retention), r.maxEnded))
	return s
}

// Prune drops what retention (Retention, MaxEnded) no longer keeps, as of now. The registry
// prunes at every state change; a reader calls Prune to see none of what expired since.
func (r *Registry) Prune() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
}

// prune is Prune with r.mu held.
func (r *Registry) prune() {
	r.write(r.store.Prune(r.clock.Now().Add(-r.retention), r.maxEnded))
}

func (r *Registry) write(err error) {
	if err != nil {
		r.storeErr(err)
	}
}

// viewLocked is a stored snapshot as readers see it: for a live operation, with its work's phase
// and progress now.
func (r *Registry) viewLocked(s Snapshot) Snapshot {
	if op := r.live[s.ID]; op != nil {
		s.Phase, s.Progress = op.h.phaseNow(), op.h.progressNow()
	}
	return s
}

// Get returns an operation as it is now.
func (r *Registry) Get(id uuid.UUID) (Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.store.Get(id)
	if !ok {
		return Snapshot{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r.viewLocked(s), nil
}

// Log returns every record of the retention period, oldest first: one a state change.
func (r *Registry) Log() []Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
	return slices.Collect(r.store.Log())
}

// Latest returns each operation named as it is now, in the order named, leaving out unknown ids,
// repeats, and operations whose latest state change is older than the latest window.
func (r *Registry) Latest(ids []uuid.UUID) []Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	cutoff := r.clock.Now().Add(-r.latestWindow)
	var out []Snapshot
	seen := map[uuid.UUID]bool{}
	for _, id := range ids {
		s, ok := r.store.Get(id)
		if !ok || seen[id] || s.Updated.Before(cutoff) {
			continue
		}
		seen[id] = true
		out = append(out, r.viewLocked(s))
	}
	return out
}

// Active returns each operation that has not ended, oldest first.
func (r *Registry) Active() []Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Snapshot, 0, len(r.live))
	for _, op := range r.live {
		out = append(out, r.viewLocked(op.snap))
	}
	slices.SortFunc(out, func(a, b Snapshot) int { return compareSeq(a.Seq, b.Seq) })
	return out
}

func compareSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Wait blocks until the operation has stopped or ctx is done, and returns its final snapshot.
func (r *Registry) Wait(ctx context.Context, id uuid.UUID) (Snapshot, error) {
	r.mu.Lock()
	op := r.live[id]
	if op == nil {
		defer r.mu.Unlock()
		s, ok := r.store.Get(id)
		if !ok {
			return Snapshot{}, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return s, nil
	}
	r.mu.Unlock()
	select {
	case <-op.done:
	case <-ctx.Done():
		return Snapshot{}, context.Cause(ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return op.snap, nil
}

// Watch calls fn with the final snapshot of every operation that stops from now on, until the
// returned function is called. fn runs in the goroutine that ran (or rejected) the operation,
// after its Done is closed, and must not block.
func (r *Registry) Watch(fn func(Snapshot)) (stop func()) {
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

// Close cancels every operation still running, with reason (recorded as a graceful cancel
// request from origin "shutdown"), and waits until they have stopped (those started with Run as
// well as with Go) or ctx is done. No operation can start afterwards. Work must not call Close:
// it would wait for itself until ctx is done.
func (r *Registry) Close(ctx context.Context, reason string) error {
	return r.shut(ctx, reason, false)
}

// Abandon is Close for a registry whose owner gives up on its operations rather than canceling
// them (a server stopping with work still running): each live operation's context is canceled
// with an *AbandonedError as its cause, no cancel request is recorded, and the operation ends
// Abandoned, whatever error its work returns, unless the work succeeds or skips anyway.
func (r *Registry) Abandon(ctx context.Context, reason string) error {
	return r.shut(ctx, reason, true)
}

func (r *Registry) shut(ctx context.Context, reason string, abandon bool) error {
	r.mu.Lock()
	r.closed = true
	req := Cancellation{At: r.stamp(), Reason: reason, Mode: Graceful, Origin: "shutdown"}
	live := make([]*Operation, 0, len(r.live))
	for _, op := range r.live {
		if !abandon {
			r.requestLocked(op, req)
		}
		live = append(live, op)
	}
	r.mu.Unlock()
	var cause error = &CanceledError{Reason: reason, Mode: Graceful, Origin: req.Origin}
	if abandon {
		cause = &AbandonedError{Reason: reason}
	}
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
