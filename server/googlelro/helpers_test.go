package googlelro

import (
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	goldenfile "github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/internal/servertest"
)

// newEngine is a deterministic engine: a step clock from 2024-01-01 and sequential ids.
func newEngine(t *testing.T) *engine.Engine {
	t.Helper()
	return servertest.NewEngine(t, servertest.Options())
}

// startAsync starts an async ingest and returns its operation id.
func startAsync(t *testing.T, eng *engine.Engine, text string) uuid.UUID {
	t.Helper()
	return servertest.Run(t, eng, text).Value(0, 0).(uuid.UUID)
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("..", "..", "testdata", "googlelro", name+".golden"), []byte(got))
}
