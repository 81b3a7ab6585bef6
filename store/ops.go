package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	bolt "go.etcd.io/bbolt"
)

// opsStore is the ops.Store of a data directory: an ops.MemoryStore serves the reads, and every
// write goes through to bbolt first. An operation's Result is kept as the engine encodes it
// (an ingest's extents, for `.show operation details`); its error as its text and its Kusto
// Status. Its Detail, a Go value of the process that ran it, is not kept.
type opsStore struct {
	s       *Store
	mem     *ops.MemoryStore
	logKeys []uint64 // the bbolt key of each record of mem's log, in order
	nextLog uint64
	ended   int // operations of mem that have ended, for Prune's quick check
}

// opRec is a Snapshot as stored.
type opRec struct {
	Seq        uint64             `json:"seq"`
	ID         uuid.UUID          `json:"id"`
	Kind       string             `json:"kind"`
	Cancel     bool               `json:"cancellable,omitempty"`
	Scope      string             `json:"scope,omitempty"`
	User       string             `json:"user,omitempty"`
	Principal  string             `json:"principal,omitempty"`
	ActivityID uuid.UUID          `json:"activity_id"`
	Created    time.Time          `json:"created"`
	Updated    time.Time          `json:"updated"`
	State      string             `json:"state"`
	Phase      string             `json:"phase,omitempty"`
	Progress   ops.Progress       `json:"progress"`
	Cancels    []ops.Cancellation `json:"cancels,omitempty"`
	Err        string             `json:"error,omitempty"`
	Status     string             `json:"status,omitempty"`
	HiddenFrom []string           `json:"hidden_from,omitempty"`
	Result     json.RawMessage    `json:"result,omitempty"` // engine.EncodeResult
}

// completionRec is the completion of an operation that a catalog commit recorded with the
// operation's data (engine.CompleteOperation).
type completionRec struct {
	At     time.Time       `json:"at"`
	Result json.RawMessage `json:"result,omitempty"`
}

func encodeCompletion(c *engine.CompleteOperation) ([]byte, error) {
	res, err := engine.EncodeResult(c.Result)
	if err != nil {
		return nil, err
	}
	return json.Marshal(completionRec{At: c.At, Result: res})
}

// storedError is an operation's error as it comes back from the store: its text, and the Status
// `.show operations` showed.
type storedError struct{ msg, status string }

func (e *storedError) Error() string  { return e.msg }
func (e *storedError) Status() string { return e.status }

