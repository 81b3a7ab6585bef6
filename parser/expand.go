package parser

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// The operators that make rows out of values: mv-expand and mv-apply, which expand dynamic
// arrays and property bags into rows, and parse and parse-where, which split a string into
// columns by a pattern. They are listed in operatorMembers itself (ast.go), as sorting.go's are.

// MvExpandOp is `mv-expand [kind=(bag|array)] [with_itemindex=Index] [Name =] Expression [to
// typeof(Type)], … [limit RowLimit]` (https://learn.microsoft.com/kusto/query/mv-expand-operator).
type MvExpandOp struct {
	Pos     lexer.Position
	Keyword string         `parser:"@'mv-expand'"`
	Params  []*ExpandParam `parser:"@@*"`
	Items   []*ExpandItem  `parser:"@@ ( ',' @@ )*"`
	Limit   *ScalarExpr    `parser:"( 'limit' @@ )?"`
}

// MvApplyOp is `mv-apply [with_itemindex=Index] [Name =] Expression [to typeof(Type)], … [limit
// RowLimit] on (SubQuery)` (https://learn.microsoft.com/kusto/query/mv-apply-operator). The
// subquery's operators run over the rows each input row expands into. The context form
// (`with (…)`) is parsed only to be rejected by name.
type MvApplyOp struct {
	Pos     lexer.Position
	Keyword string          `parser:"@'mv-apply'"`
	Params  []*ExpandParam  `parser:"@@*"`
	Items   []*ExpandItem   `parser:"@@ ( ',' @@ )*"`
	Limit   *ScalarExpr     `parser:"( 'limit' @@ )?"`
	With    *mvApplyContext `parser:"( 'with' @@ )?"`
	On      []Operator      `parser:"'on' '(' @@ ( '|' @@ )* ')'"`
}

// mvApplyContext is mv-apply's `with (Name = Value, …)` context, parsed only to be rejected by
// name. It is a list of assignments rather than any tokens up to ')', so that a syntax error in it
// is explained like any other.
type mvApplyContext struct {
	Pos    lexer.Position
	Params []*NamedExpr `parser:"'(' ( @@ ( ',' @@ )* )? ')'"`
}

// ExpandParam is a `name = value` parameter of mv-expand and mv-apply: kind (or bagexpansion)
// and with_itemindex. The names are keywords here, as in Kusto, so that `Name = Expression`
// items are not taken for parameters.
type ExpandParam struct {
	Pos   lexer.Position
	Name  string `parser:"@( 'kind' | 'bagexpansion' | 'with_itemindex' ) '='"`
	Value *Name  `parser:"@@"`
}

// ExpandItem is one expanded expression: `[Name =] Expression [to typeof(Type)]`.
type ExpandItem struct {
	Pos      lexer.Position
	Name     *Name       `parser:"( @@ '=' )?"`
	Expr     *ScalarExpr `parser:"@@"`
	TypeName string      `parser:"( 'to' 'typeof' '(' @Ident ')' )?"`
	Type     kusto.Type  // dynamic unless TypeName says otherwise; set by the finisher
}

// ParseOp is `parse [kind=simple|regex|relaxed [flags=Flags]] Expression with Pattern`
// (https://learn.microsoft.com/kusto/query/parse-operator).
type ParseOp struct {
	Pos     lexer.Position
	Keyword string     `parser:"@'parse'"`
	Spec    *ParseSpec `parser:"@@"`
}

// ParseWhereOp is parse-where, which keeps only the rows whose string matches
// (https://learn.microsoft.com/kusto/query/parse-where-operator).
type ParseWhereOp struct {
	Pos     lexer.Position
	Keyword string     `parser:"@'parse-where'"`
	Spec    *ParseSpec `parser:"@@"`
}

// ParseSpec is what parse and parse-where share: the parameters, the string parsed, the pattern.
type ParseSpec struct {
	Pos     lexer.Position
	Params  []*ParseParam `parser:"@@*"`
	Source  *ScalarExpr   `parser:"@@ 'with'"`
	Pattern []*ParsePart  `parser:"@@+"`
	// Kind and Flags are the parameters' values, checked by the finisher: simple, regex or relaxed.
	Kind, Flags string
}

// ParseParam is `kind = value` or `flags = value`.
type ParseParam struct {
	Pos   lexer.Position
	Name  string `parser:"@( 'kind' | 'flags' ) '='"`
	Value string `parser:"@( Ident | String )"`
}

// ParsePart is one element of a parse pattern: `*`, a string constant, or `Column [: Type]`.
type ParsePart struct {
	Pos      lexer.Position
	Star     bool   `parser:"(  @'*'"`
	Raw      string `parser:" | @String"`
	Column   *Name  `parser:" | @@"`
	TypeName string `parser:"   ( ':' @Ident )? )"`
	// Text is Raw decoded; Type is the column's type (string unless TypeName says otherwise).
	Text string
	Type kusto.Type
}

func (*MvExpandOp) operator()   {}
func (*MvApplyOp) operator()    {}
func (*ParseOp) operator()      {}
func (*ParseWhereOp) operator() {}

func (o *MvExpandOp) Position() lexer.Position   { return o.Pos }
func (o *MvApplyOp) Position() lexer.Position    { return o.Pos }
func (o *ParseOp) Position() lexer.Position      { return o.Pos }
func (o *ParseWhereOp) Position() lexer.Position { return o.Pos }

