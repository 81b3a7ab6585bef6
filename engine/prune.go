package engine

import "github.com/kustard/kustard/parser"

// Column pruning: before a plan runs, each node is told which of its output columns are needed,
// and tells its input which of that input's columns it reads, down to the scans, which then open
// only those columns of their extents. A column nobody reads is nil in a scan's batches.

// pruner is a Node that passes column needs down to its input.
type pruner interface {
	// prune records that the columns of the node's output marked in needed are read. A node
	// reached twice (a tabular let used twice) is told twice; the needs add up.
	prune(needed []bool)
}

// prunePlan prunes a plan whose every output column is needed.
func prunePlan(root Node) Node {
	prune(root, allNeeded(len(root.Schema())))
	return root
}

func prune(n Node, needed []bool) {
	if p, ok := n.(pruner); ok {
		p.prune(needed)
	}
}

func allNeeded(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

// orNeeded adds the needs of b to a, which may be nil (no needs yet).
func orNeeded(a, b []bool) []bool {
	if a == nil {
		a = make([]bool, len(b))
	}
	for i, need := range b {
		a[i] = a[i] || need
	}
	return a
}

// markColumns marks in needed the columns of schema that e reads. A name that is not a column
// of schema is a scalar let, which reads none.
func markColumns(needed []bool, schema Schema, e parser.Expr) {
	parser.Inspect(e, func(e parser.Expr) {
		if c, ok := e.(*parser.ColumnExpr); ok {
			if i := schema.Index(c.Name); i >= 0 {
				needed[i] = true
			}
		}
	})
}

func (n *whereNode) prune(needed []bool) {
	in := append([]bool(nil), needed...)
	markColumns(in, n.in.Schema(), n.expr)
	prune(n.in, in)
}

// A computed column reads the input's columns its expression names; extend also passes the
// needed input columns through. extend's later steps may name columns an earlier step made,
// which are not the input's, or replaced one of the input's, which the earlier step then reads
// in its place; marking by name against the input's schema covers both, at worst reading one
// column too many.
func (n *computeNode) prune(needed []bool) {
	schema := n.in.Schema()
	in := make([]bool, len(schema))
	if n.keepInput {
		copy(in, needed[:len(schema)])
	}
	for _, s := range n.steps {
		markColumns(in, schema, s.expr)
	}
	prune(n.in, in)
}

func (n *takeNode) prune(needed []bool) { prune(n.in, needed) }

// count reads no column: only how many rows there are.
func (n *countNode) prune(needed []bool) { prune(n.in, make([]bool, len(n.in.Schema()))) }
