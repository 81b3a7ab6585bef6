package ops

import (
	"iter"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
)

// Store keeps what the registry knows of its operations: the latest snapshot of each (Put on
// every state change and cancel request) and the log of state changes (Append). A durable store
// persists both, so that operations, their cancel requests, results and errors, and the log
// survive a restart; a Snapshot's Result and Err are Go values, which such a store must encode
// (the error's text at least). Reads are served from memory: a durable store writes through and
// loads what it kept when it opens. Live operations (Scheduled, Running) found when a registry
// opens over a store have lost their work; that registry reports them as the store has them.
//
// The registry calls a Store's methods one at a time and consumes each iterator before the next
// call, so a Store needs no locking of its own unless it is shared otherwise.
type Store interface {
	// Put inserts or replaces an operation's snapshot. Snapshots of new operations come in
	// increasing Seq.
	Put(s Snapshot) error
	// Append adds a state change to the log.
	Append(rec Snapshot) error
	// Get returns an operation's latest snapshot.
	Get(id uuid.UUID) (Snapshot, bool)
	// Scan yields the latest snapshot of each operation whose Seq is greater than after, in Seq
	// order.
	Scan(after uint64) iter.Seq[Snapshot]
	// Log yields the log, oldest first.
	Log() iter.Seq[Snapshot]
	// Prune drops the log records updated before cutoff, and the operations that have ended
	// and whose latest snapshot is older than cutoff; then, when maxEnded > 0 and more ended
	// operations remain, the oldest of them (by Seq), with their log records, until maxEnded
	// remain. Live operations are never dropped.
	Prune(cutoff time.Time, maxEnded int) error
}

// MemoryStore is the in-memory Store, the default.
type MemoryStore struct {
	byID  map[uuid.UUID]int // index into ops
	ops   []Snapshot        // in Seq order
	log   []Snapshot        // oldest first
	holes int               // dropped entries of ops (only their Seq kept), compacted when many
	ended int               // entries of ops that have ended
	first int               // no entry of ops before it has ended: where dropping the oldest starts
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{byID: map[uuid.UUID]int{}} }

func (m *MemoryStore) Put(s Snapshot) error {
	if s.State.Terminal() {
		m.ended++
	}
	if i, ok := m.byID[s.ID]; ok {
		if m.ops[i].State.Terminal() {
			m.ended--
		}
		m.ops[i] = s
		m.first = min(m.first, i)
		return nil
	}
	m.byID[s.ID] = len(m.ops)
	m.ops = append(m.ops, s)
	return nil
}

func (m *MemoryStore) Append(rec Snapshot) error {
	m.log = append(m.log, rec)
	return nil
}

func (m *MemoryStore) Get(id uuid.UUID) (Snapshot, bool) {
	i, ok := m.byID[id]
	if !ok {
		return Snapshot{}, false
	}
	return m.ops[i], true
}

func (m *MemoryStore) Scan(after uint64) iter.Seq[Snapshot] {
	return func(yield func(Snapshot) bool) {
		start := sort.Search(len(m.ops), func(i int) bool { return m.ops[i].Seq > after })
		for _, s := range m.ops[start:] {
			if s.ID != uuid.Nil && !yield(s) { // a dropped entry keeps only its Seq
				return
			}
		}
	}
}

func (m *MemoryStore) Log() iter.Seq[Snapshot] { return slices.Values(m.log) }

func (m *MemoryStore) Prune(cutoff time.Time, maxEnded int) error {
	n := 0
	for n < len(m.log) && m.log[n].Updated.Before(cutoff) {
		if i, ok := m.byID[m.log[n].ID]; ok && m.ops[i].State.Terminal() && m.ops[i].Updated.Before(cutoff) {
			m.drop(i)
		}
		n++
	}
	if n > 0 {
		m.log = slices.Delete(m.log, 0, n)
	}
	// A registry without a log (Options.NoLog) prunes by age here: the ended operations older
	// than cutoff, oldest first, as far as the first younger one.
	for i := m.first; i < len(m.ops) && len(m.log) == 0; i++ {
		s := m.ops[i]
		if s.ID == uuid.Nil || !s.State.Terminal() {
			continue
		}
		if !s.Updated.Before(cutoff) {
			break
		}
		m.drop(i)
	}
	if maxEnded > 0 && m.ended > maxEnded {
		dropped := map[uuid.UUID]bool{}
		for i := m.first; i < len(m.ops) && m.ended > maxEnded; i++ {
			if s := m.ops[i]; s.ID != uuid.Nil && s.State.Terminal() {
				dropped[s.ID] = true
				m.drop(i)
			}
		}
		if len(m.log) > 0 {
			m.log = slices.DeleteFunc(m.log, func(r Snapshot) bool { return dropped[r.ID] })
		}
	}
	m.advanceFirst()
	if m.holes > 64 && m.holes > len(m.ops)/2 {
		m.compact()
	}
	return nil
}

// drop forgets the ended operation at index i of ops.
func (m *MemoryStore) drop(i int) {
	delete(m.byID, m.ops[i].ID)
	m.ops[i] = Snapshot{Seq: m.ops[i].Seq} // keeps ops sorted by Seq until compacted
	m.holes++
	m.ended--
}

// advanceFirst moves first past the dropped entries at the front of ops, so that pruning by
// count does not walk them again.
func (m *MemoryStore) advanceFirst() {
	for m.first < len(m.ops) && m.ops[m.first].ID == uuid.Nil {
		m.first++
	}
}

func (m *MemoryStore) compact() {
	m.ops = slices.DeleteFunc(m.ops, func(s Snapshot) bool { return s.ID == uuid.Nil })
	for i, s := range m.ops {
		m.byID[s.ID] = i
	}
	m.holes, m.first = 0, 0
}
