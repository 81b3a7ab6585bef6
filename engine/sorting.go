package engine

import (
	"context"
	"math"
	"slices"
	"strconv"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// sort (alias order) and top, per the Kusto docs' sort-operator.md and top-operator.md.

func init() {
	operatorRegistry = append(operatorRegistry,
		&OperatorInfo{
			Name: "sort", Aliases: []string{"order"}, Synopsis: "sort by Expression [asc | desc] [nulls first | nulls last], …",
			Summary: "Sorts the rows by one or more keys (desc by default).", Completes: CompleteExpressions,
			node: nodeOf[*parser.SortOp](), compile: compileSort,
		},
		&OperatorInfo{
			Name: "top", Synopsis: "top NumberOfRows by Expression [asc | desc] [nulls first | nulls last], …",
			Summary: "Returns the first rows by one or more keys (desc by default).", Completes: CompleteExpressions,
			node: nodeOf[*parser.TopOp](), compile: compileTop,
		},
	)
}

func compileSort(c *compiler, in Node, op parser.Operator) (Node, error) {
	keys, err := c.sortKeys("sort", in, op.(*parser.SortOp).Keys)
	if err != nil {
		return nil, err
	}
	return &sortNode{in: in, keys: keys, budget: c.sess.eng.budget}, nil
}

func compileTop(c *compiler, in Node, op parser.Operator) (Node, error) {
	t := op.(*parser.TopOp)
	lit, err := c.constantExpr(t.Count.Tree, "the row count of top")
	if err != nil {
		return nil, err
	}
	n, ok := toInt64(lit.Value)
	if !ok || !isNumeric(lit.Type) || n < 0 {
		return nil, c.errorf(t.Count.Pos.Offset, kusto.KindSemantic, "top needs a non-negative number of rows, not %s", kusto.FormatValue(lit.Value))
	}
	keys, err := c.sortKeys("top", in, t.Keys)
	if err != nil {
		return nil, err
	}
	return &topNode{in: in, n: n, keys: keys, budget: c.sess.eng.budget}, nil
}

// takeOfSort is `sort by … | take n`, which the docs call equivalent to `top n by …`: it runs as
// a top, keeping n rows rather than sorting all of them. Sort and top are both stable, so the
// rows are the same.
func takeOfSort(in Node, n int64) (Node, bool) {
	s, ok := in.(*sortNode)
	if !ok {
		return nil, false
	}
	return &topNode{in: s.in, n: n, keys: s.keys, budget: s.budget}, true
}

type sortNode struct {
	in     Node
	keys   []sortKey
	budget *Budget
}

func (n *sortNode) Schema() Schema   { return n.in.Schema() }
func (n *sortNode) Children() []Node { return []Node{n.in} }
func (n *sortNode) Describe() string { return "sort by " + describeKeys(n.keys) }

func (n *sortNode) prune(needed []bool) {
	in := append([]bool(nil), needed...)
	markKeys(in, n.in.Schema(), n.keys)
	prune(n.in, in)
}

func (n *sortNode) Open(ctx context.Context) Operator {
	return &sortOperator{keyed: newKeyed(ctx, n.in, n.keys, n.budget)}
}

type topNode struct {
	in     Node
	n      int64
	keys   []sortKey
	budget *Budget
}

func (n *topNode) Schema() Schema   { return n.in.Schema() }
func (n *topNode) Children() []Node { return []Node{n.in} }
func (n *topNode) Describe() string {
	return "top " + strconv.FormatInt(n.n, 10) + " by " + describeKeys(n.keys)
}

func (n *topNode) prune(needed []bool) {
	in := append([]bool(nil), needed...)
	markKeys(in, n.in.Schema(), n.keys)
	prune(n.in, in)
}

func (n *topNode) Open(ctx context.Context) Operator {
	return &topOperator{keyed: newKeyed(ctx, n.in, n.keys, n.budget), n: n.n}
}

// keyed is what sort and top share: the input, the keys' evaluators, and a row buffer whose
// columns are the input's followed by the keys that are not input columns.
type keyed struct {
	in     Operator
	check  cancelCheck
	keys   []sortKey
	evals  []func(*Batch) Column // by key; nil for a key that is an input column
	slot   []int                 // by key: its column in the buffer
	width  int                   // the input's columns
	buf    *rowBuffer
	row    []Column // scratch: a batch's columns followed by its computed keys
	out    Batch
	perm   []int32 // the buffer's rows in order, as they are emitted
	pos    int
	sorted bool
}

func newKeyed(ctx context.Context, in Node, keys []sortKey, budget *Budget) keyed {
	k := keyed{in: in.Open(ctx), check: newCancelCheck(ctx), keys: keys, width: len(in.Schema())}
	var types []kusto.Type
	for _, col := range in.Schema() {
		types = append(types, col.Type)
	}
	for _, key := range keys {
		if key.col >= 0 {
			k.evals = append(k.evals, nil)
			k.slot = append(k.slot, key.col)
			continue
		}
		k.evals = append(k.evals, key.e.evaluator())
		k.slot = append(k.slot, len(types))
		types = append(types, key.e.typ)
	}
	k.buf = newRowBuffer(types, budget)
	k.row = make([]Column, len(types))
	return k
}

// columns lays out b's columns and its computed keys in the buffer's order, in k.row.
func (k *keyed) columns(b *Batch) []Column {
	copy(k.row, b.Cols)
	for i, eval := range k.evals {
		if eval != nil {
			k.row[k.slot[i]] = eval(b)
		}
	}
	return k.row
}

// emit returns the next batch of the rows of perm.
func (k *keyed) emit() (*Batch, error) {
	if k.pos >= len(k.perm) {
		return nil, nil
	}
	if err := k.check.err(); err != nil {
		return nil, err
	}
	hi := min(k.pos+batchSize, len(k.perm))
	k.buf.gather(&k.out, k.width, k.perm[k.pos:hi])
	k.pos = hi
	return &k.out, nil
}

func (k *keyed) close() {
	k.in.Close()
	k.buf.release()
	if k.perm != nil {
		k.buf.budget.release(int64(cap(k.perm)) * 4)
		k.perm = nil
	}
}

// order sorts rows [0, n) of the buffer into k.perm by the keys, stably.
func (k *keyed) order(n int) error {
	if n > math.MaxInt32 {
		return &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: "sort: more than 2147483647 rows to sort"}
	}
	if err := k.buf.budget.reserve(int64(n) * 4); err != nil {
		return err
	}
	k.perm = make([]int32, n)
	if len(k.keys) == 1 && normalizable(k.keys[0].e.typ) {
		return k.radixOrder(n)
	}
	for i := range k.perm {
		k.perm[i] = int32(i)
	}
	cmps := make([]func(a, b int32) int, len(k.keys))
	for i, key := range k.keys {
		cmps[i] = comparator(k.buf.column(k.slot[i]), key.desc, key.nullsFirst)
	}
	return sortCancelable(k.perm, k.check, func(a, b int32) int {
		for _, c := range cmps {
			if r := c(a, b); r != 0 {
				return r
			}
		}
		return int(a - b) // stable: equal keys keep their input order
	})
}

