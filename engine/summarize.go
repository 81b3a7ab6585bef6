package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// summarize, after the Kusto docs (query/summarize-operator.md): the output has the by columns
// first, then the aggregations' columns; with no by clause it has one row, even over no input
// (each aggregate's default), and with one, a row per distinct combination of the keys, in the
// order the combinations first appear, none over no input. A null key is a group of its own.
// An aggregation may be an expression over aggregates (sum(x) / count()); its column is then
// computed from the aggregates' results, group by group.

// aggPlace is where an expression is compiled, for the message an aggregation function misplaced
// gets.
type aggPlace uint8

const (
	aggNowhere  aggPlace = iota // outside summarize
	aggInBy                     // in summarize's by clause
	aggInArgs                   // in an aggregation function's arguments
	aggOverAggs                 // over aggregates' results, once they are lifted out
)

// misplacedAggregate is the error for a call of an aggregation function where none may stand.
func (sc *scope) misplacedAggregate(e *parser.CallExpr) error {
	msg := "%s() is an aggregation function; use it in summarize, as in summarize %s(…) by …"
	switch sc.agg {
	case aggInBy:
		msg = "%s() is an aggregation function; summarize's by clause takes scalar expressions, its aggregations go before by, as in summarize %s(…) by …"
	case aggInArgs:
		return sc.c.errorf(e.At, kusto.KindSemantic, "%s() is an aggregation function, and aggregation functions cannot be nested in %s()", e.Func, sc.inAggregate)
	}
	return sc.c.errorf(e.At, kusto.KindSemantic, msg, e.Func, e.Func)
}

// functionNameKinds are the scalar functions whose unnamed calls Kusto names after their first
// argument (bin(Timestamp, 1h) is Timestamp) or after themselves and it (strlen(s) is
// strlen_s), as Kusto.Language's function symbols say; other calls get Column1, Column2, ….
var (
	namedByFirstArgument = wordSet(`bin bin_at floor tostring tolong toint toreal todouble
		todatetime totimespan tobool toboolean toguid todynamic toobject parse_json parse_csv
		parse_xml split format_datetime format_timespan tohex binary_and binary_or binary_xor
		binary_not binary_shift_left binary_shift_right bitset_count_ones`)
	namedByFunctionAndArgument = map[string]string{"strlen": "strlen", "string_size": "string_size", "gettype": "type"}
)

// resultName is the name Kusto infers for an unnamed expression's column, if it infers one.
func resultName(e parser.Expr) (string, bool) {
	switch e := e.(type) {
	case *parser.ColumnExpr:
		return e.Name, true
	case *parser.IndexExpr:
		return accessName(e)
	case *parser.CallExpr:
		if a, ok := aggregates[e.Func]; ok && a.kind == aggValue {
			return a.prefix + "_" + firstArgumentName(e), true
		}
		if prefix, ok := namedByFunctionAndArgument[e.Func]; ok {
			return prefix + "_" + firstArgumentName(e), true
		}
		if namedByFirstArgument[e.Func] && len(e.Args) > 0 {
			return resultName(e.Args[0])
		}
	}
	return "", false
}

func firstArgumentName(e *parser.CallExpr) string {
	if len(e.Args) == 0 {
		return ""
	}
	name, _ := resultName(e.Args[0])
	return name
}

// columnNamer gives a summarize's columns their names: the names given, which must differ, then
// the inferred ones, made unique with a number (set_y, set_y1), and Column1, Column2, … for the
// rest.
type columnNamer struct {
	used   map[string]bool
	column int
}

func (n *columnNamer) given(name string) bool {
	if n.used == nil {
		n.used = map[string]bool{}
	}
	if n.used[name] {
		return false
	}
	n.used[name] = true
	return true
}

func (n *columnNamer) inferred(base string) string {
	name := base
	for k := 1; n.used[name]; k++ {
		name = base + strconv.Itoa(k)
	}
	n.given(name)
	return name
}

func (n *columnNamer) unnamed() string {
	for {
		n.column++
		if name := "Column" + strconv.Itoa(n.column); !n.used[name] {
			n.given(name)
			return name
		}
	}
}

