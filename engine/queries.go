package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// Queries as Kusto tracks them: every query a session runs is an operation of a registry of its
// own (queries are not operations: `.show operations` never lists them), which `.show queries`
// and `.show running queries` list with the docs' columns and `.cancel query` cancels by the
// client's id for it, its ClientActivityId. The registry keeps no log, only each query's latest
// state, for QueriesRetention and at most MaxQueries finished queries.

// Query tracking defaults: `.show commands-and-queries` keeps 30 days; the count bound keeps the
// memory the record takes small, 64 MB at worst (a query's text is kept up to 64 KB).
const (
	DefaultQueriesRetention = 30 * 24 * time.Hour
	DefaultMaxQueries       = 1_000
)

// maxQueryText is how much of a query's text `.show queries` keeps, as the docs say: "truncated
// at 64 KB".
const maxQueryText = 64 << 10

// queryKind is the kind of the queries' operations. It is cancellable, but the queries' registry
// has no practical capacity: how many queries run at once is the front doors' business (one per
// session, a server's request cap), and a query waiting for an ingest's slot would be wrong.
var queryKind = ops.Kind{Name: "Query", Cancellable: true}

// queryInfo is what a query's operation keeps beside the registry's own fields (ops.Spec.Detail).
type queryInfo struct {
	clientActivityID string
	text             string
	application      string
	properties       map[string]any // the client request properties it ran with
}

// queryOutcome is a query's operation's result: the size of the result it returned.
type queryOutcome struct {
	rows  int
	bytes int64
}

// Result schemas of the query commands. `.show queries` has the columns of its docs page
// (management/show-queries-command.md), in its order; `.cancel query` has none documented, and
// Kustard's follows `.cancel operation`'s.
var (
	queriesSchema = Schema{
		{"ClientActivityId", kusto.TypeString}, {"Text", kusto.TypeString}, {"Database", kusto.TypeString},
		{"StartedOn", kusto.TypeDateTime}, {"LastUpdatedOn", kusto.TypeDateTime}, {"Duration", kusto.TypeTimespan},
		{"State", kusto.TypeString}, {"RootActivityId", kusto.TypeGUID}, {"User", kusto.TypeString},
		{"FailureReason", kusto.TypeString}, {"TotalCpu", kusto.TypeTimespan}, {"CacheStatistics", kusto.TypeDynamic},
		{"Application", kusto.TypeString}, {"MemoryPeak", kusto.TypeLong}, {"ScannedExtentsStatistics", kusto.TypeDynamic},
		{"Principal", kusto.TypeString}, {"ClientRequestProperties", kusto.TypeDynamic},
		{"ResultSetStatistics", kusto.TypeDynamic}, {"WorkloadGroup", kusto.TypeString},
	}
	cancelQuerySchema = Schema{
		{"ClientActivityId", kusto.TypeString}, {"RootActivityId", kusto.TypeGUID}, {"StartedOn", kusto.TypeDateTime},
		{"CancellationState", kusto.TypeString}, {"ReasonPhrase", kusto.TypeString},
	}
)

// QueryCanceledCode is Kusto's native error for a canceled query (concepts/errorsinnativecode.md).
const QueryCanceledCode = "E_QUERY_CANCELLED"

// queryCanceled is the error a canceled query's client gets, with the cancel's reason.
func queryCanceled(reason string) *kusto.Error {
	msg := QueryCanceledCode + " (0x80DA0006): Query was cancelled"
	if reason != "" {
		msg += ": " + reason
	}
	return &kusto.Error{Kind: kusto.KindCanceled, Offset: -1, Msg: msg}
}

// factClock reads a deterministic clock without taking a reading of it (Peek), so that tracking
// queries does not move the times a deterministic run shows of everything else; a real clock is
// read as usual.
type factClock struct{ ops.Clock }

func (c factClock) Now() time.Time {
	if p, ok := c.Clock.(interface{ Peek() time.Time }); ok {
		return p.Peek()
	}
	return c.Clock.Now()
}

func newQueryRegistry(opts Options, clock ops.Clock) *ops.Registry {
	return ops.New(ops.Options{
		Clock: factClock{clock}, IDs: opts.QueryIDs, Capacity: math.MaxInt32,
		Retention: opts.QueriesRetention, MaxEnded: opts.MaxQueries, NoLog: true,
	})
}

// Queries is the registry of the engine's queries, for front doors that show them their own way.
func (e *Engine) Queries() *ops.Registry { return e.queries }

