package parser

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// The column-shaping operators (project-keep, project-rename, project-reorder; project-away is in
// ast.go), and getschema, as, sample, serialize and render. Like the ordering operators they are
// listed in operatorMembers itself (ast.go).

// ColumnPattern is a column name or a wildcard pattern (a*, *_id, ['a b']*), written without
// spaces. The finisher decodes it into Literal parts and wildcards; `asc` and `desc` end it, for
// project-reorder.
type ColumnPattern struct {
	Pos    lexer.Position
	Tokens []lexer.Token
	Raw    []string `parser:"( (?! 'asc' | 'desc' | 'granny-asc' | 'granny-desc' ) @( Ident | QuotedIdent | '*' | Int ) )+"`
	// Parts are the pattern's literal pieces, with "" between two wildcards' pieces; Wildcard says
	// whether it has a *. A name is one part and no wildcard.
	Parts    []string
	Wildcard bool
	Text     string // as written, brackets and all
}

func (p *ColumnPattern) String() string { return p.Text }

// Match reports whether a column name matches the pattern: a wildcard stands for any run of
// characters, as in Kusto's column patterns; names match case-sensitively.
func (p *ColumnPattern) Match(name string) bool {
	if !p.Wildcard {
		return name == p.Parts[0]
	}
	first, last := p.Parts[0], p.Parts[len(p.Parts)-1]
	if !strings.HasPrefix(name, first) {
		return false
	}
	name = name[len(first):]
	for _, mid := range p.Parts[1 : len(p.Parts)-1] {
		i := strings.Index(name, mid)
		if i < 0 {
			return false
		}
		name = name[i+len(mid):]
	}
	return strings.HasSuffix(name, last)
}

// ProjectKeepOp is `project-keep ColumnNameOrPattern, …`.
type ProjectKeepOp struct {
	Pos     lexer.Position
	Keyword string           `parser:"@'project-keep'"`
	Columns []*ColumnPattern `parser:"@@ ( ',' @@ )*"`
}

// ProjectRenameOp is `project-rename NewName = ExistingName, …`.
type ProjectRenameOp struct {
	Pos     lexer.Position
	Keyword string        `parser:"@'project-rename'"`
	Columns []*RenamePair `parser:"@@ ( ',' @@ )*"`
}

// RenamePair is `NewName = ExistingName`.
type RenamePair struct {
	Pos lexer.Position
	New *Name `parser:"@@ '='"`
	Old *Name `parser:"@@"`
}

// ProjectReorderOp is `project-reorder ColumnNameOrPattern [asc | desc | granny-asc | granny-desc], …`.
type ProjectReorderOp struct {
	Pos     lexer.Position
	Keyword string        `parser:"@'project-reorder'"`
	Columns []*ReorderKey `parser:"@@ ( ',' @@ )*"`
}

// ReorderKey is one pattern of project-reorder and how to order the columns it matches.
type ReorderKey struct {
	Pos     lexer.Position
	Pattern *ColumnPattern `parser:"@@"`
	Order   string         `parser:"@( 'asc' | 'desc' | 'granny-asc' | 'granny-desc' )?"`
}

// GetSchemaOp is `getschema`.
type GetSchemaOp struct {
	Pos     lexer.Position
	Keyword string `parser:"@'getschema'"`
}

// AsOp is `as [hint.materialized = Bool] Name`.
type AsOp struct {
	Pos     lexer.Position
	Keyword string           `parser:"@'as'"`
	Params  []*OperatorParam `parser:"@@*"`
	Name    *Name            `parser:"@@"`
}

// SampleOp is `sample NumberOfRows`.
type SampleOp struct {
	Pos     lexer.Position
	Keyword string      `parser:"@'sample'"`
	Count   *ScalarExpr `parser:"@@"`
}

// SerializeOp is `serialize [Name = Expression, …]`.
type SerializeOp struct {
	Pos     lexer.Position
	Keyword string       `parser:"@'serialize'"`
	Columns []*NamedExpr `parser:"( @@ ( ',' @@ )* )?"`
}

// RenderOp is `render Visualization [with (PropertyName = PropertyValue, …)]`.
type RenderOp struct {
	Pos           lexer.Position
	Keyword       string        `parser:"@'render'"`
	Visualization *Name         `parser:"@@"`
	With          bool          `parser:"( @'with' '('"`
	Items         []*renderItem `parser:"  ( @@ ( ',' @@ )* )? ')' )?"`
	// Properties are the items gathered into properties by the finisher.
	Properties []*RenderProperty
}

// renderItem is one comma-separated item of render's with list: `name = value`, or a bare name
// that continues the names of the property before it (ycolumns = a, b). Gathering them after
// parsing keeps the grammar free of a two-token lookahead.
type renderItem struct {
	Pos    lexer.Position
	Name   *Name  `parser:"@@"`
	Assign bool   `parser:"( @'='"`
	Number string `parser:"  ( @( '-'? ( Int | Real ) )"`
	String string `parser:"  | @String"`
	Value  *Name  `parser:"  | @@ ) )?"`
}

