package formats

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// delimited reads CSV and its kin (RFC 4180: a field that starts with a quote is quoted, ""
// inside it is one quote, and it may hold delimiters and line breaks), and TXT and RAW, whose
// record is a line or the whole stream. A UTF-8 byte order mark at the start is dropped; CRLF
// and LF both end a record; blank lines between records are skipped. Every record must have as
// many fields as the first (Kusto's default validation, ValidateCsvInputConstantColumns), or the
// stream fails with Stream_WrongNumberOfFields.
type delimited struct {
	f       Format
	r       *bufio.Reader
	opts    Options
	line    int // physical lines read
	started bool
	done    bool
	width   int // the first record's field count
	rec     Record
	recLine int      // the line the record being parsed starts on
	fields  [][]byte // the record's fields, in the line or in buf
	buf     []byte   // the fields of a record with quotes, unquoted
	ends    []int    // where each field ends in buf
}

func newDelimited(f Format, r io.Reader, opts Options) *delimited {
	return &delimited{f: f, r: bufio.NewReaderSize(r, 64<<10), opts: opts}
}

func (d *delimited) Skipped() (int, *Error) { return 0, nil }

// readLine returns the next physical line without its '\n', or io.EOF when there is none. The
// line is valid until the next call. A line longer than a record may be fails.
func (d *delimited) readLine() ([]byte, error) {
	if d.done {
		return nil, io.EOF
	}
	line, err := d.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(long) > d.opts.MaxRecordBytes {
				return nil, &Error{Code: "Stream_InputStreamTooLarge", Line: d.line + 1, Msg: fmt.Sprintf("a record is larger than %d bytes", d.opts.MaxRecordBytes)}
			}
			line, err = d.r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	switch {
	case errors.Is(err, io.EOF):
		d.done = true
		if len(line) == 0 {
			return nil, io.EOF
		}
	case err != nil:
		return nil, err
	default:
		line = line[:len(line)-1]
	}
	if len(line) > d.opts.MaxRecordBytes {
		return nil, &Error{Code: "Stream_InputStreamTooLarge", Line: d.line + 1, Msg: fmt.Sprintf("a record is larger than %d bytes", d.opts.MaxRecordBytes)}
	}
	d.line++
	if !d.started {
		d.started = true
		line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
	}
	return line, nil
}

func (d *delimited) Next() (*Record, error) {
	switch d.f.Kind {
	case Raw:
		return d.raw()
	case Lines:
		line, err := d.readLine()
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		d.rec.Line, d.rec.Fields = d.line, append(d.rec.Fields[:0], string(line))
		return &d.rec, nil
	}
	line, fields, err := d.NextFields()
	if err != nil {
		return nil, err
	}
	d.rec.Line, d.rec.Fields = line, d.rec.Fields[:0]
	for _, f := range fields {
		d.rec.Fields = append(d.rec.Fields, string(f))
	}
	return &d.rec, nil
}

// FieldReader is a Reader of a delimited format that can give a record's fields as bytes, so
// that a caller converting them to typed columns allocates nothing per field.
type FieldReader interface {
	Reader
	// NextFields returns the next record's line and fields, or io.EOF after the last. The
	// fields are valid until the next call.
	NextFields() (line int, fields [][]byte, err error)
}

// NewFieldReader returns a FieldReader of format f over r, or false when f is not delimited.
func NewFieldReader(f Format, r io.Reader, opts Options) (FieldReader, bool) {
	if f.Kind != Delimited {
		return nil, false
	}
	d, _ := NewReader(f, r, opts).(*delimited)
	return d, true
}

func (d *delimited) NextFields() (int, [][]byte, error) {
	for {
		line, err := d.readLine()
		if err != nil {
			return 0, nil, err
		}
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			continue
		}
		if err := d.parse(line); err != nil {
			return 0, nil, err
		}
		if d.width == 0 {
			d.width = len(d.fields)
		} else if len(d.fields) != d.width {
			return 0, nil, &Error{Code: "Stream_WrongNumberOfFields", Line: d.recLine, Msg: fmt.Sprintf(
				"the record has %d fields, but the first record has %d", len(d.fields), d.width)}
		}
		return d.recLine, d.fields, nil
	}
}