// beginQuery records a query as it starts. Its RootActivityId is the request's, or a new id; its
// ClientActivityId the request's ClientRequestID, or, as Kusto makes one for a client that sent
// none, "unspecified;" and the RootActivityId.
func (s *Session) beginQuery(ctx context.Context, req *Request, db *Database, b *parser.Block) (*ops.Operation, error) {
	id := s.eng.queries.IDs().NewID()
	root := req.RootActivityID
	if root == uuid.Nil {
		root = id
	}
	client := req.ClientRequestID
	if client == "" {
		client = "unspecified;" + root.String()
	}
	return s.eng.queries.Begin(ctx, ops.Spec{
		ID: id, Kind: queryKind, Scope: db.Name, User: req.user(s), Principal: req.Principal, ActivityID: root,
		Detail: &queryInfo{clientActivityID: client, text: blockText(b), application: req.Application, properties: req.properties()},
	})
}

// blockText is the text of a block, cut at 64 KB on a character boundary.
func blockText(b *parser.Block) string {
	if b.Source == nil {
		return ""
	}
	text := strings.TrimSpace(b.Source.Text[min(b.Pos.Offset, len(b.Source.Text)):])
	if len(text) > maxQueryText {
		cut := maxQueryText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	return text
}

// properties are the client request properties a request set, as ClientRequestProperties shows
// them: {"Options": {name: value}}; nil when it set none.
func (r *Request) properties() map[string]any {
	o := map[string]any{}
	if r.ServerTimeout > 0 {
		o["servertimeout"] = kusto.Timespan(r.ServerTimeout / 100).String()
	}
	if r.QueryNow != nil {
		o["query_now"] = r.QueryNow.String()
	}
	if r.MaxResultRows > 0 {
		o["truncationmaxrecords"] = int64(r.MaxResultRows)
	}
	if r.MaxResultBytes > 0 {
		o["truncationmaxsize"] = r.MaxResultBytes
	}
	if r.NoTruncation {
		o["notruncation"] = true
	}
	if len(o) == 0 {
		return nil
	}
	return map[string]any{"Options": o}
}

// queryStateName is a query's State as `.show queries` names it, in the words of `.show
// operations`, which Kusto's commands and queries share: InProgress, Completed, Canceled, and
// Failed for every other end (a query that fails on its input, a semantic error, is Failed: the
// BadInput of an operation is about ingest).
func queryStateName(s ops.Snapshot) string {
	switch s.State {
	case ops.Scheduled, ops.Running, ops.Succeeded, ops.Canceled:
		return KustoState(s.State)
	}
	return KustoState(ops.Failed)
}

// FailureReason is the FailureReason column of `.show queries`: empty unless the query failed or
// was canceled; for a canceled one, the text of the error its client got.
func FailureReason(s ops.Snapshot) string {
	switch {
	case s.State == ops.Succeeded || s.Err == nil:
		return ""
	case s.State == ops.Canceled:
		return queryCancelError(s.Err).Msg
	}
	var perr *kusto.Error
	if errors.As(s.Err, &perr) {
		return perr.Msg
	}
	return s.Err.Error()
}

// queryCancelError is the error of a query stopped by cause, a cancellation: the server timeout's
// own error, or Kusto's query-canceled error with the reason (a `.cancel query`'s, the shell's
// Ctrl-C, the client's going away).
func queryCancelError(cause error) *kusto.Error {
	var perr *kusto.Error
	var canceled *ops.CanceledError
	switch {
	case errors.As(cause, &perr):
		return perr
	case errors.As(cause, &canceled):
		return queryCanceled(canceled.Reason)
	case errors.Is(cause, context.Canceled):
		return queryCanceled("the client canceled the request")
	case errors.Is(cause, context.DeadlineExceeded):
		return queryCanceled("the client's deadline passed")
	}
	return queryCanceled(cause.Error())
}

// ClientActivityID is a query's ClientActivityId, from its snapshot in Engine.Queries.
func ClientActivityID(s ops.Snapshot) string { return info(s).clientActivityID }

// QueryText is a query's text (up to 64 KB), from its snapshot in Engine.Queries.
func QueryText(s ops.Snapshot) string { return info(s).text }

func info(s ops.Snapshot) *queryInfo {
	if q, ok := s.Detail.(*queryInfo); ok {
		return q
	}
	return &queryInfo{}
}

func runShowQueries(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowQueries)
	if !show.Running && (show.User != nil || show.AllUsers) {
		return nil, c.errorf(show.Pos.Offset, kusto.KindSyntax, "`by` is for .show running queries only; filter .show queries with `| where User == …`")
	}
	f := ops.Filter{}
	if show.Running {
		f.States = ops.LiveStates
	}
	if show.User != nil {
		user := show.User.Value
		f.Match = func(s ops.Snapshot) bool { return s.User == user || s.Principal == user }
	}
	reg := c.sess.eng.queries
	reg.Prune()
	queries, _, err := reg.List(f, 0, "")
	if err != nil {
		return nil, err
	}
	fb := newFrame(queriesSchema)
	for _, s := range queries {
		q := info(s)
		var stats any
		if out, ok := ops.ResultAs[*queryOutcome](s); ok {
			stats = map[string]any{"TableCount": int64(1), "TablesStatistics": []any{
				map[string]any{"RowCount": int64(out.rows), "TableSize": out.bytes},
			}}
		}
		var props any
		if q.properties != nil {
			props = q.properties
		}
		fb.row(q.clientActivityID, q.text, s.Scope, kusto.DateTimeOf(s.Created), kusto.DateTimeOf(s.Updated),
			kusto.Timespan(s.Duration()/100), queryStateName(s), s.ActivityID, s.User, FailureReason(s),
			nil, nil, q.application, nil, nil, s.Principal, props, stats, "default")
	}
	return fb.frame(), nil
}

