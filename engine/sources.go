package engine

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The leaves of a plan: the sources a pipeline starts from.

// scanNode reads a snapshot of a table: the extents it had when the query was compiled. It opens
// only the columns some node of the plan reads (see prune); the others are nil in its batches.
type scanNode struct {
	table  TableInfo
	needed []bool // by column of the table's schema; nil until the plan is pruned
}

func (n *scanNode) Schema() Schema   { return n.table.Schema }
func (n *scanNode) Children() []Node { return nil }
func (n *scanNode) Describe() string {
	var cols []string
	for _, i := range n.columns() {
		cols = append(cols, quoteName(n.table.Schema[i].Name))
	}
	return fmt.Sprintf("scan %s (%d extents, %d rows) reading [%s]", quoteName(n.table.Name), len(n.table.Extents), n.table.Rows(), strings.Join(cols, ", "))
}

func (n *scanNode) prune(needed []bool) { n.needed = orNeeded(n.needed, needed) }

// columns are the indexes of the columns the scan reads.
func (n *scanNode) columns() []int {
	if n.needed == nil {
		return n.table.Schema.AllColumns()
	}
	var out []int
	for i, need := range n.needed {
		if need {
			out = append(out, i)
		}
	}
	return out
}

func (n *scanNode) Open(ctx context.Context) Operator {
	cols := n.columns()
	q, _ := ctx.Value(queryStateKey{}).(*queryState)
	return &scanOperator{check: newCancelCheck(ctx), scan: n.table.scanIn(cols, q), cols: cols, batch: Batch{Cols: make([]Column, len(n.table.Schema))}}
}

// scanOperator places the columns a table scan reads at their places in the table's schema.
type scanOperator struct {
	check cancelCheck
	scan  *TableScan
	cols  []int
	batch Batch
}

func (o *scanOperator) Next() (*Batch, error) {
	if err := o.check.err(); err != nil {
		return nil, err
	}
	b, err := o.scan.Next()
	if b == nil || err != nil {
		return nil, err
	}
	for j, i := range o.cols {
		o.batch.Cols[i] = b.Cols[j]
	}
	o.batch.Len = b.Len
	return &o.batch, nil
}

func (o *scanOperator) Close() { o.scan.Close() }

// frameNode reads a materialized frame: a command's result, a datatable.
type frameNode struct {
	frame *Frame
	what  string // how Describe names it
}

func (n *frameNode) Schema() Schema   { return n.frame.Schema }
func (n *frameNode) Children() []Node { return nil }
func (n *frameNode) Describe() string { return fmt.Sprintf("%s (%d rows)", n.what, n.frame.Rows) }
func (n *frameNode) Open(ctx context.Context) Operator {
	return newPartsOperator(ctx, n.frame.Schema, []extentPart{{cols: n.frame.Cols, rows: n.frame.Rows}})
}

// extentPart is a run of rows held column by column; a part may lack trailing columns of the
// schema (added by extend_schema after it was written), which read as nulls.
type extentPart struct {
	cols []Column
	rows int
}

// partsOperator yields the rows of parts in batches of at most batchSize rows, as views of the
// parts' columns: nothing is copied, and the batch is reused.
type partsOperator struct {
	check  cancelCheck
	schema Schema
	parts  []extentPart
	part   int
	row    int
	batch  Batch
	nulls  []Column // a batch of nulls for each column a part lacks, made when first needed
}

func newPartsOperator(ctx context.Context, schema Schema, parts []extentPart) *partsOperator {
	return &partsOperator{check: newCancelCheck(ctx), schema: schema, parts: parts, batch: Batch{Cols: make([]Column, len(schema))}}
}

func (o *partsOperator) Next() (*Batch, error) {
	for o.part < len(o.parts) && o.row >= o.parts[o.part].rows {
		o.part, o.row = o.part+1, 0
	}
	if o.part == len(o.parts) {
		return nil, nil
	}
	if err := o.check.err(); err != nil {
		return nil, err
	}
	p := o.parts[o.part]
	hi := min(o.row+batchSize, p.rows)
	o.batch.Len = hi - o.row
	for i, col := range o.schema {
		if i < len(p.cols) {
			o.batch.Cols[i] = p.cols[i].Slice(o.row, hi)
			continue
		}
		if o.nulls == nil {
			o.nulls = make([]Column, len(o.schema))
		}
		if o.nulls[i] == nil {
			o.nulls[i] = nullColumn(col.Type, batchSize)
		}
		o.batch.Cols[i] = o.nulls[i].Slice(0, o.batch.Len)
	}
	o.row = hi
	return &o.batch, nil
}