func encodeOp(s ops.Snapshot) ([]byte, error) {
	r := opRec{Seq: s.Seq, ID: s.ID, Kind: s.Kind.Name, Cancel: s.Kind.Cancellable, Scope: s.Scope, User: s.User,
		Principal: s.Principal, ActivityID: s.ActivityID, Created: s.Created, Updated: s.Updated, State: s.State.String(),
		Phase: s.Phase, Progress: s.Progress, Cancels: s.Cancels, HiddenFrom: s.HiddenFrom}
	if s.Err != nil {
		r.Err, r.Status = s.Err.Error(), engine.KustoStatus(s)
	}
	var err error
	if r.Result, err = engine.EncodeResult(s.Result); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

func decodeOp(b []byte) (ops.Snapshot, error) {
	var r opRec
	if err := json.Unmarshal(b, &r); err != nil {
		return ops.Snapshot{}, err
	}
	state := ops.State(255)
	for _, st := range ops.States {
		if st.String() == r.State {
			state = st
		}
	}
	if state == 255 {
		return ops.Snapshot{}, fmt.Errorf("operation %s has unknown state %q", r.ID, r.State)
	}
	s := ops.Snapshot{Seq: r.Seq, ID: r.ID, Kind: ops.Kind{Name: r.Kind, Cancellable: r.Cancel}, Scope: r.Scope, User: r.User,
		Principal: r.Principal, ActivityID: r.ActivityID, Created: r.Created, Updated: r.Updated, State: state,
		Phase: r.Phase, Progress: r.Progress, Cancels: r.Cancels, HiddenFrom: r.HiddenFrom}
	if r.Err != "" || r.Status != "" {
		s.Err = &storedError{r.Err, r.Status}
	}
	var err error
	if s.Result, err = engine.DecodeResult(r.Result); err != nil {
		return ops.Snapshot{}, fmt.Errorf("operation %s: %w", r.ID, err)
	}
	return s, nil
}

// AbandonedStatus is the Status of an operation that was live when its process stopped.
const AbandonedStatus = "Abandoned: the kustard process stopped while the operation was %s; found at restart"

// openOps loads the stored operations and log. An operation that was live when the process
// that ran it stopped becomes Completed, with its result, if a catalog commit recorded its
// completion with its data (the kill came between that commit and the operation's own
// record), and Abandoned otherwise; each gets a log record.
func openOps(s *Store, now func() time.Time) (*opsStore, error) {
	o := &opsStore{s: s, mem: ops.NewMemoryStore()}
	err := s.db.Update(func(tx *bolt.Tx) error {
		opsB, logB, doneB := tx.Bucket(bucketOps), tx.Bucket(bucketLog), tx.Bucket(bucketCompleted)
		completed := map[uuid.UUID]completionRec{}
		var doneKeys [][]byte
		err := doneB.ForEach(func(k, v []byte) error {
			var c completionRec
			if err := json.Unmarshal(v, &c); err != nil {
				return fmt.Errorf("completion record %x: %w", k, err)
			}
			id, err := uuid.FromBytes(k)
			if err != nil {
				return err
			}
			completed[id] = c
			doneKeys = append(doneKeys, slices.Clone(k))
			return nil
		})
		if err != nil {
			return err
		}
		// The log's last state of each operation: an operation's record and its log record are
		// two transactions (Put, then Append), so a crash between them leaves the log one state
		// behind, which is caught up below.
		logged := map[uuid.UUID]ops.State{}
		var ended, behind []ops.Snapshot
		err = logB.ForEach(func(k, v []byte) error {
			rec, err := decodeOp(v)
			if err != nil {
				return err
			}
			logged[rec.ID] = rec.State
			return nil
		})
		if err != nil {
			return err
		}
		err = opsB.ForEach(func(k, v []byte) error {
			snap, err := decodeOp(v)
			if err != nil {
				return err
			}
			if c, ok := completed[snap.ID]; ok && !snap.State.Terminal() {
				if err := complete(&snap, c, now); err != nil {
					return err
				}
				ended = append(ended, snap)
			} else if !snap.State.Terminal() {
				snap.Err = &storedError{msg: fmt.Sprintf(AbandonedStatus, snap.State), status: fmt.Sprintf(AbandonedStatus, snap.State)}
				snap.State = ops.Abandoned
				snap.Updated = now()
				ended = append(ended, snap)
			} else if st, ok := logged[snap.ID]; ok && st != snap.State {
				behind = append(behind, snap)
			}
			o.count(snap)
			return o.mem.Put(snap)
		})
		if err != nil {
			return err
		}
		err = logB.ForEach(func(k, v []byte) error {
			rec, err := decodeOp(v)
			if err != nil {
				return err
			}
			key := binary.BigEndian.Uint64(k)
			o.logKeys = append(o.logKeys, key)
			o.nextLog = key + 1
			return o.mem.Append(rec)
		})
		if err != nil {
			return err
		}
		for _, snap := range behind {
			if err := o.appendTx(logB, snap); err != nil {
				return err
			}
		}
		for _, snap := range ended {
			b, err := encodeOp(snap)
			if err != nil {
				return err
			}
			if err := opsB.Put(u64key(snap.Seq), b); err != nil {
				return err
			}
			if err := o.appendTx(logB, snap); err != nil {
				return err
			}
		}
		// Every completion is in its operation's record now (or its operation is gone).
		for _, k := range doneKeys {
			if err := doneB.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("data directory %s: the operations are unreadable: %w", s.dir, err)
	}
	return o, nil
}

// complete makes a live operation's snapshot the Completed one its completion c stands for.
func complete(snap *ops.Snapshot, c completionRec, now func() time.Time) error {
	result, err := engine.DecodeResult(c.Result)
	if err != nil {
		return fmt.Errorf("operation %s: %w", snap.ID, err)
	}
	snap.State, snap.Err, snap.Result, snap.Updated = ops.Succeeded, nil, result, c.At
	if c.At.IsZero() {
		snap.Updated = now()
	}
	if rows, ok := engine.ResultRows(result); ok {
		snap.Progress.Done = rows
	}
	return nil
}

// appendTx adds a log record in tx, without the operation's result (see Append).
func (o *opsStore) appendTx(logB *bolt.Bucket, rec ops.Snapshot) error {
	rec.Result = nil
	b, err := encodeOp(rec)
	if err != nil {
		return err
	}
	if err := logB.Put(u64key(o.nextLog), b); err != nil {
		return err
	}
	o.logKeys = append(o.logKeys, o.nextLog)
	o.nextLog++
	return o.mem.Append(rec)
}

func (o *opsStore) Put(s ops.Snapshot) error {
	b, err := encodeOp(s)
	if err != nil {
		return err
	}
	err = o.s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketOps).Put(u64key(s.Seq), b); err != nil {
			return err
		}
		if s.State.Terminal() {
			// The record says how it ended: a completion the catalog recorded is done with.
			return tx.Bucket(bucketCompleted).Delete(s.ID[:])
		}
		return nil
	})
	if err != nil {
		return err
	}
	o.count(s)
	return o.mem.Put(s)
}

