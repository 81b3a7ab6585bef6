package parser

import (
	"fmt"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/kustard/kustard/kusto"
)

// Query statements other than the tabular expression: let (a value, or a user-defined function
// or view), declare query_parameters, and set. Kusto separates them with ';'.
// Docs: query/let-statement.md, query/functions/user-defined-functions.md,
// query/query-parameters-statement.md, query/set-statement.md.

// Statement is one statement before a query's tabular expression.
type Statement struct {
	Pos     lexer.Position
	Let     *Let           `parser:"  @@"`
	Declare *DeclareParams `parser:"| @@"`
	Set     *SetOption     `parser:"| @@"`
}

// FuncDef is a user-defined function, `[view] (params) { [let …;]* value }`, the value of a let.
// Its body's last statement is its value: a tabular expression, or a scalar one, which may still
// name a table or call a tabular function (and be followed by operators). A call whose first
// argument is a parenthesized tabular expression (`f((range …), 1)`) is read as a tabular one,
// as Let's value is.
type FuncDef struct {
	Pos     lexer.Position
	View    bool        `parser:"@'view'?"`
	Params  []*Param    `parser:"'(' ( @@ ( ',' @@ )* )? ')'"`
	Lets    []*Let      `parser:"'{' ( @@ ';' )*"`
	Tabular *Pipeline   `parser:"( (?= 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) ( '|' | '(' '(' ( 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) '|' ) ) | '(' ( 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) '|' ) ) @@"`
	Scalar  *ScalarExpr `parser:"| @@"`
	Then    []Operator  `parser:"  ( '|' @@ )* ) ';'? '}'"`
}

// Param is a parameter of a function or a query: `name:type [= default]`, or a tabular one,
// `T:(col:type, …)` or `T:(*)`.
type Param struct {
	Pos      lexer.Position
	Name     *Name        `parser:"@@ ':'"`
	Tabular  bool         `parser:"( @'('"`
	Any      bool         `parser:"  ( @'*'"`
	Columns  []*ColumnDef `parser:"  | @@ ( ',' @@ )* ) ')'"`
	TypeName string       `parser:"| @Ident )"`
	Default  *ScalarExpr  `parser:"( '=' @@ )?"`
	Type     kusto.Type   // of a scalar parameter
}

// DeclareParams is `declare query_parameters(name:type [= default], …)`.
type DeclareParams struct {
	Pos    lexer.Position
	Params []*Param `parser:"'declare' 'query_parameters' '(' @@ ( ',' @@ )* ')'"`
}

// SetOption is `set name [= value]`, which sets a request property for the query.
type SetOption struct {
	Pos    lexer.Position
	Name   *Name `parser:"'set' @@"`
	Tokens []lexer.Token
	Text   string `parser:"( '=' @'-'? @( String | Int | Real | Timespan | TypedLit | GUID | Ident ) )?"`
	// Value is the value written, decoded; a set without one (set notruncation) is true.
	Value kusto.Literal
	// ValueAt is the offset of the value, its sign included, or of the name when there is no
	// value: where a bad value is reported.
	ValueAt int
}

// CallSource is a call of a tabular user-defined function as a pipeline's source: `f(…)`. As
// with TableRef, the keywords that start statements and sources are not function names.
type CallSource struct {
	Pos  lexer.Position
	Func *Name      `parser:"(?! 'let' | 'set' | 'declare' | 'alias' | 'pattern' | 'restrict' | 'print' | 'range' | 'datatable' | 'externaldata' | 'union' | 'database' | 'cluster' ) @@ '('"`
	Args []*FuncArg `parser:"( @@ ( ',' @@ )* )? ')'"`
}

// FuncArg is an argument of a user-defined function called as a source or with invoke: a
// tabular expression, or a scalar one (which may name a table), optionally by name (`c = 7`).
type FuncArg struct {
	Pos     lexer.Position
	Name    *Name       `parser:"( @@ '=' )?"`
	Tabular *Pipeline   `parser:"( (?= '(' ( 'range' | 'datatable' | 'externaldata' | 'print' | ( Ident | QuotedIdent ) ( '|' | ')' ) ) | 'range' | 'datatable' | 'externaldata' | 'print' | 'union' | ( Ident | QuotedIdent ) '|' ) @@"`
	Scalar  *ScalarExpr `parser:"| @@ )"`
}

// InvokeOp is `invoke f(…)`: calls a tabular function with the operator's input as its first
// argument.
type InvokeOp struct {
	Pos     lexer.Position
	Keyword string     `parser:"@'invoke'"`
	Func    *Name      `parser:"@@ '('"`
	Args    []*FuncArg `parser:"( @@ ( ',' @@ )* )? ')'"`
}

func (*CallSource) tabularSource() {}

func (*InvokeOp) operator()                  {}
func (o *InvokeOp) Position() lexer.Position { return o.Pos }
func (o *InvokeOp) scalars() []*ScalarExpr   { return nil } // its arguments are finished with its pipelines

// statements finishes a query's statements.
func (f *finisher) statements(list []*Statement) {
	for _, s := range list {
		switch {
		case s.Let != nil:
			f.let(s.Let)
		case s.Declare != nil:
			f.params(s.Declare.Params, "query parameter")
		default:
			f.setOption(s.Set)
		}
	}
}

func (f *finisher) let(l *Let) {
	switch {
	case l.Func != nil:
		f.funcDef(l.Func)
	case l.Tabular != nil:
		f.pipeline(l.Tabular)
	default:
		f.expr(l.Scalar)
		f.operators(l.Then)
	}
}