func (o *MvExpandOp) scalars() []*ScalarExpr   { return expandScalars(o.Items, o.Limit) }
func (o *MvApplyOp) scalars() []*ScalarExpr    { return expandScalars(o.Items, o.Limit) }
func (o *ParseOp) scalars() []*ScalarExpr      { return []*ScalarExpr{o.Spec.Source} }
func (o *ParseWhereOp) scalars() []*ScalarExpr { return []*ScalarExpr{o.Spec.Source} }

func expandScalars(items []*ExpandItem, limit *ScalarExpr) []*ScalarExpr {
	var out []*ScalarExpr
	for _, it := range items {
		out = append(out, it.Expr)
	}
	if limit != nil {
		out = append(out, limit)
	}
	return out
}

func (o *MvExpandOp) finish(f *finisher) { f.expandItems("mv-expand", o.Params, o.Items) }

func (o *MvApplyOp) finish(f *finisher) {
	f.expandItems("mv-apply", o.Params, o.Items)
	for _, p := range o.Params {
		if p.Name != "with_itemindex" && p.Value.String() == "array" {
			f.fail(p.Pos, "unsupported: mv-apply %s=array; Kusto's mv-apply expands bags only as bags (use mv-expand kind=array inside the subquery)", p.Name)
		}
	}
	if o.With != nil {
		f.fail(o.With.Pos, "unsupported: mv-apply's with (…) context; Kustard runs mv-apply's subquery over the expanded rows only")
	}
	f.operators(o.On)
}

func (o *ParseOp) finish(f *finisher)      { f.parseSpec("parse", o.Spec) }
func (o *ParseWhereOp) finish(f *finisher) { f.parseSpec("parse-where", o.Spec) }

func (f *finisher) expandItems(op string, params []*ExpandParam, items []*ExpandItem) {
	seen := map[string]bool{}
	for _, p := range params {
		name := p.Name
		if name == "bagexpansion" {
			name = "kind"
		}
		if seen[name] {
			f.fail(p.Pos, "%s: %s is given twice", op, p.Name)
		}
		seen[name] = true
		if name == "kind" && p.Value.String() != "bag" && p.Value.String() != "array" {
			f.fail(p.Value.Pos, "%s: %s must be bag or array, not %q", op, p.Name, p.Value.String())
		}
	}
	for _, it := range items {
		it.Type = kusto.TypeDynamic
		if it.TypeName == "" {
			continue
		}
		t, ok := kusto.LookupType(it.TypeName)
		switch {
		case !ok:
			f.fail(it.Pos, "%s: unknown type %q in to typeof(…); expected bool, int, long, real, string, datetime, timespan, guid or dynamic", op, it.TypeName)
		case !t.Supported():
			f.fail(it.Pos, "%s: unsupported type %s", op, t)
		}
		it.Type = t
	}
}

func (f *finisher) parseSpec(op string, s *ParseSpec) {
	s.Kind = "simple"
	seen := map[string]bool{}
	for _, p := range s.Params {
		if seen[p.Name] {
			f.fail(p.Pos, "%s: %s is given twice", op, p.Name)
		}
		seen[p.Name] = true
		v := p.Value
		if strings.HasPrefix(v, "'") || strings.HasPrefix(v, "\"") || strings.HasPrefix(v, "@") {
			d, _, err := kusto.DecodeStrings(v)
			if err != nil {
				f.fail(p.Pos, "%s: %v", op, err)
			}
			v = d
		}
		switch p.Name {
		case "kind":
			switch {
			case v == "simple" || v == "regex" || v == "relaxed" && op == "parse":
				s.Kind = v
			case v == "relaxed":
				f.fail(p.Pos, "%s: kind=relaxed is parse's, not parse-where's; expected simple or regex", op)
			default:
				f.fail(p.Pos, "%s: unknown kind %q; expected simple, regex or relaxed", op, v)
			}
		case "flags":
			s.Flags = v
		}
	}
	for _, p := range s.Params {
		if p.Name != "flags" {
			continue
		}
		if s.Kind != "regex" {
			f.fail(p.Pos, "%s: flags are for kind=regex", op)
		}
		for _, r := range s.Flags {
			if !strings.ContainsRune("imsU", r) {
				f.fail(p.Pos, "%s: unknown regex flag %q; Kusto's are i, m, s and U", op, string(r))
				break
			}
		}
	}
	columns := map[string]bool{}
	for i, p := range s.Pattern {
		switch {
		case p.Raw != "":
			text, _, err := kusto.DecodeStrings(p.Raw)
			if err != nil {
				f.fail(p.Pos, "%s: %v", op, err)
			}
			p.Text = text
		case p.Column != nil:
			name := p.Column.String()
			if columns[name] {
				f.fail(p.Pos, "%s: column %q appears twice in the pattern", op, name)
			}
			columns[name] = true
			p.Type = kusto.TypeString
			if p.TypeName != "" {
				t, ok := kusto.LookupType(p.TypeName)
				switch {
				case !ok:
					f.fail(p.Pos, "%s: unknown type %q for column %q; expected bool, int, long, real, string, datetime, timespan, guid or dynamic", op, p.TypeName, name)
				case !t.Supported():
					f.fail(p.Pos, "%s: unsupported type %s for column %q", op, t, name)
				}
				p.Type = t
			}
		case p.Star && i > 0 && s.Pattern[i-1].Column != nil && s.Pattern[i-1].Type == kusto.TypeString && s.Kind != "regex":
			f.fail(p.Pos, "%s: * cannot follow the string column %q: where it ends would be ambiguous; put a string constant between them", op, s.Pattern[i-1].Column.String())
		}
	}
	if len(columns) == 0 {
		f.fail(s.Pos, "%s: the pattern names no column to extract", op)
	}
}
