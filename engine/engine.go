// Package engine runs Kusto commands and queries: typed columnar tables made of immutable extents,
// registries of commands and of tabular operators that drive dispatch, checking, help and
// completion, a compiler that turns the parser's AST into a plan, and ingest from query run as
// operations of the ops registry, cancellable mid-query.
//
// A plan (plan.go) is a tree of Nodes, each knowing its schema and children; opening one gives an
// Operator whose Next yields batches of at most batchSize rows and may reuse them, so a query
// allocates per query rather than per batch. Before a plan runs, a pruning pass (prune.go) tells
// each scan which columns the plan reads. Results stream through a Cursor (Session.Open);
// Session.Run collects one into a Frame. Each call carries its options in a Request.
//
// Commands and operators each have one registry (CommandInfo, OperatorInfo) that holds
// everything about them. A command's entry has its keywords, its grammar node, its `with`
// property specs, its flags, its result schema, its handler and what the shell completes after
// it; RegisterCommand adds it and its node to the parser's grammar. Dispatch, Check (parse and
// check a block without running it, for `kustard check`), the shell's help and completion, and
// the README's tables all read the registries, and tests hold them in step with the grammar.
//
// The catalog (Catalog, in txn.go) holds the databases, their tables, schemas and extent lists,
// and changes only by transactions: Begin, changes (create a table, set its schema, folder or
// docstring, drop it, append or replace extents), then Commit or Abort. Commit checks the
// transaction's preconditions and applies its changes in one step, or changes nothing, and hands
// the Commit, a list of change values, to a Store before publishing it: memory only by default, or the durable store of package
// store (kustard --data DIR). Reads take a Snapshot, which never changes, so a query compiled against
// one keeps reading the extents it saw. An ingest is two transactions, as Kusto documents: the
// table it creates or the columns it adds first, then its one extent, whose commit requires that
// the table still has the id it had and was not canceled. A scan opens each extent for just the
// columns it reads (Extent.Open, TableInfo.Scan); columns added after an extent was written read
// as nulls.
//
// Use it by creating an Engine, a Session on it, and calling Session.Execute with Kusto text; the
// result is a Frame, a typed table that the renderers in package render print.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// Options configure an Engine; zero values choose the defaults.
type Options struct {
	Clock ops.Clock
	IDs   ops.IDSource
	// OperationIDs, when set, makes operation ids apart from every other id (see
	// ops.Options.OperationIDs).
	OperationIDs ops.IDSource
	// Capacity bounds concurrent ingest operations (default: CPUs-1, at least 1).
	Capacity int
	// CancelWait bounds how long `.cancel operation` waits for the operation to stop; zero is
	// the default, and a negative wait means none: the command asks and returns at once.
	CancelWait time.Duration
	// Retention is how long `.show operations` keeps records (default two weeks).
	Retention time.Duration
	// QueriesRetention is how long `.show queries` keeps finished queries (default 30 days, as
	// `.show commands-and-queries` keeps them); MaxQueries bounds how many it keeps (default
	// 1,000), the oldest going first.
	QueriesRetention time.Duration
	MaxQueries       int
	// QueryIDs makes queries' RootActivityIds (and so the ClientActivityIds made for clients
	// that send none), apart from every other id, so that queries do not shift the ids a
	// deterministic run shows; default random.
	QueryIDs ops.IDSource
	// MaxResultRows bounds a query's result, as Kusto's result-set truncation does.
	MaxResultRows int
	// MaxResultBytes bounds a query's result size, counted as the memory budget counts it, as
	// Kusto's truncation of 64 MB does.
	MaxResultBytes int64
	// MaxIngestBytes bounds the data one ingest may build, counted as the memory budget counts
	// it; the docs advise under 1 GB.
	MaxIngestBytes int64
	// IngestFiles says which local files `.ingest into` may read (ingestfiles.go).
	IngestFiles FileAccess
	// ExportFiles says which local directories `.export` may write to (export.go): the zero
	// value any, as for the command line; a server none unless given --export-root.
	ExportFiles FileAccess
	// MaxMemory is the memory budget shared by every ingest, query and table (default: half of
	// the machine's memory, or of its cgroup's limit).
	MaxMemory int64
	// User names the principal of sessions that do not set one.
	User string
	// Store keeps the catalog's commits; nil keeps them in memory only (MemoryStore).
	Store Store
	// Operations keeps the operations and their log; nil keeps them in memory only.
	Operations ops.Store
	// RandomSeed, when not zero, seeds the generators sample draws from, one per evaluation in
	// the order they start, so that a deterministic run picks the same rows (kustard
	// --deterministic); zero seeds them at random.
	RandomSeed uint64
	// MaxNodeStop bounds how long StopNode may stop the node (default 4 hours);
	// NodeStartDelay is how long a stopped node takes to start when its stop is canceled
	// gracefully (default a second).
	MaxNodeStop    time.Duration
	NodeStartDelay time.Duration
	// After makes the timers of faults (a node stop's end); default time.After. Tests give
	// channels of their own.
	After func(time.Duration) <-chan time.Time
	// Address is where a front door serves the engine (the server's URL), which `.show cluster`
	// reports; empty says "local".
	Address string
}