func (f *finisher) funcDef(d *FuncDef) {
	f.params(d.Params, "parameter")
	for _, l := range d.Lets {
		f.let(l)
	}
	if d.Tabular != nil {
		f.pipeline(d.Tabular)
		return
	}
	f.expr(d.Scalar)
	f.operators(d.Then)
}

// params decodes parameter types and checks the rules of the docs: names are unique, tabular
// parameters come first (and only functions have them), and defaults, which only scalars have,
// are followed only by defaults.
func (f *finisher) params(list []*Param, what string) {
	seen := map[string]bool{}
	defaults := false
	for i, p := range list {
		name := p.Name.String()
		if seen[name] {
			f.fail(p.Pos, "%s %q is declared twice", what, name)
		}
		seen[name] = true
		if p.Tabular {
			switch {
			case what != "parameter":
				f.fail(p.Pos, "%s %q must be a scalar; only a function takes tabular parameters", what, name)
			case i > 0 && !list[i-1].Tabular:
				f.fail(p.Pos, "tabular parameter %q must come before the scalar parameters", name)
			case p.Default != nil:
				f.fail(p.Default.Pos, "tabular parameter %q cannot have a default value", name)
			}
			cols := map[string]bool{}
			for _, c := range p.Columns {
				f.columnDef(c)
				if cols[c.Name.String()] {
					f.fail(c.Pos, "column %q is declared twice", c.Name.String())
				}
				cols[c.Name.String()] = true
			}
			continue
		}
		t, ok := kusto.LookupType(p.TypeName)
		switch {
		case !ok:
			f.fail(p.Pos, "unknown type %q for %s %q; expected bool, int, long, real, string, datetime, timespan, guid or dynamic", p.TypeName, what, name)
		case !t.Supported():
			f.fail(p.Pos, "unsupported type %s for %s %q", t, what, name)
		}
		p.Type = t
		switch {
		case p.Default != nil:
			f.expr(p.Default)
			defaults = true
			if t == kusto.TypeDynamic {
				f.fail(p.Default.Pos, "%s %q of type dynamic cannot have a default value", what, name)
			}
		case defaults && what == "parameter":
			f.fail(p.Pos, "parameter %q must have a default value: it follows one that has", name)
		}
	}
}

// setOption decodes a set statement's value.
func (f *finisher) setOption(s *SetOption) {
	s.ValueAt = s.Name.Pos.Offset
	if s.Text == "" {
		s.Value = kusto.Literal{Type: kusto.TypeBool, Value: true}
		return
	}
	tok := s.Tokens[len(s.Tokens)-1]
	s.ValueAt = tok.Pos.Offset
	if sign := s.Tokens[len(s.Tokens)-2]; sign.Type == TokPunct && sign.Value == "-" {
		s.ValueAt = sign.Pos.Offset
		f.negativeSetValue(s, tok)
		return
	}
	if tok.Type == TokIdent {
		b, err := kusto.ParseBool(tok.Value)
		if err != nil {
			f.fail(tok.Pos, "%s is not a value; quote strings, as in set %s = %q", tok.Value, s.Name.String(), tok.Value)
			return
		}
		s.Value = kusto.Literal{Type: kusto.TypeBool, Value: b}
		return
	}
	lit, err := tokenLiteral(f.src, tok)
	if err != nil {
		f.err = err
		return
	}
	s.Value = lit
}

// negativeSetValue decodes the value of `set name = -tok`: a sign goes only before a number.
func (f *finisher) negativeSetValue(s *SetOption, tok lexer.Token) {
	switch tok.Type {
	case TokInt:
		n, err := kusto.ParseInteger("-"+tok.Value, 64)
		if err != nil {
			f.fail(tok.Pos, "number %s is out of range for long", tok.Value)
			return
		}
		s.Value = kusto.Literal{Type: kusto.TypeLong, Value: n}
	case TokReal, TokTimespan:
		lit, err := tokenLiteral(f.src, tok)
		if err != nil {
			f.err = err
			return
		}
		switch v := lit.Value.(type) {
		case float64:
			lit.Value = -v
		case kusto.Timespan:
			lit.Value = -v
		}
		s.Value = lit
	default:
		f.fail(lexer.Position{Offset: s.ValueAt}, "set %s: a minus sign goes only before a number", s.Name.String())
	}
}

// funcArgs finishes the arguments of a function called as a source or with invoke.
func (f *finisher) funcArgs(args []*FuncArg) {
	for _, a := range args {
		if a.Tabular != nil {
			f.pipeline(a.Tabular)
		} else {
			f.expr(a.Scalar)
		}
	}
}

// String writes a parameter list back as Kusto text, for messages.
func paramsString(list []*Param) string {
	var out []string
	for _, p := range list {
		s := p.Name.String() + ":"
		switch {
		case p.Any:
			s += "(*)"
		case p.Tabular:
			var cols []string
			for _, c := range p.Columns {
				cols = append(cols, c.Name.String()+":"+c.Type.String())
			}
			s += "(" + strings.Join(cols, ", ") + ")"
		default:
			s += p.Type.String()
		}
		if p.Default != nil {
			s += fmt.Sprintf(" = %s", ExprString(p.Default.Tree))
		}
		out = append(out, s)
	}
	return "(" + strings.Join(out, ", ") + ")"
}

// Signature is a function's parameter list as Kusto text: (a:long, b:string = "x").
func (d *FuncDef) Signature() string { return paramsString(d.Params) }
