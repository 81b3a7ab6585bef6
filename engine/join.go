package engine

import (
	"context"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// join, per https://learn.microsoft.com/kusto/query/join-operator and its per-kind pages. The
// right side is built into a hash table (hashjoin.go) and the left side streams through it, so
// every kind keeps the left side's order and only the right side is held in memory.

func init() {
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "join", Synopsis: "join [kind=Kind] [hint.strategy=…] (Right) on Column | $left.A == $right.B, …",
		Summary:   "Merges the rows of two tables by matching key columns; kind innerunique (default), inner, leftouter, rightouter, fullouter, leftsemi, leftanti, rightsemi, rightanti.",
		Completes: CompleteNothing,
		node:      nodeOf[*parser.JoinOp](), compile: compileJoin,
	})
}

type joinKind int

const (
	joinInnerUnique joinKind = iota
	joinInner
	joinLeftOuter
	joinRightOuter
	joinFullOuter
	joinLeftSemi
	joinLeftAnti
	joinRightSemi
	joinRightAnti
)

var joinKindNames = [...]string{"innerunique", "inner", "leftouter", "rightouter", "fullouter", "leftsemi", "leftanti", "rightsemi", "rightanti"}

// joinKinds are the kind= values Kusto accepts, aliases included (anti, leftantisemi, rightantisemi).
var joinKinds = map[string]joinKind{
	"innerunique": joinInnerUnique, "inner": joinInner, "leftouter": joinLeftOuter,
	"rightouter": joinRightOuter, "fullouter": joinFullOuter, "leftsemi": joinLeftSemi,
	"leftanti": joinLeftAnti, "anti": joinLeftAnti, "leftantisemi": joinLeftAnti,
	"rightsemi": joinRightSemi, "rightanti": joinRightAnti, "rightantisemi": joinRightAnti,
}

func (k joinKind) String() string { return joinKindNames[k] }

// leftColumns and rightColumns say which sides' columns the output has: semi and anti joins
// return one side's only.
func (k joinKind) leftColumns() bool  { return k != joinRightSemi && k != joinRightAnti }
func (k joinKind) rightColumns() bool { return k != joinLeftSemi && k != joinLeftAnti }

// tracksRight says whether the kind needs to know, after the probe, which right rows matched.
func (k joinKind) tracksRight() bool {
	return k == joinRightOuter || k == joinFullOuter || k == joinRightSemi || k == joinRightAnti
}

// keepsUnmatchedLeft says whether a left row without a match is output, with nulls on the right.
func (k joinKind) keepsUnmatchedLeft() bool { return k == joinLeftOuter || k == joinFullOuter }

// joinHints are the hints Kusto documents for join. They "don't change the semantic of join"
// (join-operator.md), only how a cluster distributes it, so on one machine they are accepted
// and have no effect; the values are checked.
var joinHints = map[string]func(string) bool{
	"hint.strategy":   func(v string) bool { return v == "broadcast" || v == "shuffle" },
	"hint.shufflekey": func(v string) bool { return true },
	"hint.remote":     func(v string) bool { return v == "auto" || v == "left" || v == "local" || v == "right" },
}

func compileJoin(c *compiler, in Node, op parser.Operator) (Node, error) {
	j := op.(*parser.JoinOp)
	n := &joinNode{left: in, kind: joinInnerUnique, budget: c.sess.eng.budget}
	kindSet := false
	for _, p := range j.Params {
		switch check, isHint := joinHints[p.Name]; {
		case p.Name == "kind":
			k, ok := joinKinds[p.Value]
			if !ok {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "join: unknown kind %q; Kusto's join kinds are innerunique (the default), inner, leftouter, rightouter, fullouter, leftsemi, leftanti (anti, leftantisemi), rightsemi and rightanti (rightantisemi)", p.Value)
			}
			if kindSet {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "join: kind is given twice")
			}
			n.kind, kindSet = k, true
		case isHint:
			if !check(p.Value) {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "join: %s=%s is not a value Kusto documents for %s", p.Name, p.Value, p.Name)
			}
			n.hints = append(n.hints, p.Name+"="+p.Value)
		default:
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "join: unsupported parameter %q; join takes kind, hint.strategy, hint.shufflekey and hint.remote", p.Name)
		}
	}
	var err error
	if n.right, err = c.joinRight(j.Right); err != nil {
		return nil, err
	}
	if err := c.joinOn("join", n, j.On); err != nil {
		return nil, err
	}
	n.schema = joinSchema(n.kind, in.Schema(), n.right.Schema())
	return n, nil
}

// joinRight compiles the right side of join or lookup.
func (c *compiler) joinRight(r *parser.JoinRight) (Node, error) {
	if r.Paren != nil {
		return c.pipeline(r.Paren)
	}
	return c.source(r.Table)
}

