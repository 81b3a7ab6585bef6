package engine

import (
	"context"
	"sync"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// toscalar() and materialize(), the two functions that take a tabular expression.
//
// toscalar(expr), after query/toscalar-function.md: "a scalar constant value of the evaluated
// expression … If the result is a tabular, then the first column and first row is taken". It is
// evaluated once, while the query compiles, so that its value is a constant wherever a constant
// is needed (range's bounds, take's count); a result with no rows is a null of the first
// column's type. A scalar argument (toscalar(new_guid())) is evaluated once as well.
//
// materialize(expr), after query/materialize-function.md: "Captures the value of a tabular
// expression for the duration of the query execution so that it can be referenced multiple
// times by the query without recalculation." The first reader runs the expression into a frame,
// whose memory is charged to the budget; every reader reads that frame; the query's end
// releases it.

// tabularArgFunctions are the functions whose argument is a tabular expression; they are not in
// the scalar function registry.
var tabularArgFunctions = map[string]bool{"toscalar": true, "materialize": true}

// tabularArgument compiles the one argument of toscalar() or materialize() as a tabular
// expression; ok is false for a scalar argument.
func (c *compiler) tabularArgument(e *parser.CallExpr) (n Node, ok bool, err error) {
	if len(e.Args) != 1 {
		return nil, false, c.errorf(e.At, kusto.KindSemantic, "%s() takes 1 argument, a tabular expression, not %d", e.Func, len(e.Args))
	}
	if c.rowFloor < len(c.lets) {
		floor := c.rowFloor
		c.rowFloor = len(c.lets)
		defer func() { c.rowFloor = floor }()
	}
	switch a := e.Args[0].(type) {
	case *parser.TabularExpr:
		n, err := c.pipeline(a.Body)
		return n, err == nil, err
	case *parser.ColumnExpr, *parser.CallExpr:
		if n, found, err := c.tabularExpr(a); found || err != nil {
			return n, found, err
		}
	}
	return nil, false, nil
}

// toscalarCall is toscalar, reached from expressions through a variable, as userCall is.
var toscalarCall func(sc *scope, e *parser.CallExpr) (*compiled, error)

func init() { toscalarCall = (*scope).toscalar }

// toscalar runs its argument now and returns its value as a constant.
func (sc *scope) toscalar(e *parser.CallExpr) (*compiled, error) {
	c := sc.c
	floor := c.rowFloor
	c.rowFloor = len(c.lets)
	defer func() { c.rowFloor = floor }()
	n, tabular, err := c.tabularArgument(e)
	if err != nil {
		return nil, err
	}
	if !tabular {
		x, err := (&scope{c: c}).compile(e.Args[0])
		if err != nil {
			return nil, err
		}
		if x.failed != nil {
			return nil, x.failed
		}
		if x.isConst() {
			return x, nil
		}
		col := x.evaluator()(&Batch{Len: 1})
		return constant(x.typ, col.Value(0)), nil
	}
	schema := n.Schema()
	if len(schema) == 0 {
		return nil, c.errorf(e.At, kusto.KindSemantic, "toscalar(): the expression returns no columns")
	}
	if c.checking {
		return constant(schema[0].Type, nil), nil
	}
	needed := make([]bool, len(schema))
	needed[0] = true
	prune(n, needed)
	op := n.Open(c.context())
	defer op.Close()
	for {
		b, err := op.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			return constant(schema[0].Type, nil), nil
		}
		if b.Len > 0 {
			return constant(schema[0].Type, b.Cols[0].Value(0)), nil
		}
	}
}

// context is what a query's compile-time evaluation (toscalar) runs under.
func (c *compiler) context() context.Context {
	if c.ctx != nil {
		return c.ctx
	}
	return context.Background()
}

// materialize compiles materialize(expr) into a node whose readers share one run of expr.
func (c *compiler) materialize(e *parser.CallExpr) (Node, error) {
	n, tabular, err := c.tabularArgument(e)
	if err != nil {
		return nil, err
	}
	if !tabular {
		return nil, c.errorf(e.Args[0].Offset(), kusto.KindSemantic, "materialize() takes a tabular expression, as in materialize(T | where …)")
	}
	return &materializeNode{in: n, budget: c.sess.eng.budget}, nil
}

