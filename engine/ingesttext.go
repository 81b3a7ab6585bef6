package engine

import (
	"unsafe"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
)

// The fast path of `.ingest` for the delimited formats and JSON lines: when every column is a
// field of the record (no mapping, or a mapping of ordinals alone) or a top-level member of it
// (by the column's name, or a mapping of $.name paths), each field's or member's bytes are
// converted straight into the column's typed vector, with no value boxed and no string
// allocated but a string column's own (from a slab). Any other mapping takes readRecords, value
// by value. Both convert by formats.FromText and FromJSON's rules; the tests hold them to it.

// plan sets how the ingest reads each column's value from a record: through its column source,
// and, where the fast paths can, as a field or a member.
func (j *dataIngest) plan(mapping []formats.ColumnMapping) {
	j.columns = j.columnSources(mapping)
	j.hasMapping = mapping != nil
	j.fields, _ = j.fieldPlan(mapping)
	j.keys, j.members, _ = j.memberPlan(mapping)
}

// fieldPlan returns, for each column of the table, the field it takes (-1: none, so null), or
// false when some column needs more than a field (a constant, a transform, the source's name).
func (j *dataIngest) fieldPlan(mapping []formats.ColumnMapping) ([]int, bool) {
	if j.format.Kind != formats.Delimited {
		return nil, false
	}
	plan := make([]int, len(j.schema))
	if mapping == nil {
		for i := range plan {
			plan[i] = i
		}
		return plan, true
	}
	for i := range plan {
		plan[i] = -1
	}
	for _, m := range mapping {
		if m.Const != nil || m.Transform != "" || m.Path != nil || m.Ordinal < 0 {
			return nil, false
		}
		plan[j.schema.Index(m.Column)] = m.Ordinal
	}
	return plan, true
}

// readFields reads the records of a delimited source by the field plan, converting each field
// into its column's typed vector.
func (j *dataIngest) readFields(reader formats.FieldReader, flush func([]Column) error) (int, error) {
	b := j.newTextBatch(flush)
	var fields [][]byte
	next := func() (err error) {
		_, fields, err = reader.NextFields()
		return err
	}
	return b.read(j, next, func() error {
		for i, k := range j.fields {
			if k >= 0 && k < len(fields) {
				b.sinks[i].appendText(fields[k])
			} else {
				b.sinks[i].appendNull()
			}
		}
		return b.row()
	})
}

// readMembers reads the records of a json source by the member plan, converting each member's
// text into its column's typed vector.
func (j *dataIngest) readMembers(reader *formats.MemberReader, flush func([]Column) error) (int, error) {
	b := j.newTextBatch(flush)
	var vals [][]byte
	next := func() (err error) {
		_, vals, err = reader.NextMembers()
		return err
	}
	return b.read(j, next, func() error {
		for i, k := range j.members {
			if k >= 0 {
				appendJSON(b.sinks[i], j.schema[i].Type, vals[k])
			} else {
				b.sinks[i].appendNull()
			}
		}
		return b.row()
	})
}

// textBatch gathers records' text into the columns' typed vectors, handing each batch of
// ingestBatchRows rows to flush.
type textBatch struct {
	sinks []textSink
	cols  []Column
	rows  int
	flush func([]Column) error
}

func (j *dataIngest) newTextBatch(flush func([]Column) error) *textBatch {
	b := &textBatch{sinks: make([]textSink, len(j.schema)), cols: make([]Column, len(j.schema)), flush: flush}
	for i, col := range j.schema {
		b.sinks[i] = newTextSink(col.Type, ingestBatchRows)
	}
	return b
}

// row counts a record appended to the sinks, flushing the batch when it is full.
func (b *textBatch) row() error {
	if b.rows++; b.rows < ingestBatchRows {
		return nil
	}
	b.rows = 0
	return b.take()
}

func (b *textBatch) take() error {
	for i, s := range b.sinks {
		b.cols[i] = s.take(ingestBatchRows)
	}
	return b.flush(b.cols)
}

// read reads every record and flushes the last batch; it returns how many records it read.
func (b *textBatch) read(j *dataIngest, next, add func() error) (int, error) {
	records, err := j.eachRecord(next, add)
	if err != nil {
		return records, err
	}
	return records, b.take()
}

// textSink builds one column of a batch from fields' text.
type textSink interface {
	appendText(b []byte)
	appendNull()
	appendValue(v any) // nil, or a value of the column's Go type
	// take returns the column built and starts a new one with room for n values.
	take(n int) Column
}

