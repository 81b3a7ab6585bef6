package parser

import "github.com/alecthomas/participle/v2/lexer"

// LookupOp is `lookup [kind=leftouter|inner] Right on Condition, …`
// (https://learn.microsoft.com/kusto/query/lookup-operator): a join whose right side is a small
// dimension table, and whose right key columns are not repeated in the output. Its right side
// and conditions are join's.
type LookupOp struct {
	Pos    lexer.Position
	Params []*OperatorParam `parser:"'lookup' @@*"`
	Right  *JoinRight       `parser:"@@"`
	On     []*JoinCondition `parser:"'on' @@ ( ( ',' | 'and' ) @@ )*"`
}

func (*LookupOp) operator()                  {}
func (o *LookupOp) Position() lexer.Position { return o.Pos }
func (o *LookupOp) scalars() []*ScalarExpr   { return nil }
func (o *LookupOp) finish(f *finisher)       { f.joinSides("lookup", o.Right, o.On) }

func init() { operatorMembers = append(operatorMembers, &LookupOp{}) }