// parse splits the record that starts on line into d.fields. A line without a quote, the
// common case, is split in place; otherwise the fields are copied into d.buf, reading more
// lines while a quoted field is open (which reuses the reader's buffer under line).
func (d *delimited) parse(line []byte) error {
	d.recLine, d.fields = d.line, d.fields[:0]
	delim := d.f.Delimiter
	if bytes.IndexByte(line, '"') < 0 {
		for {
			j := bytes.IndexByte(line, delim)
			if j < 0 {
				d.fields = append(d.fields, bytes.TrimSuffix(line, []byte("\r")))
				return nil
			}
			d.fields = append(d.fields, line[:j:j])
			line = line[j+1:]
		}
	}
	d.buf, d.ends = d.buf[:0], d.ends[:0]
	defer func() {
		start := 0
		for _, end := range d.ends {
			d.fields = append(d.fields, d.buf[start:end:end])
			start = end
		}
	}()
	size := 0
	i := 0
	for {
		// One field, starting at line[i].
		if i < len(line) && line[i] == '"' {
			i++
			startLine := d.line
			for {
				j := bytes.IndexByte(line[i:], '"')
				if j < 0 {
					d.buf = append(d.buf, line[i:]...)
					size += len(line) + 1
					if size > d.opts.MaxRecordBytes {
						return &Error{Code: "Stream_InputStreamTooLarge", Line: d.recLine, Msg: fmt.Sprintf("a record is larger than %d bytes", d.opts.MaxRecordBytes)}
					}
					next, err := d.readLine()
					if errors.Is(err, io.EOF) {
						return &Error{Code: "Stream_ClosingQuoteMissing", Line: startLine, Column: 0,
							Msg: fmt.Sprintf("a quoted field that starts on line %d has no closing quote", startLine)}
					}
					if err != nil {
						return err
					}
					d.buf = append(d.buf, '\n')
					line, i = next, 0
					continue
				}
				d.buf = append(d.buf, line[i:i+j]...)
				i += j + 1
				if i < len(line) && line[i] == '"' { // "" is one quote
					d.buf = append(d.buf, '"')
					i++
					continue
				}
				break
			}
			atEnd := i == len(line) || (i == len(line)-1 && line[i] == '\r')
			if !atEnd && line[i] != delim {
				return &Error{Code: "BadRequest_InvalidBlob", Line: d.line, Column: i + 1,
					Msg: fmt.Sprintf("unexpected %q after the closing quote of a field (a quote inside a quoted field is written \"\")", rune(line[i]))}
			}
			d.ends = append(d.ends, len(d.buf))
			if atEnd {
				return nil
			}
			i++ // the delimiter
			continue
		}
		j := bytes.IndexByte(line[i:], delim)
		if j < 0 {
			d.buf = append(d.buf, bytes.TrimSuffix(line[i:], []byte("\r"))...)
			d.ends = append(d.ends, len(d.buf))
			return nil
		}
		d.buf = append(d.buf, line[i:i+j]...)
		d.ends = append(d.ends, len(d.buf))
		i += j + 1
	}
}

// raw returns the whole stream as one record, once.
func (d *delimited) raw() (*Record, error) {
	if d.done {
		return nil, io.EOF
	}
	d.done = true
	b, err := io.ReadAll(io.LimitReader(d.r, int64(d.opts.MaxRecordBytes)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > d.opts.MaxRecordBytes {
		return nil, &Error{Code: "Stream_InputStreamTooLarge", Line: 1, Msg: fmt.Sprintf("a record is larger than %d bytes", d.opts.MaxRecordBytes)}
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	d.rec.Line, d.rec.Fields = 1, append(d.rec.Fields[:0], string(b))
	return &d.rec, nil
}
