package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

func newBudgetEngine(maxMemory, maxIngest int64, capacity int) *Engine {
	return New(Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second), IDs: &ops.SequentialIDs{},
		User: "kustard", MaxMemory: maxMemory, MaxIngestBytes: maxIngest, Capacity: capacity,
	})
}

// TestMemoryCost: values cost what they really take, so that empty strings and null dynamics
// are not free.
func TestMemoryCost(t *testing.T) {
	const n = 1000
	tests := []struct {
		name string
		col  Column
		min  int64 // at least this much
	}{
		{"empty strings", &Vector[string]{typ: kusto.TypeString, Data: make([]string, n)}, 16 * n},
		{"null dynamics", &Vector[any]{typ: kusto.TypeDynamic, Data: make([]any, n), Nulls: make([]bool, n)}, 17 * n},
		{"longs", &Vector[int64]{typ: kusto.TypeLong, Data: make([]int64, n)}, 8 * n},
		{"nullable longs", &Vector[int64]{typ: kusto.TypeLong, Data: make([]int64, n), Nulls: make([]bool, n)}, 9 * n},
		{"dynamic bags", &Vector[any]{typ: kusto.TypeDynamic, Data: []any{map[string]any{"key": []any{"a", int64(1)}}}}, 16 + 48 + 48 + 3 + 24 + 32 + 17 + 8},
	}
	for _, tc := range tests {
		if got := memoryCost(tc.col); got < tc.min || got > tc.min+vectorOverhead {
			t.Errorf("%s: cost %d, want %d plus the vector's overhead", tc.name, got, tc.min)
		}
	}
}

// TestIngestOfFreeLookingValuesIsBounded: an endless ingest of empty strings, or of null
// dynamics, stops at --max-ingest-bytes, which counts what they really cost; it commits nothing
// and gives its memory back.
func TestIngestOfFreeLookingValuesIsBounded(t *testing.T) {
	for _, project := range []string{`s = ""`, `d = dynamic(null)`} {
		eng := newBudgetEngine(1<<30, 1_000_000, 0)
		s := eng.NewSession()
		_, err := s.Execute(t.Context(), Request{}, &kusto.Source{Text: ".set-or-append E <| range x from 1 to 1000000000000 step 1 | project " + project})
		var kerr *kusto.Error
		if !errors.As(err, &kerr) || kerr.Kind != kusto.KindLimits || !strings.Contains(kerr.Msg, "exceeded 1000000 bytes") {
			t.Errorf("project %s: %v, want the ingest limit", project, err)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("project %s: %d bytes still reserved after the ingest failed", project, used)
		}
		if peak := eng.Memory().Peak(); peak > 1_000_000 {
			t.Errorf("project %s: the budget peaked at %d, past the ingest's limit", project, peak)
		}
		if n := queryScalar(t, s, "E | count"); n != int64(0) {
			t.Errorf("project %s: the failed ingest committed %v rows", project, n)
		}
		closeEngine(t, eng)
	}
}

// TestBudgetIsShared: three endless async ingests share one budget; each stops with the
// low-memory error, never holding more than the budget between them, and an ingest started
// afterwards succeeds.
func TestBudgetIsShared(t *testing.T) {
	const budget = 32 << 20
	eng := newBudgetEngine(budget, 1<<40, 3)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	var ids []uuid.UUID
	for range 3 {
		res := executeText(t, s, `.set-or-append async E <| range x from 1 to 1000000000000 step 1 | project s = ""`)
		ids = append(ids, res.Value(0, 0).(uuid.UUID))
	}
	for _, id := range ids {
		state, status := waitOp(t, eng, s, id)
		if state != "Failed" || !strings.HasPrefix(status, LowMemoryCode+" (0x80DA0007)") {
			t.Errorf("ingest %s ended %s %q; want Failed with %s", id, state, status, LowMemoryCode)
		}
	}
	if peak := eng.Memory().Peak(); peak > budget {
		t.Errorf("the three ingests held %d bytes at once, past the budget of %d", peak, budget)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after every ingest failed", used)
	}
	executeText(t, s, ".set-or-append F <| range x from 1 to 100000 step 1")
	if n := queryScalar(t, s, "F | count"); n != int64(100_000) {
		t.Errorf("the ingest after them committed %v rows, want 100000", n)
	}
}

