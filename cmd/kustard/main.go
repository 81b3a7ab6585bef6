// Command kustard runs Kusto commands: `kustard run` for script files, `kustard exec` for one
// command, `kustard check` to parse and check without running, `kustard help --markdown` for
// the README's tables.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/render"
	"github.com/kustard/kustard/script"
	"github.com/kustard/kustard/store"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a command failed
	exitUsage  = 2 // a syntax or usage error
)

func main() {
	startupGC()
	// SIGTERM too, so that a server stopped by a supervisor (docker stop, systemd) shuts down
	// gracefully, and a script so stopped cancels its operations.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(runMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// startupGC lets the heap grow to 16 MB, not the runtime's 4, before the first collection, and
// then gives the collector back its setting. Start-up allocates about 4 MB, most of it garbage
// once the grammar is built, so a collection then would mark a heap that is all start-up: on two
// busy cores it cost a third of a cold `kustard exec` (the pipeline row of BENCHMARKS.md's cold
// start). A short run never collects; a long one collects as always after its first 16 MB. A
// GOGC the user set is left alone. The channel it returns is closed once the setting is back.
func startupGC() <-chan struct{} {
	restored := make(chan struct{})
	if os.Getenv("GOGC") != "" {
		close(restored)
		return restored
	}
	prev := debug.SetGCPercent(startupGCPercent)
	// The first collection finds the sentinel unreachable and queues its finalizer. It holds a
	// pointer so that it is not a tiny allocation, whose finalizer may never run.
	sentinel := &struct{ _ *int }{}
	runtime.SetFinalizer(sentinel, func(any) {
		debug.SetGCPercent(prev)
		close(restored)
	})
	return restored
}

// startupGCPercent makes the first collection's goal 16 MB: four times the runtime's minimum.
const startupGCPercent = 400

// cli holds one invocation's streams and settings, so tests can run kustard in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	exit           int

	// Engine settings, from flags.
	capacity       int
	cancelWait     time.Duration
	maxIngestBytes sizeFlag
	maxMemory      sizeFlag
	retention      time.Duration
	queryRetention time.Duration
	deterministic  bool
	dataDir        string                 // --data: the durable store's directory; "" keeps all in memory
	store          *store.Store           // open while an engine on --data is
	flagSet        func(name string) bool // whether the user gave a flag

	// newEngineOptions, when set by tests, supplies the clock and ids.
	testOptions func(*engine.Options)
	// engineMade, when set by tests, is given the server's engine before it is shut, so that a
	// test can read the operations' ends afterwards.
	engineMade func(*engine.Engine)
}

// runMain runs kustard with the given arguments and returns its exit code.
func runMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	return c.execute(ctx, args)
}

func (c *cli) execute(ctx context.Context, args []string) int {
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(c.stderr, "kustard: %v\n", err)
		return exitUsage
	}
	return c.exit
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "kustard",
		Short: "A local engine for Kusto commands and long-running operations",
		Long: `Kustard runs Kusto (Azure Data Explorer) management commands and queries locally:
start an ingest from query (.set-or-append async T <| query), watch it (.show operations)
and cancel it (.cancel operation <id> with (reason="…")).

With no arguments, kustard opens an interactive shell on a terminal, and otherwise runs
standard input as a script, each block as soon as it is complete.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := c.checkFlags(); err != nil {
				return err
			}
			// Let the garbage collector work harder as the heap nears the budget, rather than
			// let it double past it (unless GOMEMLIMIT says otherwise).
			if c.maxMemory == 0 {
				c.maxMemory = sizeFlag(engine.DefaultMaxMemory())
			}
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(int64(c.maxMemory))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f, ok := c.stdin.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
				return c.shell(cmd.Context())
			}
			return c.runScripts(cmd.Context(), []string{"-"}, render.Table, false, false)
		},
	}
	flags := root.PersistentFlags()
	flags.IntVar(&c.capacity, "capacity", 0, "ingest operations that may run at once (default CPUs-1, at least 1)")
	flags.DurationVar(&c.cancelWait, "cancel-wait", engine.DefaultCancelWait, "how long .cancel operation waits for the operation to stop; 0 returns at once")
	c.maxIngestBytes = engine.DefaultMaxIngestBytes
	flags.Var(&c.maxIngestBytes, "max-ingest-bytes", "the most memory one ingest from query may build, as the budget counts it")
	c.flagSet = flags.Changed
	flags.Var(&c.maxMemory, "max-memory", "the memory budget of every ingest, query and table, as 4GiB or 500MB (default half the machine's or the cgroup's memory)")
	flags.DurationVar(&c.retention, "operations-retention", ops.DefaultRetention, "how long .show operations keeps the records of operations")
	flags.DurationVar(&c.queryRetention, "queries-retention", engine.DefaultQueriesRetention, "how long .show queries keeps finished queries")
	flags.StringVar(&c.dataDir, "data", "", "keep databases, tables and operations in this directory, so that they come back at the next start (default: in memory only)")
	flags.BoolVar(&c.deterministic, "deterministic", false, "use a fixed clock (from 2024-01-01, one second per reading) and sequential ids, for reproducible output: operation ids 00000000-0000-0000-0000-000000000001, …2, … in the order operations start; other ids 10000000-0000-0000-0000-000000000001, …")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return fmt.Errorf("%w\n%s", err, cmd.UsageString()) })
	root.AddCommand(c.runCommand(), c.execCommand(), c.checkCommand(), c.serveCommand(), c.versionCommand())
	root.SetHelpCommand(c.helpCommand())
	return root
}

func formatFlag(cmd *cobra.Command, format *string) {
	cmd.Flags().StringVarP(format, "format", "f", string(render.Table), "output format: table, csv, json or markdown")
}

func (c *cli) runCommand() *cobra.Command {
	var format string
	var continueOnError, echo bool
	cmd := &cobra.Command{
		Use:   "run [flags] FILE...",
		Short: "Run Kusto scripts (- reads standard input)",
		Long: `Run Kusto scripts. Commands are blocks separated by blank lines; // lines are comments.
