package repl

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/render"
)

// ANSI colours, used only when the terminal takes them and NO_COLOR is unset (no-color.org).
const (
	red    = "\x1b[31m"
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	faint  = "\x1b[2m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

func (s *Shell) paint(colour, text string) string {
	if !s.color {
		return text
	}
	return colour + text + reset
}

// dim prints a remark that is not part of a result: row counts, timings, hints.
func (s *Shell) dim(format string, args ...any) {
	fmt.Fprintln(s.out, s.paint(faint, strings.TrimRight(fmt.Sprintf(format, args...), "\n")))
}

// printError shows an error with its place: the source line and a caret under the offending
// token. A canceled command is not an error of the user's and reads as a notice.
func (s *Shell) printError(err error) {
	var perr *kusto.Error
	if !errors.As(err, &perr) {
		fmt.Fprintln(s.out, s.paint(red, "error: "+err.Error()))
		return
	}
	if perr.Kind == kusto.KindCanceled {
		fmt.Fprintln(s.out, s.paint(yellow, perr.Msg))
		return
	}
	lines := strings.Split(perr.Detail(), "\n")
	for i, line := range lines {
		switch {
		case i == 0:
			line = s.paint(red, line)
		case i == len(lines)-1 && len(lines) == 3:
			line = s.paint(bold+red, line) // the caret
		}
		fmt.Fprintln(s.out, line)
	}
}

// printResult prints a result in the shell's format, cut to maxRows, with its row count and, if
// timing is on, the time it took.
func (s *Shell) printResult(f *engine.Frame, elapsed time.Duration) {
	rows := f.Rows
	if s.maxRows > 0 && rows > s.maxRows {
		rows = s.maxRows
	}
	var err error
	var hidden []string
	if s.format == render.Table {
		var shown *engine.Frame
		shown, hidden = fitTable(f, rows, s.width())
		err = render.Write(s.out, render.Table, shown, render.Options{})
	} else {
		// A shallow copy with fewer rows: renderers read rows [0, Rows) only.
		err = render.Write(s.out, s.format, &engine.Frame{Schema: f.Schema, Cols: f.Cols, Rows: rows}, render.Options{})
	}
	if err != nil {
		s.printError(err)
		return
	}
	if len(hidden) > 0 {
		s.dim("%s hidden to fit: %s (| project chooses)",
			plural(int64(len(hidden)), "column"), strings.Join(hidden, ", "))
	}
	if rows < f.Rows {
		s.dim("showing the first %d of %s; #maxrows N shows more, #save FILE keeps them all", rows, plural(int64(f.Rows), "row"))
	}
	footer := plural(int64(f.Rows), "row")
	if s.timing {
		footer += ", " + formatElapsed(elapsed)
	}
	s.dim("(%s)", footer)
}

// minCell is the narrowest a text column is shortened to.
const minCell = 12

// fitTable prepares the first rows of f for a terminal width: every cell on one line, long text
// cells shortened with an ellipsis, and, if the columns still do not fit, some left out. Only
// string and dynamic cells are shortened: a guid or a datetime cut short is no use to anyone. It
// returns the frame to print and the columns left out.
func fitTable(f *engine.Frame, rows, width int) (*engine.Frame, []string) {
	n := len(f.Schema)
	cells := make([][]string, n)
	natural := make([]int, n) // widest cell or header
	header := make([]int, n)
	empty := make([]bool, n)
	for c, col := range f.Schema {
		header[c] = utf8.RuneCountInString(col.Name)
		natural[c] = header[c]
		empty[c] = true
		cells[c] = make([]string, rows)
		for r := range rows {
			v := oneLine(kusto.FormatValue(f.Value(r, c)))
			cells[c][r] = v
			natural[c] = max(natural[c], utf8.RuneCountInString(v))
			empty[c] = empty[c] && v == ""
		}
	}
	shrinks := func(c int) bool {
		t := f.Schema[c].Type
		return t == kusto.TypeString || t == kusto.TypeDynamic
	}
	colWidth := func(c, limit int) int {
		if !shrinks(c) {
			return natural[c]
		}
		return max(header[c], min(natural[c], limit))
	}
	// A table is │ a │ b │: three columns of rule and padding per column, and one more.
	total := func(cols []int, limit int) int {
		w := 1
		for _, c := range cols {
			w += colWidth(c, limit) + 3
		}
		return w
	}
	cols := make([]int, 0, n)
	for c := range n {
		cols = append(cols, c)
	}
	var hidden []string
	widest := 0
	for _, w := range natural {
		widest = max(widest, w)
	}
	limit := widest
	if total(cols, widest) > width {
		// Leave columns out until the rest fit at the narrowest: first the empty ones, then
		// guids after the first column (activity and correlation ids, wide and rarely read),
		// then from the right.
		drop := make([]int, 0, n)
		for c := range n {
			if empty[c] && rows > 0 {
				drop = append(drop, c)
			}
		}
		for c := 1; c < n; c++ {
			if f.Schema[c].Type == kusto.TypeGUID && !(empty[c] && rows > 0) {
				drop = append(drop, c)
			}
		}
		for c := n - 1; c > 0; c-- {
			if !slices.Contains(drop, c) {
				drop = append(drop, c)
			}
		}
		out := map[int]bool{}
		for _, c := range drop {
			if len(cols) <= 1 || total(cols, minCell) <= width {
				break
			}
			out[c] = true
			cols = slices.DeleteFunc(cols, func(k int) bool { return k == c })
		}
		for c := range n {
			if out[c] {
				hidden = append(hidden, f.Schema[c].Name)
			}
		}
		// The widest limit that fits: total grows with the limit, so search for it.
		lo, hi := minCell, widest
		for lo < hi {
			mid := (lo + hi + 1) / 2
			if total(cols, mid) <= width {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		limit = lo
	}
	schema := make(engine.Schema, len(cols))
	vectors := make([]engine.Column, len(cols))
	for i, c := range cols {
		schema[i] = engine.ColumnSchema{Name: f.Schema[c].Name, Type: kusto.TypeString}
		data := cells[c]
		if shrinks(c) {
			for r, v := range data {
				data[r] = shorten(v, colWidth(c, limit))
			}
		}
		vectors[i] = engine.NewVector(kusto.TypeString, data, nil)
	}
	return &engine.Frame{Schema: schema, Cols: vectors, Rows: rows}, hidden
}

// oneLine keeps a cell on one line of the table.
var oneLine = strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "", "\t", " ").Replace

func shorten(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:max(0, width-1)]) + "…"
}

// thousands writes n with thousands separators: 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// plural counts n things: plural(1, "row") is "1 row", plural(3, "row") "3 rows";
// plural(2, "operation is", "operations are") takes the plural form given.
func plural(n int64, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return thousands(n) + " " + many[0]
	}
	return thousands(n) + " " + one + "s"
}

// formatElapsed rounds a duration to what a person reads: 12ms, 1.25s, 3m05s.
func formatElapsed(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}