// runCancelQuery runs `.cancel query`: it asks every running query with the ClientActivityId to
// stop, and waits up to --cancel-wait for them to. A row for each, as `.cancel operation` has;
// an id no query has had (in the retention period) is an error, and one whose queries have all
// finished a row saying so.
func runCancelQuery(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	cancel := cmd.(*parser.CancelQuery)
	reason := ""
	if cancel.With != nil {
		if v, ok := cancel.With.Values["reason"]; ok {
			reason = v.Value.(string)
		}
	}
	client := cancel.ID.Value
	reg := c.sess.eng.queries
	matches := func(s ops.Snapshot) bool { return info(s).clientActivityID == client }
	running, _, err := reg.List(ops.Filter{States: ops.LiveStates, Match: matches}, 0, "")
	if err != nil {
		return nil, err
	}
	fb := newFrame(cancelQuerySchema)
	if len(running) == 0 {
		reg.Prune()
		ended, _, err := reg.List(ops.Filter{Match: matches}, 0, "")
		if err != nil {
			return nil, err
		}
		if len(ended) == 0 {
			return nil, c.errorf(cancel.ID.Pos.Offset, kusto.KindNotFound, "no query with ClientActivityId %q is running or was run in the retention period (.show queries lists them)", client)
		}
		last := ended[len(ended)-1]
		fb.row(client, last.ActivityID, kusto.DateTimeOf(last.Created), cancelFailed,
			fmt.Sprintf("The query is no longer running: its state is %s", queryStateName(last)))
		return fb.frame(), nil
	}
	wait := max(0, c.sess.eng.opts.CancelWait)
	waitCtx, stop := context.WithTimeout(ctx, wait)
	defer stop()
	for _, s := range running {
		out, err := reg.Cancel(waitCtx, s.ID, ops.CancelRequest{Reason: reason, Mode: ops.Graceful, Origin: cancelOrigin, NoWait: wait == 0})
		switch {
		case errors.Is(err, ops.ErrNotFound):
			continue // gone since it was listed: retention cannot take a running query, so never
		case err != nil:
			return nil, err
		case out.Accepted && !out.Stopped && ctx.Err() != nil:
			return nil, context.Cause(ctx) // the call itself was canceled while it waited
		}
		state, phrase := queryCancellation(out, reason, wait)
		fb.row(client, out.ActivityID, kusto.DateTimeOf(out.Created), state, phrase)
	}
	return fb.frame(), nil
}

// queryCancellation is the CancellationState and ReasonPhrase of a query cancel's outcome, as
// `.cancel operation` words them.
func queryCancellation(out ops.CancelOutcome, reason string, wait time.Duration) (string, string) {
	switch {
	case !out.Accepted:
		return cancelFailed, fmt.Sprintf("The query is no longer running: its state is %s", queryStateName(out.Snapshot))
	case !out.Stopped:
		return cancelFailed, fmt.Sprintf("The query did not stop within %v; cancellation was requested, and it will end Canceled if it stops before it completes", wait)
	case out.State != ops.Canceled:
		return cancelFailed, fmt.Sprintf("The query finished before it could be canceled: its state is %s", queryStateName(out.Snapshot))
	}
	return canceledSuccessfully, reason
}
