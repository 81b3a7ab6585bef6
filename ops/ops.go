// Package ops is Kustard's operations registry: every management command that changes state runs
// as an operation with an id, a kind and a state, and every state change is kept as a record, as
// `.show operations` reports them. Ingest-from-query operations run under a context that
// `.cancel operation` cancels with the user's reason as its cause, and at most Capacity of them run
// at once; the rest wait as Scheduled.
//
// The registry knows nothing of parsing or rendering: the engine starts operations and turns
// records into tables, and every front door (CLI, REPL, servers) reaches operations through it.
package ops

import (
	"crypto/rand"
	"sync"
	"time"

	"github.com/google/uuid"
)

// State is an operation state, as listed in the `.show operations` docs.
type State string

// The states of the `.show operations` docs, in its order.
const (
	InProgress         State = "InProgress"
	Completed          State = "Completed"
	Failed             State = "Failed"
	PartiallySucceeded State = "PartiallySucceeded"
	Abandoned          State = "Abandoned"
	BadInput           State = "BadInput"
	Scheduled          State = "Scheduled"
	Throttled          State = "Throttled"
	Canceled           State = "Canceled"
	Skipped            State = "Skipped"
)

// Terminal reports whether an operation in this state has stopped for good.
func (s State) Terminal() bool { return s != InProgress && s != Scheduled }

// Record is one row of `.show operations`: an operation as it was at one state change.
type Record struct {
	OperationId    uuid.UUID
	Operation      string // the kind: TableSetOrAppend, TableCreate, …
	NodeId         string
	StartedOn      time.Time
	LastUpdatedOn  time.Time
	State          State
	Status         string
	RootActivityId uuid.UUID
	ShouldRetry    bool
	Database       string
	Principal      string
	User           string
}

// Duration is the time from the operation's start to this record.
func (r Record) Duration() time.Duration { return r.LastUpdatedOn.Sub(r.StartedOn) }

// Clock tells the time; tests inject one that is deterministic.
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

// Advance moves the clock forward without a reading, as the passing of time in a test.
func (c *StepClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next = c.next.Add(d)
}

// SequentialIDs is a deterministic IDSource for tests: 00000000-0000-0000-0000-000000000001, …2, ….
type SequentialIDs struct {
	mu sync.Mutex
	n  uint64
}

func (s *SequentialIDs) NewID() uuid.UUID {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	var id uuid.UUID
	for i := range 8 {
		id[15-i] = byte(s.n >> (8 * i))
	}
	return id
}
