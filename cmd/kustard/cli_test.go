package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kustard/kustard/internal/golden"
)

// kustard runs the CLI in-process with the given standard input and returns what it printed and
// its exit code.
func kustard(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func writeScript(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "script.kql")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExitCodes(t *testing.T) {
	ok := writeScript(t, "print a = 1\n\nprint b = 2\n")
	failing := writeScript(t, "print a = 1\n\nNoSuchTable\n\nprint after = \"failure\"\n")
	syntax := writeScript(t, "print a = 1\n\nprint (\n\nprint after = \"syntax\"\n")
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     []string // each must appear
		notStdout  []string // none may appear
		stderrPart string
	}{
		{"all succeed", []string{"run", ok}, 0, []string{"│ a │", "│ b │"}, nil, ""},
		{"stops at the first failure", []string{"run", failing}, 1, []string{"│ a │"}, []string{"after"}, "script.kql:3:1: failed to resolve table"},
		{"continue on error", []string{"run", "--continue-on-error", failing}, 1, []string{"│ a ", "failure"}, nil, "script.kql:3:1:"},
		{"syntax error", []string{"run", syntax}, 2, []string{"│ a │"}, []string{"syntax"}, "script.kql:3:"},
		{"syntax error, continuing", []string{"run", "--continue-on-error", syntax}, 2, []string{"syntax"}, nil, "script.kql:3:"},
		{"missing file", []string{"run", filepath.Join(t.TempDir(), "nope.kql")}, 2, nil, nil, "no such file"},
		{"unknown flag", []string{"run", "--frobnicate", ok}, 2, nil, nil, "unknown flag: --frobnicate"},
		{"bad format", []string{"run", "--format", "xml", ok}, 2, nil, nil, `unknown format "xml"`},
		{"run needs a file", []string{"run"}, 2, nil, nil, "requires at least 1 arg"},
		{"exec", []string{"exec", "print x = 40 + 2"}, 0, []string{"42"}, nil, ""},
		{"exec failure", []string{"exec", ".show table Nope cslschema"}, 1, nil, nil, `<exec>:1:13: table "Nope" does not exist`},
		{"exec syntax error", []string{"exec", ".show tabels"}, 2, nil, nil, "<exec>:1:7:"},
		{"check passes", []string{"check", ok}, 0, nil, nil, ""},
		{"check fails", []string{"check", syntax}, 2, nil, nil, "script.kql:3:"},
		{"version", []string{"version"}, 0, []string{"kustard "}, nil, ""},
		// Settings that mean nothing are refused, not quietly replaced by defaults.
		{"zero capacity", []string{"--capacity", "0", "exec", "print 1"}, 2, nil, []string{"1"}, "--capacity 0: at least one ingest"},
		{"negative capacity", []string{"--capacity", "-3", "exec", "print 1"}, 2, nil, nil, "--capacity -3:"},
		{"negative cancel wait", []string{"--cancel-wait", "-1s", "exec", "print 1"}, 2, nil, nil, "--cancel-wait -1s: a wait cannot be negative"},
		{"negative ingest limit", []string{"--max-ingest-bytes", "-5", "exec", "print 1"}, 2, nil, nil, "--max-ingest-bytes -5: the limit must be positive"},
		{"zero ingest limit", []string{"--max-ingest-bytes", "0", "exec", "print 1"}, 2, nil, nil, "--max-ingest-bytes 0:"},
		{"negative retention", []string{"--operations-retention", "-1h", "exec", "print 1"}, 2, nil, nil, "--operations-retention -1h0m0s:"},
		{"zero queries retention", []string{"--queries-retention", "0", "exec", "print 1"}, 2, nil, nil, "--queries-retention 0s:"},
		{"zero memory", []string{"--max-memory", "0", "exec", "print 1"}, 2, nil, nil, "--max-memory 0: the budget must be positive"},
		{"bad size", []string{"--max-memory", "lots", "exec", "print 1"}, 2, nil, nil, `"lots" is not a size`},
		{"sizes with units", []string{"--max-memory", "1.5GiB", "--max-ingest-bytes", "100MB", "exec", "print 1"}, 0, []string{"│ 1 "}, nil, ""},
		{"a zero cancel wait is accepted", []string{"--deterministic", "--cancel-wait", "0", "run", "-"}, 0, []string{"CancellationState"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdin := ""
			if tc.name == "a zero cancel wait is accepted" {
				stdin = ".set-or-append async T <| range x from 1 to 1000000000000 step 1\n\n.cancel operation 00000000-0000-0000-0000-000000000001\n"
			}
			stdout, stderr, code := kustard(t, stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.notStdout {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderrPart) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrPart, stderr)
			}
		})
	}
}

