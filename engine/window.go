package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// serialize and the window functions row_number(), prev() and next()
// (https://learn.microsoft.com/kusto/query/window-functions). A window function reads the rows
// around its own, so it is valid only over a serialized row set: the output of serialize, sort,
// top, range or getschema, and of the operators that keep their input's order (where, extend,
// project, take and the column-shaping operators) over one. Before extend, project, serialize or
// where compiles its expressions, the window calls in them are compiled into a windowNode that
// appends one hidden column per call to the input; the expressions then read those columns.

func init() {
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "serialize", Synopsis: "serialize [Name = Expression, …]",
		Summary: "Marks the rows' order as safe for window functions (row_number, prev, next); with expressions, adds columns as extend does.", Completes: CompleteExpressions,
		node: nodeOf[*parser.SerializeOp](), compile: compileSerialize,
	})
	outside := func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return nil, sc.c.errorf(call.At, kusto.KindSemantic, "Function '%s' cannot be invoked in current context; window functions work in extend, project, serialize and where", call.Func)
	}
	declare(
		&function{name: "row_number", usage: "row_number([StartingIndex[, Restart]])", class: window,
			summary: "The row's index in a serialized row set, from StartingIndex (default 1), restarting there where Restart is true.",
			overload: []overload{
				{result: returns(kusto.TypeLong), build: outside},
				{params: []typeSet{tLong}, result: returns(kusto.TypeLong), build: outside},
				{params: []typeSet{tLong, tBool}, result: returns(kusto.TypeLong), build: outside},
			}},
		&function{name: "prev", usage: "prev(column[, offset[, default_value]])", class: window,
			summary:  "The value of column offset rows (default 1) before the row in a serialized row set, or default_value (default null) where there is none.",
			overload: windowValueOverloads(outside)},
		&function{name: "next", usage: "next(column[, offset[, default_value]])", class: window,
			summary:  "The value of column offset rows (default 1) after the row in a serialized row set, or default_value (default null) where there is none.",
			overload: windowValueOverloads(outside)},
	)
}

func windowValueOverloads(build buildFunc) []overload {
	return []overload{
		{params: []typeSet{tAny}, result: returnsSame, build: build},
		{params: []typeSet{tAny, tLong}, result: returnsSame, build: build},
		{params: []typeSet{tT, tLong, tT}, result: returnsT, build: build},
	}
}

// maxWindowOffset bounds prev's and next's offsets: the rows they reach are held in memory.
const maxWindowOffset = 100_000

// serialization says whether a node's rows are serialized, and whether by sorting (which render
// reports as IsQuerySorted).
func serialization(n Node) (serialized, sorted bool) {
	switch n := n.(type) {
	case *sortNode, *topNode:
		return true, true
	case *rangeNode, *serializeNode, *getschemaNode:
		return true, false
	case *whereNode, *computeNode, *shapeNode, *takeNode, *windowNode, *asNode, *renderNode:
		return serialization(n.Children()[0])
	}
	return false, false
}

func compileSerialize(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.SerializeOp)
	var out Node = &serializeNode{in: in}
	if len(o.Columns) == 0 {
		return out, nil
	}
	return compileExtend(c, out, &parser.ExtendOp{Pos: o.Pos, Columns: o.Columns})
}

// serializeNode marks its input as serialized; the rows pass as they are.
type serializeNode struct{ in Node }

func (n *serializeNode) Schema() Schema                    { return n.in.Schema() }
func (n *serializeNode) Children() []Node                  { return []Node{n.in} }
func (n *serializeNode) Describe() string                  { return "serialize" }
func (n *serializeNode) Open(ctx context.Context) Operator { return n.in.Open(ctx) }
func (n *serializeNode) prune(needed []bool)               { prune(n.in, needed) }

