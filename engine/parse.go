package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// parse and parse-where, per the Kusto docs' parse-operator.md and parse-where-operator.md. The
// pattern becomes one regular expression, compiled once per query, whose numbered groups are
// the columns:
//
//   - kind=simple (the default): the constants are literal text, matched from the start of the
//     string; `*` and string columns take as little as they can (up to the next constant), a
//     last column the rest; int and long columns match digits, real ones a number. A value that
//     does not convert to its column's type fails the whole match, as the docs' "strict" says.
//   - kind=regex: the constants are regular expressions (RE2, Kusto's library; Go's regexp is
//     RE2), `*` is `.*` and string columns `(.*)`, greedy unless flags=U, as the docs' examples
//     show; flags i, m, s and U apply.
//   - kind=relaxed: as simple, but a column whose text does not convert is null while the
//     others keep their values.
//
// A string that does not match gives nulls (empty strings for string columns) with parse, and
// drops the row with parse-where.

func init() {
	operatorRegistry = append(operatorRegistry,
		&OperatorInfo{
			Name:     "parse",
			Synopsis: "parse [kind=simple | kind=regex [flags=Flags] | kind=relaxed] Expression with [*] StringConstant ColumnName [: ColumnType] [*] …",
			Summary:  "Extracts columns from a string by a pattern of constants and columns; rows that do not match get nulls.", Completes: CompleteExpressions,
			node: nodeOf[*parser.ParseOp](), compile: compileParse,
		},
		&OperatorInfo{
			Name:     "parse-where",
			Synopsis: "parse-where [kind=simple | kind=regex [flags=Flags]] Expression with [*] StringConstant ColumnName [: ColumnType] [*] …",
			Summary:  "parse, keeping only the rows whose string matches the pattern.", Completes: CompleteExpressions,
			node: nodeOf[*parser.ParseWhereOp](), compile: compileParse,
		},
	)
}

func compileParse(c *compiler, in Node, op parser.Operator) (Node, error) {
	name, spec := "parse", (*parser.ParseSpec)(nil)
	switch o := op.(type) {
	case *parser.ParseOp:
		spec = o.Spec
	case *parser.ParseWhereOp:
		name, spec = "parse-where", o.Spec
	}
	src, err := (&scope{schema: in.Schema(), c: c}).compile(spec.Source.Tree)
	if err != nil {
		return nil, err
	}
	re, err := c.parsePattern(name, spec)
	if err != nil {
		return nil, err
	}
	n := &parseNode{in: in, name: name, kind: spec.Kind, src: convert(src, kusto.TypeString), srcExpr: spec.Source.Tree,
		text: parser.ExprString(spec.Source.Tree), re: re, filter: name == "parse-where", relaxed: spec.Kind == "relaxed",
		schema: slices.Clone(in.Schema())}
	for _, p := range spec.Pattern {
		if p.Column == nil {
			continue
		}
		col := parseColumn{name: p.Column.String(), typ: p.Type, group: re.SubexpIndex(groupName(len(n.cols)))}
		col.slot = n.schema.Index(col.name)
		if col.slot < 0 { // a new column; one of the input's name is replaced, as extend does
			col.slot = len(n.schema)
			n.schema = append(n.schema, ColumnSchema{col.name, col.typ})
		} else {
			n.schema[col.slot].Type = col.typ
		}
		n.cols = append(n.cols, col)
	}
	return n, nil
}

func groupName(i int) string { return "kustard_" + strconv.Itoa(i) }

// typedGroups are what a column of a type matches in simple and regex kinds, where the column's
// text must be of its type; the other types take any text and convert it.
var typedGroups = map[kusto.Type]string{
	kusto.TypeInt:  `-?\d+`,
	kusto.TypeLong: `-?\d+`,
	kusto.TypeReal: `-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`,
}

// parsePattern builds the regular expression of a parse pattern.
func (c *compiler) parsePattern(op string, s *parser.ParseSpec) (*regexp.Regexp, error) {
	regex := s.Kind == "regex"
	var b strings.Builder
	if regex {
		if s.Flags != "" {
			b.WriteString("(?" + s.Flags + ")")
		}
	} else {
		b.WriteString("(?s)^") // the text is not a regex: * spans lines too
	}
	any := ".*?"
	if regex {
		any = ".*"
	}
	columns := 0
	for _, p := range s.Pattern {
		switch {
		case p.Star:
			b.WriteString(any)
		case p.Column != nil:
			g := groupName(columns)
			columns++
			typed, isTyped := typedGroups[p.Type]
			switch {
			case !isTyped:
				fmt.Fprintf(&b, "(?P<%s>%s)", g, any)
			case s.Kind == "relaxed": // the column's text if it is of the type, else skipped
				fmt.Fprintf(&b, "(?:(?P<%s>%s)|.*?)", g, typed)
			default:
				fmt.Fprintf(&b, "(?P<%s>%s)", g, typed)
			}
		case regex:
			if _, err := regexp.Compile(p.Text); err != nil {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "%s: %q is not a valid regular expression: %v", op, p.Text, regexError(err))
			}
			b.WriteString("(?:" + p.Text + ")")
		default:
			b.WriteString(regexp.QuoteMeta(p.Text))
		}
	}
	if last := s.Pattern[len(s.Pattern)-1]; !regex && last.Column != nil {
		b.WriteString("$") // the last column takes the rest of the string
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "%s: the pattern does not make a valid regular expression: %v", op, regexError(err))
	}
	return re, nil
}

