package repl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
)

// These tests drive the real kustard binary on a pseudo-terminal, as a person would: they type
// keys, and read the screen of a terminal emulator (vt10x) that the shell draws on. Every wait is
// for text to appear on the screen, with a deadline; none is a fixed sleep.

var kustardBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kustard-repl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kustardBin = filepath.Join(dir, "kustard")
	args := []string{"build", "-o", kustardBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/kustard/kustard/cmd/kustard")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building kustard:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// waitLimit bounds every wait; generous, as the race detector slows the shell down severalfold.
const waitLimit = 60 * time.Second

// session is the shell running on a pseudo-terminal.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	vt   vt10x.Terminal
	done chan struct{} // closed when the shell has exited and its output is read

	mu  sync.Mutex
	raw bytes.Buffer // everything the shell wrote, escapes included
}

// startShell runs `kustard --deterministic ARGS…` with HOME and the XDG directories in home, so
// that the real history file is never touched.
func startShell(t *testing.T, home string, env []string, args ...string) *session {
	t.Helper()
	cmd := exec.Command(kustardBin, append([]string{"--deterministic"}, args...)...)
	cmd.Env = append([]string{
		"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"TERM=xterm-256color", "PATH=" + os.Getenv("PATH"), "INPUTRC=/dev/null",
	}, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: 150, Rows: 60})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cmd: cmd, pty: f, done: make(chan struct{})}
	// The emulator answers the terminal's queries (cursor position) back through the pty.
	s.vt = vt10x.New(vt10x.WithSize(150, 60), vt10x.WithWriter(f))
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.raw.Write(buf[:n])
				s.mu.Unlock()
				_, _ = s.vt.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
		_ = cmd.Wait()
		f.Close()
		if t.Failed() {
			t.Logf("screen at the end:\n%s", s.screen())
		}
	})
	s.waitFor("NetDefaultDB>")
	return s
}