// RenderProperty is one `name = value` of render's with list. A value is a number, a string, or
// one or more names separated by commas (ycolumns = a, b).
type RenderProperty struct {
	Pos    lexer.Position
	Name   *Name
	Number string
	String string
	Names  []*Name
	// Text is the value decoded: the string's contents, the number or the names joined by ",".
	Text string
}

func (*ProjectKeepOp) operator()    {}
func (*ProjectRenameOp) operator()  {}
func (*ProjectReorderOp) operator() {}
func (*GetSchemaOp) operator()      {}
func (*AsOp) operator()             {}
func (*SampleOp) operator()         {}
func (*SerializeOp) operator()      {}
func (*RenderOp) operator()         {}

func (o *ProjectKeepOp) Position() lexer.Position    { return o.Pos }
func (o *ProjectRenameOp) Position() lexer.Position  { return o.Pos }
func (o *ProjectReorderOp) Position() lexer.Position { return o.Pos }
func (o *GetSchemaOp) Position() lexer.Position      { return o.Pos }
func (o *AsOp) Position() lexer.Position             { return o.Pos }
func (o *SampleOp) Position() lexer.Position         { return o.Pos }
func (o *SerializeOp) Position() lexer.Position      { return o.Pos }
func (o *RenderOp) Position() lexer.Position         { return o.Pos }

func (o *ProjectKeepOp) scalars() []*ScalarExpr    { return nil }
func (o *ProjectRenameOp) scalars() []*ScalarExpr  { return nil }
func (o *ProjectReorderOp) scalars() []*ScalarExpr { return nil }
func (o *GetSchemaOp) scalars() []*ScalarExpr      { return nil }
func (o *AsOp) scalars() []*ScalarExpr             { return nil }
func (o *SampleOp) scalars() []*ScalarExpr         { return []*ScalarExpr{o.Count} }
func (o *SerializeOp) scalars() []*ScalarExpr      { return namedScalars(o.Columns) }
func (o *RenderOp) scalars() []*ScalarExpr         { return nil }

func (o *ProjectKeepOp) finish(f *finisher) { f.patterns(o.Columns) }
func (o *ProjectAwayOp) finish(f *finisher) { f.patterns(o.Columns) }
func (o *ProjectReorderOp) finish(f *finisher) {
	for _, k := range o.Columns {
		f.pattern(k.Pattern)
	}
}
func (o *RenderOp) finish(f *finisher) {
	o.Properties = o.Properties[:0]
	for _, it := range o.Items {
		if !it.Assign {
			last := len(o.Properties) - 1
			if last < 0 || o.Properties[last].Names == nil {
				f.fail(it.Pos, "expected name = value in render's with list, not %s alone", it.Name)
				continue
			}
			o.Properties[last].Names = append(o.Properties[last].Names, it.Name)
			continue
		}
		p := &RenderProperty{Pos: it.Pos, Name: it.Name, Number: it.Number, String: it.String}
		if it.Value != nil {
			p.Names = []*Name{it.Value}
		}
		o.Properties = append(o.Properties, p)
	}
	for _, p := range o.Properties {
		switch {
		case p.Names != nil:
			names := make([]string, len(p.Names))
			for i, n := range p.Names {
				names[i] = n.String()
			}
			p.Text = strings.Join(names, ",")
		case p.String != "":
			s, _, err := kusto.DecodeStrings(p.String)
			if err != nil {
				f.fail(p.Pos, "%v", err)
				continue
			}
			p.Text = s
		default:
			p.Text = p.Number
		}
	}
}

func (f *finisher) patterns(list []*ColumnPattern) {
	for _, p := range list {
		f.pattern(p)
	}
}

// pattern decodes a column pattern's tokens, which must touch: `a *` is two things, not a*.
func (f *finisher) pattern(p *ColumnPattern) {
	if f.err != nil {
		return
	}
	var text strings.Builder
	p.Parts = []string{""}
	for i, t := range p.Tokens {
		if i > 0 {
			prev := p.Tokens[i-1]
			if prev.Pos.Offset+len(prev.Value) != t.Pos.Offset {
				f.fail(t.Pos, "expected \",\" between column names; a wildcard pattern is written without spaces, as in a*")
				return
			}
		}
		text.WriteString(t.Value)
		switch {
		case t.Type == TokPunct && t.Value == "*":
			p.Wildcard = true
			p.Parts = append(p.Parts, "")
		case t.Type == TokQuotedIdent:
			name, err := kusto.DecodeBracketedName(t.Value)
			if err != nil {
				f.fail(t.Pos, "%v", err)
				return
			}
			p.Parts[len(p.Parts)-1] += name
		default:
			p.Parts[len(p.Parts)-1] += t.Value
		}
	}
	p.Text = text.String()
}