// countRows counts the parts' rows without reading them.
func (o *partsOperator) countRows() (int64, error) {
	if err := o.check.err(); err != nil {
		return 0, err
	}
	var n int64
	for ; o.part < len(o.parts); o.part, o.row = o.part+1, 0 {
		n += int64(o.parts[o.part].rows - o.row)
	}
	return n, nil
}

func (o *partsOperator) Close() {}

// streamNode reads a registered stream.
type streamNode struct {
	name   string
	stream Stream
}

func (n *streamNode) Schema() Schema                    { return n.stream.Schema }
func (n *streamNode) Children() []Node                  { return nil }
func (n *streamNode) Describe() string                  { return "stream " + quoteName(n.name) }
func (n *streamNode) Open(ctx context.Context) Operator { return n.stream.Open(ctx) }

// printNode is `print`: one row of constant-free expressions evaluated once.
type printNode struct {
	schema Schema
	exprs  []*compiled
	text   []string
}

func (n *printNode) Schema() Schema   { return n.schema }
func (n *printNode) Children() []Node { return nil }
func (n *printNode) Describe() string { return "print " + namedList(n.schema, n.text) }
func (n *printNode) Open(ctx context.Context) Operator {
	sent := false
	return funcOperator(func() (_ *Batch, err error) {
		if sent {
			return nil, nil
		}
		sent = true
		defer catchFailure(&err)
		one := &Batch{Len: 1}
		b := &Batch{Len: 1, Cols: make([]Column, len(n.exprs))}
		for i, e := range n.exprs {
			b.Cols[i] = e.eval(one)
		}
		return b, nil
	})
}

// namedList writes name = expr, … for a printed plan.
func namedList(schema Schema, text []string) string {
	parts := make([]string, len(text))
	for i, t := range text {
		parts[i] = quoteName(schema[i].Name) + " = " + t
	}
	return strings.Join(parts, ", ")
}

// rangeNode is `range x from A to B step C`.
type rangeNode struct {
	column string
	typ    kusto.Type
	count  uint64
	// from and step in ticks or units for integer, datetime and timespan ranges; ffrom and fstep
	// for real ones.
	from, step   int64
	ffrom, fstep float64
	text         string
}

func (n *rangeNode) Schema() Schema   { return Schema{{n.column, n.typ}} }
func (n *rangeNode) Children() []Node { return nil }
func (n *rangeNode) Describe() string { return fmt.Sprintf("%s (%d rows)", n.text, n.count) }

func (n *rangeNode) Open(ctx context.Context) Operator {
	switch n.typ {
	case kusto.TypeReal:
		from, step := n.ffrom, n.fstep
		return newRangeOperator(ctx, n.typ, n.count, func(i uint64, out []float64) {
			for j := range out {
				out[j] = from + float64(i+uint64(j))*step
			}
		})
	case kusto.TypeDateTime:
		return newRangeOperator(ctx, n.typ, n.count, fillTicks[kusto.DateTime](n.from, n.step))
	case kusto.TypeTimespan:
		return newRangeOperator(ctx, n.typ, n.count, fillTicks[kusto.Timespan](n.from, n.step))
	}
	return newRangeOperator(ctx, n.typ, n.count, fillTicks[int64](n.from, n.step))
}

func (c *compiler) rangeSource(s *parser.RangeSource) (Node, error) {
	var vals [3]*kusto.Literal
	for i, e := range []*parser.ScalarExpr{s.From, s.To, s.Step} {
		v, err := c.constantExpr(e.Tree, "a range bound")
		if err != nil {
			return nil, err
		}
		if v.Value == nil {
			return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "range bounds and step must not be null")
		}
		vals[i] = v
	}
	from, to, step := vals[0], vals[1], vals[2]
	n := &rangeNode{column: s.Column.String()}
	n.text = fmt.Sprintf("range %s from %s to %s step %s", quoteName(n.column),
		parser.ExprString(s.From.Tree), parser.ExprString(s.To.Tree), parser.ExprString(s.Step.Tree))
	switch {
	case isNumeric(from.Type) && isNumeric(to.Type) && isNumeric(step.Type):
		n.typ = max(kusto.TypeLong, from.Type, to.Type, step.Type)
	case from.Type == kusto.TypeDateTime && to.Type == kusto.TypeDateTime && step.Type == kusto.TypeTimespan,
		from.Type == kusto.TypeTimespan && to.Type == kusto.TypeTimespan && step.Type == kusto.TypeTimespan:
		n.typ = from.Type
	default:
		return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "range cannot go from a %s to a %s in steps of a %s", from.Type, to.Type, step.Type)
	}
	if n.typ == kusto.TypeReal {
		f, l, st := toFloat(from.Value), toFloat(to.Value), toFloat(step.Value)
		if st == 0 || math.IsNaN(st) {
			return nil, c.errorf(s.Step.Pos.Offset, kusto.KindSemantic, "range step must not be zero")
		}
		count := math.Floor((l-f)/st) + 1
		if math.IsNaN(count) || count < 0 {
			count = 0
		}
		n.ffrom, n.fstep, n.count = f, st, uint64(min(count, math.MaxUint64/2))
		return n, nil
	}
	f, l, st := toTicks(from.Value), toTicks(to.Value), toTicks(step.Value)
	if st == 0 {
		return nil, c.errorf(s.Step.Pos.Offset, kusto.KindSemantic, "range step must not be zero")
	}
	n.from, n.step, n.count = f, st, rangeCount(f, l, st)
	return n, nil
}

