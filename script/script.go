// Package script runs Kusto scripts: blocks separated by blank lines, each run as soon as it is
// complete and its result printed and flushed before the next block is read, so that another
// program can drive Kustard through a pipe. Lines starting with # are client directives, kept apart
// from Kusto commands as Kusto.Cli keeps them.
package script

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
	"github.com/kustard/kustard/render"
)

// Runner runs scripts in one session.
type Runner struct {
	Session *engine.Session
	Out     io.Writer // results
	Err     io.Writer // errors, with file:line:col and a caret
	Format  render.Format
	// Echo prints each block before its result, making the output a transcript.
	Echo bool
	// ContinueOnError runs the remaining blocks after one fails.
	ContinueOnError bool
	// Flush, when set, is called after each block so its output reaches the reader at once.
	Flush func() error
	// Render tunes table output.
	Render render.Options

	// started holds the async operations this runner started and has not yet waited for.
	started []uuid.UUID
	// canceled holds the operations this runner asked to cancel (.cancel operation): ending
	// Canceled is what the script asked of them, not a failure.
	canceled map[uuid.UUID]bool
}

// Summary counts what went wrong in a run.
type Summary struct {
	Blocks       int
	SyntaxErrors int // blocks that did not parse, and bad directives
	Failures     int // blocks that parsed but failed, and #waits for operations that did not succeed
}

// OK reports whether every block succeeded.
func (s Summary) OK() bool { return s.SyntaxErrors == 0 && s.Failures == 0 }

// errStop ends a run after a failure when ContinueOnError is off.
var errStop = errors.New("stopped after a failure")

// Run reads blocks from in and runs them. name is the file name shown in errors. It returns when
// the input ends, a block fails (unless ContinueOnError) or ctx is done.
func (r *Runner) Run(ctx context.Context, name string, in io.Reader) (Summary, error) {
	var sum Summary
	err := eachBlock(name, in, func(src *kusto.Source) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		sum.Blocks++
		err := r.block(ctx, src, &sum)
		if r.Flush != nil {
			if ferr := r.Flush(); ferr != nil {
				return ferr
			}
		}
		if err == nil && ctx.Err() != nil {
			return context.Cause(ctx) // before waiting for more input
		}
		return err
	})
	return sum, err
}

// Check parses every block of in and checks it against the engine's registries without running
// anything, and reports each syntax error.
func (r *Runner) Check(name string, in io.Reader) (Summary, error) {
	var sum Summary
	err := eachBlock(name, in, func(src *kusto.Source) error {
		sum.Blocks++
		var err error
		if directive, ok := directiveLine(src.Text); ok {
			_, err = parseDirective(src, directive)
		} else {
			_, err = check(src)
		}
		if err != nil {
			sum.SyntaxErrors++
			r.printError(err)
		}
		return nil
	})
	return sum, err
}