func (o *opsStore) Append(rec ops.Snapshot) error {
	// The log shows states; an operation's result is read from its own record.
	rec.Result = nil
	b, err := encodeOp(rec)
	if err != nil {
		return err
	}
	next := o.nextLog
	err = o.s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Put(u64key(next), b) })
	if err != nil {
		return err
	}
	o.logKeys = append(o.logKeys, next)
	o.nextLog++
	return o.mem.Append(rec)
}

// count counts an operation that ends with s.
func (o *opsStore) count(s ops.Snapshot) {
	prev, had := o.mem.Get(s.ID)
	if s.State.Terminal() && !(had && prev.State.Terminal()) {
		o.ended++
	}
}

func (o *opsStore) Get(id uuid.UUID) (ops.Snapshot, bool) { return o.mem.Get(id) }

func (o *opsStore) Scan(after uint64) iter.Seq[ops.Snapshot] { return o.mem.Scan(after) }

func (o *opsStore) Log() iter.Seq[ops.Snapshot] { return o.mem.Log() }

// Prune prunes the memory store, then deletes from bbolt what it dropped: the operations it no
// longer has, and the log records it no longer has (the log's records are matched in order: a
// prune only deletes, never reorders).
func (o *opsStore) Prune(cutoff time.Time, maxEnded int) error {
	// The registry prunes at every state change: say quickly when there is nothing to drop,
	// which is when the oldest log record is young enough and not too many operations ended.
	hasLog, oldest := false, false
	for r := range o.mem.Log() {
		hasLog, oldest = true, r.Updated.Before(cutoff)
		break
	}
	if hasLog && !oldest && !(maxEnded > 0 && o.ended > maxEnded) {
		return nil
	}
	before := map[uint64]uuid.UUID{}
	for s := range o.mem.Scan(0) {
		before[s.Seq] = s.ID
	}
	var oldLog []ops.Snapshot
	for r := range o.mem.Log() {
		oldLog = append(oldLog, r)
	}
	if err := o.mem.Prune(cutoff, maxEnded); err != nil {
		return err
	}
	o.ended = 0
	for s := range o.mem.Scan(0) {
		delete(before, s.Seq)
		if s.State.Terminal() {
			o.ended++
		}
	}
	// Match the kept log records to the old ones, in order, to find the keys of the dropped.
	var keep []uint64
	var drop []uint64
	j := 0
	var newLog []ops.Snapshot
	for r := range o.mem.Log() {
		newLog = append(newLog, r)
	}
	for i, r := range oldLog {
		if j < len(newLog) && sameRecord(r, newLog[j]) {
			keep = append(keep, o.logKeys[i])
			j++
		} else {
			drop = append(drop, o.logKeys[i])
		}
	}
	if len(before) == 0 && len(drop) == 0 {
		return nil
	}
	err := o.s.db.Update(func(tx *bolt.Tx) error {
		for seq := range before {
			if err := tx.Bucket(bucketOps).Delete(u64key(seq)); err != nil {
				return err
			}
		}
		for _, k := range drop {
			if err := tx.Bucket(bucketLog).Delete(u64key(k)); err != nil {
				return err
			}
		}
		return nil
	})
	o.logKeys = keep
	return err
}

func sameRecord(a, b ops.Snapshot) bool {
	return a.ID == b.ID && a.Seq == b.Seq && a.State == b.State && a.Updated.Equal(b.Updated)
}
