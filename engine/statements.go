package engine

import (
	"fmt"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Query statements: set (query/set-statement.md) and declare query_parameters
// (query/query-parameters-statement.md); let is in compile.go and userfunc.go.

// queryOptions are the request properties a query's set statements set.
type queryOptions struct {
	queryNow     *kusto.DateTime
	noTruncation bool
	maxRecords   int   // 0 when not set
	maxSize      int64 // 0 when not set
}

// setOptions are the request properties Kustard honours in a set statement, with the type of
// their value. Kusto has many more; a set of any other is rejected by name.
var setOptions = map[string]kusto.Type{
	"query_now":            kusto.TypeDateTime,
	"notruncation":         kusto.TypeBool,
	"truncationmaxrecords": kusto.TypeLong,
	"truncationmaxsize":    kusto.TypeLong,
}

// checkSetOption checks a set statement's option and value; Check calls it, as compile does.
func checkSetOption(src *kusto.Source, s *parser.SetOption) error {
	name := s.Name.String()
	want, ok := setOptions[name]
	if !ok {
		return kusto.Errorf(kusto.KindSyntax, src, s.Name.Pos.Offset, "unsupported request property %q in set; Kustard honours query_now, notruncation, truncationmaxrecords and truncationmaxsize", name)
	}
	v := s.Value
	switch {
	case want == kusto.TypeDateTime && v.Type == kusto.TypeString:
		if _, err := kusto.ParseDateTime(strings.TrimSpace(v.Value.(string))); err != nil {
			return kusto.Errorf(kusto.KindSyntax, src, s.ValueAt, "set %s: %v", name, err)
		}
	case v.Type != want || v.Value == nil:
		return kusto.Errorf(kusto.KindSyntax, src, s.ValueAt, "set %s needs %s value, not %s", name, article(want), v.Type)
	case want == kusto.TypeLong && v.Value.(int64) <= 0:
		// Zero is not "no limit": that is notruncation.
		return kusto.Errorf(kusto.KindSyntax, src, s.ValueAt, "set %s takes a positive number, not %d", name, v.Value)
	}
	return nil
}

// checkStatements checks what Check can of a query's statements without compiling them.
func checkStatements(src *kusto.Source, b *parser.Block) error {
	if b.Query == nil {
		return nil
	}
	for _, s := range b.Query.Statements {
		if s.Set != nil {
			if err := checkSetOption(src, s.Set); err != nil {
				return err
			}
		}
	}
	return nil
}

// statements applies a query's statements in their order, except that set statements apply
// first: they set the request's properties for the whole query, now() included.
func (c *compiler) statements(list []*parser.Statement) error {
	for _, s := range list {
		if s.Set != nil {
			if err := c.set(s.Set); err != nil {
				return err
			}
		}
	}
	for _, s := range list {
		switch {
		case s.Let != nil:
			if err := c.let(s.Let); err != nil {
				return err
			}
		case s.Declare != nil:
			if err := c.declare(s.Declare); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *compiler) set(s *parser.SetOption) error {
	if err := checkSetOption(c.src, s); err != nil {
		return err
	}
	v := s.Value
	// The docs: truncationmaxrecords and truncationmaxsize set more than once take the lower value.
	switch s.Name.String() {
	case "query_now":
		d, ok := v.Value.(kusto.DateTime)
		if !ok {
			d, _ = kusto.ParseDateTime(strings.TrimSpace(v.Value.(string)))
		}
		c.options.queryNow = &d
		c.now = d
	case "notruncation":
		c.options.noTruncation = v.Value.(bool)
	case "truncationmaxrecords":
		n := int(v.Value.(int64))
		if c.options.maxRecords == 0 || n < c.options.maxRecords {
			c.options.maxRecords = n
		}
	case "truncationmaxsize":
		n := v.Value.(int64)
		if c.options.maxSize == 0 || n < c.options.maxSize {
			c.options.maxSize = n
		}
	}
	return nil
}

// declare binds query parameters to the request's values, or to their defaults.
func (c *compiler) declare(d *parser.DeclareParams) error {
	for _, p := range d.Params {
		name := p.Name.String()
		var v kusto.Literal
		given, ok := c.params[name]
		switch {
		case ok:
			var err error
			if v, err = parameterValue(p.Type, given); err != nil {
				return c.errorf(p.Pos.Offset, kusto.KindSemantic, "query parameter %q: %v", name, err)
			}
		case p.Default != nil:
			var err error
			if v, err = c.paramDefault(p, "query parameter"); err != nil {
				return err
			}
		default:
			return c.errorf(p.Pos.Offset, kusto.KindSemantic, "query parameter %q has no value: the request gives none and its declaration no default", name)
		}
		c.lets = append(c.lets, letBinding{name: name, scalar: &v})
	}
	return nil
}

// stringLiteral decodes text that is exactly one Kusto string literal ("a", 'a', @"a", h"a").
func stringLiteral(text string) (string, bool) {
	text = strings.TrimSpace(text)
	if text == "" || !kusto.StartsString(text, 0) {
		return "", false
	}
	end, err := kusto.ScanString(&kusto.Source{Text: text}, 0)
	if err != nil || end != len(text) {
		return "", false
	}
	value, _, err := kusto.DecodeStrings(text)
	return value, err == nil
}

// parameterValue converts a request's value for a parameter of type t. Clients send values as
// text, which is read as a literal of the declared type (`datetime(1970-05-11)` or
// `1970-05-11` for a datetime). A string parameter's text that is a whole string literal is
// that literal's value, as Microsoft's SDKs send it ("it\'s"); any other text is taken as it is,
// as curl users send it. A value of another
// type is accepted where the implicit conversions widen it to t.
func parameterValue(t kusto.Type, v kusto.Literal) (kusto.Literal, error) {
	if s, ok := v.Value.(string); ok && t == kusto.TypeString && v.Type == kusto.TypeString {
		if decoded, ok := stringLiteral(s); ok {
			return kusto.Literal{Type: kusto.TypeString, Value: decoded}, nil
		}
	}
	if v.Type == t {
		return v, nil
	}
	if s, ok := v.Value.(string); ok && v.Type == kusto.TypeString {
		s = strings.TrimSpace(s)
		name, inner := t.String(), s
		if open := strings.IndexByte(s, '('); open > 0 && strings.HasSuffix(s, ")") {
			name, inner = s[:open], s[open+1:len(s)-1]
		}
		lit, err := kusto.ParseTypedLiteral(name, inner)
		if err != nil {
			return kusto.Literal{}, fmt.Errorf("%q is not %s: %v", s, article(t), err)
		}
		if lit.Type != t {
			return kusto.Literal{}, fmt.Errorf("%q is %s, not %s", s, article(lit.Type), article(t))
		}
		return lit, nil
	}
	if _, ok := implicitConversions[[2]kusto.Type{v.Type, t}]; ok && v.Value != nil {
		k := constant(v.Type, v.Value)
		return kusto.Literal{Type: t, Value: fold(implicit(k, t), k).konst.v}, nil
	}
	return kusto.Literal{}, fmt.Errorf("the value must be %s, not %s", article(t), v.Type)
}
