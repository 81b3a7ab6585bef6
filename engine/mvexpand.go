package engine

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// mv-expand, per the Kusto docs' mv-expand-operator.md: each element of a dynamic array or
// property bag becomes a row, the other columns repeated. Several expressions expand in
// parallel, the shorter padded with nulls; a null value makes one row (of null), an empty array
// or bag none, and any other value (a number, a string) one row of itself.
//
// The expansion streams: each output batch holds at most batchSize rows, however long the
// arrays, so the operator's own memory is one batch, which it reserves from the budget; what
// keeps the rows (a result, a sort, an ingest) reserves them in turn, so a huge expansion stops
// with E_LOW_MEMORY_CONDITION rather than exhausting the machine.

func init() {
	operatorRegistry = append(operatorRegistry,
		&OperatorInfo{
			Name:     "mv-expand",
			Synopsis: "mv-expand [kind=(bag | array)] [with_itemindex=IndexColumn] [Name =] ArrayExpression [to typeof(Type)], … [limit RowLimit]",
			Summary:  "Expands dynamic arrays and property bags into a row per element, the other columns repeated.", Completes: CompleteExpressions,
			node: nodeOf[*parser.MvExpandOp](), compile: compileMvExpand,
		},
		&OperatorInfo{
			Name:     "mv-apply",
			Synopsis: "mv-apply [with_itemindex=IndexColumn] [Name =] ArrayExpression [to typeof(Type)], … [limit RowLimit] on (SubQuery)",
			Summary:  "Expands each row's arrays as mv-expand does and runs a subquery over the rows of each, returning the union of the results.", Completes: CompleteExpressions,
			node: nodeOf[*parser.MvApplyOp](), compile: compileMvApply,
		},
	)
}

// expandSpec is what mv-expand and mv-apply expand: the items, and the schema they make.
type expandSpec struct {
	op       string // mv-expand or mv-apply, for messages
	items    []expandItem
	bagArray bool   // kind=array: a bag's entries become [key, value] arrays
	index    string // the with_itemindex column, or ""
	limit    int64  // the most rows one input row makes
	schema   Schema // the output's
	pass     []int  // for each output column, the input column it repeats, or -1
	inWidth  int    // the input's columns
	input    Schema // the input's schema, which the items' expressions read
}

type expandItem struct {
	slot     int // the output column
	replaces int // the input column it replaces, or -1
	typ      kusto.Type
	e        *compiled
	expr     parser.Expr
	text     string
}

const defaultExpandLimit = 2147483647 // the docs' default RowLimit

func (c *compiler) expandSpec(op string, in Node, params []*parser.ExpandParam, items []*parser.ExpandItem, limit *parser.ScalarExpr) (*expandSpec, error) {
	inSchema := in.Schema()
	s := &expandSpec{op: op, limit: defaultExpandLimit, schema: slices.Clone(inSchema), inWidth: len(inSchema), input: inSchema}
	for i := range s.schema {
		s.pass = append(s.pass, i)
	}
	for _, p := range params {
		switch p.Name {
		case "kind", "bagexpansion":
			s.bagArray = p.Value.String() == "array"
		case "with_itemindex":
			s.index = p.Value.String()
		}
	}
	if limit != nil {
		lit, err := c.constantExpr(limit.Tree, "the row limit of "+op)
		if err != nil {
			return nil, err
		}
		n, ok := toInt64(lit.Value)
		if !ok || !isNumeric(lit.Type) || n < 0 {
			return nil, c.errorf(limit.Pos.Offset, kusto.KindSemantic, "%s needs a non-negative row limit, not %s", op, kusto.FormatValue(lit.Value))
		}
		s.limit = n
	}
	sc := &scope{schema: inSchema, c: c}
	named := map[string]bool{}
	unnamed := 0
	for _, it := range items {
		e, err := sc.compile(it.Expr.Tree)
		if err != nil {
			return nil, err
		}
		if e.typ != kusto.TypeDynamic {
			return nil, c.errorf(it.Expr.Pos.Offset, kusto.KindSemantic, "%s expands dynamic arrays and property bags; %s is a %s", op, parser.ExprString(it.Expr.Tree), e.typ)
		}
		var name string
		switch col, isCol := it.Expr.Tree.(*parser.ColumnExpr); {
		case it.Name != nil:
			name = it.Name.String()
		case isCol && inSchema.Index(col.Name) >= 0:
			name = col.Name
		default:
			unnamed++
			name = "Column" + strconv.Itoa(unnamed)
		}
		if named[name] {
			return nil, c.errorf(it.Pos.Offset, kusto.KindSemantic, "%s: column %q is expanded twice", op, name)
		}
		named[name] = true
		item := expandItem{replaces: inSchema.Index(name), typ: it.Type, e: e, expr: it.Expr.Tree, text: parser.ExprString(it.Expr.Tree)}
		if item.replaces >= 0 {
			item.slot = item.replaces
			s.schema[item.slot].Type = it.Type
			s.pass[item.slot] = -1
		} else {
			item.slot = len(s.schema)
			s.schema = append(s.schema, ColumnSchema{name, it.Type})
			s.pass = append(s.pass, -1)
		}
		s.items = append(s.items, item)
	}
	if s.index != "" {
		if s.schema.Index(s.index) >= 0 {
			return nil, c.errorf(params[slices.IndexFunc(params, func(p *parser.ExpandParam) bool { return p.Name == "with_itemindex" })].Value.Pos.Offset,
				kusto.KindSemantic, "%s: with_itemindex names %q, which is already a column", op, s.index)
		}
		s.schema = append(s.schema, ColumnSchema{s.index, kusto.TypeLong})
		s.pass = append(s.pass, -1)
	}
	return s, nil
}

