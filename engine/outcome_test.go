package engine

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/kustard/kustard/ops"
)

// An ingest that changes a table's data completes its operation in the same commit, with the
// result the operation ends with; one with nothing to commit makes no commit. The result
// survives its encoding for a durable store.
func TestIngestCommitCompletesItsOperation(t *testing.T) {
	store := &recordingStore{}
	eng, err := Open(Options{Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs: &ops.SequentialIDs{}, User: "kustard", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(context.Background())
	s := eng.NewSession()
	completion := func(text string) (*CompleteOperation, ops.Snapshot) {
		t.Helper()
		before := store.count()
		executeText(t, s, text)
		log := eng.Ops().Log()
		final := log[len(log)-1]
		if store.count() == before {
			return nil, final
		}
		cm := store.commits[len(store.commits)-1]
		for _, ch := range cm.Changes {
			if c, ok := ch.(*CompleteOperation); ok {
				return c, final
			}
		}
		return nil, final
	}
	for _, tc := range []struct {
		text string
		rows int64
	}{{".set-or-append T <| range x from 1 to 3 step 1", 3}, {".set-or-replace R <| print x = 1 | where x > 1", 0}} {
		text := tc.text
		c, final := completion(text)
		if c == nil || c.ID != final.ID || c.Result != final.Result || !c.At.Equal(final.Updated) {
			t.Fatalf("%s: commit's completion %+v; the operation ended %+v", text, c, final)
		}
		b, err := EncodeResult(c.Result)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeResult(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, _ := EncodeResult(back)
		var v any
		if string(b2) != string(b) || json.Unmarshal(b, &v) != nil {
			t.Errorf("%s: the result encodes as %s, and back as %s", text, b, b2)
		}
		if rows, ok := ResultRows(back); !ok || rows != tc.rows {
			t.Errorf("%s: the decoded result has %d rows", text, rows)
		}
	}
	if c, final := completion(".set-or-append T <| print x = 1 | where x > 1"); c != nil || final.State != ops.Succeeded {
		t.Errorf("an append of no rows: completion %+v, ended %s", c, final.State)
	}
}