// regexError is the reason of a regexp error, without the package's prefix.
func regexError(err error) string {
	if e := (*syntax.Error)(nil); errors.As(err, &e) {
		return string(e.Code) + ": `" + e.Expr + "`"
	}
	return err.Error()
}

type parseColumn struct {
	name  string
	typ   kusto.Type
	slot  int // the output column
	group int // the regex group
}

type parseNode struct {
	in      Node
	name    string // parse or parse-where
	kind    string
	src     *compiled // the string parsed
	srcExpr parser.Expr
	text    string
	re      *regexp.Regexp
	filter  bool // parse-where: rows that do not match are dropped
	relaxed bool
	cols    []parseColumn
	schema  Schema
}

func (n *parseNode) Schema() Schema   { return n.schema }
func (n *parseNode) Children() []Node { return []Node{n.in} }
func (n *parseNode) Describe() string {
	return fmt.Sprintf("%s kind=%s %s with /%s/", n.name, n.kind, n.text, n.re.String())
}

func (n *parseNode) prune(needed []bool) {
	schema := n.in.Schema()
	in := make([]bool, len(schema))
	copy(in, needed[:len(schema)])
	for _, c := range n.cols {
		if c.slot < len(in) {
			in[c.slot] = false // replaced, so not read, unless the parsed expression reads it
		}
	}
	markColumns(in, schema, n.srcExpr)
	prune(n.in, in)
}

func (n *parseNode) Open(ctx context.Context) Operator {
	o := &parseOperator{node: n, in: n.in.Open(ctx), src: n.src.evaluator(), batch: Batch{Cols: make([]Column, len(n.schema))}}
	for _, c := range n.cols {
		o.sinks = append(o.sinks, builderFor(newColumn(c.typ, batchSize)))
	}
	return o
}

type parseOperator struct {
	node   *parseNode
	in     Operator
	src    func(*Batch) Column
	sinks  []builder
	kept   []int32 // parse-where's rows that matched
	values []any
	batch  Batch
}

func (o *parseOperator) Next() (_ *Batch, err error) {
	defer catchFailure(&err)
	n := o.node
	for {
		b, err := o.in.Next()
		if b == nil || err != nil {
			return nil, err
		}
		texts := vectorOf[string](o.src(b))
		for _, s := range o.sinks {
			resetBuilder(s)
		}
		o.kept = o.kept[:0]
		for i, text := range texts.Data {
			if o.match(text) {
				o.kept = append(o.kept, int32(i))
			} else if !n.filter {
				for _, s := range o.sinks {
					s.appendValue(nil)
				}
				continue
			} else {
				continue
			}
			for k, s := range o.sinks {
				s.appendValue(o.values[k])
			}
		}
		if n.filter && len(o.kept) == 0 {
			continue
		}
		all := !n.filter || len(o.kept) == b.Len
		for i, col := range b.Cols {
			switch {
			case col == nil:
				o.batch.Cols[i] = nil
			case all:
				o.batch.Cols[i] = col
			default:
				o.batch.Cols[i] = gatherInto(o.batch.Cols[i], col, o.kept)
			}
		}
		for k, c := range n.cols {
			o.batch.Cols[c.slot] = o.sinks[k].column()
		}
		o.batch.Len = o.sinks[0].len()
		return &o.batch, nil
	}
}

// match matches text against the pattern and, when it matches, leaves the columns' values in
// o.values.
func (o *parseOperator) match(text string) bool {
	n := o.node
	m := n.re.FindStringSubmatchIndex(text)
	if m == nil {
		return false
	}
	o.values = o.values[:0]
	for _, c := range n.cols {
		lo, hi := m[2*c.group], m[2*c.group+1]
		if lo < 0 { // relaxed: the column's text was not of its type
			o.values = append(o.values, nil)
			continue
		}
		v := parsedValue(text[lo:hi], c.typ)
		if v == nil && c.typ != kusto.TypeString && !n.relaxed {
			return false
		}
		o.values = append(o.values, v)
	}
	return true
}

func (o *parseOperator) Close() { o.in.Close() }

// parsedValue converts a column's text to its type; nil when it does not convert.
func parsedValue(s string, t kusto.Type) any {
	switch t {
	case kusto.TypeString:
		return s
	case kusto.TypeDateTime:
		if v := convertValue(s, t); v != nil {
			return v
		}
		return usDateTime(s)
	}
	return convertValue(s, t)
}

var usDateTimePattern = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?))?$`)

// usDateTime reads the month/day/year form the docs' parse examples hold (02/17/2016 08:40:01),
// which Kusto's datetime parsing accepts; nil if s is not one.
func usDateTime(s string) any {
	m := usDateTimePattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil
	}
	iso := m[3] + "-" + m[1] + "-" + m[2] // ParseDateTime takes one-digit months, days and hours
	if m[4] != "" {
		iso += " " + m[4]
	}
	d, err := kusto.ParseDateTime(iso)
	if err != nil {
		return nil
	}
	return d
}

// resetBuilder empties a builder's vector, keeping its storage for the next batch.
func resetBuilder(b builder) { b.(interface{ reset() }).reset() }

func (b *vectorBuilder[T]) reset() { b.v.Data, b.v.Nulls = b.v.Data[:0], nil }