// describe is the operator's line in a printed plan, after its name.
func (s *expandSpec) describe() string {
	var parts []string
	if s.bagArray {
		parts = append(parts, "kind=array")
	}
	if s.index != "" {
		parts = append(parts, "with_itemindex="+quoteName(s.index))
	}
	items := make([]string, len(s.items))
	for i, it := range s.items {
		items[i] = quoteName(s.schema[it.slot].Name) + " = " + it.text
		if it.typ != kusto.TypeDynamic {
			items[i] += " to typeof(" + it.typ.String() + ")"
		}
	}
	parts = append(parts, strings.Join(items, ", "))
	if s.limit != defaultExpandLimit {
		parts = append(parts, "limit "+strconv.FormatInt(s.limit, 10))
	}
	return strings.Join(parts, " ")
}

// inputNeeds returns the input columns the expansion reads to make the output columns marked
// in needed.
func (s *expandSpec) inputNeeds(needed []bool) []bool {
	in := make([]bool, s.inWidth)
	for j, i := range s.pass {
		if i >= 0 && needed[j] {
			in[i] = true
		}
	}
	for _, it := range s.items {
		markColumns(in, s.input, it.expr)
	}
	return in
}

func compileMvExpand(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.MvExpandOp)
	s, err := c.expandSpec("mv-expand", in, o.Params, o.Items, o.Limit)
	if err != nil {
		return nil, err
	}
	return &mvExpandNode{in: in, spec: s, budget: c.sess.eng.budget}, nil
}

type mvExpandNode struct {
	in     Node
	spec   *expandSpec
	budget *Budget
	needed []bool // the output columns read downstream; nil for all
}

func (n *mvExpandNode) Schema() Schema   { return n.spec.schema }
func (n *mvExpandNode) Children() []Node { return []Node{n.in} }
func (n *mvExpandNode) Describe() string { return "mv-expand " + n.spec.describe() }

func (n *mvExpandNode) prune(needed []bool) {
	n.needed = orNeeded(n.needed, needed)
	prune(n.in, n.spec.inputNeeds(needed))
}

func (n *mvExpandNode) Open(ctx context.Context) Operator {
	return &mvExpandOperator{in: n.in.Open(ctx), x: newExpander(n.spec, n.needed), cancel: newCancelCheck(ctx), budget: n.budget}
}

type mvExpandOperator struct {
	in       Operator
	x        *expander
	loaded   bool
	cancel   cancelCheck
	budget   *Budget
	reserved int64 // for the batch last returned
}