// fillTicks returns the fill function of an integer, datetime or timespan range: out[j] is
// from+(first+j)*step.
func fillTicks[T ~int64](from, step int64) func(first uint64, out []T) {
	return func(first uint64, out []T) {
		v := T(from + int64(first)*step)
		for j := range out {
			out[j] = v
			v += T(step)
		}
	}
}

// rangeCount is how many values from, from+step, … lie between from and to inclusive.
func rangeCount(from, to, step int64) uint64 {
	span := new(big.Int).Sub(big.NewInt(to), big.NewInt(from))
	n := span.Quo(span, big.NewInt(step))
	if n.Sign() < 0 {
		return 0
	}
	return n.Uint64() + 1
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	default:
		return v.(float64)
	}
}

func toTicks(v any) int64 {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case int64:
		return v
	case kusto.DateTime:
		return int64(v)
	default:
		return int64(v.(kusto.Timespan))
	}
}

// rangeOperator yields count values of type t in batches, filling each with fill(first, out)
// into one buffer it reuses. It checks for a cancel before every batch.
type rangeOperator[T any] struct {
	check cancelCheck
	count uint64
	done  uint64
	fill  func(first uint64, out []T)
	buf   []T
	view  Vector[T] // the batch's column: a view of buf, or of the rows nextInto appended
	batch Batch
}

func newRangeOperator[T any](ctx context.Context, t kusto.Type, count uint64, fill func(first uint64, out []T)) *rangeOperator[T] {
	r := &rangeOperator[T]{check: newCancelCheck(ctx), count: count, fill: fill}
	r.view.typ = t
	r.batch.Cols = []Column{&r.view}
	return r
}

// next returns the rows of the next batch: 0 at the end or on a cancel, with its cause.
func (r *rangeOperator[T]) next() (int, error) {
	if r.done >= r.count {
		return 0, nil
	}
	if err := r.check.err(); err != nil {
		return 0, err
	}
	return int(min(batchSize, r.count-r.done)), nil
}

func (r *rangeOperator[T]) Next() (*Batch, error) {
	n, err := r.next()
	if n == 0 {
		return nil, err
	}
	if r.buf == nil {
		r.buf = make([]T, min(batchSize, r.count))
	}
	data := r.buf[:n]
	r.fill(r.done, data)
	r.done += uint64(n)
	r.view.Data = data
	r.batch.Len = n
	return &r.batch, nil
}

func (r *rangeOperator[T]) Close() {}

// countRows is the range's size: counting needs no values.
func (r *rangeOperator[T]) countRows() (int64, error) {
	if err := r.check.err(); err != nil {
		return 0, err
	}
	n := r.count - r.done
	r.done = r.count
	return int64(min(n, math.MaxInt64)), nil
}

// remaining is how many rows the range has still to yield.
func (r *rangeOperator[T]) remaining() uint64 { return r.count - r.done }

// nextInto writes the next batch straight into the ingest's column builder.
func (r *rangeOperator[T]) nextInto(bs []*chunkedBuilder) (*Batch, error) {
	n, err := r.next()
	if n == 0 {
		return nil, err
	}
	data := appendSpace[T](bs[0], n)
	r.fill(r.done, data)
	r.done += uint64(len(data))
	r.view.Data = data
	r.batch.Len = len(data)
	return &r.batch, nil
}

// inPlaceSource is an Operator that can write its rows straight into an ingest's column
// builders, as a bare range does, so that each value is written once, where it stays, with no
// batch allocated or copied.
type inPlaceSource interface {
	Operator
	// remaining is how many rows are left.
	remaining() uint64
	// nextInto appends the next batch, at most batchSize rows, to the builders, one per column,
	// and returns a view of the rows it appended, valid until the next call; nil at the end.
	nextInto(bs []*chunkedBuilder) (*Batch, error)
}

