package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// Faults are failures injected on purpose, so that a program built on Kusto can be tested
// against them: data loss (a table's newest extents dropped), a table restart (its in-flight
// ingests abandoned, the table reloaded from its store) and a node stop (the engine refuses
// commands and queries for a while). Each runs as an operation of the registry, in phases,
// cancellable gracefully (it stops and cleans up) and forcibly (it stops at once). The engine
// speaks no fault protocol: a front door maps these to its own words.

// The operation kinds of faults, as `.show operations` names them. They take no capacity slot:
// a fault must not wait behind the ingests it acts on.
var (
	KindDataLoss     = ops.Kind{Name: "FaultDataLoss", Cancellable: true, NoSlot: true}
	KindTableRestart = ops.Kind{Name: "FaultTableRestart", Cancellable: true, NoSlot: true}
	KindNodeStop     = ops.Kind{Name: "FaultNodeStop", Cancellable: true, NoSlot: true}
	KindNodeStart    = ops.Kind{Name: "FaultNodeStart", Cancellable: true, NoSlot: true}
)

// Defaults of the fault options.
const (
	DefaultMaxNodeStop    = 4 * time.Hour // Service Fabric's largest StopDurationInSeconds, 14400
	DefaultNodeStartDelay = time.Second
)

// Phases a fault operation reports.
const (
	PhaseSelecting  = "selecting extents"
	PhaseRemoving   = "removing extents"
	PhaseAbandoning = "abandoning ingests"
	PhaseReloading  = "reloading table"
	PhaseStopped    = "node stopped"
	PhaseStarting   = "starting node"
)

// Errors of the fault starters, for front doors to map.
var (
	ErrNodeStopped  = errors.New("the node is already stopped")
	ErrNodeUp       = errors.New("the node is not stopped")
	ErrStopDuration = errors.New("the stop duration is out of range")
	ErrNoTable      = errors.New("no table has this id")
)

// DataLossResult is what a data loss operation keeps when it ends: the table and the extents and
// rows it dropped.
type DataLossResult struct {
	Database, Table string
	TableID         uuid.UUID
	Extents         int
	Rows            int64
}

// RestartResult is what a table restart keeps: the ingests it abandoned.
type RestartResult struct {
	Database, Table string
	TableID         uuid.UUID
	Abandoned       []uuid.UUID
}

// NodeResult is what a node stop or start keeps: whether the node came up early (a start, or a
// cancel) rather than at the end of its stop.
type NodeResult struct{ Early bool }

// TableReloader is a Store that can read a table's extents back from its storage, as a
// restarted node would: Reload returns fresh extents for the ones given, in order. A store
// without it (the memory store) keeps the table as it is.
type TableReloader interface {
	Reload(database string, table TableInfo) ([]*Extent, error)
}

// faults is the engine's fault state: the node stop in force and the ingests in flight.
type faults struct {
	mu       sync.Mutex
	stop     *nodeStop
	inflight map[uuid.UUID]map[*ingestTrack]bool // by table id
	// step, when set (tests), is called as a data loss or restart enters a phase, so a test can
	// hold it there with a gate.
	step func(phase string)
}

type nodeStop struct {
	op    uuid.UUID
	start chan struct{} // closed by a start, once
	once  sync.Once
}

type ingestTrack struct {
	op     uuid.UUID
	cancel context.CancelCauseFunc
}

func (e *Engine) after(d time.Duration) <-chan time.Time {
	if e.opts.After != nil {
		return e.opts.After(d)
	}
	return time.After(d)
}

func (e *Engine) faultStep(ctx context.Context, phase string) {
	ops.FromContext(ctx).SetPhase(phase)
	if e.faults.step != nil {
		e.faults.step(phase)
	}
}

// Unavailable is the error of a command or query refused while the node is stopped, nil while
// it is up.
func (e *Engine) Unavailable() error {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	if e.faults.stop == nil {
		return nil
	}
	return &kusto.Error{Kind: kusto.KindUnavailable, Offset: -1, Msg: fmt.Sprintf(
		"Service is unavailable: the node is stopped (operation %s); retry after it starts", e.faults.stop.op)}
}

// NodeStoppedBy returns the operation whose stop is in force, if the node is stopped.
func (e *Engine) NodeStoppedBy() (uuid.UUID, bool) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	if e.faults.stop == nil {
		return uuid.Nil, false
	}
	return e.faults.stop.op, true
}

// TableByID finds a table of a database by its id.
func (e *Engine) TableByID(database string, id uuid.UUID) (TableInfo, bool) {
	for _, t := range e.cat.Snapshot().Tables(database) {
		if t.ID == id {
			return t, true
		}
	}
	return TableInfo{}, false
}

func faultSpec(spec ops.Spec, kind ops.Kind, scope string) ops.Spec {
	spec.Kind = kind
	if spec.Scope == "" {
		spec.Scope = scope
	}
	return spec
}

