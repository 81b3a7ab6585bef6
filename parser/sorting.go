package parser

import "github.com/alecthomas/participle/v2/lexer"

// The ordering operators: sort (alias order), top and distinct. They are listed in
// operatorMembers itself (ast.go), not appended from an init: the grammar and the keyword
// tables are built during package initialization (expected.go), before any init runs.

// SortKey is `expr [asc | desc] [nulls first | nulls last]`, a key of sort and top.
type SortKey struct {
	Pos   lexer.Position
	Expr  *ScalarExpr `parser:"@@"`
	Order string      `parser:"@( 'asc' | 'desc' )?"`
	Nulls string      `parser:"( 'nulls' @( 'first' | 'last' ) )?"`
}

// SortOp is `sort by key, …` (alias `order by`). The keyword is a field of its own so that
// `by` is not read as a keyword that starts an operator (LeadingKeywords reads the first field).
type SortOp struct {
	Pos     lexer.Position
	Keyword string     `parser:"@( 'sort' | 'order' )"`
	Keys    []*SortKey `parser:"'by' @@ ( ',' @@ )*"`
}

// TopOp is `top N by key, …`.
type TopOp struct {
	Pos     lexer.Position
	Keyword string      `parser:"@'top'"`
	Count   *ScalarExpr `parser:"@@"`
	Keys    []*SortKey  `parser:"'by' @@ ( ',' @@ )*"`
}

// DistinctOp is `distinct column, …` or `distinct *`.
type DistinctOp struct {
	Pos     lexer.Position
	Keyword string  `parser:"@'distinct'"`
	Star    bool    `parser:"( @'*'"`
	Columns []*Name `parser:"| @@ ( ',' @@ )* )"`
}

func (*SortOp) operator()     {}
func (*TopOp) operator()      {}
func (*DistinctOp) operator() {}

func (o *SortOp) Position() lexer.Position     { return o.Pos }
func (o *TopOp) Position() lexer.Position      { return o.Pos }
func (o *DistinctOp) Position() lexer.Position { return o.Pos }

func (o *SortOp) scalars() []*ScalarExpr     { return keyScalars(nil, o.Keys) }
func (o *TopOp) scalars() []*ScalarExpr      { return keyScalars([]*ScalarExpr{o.Count}, o.Keys) }
func (o *DistinctOp) scalars() []*ScalarExpr { return nil }

func keyScalars(out []*ScalarExpr, keys []*SortKey) []*ScalarExpr {
	for _, k := range keys {
		out = append(out, k.Expr)
	}
	return out
}