func (c *compiler) datatable(s *parser.DatatableSource) (Node, error) {
	schema := make(Schema, len(s.Columns))
	for i, col := range s.Columns {
		schema[i] = ColumnSchema{col.Name.String(), col.Type}
	}
	builders := make([]builder, len(schema))
	count := len(s.Values) + len(s.Literals)
	for i, col := range schema {
		builders[i] = builderFor(newColumn(col.Type, count/max(1, len(schema))))
	}
	for i := range s.Literals { // the values the parser decoded, when all are literals
		lit, col := &s.Literals[i], schema[i%len(schema)]
		value, ok := coerceLiteral(lit.Literal, col.Type)
		if !ok {
			return nil, c.errorf(lit.At, kusto.KindSemantic, "datatable column %q is %s; this value is %s", col.Name, col.Type, lit.Type)
		}
		builders[i%len(schema)].appendValue(value)
	}
	for i, v := range s.Values {
		col := schema[i%len(schema)]
		lit, ok := literalValue(v.Tree)
		if !ok {
			l, err := c.constantExpr(v.Tree, "a datatable value")
			if err != nil {
				return nil, err
			}
			lit = *l
		}
		value, ok := coerceLiteral(lit, col.Type)
		if !ok {
			return nil, c.errorf(v.Pos.Offset, kusto.KindSemantic, "datatable column %q is %s; this value is %s", col.Name, col.Type, lit.Type)
		}
		builders[i%len(schema)].appendValue(value)
	}
	f := &Frame{Schema: schema, Rows: count / len(schema)}
	for _, b := range builders {
		f.Cols = append(f.Cols, b.column())
	}
	return &frameNode{frame: f, what: "datatable(" + schema.CSL() + ")"}, nil
}

// literalValue returns the value of a literal, or of a negated numeric literal, without
// compiling it: nearly every value of a datatable is one, and a datatable may hold millions.
func literalValue(e parser.Expr) (kusto.Literal, bool) {
	neg, negated := e.(*parser.NegateExpr)
	if negated {
		e = neg.Operand
	}
	lit, ok := e.(*parser.LiteralExpr)
	if !ok {
		return kusto.Literal{}, false
	}
	if !negated || lit.Value == nil && (isNumeric(lit.Type) || lit.Type == kusto.TypeTimespan) {
		return lit.Literal, true
	}
	switch v := lit.Value.(type) {
	case int32:
		return kusto.Literal{Type: lit.Type, Value: -v}, true
	case int64:
		return kusto.Literal{Type: lit.Type, Value: -v}, true
	case float64:
		return kusto.Literal{Type: lit.Type, Value: -v}, true
	case kusto.Timespan:
		return kusto.Literal{Type: lit.Type, Value: -v}, true
	}
	return kusto.Literal{}, false // the compiler says why it cannot be negated
}

// coerceLiteral converts a constant to a column's type where Kusto would: a null of any type,
// and numbers between numeric types when the value fits.
func coerceLiteral(lit kusto.Literal, to kusto.Type) (any, bool) {
	if lit.Value == nil {
		return nil, true
	}
	if lit.Type == to {
		return lit.Value, true
	}
	if isNumeric(lit.Type) && isNumeric(to) {
		if to == kusto.TypeReal {
			return toFloat(lit.Value), true
		}
		if lit.Type == kusto.TypeReal {
			return nil, false
		}
		v := convertValue(lit.Value, to)
		return v, v != nil
	}
	if to == kusto.TypeDynamic {
		return dynamicOf(lit.Value), true
	}
	return nil, false
}

func (c *compiler) print(s *parser.PrintSource) (Node, error) {
	sc := &scope{c: c}
	n := &printNode{}
	for i, col := range s.Columns {
		e, err := sc.compile(col.Expr.Tree)
		if err != nil {
			return nil, err
		}
		name := "print_" + strconv.Itoa(i)
		if col.Name != nil {
			name = col.Name.String()
		} else if ref, ok := col.Expr.Tree.(*parser.ColumnExpr); ok {
			name = ref.Name
		}
		if n.schema.Index(name) >= 0 {
			return nil, c.errorf(col.Pos.Offset, kusto.KindSemantic, "column %q is defined twice", name)
		}
		n.schema = append(n.schema, ColumnSchema{name, e.typ})
		n.exprs = append(n.exprs, e)
		n.text = append(n.text, parser.ExprString(col.Expr.Tree))
	}
	return n, nil
}