// TestCheckReportsEveryError: check parses every block and reports each error, not just the first.
func TestCheckReportsEveryError(t *testing.T) {
	path := writeScript(t, ".show operations\n\n.cancel operation 1234\n\nprint a = \n\n.alter table T (a:int)\n\nprint atan2(2, 3)\n\nprint frob(1)\n\nset querytrace; print 1\n")
	_, stderr, code := kustard(t, "", "check", path)
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	golden.Check(t, "../../testdata/cli/check.golden", []byte(strings.ReplaceAll(stderr, path, "script.kql")))
}

// TestFormats: every output format, on the same commands, including a failure.
func TestFormats(t *testing.T) {
	script := "print s = \"a|b\", n = 1, d = datetime(2024-01-01), g = guid(078b2641-f10d-4694-96f8-1ee2b75dda48)\n\nNoSuchTable\n"
	for _, format := range []string{"table", "csv", "json", "markdown"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := kustard(t, script, "run", "--continue-on-error", "--format", format, "-")
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			golden.Check(t, "../../testdata/cli/format-"+format+".golden", []byte(stdout+"--- stderr\n"+stderr))
		})
	}
}

// TestQuickstart runs the README's example exactly as the README says, so it stays true.
func TestQuickstart(t *testing.T) {
	stdout, stderr, code := kustard(t, "", "run", "--deterministic", "--echo", "../../examples/quickstart.kql")
	if code != 0 {
		t.Fatalf("exit code %d\n%s", code, stderr)
	}
	golden.Check(t, "../../testdata/cli/quickstart.golden", []byte(stdout))
}

func TestHelp(t *testing.T) {
	for name, args := range map[string][]string{"help": {"--help"}, "help-run": {"run", "--help"}} {
		stdout, _, code := kustard(t, "", args...)
		if code != 0 {
			t.Errorf("%v: exit code %d", args, code)
		}
		golden.Check(t, "../../testdata/cli/"+name+".golden", []byte(stdout))
	}
}

// TestCoprocess drives kustard through pipes as another program would: each block is answered,
// and its output flushed, before the next block is written.
func TestCoprocess(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := runMain(context.Background(), []string{"--deterministic", "run", "--format", "json", "-"}, inR, outW, io.Discard)
		outW.Close()
		done <- code
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(outR)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	readLine := func() string {
		t.Helper()
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("kustard closed its output early")
			}
			return line
		case <-deadline.C:
			t.Fatal("no answer from kustard")
		}
		return ""
	}
	send := func(block string) {
		t.Helper()
		if _, err := io.WriteString(inW, block+"\n\n"); err != nil {
			t.Fatal(err)
		}
	}
	send(".set-or-append async T <| range x from 1 to 1000000000000 step 1")
	if line := readLine(); !strings.Contains(line, `"OperationId"`) || !strings.Contains(line, "00000000-0000-0000-0000-000000000001") {
		t.Fatalf("async ingest answered %s", line)
	}
	// The ingest runs until canceled: the answer to this block can only come while it runs.
	send(".show operations 00000000-0000-0000-0000-000000000001 | project State")
	if line := readLine(); !strings.Contains(line, `"InProgress"`) {
		t.Fatalf(".show operations answered %s", line)
	}
	send(`.cancel operation 00000000-0000-0000-0000-000000000001 with (reason="done")`)
	if line := readLine(); !strings.Contains(line, `"Canceled successfully"`) {
		t.Fatalf(".cancel operation answered %s", line)
	}
	send("T | count")
	if line := readLine(); !strings.Contains(line, `[[0]]`) {
		t.Fatalf("count after cancel answered %s", line)
	}
	inW.Close()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d", code)
		}
	case <-deadline.C:
		t.Fatal("kustard did not exit at the end of its input")
	}
}

