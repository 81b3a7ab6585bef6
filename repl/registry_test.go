package repl

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// showShellTest is a command only this test registers: `.show shell_test T [with (loud=…)]`.
type showShellTest struct {
	parser.CommandNode
	Keyword string             `parser:"'.' 'show' @'shell_test'"`
	Table   *parser.Name       `parser:"@@"`
	With    *parser.Properties `parser:"( 'with' @@ )?"`
}

var registerOnce sync.Once

func registerShellTest() {
	registerOnce.Do(func() {
		engine.RegisterCommand(&engine.CommandInfo{
			Name: ".show shell_test", Keywords: []string{"show", "shell_test"},
			Synopsis: ".show shell_test TableName [with (loud = true)]", Summary: "Answers, for the shell's registry test.",
			Result:     engine.Schema{{Name: "Answer", Type: kusto.TypeLong}},
			Properties: []engine.PropertySpec{{Name: "loud", Type: kusto.TypeBool, Doc: "answer in capitals"}},
			Args:       []engine.Arg{{Names: engine.TableNames}, {Words: []engine.Word{{Text: "with", Doc: "with (loud = true)"}}}},
			Node:       &showShellTest{},
			Run: func(ctx context.Context, c *engine.Call, cmd parser.Command) (*engine.Frame, error) {
				return &engine.Frame{Schema: engine.Schema{{Name: "Answer", Type: kusto.TypeLong}},
					Cols: []engine.Column{engine.NewVector(kusto.TypeLong, []int64{42}, nil)}, Rows: 1}, nil
			},
		})
	})
}

// TestRegisteredCommand: a command registered in one place is run, helped and completed by the
// shell with no change here. The registry is the process's, so the test runs in a child process,
// where the command it registers cannot show in the other tests' goldens.
func TestRegisteredCommand(t *testing.T) {
	if os.Getenv("KUSTARD_REGISTRY_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRegisteredCommand$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KUSTARD_REGISTRY_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	registerShellTest()
	s, out := testShell(t)
	run(t, s, ".create table Events (Name:string)")
	for text, want := range map[string][]string{
		".show sh":                             {"shell_test"},
		".show shell_test ":                    {"Events"},
		".show shell_test Events ":             {"with"},
		".show shell_test Events with (":       {"loud="},
		".show shell_test Events | where Answ": {"Answer"},
	} {
		if got := values(s.complete(text)); !slices.Equal(got, want) {
			t.Errorf("complete(%q) = %q, want %q", text, got, want)
		}
	}
	if got := values(s.complete("#help .show")); !slices.Contains(got, ".show shell_test") {
		t.Errorf("complete(#help .show) = %q, want .show shell_test among them", got)
	}
	out.Reset()
	run(t, s, "#help")
	if !strings.Contains(out.String(), ".show shell_test") || !strings.Contains(out.String(), "Answers, for the shell's registry test.") {
		t.Errorf("#help does not list the command:\n%s", out)
	}
	out.Reset()
	run(t, s, "#help .show shell_test")
	for _, want := range []string{".show shell_test TableName [with (loud = true)]", "loud", "answer in capitals", "Returns: Answer:long"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("#help .show shell_test lacks %q:\n%s", want, out)
		}
	}
	out.Reset()
	run(t, s, ".show shell_test Events with (loud=true)")
	if !strings.Contains(out.String(), "42") {
		t.Errorf("the command did not run:\n%s", out)
	}
	out.Reset()
	run(t, s, ".show shell_test Events with (quiet=true)")
	if !strings.Contains(out.String(), `unknown property "quiet" for .show shell_test; accepted: loud`) {
		t.Errorf("a bad property was not rejected:\n%s", out)
	}
}
