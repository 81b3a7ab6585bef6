package engine

import (
	"github.com/google/uuid"
	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
)

// The fast path of `.ingest` for the delimited formats: when every column is a field of the
// record (no mapping, or a mapping of ordinals alone), each field's bytes are converted straight
// into the column's typed vector, with no value boxed and no string allocated but a string
// column's own.

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

// textSink builds one column of a batch from fields' text.
type textSink interface {
	appendText(b []byte)
	appendNull()
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
// share one string, while that pays.
type stringSink struct {
	data         []string
	seen         map[string]string
	looked, hits int
	off          bool
}

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
		v := string(b)
		if len(s.seen) < internLimit {
			s.seen[v] = v
		}
		if s.looked == internProbe && s.hits < internProbe/2 {
			s.off, s.seen = true, nil
		}
		s.data = append(s.data, v)
		return
	}
	s.data = append(s.data, string(b))
}

func (s *stringSink) appendNull() { s.data = append(s.data, "") }

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

func (s *dynamicTextSink) take(n int) Column {
	c := s.b.column()
	s.b = builderFor(newColumn(kusto.TypeDynamic, n))
	return c
}
