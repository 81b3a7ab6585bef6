package script_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/render"
	"github.com/kustard/kustard/script"
)

// newDeterministicEngine returns an engine whose clock starts at 2024-01-01 and steps one second
// per reading, with kustard --deterministic's ids and one ingest slot, so transcripts are
// byte-for-byte stable.
func newDeterministicEngine(t *testing.T, with ...func(*engine.Options)) *engine.Engine {
	t.Helper()
	ids, operationIDs := ops.DeterministicIDs() // as kustard --deterministic makes them
	opts := engine.Options{
		Clock: ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second),
		IDs:   ids, OperationIDs: operationIDs,
		QueryIDs: &ops.SequentialIDs{Prefix: 0x20}, // as kustard --deterministic makes them
		Capacity: 1,
		User:     "kustard",
		// sample picks the same rows every run, as under kustard --deterministic.
		RandomSeed: 1,
		// A script that forgets to cancel an endless ingest fails fast instead of filling memory.
		MaxIngestBytes: 64 << 20,
		// .ingest into reads the files of testdata/ingest, and nothing outside them.
		IngestFiles: engine.FileAccess{Root: "../testdata/ingest"},
	}
	for _, f := range with {
		f(&opts)
	}
	eng := engine.New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := eng.Close(ctx); err != nil {
			t.Errorf("closing the engine: %v", err)
		}
	})
	return eng
}

// TestScripts runs every testdata/scripts/*.kql as a transcript: each block echoed, then its
// result or its error, compared with the .golden file beside it.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("../testdata/scripts/*.kql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".kql")
		t.Run(name, func(t *testing.T) {
			format := render.Table
			if strings.HasSuffix(name, "_json") {
				format = render.JSON
			}
			var with []func(*engine.Options)
			if strings.HasPrefix(name, "export") {
				with = append(with, exportRoot(t))
			}
			var out bytes.Buffer
			r := &script.Runner{
				Session: newDeterministicEngine(t, with...).NewSession(), Out: &out, Err: &out,
				Format: format, Echo: true, ContinueOnError: true,
			}
			in, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			if _, err := r.Run(context.Background(), filepath.ToSlash(filepath.Join("testdata/scripts", filepath.Base(file))), in); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, strings.TrimSuffix(file, ".kql")+".golden", out.Bytes())
		})
	}
}

// exportRoot gives the export scripts one new directory to read and write: a copy of
// testdata/ingest's files, with an empty out/ to export to.
func exportRoot(t *testing.T) func(*engine.Options) {
	dir := t.TempDir()
	files, _ := filepath.Glob("../testdata/ingest/*")
	for _, f := range files {
		if st, err := os.Lstat(f); err != nil || !st.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, sub := range []string{"out", "out2"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return func(o *engine.Options) {
		o.IngestFiles = engine.FileAccess{Root: dir}
		o.ExportFiles = engine.FileAccess{Root: dir}
	}
}