// eachBlock calls fn with each block of in, named name, as soon as the block is complete, until
// the input ends or fn returns an error; errStop ends it without one.
func eachBlock(name string, in io.Reader, fn func(src *kusto.Source) error) error {
	scanner := parser.NewBlockScanner(in)
	for {
		chunk, err := scanner.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		err = fn(&kusto.Source{Name: name, Text: chunk.Text, FirstLine: chunk.FirstLine})
		if errors.Is(err, errStop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (r *Runner) block(ctx context.Context, src *kusto.Source, sum *Summary) error {
	if r.Echo {
		r.echo(src.Text)
	}
	if directive, ok := directiveLine(src.Text); ok {
		d, err := parseDirective(src, directive)
		if err != nil {
			sum.SyntaxErrors++
			return r.fail(err)
		}
		return r.runDirective(ctx, src, d, sum)
	}
	b, err := check(src)
	if err != nil {
		sum.SyntaxErrors++
		return r.fail(err)
	}
	res, err := r.Session.Run(ctx, engine.Request{}, b)
	if err != nil {
		sum.Failures++
		return r.fail(err)
	}
	if id, ok := engine.AsyncOperationID(res.Frame); ok {
		r.started = append(r.started, id)
	}
	if id, ok := engine.CanceledOperationID(res.Frame); ok {
		if r.canceled == nil {
			r.canceled = map[uuid.UUID]bool{}
		}
		r.canceled[id] = true
	}
	return r.printResult(res.Frame, res.Visualization)
}

func (r *Runner) echo(text string) {
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(r.Out, "> %s\n", line)
	}
}

func (r *Runner) print(f *engine.Frame) error { return r.printResult(f, nil) }

// printResult prints a result; under a table, a line says that render's chart is not drawn
// (JSON and CSV, read by programs, stay as they are).
func (r *Runner) printResult(f *engine.Frame, vis *engine.Visualization) error {
	if err := render.Write(r.Out, r.Format, f, r.Render); err != nil {
		return err
	}
	if vis != nil && (r.Format == render.Table || r.Format == render.Markdown) {
		if _, err := fmt.Fprintf(r.Out, "(render %s: Kustard does not draw charts; the data is shown as it is)\n", vis.Visualization); err != nil {
			return err
		}
	}
	if r.Format == render.Table || r.Format == render.Markdown || r.Format == render.CSV {
		_, err := fmt.Fprintln(r.Out)
		return err
	}
	return nil
}

// fail reports a failed block: as Kusto's error object in JSON output, and always on the error
// stream with its position. It stops the run unless ContinueOnError.
func (r *Runner) fail(err error) error {
	if r.Format == render.JSON {
		if werr := render.WriteJSONError(r.Out, err); werr != nil {
			return werr
		}
	}
	r.printError(err)
	if r.ContinueOnError {
		return nil
	}
	return errStop
}

func (r *Runner) printError(err error) {
	var perr *kusto.Error
	if errors.As(err, &perr) {
		fmt.Fprintf(r.Err, "%s\n", perr.Detail())
		return
	}
	fmt.Fprintf(r.Err, "%v\n", err)
}

// check checks a block that is not a directive. A line starting with # inside it is a directive
// that lacks the blank line before it: the lexer would call it an unexpected character.
func check(src *kusto.Source) (*parser.Block, error) {
	b, err := engine.Check(src)
	var perr *kusto.Error
	if errors.As(err, &perr) && perr.Src == src && directiveAt(src.Text, perr.Offset) {
		return nil, kusto.Errorf(kusto.KindSyntax, src, perr.Offset, "a directive must be a block of its own; put a blank line before it")
	}
	return b, err
}

// directiveAt reports whether a line of text starts, but for blanks, with # at offset.
func directiveAt(text string, offset int) bool {
	if offset < 0 || offset >= len(text) || text[offset] != '#' {
		return false
	}
	start := strings.LastIndexByte(text[:offset], '\n') + 1
	return strings.TrimSpace(text[start:offset]) == ""
}

// Directives.

// directive is a parsed client directive.
type directive struct {
	name   string
	args   []string
	at     int   // offset of the directive in its source
	argsAt []int // offset of each argument in its source
}

// argAt is the offset of argument i, or of the directive when it has none.
func (d *directive) argAt(i int) int {
	if i < len(d.argsAt) {
		return d.argsAt[i]
	}
	return d.at
}

// directiveLine returns the first line of a block that starts with #, skipping comment lines.
func directiveLine(text string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		return t, strings.HasPrefix(t, "#")
	}
	return "", false
}

// Directives lists the client directives a script may use, with their synopses.
var Directives = map[string]string{
	"#wait": "#wait [OperationId …]  waits for the operations (if none are named, those the script started with async) to finish and shows their final state",
}

func parseDirective(src *kusto.Source, line string) (*directive, error) {
	at := strings.Index(src.Text, line)
	if strings.Count(strings.TrimSpace(src.Text), "\n") > strings.Count(line, "\n") && !onlyCommentsAfter(src.Text, at+len(line)) {
		return nil, kusto.Errorf(kusto.KindSyntax, src, at, "a directive must be alone in its block; put a blank line after it")
	}
	fields := strings.Fields(line)
	d := &directive{name: fields[0], args: fields[1:], at: at}
	if _, ok := Directives[d.name]; !ok {
		return nil, kusto.Errorf(kusto.KindSyntax, src, at, "unknown directive %q; scripts accept #wait", d.name)
	}
	rest := len(fields[0]) // where the search for the next argument starts, in line
	for _, a := range d.args {
		off := rest + strings.Index(line[rest:], a)
		rest = off + len(a)
		d.argsAt = append(d.argsAt, at+off)
		if _, err := uuid.Parse(a); err != nil || len(a) != 36 {
			return nil, kusto.Errorf(kusto.KindSyntax, src, at+off, "%q is not an operation id", a)
		}
	}
	return d, nil
}

func onlyCommentsAfter(text string, off int) bool {
	for _, line := range strings.Split(text[off:], "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "//") {
			return false
		}
	}
	return true
}

