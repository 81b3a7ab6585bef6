package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// The Kusto view of the operations core: `.show operations`, `.cancel operation` and `.show
// operation details`, with Kusto's state names, Status texts and cancellation texts. Package ops
// speaks no protocol; this file is where its snapshots become Kusto's rows.

// Result schemas of the operation commands, as the Kusto docs and Kusto.Language's command table
// give them.
var (
	operationsSchema = Schema{
		{"OperationId", kusto.TypeGUID}, {"Operation", kusto.TypeString}, {"NodeId", kusto.TypeString},
		{"StartedOn", kusto.TypeDateTime}, {"LastUpdatedOn", kusto.TypeDateTime}, {"Duration", kusto.TypeTimespan},
		{"State", kusto.TypeString}, {"Status", kusto.TypeString}, {"RootActivityId", kusto.TypeGUID},
		{"ShouldRetry", kusto.TypeBool}, {"Database", kusto.TypeString}, {"Principal", kusto.TypeString},
		{"User", kusto.TypeString},
	}
	cancelSchema = Schema{
		{"OperationId", kusto.TypeGUID}, {"Operation", kusto.TypeString}, {"StartedOn", kusto.TypeDateTime},
		{"CancellationState", kusto.TypeString}, {"ReasonPhrase", kusto.TypeString},
	}
)

// kustoStates are the State values of the `.show operations` docs, by the core's state.
var kustoStates = map[ops.State]string{
	ops.Scheduled:          "Scheduled",
	ops.Running:            "InProgress",
	ops.Succeeded:          "Completed",
	ops.PartiallySucceeded: "PartiallySucceeded",
	ops.Failed:             "Failed",
	ops.Canceled:           "Canceled",
	ops.Abandoned:          "Abandoned",
	ops.Skipped:            "Skipped",
	ops.BadInput:           "BadInput",
	ops.Throttled:          "Throttled",
}

// KustoState is a state as `.show operations` names it: InProgress, Completed, ….
func KustoState(s ops.State) string {
	if name, ok := kustoStates[s]; ok {
		return name
	}
	return s.String()
}

// KustoStatus is the Status column of `.show operations`: empty while the operation runs and
// after it succeeds; the reason of a cancel or a skip; the error's text otherwise (its Status()
// text when it has one, as a *kusto.Error does: the message without its place).
func KustoStatus(s ops.Snapshot) string {
	if s.State == ops.Canceled {
		var canceled *ops.CanceledError
		if errors.As(s.Err, &canceled) {
			return canceled.Error()
		}
		return (&ops.CanceledError{}).Error()
	}
	if s.Err == nil {
		return ""
	}
	var skipped *ops.SkippedError
	if s.State == ops.Skipped && errors.As(s.Err, &skipped) {
		return skipped.Reason
	}
	var status interface{ Status() string }
	if errors.As(s.Err, &status) {
		return status.Status()
	}
	return s.Err.Error()
}

// CancellationState values. The `.cancel operation` docs spell success both "Cancelled
// successfully" (description) and "Canceled successfully" (example); Kustard follows the example,
// as the materialized-view page and the Canceled state do.
const (
	canceledSuccessfully = "Canceled successfully"
	cancelFailed         = "Cancel failed"
)

// cancelOrigin is the origin of the cancel requests `.cancel operation` makes.
const cancelOrigin = "kusto"

// spec describes the operation a command runs as.
func (c *call) spec(kind string, cancellable bool) ops.Spec {
	return ops.Spec{
		Kind: ops.Kind{Name: kind, Cancellable: cancellable}, Scope: c.db.Name, User: c.req.user(c.sess),
		Principal: c.req.Principal, ActivityID: c.req.RootActivityID,
	}
}

// goAsync starts an async command's operation and answers what such a command answers at once,
// the operation's id. A panic in run fails the operation as an internal error.
func (c *call) goAsync(spec ops.Spec, run func(ctx context.Context) (any, error)) (*Frame, error) {
	op, err := c.sess.eng.ops.Go(spec, func(ctx context.Context) (_ any, err error) {
		defer recoverInternal(&err)
		return run(ctx)
	})
	if err != nil {
		return nil, err
	}
	fb := newFrame(operationIDSchema)
	fb.row(op.ID)
	return fb.frame(), nil
}

