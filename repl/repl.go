// Package repl is Kustard's interactive shell: what `kustard` opens when started on a terminal
// with no arguments. It reads Kusto commands and queries with line editing, history, multi-line
// input and completion, runs them in one engine session, and prints their results as tables fitted
// to the terminal. Ctrl-C cancels the running command, not the shell; operations started with
// async are announced when they end.
//
// Use it with Run, on the process's own terminal (the line editor reads standard input and draws
// on standard output).
//
// The line editor is github.com/reeflective/readline, chosen over ergochat/readline, peterh/liner
// and knz/bubbline because it alone has all of: a history file, Ctrl-R search, Emacs bindings and
// ~/.inputrc, completion menus with descriptions and groups, true multi-line editing with a
// continuation prompt decided by the caller (AcceptMultiline), and a hint area that other
// goroutines may update safely while the user types (Hint.SetTransient), which is how a finished
// operation is announced without corrupting the line being edited. liner has no async output or
// descriptions; ergochat/readline has no descriptions or caller-decided multi-line; bubbline takes
// over the screen the bubbletea way, which fights a shell that prints results between prompts.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
	"github.com/kustard/kustard/render"
	"github.com/mattn/go-isatty"
	"github.com/reeflective/readline"
	"golang.org/x/term"
)

// DefaultMaxRows is how many rows a result shows before it is cut: about a screen, so a result
// never scrolls the command that made it out of sight.
const DefaultMaxRows = 50

// Config configures a shell.
type Config struct {
	Engine *engine.Engine
	// HistoryFile keeps the input between sessions; empty keeps it for this session only.
	HistoryFile string
	// MaxRows cuts longer results (0: DefaultMaxRows; negative: no limit). #maxrows changes it.
	MaxRows int
	// Format is how results print (default table). #format changes it.
	Format render.Format
}

// Shell is one interactive session.
type Shell struct {
	eng     *engine.Engine
	sess    *engine.Session
	out     io.Writer
	format  render.Format
	timing  bool
	maxRows int
	color   bool                  // errors and notices in colour
	tty     bool                  // out is a terminal: progress is shown and tables fit its width
	width   func() int            // the terminal's width in columns
	now     func() time.Time      // for elapsed times; the engine's clock may be a test's
	last    *engine.Frame         // the last result, for #save
	rl      *readline.Shell       // nil when driven without a terminal (tests)
	warned  bool                  // the user was told that leaving cancels running operations
	mu      sync.Mutex            // guards mine and pending, which the ops watcher updates
	mine    map[uuid.UUID]started // async operations started here and still running
	pending []notice              // operations of mine that ended, not yet announced
}

// started is what the shell remembers of an async operation it started.
type started struct {
	table string // the ingest's target table, for the row count when it ends
}

// notice is an operation's end, to announce at the next prompt.
type notice struct {
	rec ops.Snapshot
	op  started
}

// newShell returns a shell writing to out.
func newShell(cfg Config, out io.Writer) *Shell {
	s := &Shell{
		eng: cfg.Engine, sess: cfg.Engine.NewSession(), out: out, format: cfg.Format, timing: true,
		maxRows: cfg.MaxRows, width: func() int { return 100 }, now: time.Now, mine: map[uuid.UUID]started{},
	}
	if s.format == "" {
		s.format = render.Table
	}
	switch {
	case s.maxRows == 0:
		s.maxRows = DefaultMaxRows
	case s.maxRows < 0:
		s.maxRows = 0
	}
	return s
}

// Run runs the shell on the process's terminal until the user leaves it with #quit or Ctrl-D,
// or ctx is done. Ctrl-C cancels the running command only: Run handles SIGINT itself, so ctx
// should not be one that SIGINT cancels.
func Run(ctx context.Context, cfg Config) error {
	s := newShell(cfg, os.Stdout)
	fd := int(os.Stdout.Fd())
	s.tty = isatty.IsTerminal(os.Stdout.Fd())
	s.color = s.tty && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	s.width = func() int {
		if w, _, err := term.GetSize(fd); err == nil && w > 0 {
			return w
		}
		return 100
	}
	s.rl = s.newReadline(cfg.HistoryFile)
	return s.loop(ctx)
}