// Defaults.
const (
	DefaultCancelWait     = 5 * time.Second
	DefaultMaxResultRows  = 500_000
	DefaultMaxResultBytes = 64 << 20
	DefaultMaxIngestBytes = 2 << 30
)

// Version is Kustard's version, shown by `.show version`.
var Version = "0.1.0"

// Engine holds the catalog of databases and the operations registry. It is safe for concurrent
// use by many sessions.
type Engine struct {
	opts    Options
	ops     *ops.Registry
	queries *ops.Registry // the queries, apart from the operations (queries.go)
	cat     *Catalog
	budget  *Budget
	started kusto.DateTime

	mu      sync.RWMutex
	streams map[string]Stream
	samples atomic.Uint64 // sample evaluations started, for RandomSeed
	faults  faults        // faults.go

	failures ingestFailures // .show ingestion failures
}

// Stream is a table whose rows come from Go code rather than from ingested extents: an embedding
// program can expose live data this way, and tests use it to hold a query open with a gate.
type Stream struct {
	Schema Schema
	// Open starts reading. The operator must return promptly once ctx is done.
	Open func(ctx context.Context) Operator
}

// New returns an engine with one empty database, NetDefaultDB, whose catalog lives in memory
// unless opts.Store says otherwise. It is Open for a store that cannot fail: it panics on an
// error.
func New(opts Options) *Engine {
	e, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return e
}