// canceled unwinds a sort whose query was canceled.
type canceled struct{ err error }

// sortCancelable sorts perm by less, looking at the query's context every 64K comparisons: a
// sort of millions of rows takes seconds.
func sortCancelable(perm []int32, check cancelCheck, compare func(a, b int32) int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(canceled)
			if !ok {
				panic(r)
			}
			err = c.err
		}
	}()
	calls := 0
	slices.SortFunc(perm, func(a, b int32) int {
		if calls++; calls&(1<<16-1) == 0 {
			if err := check.err(); err != nil {
				panic(canceled{err})
			}
		}
		return compare(a, b)
	})
	return nil
}

// radixOrder orders the rows by a single key whose values normalize to unsigned integers: rows
// are split by class (null, NaN, value) in input order, and the values radix-sorted, which is
// stable, so no comparison is ever made.
func (k *keyed) radixOrder(n int) error {
	key := k.keys[0]
	col := k.buf.column(k.slot[0])
	// The class counts come first, so that each class's rows go straight to their place in perm.
	var counts [3]int
	rank := make([]uint8, batchSize)
	u := make([]uint64, batchSize)
	for lo := 0; lo < n; lo += batchSize {
		hi := min(lo+batchSize, n)
		normalize(col.Slice(lo, hi), key.desc, key.nullsFirst, rank, u)
		for _, r := range rank[:hi-lo] {
			counts[r]++
		}
	}
	valRank := 2
	if !key.nullsFirst {
		valRank = 0
	}
	var start [3]int
	for r := 1; r < 3; r++ {
		start[r] = start[r-1] + counts[r-1]
	}
	m := counts[valRank]
	cost := int64(m) * (8 + 8 + 4) // keys, their scratch, the indexes' scratch
	if err := k.buf.budget.reserve(cost); err != nil {
		return err
	}
	defer k.buf.budget.release(cost)
	keys, idx := make([]uint64, m), k.perm[start[valRank]:start[valRank]+m]
	next := start
	for lo := 0; lo < n; lo += batchSize {
		hi := min(lo+batchSize, n)
		normalize(col.Slice(lo, hi), key.desc, key.nullsFirst, rank, u)
		for j, r := range rank[:hi-lo] {
			if int(r) == valRank {
				keys[next[r]-start[r]] = u[j]
			}
			k.perm[next[r]] = int32(lo + j)
			next[r]++
		}
	}
	return radixSort(keys, idx, k.check)
}

