// Package arch holds the test that keeps Kustard's imports flowing one way: text → parser →
// engine → result batches → renderers and front doors, with ops and kusto as leaves.
package arch

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/kustard/kustard/"

// forbidden lists, for each package, the imports it must not have (prefixes).
var forbidden = map[string][]string{
	"kusto":       {module},
	"ops":         {module},
	"parser":      {module + "engine", module + "ops", module + "render", module + "script", module + "repl", module + "cmd"},
	"engine":      {module + "render", module + "script", module + "repl", module + "cmd"},
	"render":      {module + "script", module + "repl", module + "cmd", module + "parser", "github.com/alecthomas/participle"},
	"script":      {module + "repl", module + "cmd", "github.com/alecthomas/participle"},
	"repl":        {module + "cmd", "github.com/alecthomas/participle"},
	"cmd/kustard": {"github.com/alecthomas/participle"},
	"store":       {module + "parser", module + "render", module + "script", module + "repl", module + "cmd", module + "server"},
	// Front doors know nothing of each other.
	"server/tlscert": {module},
	// What the HTTP front doors share knows none of them, nor anything of Kustard.
	"server/httpmw":    {module},
	"server/kustohttp": {module + "script", module + "repl", module + "cmd", module + "server/googlelro", module + "server/fabric", module + "server/azuresql", "github.com/alecthomas/participle"},
	"server/googlelro": {module + "script", module + "repl", module + "cmd", module + "server/kustohttp", module + "server/fabric", module + "server/azuresql", module + "parser", "github.com/alecthomas/participle"},
	"server/fabric":    {module + "script", module + "repl", module + "cmd", module + "server/kustohttp", module + "server/googlelro", module + "server/azuresql", module + "parser", module + "render", "github.com/alecthomas/participle"},
	// The front doors' test support is a test's: it knows the engine, none of the doors.
	"internal/servertest": {module + "server", module + "script", module + "repl", module + "cmd", module + "parser", module + "render"},
	"server/azuresql":     {module + "script", module + "repl", module + "cmd", module + "server/kustohttp", module + "server/googlelro", module + "server/fabric", module + "parser", "github.com/alecthomas/participle"},
}

func TestImportsFlowOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		seen[pkg] = true
		for _, imp := range fields[1:] {
			if imp == module+"internal/servertest" {
				t.Errorf("%s imports internal/servertest, which only _test files may", pkg)
			}
			for _, bad := range forbidden[pkg] {
				if strings.HasPrefix(imp, bad) {
					t.Errorf("%s imports %s; imports must flow one way (see README, the house)", pkg, imp)
				}
			}
		}
	}
	for pkg := range forbidden {
		if !seen[pkg] {
			t.Errorf("package %s is not in the module any more; update the rules", pkg)
		}
	}
}