// windowCalls returns the window function calls in exprs, each after the calls in its
// arguments; calls a user-defined function shadows are not window calls.
func (c *compiler) windowCalls(exprs []parser.Expr) []*parser.CallExpr {
	var calls []*parser.CallExpr
	for _, e := range exprs {
		var pre []*parser.CallExpr
		parser.Inspect(e, func(e parser.Expr) {
			if call, ok := e.(*parser.CallExpr); ok {
				if f := functions[call.Func]; f != nil && f.class == window && c.userFunction(call.Func) == nil {
					pre = append(pre, call)
				}
			}
		})
		slices.Reverse(pre) // a call's arguments are visited after it
		calls = append(calls, pre...)
	}
	return calls
}

// windowed compiles the window calls of exprs over in into a windowNode, and returns it with the
// hidden column of each call; it returns in itself when there are none.
func (c *compiler) windowed(in Node, exprs []parser.Expr) (Node, map[*parser.CallExpr]int, error) {
	calls := c.windowCalls(exprs)
	if len(calls) == 0 {
		return in, nil, nil
	}
	if ok, _ := serialization(in); !ok {
		return nil, nil, c.errorf(calls[0].At, kusto.KindSemantic, "Function '%s' cannot be invoked. The row set must be serialized: put serialize, sort or top before it", calls[0].Func)
	}
	n := &windowNode{in: in, schema: slices.Clone(in.Schema()), width: len(in.Schema())}
	slots := map[*parser.CallExpr]int{}
	for _, call := range calls {
		sc := &scope{schema: n.schema, c: c, windows: slots}
		w, err := c.windowSpec(sc, call)
		if err != nil {
			return nil, nil, err
		}
		slots[call] = len(n.schema)
		n.schema = append(n.schema, ColumnSchema{"\x00window" + string(rune('0'+len(n.wins))), w.typ})
		n.wins = append(n.wins, w)
		if w.kind == "next" {
			n.lookahead = max(n.lookahead, w.offset)
		}
	}
	return n, slots, nil
}

// windowSpec is one window call, compiled: its argument (prev, next) or restart predicate
// (row_number), and its constants.
type windowSpec struct {
	kind   string
	typ    kusto.Type
	arg    *compiled // nil for row_number without a restart
	offset int
	start  int64
	def    any
	text   string
}

