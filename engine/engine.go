// Package engine runs Kusto commands and queries: typed columnar tables made of immutable extents,
// one command registry that drives dispatch, checking and help, a query compiler that turns the
// parser's AST into plans of batch iterators, and ingest from query run as operations of the ops
// registry, cancellable mid-query.
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
	"strings"
	"sync"
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
	// CancelWait bounds how long `.cancel operation` waits for the operation to stop.
	CancelWait time.Duration
	// Retention is how long `.show operations` keeps records (default two weeks).
	Retention time.Duration
	// MaxResultRows bounds a query's result, as Kusto's result-set truncation does.
	MaxResultRows int
	// MaxIngestBytes bounds the data one ingest may build; the docs advise under 1 GB.
	MaxIngestBytes int64
	// User names the principal of sessions that do not set one.
	User string
}

// Defaults.
const (
	DefaultCancelWait     = 5 * time.Second
	DefaultMaxResultRows  = 500_000
	DefaultMaxIngestBytes = 2 << 30
)

// Version is Kustard's version, shown by `.show version`.
var Version = "0.1.0"

// Engine holds databases and the operations registry. It is safe for concurrent use by many
// sessions.
type Engine struct {
	opts    Options
	ops     *ops.Registry
	started kusto.DateTime

	mu      sync.RWMutex
	dbs     map[string]*Database // by lower-cased name: database names are case-insensitive
	streams map[string]Stream
}

// Stream is a table whose rows come from Go code rather than from ingested extents: an embedding
// program can expose live data this way, and tests use it to hold a query open with a gate.
type Stream struct {
	Schema Schema
	// Open starts reading. The iterator must return promptly once ctx is done.
	Open func(ctx context.Context) Iterator
}

// NewIterator adapts a function to an Iterator.
func NewIterator(next func() (*Batch, error)) Iterator { return iterFunc(next) }

// New returns an engine with one empty database, NetDefaultDB.
func New(opts Options) *Engine {
	if opts.CancelWait <= 0 {
		opts.CancelWait = DefaultCancelWait
	}
	if opts.MaxResultRows <= 0 {
		opts.MaxResultRows = DefaultMaxResultRows
	}
	if opts.MaxIngestBytes <= 0 {
		opts.MaxIngestBytes = DefaultMaxIngestBytes
	}
	if opts.User == "" {
		opts.User = defaultUser()
	}
	reg := ops.New(ops.Options{Clock: opts.Clock, IDs: opts.IDs, OperationIDs: opts.OperationIDs, Capacity: opts.Capacity, Retention: opts.Retention})
	e := &Engine{opts: opts, ops: reg, dbs: map[string]*Database{}, streams: map[string]Stream{}}
	e.started = kusto.DateTimeOf(reg.Clock().Now())
	e.dbs[strings.ToLower(DefaultDatabase)] = newDatabase(DefaultDatabase, reg.IDs().NewID())
	return e
}

func defaultUser() string {
	for _, v := range []string{"USER", "USERNAME", "LOGNAME"} {
		if u := os.Getenv(v); u != "" {
			return u
		}
	}
	return "local"
}

// Ops is the engine's operations registry.
func (e *Engine) Ops() *ops.Registry { return e.ops }

// IngestedRows returns how many rows an ingest operation committed, once it has completed.
func (e *Engine) IngestedRows(id uuid.UUID) (int64, bool) {
	s, err := e.ops.Get(id)
	out, ok := ops.ResultAs[*ingestOutcome](s)
	if err != nil || !ok || s.State != ops.Succeeded {
		return 0, false
	}
	return out.rows, true
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

// Database returns the named database.
func (e *Engine) Database(name string) (*Database, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	db, ok := e.dbs[strings.ToLower(name)]
	return db, ok
}

// Databases returns every database.
func (e *Engine) Databases() []*Database {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]*Database, 0, len(e.dbs))
	for _, db := range e.dbs {
		out = append(out, db)
	}
	return out
}

// Close cancels the operations still running and waits for them to stop, or for ctx.
func (e *Engine) Close(ctx context.Context) error {
	return e.ops.Close(ctx, "Kustard is shutting down")
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
}

// Execute parses and runs one block of Kusto text with the request's options.
func (s *Session) Execute(ctx context.Context, req Request, src *kusto.Source) (*Result, error) {
	b, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	return s.Run(ctx, req, b)
}

// Run runs a parsed block with the request's options. Every error is a *kusto.Error.
func (s *Session) Run(ctx context.Context, req Request, b *parser.Block) (res *Result, err error) {
	defer func() { err = placeError(err, b) }()
	defer recoverInternal(&err)
	if req.ServerTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, req.ServerTimeout, &kusto.Error{
			Kind: kusto.KindCanceled, Offset: -1, Msg: fmt.Sprintf("the request exceeded its server timeout of %v (servertimeout)", req.ServerTimeout)})
		defer cancel()
	}
	db, ok := s.eng.Database(s.Database)
	if !ok {
		return nil, &kusto.Error{Kind: kusto.KindNotFound, Offset: -1, Msg: fmt.Sprintf("database %q does not exist", s.Database)}
	}
	if b.Query != nil {
		c := s.compiler(db, &req, b.Source)
		p, err := c.query(b.Query)
		if err != nil {
			return nil, err
		}
		f, err := collect(ctx, p, req.maxResultRows(s.eng))
		if err != nil {
			return nil, err
		}
		return &Result{Frame: f, Query: true}, nil
	}
	info := CommandFor(b.Command)
	f, err := info.run(ctx, &call{sess: s, req: &req, db: db, block: b}, b.Command)
	if err != nil || len(b.Then) == 0 {
		return &Result{Frame: f}, err
	}
	c := s.compiler(db, &req, b.Source)
	p, err := c.operators(framePlan(f), b.Then)
	if err != nil {
		return nil, err
	}
	f, err = collect(ctx, p, req.maxResultRows(s.eng))
	return &Result{Frame: f}, err
}

// compiler starts the compilation of one request's query. now() is read once, so that every
// row and every call of now() and ago() in the query agree, as in Kusto.
func (s *Session) compiler(db *Database, req *Request, src *kusto.Source) *compiler {
	now := kusto.DateTimeOf(s.eng.ops.Clock().Now())
	if req.QueryNow != nil {
		now = *req.QueryNow
	}
	return &compiler{sess: s, db: db, src: src, now: now}
}

// recoverInternal turns a panic, a bug of Kustard's own, into an internal error, so that one bad
// command cannot take down a shell or a server with every operation it holds.
func recoverInternal(err *error) {
	if r := recover(); r != nil {
		*err = &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: fmt.Sprintf("internal error (please report it): %v\n%s", r, debug.Stack())}
	}
}

// placeError makes every error a *kusto.Error, placed at the block when it has no place of its
// own: cancellation becomes KindCanceled, anything unexpected KindInternal.
func placeError(err error, b *parser.Block) error {
	if err == nil {
		return nil
	}
	var perr *kusto.Error
	if errors.As(err, &perr) {
		if perr.Src == nil && perr.Offset >= 0 {
			perr.Src = b.Source
		}
		return perr
	}
	var canceled *ops.CanceledError
	switch {
	case errors.As(err, &canceled):
		return &kusto.Error{Kind: kusto.KindCanceled, Offset: -1, Msg: "the command was canceled: " + canceled.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &kusto.Error{Kind: kusto.KindCanceled, Offset: -1, Msg: "the command was canceled: " + err.Error()}
	case errors.Is(err, ops.ErrClosed):
		return &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: "Kustard is shutting down"}
	}
	return &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: err.Error()}
}