// aggCall is one call of an aggregation function in a summarize.
type aggCall struct {
	fn   *aggregateFunc
	text string
	// args are the argument columns the aggregate takes (see groupedAgg.update), pred its
	// predicate; exprs what they read, for pruning.
	args  []*compiled
	pred  *compiled
	exprs []parser.Expr
	vtype kusto.Type // the value argument's type (the maximized one for arg_max)
	limit int
	// percents are percentile's, percentiles' and percentiles_array's percentiles.
	percents []float64
	// out is the columns it makes, named as Kusto names them unnamed.
	out Schema
}

// newGrouped returns the aggregate's states for a run of the summarize.
func (a *aggCall) newGrouped() groupedAgg {
	switch a.fn.kind {
	case aggRow:
		var returned []kusto.Type
		for _, c := range a.out[1:] {
			returned = append(returned, c.Type)
		}
		return newRowAgg(a.vtype, a.fn.largest, returned)
	case aggAny:
		var types []kusto.Type
		for _, c := range a.out {
			types = append(types, c.Type)
		}
		return &anyAgg{stores: storesFor(types)}
	case aggPercentiles:
		return newPercentileAgg(a.vtype, a.percents, a.fn.name == "percentiles_array")
	}
	if a.fn.grouped != nil {
		return a.fn.grouped(a.vtype, a.limit)
	}
	fn, t, limit := a.fn, a.vtype, a.limit
	return newStateAgg(a.out[0].Type, func() aggState { return fn.state(t, limit) })
}

// summarizeKey is one expression of the by clause.
type summarizeKey struct {
	e    *compiled
	expr parser.Expr
	text string
}

// summarizeItem is one aggregation of the list: an aggregate's columns as they are, or an
// expression over aggregates' results (post, over a batch of those results in the order of aggs).
type summarizeItem struct {
	aggs []int
	post *compiled
	text string
	cols int // how many output columns it makes
}

type summarizeNode struct {
	in     Node
	schema Schema
	keys   []summarizeKey
	aggs   []*aggCall
	items  []summarizeItem
	budget *Budget
}

