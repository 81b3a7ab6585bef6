package formats

// This package has no golden files; importing golden gives its tests the -update flag, so that
// `go test ./... -update` runs across the whole module instead of failing here.
import _ "github.com/kustard/kustard/internal/golden"