// Open returns an engine whose catalog is what opts.Store holds, with the database NetDefaultDB
// created if the store has none.
func Open(opts Options) (*Engine, error) {
	if opts.CancelWait == 0 {
		opts.CancelWait = DefaultCancelWait
	}
	if opts.MaxResultRows <= 0 {
		opts.MaxResultRows = DefaultMaxResultRows
	}
	if opts.MaxResultBytes <= 0 {
		opts.MaxResultBytes = DefaultMaxResultBytes
	}
	if opts.MaxIngestBytes <= 0 {
		opts.MaxIngestBytes = DefaultMaxIngestBytes
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = DefaultMaxMemory()
	}
	if opts.User == "" {
		opts.User = defaultUser()
	}
	if opts.QueriesRetention <= 0 {
		opts.QueriesRetention = DefaultQueriesRetention
	}
	if opts.MaxQueries <= 0 {
		opts.MaxQueries = DefaultMaxQueries
	}
	if opts.Store == nil {
		opts.Store = MemoryStore{}
	}
	if opts.MaxNodeStop <= 0 {
		opts.MaxNodeStop = DefaultMaxNodeStop
	}
	if opts.NodeStartDelay <= 0 {
		opts.NodeStartDelay = DefaultNodeStartDelay
	}
	cat, err := NewCatalog(opts.Store)
	if err != nil {
		return nil, err
	}
	reg := ops.New(ops.Options{Store: opts.Operations, Clock: opts.Clock, IDs: opts.IDs, OperationIDs: opts.OperationIDs, Capacity: opts.Capacity, Retention: opts.Retention})
	e := &Engine{opts: opts, ops: reg, queries: newQueryRegistry(opts, reg.Clock()), cat: cat, budget: NewBudget(opts.MaxMemory), streams: map[string]Stream{}}
	cat.released = e.budget.releaseExtents
	e.started = kusto.DateTimeOf(reg.Clock().Now())
	if _, ok := cat.Snapshot().Database(DefaultDatabase); !ok {
		id := reg.IDs().NewID()
		if _, err := cat.Update(func(tx *Txn) error { return tx.CreateDatabase(DefaultDatabase, id) }); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func defaultUser() string {
	for _, v := range []string{"USER", "USERNAME", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "local"
}

// Memory is the engine's memory budget.
func (e *Engine) Memory() *Budget { return e.budget }

// Ops is the engine's operations registry.
func (e *Engine) Ops() *ops.Registry { return e.ops }

// IngestedRows returns how many rows an ingest operation committed, once it has completed.
func (e *Engine) IngestedRows(id uuid.UUID) (int64, bool) {
	s, err := e.ops.Get(id)
	if err != nil || s.State != ops.Succeeded {
		return 0, false
	}
	return ResultRows(s.Result)
}

// Options returns the engine's effective options.
func (e *Engine) Options() Options { return e.opts }

// RegisterStream makes a stream readable as a table of the given name in every database.
func (e *Engine) RegisterStream(name string, s Stream) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.streams[name] = s
}

func (e *Engine) stream(name string) (Stream, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s, ok := e.streams[name]
	return s, ok
}

// Catalog is the engine's catalog.
func (e *Engine) Catalog() *Catalog { return e.cat }

// Database returns a handle on the named database (names are case-insensitive).
func (e *Engine) Database(name string) (*Database, bool) {
	d, ok := e.cat.Snapshot().Database(name)
	if !ok {
		return nil, false
	}
	return &Database{Name: d.Name, ID: d.ID, cat: e.cat}, true
}

// Databases returns handles on every database.
func (e *Engine) Databases() []*Database {
	var out []*Database
	for _, d := range e.cat.Snapshot().Databases() {
		out = append(out, &Database{Name: d.Name, ID: d.ID, cat: e.cat})
	}
	return out
}

// Close cancels the operations and queries still running and waits for them to stop, or for
// ctx. A query stops when its cursor is closed.
func (e *Engine) Close(ctx context.Context) error {
	const reason = "Kustard is shutting down"
	errOps := e.ops.Close(ctx, reason)
	return errors.Join(errOps, e.queries.Close(ctx, reason))
}

// Abandon is Close for a front door that gives up on the operations still running rather than
// canceling them (a server stopping: Kusto marks such operations Abandoned): they end Abandoned
// with the reason as their Status. Queries still running are canceled, as Close cancels them.
func (e *Engine) Abandon(ctx context.Context) error {
	const reason = "Kustard is shutting down"
	errOps := e.ops.Abandon(ctx, reason)
	return errors.Join(errOps, e.queries.Close(ctx, reason))
}

// Session is one client's connection: its current database and identity. A session runs one
// command at a time; use one session per goroutine.
type Session struct {
	eng      *Engine
	Database string
	// User is who the session's calls run as, unless a Request names someone else.
	User string
}

// NewSession returns a session in the default database.
func (e *Engine) NewSession() *Session {
	return &Session{eng: e, Database: DefaultDatabase, User: e.opts.User}
}

// Engine returns the session's engine.
func (s *Session) Engine() *Engine { return s.eng }

// Result is what a block returns: one table, and whether it came from a query (rather than a
// management command), which decides the endpoint and the shape of the REST response.
type Result struct {
	*Frame
	Query bool
	// Visualization is what the query's render asked for; nil without render.
	Visualization *Visualization
}

// Execute checks and runs one block of Kusto text with the request's options.
func (s *Session) Execute(ctx context.Context, req Request, src *kusto.Source) (*Result, error) {
	b, err := Check(src)
	if err != nil {
		return nil, err
	}
	return s.Run(ctx, req, b)
}

// Run runs a parsed block with the request's options and collects its result. Every error is a
// *kusto.Error. A block should come from Check; one from parser.Parse is checked first.
func (s *Session) Run(ctx context.Context, req Request, b *parser.Block) (*Result, error) {
	cur, err := s.Open(ctx, req, b)
	if err != nil {
		return nil, err
	}
	f, err := cur.Collect()
	if err != nil {
		return nil, err
	}
	return &Result{Frame: f, Query: b.Query != nil, Visualization: cur.Visualization()}, nil
}

// Open runs a parsed block and returns its result as a Cursor, which streams a query's rows
// batch by batch; a management command runs to completion first, and the cursor reads its
// result (through the operators that follow it, if any). The caller must close the cursor.
// Every error, from Open or from the cursor, is a *kusto.Error.
func (s *Session) Open(ctx context.Context, req Request, b *parser.Block) (cur *Cursor, err error) {
	cancel := func() {}
	if req.ServerTimeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, req.ServerTimeout, &kusto.Error{
			Kind: kusto.KindCanceled, Offset: -1, Msg: fmt.Sprintf("the request exceeded its server timeout of %v (servertimeout)", req.ServerTimeout)})
	}
	var track *ops.Operation // a query's record in .show queries
	defer func() {
		if err != nil {
			cancel()
			err = placeError(err, b)
		}
	}()
	defer func() {
		if err != nil && track != nil {
			track.End(nil, err) // before cancel: a failure is not a cancel
		}
	}()
	defer recoverInternal(&err)
	if err := checkBlock(b); err != nil {
		return nil, err
	}
	if err := s.eng.Unavailable(); err != nil {
		return nil, err // a stopped node takes nothing (faults.go)
	}
	db, ok := s.eng.Database(s.Database)
	if !ok {
		return nil, &kusto.Error{Kind: kusto.KindNotFound, Offset: -1, Msg: fmt.Sprintf("database %q does not exist", s.Database)}
	}
	// The query's materialized expressions are held until the cursor closes.
	ctx, release := withQueryState(ctx, s.eng.budget)
	defer func() {
		if err != nil {
			release()
		}
	}()
	var plan Node
	var options queryOptions // what the query's set statements set
	if b.Query != nil {
		if track, err = s.beginQuery(ctx, &req, db, b); err != nil {
			return nil, err
		}
		ctx = track.Context() // .cancel query cancels it
		comp := s.compiler(db.Pinned(), &req, b.Source)
		comp.ctx = ctx
		if plan, err = comp.query(b.Query); err != nil {
			return nil, err
		}
		options = comp.options
	} else {
		f, err := CommandFor(b.Command).Run(ctx, &call{sess: s, req: &req, db: db, block: b}, b.Command)
		if err != nil {
			return nil, err
		}
		plan = &frameNode{frame: f, what: "result"}
		if len(b.Then) > 0 {
			// Compiled after the command ran, so that now() is read when the query starts.
			comp := s.compiler(db, &req, b.Source)
			comp.last = b.Then[len(b.Then)-1]
			if plan, err = comp.operators(plan, b.Then); err != nil {
				return nil, err
			}
		}
	}
	records, size := req.truncation(s.eng, options)
	cur = newCursor(ctx, plan, records, size)
	if r, ok := plan.(*renderNode); ok {
		cur.vis = r.vis
	}
	cur.track = track
	cur.budget = s.eng.budget
	cur.done = func() { cancel(); release() }
	cur.place = func(err error) error { return placeError(err, b) }
	return cur, nil
}