func (o *mvExpandOperator) Next() (_ *Batch, err error) {
	defer catchFailure(&err)
	for {
		if !o.loaded {
			b, err := o.in.Next()
			if b == nil || err != nil {
				return nil, err
			}
			o.x.load(b, 0, b.Len)
			o.loaded = true
		}
		if err := o.cancel.err(); err != nil {
			return nil, err
		}
		out := o.x.next()
		if out == nil {
			o.loaded = false
			continue
		}
		if err := o.charge(out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// charge reserves what the batch about to be returned costs, giving back the previous one's.
func (o *mvExpandOperator) charge(b *Batch) error {
	var cost int64
	for _, col := range o.x.owned(b) {
		cost += memoryCost(col)
	}
	o.budget.release(o.reserved)
	o.reserved = 0
	if err := o.budget.reserve(cost); err != nil {
		return err
	}
	o.reserved = cost
	return nil
}

func (o *mvExpandOperator) Close() {
	o.budget.release(o.reserved)
	o.reserved = 0
	o.in.Close()
}

// expander makes the rows of an expansion from the rows [row, end) of an input batch, a batch
// of at most batchSize rows at a time. One goroutine at a time uses it.
type expander struct {
	spec   *expandSpec
	needed []bool
	evals  []func(*Batch) Column
	vals   []*Vector[any] // each item's values over the input batch
	keys   [][]string     // for the current row, each item's bag keys in order, or nil
	in     *Batch
	row    int
	end    int
	elem   int // the next element of the current row
	rowN   int // the current row's output rows; -1 when not counted yet
	idx    []int32
	sinks  []elementSink
	index  *Vector[int64]
	out    Batch
}

func newExpander(s *expandSpec, needed []bool) *expander {
	x := &expander{spec: s, needed: needed, vals: make([]*Vector[any], len(s.items)), keys: make([][]string, len(s.items)),
		sinks: make([]elementSink, len(s.items)), out: Batch{Cols: make([]Column, len(s.schema))}}
	for i, it := range s.items {
		x.evals = append(x.evals, it.e.evaluator())
		x.sinks[i] = newElementSink(it.typ)
	}
	if s.index != "" {
		x.index = &Vector[int64]{typ: kusto.TypeLong, Data: make([]int64, 0, batchSize)}
	}
	return x
}

// load starts expanding rows [row, end) of b, which stays valid until the expansion is done.
func (x *expander) load(b *Batch, row, end int) {
	x.in = b
	for i, ev := range x.evals {
		x.vals[i] = vectorOf[any](ev(b))
	}
	x.seek(row, end)
}

// seek starts expanding rows [row, end) of the loaded batch again.
func (x *expander) seek(row, end int) { x.row, x.end, x.elem, x.rowN = row, end, 0, -1 }

// owned returns the columns of an output batch that the expander made, not repeated ones.
func (x *expander) owned(b *Batch) []Column {
	var out []Column
	for _, it := range x.spec.items {
		out = append(out, b.Cols[it.slot])
	}
	if x.index != nil {
		out = append(out, b.Cols[len(b.Cols)-1])
	}
	return out
}

// next returns the next batch of the expansion, valid until the next call, or nil when the
// rows are done.
func (x *expander) next() *Batch {
	s := x.spec
	x.idx = x.idx[:0]
	for _, sink := range x.sinks {
		sink.reset()
	}
	if x.index != nil {
		x.index.Data = x.index.Data[:0]
	}
	for x.row < x.end && len(x.idx) < batchSize {
		if x.rowN < 0 {
			x.rowN = x.countRow(x.row)
		}
		for ; x.elem < x.rowN && len(x.idx) < batchSize; x.elem++ {
			x.idx = append(x.idx, int32(x.row))
			for i := range s.items {
				x.sinks[i].put(x.element(i, x.row, x.elem))
			}
			if x.index != nil {
				x.index.Data = append(x.index.Data, int64(x.elem))
			}
		}
		if x.elem >= x.rowN {
			x.row, x.elem, x.rowN = x.row+1, 0, -1
		}
	}
	if len(x.idx) == 0 {
		return nil
	}
	for j, i := range s.pass {
		switch {
		case i < 0:
		case x.in.Cols[i] == nil || x.needed != nil && !x.needed[j]:
			x.out.Cols[j] = nil // pruned: no node reads it
		default:
			x.out.Cols[j] = gatherInto(x.out.Cols[j], x.in.Cols[i], x.idx)
		}
	}
	for i, it := range s.items {
		x.out.Cols[it.slot] = x.sinks[i].column()
	}
	if x.index != nil {
		x.out.Cols[len(x.out.Cols)-1] = x.index
	}
	x.out.Len = len(x.idx)
	return &x.out
}

// countRow returns how many rows input row r makes, and orders its bags' keys.
func (x *expander) countRow(r int) int {
	n := 0
	for i, vals := range x.vals {
		x.keys[i] = nil
		m := 1 // null, and any value that is neither an array nor a bag, make one row
		if !vals.IsNull(r) {
			switch v := vals.Data[r].(type) {
			case []any:
				m = len(v)
			case map[string]any:
				m = len(v)
				x.keys[i] = slices.Sorted(maps.Keys(v)) // Kustard's bags keep no order: by key, as they print
			}
		}
		n = max(n, m)
	}
	return int(min(int64(n), x.spec.limit))
}

// element returns element j of item i's value in row r, or nil past its end.
func (x *expander) element(i, r, j int) any {
	vals := x.vals[i]
	if vals.IsNull(r) {
		return nil
	}
	switch v := vals.Data[r].(type) {
	case []any:
		if j < len(v) {
			return v[j]
		}
	case map[string]any:
		if j < len(v) {
			k := x.keys[i][j]
			if x.spec.bagArray {
				return []any{k, v[k]}
			}
			return map[string]any{k: v[k]}
		}
	default:
		if j == 0 {
			return v
		}
	}
	return nil
}

// elementSink collects an item's elements into a column of its type.
type elementSink interface {
	reset()
	put(v any) // an element, cast to the column's type; null when it is of another kind
	column() Column
}

// dynamicSink keeps the elements as they are.
type dynamicSink struct{ v *Vector[any] }

func (s *dynamicSink) reset()         { s.v.Data, s.v.Nulls = s.v.Data[:0], nil }
func (s *dynamicSink) column() Column { return s.v }
func (s *dynamicSink) put(v any) {
	if v == nil && s.v.Nulls == nil {
		s.v.Nulls = make([]bool, len(s.v.Data), cap(s.v.Data))
	}
	s.v.Data = append(s.v.Data, v)
	if s.v.Nulls != nil {
		s.v.Nulls = append(s.v.Nulls, v == nil)
	}
}

// castSink casts each element to T, unboxed, so that a typed expansion allocates nothing per
// element.
type castSink[T any] struct {
	v    *Vector[T]
	cast func(any) (T, bool)
}

func (s *castSink[T]) reset()         { s.v.Data, s.v.Nulls = s.v.Data[:0], nil }
func (s *castSink[T]) column() Column { return s.v }
func (s *castSink[T]) put(v any) {
	x, ok := s.cast(v)
	if !ok && s.v.typ != kusto.TypeString && s.v.Nulls == nil {
		s.v.Nulls = make([]bool, len(s.v.Data), cap(s.v.Data))
	}
	s.v.Data = append(s.v.Data, x)
	if s.v.Nulls != nil {
		s.v.Nulls = append(s.v.Nulls, !ok && s.v.typ != kusto.TypeString)
	}
}

func newCastSink[T any](t kusto.Type, cast func(any) (T, bool)) elementSink {
	return &castSink[T]{v: &Vector[T]{typ: t, Data: make([]T, 0, batchSize)}, cast: cast}
}

// newElementSink returns the sink of a column of type t. `to typeof(T)` is a cast, not a
// conversion, the docs say: an element of another kind is null (an empty string for string).
// Kustard's dynamic values hold datetimes, timespans and guids as their strings, so those are
// read back from strings; numbers move between int, long and real when the value is kept
// exactly.
func newElementSink(t kusto.Type) elementSink {
	switch t {
	case kusto.TypeString:
		return newCastSink(t, func(v any) (string, bool) { s, ok := v.(string); return s, ok })
	case kusto.TypeBool:
		return newCastSink(t, func(v any) (bool, bool) { b, ok := v.(bool); return b, ok })
	case kusto.TypeLong:
		return newCastSink(t, func(v any) (int64, bool) { n, ok := v.(int64); return n, ok })
	case kusto.TypeInt:
		return newCastSink(t, func(v any) (int32, bool) {
			n, ok := v.(int64)
			return int32(n), ok && n == int64(int32(n))
		})
	case kusto.TypeReal:
		return newCastSink(t, func(v any) (float64, bool) {
			switch n := v.(type) {
			case float64:
				return n, true
			case int64:
				f := float64(n)
				return f, int64(f) == n
			}
			return 0, false
		})
	case kusto.TypeDateTime:
		return newCastSink(t, fromString(kusto.ParseDateTime))
	case kusto.TypeTimespan:
		return newCastSink(t, fromString(kusto.ParseTimespan))
	case kusto.TypeGUID:
		return newCastSink(t, fromString(kusto.ParseGUID))
	}
	return &dynamicSink{v: &Vector[any]{typ: kusto.TypeDynamic, Data: make([]any, 0, batchSize)}}
}

func fromString[T any](parse func(string) (T, error)) func(any) (T, bool) {
	return func(v any) (T, bool) {
		var zero T
		s, ok := v.(string)
		if !ok {
			return zero, false
		}
		x, err := parse(strings.TrimSpace(s))
		return x, err == nil
	}
}
