package engine

import (
	"context"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// mv-apply, per the Kusto docs' mv-apply-operator.md: each input row is expanded as mv-expand
// would expand it, the subquery runs over that row's rows alone, and the results are
// concatenated, each preceded by the row's columns that were not expanded and that the
// subquery's result does not have (a summarize drops them; a where keeps them).
//
// The subquery is compiled once, over a source node that stands for "the current row's
// expansion"; each run opens it again with the rows in its context, so that a plan opened twice
// at once (a tabular let used twice) keeps its runs apart.

func compileMvApply(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.MvApplyOp)
	s, err := c.expandSpec("mv-apply", in, o.Params, o.Items, o.Limit)
	if err != nil {
		return nil, err
	}
	rows := &expansionSource{schema: s.schema}
	sub, err := c.operators(rows, o.On)
	if err != nil {
		return nil, err
	}
	prunePlan(sub)
	n := &mvApplyNode{in: in, spec: s, rows: rows, sub: sub}
	subSchema := sub.Schema()
	for i, col := range in.Schema() {
		if s.pass[i] == i && subSchema.Index(col.Name) < 0 { // neither expanded in place nor in the result
			n.keep = append(n.keep, i)
			n.schema = append(n.schema, col)
		}
	}
	n.schema = append(n.schema, subSchema...)
	if dup := duplicateName(n.schema); dup != "" {
		return nil, c.errorf(o.Pos.Offset, kusto.KindSemantic, "mv-apply: the subquery's result has a column %q twice", dup)
	}
	return n, nil
}

func duplicateName(s Schema) string {
	seen := map[string]bool{}
	for _, c := range s {
		if seen[c.Name] {
			return c.Name
		}
		seen[c.Name] = true
	}
	return ""
}

type mvApplyNode struct {
	in     Node
	spec   *expandSpec
	rows   *expansionSource
	sub    Node
	keep   []int // the input columns repeated before the subquery's
	schema Schema
}

func (n *mvApplyNode) Schema() Schema   { return n.schema }
func (n *mvApplyNode) Children() []Node { return []Node{n.in, n.sub} }
func (n *mvApplyNode) Describe() string { return "mv-apply " + n.spec.describe() + " on (…)" }

// prune: the subquery may read any column of the expansion, so the input is read whole.
func (n *mvApplyNode) prune(needed []bool) { prune(n.in, allNeeded(len(n.in.Schema()))) }

func (n *mvApplyNode) Open(ctx context.Context) Operator {
	return &mvApplyOperator{node: n, ctx: ctx, in: n.in.Open(ctx), x: newExpander(n.spec, nil), cancel: newCancelCheck(ctx),
		out: Batch{Cols: make([]Column, len(n.schema))}}
}

type mvApplyOperator struct {
	node   *mvApplyNode
	ctx    context.Context
	in     Operator
	x      *expander
	cancel cancelCheck
	b      *Batch   // the input batch whose rows are being applied
	row    int      // the row whose subquery runs
	sub    Operator // the running subquery, or nil
	rowIdx []int32
	out    Batch
}

func (o *mvApplyOperator) Next() (_ *Batch, err error) {
	defer catchFailure(&err)
	for {
		if o.sub == nil {
			if o.b == nil || o.row+1 >= o.b.Len {
				b, err := o.in.Next()
				if b == nil || err != nil {
					return nil, err
				}
				o.b, o.row = b, -1
				o.x.load(b, 0, 0)
			}
			if err := o.cancel.err(); err != nil {
				return nil, err
			}
			o.row++
			o.x.seek(o.row, o.row+1)
			o.sub = o.node.sub.Open(context.WithValue(o.ctx, o.node.rows, o.x))
		}
		b, err := o.sub.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			o.sub.Close()
			o.sub = nil
			continue
		}
		if b.Len == 0 {
			continue
		}
		return o.place(b), nil
	}
}

// place puts the current row's kept columns before the subquery's batch b.
func (o *mvApplyOperator) place(b *Batch) *Batch {
	o.rowIdx = o.rowIdx[:0]
	for range b.Len {
		o.rowIdx = append(o.rowIdx, int32(o.row))
	}
	k := len(o.node.keep)
	for j, i := range o.node.keep {
		o.out.Cols[j] = gatherInto(o.out.Cols[j], o.b.Cols[i], o.rowIdx)
	}
	copy(o.out.Cols[k:], b.Cols)
	o.out.Len = b.Len
	return &o.out
}

func (o *mvApplyOperator) Close() {
	if o.sub != nil {
		o.sub.Close()
		o.sub = nil
	}
	o.in.Close()
}

// expansionSource is the source of mv-apply's subquery: the expansion of the row being applied,
// which the running mv-apply puts in the context under the node itself.
type expansionSource struct {
	schema Schema
}

func (n *expansionSource) Schema() Schema   { return n.schema }
func (n *expansionSource) Children() []Node { return nil }
func (n *expansionSource) Describe() string {
	names := make([]string, len(n.schema))
	for i, c := range n.schema {
		names[i] = quoteName(c.Name)
	}
	return "the row's expansion (" + strings.Join(names, ", ") + ")"
}

func (n *expansionSource) Open(ctx context.Context) Operator {
	x, _ := ctx.Value(n).(*expander)
	return NewOperator(func() (*Batch, error) {
		if x == nil {
			return nil, nil
		}
		return x.next(), nil
	})
}
