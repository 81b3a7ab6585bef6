package engine

import (
	"context"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// lookup, per https://learn.microsoft.com/kusto/query/lookup-operator: a join of kind leftouter
// (the default) or inner whose right side is the small dimension table. That is how the hash
// join already works: the right side is built into the hash table, the left side streams
// through it. Unlike join, the output has the right side's key columns only once, from the left
// side ("The Attributes (lookup keys) will appear only once in the output table"); the right
// side's other columns follow the left side's, renamed as join renames them (Key1) where a name
// is taken. A right key matched by several rows gives a row for each, as join kind=inner and
// leftouter do.

func init() {
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "lookup", Synopsis: "lookup [kind=leftouter|inner] (Right) on Column | $left.A == $right.B, …",
		Summary:   "Extends each row with the columns of the rows of a dimension table whose keys match, the keys once; kind leftouter (default, unmatched rows get nulls) or inner.",
		Completes: CompleteNothing,
		node:      nodeOf[*parser.LookupOp](), compile: compileLookup,
	})
}

func compileLookup(c *compiler, in Node, op parser.Operator) (Node, error) {
	l := op.(*parser.LookupOp)
	j := &joinNode{left: in, kind: joinLeftOuter, budget: c.sess.eng.budget}
	kindSet := false
	for _, p := range l.Params {
		switch {
		case p.Name != "kind":
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "lookup: unsupported parameter %q; lookup takes kind=leftouter or kind=inner", p.Name)
		case p.Value != "leftouter" && p.Value != "inner":
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "lookup: kind=%s is not a lookup kind; lookup supports leftouter (the default) and inner (for the other kinds, use join)", p.Value)
		case kindSet:
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "lookup: kind is given twice")
		}
		j.kind, kindSet = joinKinds[p.Value], true
	}
	var err error
	if j.right, err = c.joinRight(l.Right); err != nil {
		return nil, err
	}
	if err := c.joinOn("lookup", j, l.On); err != nil {
		return nil, err
	}
	ls, rs := in.Schema(), j.right.Schema()
	j.schema = append(append(Schema(nil), ls...), rs...) // the join's own output; lookup selects from it
	n := &lookupNode{join: j, schema: append(Schema(nil), ls...)}
	for i := range ls {
		n.keep = append(n.keep, i)
	}
	isKey := map[int]bool{}
	for _, k := range j.rightKeys {
		isKey[k] = true
	}
	taken := map[string]bool{}
	for _, col := range ls {
		taken[col.Name] = true
	}
	for _, col := range rs {
		taken[col.Name] = true
	}
	for i, col := range rs {
		if isKey[i] {
			continue
		}
		if ls.Index(col.Name) >= 0 {
			for k := 1; ; k++ {
				if name := col.Name + strconv.Itoa(k); !taken[name] {
					col.Name = name
					break
				}
			}
			taken[col.Name] = true
		}
		n.schema = append(n.schema, col)
		n.keep = append(n.keep, len(ls)+i)
	}
	return n, nil
}

// lookupNode is the join's output without the right side's keys. It stands for the join in the
// plan: its children are the join's.
type lookupNode struct {
	join   *joinNode
	schema Schema
	keep   []int // the join's output columns it passes on, in order
}

func (n *lookupNode) Schema() Schema   { return n.schema }
func (n *lookupNode) Children() []Node { return n.join.Children() }
func (n *lookupNode) Describe() string {
	return "lookup kind=" + n.join.kind.String() + " on " + strings.Join(n.join.keyText, ", ")
}

func (n *lookupNode) prune(needed []bool) {
	inner := make([]bool, len(n.join.schema))
	for j, i := range n.keep {
		inner[i] = needed[j]
	}
	n.join.prune(inner)
}

func (n *lookupNode) Open(ctx context.Context) Operator {
	return &selectOperator{keep: n.keep, in: n.join.Open(ctx), batch: Batch{Cols: make([]Column, len(n.keep))}}
}
