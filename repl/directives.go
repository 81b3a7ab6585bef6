package repl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/render"
	"github.com/kustard/kustard/script"
)

// Client directives are the shell's own commands. They start with '#', as Kusto.Cli's do, so
// they can never be mistaken for a Kusto command (which starts with '.') or a query.

// directive is one client directive.
type directive struct {
	name    string
	args    string // shown in help
	summary string
	run     func(s *Shell, ctx context.Context, args []string) error
}

// errQuit asks the shell to end.
var errQuit = errors.New("quit")

var directives []directive

func init() {
	// Assigned in init: #help reads the list it is part of.
	directives = []directive{
		{"#help", "[COMMAND | #DIRECTIVE]", "show this help, or a command's synopsis, properties and result", (*Shell).help},
		{"#quit", "", "leave the shell (Ctrl-D too)", (*Shell).quit},
		{"#exit", "", "same as #quit", (*Shell).quit},
		{"#format", "[table|csv|json|markdown]", "show or set how results print", (*Shell).setFormat},
		{"#timing", "[on|off]", "show or set whether the elapsed time follows each result", (*Shell).setTiming},
		{"#maxrows", "[N]", "show or set the rows a result shows before it is cut (0: all)", (*Shell).setMaxRows},
		{"#run", "FILE", "run a script: blocks separated by blank lines", (*Shell).runFile},
		{"#save", "FILE", "save the last result whole; .csv, .json and .md pick the format", (*Shell).save},
		{"#database", "[NAME]", "show or change the current database", (*Shell).useDatabase},
	}
}

func findDirective(name string) (directive, bool) {
	for _, d := range directives {
		if d.name == name {
			return d, true
		}
	}
	return directive{}, false
}

// runDirective runs one directive line.
func (s *Shell) runDirective(ctx context.Context, line string) error {
	fields := strings.Fields(line)
	d, ok := findDirective(fields[0])
	if !ok {
		names := make([]string, len(directives))
		for i, d := range directives {
			names[i] = d.name
		}
		return fmt.Errorf("unknown directive %q; the shell knows %s (#help explains them)", fields[0], strings.Join(names, ", "))
	}
	return d.run(s, ctx, fields[1:])
}

// usageError reports a directive used with the wrong arguments.
func usageError(name string, format string, args ...any) error {
	d, _ := findDirective(name)
	return fmt.Errorf("%s; usage: %s", fmt.Sprintf(format, args...), strings.TrimSpace(d.name+" "+d.args))
}

func (s *Shell) quit(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usageError("#quit", "#quit takes no arguments")
	}
	return errQuit
}

func (s *Shell) setFormat(ctx context.Context, args []string) error {
	switch len(args) {
	case 0:
		fmt.Fprintf(s.out, "format: %s\n", s.format)
		return nil
	case 1:
		f, err := render.ParseFormat(args[0])
		if err != nil {
			return usageError("#format", "%v", err)
		}
		s.format = f
		fmt.Fprintf(s.out, "format: %s\n", f)
		return nil
	}
	return usageError("#format", "#format takes one format")
}

func (s *Shell) setTiming(ctx context.Context, args []string) error {
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "on":
		s.timing = true
	case len(args) == 1 && args[0] == "off":
		s.timing = false
	default:
		return usageError("#timing", "#timing takes on or off, not %q", strings.Join(args, " "))
	}
	fmt.Fprintf(s.out, "timing: %s\n", onOff(s.timing))
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (s *Shell) setMaxRows(ctx context.Context, args []string) error {
	switch len(args) {
	case 0:
	case 1:
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 0 {
			return usageError("#maxrows", "%q is not a number of rows", args[0])
		}
		s.maxRows = n
	default:
		return usageError("#maxrows", "#maxrows takes one number")
	}
	if s.maxRows == 0 {
		fmt.Fprintln(s.out, "maxrows: 0 (results print whole)")
	} else {
		fmt.Fprintf(s.out, "maxrows: %d\n", s.maxRows)
	}
	return nil
}

func (s *Shell) useDatabase(ctx context.Context, args []string) error {
	switch len(args) {
	case 0:
		var names []string
		for _, db := range s.eng.Databases() {
			names = append(names, db.Name)
		}
		slices.Sort(names)
		fmt.Fprintf(s.out, "database: %s (databases: %s)\n", s.sess.Database, strings.Join(names, ", "))
		return nil
	case 1:
		db, ok := s.eng.Database(args[0])
		if !ok {
			return fmt.Errorf("database %q does not exist; #database lists them", args[0])
		}
		s.sess.Database = db.Name
		fmt.Fprintf(s.out, "database: %s\n", db.Name)
		return nil
	}
	return usageError("#database", "#database takes one name")
}