Each block runs as soon as it is complete and its output is flushed, so another program can
drive kustard through a pipe. A block of its own (blank lines before and after it) holding
#wait [OperationId …] waits for operations to finish; with no ids, for those the script started
with async.

Exit status: 0 when every command succeeds, 1 when a command failed or an operation a #wait
waited for did not succeed (Failed, BadInput, …; Canceled only if the script did not cancel it),
2 for a syntax or usage error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := render.ParseFormat(format)
			if err != nil {
				return err
			}
			return c.runScripts(cmd.Context(), args, f, continueOnError, echo)
		},
	}
	formatFlag(cmd, &format)
	cmd.Flags().BoolVar(&continueOnError, "continue-on-error", false, "keep running after a command fails")
	cmd.Flags().BoolVar(&echo, "echo", false, "print each command before its output")
	return cmd
}

func (c *cli) execCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "exec [flags] TEXT",
		Short: "Run one command or query",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := render.ParseFormat(format)
			if err != nil {
				return err
			}
			eng, err := c.newEngine()
			if err != nil {
				return err
			}
			defer c.closeEngine(eng)
			r := c.runner(eng, f, false, false)
			sum, err := r.Run(cmd.Context(), "<exec>", strings.NewReader(args[0]))
			c.exit = exitCode(sum)
			c.runFailed(err)
			return nil
		},
	}
	formatFlag(cmd, &format)
	return cmd
}

func (c *cli) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE...",
		Short: "Parse scripts without running them and report every syntax error",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := &script.Runner{Err: c.stderr}
			for _, name := range args {
				in, closeIn, err := c.open(name)
				if err != nil {
					return err
				}
				sum, err := r.Check(displayName(name), in)
				closeIn()
				if err != nil {
					return err
				}
				if sum.SyntaxErrors > 0 {
					c.exit = exitUsage
				}
			}
			return nil
		},
	}
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Kustard's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintf(c.stdout, "kustard %s\n", engine.Version)
		},
	}
}

// newEngine makes the engine from the flags; each of set adjusts its options after them.
// With --data it opens the data directory, which closeEngine (or shutEngine) releases.
func (c *cli) newEngine(set ...func(*engine.Options)) (*engine.Engine, error) {
	opts := engine.Options{
		Capacity: c.capacity, CancelWait: c.engineCancelWait(), MaxIngestBytes: int64(c.maxIngestBytes),
		MaxMemory: int64(c.maxMemory), Retention: c.retention, QueriesRetention: c.queryRetention,
	}
	if c.deterministic {
		opts.Clock = ops.NewStepClock(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Second)
		opts.IDs, opts.OperationIDs = ops.DeterministicIDs()
		opts.QueryIDs = &ops.SequentialIDs{Prefix: 0x20} // queries' ids, apart from the rest
		opts.User = "kustard"
		opts.RandomSeed = 1
	}
	for _, f := range set {
		f(&opts)
	}
	if c.testOptions != nil {
		c.testOptions(&opts)
	}
	if c.dataDir != "" {
		now := time.Now
		if opts.Clock != nil {
			now = opts.Clock.Now
		}
		st, err := store.Open(c.dataDir, store.Options{Now: now, Seen: continueAfter(opts)})
		if err != nil {
			return nil, err
		}
		opts.Store, opts.Operations = st.Catalog(), st.Operations()
		eng, err := engine.Open(opts)
		if err != nil {
			st.Close()
			return nil, err
		}
		c.store = st
		return eng, nil
	}
	return engine.New(opts), nil
}

