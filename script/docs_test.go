package script_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/render"
)

// idsFrom hands out the given ids first, then sequential ones.
type idsFrom struct {
	first []uuid.UUID
	rest  ops.SequentialIDs
}

func (s *idsFrom) NewID() uuid.UUID {
	if len(s.first) > 0 {
		id := s.first[0]
		s.first = s.first[1:]
		return id
	}
	return s.rest.NewID()
}

// endless is a stream that yields nothing until its query is canceled, so the ingest reading it
// is running, and stays running, until the test cancels it.
func endless(ctx context.Context) engine.Operator {
	return engine.NewOperator(func() (*engine.Batch, error) {
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
}

// TestDocsCancelExample replays the example of the `.cancel operation` page: an ingest from query
// with the page's operation id, started at the page's time, canceled with the page's command.
// Source: https://learn.microsoft.com/kusto/management/cancel-operation-command#example
func TestDocsCancelExample(t *testing.T) {
	docsID := uuid.MustParse("078b2641-f10d-4694-96f8-1ee2b75dda48")
	startedOn := time.Date(2022, 7, 18, 9, 3, 55, 138732000, time.UTC)
	eng := engine.New(engine.Options{
		Clock: ops.NewStepClock(startedOn, 0),
		// Operation ids have their own source, as in kustard --deterministic: the ingest is the
		// first operation, whatever other ids the engine makes first.
		IDs:          &ops.SequentialIDs{Prefix: 0x10},
		OperationIDs: &idsFrom{first: []uuid.UUID{docsID}},
		User:         "kustard",
	})
	defer eng.Close(context.Background())
	eng.RegisterStream("Source", engine.Stream{Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}}, Open: endless})
	sess := eng.NewSession()
	ctx := context.Background()

	res, err := sess.Execute(ctx, engine.Request{}, &kusto.Source{Text: ".set-or-append async MyTable <| Source"})
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := engine.AsyncOperationID(res.Frame); !ok || id != docsID {
		t.Fatalf("async ingest returned %v, want operation %s", res.Value(0, 0), docsID)
	}
	res, err = sess.Execute(ctx, engine.Request{}, &kusto.Source{Name: "docs", Text: `.cancel operation 078b2641-f10d-4694-96f8-1ee2b75dda48 with(Reason="Command canceled by me")`})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{docsID, "TableSetOrAppend", kusto.DateTimeOf(startedOn), "Canceled successfully", "Command canceled by me"}
	for i, w := range want {
		if got := res.Value(0, i); got != w {
			t.Errorf("%s = %v, want %v", res.Schema[i].Name, got, w)
		}
	}
	if state := eng.Ops().Latest([]uuid.UUID{docsID}); len(state) != 1 || state[0].State != ops.Canceled || engine.KustoStatus(state[0]) != "Command canceled by me" {
		t.Errorf(".show operations after the cancel: %+v", state)
	}
	var md bytes.Buffer
	if err := render.Write(&md, render.Markdown, res.Frame, render.Options{}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "../testdata/docs/cancel-operation-example.golden", md.Bytes())
}