// StartDataLoss drops extents of a table, in one catalog transaction: all of them, or the newest
// ⌈n/2⌉ of its n extents (so a test can count what is left). Under a durable store their files
// go as a dropped table's do. A cancel before the extents are removed leaves the table whole; one
// after cannot bring them back: the operation ends as it did, with the request kept.
func (e *Engine) StartDataLoss(spec ops.Spec, database string, tableID uuid.UUID, all bool) (*ops.Operation, error) {
	if _, ok := e.TableByID(database, tableID); !ok {
		return nil, fmt.Errorf("%w: %s in database %q", ErrNoTable, tableID, database)
	}
	return e.ops.Go(faultSpec(spec, KindDataLoss, database), func(ctx context.Context) (any, error) {
		e.faultStep(ctx, PhaseSelecting)
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		e.faultStep(ctx, PhaseRemoving)
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		res := &DataLossResult{Database: database, TableID: tableID}
		_, err := e.cat.Update(func(tx *Txn) error {
			*res = DataLossResult{Database: database, TableID: tableID}
			var t TableInfo
			found := false
			for _, c := range tx.Snapshot().Tables(database) {
				if c.ID == tableID {
					t, found = c, true
				}
			}
			if !found {
				return &kusto.Error{Kind: kusto.KindNotFound, Offset: -1, Msg: fmt.Sprintf("table %s of database %q was dropped", tableID, database)}
			}
			res.Table = t.Name
			n := len(t.Extents)
			drop := (n + 1) / 2
			if all {
				drop = n
			}
			for _, x := range t.Extents[n-drop:] { // extents are in commit order: the newest last
				res.Extents++
				res.Rows += int64(x.Rows)
			}
			if drop == 0 {
				return nil
			}
			if err := tx.Unchanged(database, t.Name); err != nil {
				return err
			}
			return tx.ReplaceExtents(database, t.Name, t.Extents[:n-drop]...)
		})
		return res, err
	})
}

// StartTableRestart restarts a table: the ingests into it that are in flight end Abandoned (they
// commit nothing), and the table is read back from its store (a TableReloader); the memory
// store keeps it as it is.
func (e *Engine) StartTableRestart(spec ops.Spec, database string, tableID uuid.UUID) (*ops.Operation, error) {
	if _, ok := e.TableByID(database, tableID); !ok {
		return nil, fmt.Errorf("%w: %s in database %q", ErrNoTable, tableID, database)
	}
	return e.ops.Go(faultSpec(spec, KindTableRestart, database), func(ctx context.Context) (any, error) {
		res := &RestartResult{Database: database, TableID: tableID}
		e.faultStep(ctx, PhaseAbandoning)
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		self := ops.FromContext(ctx).ID()
		e.faults.mu.Lock()
		var tracks []*ingestTrack
		for tr := range e.faults.inflight[tableID] {
			tracks = append(tracks, tr)
		}
		e.faults.mu.Unlock()
		slices.SortFunc(tracks, func(a, b *ingestTrack) int { return slices.Compare(a.op[:], b.op[:]) })
		for _, tr := range tracks {
			tr.cancel(&abandonedIngest{&kusto.Error{Kind: kusto.KindUnavailable, Offset: -1, Msg: fmt.Sprintf(
				"Abandoned: the table was restarted by operation %s while the ingest ran; nothing was committed", self)}})
			res.Abandoned = append(res.Abandoned, tr.op)
		}
		e.faultStep(ctx, PhaseReloading)
		if err := ctx.Err(); err != nil {
			return res, context.Cause(ctx)
		}
		reloader, ok := e.opts.Store.(TableReloader)
		_, err := e.cat.Update(func(tx *Txn) error {
			for _, t := range tx.Snapshot().Tables(database) {
				if t.ID != tableID {
					continue
				}
				res.Table = t.Name
				if !ok || len(t.Extents) == 0 {
					return nil
				}
				fresh, err := reloader.Reload(database, t)
				if err != nil {
					return err
				}
				if !sameExtents(fresh, t.Extents) {
					return conflictf("table %q changed while it was reloaded", t.Name) // Update runs it again
				}
				if err := tx.Unchanged(database, t.Name); err != nil {
					return err
				}
				return tx.ReplaceExtents(database, t.Name, fresh...)
			}
			return &kusto.Error{Kind: kusto.KindNotFound, Offset: -1, Msg: fmt.Sprintf("table %s of database %q was dropped", tableID, database)}
		})
		return res, err
	})
}

func sameExtents(a, b []*Extent) bool {
	return slices.EqualFunc(a, b, func(x, y *Extent) bool { return x.ID == y.ID })
}

// abandonedIngest ends an ingest Abandoned: its table was restarted under it.
type abandonedIngest struct{ err *kusto.Error }