// continueAfter makes the deterministic clock and id sources of opts (--deterministic) go on
// after what a data directory holds, so that a restarted deterministic run makes no id twice
// (a table or extent id made again would overwrite the stored one) and its times do not go
// back; nil when nothing in opts is deterministic.
func continueAfter(opts engine.Options) func(iter.Seq[uuid.UUID], time.Time) {
	type continuer interface{ ContinueAfter(uuid.UUID) }
	var seqs []continuer
	for _, src := range []ops.IDSource{opts.IDs, opts.OperationIDs, opts.QueryIDs} {
		if c, ok := src.(continuer); ok {
			seqs = append(seqs, c)
		}
	}
	clock, _ := opts.Clock.(interface{ ContinueAfter(time.Time) })
	if len(seqs) == 0 && clock == nil {
		return nil
	}
	return func(ids iter.Seq[uuid.UUID], latest time.Time) {
		for id := range ids {
			for _, s := range seqs {
				s.ContinueAfter(id)
			}
		}
		if clock != nil {
			clock.ContinueAfter(latest)
		}
	}
}

// closeStore releases the data directory, once its engine is closed.
func (c *cli) closeStore() {
	if c.store == nil {
		return
	}
	if err := c.store.Close(); err != nil {
		fmt.Fprintf(c.stderr, "kustard: %v\n", err)
	}
	c.store = nil
}

// closeEngine cancels the operations a script left running: their data lives in this process
// and would be lost with it anyway.
func (c *cli) closeEngine(eng *engine.Engine) {
	for _, op := range eng.Ops().Active() {
		fmt.Fprintf(c.stderr, "kustard: canceling operation %s (%s), still %s at exit: its data would end with the process\n",
			op.ID, op.Kind.Name, engine.KustoState(op.State))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := eng.Close(ctx); err != nil {
		fmt.Fprintf(c.stderr, "kustard: %v\n", err)
	}
	c.closeStore()
}

func (c *cli) runner(eng *engine.Engine, format render.Format, continueOnError, echo bool) *script.Runner {
	out := bufio.NewWriter(c.stdout)
	return &script.Runner{
		Session: eng.NewSession(), Out: out, Err: c.stderr, Format: format,
		ContinueOnError: continueOnError, Echo: echo, Flush: out.Flush,
	}
}

func (c *cli) runScripts(ctx context.Context, names []string, format render.Format, continueOnError, echo bool) error {
	eng, err := c.newEngine()
	if err != nil {
		return err
	}
	defer c.closeEngine(eng)
	r := c.runner(eng, format, continueOnError, echo)
	var total script.Summary
	for _, name := range names {
		in, closeIn, err := c.open(name)
		if err != nil {
			return err
		}
		sum, err := r.Run(ctx, displayName(name), in)
		closeIn()
		total.Blocks += sum.Blocks
		total.SyntaxErrors += sum.SyntaxErrors
		total.Failures += sum.Failures
		c.exit = exitCode(total)
		if err != nil {
			c.runFailed(err)
			return nil
		}
		if !sum.OK() && !continueOnError {
			break
		}
	}
	return nil
}

// runFailed reports a run that stopped on its own failure, not a command's: an interrupt, or
// output or input that could not be written or read (a full disk, a closed pipe). The run
// failed, which is exit status 1; 2 is for mistakes in how kustard was called.
func (c *cli) runFailed(err error) {
	switch {
	case err == nil:
		return
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(c.stderr, "kustard: interrupted")
	default:
		fmt.Fprintf(c.stderr, "kustard: %v\n", err)
	}
	c.exit = exitFailed
}

func exitCode(s script.Summary) int {
	switch {
	case s.SyntaxErrors > 0:
		return exitUsage
	case s.Failures > 0:
		return exitFailed
	}
	return exitOK
}

// displayName is how errors name a script: its path, or <stdin>.
func displayName(name string) string {
	if name == "-" {
		return "<stdin>"
	}
	return name
}

// open opens a script file, or standard input for "-".
func (c *cli) open(name string) (io.Reader, func(), error) {
	if name == "-" {
		return c.stdin, func() {}, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}
