package parser

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// join and union: the operators that read more than one tabular input. Their other inputs are
// pipelines of their own, which the finisher finishes through finish (see finisherHook).

// JoinOp is `join [kind=Flavor] [hint.name=value …] Right on Condition, …`
// (https://learn.microsoft.com/kusto/query/join-operator).
type JoinOp struct {
	Pos    lexer.Position
	Params []*OperatorParam `parser:"'join' @@*"`
	Right  *JoinRight       `parser:"@@"`
	On     []*JoinCondition `parser:"'on' @@ ( ( ',' | 'and' ) @@ )*"`
}

// JoinRight is the right side of a join: a parenthesized tabular expression or a table name.
type JoinRight struct {
	Pos   lexer.Position
	Paren *Pipeline `parser:"  '(' @@ ')'"`
	Table *TableRef `parser:"| @@"`
}

// OperatorParam is one `name = value` parameter of join or union: kind=inner,
// hint.strategy=broadcast, withsource=Source. Name is the dotted name as written.
type OperatorParam struct {
	Pos   lexer.Position
	Name  string `parser:"@Ident ( @'.' @Ident )? '='"`
	Value string `parser:"@( Ident | QuotedIdent | Int | String )"`
}

// JoinCondition is `Column` (equality by name) or `$left.A == $right.B` (equality by value);
// the finisher puts $left first when it is written second.
type JoinCondition struct {
	Pos       lexer.Position
	FirstSide string `parser:"(  @( '$left' | '$right' ) '.'"`
	First     *Name  `parser:"   @@ '=='"`
	OtherSide string `parser:"   @( '$left' | '$right' ) '.'"`
	Other     *Name  `parser:"   @@"`
	Column    *Name  `parser:" | @@ )"`
	// Left and Right are the columns compared, filled in by the finisher.
	Left, Right *Name
}

// UnionOp is `T | union [param=value …] Leg, …` (https://learn.microsoft.com/kusto/query/union-operator).
type UnionOp struct {
	Pos    lexer.Position
	Params []*OperatorParam `parser:"'union' @@*"`
	Legs   []*UnionLeg      `parser:"@@ ( ',' @@ )*"`
}

// UnionSource is `union [param=value …] Leg, …` starting a pipeline.
type UnionSource struct {
	Pos    lexer.Position
	Params []*OperatorParam `parser:"'union' @@*"`
	Legs   []*UnionLeg      `parser:"@@ ( ',' @@ )*"`
}

// UnionLeg is one input of a union: a parenthesized tabular expression or a table name, which
// may end in a wildcard (T*) that the finisher rejects.
type UnionLeg struct {
	Pos      lexer.Position
	Paren    *Pipeline `parser:"  '(' @@ ')'"`
	Table    *TableRef `parser:"| @@"`
	Wildcard bool      `parser:"  @'*'?"`
}

func (*JoinOp) operator()                   {}
func (*UnionOp) operator()                  {}
func (*UnionSource) tabularSource()         {}
func (o *JoinOp) Position() lexer.Position  { return o.Pos }
func (o *UnionOp) Position() lexer.Position { return o.Pos }
func (o *JoinOp) scalars() []*ScalarExpr    { return nil }
func (o *UnionOp) scalars() []*ScalarExpr   { return nil }
func (o *JoinOp) finish(f *finisher)        { f.join(o) }
func (o *UnionOp) finish(f *finisher)       { f.union(o.Params, o.Legs) }
func (s *UnionSource) finish(f *finisher)   { f.union(s.Params, s.Legs) }

func init() {
	operatorMembers = append(operatorMembers, &JoinOp{}, &UnionOp{})
	// Before TableRef, which does not take the word union as a table name.
	sourceMembers = append(sourceMembers[:len(sourceMembers)-1:len(sourceMembers)-1], &UnionSource{}, sourceMembers[len(sourceMembers)-1])
}

// finisherHook is an operator or source with parts the finisher cannot reach through scalars:
// nested pipelines, parameters checked after parsing.
type finisherHook interface{ finish(f *finisher) }

func (f *finisher) join(o *JoinOp) { f.joinSides("join", o.Right, o.On) }

// joinSides finishes the right side and the conditions of join or lookup (verb).
func (f *finisher) joinSides(verb string, right *JoinRight, on []*JoinCondition) {
	if right.Paren != nil {
		f.pipeline(right.Paren)
	}
	if right.Table != nil {
		right.Table.finish(f)
	}
	for _, c := range on {
		if c.Column != nil {
			if strings.HasPrefix(c.Column.String(), "$") {
				f.fail(c.Pos, "%s: %s needs a column, as in %s.Column == $right.Column", verb, c.Column.String(), c.Column.String())
			}
			c.Left, c.Right = c.Column, c.Column
			continue
		}
		if c.FirstSide == c.OtherSide {
			f.fail(c.Pos, "%s: a condition compares a column of $left with one of $right, not two of %s", verb, c.FirstSide)
			continue
		}
		c.Left, c.Right = c.First, c.Other
		if c.FirstSide == "$right" {
			c.Left, c.Right = c.Other, c.First
		}
	}
}

func (f *finisher) union(params []*OperatorParam, legs []*UnionLeg) {
	for _, l := range legs {
		if l.Wildcard {
			f.fail(l.Pos, "unsupported: wildcard table names in union (%s*); name each table", l.Table.Name.String())
		}
		if l.Paren != nil {
			f.pipeline(l.Paren)
		}
		if l.Table != nil {
			l.Table.finish(f)
		}
	}
}

// finish decodes the names of database("D") and cluster("C").
func (t *TableRef) finish(f *finisher) {
	for _, a := range []*StringArg{t.Cluster, t.Database} {
		if a != nil {
			f.stringArg(a)
		}
	}
}