// TestREADMEGenerated keeps the README's tables of commands, operators and functions what
// `kustard help --markdown` makes of the registries. `go test ./cmd/kustard -update` rewrites
// them in the README.
func TestREADMEGenerated(t *testing.T) {
	const path = "../../README.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, sec := range docSections() {
		start := markerStart(sec.name) + "\n"
		i := strings.Index(readme, start)
		if i < 0 {
			t.Errorf("README.md lacks the marker %q; put it, then %q, where the %s table goes, and run go test ./cmd/kustard -update", start, markerEnd, sec.name)
			continue
		}
		i += len(start)
		j := strings.Index(readme[i:], markerEnd)
		if j < 0 {
			t.Errorf("README.md: no %q after %q", markerEnd, start)
			continue
		}
		if got := readme[i : i+j]; got != sec.text {
			if golden.Updating() {
				readme = readme[:i] + sec.text + readme[i+j:]
				continue
			}
			t.Errorf("README.md's %s table is not what the registries say; run go test ./cmd/kustard -update (or paste kustard help --markdown) and review the diff:\n%s", sec.name, golden.Diff(got, sec.text))
		}
	}
	if golden.Updating() && readme != string(data) {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// What `kustard help --markdown` prints is those sections.
	stdout, _, code := kustard(t, "", "help", "--markdown")
	if code != 0 {
		t.Fatalf("help --markdown: exit code %d", code)
	}
	for _, sec := range docSections() {
		if !strings.Contains(stdout, markerStart(sec.name)+"\n"+sec.text+markerEnd+"\n") {
			t.Errorf("help --markdown lacks the %s section", sec.name)
		}
	}
}