func (s *Shell) newReadline(historyFile string) *readline.Shell {
	rl := readline.NewShell()
	// The prompt always starts at column 0 (every output ends in a newline), so the editor need
	// not ask the terminal where its cursor is before each redraw.
	_ = rl.Config.Set("cursor-position-probe", false)
	_ = rl.Config.Set("completion-ignore-case", true)
	// Tab inserts what all candidates share and lists them with their descriptions, as bash
	// does, rather than inserting the first one unseen; Tab again cycles through them.
	_ = rl.Config.Set("menu-complete-display-prefix", true)
	rl.Prompt.Primary(func() string { return s.sess.Database + "> " })
	// Continuation lines are marked in the prompt's column: "->" under the prompt's ">" on the
	// line being typed, as in psql, and a rule on the lines between.
	_ = rl.Config.Set("multiline-column", true)
	rl.Prompt.Secondary(func() string { return strings.Repeat(" ", max(0, len(s.sess.Database)-1)) + "-> " })
	rl.AcceptMultiline = func(line []rune) bool { return Complete(string(line)) }
	rl.Completer = func(line []rune, cursor int) readline.Completions {
		text := string(line[:cursor])
		c := s.complete(text)
		// The editor replaces the blank-separated word before the cursor, which may hold more
		// than the word completed: `with (` then a property.
		blank := text[strings.LastIndexAny(text, " \t\n")+1:]
		lead := ""
		if len(c.Word) <= len(blank) {
			lead = blank[:len(blank)-len(c.Word)]
		}
		values := make([]readline.Completion, len(c.Items))
		for i, it := range c.Items {
			value := lead + it.Value
			if !strings.HasSuffix(value, "=") && !strings.HasSuffix(value, "(") && !strings.HasSuffix(value, "/") {
				value += " " // the editor adds no space of its own; a property or call goes on
			}
			values[i] = readline.Completion{Value: value, Display: it.Value, Description: it.Desc, Tag: it.Tag}
		}
		comps := readline.CompleteRaw(values)
		comps.PREFIX = blank
		// Operation ids are listed newest first, the order a user looks for.
		return comps.NoSort("running operations", "finished operations")
	}
	if historyFile != "" {
		if hist, err := openHistory(historyFile); err != nil {
			fmt.Fprintf(s.out, "kustard: history is not kept: %v\n", err)
		} else {
			rl.History.Add("history", hist)
		}
	}
	return rl
}

// openHistory opens the history file, creating it and its directory readable by the user only:
// the history holds every command typed, and with it whatever the data in them says.
func openHistory(path string) (readline.History, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	return readline.NewHistoryFromFile(path)
}

// HistoryPath is where the history is kept: $XDG_STATE_HOME/kustard/history, else
// ~/.local/state/kustard/history, as the XDG base directory spec puts state that should persist
// between restarts but is not worth backing up; where neither can be found, the user's config
// directory.
func HistoryPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "kustard", "history"), nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "kustard", "history"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "kustard", "history"), nil
}

// errInterrupted is the cause of a command canceled with Ctrl-C; the engine records it as the
// operation's reason.
var errInterrupted = &ops.CanceledError{Reason: "interrupted with Ctrl-C"}

func (s *Shell) loop(ctx context.Context) error {
	// SIGINT arrives only while a command runs: at the prompt the terminal is in raw mode and
	// Ctrl-C is a key the editor reads.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	stop := s.eng.Ops().Watch(s.finished)
	defer stop()

	fmt.Fprintf(s.out, "Kustard %s, a local Kusto engine. #help for help, Tab completes, Ctrl-D exits.\n", engine.Version)
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		s.announce()
		text, err := s.rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue // Ctrl-C at the prompt clears the line
		case errors.Is(err, io.EOF):
			if s.mayQuit() {
				return nil
			}
			continue
		case err != nil:
			return err
		}
		drain(sigs)
		cmdCtx, cancel := context.WithCancelCause(ctx)
		done := make(chan struct{})
		go func() {
			select {
			case <-sigs:
				cancel(errInterrupted)
			case <-done:
			}
		}()
		err = s.handle(cmdCtx, text)
		close(done)
		cancel(nil)
		if !errors.Is(err, errQuit) {
			s.warned = false // the warning holds for a quit that follows it at once
		} else if s.mayQuit() {
			return nil
		}
	}
}

func drain(c <-chan os.Signal) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// mayQuit reports whether the shell may end now. Leaving cancels the operations still running,
// since their data lives in this process; the first attempt says so and the second leaves.
func (s *Shell) mayQuit() bool {
	active := s.eng.Ops().Active()
	if len(active) == 0 || s.warned {
		return true
	}
	s.warned = true
	fmt.Fprintf(s.out, "%s still running; leaving cancels it and loses its data. #quit or Ctrl-D again to leave.\n",
		plural(int64(len(active)), "operation is", "operations are"))
	return false
}