// TestTablesHoldTheirMemory: a committed extent keeps its share of the budget until it leaves
// the catalog, by .drop table or by .set-or-replace.
func TestTablesHoldTheirMemory(t *testing.T) {
	eng := newBudgetEngine(64<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	executeText(t, s, ".set-or-append T <| range x from 1 to 100000 step 1")
	held := eng.Memory().Used()
	if held < 800_000 {
		t.Fatalf("a table of 100,000 longs holds %d bytes of the budget", held)
	}
	executeText(t, s, ".set-or-replace T <| range x from 1 to 10 step 1")
	if after := eng.Memory().Used(); after >= held/100 {
		t.Errorf("after .set-or-replace the budget holds %d bytes, want only the new extent's", after)
	}
	executeText(t, s, ".drop table T")
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("after .drop table %d bytes are still reserved", used)
	}
}

// TestQueryResultCountsAgainstTheBudget: a result too large for the budget fails with the
// low-memory error instead of growing past it.
func TestQueryResultCountsAgainstTheBudget(t *testing.T) {
	eng := newBudgetEngine(1<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	_, err := s.Execute(t.Context(), Request{}, &kusto.Source{Text: "range x from 1 to 400000 step 1"})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || !strings.HasPrefix(kerr.Msg, LowMemoryCode) {
		t.Errorf("a 3 MB result under a 1 MB budget: %v", err)
	}
	if used := eng.Memory().Used(); used != 0 {
		t.Errorf("%d bytes still reserved after the query failed", used)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KiB", 1<<30 - 16: "1.0 GiB", 3 << 40: "3.0 TiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestComputedColumnsCountAgainstTheBudget: the string and dynamic columns extend and project
// compute for a batch are reserved from the budget, so a batch of large values stops with the
// low-memory error, while columns passed through (t = s) and constants are not counted again.
func TestComputedColumnsCountAgainstTheBudget(t *testing.T) {
	eng := newBudgetEngine(4<<20, 1<<30, 0)
	defer closeEngine(t, eng)
	// c1 … c5 are constant strings of 10, 100, … 100,000 characters.
	lets := `let c1 = "xxxxxxxxxx"; `
	for i := 2; i <= 5; i++ {
		lets += fmt.Sprintf("let c%d = strcat(%s); ", i, strings.Repeat(fmt.Sprintf("c%d, ", i-1), 9)+fmt.Sprintf("c%d", i-1))
	}
	rows := lets + "range x from 1 to 3000 step 1"
	// 1,024 rows of 10 kB in a batch are 10 MB: past the budget, though each value is far under
	// MaxValueSize.
	for _, q := range []string{
		rows + " | extend s = strcat(tostring(x % 10), c4) | summarize max(strlen(s))",
		rows + " | project s = strcat(tostring(x % 10), c4) | summarize max(strlen(s))",
		rows + " | extend d = pack_array(strcat(tostring(x % 10), c4)) | summarize count() by tostring(d)",
		rows + " | extend s = strcat(tostring(x % 10), c3), t = strcat(s, s), u = strcat(t, t) | summarize max(strlen(u))",
	} {
		wantLowMemory(t, eng, q)
	}
	s := eng.NewSession()
	for query, want := range map[string]any{
		// 2 MB a batch, passed through twice: counted once.
		rows + " | extend s = strcat(tostring(x % 10), c3, c3), t = s | project t, u = t | summarize max(strlen(u))": int64(2001),
		// A constant of 1 MB is one value, not 1,024.
		rows + " | extend s = strcat(c5, c5, c5, c5, c5, c5, c5, c5, c5, c5) | summarize max(strlen(s))": int64(1000000),
		rows + " | extend s = strcat(tostring(x % 10), c2) | summarize max(strlen(s))":                   int64(101),
	} {
		if got := queryScalar(t, s, query); got != want {
			t.Errorf("%s = %v, want %v", query, got, want)
		}
		if used := eng.Memory().Used(); used != 0 {
			t.Errorf("%s: %d bytes still reserved after the query", query, used)
		}
	}
}