type materializeNode struct {
	in     Node
	budget *Budget
}

func (n *materializeNode) Schema() Schema   { return n.in.Schema() }
func (n *materializeNode) Children() []Node { return []Node{n.in} }
func (n *materializeNode) Describe() string { return "materialize" }

// Every reader's needs reach the expression, which is run once for all of them.
func (n *materializeNode) prune(needed []bool) { prune(n.in, needed) }

func (n *materializeNode) Open(ctx context.Context) Operator {
	return &materializeOperator{node: n, ctx: ctx}
}

// materializeOperator reads the query's one run of the expression; the first reader makes it.
// Outside a query (no queryState in ctx) each reader runs the expression itself.
type materializeOperator struct {
	node *materializeNode
	ctx  context.Context
	rows Operator
}

func (o *materializeOperator) Next() (*Batch, error) {
	if o.rows == nil {
		q, _ := o.ctx.Value(queryStateKey{}).(*queryState)
		if q == nil {
			o.rows = o.node.in.Open(o.ctx)
		} else {
			f, err := q.materialized(o.ctx, o.node)
			if err != nil {
				return nil, err
			}
			o.rows = (&frameNode{frame: f}).Open(o.ctx)
		}
	}
	return o.rows.Next()
}

func (o *materializeOperator) Close() {
	if o.rows != nil {
		o.rows.Close()
	}
}

// queryState is what one run of a query holds until it ends: its materialized expressions, and
// its table scans, whose pinned columns it unpins.
type queryState struct {
	mu     sync.Mutex
	budget *Budget
	frames map[*materializeNode]*Frame
	held   int64

	scanMu sync.Mutex // apart from mu, which a materialize holds while its scans open
	scans  []*TableScan
}

// addScan records a scan for the query's end to close.
func (q *queryState) addScan(s *TableScan) {
	q.scanMu.Lock()
	defer q.scanMu.Unlock()
	q.scans = append(q.scans, s)
}

type queryStateKey struct{}

// withQueryState returns ctx with a new queryState, and the function that releases what it
// holds, to be called when the query ends.
func withQueryState(ctx context.Context, budget *Budget) (context.Context, func()) {
	q := &queryState{budget: budget, frames: map[*materializeNode]*Frame{}}
	return context.WithValue(ctx, queryStateKey{}, q), q.release
}

func (q *queryState) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.budget.release(q.held)
	q.held, q.frames = 0, nil
	q.scanMu.Lock()
	scans := q.scans
	q.scans = nil
	q.scanMu.Unlock()
	for _, s := range scans {
		s.Close()
	}
}

// materialized returns the frame of n's expression, running it the first time. The rows it
// holds are charged to the budget as they come, and stay charged until the query ends.
func (q *queryState) materialized(ctx context.Context, n *materializeNode) (*Frame, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if f, ok := q.frames[n]; ok {
		return f, nil
	}
	if q.frames == nil {
		return nil, &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: "materialize() read after its query ended"}
	}
	schema := n.in.Schema()
	op := n.in.Open(ctx)
	defer op.Close()
	builders := make([]builder, len(schema))
	for i, col := range schema {
		builders[i] = builderFor(newColumn(col.Type, 0))
	}
	rows := 0
	for {
		b, err := op.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		var cost int64
		for i, col := range b.Cols {
			if col == nil { // a column no reader needs
				col = constColumn(schema[i].Type, nil, b.Len)
			}
			builders[i].appendColumn(plainColumn(col))
			cost += memoryCost(col)
		}
		if err := q.budget.reserve(cost); err != nil {
			return nil, err
		}
		q.held += cost
		rows += b.Len
	}
	f := &Frame{Schema: schema, Rows: rows}
	for _, b := range builders {
		f.Cols = append(f.Cols, b.column())
	}
	q.frames[n] = f
	return f, nil
}

// outsideRowScope says whether b is bound outside the argument of toscalar() or materialize()
// being compiled.
func (c *compiler) outsideRowScope(b *letBinding) bool {
	for i := range min(c.rowFloor, len(c.lets)) {
		if &c.lets[i] == b {
			return true
		}
	}
	return false
}