// handle runs one input: a directive, a command or a query. It returns errQuit when the shell
// should end; every other failure has been printed.
func (s *Shell) handle(ctx context.Context, text string) error {
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return nil
	}
	if strings.HasPrefix(trimmed, "#") {
		err := s.runDirective(ctx, trimmed)
		if errors.Is(err, errQuit) {
			return err
		}
		if err != nil {
			s.printError(err)
		}
		return nil
	}
	src := &kusto.Source{Text: strings.TrimRight(text, " \t\r\n")}
	b, err := engine.Check(src)
	if err != nil {
		s.printError(err)
		return nil
	}
	start := s.now()
	var p *progress
	var req engine.Request
	if s.tty {
		p = &progress{out: s.out, start: start, now: s.now}
		req.Progress = p.update
	}
	res, err := s.sess.Run(ctx, req, b)
	p.clear()
	elapsed := s.now().Sub(start)
	if err != nil {
		s.printError(err)
		return nil
	}
	s.last = res.Frame
	s.printResult(res.Frame, elapsed)
	if id, ok := engine.AsyncOperationID(res.Frame); ok {
		table := ""
		if in, ok := b.Command.(*parser.Ingest); ok {
			table = in.Table.String()
		}
		s.track(id, table)
		s.dim("operation %s runs in the background; the shell says when it ends.\n", id)
	}
	return nil
}

// progress shows a synchronous ingest's rows and elapsed time on one line that it rewrites,
// from a quarter second in (a quick command shows none) and at most ten times a second.
type progress struct {
	out         io.Writer
	start, last time.Time
	now         func() time.Time
	shown       bool
}

func (p *progress) update(rows int64) {
	now := p.now()
	if now.Sub(p.start) < 250*time.Millisecond || now.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last, p.shown = now, true
	fmt.Fprintf(p.out, "\r\x1b[2Kingesting: %s rows, %s (Ctrl-C cancels)", thousands(rows), formatElapsed(now.Sub(p.start)))
}

// clear erases the progress line, so the result prints where it was.
func (p *progress) clear() {
	if p != nil && p.shown {
		fmt.Fprint(p.out, "\r\x1b[2K")
	}
}

// track remembers an async operation started here so that its end is announced. An operation
// that ended before it was tracked is announced too.
func (s *Shell) track(id uuid.UUID, table string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mine[id] = started{table: table}
	if recs := s.eng.Ops().Latest([]uuid.UUID{id}); len(recs) == 1 && recs[0].State.Terminal() {
		delete(s.mine, id)
		s.pending = append(s.pending, notice{recs[0], started{table: table}})
	}
}

// finished is the ops watcher: it runs in the goroutine of the operation that ended and must
// not block. It queues the notice and shows it under the line being typed, in the editor's hint
// area, which is safe to update from any goroutine; the notice itself prints at the next prompt.
func (s *Shell) finished(r ops.Snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.mine[r.ID]
	if !ok {
		return
	}
	delete(s.mine, r.ID)
	s.pending = append(s.pending, notice{r, op})
	if s.rl == nil {
		return
	}
	// Under s.mu, so that announce, which clears the hint under it too, cannot be overtaken
	// and leave a hint for a notice it has already printed.
	hint := fmt.Sprintf("⚑ operation %s ended %s; details at the next prompt", r.ID, engine.KustoState(r.State))
	if len(s.pending) > 1 {
		hint = fmt.Sprintf("⚑ %d operations ended; details at the next prompt", len(s.pending))
	}
	s.rl.Hint.SetTransient(hint)
}

// announce prints the operations that ended since the last prompt.
func (s *Shell) announce() {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	if len(pending) > 0 && s.rl != nil {
		s.rl.Hint.ClearTransient()
	}
	s.mu.Unlock()
	for _, n := range pending {
		s.notice(n)
	}
}

func (s *Shell) notice(n notice) {
	r := n.rec
	var b strings.Builder
	fmt.Fprintf(&b, "operation %s (%s) ended %s", r.ID, r.Kind.Name, engine.KustoState(r.State))
	switch {
	case r.State == ops.Succeeded:
		if rows, ok := s.eng.IngestedRows(r.ID); ok {
			fmt.Fprintf(&b, ": %s ingested into %s", plural(rows, "row"), n.op.table)
		}
	case engine.KustoStatus(r) != "":
		fmt.Fprintf(&b, ": %s", engine.KustoStatus(r))
	}
	colour := green
	if r.State != ops.Succeeded {
		colour = yellow
	}
	fmt.Fprintln(s.out, s.paint(colour, "⚑ "+b.String()))
}