// cancellation is the CancellationState and ReasonPhrase of a cancel's outcome.
func cancellation(out ops.CancelOutcome, reason string, wait time.Duration) (string, string) {
	switch {
	case !out.Accepted:
		return cancelFailed, fmt.Sprintf("The operation is no longer running: its state is %s", KustoState(out.State))
	case !out.Stopped:
		return cancelFailed, fmt.Sprintf("The operation did not stop within %v; cancellation was requested, and it will end Canceled if it stops before it completes", wait)
	case out.State != ops.Canceled:
		return cancelFailed, fmt.Sprintf("The operation finished before it could be canceled: its state is %s", KustoState(out.State))
	}
	return canceledSuccessfully, reason
}

// runCancel runs `.cancel operation`: it asks the operation to stop and waits up to --cancel-wait
// for it to stop. An unknown id, or an operation that is not an ingest from query, is an error;
// every other outcome is a row, as Kusto reports it.
func runCancel(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	cancel := cmd.(*parser.CancelOperation)
	reason := ""
	if cancel.With != nil {
		if v, ok := cancel.With.Values["reason"]; ok {
			reason = v.Value.(string)
		}
	}
	wait := max(0, c.sess.eng.opts.CancelWait)
	waitCtx, stop := context.WithTimeout(ctx, wait)
	defer stop()
	out, err := c.sess.eng.ops.Cancel(waitCtx, cancel.ID.Value, ops.CancelRequest{
		Reason: reason, Mode: ops.Graceful, Origin: cancelOrigin, NoWait: wait == 0,
	})
	switch {
	case errors.Is(err, ops.ErrNotFound):
		return nil, c.errorf(cancel.ID.Pos.Offset, kusto.KindNotFound, "operation %s does not exist", cancel.ID.Value)
	case errors.Is(err, ops.ErrNotCancellable):
		return nil, c.errorf(cancel.ID.Pos.Offset, kusto.KindSemantic, "operation %s is a %s operation; cancel is supported only for ingest-from-query operations (.set, .append, .set-or-append, .set-or-replace)", out.ID, out.Kind.Name)
	case err != nil:
		return nil, err
	case out.Accepted && !out.Stopped && ctx.Err() != nil:
		return nil, context.Cause(ctx) // the call itself was canceled while it waited
	}
	state, phrase := cancellation(out, reason, wait)
	fb := newFrame(cancelSchema)
	fb.row(out.ID, out.Kind.Name, kusto.DateTimeOf(out.Created), state, phrase)
	return fb.frame(), nil
}

func runShowOperations(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowOperations)
	var records []ops.Snapshot
	if len(show.IDs) == 0 {
		records = c.sess.eng.ops.Log()
	} else {
		ids := make([]uuid.UUID, len(show.IDs))
		for i, id := range show.IDs {
			ids[i] = id.Value
		}
		records = c.sess.eng.ops.Latest(ids)
	}
	fb := newFrame(operationsSchema)
	for _, r := range records {
		fb.row(r.ID, r.Kind.Name, "", kusto.DateTimeOf(r.Created), kusto.DateTimeOf(r.Updated),
			kusto.Timespan(r.Duration()/100), KustoState(r.State), KustoStatus(r), r.ActivityID, false,
			r.Scope, r.Principal, r.User)
	}
	return fb.frame(), nil
}

func runShowOperationDetails(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowOperationDetails)
	s, err := c.sess.eng.ops.Get(show.ID.Value)
	if err != nil {
		return nil, c.errorf(show.ID.Pos.Offset, kusto.KindNotFound, "operation %s does not exist", show.ID.Value)
	}
	if s.State != ops.Succeeded {
		return nil, c.errorf(show.ID.Pos.Offset, kusto.KindConflict, "operation %s is %s; its details are available only after it completes successfully", show.ID.Value, KustoState(s.State))
	}
	if out, ok := ops.ResultAs[*exportOutcome](s); ok {
		if !out.persisted {
			return nil, c.errorf(show.ID.Pos.Offset, kusto.KindNotFound, "operation %s did not persist its results; run it with (persistDetails=true)", show.ID.Value)
		}
		return out.files, nil
	}
	out, ok := ops.ResultAs[*ingestOutcome](s)
	if !ok || !out.persisted {
		return nil, c.errorf(show.ID.Pos.Offset, kusto.KindNotFound, "operation %s did not persist its results; run it with (persistDetails=true)", show.ID.Value)
	}
	return out.extents, nil
}

// IngestExtents is the extents table an ingest operation that succeeded committed (what its
// synchronous run returns), for front doors that show an operation's result; false for any
// other operation.
func IngestExtents(s ops.Snapshot) (*Frame, bool) {
	out, ok := ops.ResultAs[*ingestOutcome](s)
	if !ok || s.State != ops.Succeeded || out.extents == nil {
		return nil, false
	}
	return out.extents, true
}
