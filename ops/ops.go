// Package ops is Kustard's operations core: long-running work with an id, a kind and a lifecycle,
// that every front door (Kusto's `.show operations` and `.cancel operation`, and later
// google.longrunning, Service Fabric fault operations, Azure SQL database operations) reaches
// through one Registry and shows in its own words. The package speaks no protocol: each front
// door derives its own view (state names, cancellation texts, error codes) from a Snapshot.
//
// An operation has a Kind (a name such as "TableSetOrAppend", and whether it may be canceled) and
// goes through a lifecycle: Scheduled (waiting for a capacity slot), Running, then exactly one end
// (Succeeded, PartiallySucceeded, Failed, Canceled, Abandoned, Skipped, BadInput, Throttled). At
// most Capacity cancellable operations run at once; the rest wait Scheduled, first come first
// served.
//
// A cancel request is kept as facts, not as a state: when, why, graceful or forced (a Mode), and
// through which front door (an origin). An operation that completes after a cancel request still
// reports both: it ended Succeeded, and a cancel was requested at T. Cancel cancels the work's
// context with a *CanceledError as its cause, and either waits for the operation to stop, bounded
// by the caller's context, or returns at once.
//
// Running work reports a phase ("building extent", "committing") and progress (units done, and
// the total where known) through the Handle that FromContext returns; updates are atomic and
// cheap, and every Snapshot shows them. Finished operations keep a typed result and error.
//
// Callers may choose an operation's id (an idempotency key: a reused id is ErrAlreadyExists) or
// let the registry make one. Every state change is a record of the log (Kusto's `.show
// operations` shows one row each); watchers hear of every operation that stops. List pages
// through operations with a Filter and opaque page tokens that stay stable while operations start.
// Snapshots and log records live in a Store: MemoryStore by default; a durable store implements
// the same small interface.
//
// The registry knows nothing of parsing or rendering: the engine starts operations and turns
// snapshots into tables.
package ops

import (
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Kind is what an operation does: a name ("TableSetOrAppend", "TableCreate", …) and whether an
// operation of the kind may be canceled. Cancellable operations take a capacity slot, unless
// NoSlot: control work (a fault injected for a test) must run at once, not queue behind the
// ingests it acts on, nor hold a slot from them while it waits.
type Kind struct {
	Name        string
	Cancellable bool
	NoSlot      bool
}

// State is where an operation is in its lifecycle: Scheduled, Running, then one terminal state.
type State uint8

// The states. Scheduled and Running are live; every other state is an end.
const (
	Scheduled          State = iota // waiting for a capacity slot
	Running                         // its work is running
	Succeeded                       // the work returned no error
	PartiallySucceeded              // parts of the work succeeded and parts did not
	Failed                          // the work returned an error
	Canceled                        // the work stopped because its context was canceled
	Abandoned                       // given up before it could finish
	Skipped                         // it did nothing, because of a condition in its input
	BadInput                        // it did not run, or stopped, because its input was at fault
	Throttled                       // aborted because capacity ran out
)

var stateNames = [...]string{"Scheduled", "Running", "Succeeded", "PartiallySucceeded", "Failed",
	"Canceled", "Abandoned", "Skipped", "BadInput", "Throttled"}

// States is every state, in lifecycle order.
var States = []State{Scheduled, Running, Succeeded, PartiallySucceeded, Failed, Canceled, Abandoned, Skipped, BadInput, Throttled}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Terminal reports whether an operation in this state has stopped for good.
func (s State) Terminal() bool { return s != Running && s != Scheduled }

// Mode is how a cancel request asks an operation to stop.
type Mode uint8

const (
	// Graceful asks the work to stop and clean up after itself.
	Graceful Mode = iota
	// Forced asks the work to stop at once, without cleaning up. Go code cannot be killed: the
	// work is told (through its context's cause, or its Handle) and must return.
	Forced
)

func (m Mode) String() string {
	if m == Forced {
		return "Forced"
	}
	return "Graceful"
}

// Cancellation is one cancel request, as recorded: facts about the request, not a state.
type Cancellation struct {
	At     time.Time
	Reason string
	Mode   Mode
	Origin string // the front door it came through: "kusto", "google", …; "shutdown" for Close
}

// Progress is how far an operation's work has got, in units of its own (rows, steps, …).
type Progress struct {
	Done  int64
	Total int64 // 0 when unknown
}

// Snapshot is an operation as it was at one moment: a log record (at a state change) or the
// current view (Get, List, Active, …). Its slices and values are shared: do not modify them.
type Snapshot struct {
	Seq        uint64 // registration order, from 1: List pages by it
	ID         uuid.UUID
	Kind       Kind
	Scope      string // the database or other resource it acts on
	User       string
	Principal  string
	ActivityID uuid.UUID // the client request it belongs to
	Detail     any       // the front door's own (Spec.Detail)
	Created    time.Time // when it was registered, Scheduled or Running
	Updated    time.Time // its latest state change
	State      State
	Phase      string   // what multi-step work is doing now; "" when it says nothing
	Progress   Progress // as of the snapshot
	// Cancels are the cancel requests made while it was live, oldest first.
	Cancels []Cancellation
	// Result and Err are what the work returned, once the operation has ended. Err is the reason
	// for every end but Succeeded: for Canceled, the cancellation's cause (a *CanceledError when
	// the registry canceled it); for BadInput from Reject, the rejection's cause.
	Result any
	Err    error
	// HiddenFrom are the front doors (surfaces) that no longer show the ended operation, because
	// a client there deleted it (see Hide); every other front door still shows it.
	HiddenFrom []string
}

// Hidden reports whether the operation is hidden from a surface.
func (s Snapshot) Hidden(surface string) bool { return slices.Contains(s.HiddenFrom, surface) }

// Duration is the time from the operation's registration to its latest state change.
func (s Snapshot) Duration() time.Duration { return s.Updated.Sub(s.Created) }

// CancelRequested reports whether a cancel was requested, and the first request.
func (s Snapshot) CancelRequested() (Cancellation, bool) {
	if len(s.Cancels) == 0 {
		return Cancellation{}, false
	}
	return s.Cancels[0], true
}

// Forced reports whether a forced cancel was requested.
func (s Snapshot) Forced() bool {
	for _, c := range s.Cancels {
		if c.Mode == Forced {
			return true
		}
	}
	return false
}

// ResultAs returns a snapshot's result as a T, if it is one.
func ResultAs[T any](s Snapshot) (T, bool) {
	v, ok := s.Result.(T)
	return v, ok
}

// Clock tells the time; tests inject one that is deterministic. A clock that also has a Peek
// method (StepClock does) is read with Peek for times that record facts rather than state
// changes (cancel requests), so that those facts do not shift a deterministic log.
type Clock interface{ Now() time.Time }

// IDSource makes operation and activity ids; tests inject a sequential one.
type IDSource interface{ NewID() uuid.UUID }

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC() }

