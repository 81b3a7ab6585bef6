package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

func executeRequest(t *testing.T, s *Session, req Request, text string) (*Result, error) {
	t.Helper()
	return s.Execute(t.Context(), req, &kusto.Source{Text: text})
}

// TestRequestQueryNow: query_now fixes now() and ago() for the call, and only for it.
func TestRequestQueryNow(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	fixed, _ := kusto.ParseDateTime("2020-05-06T07:08:09Z")
	res, err := executeRequest(t, sess, Request{QueryNow: &fixed}, "print n = now(), a = ago(1d)")
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Value(0, 0); got != fixed {
		t.Errorf("now() = %v, want %v", got, fixed)
	}
	if got, want := res.Value(0, 1), fixed-kusto.DateTime(kusto.TicksPerDay); got != want {
		t.Errorf("ago(1d) = %v, want %v", got, want)
	}
	res, err = executeRequest(t, sess, Request{}, "print now()")
	if err != nil {
		t.Fatal(err)
	}
	if res.Value(0, 0) == fixed {
		t.Error("query_now of one request leaked into the next")
	}
}

// TestRequestIdentity: an operation's record takes User, Principal and RootActivityId from the
// request that started it; without them, the session's user and a new activity id.
func TestRequestIdentity(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	activity := uuid.MustParse("11111111-2222-3333-4444-555555555555")
	req := Request{User: "ada@contoso.com", Principal: "aaduser=1234;contoso.com", RootActivityID: activity}
	if _, err := executeRequest(t, sess, req, ".create table T (x:long)"); err != nil {
		t.Fatal(err)
	}
	if _, err := executeRequest(t, sess, Request{}, ".drop table T"); err != nil {
		t.Fatal(err)
	}
	log := eng.Ops().Log()
	first, last := log[0], log[len(log)-1]
	if first.User != req.User || first.Principal != req.Principal || first.ActivityID != activity {
		t.Errorf("record of the request's command: User %q, Principal %q, RootActivityId %v; want the request's", first.User, first.Principal, first.ActivityID)
	}
	if last.User != "kustard" || last.Principal != "" || last.ActivityID == activity || last.ActivityID == uuid.Nil {
		t.Errorf("record of a plain command: User %q, Principal %q, RootActivityId %v; want the session's user and a new activity", last.User, last.Principal, last.ActivityID)
	}
}

// TestRequestLimits: truncationmaxrecords and servertimeout bound one call.
func TestRequestLimits(t *testing.T) {
	eng := newConcurrencyEngine(0)
	defer eng.Close(t.Context())
	sess := eng.NewSession()
	_, err := executeRequest(t, sess, Request{MaxResultRows: 10}, "range x from 1 to 11 step 1")
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindLimits {
		t.Errorf("11 rows with MaxResultRows 10: %v, want a limits error", err)
	}
	if res, err := executeRequest(t, sess, Request{MaxResultRows: 10}, "range x from 1 to 10 step 1"); err != nil || res.Rows != 10 {
		t.Errorf("10 rows with MaxResultRows 10: %v", err)
	}
	// An endless stream that never yields a row: only the timeout can end the query.
	eng.RegisterStream("Endless", Stream{Schema: Schema{{"x", kusto.TypeLong}}, Open: func(ctx context.Context) Operator {
		return NewOperator(func() (*Batch, error) {
			<-ctx.Done()
			return nil, context.Cause(ctx)
		})
	}})
	_, err = executeRequest(t, sess, Request{ServerTimeout: time.Millisecond}, "Endless | count")
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindCanceled || kerr.Msg != "the request exceeded its server timeout of 1ms (servertimeout)" {
		t.Errorf("a query past its server timeout: %v", err)
	}
}

// TestCancelWithoutWaiting: with a negative CancelWait (the CLI's --cancel-wait 0),
// .cancel operation records the request and returns at once, before the operation stops; the
// operation ends Canceled when it does.
func TestCancelWithoutWaiting(t *testing.T) {
	eng := New(Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second), IDs: &ops.SequentialIDs{},
		User: "kustard", CancelWait: -1,
	})
	defer closeEngine(t, eng)
	gate, reached := make(chan struct{}), make(chan struct{})
	eng.RegisterStream("Stubborn", Stream{Schema: Schema{{"x", kusto.TypeLong}}, Open: func(ctx context.Context) Operator {
		return NewOperator(func() (*Batch, error) {
			close(reached)
			<-gate // deaf to the cancel until the test opens the gate
			return nil, nil
		})
	}})
	s := eng.NewSession()
	id := executeText(t, s, ".set-or-append async T <| Stubborn").Value(0, 0).(uuid.UUID)
	<-reached
	res := executeText(t, s, fmt.Sprintf(".cancel operation %s with (reason='no wait')", id))
	if state, phrase := res.Value(0, 3), res.Value(0, 4).(string); state != "Cancel failed" || !strings.Contains(phrase, "cancellation was requested") {
		t.Errorf("cancel without waiting: %v %q", state, phrase)
	}
	close(gate)
	if state, status := waitOp(t, eng, s, id); state != "Canceled" || status != "no wait" {
		t.Errorf("the operation ended %s %q, want Canceled with the reason", state, status)
	}
}
