package engine

import (
	"slices"
	"testing"
	"time"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// TestShowCluster: one node, named Kustard (not the emulator's KustoPersonal), with the
// documented columns, its start time, the server's address and the memory budget; details adds
// the extents Kustard holds.
func TestShowCluster(t *testing.T) {
	eng := New(Options{
		Clock:     ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:       &ops.SequentialIDs{},
		MaxMemory: 1 << 30,
		Address:   "http://127.0.0.1:8080",
	})
	defer eng.Close(t.Context())
	s := eng.NewSession()
	res := executeText(t, s, ".show cluster")
	want := []string{"NodeId", "Address", "Name", "StartTime", "IsAdmin", "MachineTotalMemory",
		"MachineAvailableMemory", "ProcessorCount", "EnvironmentDescription"}
	if got := schemaNames(res.Schema); !slices.Equal(got, want) {
		t.Fatalf("columns %v, want %v", got, want)
	}
	if res.Rows != 1 {
		t.Fatalf("%d rows, want 1", res.Rows)
	}
	row := func(f *Frame, name string) any { return f.Value(0, f.Schema.Index(name)) }
	start, _ := kusto.ParseDateTime("2024-01-01T00:00:00Z")
	for name, want := range map[string]any{
		"Name": "Kustard", "Address": "http://127.0.0.1:8080", "StartTime": start, "IsAdmin": true,
		"MachineTotalMemory": int64(1 << 30),
	} {
		if got := row(res.Frame, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	executeText(t, s, ".set-or-append T <| range x from 1 to 10 step 1")
	det := executeText(t, s, ".show cluster details")
	if row(det.Frame, "Name") != "Kustard" || row(det.Frame, "AssignedHotExtents") != int32(1) || row(det.Frame, "HotExtentsSize").(int64) <= 0 {
		t.Errorf("details: %v, %v extents of %v bytes", row(det.Frame, "Name"), row(det.Frame, "AssignedHotExtents"), row(det.Frame, "HotExtentsSize"))
	}
	if avail := row(det.Frame, "MachineAvailableMemory").(int64); avail >= 1<<30 || avail <= 0 {
		t.Errorf("MachineAvailableMemory = %d, want the budget less what T holds", avail)
	}
}

func schemaNames(s Schema) []string {
	out := make([]string, len(s))
	for i, c := range s {
		out[i] = c.Name
	}
	return out
}