func compileSummarize(c *compiler, in Node, op parser.Operator) (Node, error) {
	s := op.(*parser.SummarizeOp)
	if len(s.Aggregations) == 0 && len(s.By) == 0 {
		return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "summarize needs aggregations, a by clause or both, as in summarize count() by Column")
	}
	input := in.Schema()
	n := &summarizeNode{in: in, budget: c.sess.eng.budget}
	names := &columnNamer{}
	for _, list := range [][]*parser.NamedExpr{s.By, s.Aggregations} {
		for _, nx := range list {
			if nx.Name != nil && !names.given(nx.Name.String()) {
				return nil, c.errorf(nx.Pos.Offset, kusto.KindSemantic, "summarize: column %q is defined twice", nx.Name.String())
			}
		}
	}

	byColumns := map[int]bool{} // input columns that are keys as they are, which * leaves out
	byScope := &scope{schema: input, c: c, agg: aggInBy}
	for _, nx := range s.By {
		e, err := byScope.compile(nx.Expr.Tree)
		if err != nil {
			return nil, err
		}
		if e.typ == kusto.TypeDynamic {
			return nil, c.errorf(nx.Expr.Pos.Offset, kusto.KindSemantic, "summarize cannot group by a dynamic value; convert it first, as in by tostring(%s)", parser.ExprString(nx.Expr.Tree))
		}
		var name string
		switch inferred, ok := resultName(nx.Expr.Tree); {
		case nx.Name != nil:
			name = nx.Name.String()
		case ok:
			name = names.inferred(inferred)
		default:
			name = names.unnamed()
		}
		if col, ok := nx.Expr.Tree.(*parser.ColumnExpr); ok && input.Index(col.Name) >= 0 {
			byColumns[input.Index(col.Name)] = true
		}
		n.keys = append(n.keys, summarizeKey{e: e, expr: nx.Expr.Tree, text: parser.ExprString(nx.Expr.Tree)})
		n.schema = append(n.schema, ColumnSchema{name, e.typ})
	}

	for _, nx := range s.Aggregations {
		tree := nx.Expr.Tree
		text := parser.ExprString(tree)
		if call, ok := tree.(*parser.CallExpr); ok && aggregates[call.Func] != nil {
			a, err := c.aggregateCall(input, call, byColumns)
			if err != nil {
				return nil, err
			}
			for i, col := range a.out {
				switch {
				case i == 0 && nx.Name != nil:
					col.Name = nx.Name.String()
				default:
					col.Name = names.inferred(col.Name)
				}
				n.schema = append(n.schema, col)
			}
			n.items = append(n.items, summarizeItem{aggs: []int{len(n.aggs)}, text: text, cols: len(a.out)})
			n.aggs = append(n.aggs, a)
			continue
		}
		// An expression over aggregates: each call is lifted out into a column of the
		// aggregates' results, over which the rest of the expression is compiled.
		var hidden Schema
		item := summarizeItem{text: text, cols: 1}
		lifted, err := liftAggregates(tree, func(call *parser.CallExpr) (parser.Expr, error) {
			a, err := c.aggregateCall(input, call, byColumns)
			if err != nil {
				return nil, err
			}
			if len(a.out) != 1 {
				return nil, c.errorf(call.At, kusto.KindSemantic, "%s() makes %d columns; it cannot be part of an expression", call.Func, len(a.out))
			}
			name := "\x00aggregate" + strconv.Itoa(len(hidden))
			hidden = append(hidden, ColumnSchema{name, a.out[0].Type})
			item.aggs = append(item.aggs, len(n.aggs))
			n.aggs = append(n.aggs, a)
			return &parser.ColumnExpr{At: call.At, Name: name}, nil
		}, func(col *parser.ColumnExpr) error {
			if input.Index(col.Name) >= 0 {
				return c.errorf(col.At, kusto.KindSemantic, "summarize: column %q is used outside an aggregation function; aggregate it (take_any(%s)) or group by it", col.Name, col.Name)
			}
			return nil
		}, func(call *parser.CallExpr) error {
			_, err := (&scope{schema: input, c: c}).call(call) // the error of an unknown function
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(hidden) == 0 {
			return nil, c.errorf(tree.Offset(), kusto.KindSemantic, "summarize: %s is not an aggregation; call an aggregation function such as count() or sum(x) (the by clause takes scalar expressions)", text)
		}
		post, err := (&scope{schema: hidden, c: c, agg: aggOverAggs}).compile(lifted)
		if err != nil {
			return nil, err
		}
		item.post = post
		var name string
		switch inferred, ok := resultName(tree); {
		case nx.Name != nil:
			name = nx.Name.String()
		case ok:
			name = names.inferred(inferred)
		default:
			name = names.unnamed()
		}
		n.schema = append(n.schema, ColumnSchema{name, post.typ})
		n.items = append(n.items, item)
	}
	return n, nil
}

// liftAggregates returns e with each call of an aggregation function replaced by what lift
// makes of it; check is told of every column named outside those calls, unknown of every call of
// a function that is neither an aggregation nor a scalar function.
func liftAggregates(e parser.Expr, lift func(*parser.CallExpr) (parser.Expr, error), check func(*parser.ColumnExpr) error, unknown func(*parser.CallExpr) error) (parser.Expr, error) {
	var walk func(e parser.Expr) (parser.Expr, error)
	walkAll := func(list []parser.Expr) ([]parser.Expr, error) {
		out := make([]parser.Expr, len(list))
		for i, x := range list {
			y, err := walk(x)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	}
	walk = func(e parser.Expr) (parser.Expr, error) {
		switch e := e.(type) {
		case *parser.CallExpr:
			if aggregates[e.Func] != nil && functions[e.Func] == nil {
				return lift(e)
			}
			if functions[e.Func] == nil {
				return nil, unknown(e)
			}
			args, err := walkAll(e.Args)
			if err != nil {
				return nil, err
			}
			return &parser.CallExpr{At: e.At, Func: e.Func, Args: args}, nil
		case *parser.ColumnExpr:
			return e, check(e)
		case *parser.BinaryExpr:
			l, err := walk(e.Left)
			if err != nil {
				return nil, err
			}
			r, err := walk(e.Right)
			if err != nil {
				return nil, err
			}
			return &parser.BinaryExpr{At: e.At, Op: e.Op, Left: l, Right: r}, nil
		case *parser.NegateExpr:
			x, err := walk(e.Operand)
			if err != nil {
				return nil, err
			}
			return &parser.NegateExpr{At: e.At, Operand: x}, nil
		case *parser.InExpr:
			l, err := walk(e.Left)
			if err != nil {
				return nil, err
			}
			list, err := walkAll(e.List)
			if err != nil {
				return nil, err
			}
			return &parser.InExpr{At: e.At, Op: e.Op, Left: l, List: list}, nil
		}
		return e, nil
	}
	return walk(e)
}

func (n *summarizeNode) Schema() Schema   { return n.schema }
func (n *summarizeNode) Children() []Node { return []Node{n.in} }

func (n *summarizeNode) Describe() string {
	var b strings.Builder
	b.WriteString("summarize")
	col := len(n.keys)
	for i, it := range n.items {
		if i > 0 {
			b.WriteString(",")
		}
		names := make([]string, it.cols)
		for k := range it.cols {
			names[k] = quoteName(n.schema[col+k].Name)
		}
		col += it.cols
		lhs := names[0]
		if len(names) > 1 {
			lhs = "(" + strings.Join(names, ", ") + ")"
		}
		fmt.Fprintf(&b, " %s = %s", lhs, it.text)
	}
	if len(n.keys) > 0 {
		b.WriteString(" by")
		for i, k := range n.keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s = %s", quoteName(n.schema[i].Name), k.text)
		}
		b.WriteString(" (" + n.strategy() + ")")
	}
	return b.String()
}

// strategy says, for the printed plan, how the groups are found.
func (n *summarizeNode) strategy() string {
	if len(n.keys) > 1 {
		return "hash of the keys' bytes"
	}
	switch t := n.keys[0].e.typ; t {
	case kusto.TypeString:
		return "hash of a string"
	case kusto.TypeGUID:
		return "hash of the key's bytes"
	default:
		return "open-addressing hash of a " + t.String()
	}
}

// prune: summarize reads the columns its keys and aggregates' arguments name, whatever of its
// output is needed.
func (n *summarizeNode) prune(needed []bool) {
	schema := n.in.Schema()
	in := make([]bool, len(schema))
	for _, k := range n.keys {
		markColumns(in, schema, k.expr)
	}
	for _, a := range n.aggs {
		for _, e := range a.exprs {
			markColumns(in, schema, e)
		}
	}
	prune(n.in, in)
}

func (n *summarizeNode) Open(ctx context.Context) Operator {
	o := &summarizeOperator{node: n, in: n.in.Open(ctx), check: newCancelCheck(ctx)}
	types := make([]kusto.Type, len(n.keys))
	for i, k := range n.keys {
		types[i] = k.e.typ
		o.keyEvals = append(o.keyEvals, k.e.evaluator())
	}
	o.table = newGroupTable(types)
	o.keyCols = make([]Column, len(n.keys))
	for _, a := range n.aggs {
		run := &aggRun{agg: a.newGrouped(), args: make([]Column, len(a.args))}
		for _, x := range a.args {
			run.evals = append(run.evals, x.evaluator())
		}
		if a.pred != nil {
			run.pred = a.pred.evaluator()
		}
		o.aggs = append(o.aggs, run)
	}
	for _, it := range n.items {
		var eval func(*Batch) Column
		if it.post != nil {
			eval = it.post.evaluator()
		}
		o.posts = append(o.posts, eval)
	}
	o.batch.Cols = make([]Column, len(n.schema))
	return o
}

// aggRun is one aggregate of a running summarize.
type aggRun struct {
	agg   groupedAgg
	evals []func(*Batch) Column
	args  []Column
	pred  func(*Batch) Column
	sel   []int32
}

// summarizeOperator is hash aggregation: it reads all of its input, batch by batch, finding each
// row's group and updating every aggregate from the batch and its rows' groups, then yields a
// batch of groups at a time. The group table and the states are reserved from the memory budget
// as they grow, and given back at Close.
type summarizeOperator struct {
	node     *summarizeNode
	in       Operator
	check    cancelCheck
	keyEvals []func(*Batch) Column
	keyCols  []Column
	table    groupTable
	aggs     []*aggRun
	posts    []func(*Batch) Column
	gids     []int32
	held     int64
	read     bool // the input is consumed
	next     int  // the first group not yet yielded
	batch    Batch
	hidden   Batch // the aggregates' results an expression over them reads
	closed   bool
}

// plain returns a column as a plain vector, as the aggregates and group tables take them; a
// batch's columns are, but for a slice of a chunked column across chunks.
func plain(c Column) Column {
	if cc, ok := c.(*chunkedColumn); ok {
		return cc.Slice(0, cc.rows)
	}
	return c
}

func (o *summarizeOperator) consume() error {
	keyed := len(o.keyEvals) > 0
	for {
		b, err := o.in.Next()
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		var gids []int32
		if keyed {
			for i, ev := range o.keyEvals {
				o.keyCols[i] = plain(ev(b))
			}
			o.gids = grown(o.gids[:0], b.Len)
			gids = o.gids
			o.table.assign(o.keyCols, b.Len, gids)
		}
		groups := o.table.groups()
		for _, r := range o.aggs {
			r.agg.grow(groups)
			for i, ev := range r.evals {
				r.args[i] = plain(ev(b))
			}
			var sel []int32
			if r.pred != nil {
				sel = r.selected(b)
			}
			r.agg.update(r.args, b.Len, gids, sel)
		}
		if err := o.account(); err != nil {
			return err
		}
	}
}

// selected returns the rows of b for which the aggregate's predicate is true.
func (r *aggRun) selected(b *Batch) []int32 {
	p := vectorOf[bool](r.pred(b))
	r.sel = r.sel[:0]
	for i, v := range p.Data {
		if v && (p.Nulls == nil || !p.Nulls[i]) {
			r.sel = append(r.sel, int32(i))
		}
	}
	return r.sel
}

// account reserves from the budget what the table and the states have grown by.
func (o *summarizeOperator) account() error {
	now := o.table.footprint() + int64(cap(o.gids))*4
	for _, r := range o.aggs {
		now += r.agg.footprint()
	}
	if now <= o.held {
		return nil
	}
	if err := o.node.budget.reserve(now - o.held); err != nil {
		return err
	}
	o.held = now
	return nil
}

func (o *summarizeOperator) Next() (*Batch, error) {
	if !o.read {
		if err := o.consume(); err != nil {
			return nil, err
		}
		o.read = true
		for _, r := range o.aggs { // groups that no row reached: none, or summarize's one
			r.agg.grow(o.table.groups())
		}
	}
	lo := o.next
	if lo >= o.table.groups() {
		return nil, nil
	}
	if err := o.check.err(); err != nil {
		return nil, err
	}
	hi := min(lo+batchSize, o.table.groups())
	o.next = hi
	cols := o.batch.Cols[:0]
	cols = append(cols, o.table.keyColumns(lo, hi)...)
	for i, it := range o.node.items {
		if it.post == nil {
			cols = append(cols, o.aggs[it.aggs[0]].agg.results(lo, hi)...)
			continue
		}
		o.hidden.Cols, o.hidden.Len = o.hidden.Cols[:0], hi-lo
		for _, k := range it.aggs {
			o.hidden.Cols = append(o.hidden.Cols, o.aggs[k].agg.results(lo, hi)[0])
		}
		cols = append(cols, o.posts[i](&o.hidden))
	}
	o.batch.Cols, o.batch.Len = cols, hi-lo
	return &o.batch, nil
}

func (o *summarizeOperator) Close() {
	if o.closed {
		return
	}
	o.closed = true
	o.in.Close()
	o.node.budget.release(o.held)
	o.held = 0
	o.table, o.aggs = nil, nil
}