// radixBits is the width of a digit of the radix sort: 2048 counters fit in the L1 cache.
const radixBits = 11

// radixSort sorts keys, and idx with them, stably, by least significant digit first, skipping
// the digits in which all keys agree (most of them, for small numbers).
func radixSort(keys []uint64, idx []int32, check cancelCheck) error {
	if len(keys) < 2 {
		return nil
	}
	and, or := keys[0], keys[0]
	for _, x := range keys {
		and &= x
		or |= x
	}
	varying := and ^ or
	srcK, srcI := keys, idx
	dstK, dstI := make([]uint64, len(keys)), make([]int32, len(keys))
	var counts [1 << radixBits]int
	for shift := uint(0); shift < 64; shift += radixBits {
		if (varying>>shift)&(1<<radixBits-1) == 0 {
			continue
		}
		if err := check.err(); err != nil {
			return err
		}
		clear(counts[:])
		for _, x := range srcK {
			counts[(x>>shift)&(1<<radixBits-1)]++
		}
		sum := 0
		for d, c := range counts {
			counts[d] = sum
			sum += c
		}
		for j, x := range srcK {
			d := (x >> shift) & (1<<radixBits - 1)
			p := counts[d]
			counts[d]++
			dstK[p], dstI[p] = x, srcI[j]
		}
		srcK, dstK = dstK, srcK
		srcI, dstI = dstI, srcI
	}
	if &srcI[0] != &idx[0] {
		copy(idx, srcI)
	}
	return nil
}

// sortOperator buffers its whole input, then emits it in order.
type sortOperator struct{ keyed }

func (o *sortOperator) Next() (*Batch, error) {
	if !o.sorted {
		for {
			b, err := o.in.Next()
			if err != nil {
				return nil, err
			}
			if b == nil {
				break
			}
			if err := o.buf.append(o.columns(b), 0, b.Len); err != nil {
				return nil, err
			}
		}
		o.sorted = true
		if err := o.order(o.buf.len()); err != nil {
			return nil, err
		}
	}
	return o.emit()
}

func (o *sortOperator) Close() { o.close() }
