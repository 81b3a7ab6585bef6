package kusto

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// Source is a named piece of Kusto text. Errors keep a pointer to it so that a byte offset can be
// shown as file:line:col with the offending line and a caret.
type Source struct {
	Name string // shown in errors; empty for text typed at a prompt
	Text string
	// FirstLine is the line number of Text's first line in the file it came from, so that a block
	// cut out of a script reports the script's line numbers. Zero means 1.
	FirstLine int
}

// Position returns the 1-based line and column (in characters) of a byte offset in s.Text.
func (s *Source) Position(offset int) (line, col int) {
	offset = max(0, min(offset, len(s.Text)))
	before := s.Text[:offset]
	line = strings.Count(before, "\n") + max(1, s.FirstLine)
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCountInString(before[lineStart:]) + 1
}

// lineAt returns the whole line holding offset and the offset's byte index within it.
func (s *Source) lineAt(offset int) (text string, index int) {
	offset = max(0, min(offset, len(s.Text)))
	start := strings.LastIndexByte(s.Text[:offset], '\n') + 1
	end := strings.IndexByte(s.Text[offset:], '\n')
	if end < 0 {
		end = len(s.Text)
	} else {
		end += offset
	}
	// The caret may stand on the line's \r, which is not shown: keep it at the end of the line.
	line := strings.TrimSuffix(s.Text[start:end], "\r")
	return line, min(offset-start, len(line))
}

// Kind says what sort of failure an Error reports; front doors map it to exit codes, HTTP statuses
// and Kusto's error codes.
type Kind int

const (
	// KindSyntax: the text is not a well-formed command or query.
	KindSyntax Kind = iota
	// KindSemantic: well-formed, but it names a column that does not exist, mixes types, etc.
	KindSemantic
	// KindNotFound: a table, database or operation that does not exist.
	KindNotFound
	// KindConflict: the entity already exists or is in a state that forbids the command.
	KindConflict
	// KindCanceled: the command was canceled while it ran.
	KindCanceled
	// KindThrottled: the command was refused for lack of capacity.
	KindThrottled
	// KindInternal: a fault of Kustard's own.
	KindInternal
	// KindLimits: the command went past a limit (result size, ingest size).
	KindLimits
	// KindRuntime: the query failed while it ran, as an arithmetic overflow does (a partial
	// query failure, in Kusto's words).
	KindRuntime
	// KindUnavailable: the service cannot take requests now (a stopped node); retrying later
	// may succeed.
	KindUnavailable
)

var kindNames = [...]string{"syntax error", "semantic error", "not found", "conflict", "canceled", "throttled", "internal error", "limits exceeded", "runtime error", "service unavailable"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is the one error type of Kustard: a message about a place in a Source. Parser, engine and
// front doors all report through it so that every failure can point at the text that caused it.
type Error struct {
	Kind   Kind
	Msg    string
	Offset int     // byte offset into Src.Text; negative when the error has no place
	Src    *Source // nil when the error has no place
	// Unfinished marks a text that ended inside a construct more text could close (a multi-line
	// string, a dynamic literal), so that a shell keeps reading rather than report it.
	Unfinished bool
}

// MarkUnfinished marks e as Unfinished and returns it.
func (e *Error) MarkUnfinished() *Error {
	e.Unfinished = true
	return e
}

// Errorf returns an Error of the given kind at offset in src.
func Errorf(kind Kind, src *Source, offset int, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Offset: offset, Src: src}
}

// Error returns "file:line:col: message", or just the message when there is no place. Control
// characters and invalid UTF-8 that the message quotes from the input are shown escaped, as
// Detail shows them, so that an error cannot drive a terminal or break a log line's encoding.
func (e *Error) Error() string {
	if !e.hasPlace() {
		return escapeMessage(e.Msg)
	}
	line, col := e.Src.Position(e.Offset)
	name := e.Src.Name
	if name == "" {
		name = "<input>"
	}
	return escapeMessage(fmt.Sprintf("%s:%d:%d: %s", name, line, col, e.Msg))
}