func (r *Runner) runDirective(ctx context.Context, src *kusto.Source, d *directive, sum *Summary) error {
	reg := r.Session.Engine().Ops()
	var ids []uuid.UUID
	for _, a := range d.args {
		ids = append(ids, uuid.MustParse(a))
	}
	if len(ids) == 0 {
		// Only the script's own operations: waiting for whatever happens to be running would
		// make the output depend on timing.
		ids, r.started = r.started, nil
	}
	var failed []string // how the operations that did not succeed ended
	failedAt, kind := d.at, kusto.KindInternal
	for i, id := range ids {
		snap, err := reg.Wait(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			sum.Failures++
			return r.fail(kusto.Errorf(kusto.KindNotFound, src, d.argAt(i), "#wait: %v", err))
		}
		if r.failedEnd(snap) {
			if len(failed) == 0 {
				failedAt, kind = d.argAt(i), endKind(snap)
			}
			how := fmt.Sprintf("operation %s ended %s", id, engine.KustoState(snap.State))
			if status := engine.KustoStatus(snap); status != "" {
				how += ": " + status
			}
			failed = append(failed, how)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.String()
	}
	res, err := r.Session.Execute(ctx, engine.Request{}, &kusto.Source{Text: ".show operations (" + strings.Join(names, ", ") + ")"})
	if err != nil {
		sum.Failures++
		return r.fail(err)
	}
	if err := r.print(res.Frame); err != nil {
		return err
	}
	if len(failed) > 0 {
		// The run fails as a failed command does, so that CI sees an ingest that failed.
		sum.Failures++
		return r.fail(kusto.Errorf(kind, src, failedAt, "#wait: %s", strings.Join(failed, "; ")))
	}
	return nil
}

// failedEnd reports whether an operation a script waited for ended in failure. Completed and
// Skipped are successes: a skip is what ingestIfNotExists asks for. Canceled is a success only
// when this script asked for it with .cancel operation: a cancel the script did not make (at
// shutdown, say) means the work it waited for was not done. Every other end (Failed, BadInput,
// PartiallySucceeded, Abandoned, Throttled) means data the script meant to ingest is missing.
// endKind is the kind of error an operation's end is reported as: its own error's kind, when it
// has one.
func endKind(s ops.Snapshot) kusto.Kind {
	var kerr *kusto.Error
	switch {
	case errors.As(s.Err, &kerr):
		return kerr.Kind
	case s.State == ops.Canceled:
		return kusto.KindCanceled
	case s.State == ops.Throttled:
		return kusto.KindThrottled
	}
	return kusto.KindInternal
}

func (r *Runner) failedEnd(s ops.Snapshot) bool {
	switch s.State {
	case ops.Succeeded, ops.Skipped:
		return false
	case ops.Canceled:
		return !r.canceled[s.ID]
	}
	return true
}