func newTextSink(t kusto.Type, n int) textSink {
	switch t {
	case kusto.TypeString:
		return &stringSink{data: make([]string, 0, n)}
	case kusto.TypeLong:
		return newParsedSink(t, n, formats.LongFromText)
	case kusto.TypeInt:
		return newParsedSink(t, n, formats.IntFromText)
	case kusto.TypeReal:
		return newParsedSink(t, n, formats.RealFromText)
	case kusto.TypeBool:
		return newParsedSink(t, n, formats.BoolFromText)
	case kusto.TypeDateTime:
		return newParsedSink(t, n, formats.DateTimeFromText)
	case kusto.TypeTimespan:
		return newParsedSink(t, n, boxedParser[kusto.Timespan](t))
	case kusto.TypeGUID:
		return newParsedSink(t, n, boxedParser[uuid.UUID](t))
	}
	return &dynamicTextSink{b: builderFor(newColumn(kusto.TypeDynamic, n))}
}

// boxedParser converts through FromText, for the types without a fast converter.
func boxedParser[T any](t kusto.Type) func([]byte) (T, bool) {
	return func(b []byte) (T, bool) {
		v, _ := formats.FromText(t, string(b))
		x, ok := v.(T)
		return x, ok
	}
}

// parsedSink is a column of a fixed-size type: its values, and null flags once one is null.
type parsedSink[T any] struct {
	typ   kusto.Type
	data  []T
	nulls []bool
	parse func([]byte) (T, bool)
}

func newParsedSink[T any](t kusto.Type, n int, parse func([]byte) (T, bool)) *parsedSink[T] {
	return &parsedSink[T]{typ: t, data: make([]T, 0, n), parse: parse}
}

func (s *parsedSink[T]) appendText(b []byte) {
	v, ok := s.parse(b)
	if !ok {
		s.appendNull()
		return
	}
	s.data = append(s.data, v)
	if s.nulls != nil {
		s.nulls = append(s.nulls, false)
	}
}

func (s *parsedSink[T]) add(v T) {
	s.data = append(s.data, v)
	if s.nulls != nil {
		s.nulls = append(s.nulls, false)
	}
}

func (s *parsedSink[T]) appendValue(v any) {
	if v == nil {
		s.appendNull()
		return
	}
	s.data = append(s.data, v.(T))
	if s.nulls != nil {
		s.nulls = append(s.nulls, false)
	}
}

func (s *parsedSink[T]) appendNull() {
	if s.nulls == nil {
		s.nulls = make([]bool, len(s.data), cap(s.data))
	}
	var zero T
	s.data = append(s.data, zero)
	s.nulls = append(s.nulls, true)
}

func (s *parsedSink[T]) take(n int) Column {
	c := NewVector(s.typ, s.data, s.nulls)
	s.data, s.nulls = make([]T, 0, n), nil
	return c
}

// internLimit is how many distinct values a string column's interner keeps; internProbe is how
// many values it looks at before deciding whether interning pays (a column of mostly repeated
// values: names, codes, categories), after which a column of mostly distinct values (ids, free
// text) stops paying for the lookups.
const (
	internLimit  = 4096
	internProbe  = 8192
	internMaxLen = 64 // longer strings seldom repeat, and cost more to hash
)

// stringSink is a string column. Strings are never null: an empty field is "". Repeated values
// share one string, while that pays; the others are cut from slabs of slabBytes, one allocation
// for hundreds of strings rather than one each (the slab lives as long as any of its strings,
// all of which the extent keeps).
type stringSink struct {
	data         []string
	seen         map[string]string
	looked, hits int
	off          bool
	slab         []byte
}

const slabBytes = 32 << 10

func (s *stringSink) appendText(b []byte) {
	if len(b) == 0 {
		s.data = append(s.data, "")
		return
	}
	if !s.off && len(b) <= internMaxLen {
		if s.seen == nil {
			s.seen = make(map[string]string)
		}
		s.looked++
		if v, ok := s.seen[string(b)]; ok {
			s.hits++
			s.data = append(s.data, v)
			return
		}
		v := s.string(b)
		if len(s.seen) < internLimit {
			s.seen[v] = v
		}
		if s.looked == internProbe && s.hits < internProbe/2 {
			s.off, s.seen = true, nil
		}
		s.data = append(s.data, v)
		return
	}
	s.data = append(s.data, s.string(b))
}

