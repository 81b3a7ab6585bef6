package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/parser"
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

// TestServeBuildsGrammar: serve builds the parser's grammar before it listens, so the first
// request does not pay for it. It runs serve in a fresh process (this test binary again), where
// nothing has built the grammar yet.
func TestServeBuildsGrammar(t *testing.T) {
	if os.Getenv("KUSTARD_TEST_SERVE_GRAMMAR") == "1" {
		serveBuildsGrammar()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeBuildsGrammar$")
	cmd.Env = append(os.Environ(), "KUSTARD_TEST_SERVE_GRAMMAR=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "grammar built before listening") {
		t.Fatalf("%v: %s", err, out)
	}
}

// serveBuildsGrammar is TestServeBuildsGrammar's fresh process: it exits 1 unless the grammar is
// unbuilt at first and built once serve prints its URL.
func serveBuildsGrammar() {
	if parser.GrammarBuilt() {
		fmt.Println("the grammar was built before serve ran; the test proves nothing")
		os.Exit(1)
	}
	ctx, stop := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		exit <- runMain(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, strings.NewReader(""), outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	built := parser.GrammarBuilt()
	stop()
	go io.Copy(io.Discard, outR)
	<-exit
	if err != nil || !built {
		fmt.Printf("serve printed %q (%v); grammar built: %v\n", line, err, built)
		os.Exit(1)
	}
	fmt.Println("grammar built before listening")
}
