// Package render prints engine results for people and programs: aligned tables (tablewriter),
// CSV, markdown, and Kusto's v1 REST JSON, plus Kusto's JSON error object. The CLI, the shell and
// the servers all print through it, so a result looks the same from every front door.
package render

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Format is an output format.
type Format string

const (
	Table    Format = "table"
	CSV      Format = "csv"
	JSON     Format = "json"
	Markdown Format = "markdown"
)

// Formats lists the formats, for help and completion.
var Formats = []Format{Table, CSV, JSON, Markdown}

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q; expected table, csv, json or markdown", s)
}

// Options tune table output for a terminal.
type Options struct {
	// MaxCellWidth shortens longer cells with an ellipsis; 0 keeps them whole.
	MaxCellWidth int
}

// Write prints a frame in format f.
func Write(w io.Writer, f Format, frame *engine.Frame, opts Options) error {
	switch f {
	case CSV:
		return writeCSV(w, frame)
	case JSON:
		return WriteJSON(w, frame)
	case Markdown:
		return writeMarkdown(w, frame)
	default:
		return writeTable(w, frame, opts)
	}
}

// cell renders one value as text.
func cell(frame *engine.Frame, row, col int) string {
	return kusto.FormatValue(frame.Value(row, col))
}

func header(frame *engine.Frame) []string {
	out := make([]string, len(frame.Schema))
	for i, c := range frame.Schema {
		out[i] = c.Name
	}
	return out
}

func shorten(s string, width int) string {
	if width <= 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\n", "⏎")
	if r := []rune(s); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}

func writeTable(w io.Writer, frame *engine.Frame, opts Options) error {
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	)
	t.Header(anySlice(header(frame))...)
	for r := range frame.Rows {
		row := make([]string, len(frame.Schema))
		for c := range row {
			row[c] = shorten(cell(frame, r, c), opts.MaxCellWidth)
		}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func writeCSV(w io.Writer, frame *engine.Frame) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header(frame)); err != nil {
		return err
	}
	for r := range frame.Rows {
		row := make([]string, len(frame.Schema))
		for c := range row {
			row[c] = cell(frame, r, c)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// markdownEscaper keeps a cell on one line and out of the table's syntax.
var markdownEscaper = strings.NewReplacer("|", `\|`, "\n", "<br>", "\r", "")

func writeMarkdown(w io.Writer, frame *engine.Frame) error {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + markdownEscaper.Replace(c) + " |")
		}
		b.WriteString("\n")
	}
	line(header(frame))
	sep := make([]string, len(frame.Schema))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for r := range frame.Rows {
		row := make([]string, len(frame.Schema))
		for c := range row {
			row[c] = cell(frame, r, c)
		}
		line(row)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// v1 JSON shapes, as Kusto's /v1/rest/mgmt returns them.
type (
	v1Response struct {
		Tables []v1Table `json:"Tables"`
	}
	v1Table struct {
		TableName string     `json:"TableName"`
		Columns   []v1Column `json:"Columns"`
		Rows      [][]any    `json:"Rows"`
	}
	v1Column struct {
		ColumnName string `json:"ColumnName"`
		DataType   string `json:"DataType"`
		ColumnType string `json:"ColumnType"`
	}
)

// WriteJSON prints a frame as one line of Kusto v1 REST JSON, a single table named Table_0.
func WriteJSON(w io.Writer, frame *engine.Frame) error {
	return writeJSONLine(w, v1Response{Tables: []v1Table{V1Table("Table_0", frame)}})
}

// V1Table converts a frame to the v1 JSON table shape.
func V1Table(name string, frame *engine.Frame) v1Table {
	t := v1Table{TableName: name, Columns: make([]v1Column, len(frame.Schema)), Rows: make([][]any, frame.Rows)}
	for i, c := range frame.Schema {
		t.Columns[i] = v1Column{ColumnName: c.Name, DataType: kusto.DotNetType(c.Type), ColumnType: c.Type.String()}
	}
	for r := range frame.Rows {
		row := make([]any, len(frame.Schema))
		for c := range row {
			row[c] = JSONValue(frame.Value(r, c))
		}
		t.Rows[r] = row
	}
	return t
}

// JSONValue converts a value to what Kusto's JSON holds: datetimes, timespans and guids as
// strings, dynamic values as JSON, reals that JSON cannot hold as their names.
func JSONValue(v any) any {
	switch v := v.(type) {
	case kusto.DateTime, kusto.Timespan, uuid.UUID:
		return kusto.FormatValue(v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return kusto.FormatReal(v)
		}
		return v
	case map[string]any, []any:
		return json.RawMessage(kusto.DynamicJSON(v))
	}
	return v
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