// joinOn resolves the conditions of join or lookup (verb) to n's key columns.
func (c *compiler) joinOn(verb string, n *joinNode, on []*parser.JoinCondition) error {
	ls, rs := n.left.Schema(), n.right.Schema()
	for _, cond := range on {
		li := ls.Index(cond.Left.String())
		if li < 0 {
			return c.errorf(cond.Left.Pos.Offset, kusto.KindSemantic, "%s: failed to resolve column %q on the left side ($left)", verb, cond.Left.String())
		}
		ri := rs.Index(cond.Right.String())
		if ri < 0 {
			return c.errorf(cond.Right.Pos.Offset, kusto.KindSemantic, "%s: failed to resolve column %q on the right side ($right)", verb, cond.Right.String())
		}
		lt, rt := ls[li].Type, rs[ri].Type
		if lt == kusto.TypeDynamic || rt == kusto.TypeDynamic {
			return c.errorf(cond.Pos.Offset, kusto.KindSemantic, "%s: cannot join on a dynamic column; convert it first, as in extend k = tostring(%s)", verb, cond.Left.String())
		}
		if !joinable(lt, rt) {
			return c.errorf(cond.Pos.Offset, kusto.KindSemantic, "%s: $left.%s is a %s and $right.%s is a %s; join keys must be of the same type (int and long may be mixed)", verb, cond.Left.String(), lt, cond.Right.String(), rt)
		}
		n.leftKeys = append(n.leftKeys, li)
		n.rightKeys = append(n.rightKeys, ri)
		if cond.Left.String() == cond.Right.String() {
			n.keyText = append(n.keyText, quoteName(cond.Left.String()))
		} else {
			n.keyText = append(n.keyText, "$left."+quoteName(cond.Left.String())+" == $right."+quoteName(cond.Right.String()))
		}
	}
	return nil
}

// joinable: keys match where == would hold (join-inner.md gives `where $left.A == $right.B` as
// a condition's meaning), for the types Kustard hashes alike: one type, or int with long.
func joinable(a, b kusto.Type) bool {
	isInteger := func(t kusto.Type) bool { return t == kusto.TypeInt || t == kusto.TypeLong }
	return a == b || isInteger(a) && isInteger(b)
}

// joinSchema is the left side's columns then the right side's, for the kinds that return both;
// a right column whose name the left side has is renamed with the smallest number suffix that
// makes it unique, as the docs' examples show (Key and Key1, value and value1).
func joinSchema(kind joinKind, ls, rs Schema) Schema {
	var out Schema
	if kind.leftColumns() {
		out = append(out, ls...)
	}
	if !kind.rightColumns() {
		return out
	}
	taken := map[string]bool{}
	for _, s := range []Schema{out, rs} {
		for _, col := range s {
			taken[col.Name] = true
		}
	}
	for _, col := range rs {
		if kind.leftColumns() && ls.Index(col.Name) >= 0 {
			for i := 1; ; i++ {
				if name := col.Name + strconv.Itoa(i); !taken[name] {
					col.Name = name
					break
				}
			}
			taken[col.Name] = true
		}
		out = append(out, col)
	}
	return out
}

type joinNode struct {
	left, right         Node
	kind                joinKind
	leftKeys, rightKeys []int
	keyText             []string
	hints               []string
	schema              Schema
	budget              *Budget
	// outNeeded marks the output columns some node reads and rightRead the right side's columns
	// the build keeps; nil (all) until the plan is pruned.
	outNeeded, rightRead []bool
}

func (n *joinNode) Schema() Schema   { return n.schema }
func (n *joinNode) Children() []Node { return []Node{n.left, n.right} }
func (n *joinNode) Describe() string {
	s := "join kind=" + n.kind.String()
	if len(n.hints) > 0 {
		s += " " + strings.Join(n.hints, " ")
	}
	return s + " on " + strings.Join(n.keyText, ", ")
}

// leftOffset and rightOffset are where each side's columns start in the output; -1 for a side
// the kind does not return.
func (n *joinNode) leftOffset() int {
	if n.kind.leftColumns() {
		return 0
	}
	return -1
}

func (n *joinNode) rightOffset() int {
	switch {
	case !n.kind.rightColumns():
		return -1
	case n.kind.leftColumns():
		return len(n.left.Schema())
	}
	return 0
}

// The left side reads the output's left columns that are needed, the right side its; both read
// their keys.
func (n *joinNode) prune(needed []bool) {
	n.outNeeded = orNeeded(n.outNeeded, needed)
	ln, rn := make([]bool, len(n.left.Schema())), make([]bool, len(n.right.Schema()))
	if off := n.leftOffset(); off >= 0 {
		copy(ln, needed[off:off+len(ln)])
	}
	if off := n.rightOffset(); off >= 0 {
		copy(rn, needed[off:off+len(rn)])
	}
	for _, k := range n.leftKeys {
		ln[k] = true
	}
	for _, k := range n.rightKeys {
		rn[k] = true
	}
	n.rightRead = orNeeded(n.rightRead, rn)
	prune(n.left, ln)
	prune(n.right, rn)
}

func (n *joinNode) outputNeeded(j int) bool { return n.outNeeded == nil || n.outNeeded[j] }
func (n *joinNode) rightKept(i int) bool    { return n.rightRead == nil || n.rightRead[i] }

func (n *joinNode) Open(ctx context.Context) Operator {
	return &joinOperator{node: n, check: newCancelCheck(ctx), left: n.left.Open(ctx), right: n.right.Open(ctx), pos: -1}
}