func (c *compiler) windowSpec(sc *scope, call *parser.CallExpr) (*windowSpec, error) {
	f := functions[call.Func]
	if len(call.Args) > f.max {
		return nil, c.errorf(call.At, kusto.KindSemantic, "%s takes %s, not %d", f.usage, argCount(f.min, f.max, len(call.Args)), len(call.Args))
	}
	args := make([]*compiled, len(call.Args))
	for i, a := range call.Args {
		if i > 0 || call.Func == "row_number" {
			for _, inner := range c.windowCalls([]parser.Expr{a}) {
				if inner.Func == "next" {
					return nil, c.errorf(inner.At, kusto.KindSemantic, "unsupported: next() inside the arguments of another window function")
				}
			}
		}
		x, err := sc.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	if call.Func != "row_number" && len(call.Args) > 0 {
		for _, inner := range c.windowCalls([]parser.Expr{call.Args[0]}) {
			if inner.Func == "next" {
				return nil, c.errorf(inner.At, kusto.KindSemantic, "unsupported: next() inside the arguments of another window function")
			}
		}
	}
	o, conv, err := f.resolve(sc, call, args)
	if err != nil {
		return nil, err
	}
	w := &windowSpec{kind: call.Func, text: parser.ExprString(call), offset: 1, start: 1}
	constArg := func(i int, what string) (any, error) {
		if !conv[i].isConst() {
			return nil, c.errorf(call.Args[i].Offset(), kusto.KindSemantic, "%s: %s must be a constant", call.Func, what)
		}
		return conv[i].konst.v, nil
	}
	if call.Func == "row_number" {
		w.typ = kusto.TypeLong
		if len(conv) > 0 {
			v, err := constArg(0, "the starting index")
			if err != nil {
				return nil, err
			}
			start, ok := v.(int64)
			if !ok {
				return nil, c.errorf(call.Args[0].Offset(), kusto.KindSemantic, "row_number: the starting index must not be null")
			}
			w.start = start
		}
		if len(conv) > 1 {
			w.arg = conv[1]
		}
		return w, nil
	}
	w.arg = conv[0]
	w.typ = w.arg.typ
	if o.result.name == "T" {
		w.typ = conv[0].typ
	}
	if len(conv) > 1 {
		v, err := constArg(1, "the offset")
		if err != nil {
			return nil, err
		}
		off, ok := v.(int64)
		if !ok || off < 0 || off > maxWindowOffset {
			return nil, c.errorf(call.Args[1].Offset(), kusto.KindSemantic, "%s: the offset must be from 0 to %d, not %s", call.Func, maxWindowOffset, kusto.FormatValue(v))
		}
		w.offset = int(off)
	}
	if len(conv) > 2 {
		if w.def, err = constArg(2, "the default value"); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// windowNode appends a column per window call to its input's columns.
type windowNode struct {
	in        Node
	schema    Schema
	width     int // the input's columns
	wins      []*windowSpec
	lookahead int // the most rows next() reads ahead
}

func (n *windowNode) Schema() Schema   { return n.schema }
func (n *windowNode) Children() []Node { return []Node{n.in} }
func (n *windowNode) Describe() string {
	parts := make([]string, len(n.wins))
	for i, w := range n.wins {
		parts[i] = w.text
	}
	return "window " + strings.Join(parts, ", ")
}

func (n *windowNode) prune(needed []bool) {
	in := make([]bool, n.width)
	copy(in, needed[:n.width])
	for i := range in {
		in[i] = true // the arguments' columns; marking by expression would need their trees
	}
	prune(n.in, in)
}

func (n *windowNode) Open(ctx context.Context) Operator {
	o := &windowOperator{n: n, in: n.in.Open(ctx), hist: make([][]any, len(n.wins)), rn: make([]int64, len(n.wins)), begun: make([]bool, len(n.wins))}
	for _, w := range n.wins {
		var eval func(*Batch) Column
		if w.arg != nil {
			eval = w.arg.evaluator()
		}
		o.evals = append(o.evals, eval)
	}
	o.ext.Cols = make([]Column, len(n.schema))
	return o
}

// windowOperator computes the window columns batch by batch, carrying what the next batch needs:
// row_number's count, prev's last values. next() reads ahead: the rows wait in a queue until the
// rows they read have arrived, or the input ends.
type windowOperator struct {
	n     *windowNode
	in    Operator
	evals []func(*Batch) Column
	rn    []int64 // by row_number call, the last row's number
	begun []bool
	hist  [][]any // by prev call, its argument's last values, oldest first
	ext   Batch
	// The lookahead queue: the rows not yet returned, each column's values; and at the end of
	// the input, done.
	queue []builder
	qlen  int
	done  bool
	out   Batch
}

func (o *windowOperator) Close() { o.in.Close() }

func (o *windowOperator) Next() (_ *Batch, err error) {
	defer catchFailure(&err)
	if o.n.lookahead == 0 {
		b, err := o.in.Next()
		if b == nil || err != nil {
			return nil, err
		}
		return o.extend(b), nil
	}
	for !o.done && o.qlen <= o.n.lookahead {
		b, err := o.in.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			o.done = true
			break
		}
		o.enqueue(o.extend(b))
	}
	return o.dequeue(), nil
}

// extend computes the window columns of b, all but next()'s, which get their arguments' values.
func (o *windowOperator) extend(b *Batch) *Batch {
	ext := &o.ext
	copy(ext.Cols, b.Cols)
	ext.Len = b.Len
	for k, w := range o.n.wins {
		var arg Column
		if o.evals[k] != nil {
			arg = o.evals[k](ext)
		}
		slot := o.n.width + k
		switch w.kind {
		case "row_number":
			out := make([]int64, b.Len)
			for i := range out {
				switch {
				case !o.begun[k]:
					o.rn[k], o.begun[k] = w.start, true
				case arg != nil && arg.Value(i) == true:
					o.rn[k] = w.start
				default:
					o.rn[k]++
				}
				out[i] = o.rn[k]
			}
			ext.Cols[slot] = NewVector(kusto.TypeLong, out, nil)
		case "prev":
			bld := builderFor(newColumn(w.typ, 0))
			h := o.hist[k]
			for i := range b.Len {
				switch j := i - w.offset; {
				case j >= 0:
					bld.appendValue(arg.Value(j))
				case len(h)+j >= 0:
					bld.appendValue(h[len(h)+j])
				default:
					bld.appendValue(w.def)
				}
			}
			for i := max(0, b.Len-w.offset); i < b.Len; i++ {
				h = append(h, arg.Value(i))
			}
			if len(h) > w.offset {
				h = append(h[:0], h[len(h)-w.offset:]...)
			}
			o.hist[k] = h
			ext.Cols[slot] = bld.column()
		case "next":
			ext.Cols[slot] = arg // shifted when the rows leave the queue
		}
	}
	return ext
}

func (o *windowOperator) enqueue(b *Batch) {
	if o.queue == nil {
		o.queue = make([]builder, len(o.n.schema))
		for i, col := range o.n.schema {
			o.queue[i] = builderFor(newColumn(col.Type, 0))
		}
	}
	for i, c := range b.Cols {
		if c == nil { // pruned
			c = nullColumn(o.n.schema[i].Type, b.Len)
		}
		o.queue[i].appendColumn(c)
	}
	o.qlen += b.Len
}

// dequeue returns the queued rows whose next() rows have arrived, up to a batch, and keeps the
// rest queued.
func (o *windowOperator) dequeue() *Batch {
	m := o.qlen - o.n.lookahead
	if o.done {
		m = o.qlen
	}
	m = min(m, batchSize)
	if m <= 0 {
		return nil
	}
	cols := make([]Column, len(o.queue))
	for i, q := range o.queue {
		cols[i] = q.column()
	}
	o.out.Cols = make([]Column, len(cols))
	for i, c := range cols {
		o.out.Cols[i] = c.Slice(0, m)
	}
	for k, w := range o.n.wins {
		if w.kind != "next" {
			continue
		}
		slot := o.n.width + k
		bld := builderFor(newColumn(w.typ, 0))
		for i := range m {
			if j := i + w.offset; j < o.qlen {
				bld.appendValue(cols[slot].Value(j))
			} else {
				bld.appendValue(w.def)
			}
		}
		o.out.Cols[slot] = bld.column()
	}
	o.out.Len = m
	// The rest stay queued, in new builders: the batch returned keeps the old ones' rows.
	rest := make([]builder, len(cols))
	for i, c := range cols {
		rest[i] = builderFor(newColumn(o.n.schema[i].Type, 0))
		rest[i].appendColumn(c.Slice(m, o.qlen))
	}
	o.queue, o.qlen = rest, o.qlen-m
	return &o.out
}

// windowScope compiles the window calls of exprs over in (windowed) and returns the input the
// operator then reads, a scope over it, and a finish that drops the hidden columns from the
// operator's output.
func (c *compiler) windowScope(in Node, exprs []parser.Expr) (Node, *scope, func(Node) Node, error) {
	win, slots, err := c.windowed(in, exprs)
	if err != nil {
		return nil, nil, nil, err
	}
	finish := func(n Node) Node {
		if slots == nil {
			return n
		}
		keep := make([]bool, len(n.Schema()))
		for i, col := range n.Schema() {
			keep[i] = !strings.HasPrefix(col.Name, "\x00window")
		}
		return keepColumns(n, keep, "project-away (the window columns)")
	}
	return win, &scope{schema: win.Schema(), c: c, windows: slots}, finish, nil
}

func namedTrees(list []*parser.NamedExpr) []parser.Expr {
	out := make([]parser.Expr, len(list))
	for i, n := range list {
		out[i] = n.Expr.Tree
	}
	return out
}
