package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestStartupGC: the collector runs at startupGCPercent until the first collection, and at its
// own setting after it; a GOGC the user set is left alone.
func TestStartupGC(t *testing.T) {
	t.Setenv("GOGC", "")
	const own = 150
	defer debug.SetGCPercent(debug.SetGCPercent(own))
	restored := startupGC()
	if got := debug.SetGCPercent(startupGCPercent); got != startupGCPercent {
		t.Fatalf("GC percent %d at start-up, want %d", got, startupGCPercent)
	}
	select {
	case <-restored:
		t.Fatal("restored before any collection")
	default:
	}
	runtime.GC()
	select {
	case <-restored:
	case <-time.After(10 * time.Second):
		t.Fatal("not restored after a collection")
	}
	if got := debug.SetGCPercent(own); got != own {
		t.Errorf("GC percent %d after the first collection, want %d", got, own)
	}

	t.Setenv("GOGC", "own")
	<-startupGC()
	if got := debug.SetGCPercent(own); got != own {
		t.Errorf("with GOGC set, GC percent %d, want %d", got, own)
	}
}
