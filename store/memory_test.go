package store

import (
	"strings"
	"sync"
	"testing"

	"github.com/kustard/kustard/engine"
)

// A stored table larger than the memory budget is scanned within it: its decoded columns are
// cached in the budget and evicted as the scan goes on, and give way to reservations from
// outside the cache; a column the budget cannot hold is refused with the low-memory error; and
// dropping the tables gives everything back.
func TestStoredExtentsWithinTheBudget(t *testing.T) {
	dir := t.TempDir()
	eng, st := open(t, dir, 1)
	var ingest strings.Builder
	for i := range 8 {
		ingest.WriteString(".set-or-append T <| range x from " + itoa(i*20000+1) + " to " + itoa((i+1)*20000) + " step 1 | extend s = strcat('value-', x)\n\n")
	}
	ingest.WriteString(".set-or-append Big <| range x from 1 to 200000 step 1 | extend s = strcat('value-', x)\n")
	if got := run(t, eng, ingest.String()); strings.Contains(got, "rror") {
		t.Fatal(got)
	}
	shut(t, eng, st)

	const limit = 2 << 20 // T's columns take about 5.5 MiB, Big's string column 5 MiB
	eng, st = open(t, dir, 2, func(o *engine.Options) { o.MaxMemory = limit })
	defer shut(t, eng, st)
	mem := eng.Memory()
	start := mem.Used()
	if start != 0 || mem.Cached() != 0 {
		t.Fatalf("at open the budget holds %d bytes, %d of them cached", start, mem.Cached())
	}

	const sumT = "T | summarize n = count(), sx = sum(x), ls = sum(strlen(s))"
	want := run(t, eng, "range x from 1 to 160000 step 1 | extend s = strcat('value-', x) | summarize n = count(), sx = sum(x), ls = sum(strlen(s))")
	var wg sync.WaitGroup
	got := make([]string, 3)
	for i := range got { // at once, under -race: scans share the cache
		wg.Go(func() { got[i] = run(t, eng, sumT) })
	}
	wg.Wait()
	for _, g := range got {
		if g != want {
			t.Errorf("T over a budget smaller than it:\n%s\nwant:\n%s", g, want)
		}
	}
	if mem.Peak() > limit {
		t.Errorf("the budget's peak is %d, over its limit %d", mem.Peak(), limit)
	}
	cached := mem.Cached()
	if cached <= limit/2 || cached > limit || mem.Used() != start+cached {
		t.Errorf("after the scans %d bytes are cached and %d used, of %d", cached, mem.Used(), limit)
	}

	// A query's result needs more than the cache leaves free: cached columns give way.
	if got := run(t, eng, "range i from 1 to 40000 step 1 | extend s = strcat('y', i) | summarize c = count()"); strings.Contains(got, "E_LOW_MEMORY") {
		t.Errorf("a query failed while the cache held %d bytes it could give back:\n%s", cached, got)
	}
	if got := run(t, eng, "range i from 1 to 40000 step 1 | extend s = strcat('y', i)"); strings.Contains(got, "E_LOW_MEMORY") || !strings.Contains(got, "y40000") {
		t.Errorf("a result failed while the cache held %d bytes it could give back:\n%s", cached, got[:min(len(got), 500)])
	}
	if mem.Cached() >= cached {
		t.Errorf("nothing was evicted: %d bytes cached, %d before", mem.Cached(), cached)
	}

	// One column larger than the budget is refused, cleanly.
	if got := run(t, eng, "Big | summarize max(strlen(s))"); !strings.Contains(got, "E_LOW_MEMORY_CONDITION") {
		t.Errorf("a column larger than the budget:\n%s", got)
	}
	if mem.Peak() > limit || mem.Used() != start+mem.Cached() {
		t.Errorf("after the refusal: peak %d, %d used, %d cached, of %d", mem.Peak(), mem.Used(), mem.Cached(), limit)
	}
	if got := run(t, eng, "Big | summarize sum(x)"); !strings.Contains(got, "20000100000") {
		t.Errorf("Big's long column, which fits:\n%s", got)
	}

	run(t, eng, ".drop table T\n\n.drop table Big")
	if mem.Used() != start || mem.Cached() != 0 {
		t.Errorf("after the drops %d bytes used (%d at the start), %d cached", mem.Used(), start, mem.Cached())
	}
}

// An extent ingested by the running process becomes a stored extent once committed: its memory
// leaves the ingest's reservation for the cache, where it is evictable, so that ingests of more
// than the budget in all succeed and are read back within it, and a drop gives back exactly
// what is cached (nothing counted twice, nothing below zero).
func TestIngestedExtentsLeaveTheBudget(t *testing.T) {
	const limit = 4 << 20 // each ingest's columns take about 1.4 MiB; the six, 8.5 MiB
	eng, st := open(t, t.TempDir(), 1, func(o *engine.Options) { o.MaxMemory = limit })
	defer shut(t, eng, st)
	mem := eng.Memory()
	for i := range 6 {
		got := run(t, eng, ".set-or-append T <| range x from "+itoa(i*40000+1)+" to "+itoa((i+1)*40000)+" step 1 | extend s = strcat('value-', x)")
		if strings.Contains(got, "rror") || strings.Contains(got, "E_LOW_MEMORY") || !strings.Contains(got, "40000") {
			t.Fatalf("ingest %d, with %d bytes of the budget used (%d cached):\n%s", i+1, mem.Used(), mem.Cached(), got)
		}
	}
	if mem.Used() != mem.Cached() || mem.Cached() == 0 {
		t.Fatalf("after the ingests: %d bytes used, %d cached; the ingested columns should be all the budget holds, as cache", mem.Used(), mem.Cached())
	}
	want := run(t, eng, "range x from 1 to 240000 step 1 | extend s = strcat('value-', x) | summarize n = count(), sx = sum(x), ls = sum(strlen(s))")
	var wg sync.WaitGroup
	got := make([]string, 2)
	for i := range got { // at once, under -race: scans share the cache with the warmed columns
		wg.Go(func() { got[i] = run(t, eng, "T | summarize n = count(), sx = sum(x), ls = sum(strlen(s))") })
	}
	wg.Wait()
	for _, g := range got {
		if g != want {
			t.Errorf("T, ingested past the budget:\n%s\nwant:\n%s", g, want)
		}
	}
	if mem.Peak() > limit {
		t.Errorf("the budget's peak is %d, over its limit %d", mem.Peak(), limit)
	}
	run(t, eng, ".drop table T")
	if mem.Used() != 0 || mem.Cached() != 0 {
		t.Errorf("after the drop %d bytes used, %d cached", mem.Used(), mem.Cached())
	}
}
