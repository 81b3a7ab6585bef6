package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonLines reads format json: one JSON record per line. Kusto ignores malformed records of
// this format (ingest-invalid-data.md: "Malformed records are ignored and not ingested"): they
// are counted, and the first one's error kept, for `.show ingestion failures`.
type jsonLines struct {
	lines   *delimited // its line reader: BOM, bounds and line counting
	rec     Record
	skipped int
	first   *Error
}

func newJSONLines(r io.Reader, opts Options) *jsonLines {
	return &jsonLines{lines: newDelimited(Format{Kind: Lines}, r, opts)}
}

func (j *jsonLines) Skipped() (int, *Error) { return j.skipped, j.first }

func (j *jsonLines) Next() (*Record, error) {
	for {
		line, err := j.lines.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v, err := decodeJSON(line)
		if err != nil {
			j.skipped++
			if j.first == nil {
				j.first = &Error{Code: "BadRequest_InvalidBlob", Line: j.lines.line, Msg: "malformed JSON record skipped: " + err.Error()}
			}
			continue
		}
		j.rec.Line, j.rec.Value = j.lines.line, v
		return &j.rec, nil
	}
}

// decodeJSON decodes one JSON value that must fill b.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value on the line")
	}
	return normalize(v), nil
}

// multiJSON reads format multijson: JSON records separated by whitespace, or one array of them.
// A malformed record fails the stream (BadRequest_InvalidBlob), as Kusto documents.
type multiJSON struct {
	br      *bufio.Reader
	dec     *json.Decoder
	array   bool
	started bool
	lead    int64 // bytes before the decoder's first
	n       int
	rec     Record
}

func newMultiJSON(r io.Reader, opts Options) *multiJSON {
	return &multiJSON{br: bufio.NewReaderSize(r, 64<<10)}
}

func (m *multiJSON) Skipped() (int, *Error) { return 0, nil }

func (m *multiJSON) fail(err error) error {
	off := m.lead
	if m.dec != nil {
		off += m.dec.InputOffset()
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		off = m.lead + syn.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the stream ends inside a JSON record")
	}
	return &Error{Code: "BadRequest_InvalidBlob", Offset: off, Msg: fmt.Sprintf("malformed JSON in record %d: %v", m.n+1, err)}
}

func (m *multiJSON) Next() (*Record, error) {
	if !m.started {
		m.started = true
		if b, err := m.br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
			m.br.Discard(3)
			m.lead = 3
		}
		for {
			c, err := m.br.ReadByte()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil, io.EOF
				}
				return nil, err
			}
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				m.lead++
				continue
			}
			m.array = c == '['
			m.br.UnreadByte()
			break
		}
		m.dec = json.NewDecoder(m.br)
		m.dec.UseNumber()
		if m.array {
			m.dec.Token() // the '[' just peeked
		}
	}
	if m.array {
		if !m.dec.More() {
			if tok, err := m.dec.Token(); err != nil || tok != json.Delim(']') {
				return nil, m.fail(errors.New("the array of records is not closed"))
			}
			if _, err := m.dec.Token(); !errors.Is(err, io.EOF) {
				return nil, m.fail(errors.New("text after the array of records"))
			}
			return nil, io.EOF
		}
	}
	var v any
	if err := m.dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) && !m.array {
			return nil, io.EOF
		}
		return nil, m.fail(err)
	}
	m.n++
	m.rec.Value = normalize(v)
	return &m.rec, nil
}

// normalize turns json.Number into the dynamic value's int64 or float64, as Kusto's dynamic
// holds them.
func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	}
	return v
}