func (e *Error) hasPlace() bool { return e.Src != nil && e.Offset >= 0 }

// Detail renders the error for a person: the Error() line, then the offending line and a caret
// under the offending character. A long line is cut to a window around the caret, marked with
// ellipses; control characters and invalid UTF-8 are shown escaped (\x1b), so that hostile input
// cannot drive the terminal; tabs are kept, in the caret line too, and wide (CJK) characters
// count two columns, so that the caret lines up.
func (e *Error) Detail() string {
	if !e.hasPlace() {
		return e.Error()
	}
	text, index := e.Src.lineAt(e.Offset)
	line, pad := window(text, index)
	return fmt.Sprintf("%s\n    %s\n    %s^", e.Error(), line, pad)
}

// The window of a line that Detail shows, in terminal columns either side of the caret.
const (
	windowBefore = 120
	windowAfter  = 80
)

// window returns the part of text around byte index, escaped for display, and the padding that
// puts a caret under index.
func window(text string, index int) (line, pad string) {
	var before []string // display pieces before index, nearest first
	width, start := 0, index
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(text[:start])
		piece, w := displayRune(r, size, text[start-size])
		if width+w > windowBefore {
			break
		}
		before = append(before, piece)
		width += w
		start -= size
	}
	var b, p strings.Builder
	if start > 0 {
		b.WriteString("…")
		p.WriteByte(' ')
	}
	for i := len(before) - 1; i >= 0; i-- {
		piece := before[i]
		b.WriteString(piece)
		if piece == "\t" {
			p.WriteByte('\t')
		} else {
			p.WriteString(strings.Repeat(" ", displayWidth(piece)))
		}
	}
	width = 0
	end := index
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		piece, w := displayRune(r, size, text[end])
		if width+w > windowAfter {
			break
		}
		b.WriteString(piece)
		width += w
		end += size
	}
	if end < len(text) {
		b.WriteString("…")
	}
	return b.String(), p.String()
}

// displayRune returns how a rune of source text is shown, and its width in terminal columns:
// itself, or an escape for a control character or an invalid byte (first).
func displayRune(r rune, size int, first byte) (string, int) {
	switch {
	case r == utf8.RuneError && size == 1:
		return fmt.Sprintf("\\x%02x", first), 4
	case r == '\t':
		return "\t", 4 // a terminal's tab stop; the caret line keeps the tab itself
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		s := fmt.Sprintf("\\x%02x", r)
		if r >= 0x80 {
			s = fmt.Sprintf("\\u%04x", r)
		}
		return s, len(s)
	}
	return string(r), runewidth.RuneWidth(r)
}

func displayWidth(piece string) int {
	r, size := utf8.DecodeRuneInString(piece)
	if size == len(piece) {
		_, w := displayRune(r, size, piece[0])
		return w
	}
	return len(piece) // an escape
}

// escapeMessage escapes the control characters (but newlines and tabs) and invalid UTF-8 of a
// message, which may quote hostile input.
func escapeMessage(s string) string {
	clean := true
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") || r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '\n' || r == '\t' {
			b.WriteRune(r)
		} else {
			piece, _ := displayRune(r, size, s[i])
			b.WriteString(piece)
		}
		i += size
	}
	return b.String()
}

// Place sets the source of an error that was made without one (for instance by a helper that only
// knew an offset) and returns it.
func (e *Error) Place(src *Source) *Error {
	if e.Src == nil {
		e.Src = src
	}
	return e
}

// Status is the message alone, as an operation's Status column shows it.
func (e *Error) Status() string { return e.Msg }

// BadInput reports whether the input is at fault (a malformed, meaningless or dangling
// reference), so that an operation ends BadInput rather than Failed.
func (e *Error) BadInput() bool {
	return e.Kind == KindSyntax || e.Kind == KindSemantic || e.Kind == KindNotFound
}