func (e *abandonedIngest) Error() string             { return e.err.Error() }
func (e *abandonedIngest) Unwrap() error             { return e.err }
func (e *abandonedIngest) OperationState() ops.State { return ops.Abandoned }

// trackIngest records an ingest into a table as in flight, so that a restart of the table can
// abandon it; the context it returns is canceled by that restart. done forgets it.
func (e *Engine) trackIngest(ctx context.Context, tableID uuid.UUID) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	tr := &ingestTrack{op: ops.FromContext(ctx).ID(), cancel: cancel}
	e.faults.mu.Lock()
	if e.faults.inflight == nil {
		e.faults.inflight = map[uuid.UUID]map[*ingestTrack]bool{}
	}
	if e.faults.inflight[tableID] == nil {
		e.faults.inflight[tableID] = map[*ingestTrack]bool{}
	}
	e.faults.inflight[tableID][tr] = true
	e.faults.mu.Unlock()
	return ctx, func() {
		e.faults.mu.Lock()
		delete(e.faults.inflight[tableID], tr)
		if len(e.faults.inflight[tableID]) == 0 {
			delete(e.faults.inflight, tableID)
		}
		e.faults.mu.Unlock()
		cancel(nil)
	}
}

// abandonment is the error an ingest ends with when a restart abandoned it, or nil.
func abandonment(ctx context.Context) error {
	var ab *abandonedIngest
	if errors.As(context.Cause(ctx), &ab) {
		return ab
	}
	return nil
}

// StopNode stops the node for d (at most Options.MaxNodeStop): until it starts again, every
// command and query of every session is refused with Unavailable's error, while the operations
// registry (and the front doors that read it) stays up. It starts again when d has passed, when
// StartNode is called, or when the operation is canceled: a graceful cancel starts the node,
// which takes Options.NodeStartDelay (phase "starting node", the node still down); a forced
// cancel that follows cuts that short.
func (e *Engine) StopNode(spec ops.Spec, d time.Duration) (*ops.Operation, error) {
	if d <= 0 || d > e.opts.MaxNodeStop {
		return nil, fmt.Errorf("%w: %v is not between 1s and %v", ErrStopDuration, d, e.opts.MaxNodeStop)
	}
	st := &nodeStop{op: spec.ID, start: make(chan struct{})} // the id the registry makes, if none, comes below
	e.faults.mu.Lock()
	if e.faults.stop != nil {
		by := e.faults.stop.op
		e.faults.mu.Unlock()
		return nil, fmt.Errorf("%w by operation %s", ErrNodeStopped, by)
	}
	e.faults.stop = st // before the operation starts, so that nothing slips in
	e.faults.mu.Unlock()
	up := func() {
		e.faults.mu.Lock()
		if e.faults.stop == st {
			e.faults.stop = nil
		}
		e.faults.mu.Unlock()
	}
	ready := make(chan struct{})
	op, err := e.ops.Go(faultSpec(spec, KindNodeStop, ""), func(ctx context.Context) (any, error) {
		<-ready
		defer up()
		h := ops.FromContext(ctx)
		h.SetPhase(PhaseStopped)
		select {
		case <-e.after(d):
			return &NodeResult{}, nil
		case <-st.start:
			return &NodeResult{Early: true}, nil
		case <-ctx.Done():
		}
		h.SetPhase(PhaseStarting)
		c, asked := h.Cancellation()
		if !asked || c.Origin == "shutdown" {
			return nil, context.Cause(ctx) // the engine is closing or abandoning its operations: no start-up to wait for
		}
		timer := e.after(e.opts.NodeStartDelay)
		for c.Mode != ops.Forced {
			select {
			case <-timer:
				return nil, context.Cause(ctx)
			case <-st.start:
				return nil, context.Cause(ctx)
			case <-h.CancelRequests():
				c, _ = h.Cancellation()
			}
		}
		return nil, context.Cause(ctx)
	})
	if err != nil {
		up()
		return nil, err
	}
	e.faults.mu.Lock()
	st.op = op.ID
	e.faults.mu.Unlock()
	close(ready)
	return op, nil
}

// StartNode starts a stopped node at once, ending its stop operation (Succeeded, early).
func (e *Engine) StartNode(spec ops.Spec) (*ops.Operation, error) {
	e.faults.mu.Lock()
	st := e.faults.stop
	e.faults.mu.Unlock()
	if st == nil {
		return nil, ErrNodeUp
	}
	return e.ops.Go(faultSpec(spec, KindNodeStart, ""), func(ctx context.Context) (any, error) {
		ops.FromContext(ctx).SetPhase(PhaseStarting)
		st.once.Do(func() { close(st.start) })
		e.faults.mu.Lock()
		id := st.op
		e.faults.mu.Unlock()
		if _, err := e.ops.Wait(ctx, id); err != nil && !errors.Is(err, ops.ErrNotFound) {
			return nil, err
		}
		return &NodeResult{Early: true}, nil
	})
}
