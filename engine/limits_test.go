package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestBigInputs: a datatable of more than a million values and a chain of 300,000 terms run. Before,
// the datatable failed with `unexpected ","` (participle's limit of a million repetitions) and the
// chain took seconds, each constant making a batch of 1,024 values.
func TestBigInputs(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	s := eng.NewSession()
	rows := strings.Repeat(`1, "x", -1.5, `, 400_000)
	for _, tc := range []struct {
		text string
		want any
	}{
		{"datatable(a:long, b:string, c:real)[" + rows + "] | count", int64(400_000)},
		{"datatable(a:long, b:string, c:real)[" + rows + "] | where c < 0 and a == 1 | count", int64(400_000)},
		{"print x = 1" + strings.Repeat(" + 1", 300_000), int64(300_001)},
		{"range x from 1 to 3 step 1 | extend y = x" + strings.Repeat(" + x", maxRowOperations/2-2) + " | where x == 2 | project y", int64(2 * (maxRowOperations/2 - 1))},
		{"print x = -(-(" + strings.Repeat("(1) + ", 10_000) + "1))", int64(10_001)},
	} {
		res := executeText(t, s, tc.text)
		if res == nil {
			continue // executeText has reported the error
		}
		if got := res.Value(0, 0); got != tc.want {
			t.Errorf("%.60s…: got %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestRowOperationLimit: an expression of more operations on the row than maxRowOperations is
// refused at the operation that passes the limit, since each costs a batch of scratch space and a
// level of the evaluator's recursion.
func TestRowOperationLimit(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	s := eng.NewSession()
	prefix := "range x from 1 to 3 step 1 | extend y = x"
	text := prefix + strings.Repeat(" + x", 300_000)
	_, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: text})
	var kerr *kusto.Error
	if !errors.As(err, &kerr) || kerr.Kind != kusto.KindSemantic {
		t.Fatalf("got %v, want a semantic error", err)
	}
	if !strings.Contains(kerr.Msg, "expression too large") || !strings.Contains(kerr.Msg, "4096") {
		t.Errorf("message %q does not say what is too large and name the limit", kerr.Msg)
	}
	// x counts one and each "+ x" two (the column and the sum): the sum that passes the limit.
	if want := len(prefix) + len(" + x")*(maxRowOperations/2-1) + 1; kerr.Offset != want {
		t.Errorf("error at offset %d, want %d", kerr.Offset, want)
	}
}