// screen is the emulator's screen, each line without its trailing blanks.
func (s *session) screen() string {
	lines := strings.Split(s.vt.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

func (s *session) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// send types keys.
func (s *session) send(keys string) {
	s.t.Helper()
	if _, err := s.pty.WriteString(keys); err != nil {
		s.t.Fatal(err)
	}
}

// waitFor waits until the screen shows text, and fails the test at the deadline.
func (s *session) waitFor(text string) {
	s.t.Helper()
	s.waitUntil(text, func(screen string) bool { return strings.Contains(screen, text) })
}

// waitMatch waits until the screen matches re and returns the first submatch.
func (s *session) waitMatch(re *regexp.Regexp) string {
	s.t.Helper()
	var m []string
	s.waitUntil(re.String(), func(screen string) bool { m = re.FindStringSubmatch(screen); return m != nil })
	return m[len(m)-1]
}

func (s *session) waitUntil(what string, ok func(screen string) bool) {
	s.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !ok(s.screen()) {
		if time.Now().After(deadline) {
			s.t.Fatalf("%q did not appear within %v; the screen:\n%s", what, waitLimit, s.screen())
		}
		select {
		case <-s.done:
			if !ok(s.screen()) {
				s.t.Fatalf("the shell exited before %q appeared; the screen:\n%s", what, s.screen())
			}
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitExit waits for the shell to exit and returns its exit code.
// waitPrompt waits until the screen ends in an empty prompt. The editor draws the prompt after
// putting the terminal in raw mode, so a control key sent after it reaches the editor; one sent
// while a result or notice is still being printed would meet the terminal's cooked mode, where
// Ctrl-D and Ctrl-C never reach the program as keys.
func (s *session) waitPrompt() {
	s.t.Helper()
	s.waitUntil("an empty prompt", func(screen string) bool {
		lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
		return strings.TrimSpace(lines[len(lines)-1]) == "NetDefaultDB>"
	})
}

func (s *session) waitExit() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(waitLimit):
		s.t.Fatalf("the shell did not exit; the screen:\n%s", s.screen())
	}
	_ = s.cmd.Wait()
	return s.cmd.ProcessState.ExitCode()
}

const ctrlC, ctrlD, ctrlR, tab = "\x03", "\x04", "\x12", "\t"

var startedRE = regexp.MustCompile(`operation ([0-9a-f-]{36}) runs in the background`)

// TestShellAsyncOperations starts two async ingests, completes an operation id with Tab (the
// menu shows each running operation's kind and start time), cancels one, and sees its end
// announced at the next prompt. Leaving with the other still running asks to be sure.
func TestShellAsyncOperations(t *testing.T) {
	s := startShell(t, t.TempDir(), nil, "--capacity", "4")
	s.send(".set-or-append async Slow <| " + endless + "\r")
	first := s.waitMatch(startedRE)
	s.send("#help .cancel\r") // something between the two ids, so the second match is new
	s.waitFor("Cancels a running ingest-from-query operation")
	s.send(".set-or-append async Slower <| " + endless + "\r")
	second := s.waitMatch(regexp.MustCompile(`(?s)Cancels a running.*operation ([0-9a-f-]{36}) runs in the background`))
	if first == second {
		t.Fatalf("both ingests report operation %s", first)
	}

	// Tab lists the running operations with their kind and start time.
	s.send(".cancel operation " + tab)
	s.waitFor("running operations")
	s.waitMatch(regexp.MustCompile(regexp.QuoteMeta(first) + ` +-- TableSetOrAppend InProgress, started 2024-01-01 00:00:\d\d`))
	s.waitFor(second)
	s.send(ctrlC) // leaves the menu and clears the line
	s.waitPrompt()

	// Tab lists the ids newest first and inserts their common prefix; Tab again takes the first.
	s.send(".cancel operation " + tab)
	s.waitFor("running operations")
	s.send(tab)
	s.waitFor("NetDefaultDB> .cancel operation " + second + "\n")
	s.send("with (reason='enough')\r")
	s.waitFor("Canceled successfully")
	s.waitFor("⚑ operation " + second + " (TableSetOrAppend) ended Canceled: enough")

	// The shell warns before leaving with an operation still running, then leaves.
	s.waitPrompt()
	s.send(ctrlD)
	s.waitFor("1 operation is still running")
	s.waitPrompt()
	s.send(ctrlD)
	if code := s.waitExit(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestShellCtrlCCancelsIngest interrupts a synchronous ingest, which shows live progress, and
// checks that the shell carries on and the operation ended Canceled.
func TestShellCtrlCCancelsIngest(t *testing.T) {
	s := startShell(t, t.TempDir(), nil)
	s.send(".set-or-append Endless <| " + endless + "\r")
	s.waitFor("ingesting: ")
	s.send(ctrlC)
	s.waitFor("the command was canceled: interrupted with Ctrl-C")
	if strings.Contains(s.screen(), "ingesting: ") {
		t.Errorf("the progress line was not cleared:\n%s", s.screen())
	}
	s.send("print answer = 6 * 7\r")
	s.waitFor("│ 42     │")
	s.send(`.show operations | where State == "Canceled" | project Operation, Status` + "\r")
	s.waitFor("│ TableSetOrAppend │ interrupted with Ctrl-C │")
	s.send("#quit\r")
	if code := s.waitExit(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestShellHistoryPersists types a command in one session and finds it in the next, with
// Ctrl-R, in a history file only the user may read.
func TestShellHistoryPersists(t *testing.T) {
	home := t.TempDir()
	s := startShell(t, home, nil)
	s.send("print greeting = 'from the first session'\r")
	s.waitFor("│ from the first session │")
	s.send("#quit\r")
	s.waitExit()

	path := filepath.Join(home, "state", "kustard", "history")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", fi.Mode().Perm())
	}

	s = startShell(t, home, nil)
	s.send(ctrlR + "first session")
	s.waitFor("NetDefaultDB> print greeting = 'from the first session'")
	s.send("\r")
	s.waitUntil("the result, run again", func(screen string) bool {
		return strings.Count(screen, "from the first session") >= 2 && strings.Contains(screen, "(1 row")
	})
	s.waitPrompt()
	s.send(ctrlD)
	if code := s.waitExit(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// TestShellMultilineAndErrors continues an unfinished query on a second line, shows an error with
// its caret (in colour, unless NO_COLOR is set) and keeps going.
func TestShellMultilineAndErrors(t *testing.T) {
	for _, noColor := range []bool{false, true} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			var env []string
			if noColor {
				env = []string{"NO_COLOR=1"}
			}
			s := startShell(t, t.TempDir(), env)
			// Enter after a trailing | continues the input, at a continuation prompt.
			s.send("range x from 1 to 3 step 1 |\r")
			s.waitFor("NetDefaultDB> range x from 1 to 3 step 1 |\n           ->\n")
			s.send("count\r")
			s.waitFor("NetDefaultDB> range x from 1 to 3 step 1 |\n           -> count\n")
			s.waitFor("│ 3     │")
			s.send("range x from 1 to 3 step 1 | frob\r")
			s.waitFor(`unknown query operator "frob"`)
			s.waitFor("    range x from 1 to 3 step 1 | frob\n                                 ^")
			coloured := strings.Contains(s.output(), red+"<input>:1:")
			if coloured == noColor {
				t.Errorf("error in colour = %v with NO_COLOR=%v", coloured, noColor)
			}
			s.send("#bogus\r")
			s.waitFor(`unknown directive "#bogus"`)
			s.send("#exit\r")
			if code := s.waitExit(); code != 0 {
				t.Errorf("exit code %d", code)
			}
		})
	}
}