// runFile runs a script in this shell's session, as `kustard run` would: it stops at the first
// failure. Operations it starts with async are announced when they end, like the shell's own.
func (s *Shell) runFile(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("#run", "#run takes one file")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	before := map[uuid.UUID]bool{}
	for _, r := range s.eng.Ops().Active() {
		before[r.ID] = true
	}
	r := &script.Runner{
		Session: s.sess, Out: s.out, Err: s.out, Format: s.format,
		Render: render.Options{MaxCellWidth: max(20, s.width()/4)},
	}
	sum, err := r.Run(ctx, args[0], f)
	for _, rec := range s.eng.Ops().Active() {
		if !before[rec.ID] {
			s.track(rec.ID, "")
		}
	}
	if err != nil {
		return err
	}
	if !sum.OK() {
		return fmt.Errorf("%s stopped after a failure (%d of its blocks ran)", args[0], sum.Blocks)
	}
	fmt.Fprintf(s.out, "%s: %d blocks ran\n", args[0], sum.Blocks)
	return nil
}

// save writes the last result whole, in the format its extension names, or the shell's format.
func (s *Shell) save(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return usageError("#save", "#save takes one file")
	}
	if s.last == nil {
		return errors.New("#save: there is no result to save yet")
	}
	format := s.format
	switch strings.ToLower(filepath.Ext(args[0])) {
	case ".csv":
		format = render.CSV
	case ".json":
		format = render.JSON
	case ".md", ".markdown":
		format = render.Markdown
	case ".txt":
		format = render.Table
	}
	f, err := os.Create(args[0])
	if err != nil {
		return err
	}
	werr := render.Write(f, format, s.last, render.Options{})
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return werr
	}
	fmt.Fprintf(s.out, "saved %s to %s (%s)\n", plural(int64(s.last.Rows), "row"), args[0], format)
	return nil
}

// help prints the directives and the command registry, or the entries that match args.
func (s *Shell) help(ctx context.Context, args []string) error {
	if len(args) == 0 {
		s.helpAll()
		return nil
	}
	topic := strings.ToLower(strings.Join(args, " "))
	if strings.HasPrefix(topic, "#") {
		d, ok := findDirective(topic)
		if !ok {
			return fmt.Errorf("#help: no directive %s; #help lists them", topic)
		}
		fmt.Fprintf(s.out, "%s %s\n  %s\n", d.name, d.args, d.summary)
		return nil
	}
	if !strings.HasPrefix(topic, ".") {
		topic = "." + topic
	}
	var found []*engine.CommandInfo
	for _, info := range engine.Commands() {
		if strings.HasPrefix(strings.ToLower(info.Name), topic) {
			found = append(found, info)
		}
	}
	if len(found) == 0 {
		return fmt.Errorf("#help: no command starts with %q; #help lists them", topic)
	}
	for i, info := range found {
		if i > 0 {
			fmt.Fprintln(s.out)
		}
		s.helpCommand(info)
	}
	return nil
}

func (s *Shell) helpAll() {
	w := s.out
	fmt.Fprintln(w, "Commands (run one with Enter; Tab completes names, tables, columns and operation ids):")
	width := 0
	for _, info := range engine.Commands() {
		width = max(width, len(info.Name))
	}
	for _, info := range engine.Commands() {
		fmt.Fprintf(w, "  %-*s  %s\n", width, info.Name, info.Summary)
	}
	var operators []string
	for _, op := range engine.Operators() {
		operators = append(operators, op.Name)
	}
	fmt.Fprintf(w, "\nQueries: a table, range, print, datatable or union, then | %s.\n", strings.Join(operators, ", "))
	fmt.Fprintln(w, "\nDirectives (the shell's own; #help COMMAND shows a command's synopsis and properties):")
	width = 0
	for _, d := range directives {
		width = max(width, len(d.name)+1+len(d.args))
	}
	for _, d := range directives {
		fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(d.name+" "+d.args), d.summary)
	}
	fmt.Fprintln(w, "\nKeys: Enter runs a complete command and continues an unfinished one; a blank line runs")
	fmt.Fprintln(w, "what was typed. Tab completes, Ctrl-R searches history, Ctrl-C cancels the running command")
	fmt.Fprintln(w, "or clears the line, Ctrl-D exits. Emacs editing keys work; ~/.inputrc is read.")
}

func (s *Shell) helpCommand(info *engine.CommandInfo) {
	w := s.out
	fmt.Fprintf(w, "%s\n  %s\n", info.Synopsis, info.Summary)
	if len(info.Properties) > 0 {
		fmt.Fprintln(w, "  Properties (with (name = value, …)):")
		for _, p := range info.Properties {
			fmt.Fprintf(w, "    %-18s %-7s %s\n", p.Name, p.Type, p.Doc)
		}
	}
	if len(info.Result) > 0 {
		cols := make([]string, len(info.Result))
		for i, c := range info.Result {
			cols[i] = c.Name + ":" + c.Type.String()
		}
		fmt.Fprintf(w, "  Returns: %s\n", strings.Join(cols, ", "))
	}
}