// string returns a copy of b, from the slab when it is short.
func (s *stringSink) string(b []byte) string {
	if len(b) > slabBytes/64 { // so that a slab wastes at most 1/64 of itself
		return string(b)
	}
	if len(b) > cap(s.slab)-len(s.slab) {
		s.slab = make([]byte, 0, slabBytes)
	}
	at := len(s.slab)
	s.slab = append(s.slab, b...)
	// The bytes are never written again: the slab only grows past them, and a full one is
	// replaced, not reused.
	return unsafe.String(&s.slab[at], len(b))
}

func (s *stringSink) appendNull() { s.data = append(s.data, "") }

func (s *stringSink) appendValue(v any) {
	x, _ := v.(string)
	s.data = append(s.data, x)
}

func (s *stringSink) take(n int) Column {
	c := NewVector(kusto.TypeString, s.data, nil)
	s.data = make([]string, 0, n)
	return c
}

// dynamicTextSink is a dynamic column: the JSON a field holds, or its text.
type dynamicTextSink struct{ b builder }

func (s *dynamicTextSink) appendText(b []byte) {
	v, _ := formats.FromText(kusto.TypeDynamic, string(b))
	s.b.appendValue(v)
}

func (s *dynamicTextSink) appendNull() { s.b.appendValue(nil) }

func (s *dynamicTextSink) appendValue(v any) { s.b.appendValue(v) }

func (s *dynamicTextSink) take(n int) Column {
	c := s.b.column()
	s.b = builderFor(newColumn(kusto.TypeDynamic, n))
	return c
}

// memberPlan is fieldPlan for format json: the top-level members the columns take (by the
// column's name, or a mapping's $.name path), and for each column the member's index among
// them (-1: none); false when some column needs more.
func (j *dataIngest) memberPlan(mapping []formats.ColumnMapping) (keys []string, plan []int, ok bool) {
	if j.format.Kind != formats.JSONLines {
		return nil, nil, false
	}
	plan = make([]int, len(j.schema))
	index := map[string]int{}
	member := func(col int, name string) {
		k, seen := index[name]
		if !seen {
			k = len(keys)
			index[name] = k
			keys = append(keys, name)
		}
		plan[col] = k
	}
	if mapping == nil {
		for i, col := range j.schema {
			member(i, col.Name)
		}
		return keys, plan, true
	}
	for i := range plan {
		plan[i] = -1
	}
	for _, m := range mapping {
		if m.Const != nil || m.Transform != "" || len(m.Path) != 1 || m.Path[0].Name == "" {
			return nil, nil, false
		}
		member(j.schema.Index(m.Column), m.Path[0].Name)
	}
	return keys, plan, true
}

// appendJSON appends a member's JSON text (nil when the record has none) to a column as
// formats.FromJSON converts it: a string's text as FromText converts it, the common numbers and
// booleans directly, anything else decoded and converted.
func appendJSON(s textSink, t kusto.Type, v []byte) {
	if len(v) == 0 || v[0] == 'n' { // absent, or null
		s.appendNull()
		return
	}
	if t == kusto.TypeDynamic {
		s.appendValue(decodedJSON(t, v))
		return
	}
	if text, ok := formats.JSONText(v); ok {
		s.appendText(text)
		return
	}
	switch t {
	case kusto.TypeLong, kusto.TypeReal, kusto.TypeInt:
		// A number that is an integer of at most 18 digits: the decoder's int64, and what
		// FromText makes of its text, but for a real, which takes the int64 (so -0 is 0).
		if isSmallInteger(v) {
			if t == kusto.TypeReal {
				n, _ := formats.LongFromText(v)
				s.appendValue(float64(n))
				return
			}
			s.appendText(v)
			return
		}
		if t == kusto.TypeReal && v[0] != 't' && v[0] != 'f' && v[0] != '{' && v[0] != '[' {
			// A decimal number: the decoder's float64 is strconv.ParseFloat's, as FromText's.
			s.appendText(v)
			return
		}
	case kusto.TypeBool:
		switch v[0] {
		case 't':
			s.appendValue(true)
			return
		case 'f':
			s.appendValue(false)
			return
		}
	}
	s.appendValue(decodedJSON(t, v))
}

// isSmallInteger reports whether v is -?digits, at most 18 of them.
func isSmallInteger(v []byte) bool {
	d := v
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return false
	}
	for _, c := range d {
		if c-'0' > 9 {
			return false
		}
	}
	return true
}

func decodedJSON(t kusto.Type, v []byte) any {
	x, err := formats.DecodeJSON(v)
	if err != nil {
		return nil
	}
	x, _ = formats.FromJSON(t, x)
	return x
}