// RandomIDs makes random (version 4) uuids.
type RandomIDs struct{}

func (RandomIDs) NewID() uuid.UUID { return uuid.Must(uuid.NewRandomFromReader(rand.Reader)) }

// StepClock is a deterministic clock for tests: each call to Now returns the previous time plus
// Step, starting at Start.
type StepClock struct {
	mu    sync.Mutex
	next  time.Time
	step  time.Duration
	calls int
}

// NewStepClock returns a clock whose first reading is start.
func NewStepClock(start time.Time, step time.Duration) *StepClock {
	return &StepClock{next: start.UTC(), step: step}
}

func (c *StepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next
	c.next = c.next.Add(c.step)
	c.calls++
	return t
}

// Peek returns the time the next reading will return, without taking it.
func (c *StepClock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}

// Advance moves the clock forward without a reading, as the passing of time in a test.
func (c *StepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = c.next.Add(d)
}

// ContinueAfter makes the clock's next reading later than t, if it would not be: a
// deterministic run over stored operations (kustard --deterministic --data) then goes on from
// the latest time they recorded rather than back to the start.
func (c *StepClock) ContinueAfter(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.next.After(t) {
		c.next = t.UTC().Add(c.step)
	}
}

// SequentialIDs is a deterministic IDSource for tests: 00000000-0000-0000-0000-000000000001, …2, ….
// Prefix, when set, is the ids' first byte, so that two sequences cannot be mistaken for each
// other: with 0x10, 10000000-0000-0000-0000-000000000001, ….
type SequentialIDs struct {
	Prefix byte
	mu     sync.Mutex
	n      uint64
}

func (s *SequentialIDs) NewID() uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	id := uuid.UUID{0: s.Prefix}
	for i := range 8 {
		id[15-i] = byte(s.n >> (8 * i))
	}
	return id
}

// ContinueAfter makes the sequence continue after id, if id is one of its own (its prefix, then
// zeros, then a number, as NewID makes them) and not behind it, so that a deterministic run over
// stored ids (kustard --deterministic --data) makes none of them again.
func (s *SequentialIDs) ContinueAfter(id uuid.UUID) {
	if id[0] != s.Prefix || [7]byte(id[1:8]) != [7]byte{} {
		return
	}
	var n uint64
	for i := range 8 {
		n |= uint64(id[15-i]) << (8 * i)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n = max(s.n, n)
}

// DeterministicIDs are the id sources of a deterministic run (kustard --deterministic).
// Operation ids have a sequence of their own, 00000000-0000-0000-0000-000000000001, …2, … in the
// order the operations start (each ingest, async or not, and each .create table), so that a
// script can name an operation in advance; every other id (RootActivityId, database, table and
// extent ids) comes from a second sequence, 10000000-0000-0000-0000-000000000001, ….
func DeterministicIDs() (ids, operationIDs IDSource) {
	return &SequentialIDs{Prefix: 0x10}, &SequentialIDs{}
}