// TestNoArgumentsRunsStandardInput: with no arguments and input that is not a terminal, kustard
// runs its standard input as a script.
func TestNoArgumentsRunsStandardInput(t *testing.T) {
	stdout, stderr, code := kustard(t, "print x = 6 * 7\n\nNoSuchTable\n")
	if code != 1 || !strings.Contains(stdout, "42") || !strings.Contains(stderr, "<stdin>:3:1: failed to resolve") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// failingWriter fails every write, as standard output on a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestOutputWriteFailure: output that cannot be written fails the run (exit 1) with a message,
// rather than passing for a usage error (exit 2).
func TestOutputWriteFailure(t *testing.T) {
	var stderr bytes.Buffer
	code := runMain(context.Background(), []string{"exec", "print 1"}, strings.NewReader(""), failingWriter{}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "kustard: no space left on device") {
		t.Errorf("exit %d, stderr %q; want 1 and the write error", code, stderr.String())
	}
}

// TestExecNamesTheOperationsItCancels: an async operation still running when exec ends is
// canceled with the process, and standard error says which.
func TestExecNamesTheOperationsItCancels(t *testing.T) {
	_, stderr, code := kustard(t, "", "--deterministic", "exec", ".set-or-append async T <| range x from 1 to 1000000000000 step 1")
	want := "kustard: canceling operation 00000000-0000-0000-0000-000000000001 (TableSetOrAppend), still InProgress at exit"
	if code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
}

// TestLimitErrorsNameTheCommand: an error of a command as a whole, such as passing an ingest or
// result limit, names where the command starts in its script, with the line and a caret.
func TestLimitErrorsNameTheCommand(t *testing.T) {
	path := writeScript(t, "print a = 1\n\n  .set-or-append T <| range x from 1 to 100000 step 1\n")
	_, stderr, code := kustard(t, "", "--max-ingest-bytes", "10000", "run", path)
	want := "script.kql:3:3: the ingest exceeded 10000 bytes after"
	if code != 1 || !strings.Contains(stderr, want) || !strings.Contains(stderr, "\n      ^") {
		t.Errorf("exit %d, stderr:\n%s\nwant 1 and %q with a caret under the command", code, stderr, want)
	}
}

// TestWaitedOperationsDecideTheExit: an operation a script waited for that did not succeed fails
// the run (exit 1), so that CI sees it; the #wait shows the operation's state first, and the run
// stops there unless --continue-on-error. Canceled is a success when the script canceled it.
func TestWaitedOperationsDecideTheExit(t *testing.T) {
	const huge = ".set-or-append async T <| range x from 1 to 100000000 step 1\n\n"
	for _, tc := range []struct {
		name       string
		args       []string
		stdin      string
		code       int
		stdout     []string
		notStdout  []string
		stderrPart string
	}{
		{"a failed async ingest fails the run", []string{"--max-ingest-bytes", "1000", "run", "-"},
			huge + "#wait\n\nprint after = 1\n", 1, []string{"│ Failed "}, []string{"│ after"},
			"<stdin>:3:1: #wait: operation 00000000-0000-0000-0000-000000000001 ended Failed: the ingest exceeded 1000 bytes"},
		{"continuing, the caret at the id", []string{"--max-ingest-bytes", "1000", "run", "--continue-on-error", "-"},
			huge + "#wait 00000000-0000-0000-0000-000000000001\n\nprint after = 1\n", 1, []string{"│ Failed ", "│ after"}, nil,
			"<stdin>:3:7: #wait: operation 00000000-0000-0000-0000-000000000001 ended Failed"},
		{"exec", []string{"--max-ingest-bytes", "1000", "exec", huge + "#wait"}, "", 1, []string{"│ Failed "}, nil,
			"<exec>:3:1: #wait: operation 00000000-0000-0000-0000-000000000001 ended Failed"},
		{"an ingest the script canceled", []string{"run", "-"},
			".set-or-append async T <| range x from 1 to 1000000000000 step 1\n\n.cancel operation 00000000-0000-0000-0000-000000000001\n\n#wait\n",
			0, []string{"│ Canceled "}, nil, ""},
		{"a skipped ingest", []string{"run", "-"},
			".set-or-append T with (tags='[\"ingest-by:a\"]') <| print x = 1\n\n" +
				".set-or-append async T with (ingestIfNotExists='[\"a\"]') <| print x = 2\n\n#wait\n",
			0, []string{"│ Skipped "}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := kustard(t, tc.stdin, append([]string{"--deterministic"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tc.notStdout {
				if strings.Contains(stdout, s) {
					t.Errorf("stdout has %q:\n%s", s, stdout)
				}
			}
			if !strings.Contains(stderr, tc.stderrPart) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderrPart, stderr)
			}
		})
	}
}

// TestDeterministicWithData: a deterministic run over a data directory goes on after the ids
// and times stored there, rather than starting again at 1 and at 2024-01-01: an operation id
// made twice would be refused, and a table or extent id made twice would overwrite the stored
// table or extent file.
func TestDeterministicWithData(t *testing.T) {
	dir := t.TempDir()
	const show = "\n\nT | order by x asc\n\n" +
		".show operations | project OperationId, Operation, State, StartedOn, LastUpdatedOn, RootActivityId"
	first, stderr, code := kustard(t, "", "--deterministic", "--data", dir, "exec", ".set-or-append T <| print x = 1"+show)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	second, stderr, code := kustard(t, "", "--deterministic", "--data", dir, "exec",
		".set-or-append T <| print x = 2\n\n.set-or-append T <| print x = 3"+show)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	golden.Check(t, "../../testdata/cli/deterministic-data.golden", []byte(first+"--- after a restart\n"+second))
	// Without continuing, the second run's second extent would be made with the first run's
	// extent id, and its file would replace that extent's.
	if !strings.Contains(second, "│ x │\n├───┤\n│ 1 │\n│ 2 │\n│ 3 │\n└") {
		t.Errorf("T after the second run does not hold 1, 2, 3:\n%s", second)
	}
	// Each id appears once in the second run's extents and operations (two records each).
	for _, id := range []string{"10000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-00000000000"} {
		seen := map[string]int{}
		for _, f := range strings.Fields(second) {
			if strings.HasPrefix(f, id) {
				seen[f]++
			}
		}
		for f, n := range seen {
			if n > 2 {
				t.Errorf("id %s appears %d times after a restart:\n%s", f, n, second)
			}
		}
	}
}
