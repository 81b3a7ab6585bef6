package parser

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// finish completes a parsed block: it decodes values the grammar captured as text, builds the
// expression trees, and checks what the grammar cannot (column types, literal values); check,
// when set, checks each command against what the engine knows of it.
func finish(src *kusto.Source, b *Block, check CommandCheck) error {
	f := &finisher{src: src, check: check}
	f.block(b)
	return f.err
}

type finisher struct {
	src   *kusto.Source
	check CommandCheck
	err   error // the first error found; later checks are skipped once it is set
}

func (f *finisher) fail(pos lexer.Position, format string, args ...any) {
	if f.err == nil {
		f.err = kusto.Errorf(kusto.KindSyntax, f.src, pos.Offset, format, args...)
	}
}

func (f *finisher) block(b *Block) {
	b.Source = f.src
	if b.Query != nil {
		f.query(b.Query)
		return
	}
	f.command(b.Command)
	f.operators(b.Then)
}

// command finishes any command node, built-in or registered, by the types of its fields, in
// their order: operation ids, column lists and with-properties are decoded, then the command is
// checked, then the blocks it holds (an ingest's source) are finished.
func (f *finisher) command(c Command) {
	var blocks []*Block
	v := reflect.ValueOf(c).Elem()
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch x := v.Field(i).Interface().(type) {
		case *GuidArg:
			if x != nil {
				f.guid(x)
			}
		case []*GuidArg:
			for _, id := range x {
				f.guid(id)
			}
		case *StringArg:
			if x != nil {
				f.stringArg(x)
			}
		case []*StringArg:
			for _, a := range x {
				f.stringArg(a)
			}
		case []*ColumnDef:
			seen := map[string]bool{}
			for _, col := range x {
				f.columnDef(col)
				if seen[col.Name.String()] {
					f.fail(col.Pos, "column %q is declared twice", col.Name.String())
				}
				seen[col.Name.String()] = true
			}
		case *Properties:
			f.properties(x)
		case *Block:
			if x != nil {
				blocks = append(blocks, x)
			}
		}
	}
	if f.err == nil && f.check != nil {
		f.err = f.check(f.src, c)
	}
	for _, b := range blocks {
		f.block(b)
	}
}

func (f *finisher) query(q *Query) {
	f.statements(q.Statements)
	f.pipeline(q.Body)
}

func (f *finisher) pipeline(p *Pipeline) {
	switch s := p.Source.(type) {
	case *RangeSource:
		f.expr(s.From)
		f.expr(s.To)
		f.expr(s.Step)
	case *DatatableSource:
		for _, col := range s.Columns {
			f.columnDef(col)
		}
		if s.Fast != nil {
			s.Values, s.Fast = s.Fast.items, nil
		}
		if s.List != nil && f.err == nil {
			s.Literals, f.err = decodeValues(f.src, s.List.Pos.Offset, s.List.Text)
			s.List = nil
		}
		for _, v := range s.Values {
			f.expr(v)
		}
		if n, count := len(s.Columns), len(s.Values)+len(s.Literals); count%n != 0 {
			f.fail(s.Pos, "datatable has %d values for %d columns; the count must be a multiple of %d", count, n, n)
		}
	case *ExternalDataSource:
		seen := map[string]bool{}
		for _, col := range s.Columns {
			f.columnDef(col)
			if seen[col.Name.String()] {
				f.fail(col.Pos, "column %q is declared twice", col.Name.String())
			}
			seen[col.Name.String()] = true
		}
		for _, a := range s.Sources {
			f.stringArg(a)
		}
		if s.With != nil {
			f.properties(s.With)
		}
	case *PrintSource:
		f.namedExprs(s.Columns)
	case *ParenSource:
		f.pipeline(s.Body)
	case finisherHook:
		s.finish(f)
	case *CallSource:
		f.funcArgs(s.Args)
	}
	f.operators(p.Ops)
}

func (f *finisher) operators(ops []Operator) {
	for _, op := range ops {
		for _, e := range op.scalars() {
			f.expr(e)
		}
		if h, ok := op.(finisherHook); ok {
			h.finish(f)
		}
		if inv, ok := op.(*InvokeOp); ok {
			f.funcArgs(inv.Args)
		}
	}
}

func (f *finisher) namedExprs(list []*NamedExpr) {
	for _, n := range list {
		f.expr(n.Expr)
	}
}

func (f *finisher) expr(e *ScalarExpr) {
	if e == nil || f.err != nil {
		return
	}
	slow := e.Fast == nil // only the grammar builds a TabularExpr
	t, err := e.tree(f.src)
	if err != nil {
		f.err = err
		return
	}
	if slow {
		Inspect(t, func(x Expr) {
			if te, ok := x.(*TabularExpr); ok {
				f.pipeline(te.Body)
			}
		})
	}
}

func (f *finisher) columnDef(c *ColumnDef) {
	t, ok := kusto.LookupType(c.TypeName)
	switch {
	case !ok:
		f.fail(c.Pos, "unknown type %q for column %q; expected bool, int, long, real, string, datetime, timespan, guid or dynamic", c.TypeName, c.Name.String())
	case !t.Supported():
		f.fail(c.Pos, "unsupported type %s for column %q", t, c.Name.String())
	}
	c.Type = t
}

func (f *finisher) guid(g *GuidArg) {
	tok := g.Tokens[0]
	switch tok.Type {
	case TokGUID:
		g.Value = uuid.MustParse(tok.Value)
	case TokString:
		s, _, err := kusto.DecodeStrings(tok.Value)
		if err == nil {
			g.Value, err = kusto.ParseGUID(strings.TrimSpace(s))
		}
		if err != nil {
			f.fail(g.Pos, "%s is not a valid operation id; expected a guid such as 078b2641-f10d-4694-96f8-1ee2b75dda48", shorten(tok.Value))
		}
	case TokTypedLit:
		lit, err := tokenLiteral(f.src, tok)
		if err != nil || lit.Type != kusto.TypeGUID || lit.Value == nil {
			f.fail(g.Pos, "%s is not a valid operation id; expected a guid", shorten(tok.Value))
			return
		}
		g.Value = lit.Value.(uuid.UUID)
	}
}

func (f *finisher) stringArg(a *StringArg) {
	s, _, err := kusto.DecodeStrings(a.Tokens[0].Value)
	if err != nil {
		f.fail(a.Pos, "%s is not a valid string: %v", shorten(a.Tokens[0].Value), err)
		return
	}
	a.Value = s
}

// properties decodes the values of a with list. Which names a command takes, and their types,
// the engine checks (its command registry has the property specs); a value that does not decode
// is kept as Invalid for it to report under the property's canonical name.
func (f *finisher) properties(p *Properties) {
	if p == nil {
		return
	}
	for _, prop := range p.List {
		prop.Value, prop.Invalid = f.propertyValue(prop)
	}
}

func (f *finisher) propertyValue(p *Property) (kusto.Literal, error) {
	tok := p.Tokens[len(p.Tokens)-1]
	if tok.Type == TokIdent {
		if b, err := kusto.ParseBool(tok.Value); err == nil {
			return kusto.Literal{Type: kusto.TypeBool, Value: b}, nil
		}
		return kusto.Literal{}, fmt.Errorf("%s is not a value; quote strings, as in %s=%q", tok.Value, p.Name.String(), tok.Value)
	}
	lit, err := tokenLiteral(f.src, tok)
	if err != nil {
		return kusto.Literal{}, fmt.Errorf("%v", err.(*kusto.Error).Msg)
	}
	return lit, nil
}
