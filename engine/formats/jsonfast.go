package formats

import (
	"bytes"
	"encoding/json"
	"io"
	"unicode/utf8"
)

// MemberReader reads format json (one record per line) for a caller that wants only some
// top-level members of each record, as their JSON text: a table filled by column name, or by a
// mapping of $.name paths. It decodes no record into maps: it checks that the line is JSON
// (json.Valid, as the decoder would, so the same lines are skipped as malformed) and finds the
// members' values in it. A caller converts a value's text with JSONText, or decodes it with
// DecodeJSON when it needs the value.
type MemberReader struct {
	j    *jsonLines
	keys map[string]int
	vals [][]byte
	// last is, for each position in a record, the key found there last and what it is: records
	// of one source mostly list their members in one order, and a comparison is cheaper than
	// a lookup.
	last []lastKey
}

type lastKey struct {
	key  string
	k    int
	want bool
}

// NewMemberReader returns a MemberReader of r for the members named keys.
func NewMemberReader(r io.Reader, opts Options, keys []string) *MemberReader {
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = DefaultMaxRecordBytes
	}
	m, _ := Members(newJSONLines(r, opts), keys)
	return m
}

// Members returns a MemberReader for the members named keys that reads what r would, or false
// when r is not a reader of format json. r must not have been read yet.
func Members(r Reader, keys []string) (*MemberReader, bool) {
	j, ok := r.(*jsonLines)
	if !ok {
		return nil, false
	}
	m := &MemberReader{j: j, keys: make(map[string]int, len(keys)), vals: make([][]byte, len(keys))}
	for i, k := range keys {
		m.keys[k] = i
	}
	return m, true
}

func (m *MemberReader) Skipped() (int, *Error) { return m.j.Skipped() }

// Next reads the next record decoded, as the json format's reader does.
func (m *MemberReader) Next() (*Record, error) { return m.j.Next() }

// NextMembers returns the next record's line and the text of each key's member: nil where the
// record has no such member or is not an object. The values are valid until the next call.
func (m *MemberReader) NextMembers() (int, [][]byte, error) {
	j := m.j
	for {
		line, err := j.lines.readLine()
		if err != nil {
			return 0, nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if i := skipBlank(line, 0); line[i] == '{' && m.simple(line[i:]) {
			return j.lines.line, m.vals, nil
		}
		if !json.Valid(line) {
			// The decoder says why.
			_, err := decodeJSON(line)
			j.skipped++
			if j.first == nil {
				j.first = &Error{Code: "BadRequest_InvalidBlob", Line: j.lines.line, Msg: "malformed JSON record skipped: " + err.Error()}
			}
			continue
		}
		clear(m.vals)
		if i := skipBlank(line, 0); line[i] == '{' {
			m.members(line[i:])
		}
		return j.lines.line, m.vals, nil
	}
}

// simple finds the wanted members of b, and reports whether b is an object of the plainest
// JSON: keys and string values of printable ASCII without escapes, numbers, true, false and
// null, then only blanks. That is a strict subset of JSON, so a line it takes is valid JSON,
// checked and scanned in one pass; on false the vals are garbage, and the caller checks the line
// with json.Valid and scans it with members.
func (m *MemberReader) simple(b []byte) bool {
	clear(m.vals)
	pos := 0
	i := skipBlank(b, 1)
	if i < len(b) && b[i] == '}' {
		return len(b) == skipBlank(b, i+1)
	}
	for {
		end, ok := plainString(b, i)
		if !ok {
			return false
		}
		k, want := m.lookup(pos, b[i+1:end-1])
		pos++
		i = skipBlank(b, end)
		if i == len(b) || b[i] != ':' {
			return false
		}
		i = skipBlank(b, i+1)
		if i == len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			end, ok = plainString(b, i)
		case c == '-' || c-'0' <= 9:
			end, ok = number(b, i)
		case c == 't':
			end, ok = i+4, bytes.HasPrefix(b[i:], []byte("true"))
		case c == 'f':
			end, ok = i+5, bytes.HasPrefix(b[i:], []byte("false"))
		case c == 'n':
			end, ok = i+4, bytes.HasPrefix(b[i:], []byte("null"))
		default:
			return false
		}
		if !ok {
			return false
		}
		if want {
			m.vals[k] = b[i:end]
		}
		i = skipBlank(b, end)
		if i == len(b) {
			return false
		}
		switch b[i] {
		case '}':
			return len(b) == skipBlank(b, i+1)
		case ',':
			i = skipBlank(b, i+1)
		default:
			return false
		}
	}
}

// lookup says whether the key at position pos of a record is wanted, and which it is.
func (m *MemberReader) lookup(pos int, key []byte) (int, bool) {
	if pos < len(m.last) && m.last[pos].key == string(key) {
		return m.last[pos].k, m.last[pos].want
	}
	k, want := m.keys[string(key)]
	if pos < 64 { // a record's first members; the rest are looked up
		for len(m.last) <= pos {
			m.last = append(m.last, lastKey{k: -1})
		}
		m.last[pos] = lastKey{string(key), k, want}
	}
	return k, want
}

// plainString returns the end of the string at b[i] when it is printable ASCII without escapes.
func plainString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return 0, false
		}
	}
	return 0, false
}

// number returns the end of the JSON number at b[i]: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// followed by something that is not part of a number.
func number(b []byte, i int) (int, bool) {
	isDigit := func(i int) bool { return i < len(b) && b[i]-'0' <= 9 }
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case isDigit(i):
		for isDigit(i) {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !isDigit(i) {
			return 0, false
		}
		for isDigit(i) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !isDigit(i) {
			return 0, false
		}
		for isDigit(i) {
			i++
		}
	}
	return i, true
}

// members finds the wanted members of the valid JSON object b. A later member of the same name
// replaces an earlier one, as it does in the decoded map.
func (m *MemberReader) members(b []byte) {
	i := skipBlank(b, 1)
	if b[i] == '}' {
		return
	}
	for {
		end := skipValue(b, i) // the key
		key := b[i+1 : end-1]
		var k int
		var want bool
		if bytes.IndexByte(key, '\\') < 0 && utf8.Valid(key) {
			k, want = m.keys[string(key)]
		} else {
			var s string
			json.Unmarshal(b[i:end], &s)
			k, want = m.keys[s]
		}
		i = skipBlank(b, end)
		i = skipBlank(b, i+1) // the colon
		end = skipValue(b, i)
		if want {
			m.vals[k] = b[i:end]
		}
		i = skipBlank(b, end)
		if b[i] == '}' {
			return
		}
		i = skipBlank(b, i+1) // the comma
	}
}

func skipBlank(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; ; i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}

// JSONText returns the text of a JSON string value, and true; false when v is not a string. A
// string of plain ASCII without escapes is its own text, not copied; any other is decoded, as
// the decoder does (escapes, and invalid UTF-8 replaced by U+FFFD).
func JSONText(v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0] != '"' {
		return nil, false
	}
	s := v[1 : len(v)-1]
	plain := bytes.IndexByte(s, '\\') < 0
	for _, c := range s {
		if c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return s, true
	}
	var text string
	json.Unmarshal(v, &text)
	return []byte(text), true
}

// DecodeJSON decodes one JSON value as the json format's reader does (numbers as int64 or
// float64).
func DecodeJSON(v []byte) (any, error) { return decodeJSON(v) }