// compiler starts the compilation of one request's query. now() is read once, so that every
// row and every call of now() and ago() in the query agree, as in Kusto.
func (s *Session) compiler(db *Database, req *Request, src *kusto.Source) *compiler {
	now := kusto.DateTimeOf(s.eng.ops.Clock().Now())
	if req.QueryNow != nil {
		now = *req.QueryNow
	}
	return &compiler{sess: s, db: db, src: src, now: now, params: req.Parameters}
}

// recoverInternal turns a panic, a bug of Kustard's own, into an internal error, so that one bad
// command cannot take down a shell or a server with every operation it holds.
func recoverInternal(err *error) {
	if r := recover(); r != nil {
		*err = &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: fmt.Sprintf("internal error (please report it): %v\n%s", r, debug.Stack())}
	}
}

// placeError makes every error a *kusto.Error with a place: an offset with no source gets the
// block's, and an error of the command as a whole (a limit, a cancel) the block's start, so that
// every error from a script names where its command starts. Cancellation becomes KindCanceled,
// anything unexpected KindInternal.
func placeError(err error, b *parser.Block) error {
	if err == nil {
		return nil
	}
	var perr *kusto.Error
	if !errors.As(err, &perr) {
		var canceled *ops.CanceledError
		switch {
		case b.Query != nil && (errors.As(err, &canceled) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
			perr = queryCancelError(err)
		case errors.As(err, &canceled):
			perr = &kusto.Error{Kind: kusto.KindCanceled, Msg: "the command was canceled: " + canceled.Error()}
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			perr = &kusto.Error{Kind: kusto.KindCanceled, Msg: "the command was canceled: " + err.Error()}
		case errors.Is(err, ops.ErrClosed):
			perr = &kusto.Error{Kind: kusto.KindConflict, Msg: "Kustard is shutting down"}
		default:
			perr = &kusto.Error{Kind: kusto.KindInternal, Msg: err.Error()}
		}
		perr.Offset = -1
	}
	switch {
	case perr.Src == nil && perr.Offset >= 0:
		perr.Src = b.Source
	case perr.Src == nil || perr.Offset < 0:
		// An error of the command as a whole (a limit, a cancel) names where the command starts.
		perr.Src, perr.Offset = b.Source, b.Pos.Offset
	}
	return perr
}
