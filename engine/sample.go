package engine

import (
	"context"
	"math/rand/v2"
	"strconv"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// sample and as: an operator that picks random rows, and one that names its input for the rest
// of the query.

func init() {
	operatorRegistry = append(operatorRegistry,
		&OperatorInfo{
			Name: "sample", Synopsis: "sample NumberOfRows",
			Summary: "Returns up to the given number of random rows; each evaluation picks again.", Completes: CompleteNothing,
			node: nodeOf[*parser.SampleOp](), compile: compileSample,
		},
		&OperatorInfo{
			Name: "as", Synopsis: "as [hint.materialized = true] Name",
			Summary: "Names its input for the rest of the query: a later join or union may read it, and union's withsource names its rows so.", Completes: CompleteNothing,
			node: nodeOf[*parser.AsOp](), compile: compileAs,
		},
	)
}

func compileSample(c *compiler, in Node, op parser.Operator) (Node, error) {
	e := op.(*parser.SampleOp).Count
	lit, err := c.constantExpr(e.Tree, "the row count of sample")
	if err != nil {
		return nil, err
	}
	var n int64
	ok := false
	switch v := lit.Value.(type) {
	case float64:
		n, ok = int64(v), v >= 0 && v < 1<<62
	default:
		n, ok = toInt64(v)
		ok = ok && isNumeric(lit.Type) && n >= 0
	}
	if !ok {
		return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "sample needs a non-negative number of rows, not %s", kusto.FormatValue(lit.Value))
	}
	return &sampleNode{in: in, n: n, eng: c.sess.eng}, nil
}

type sampleNode struct {
	in  Node
	n   int64
	eng *Engine
}

func (n *sampleNode) Schema() Schema      { return n.in.Schema() }
func (n *sampleNode) Children() []Node    { return []Node{n.in} }
func (n *sampleNode) Describe() string    { return "sample " + strconv.FormatInt(n.n, 10) }
func (n *sampleNode) prune(needed []bool) { prune(n.in, needed) }

// Open draws from a generator of its own: seeded from Options.RandomSeed and the count of
// samples opened before, when the seed is set, so that a deterministic run picks the same rows.
func (n *sampleNode) Open(ctx context.Context) Operator {
	var src rand.Source
	if seed := n.eng.opts.RandomSeed; seed != 0 {
		src = rand.NewPCG(seed, n.eng.samples.Add(1))
	} else {
		src = rand.NewPCG(rand.Uint64(), rand.Uint64())
	}
	var types []kusto.Type
	for _, col := range n.in.Schema() {
		types = append(types, col.Type)
	}
	return &sampleOperator{in: n.in.Open(ctx), n: n.n, rng: rand.New(src), buf: newRowBuffer(types, n.eng.budget)}
}

// sampleOperator keeps a uniform sample of its input's rows by reservoir sampling: the first n
// rows, then each later row t in place of a random kept one with probability n/(t+1). It returns
// the kept rows once the input ends.
type sampleOperator struct {
	in      Operator
	n       int64
	rng     *rand.Rand
	buf     *rowBuffer
	setters []slotSetter
	seen    int64
	done    bool
	pos     int
	out     Batch
	idx     []int32
}

func (o *sampleOperator) Close() {
	o.in.Close()
	o.buf.release()
}

func (o *sampleOperator) Next() (*Batch, error) {
	for !o.done {
		if o.n == 0 {
			o.done = true
			break
		}
		b, err := o.in.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			o.done = true
			break
		}
		if err := o.offer(b); err != nil {
			return nil, err
		}
	}
	rows := o.buf.len()
	if o.pos >= rows {
		return nil, nil
	}
	end := min(rows, o.pos+batchSize)
	o.idx = o.idx[:0]
	for i := o.pos; i < end; i++ {
		o.idx = append(o.idx, int32(i))
	}
	o.pos = end
	o.buf.gather(&o.out, len(o.buf.types), o.idx)
	return &o.out, nil
}

func (o *sampleOperator) offer(b *Batch) error {
	r := 0
	if room := o.n - int64(o.buf.len()); room > 0 {
		r = int(min(room, int64(b.Len)))
		if err := o.buf.append(b.Cols, 0, r); err != nil {
			return err
		}
		o.seen += int64(r)
	}
	if r == b.Len {
		return nil
	}
	if o.setters == nil {
		o.setters = make([]slotSetter, len(o.buf.cols))
		for i := range o.buf.cols {
			if c := o.buf.column(i); c != nil {
				withNulls(c)
				o.setters[i] = c.(slotSetter)
			}
		}
	}
	for ; r < b.Len; r++ {
		o.seen++
		j := o.rng.Int64N(o.seen)
		if j >= o.n {
			continue
		}
		for i, s := range o.setters {
			if s != nil {
				o.buf.payload += s.setFrom(int(j), b.Cols[i], r)
			}
		}
	}
	return o.buf.settle()
}

func compileAs(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.AsOp)
	n := &asNode{in: in, name: o.Name.String()}
	for _, p := range o.Params {
		switch {
		case p.Name == "hint.materialized" && (p.Value == "true" || p.Value == "false"):
			if p.Value == "true" {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "unsupported: as hint.materialized=true; Kustard evaluates a named expression at each use")
			}
		case p.Name == "hint.materialized":
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "as: hint.materialized is true or false, not %q", p.Value)
		default:
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "as: unknown parameter %q; as takes hint.materialized", p.Name)
		}
	}
	c.lets = append(c.lets, letBinding{name: n.name, tabular: in})
	return n, nil
}

// asNode names its input; the rows pass as they are.
type asNode struct {
	in   Node
	name string
}

func (n *asNode) Schema() Schema                    { return n.in.Schema() }
func (n *asNode) Children() []Node                  { return []Node{n.in} }
func (n *asNode) Describe() string                  { return "as " + quoteName(n.name) }
func (n *asNode) Open(ctx context.Context) Operator { return n.in.Open(ctx) }
func (n *asNode) prune(needed []bool)               { prune(n.in, needed) }
