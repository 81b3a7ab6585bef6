package engine

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// A query compiles to a plan: its output schema and a way to open an Iterator that yields
// batches. Plans are checked completely before anything runs, so type errors never surface
// halfway through an ingest.

type plan struct {
	schema Schema
	open   func(ctx context.Context) Iterator
}

// Iterator yields batches of rows; a nil batch means the end.
type Iterator interface {
	Next() (*Batch, error)
}

type iterFunc func() (*Batch, error)

func (f iterFunc) Next() (*Batch, error) { return f() }

// Frame is a materialized table: the result of a command or a query.
type Frame struct {
	Schema Schema
	Cols   []Column
	Rows   int
}

// Value returns the value at row, col (nil for null).
func (f *Frame) Value(row, col int) any { return f.Cols[col].Value(row) }

// cancelCheck tells a source whether its query has been canceled. Sources ask once per batch,
// that is at least every batchSize rows.
type cancelCheck struct {
	ctx  context.Context
	done <-chan struct{}
}

func newCancelCheck(ctx context.Context) cancelCheck { return cancelCheck{ctx, ctx.Done()} }

func (c cancelCheck) err() error {
	select {
	case <-c.done:
		return context.Cause(c.ctx)
	default:
		return nil
	}
}

// compiler turns a query's AST into a plan.
type compiler struct {
	sess *Session
	db   *Database
	src  *kusto.Source
	now  kusto.DateTime
	lets []letBinding // innermost last
}

type letBinding struct {
	name    string
	scalar  *kusto.Literal
	tabular *plan
}

func (c *compiler) errorf(offset int, kind kusto.Kind, format string, args ...any) error {
	return kusto.Errorf(kind, c.src, offset, format, args...)
}

func (c *compiler) scalarLet(name string) (kusto.Literal, bool) {
	for i := len(c.lets) - 1; i >= 0; i-- {
		if c.lets[i].name == name {
			if c.lets[i].scalar == nil {
				return kusto.Literal{}, false
			}
			return *c.lets[i].scalar, true
		}
	}
	return kusto.Literal{}, false
}

func (c *compiler) tabularLet(name string) (*plan, bool) {
	for i := len(c.lets) - 1; i >= 0; i-- {
		if c.lets[i].name == name {
			return c.lets[i].tabular, c.lets[i].tabular != nil
		}
	}
	return nil, false
}

func (c *compiler) query(q *parser.Query) (*plan, error) {
	for _, l := range q.Lets {
		if err := c.let(l); err != nil {
			return nil, err
		}
	}
	return c.pipeline(q.Body)
}

func (c *compiler) let(l *parser.Let) error {
	name := l.Name.String()
	if l.Tabular != nil {
		p, err := c.pipeline(l.Tabular)
		if err != nil {
			return err
		}
		c.lets = append(c.lets, letBinding{name: name, tabular: p})
		return nil
	}
	// `let T2 = T;` names a table, not a scalar.
	if col, ok := l.Scalar.Tree.(*parser.ColumnExpr); ok {
		if p, found, err := c.tableRef(col.Name, col.At); found || err != nil {
			if err != nil {
				return err
			}
			c.lets = append(c.lets, letBinding{name: name, tabular: p})
			return nil
		}
	}
	e, err := c.constantExpr(l.Scalar.Tree, "a let statement's value")
	if err != nil {
		return err
	}
	c.lets = append(c.lets, letBinding{name: name, scalar: e})
	return nil
}

// constantExpr compiles an expression that may not refer to any column and returns its value.
func (c *compiler) constantExpr(e parser.Expr, what string) (*kusto.Literal, error) {
	sc := &scope{c: c}
	x, err := sc.compile(e)
	if err != nil {
		return nil, err
	}
	if !x.isConst() {
		return nil, c.errorf(e.Offset(), kusto.KindSemantic, "%s must be a constant", what)
	}
	return &kusto.Literal{Type: x.typ, Value: x.konst.v}, nil
}

func (c *compiler) pipeline(p *parser.Pipeline) (*plan, error) {
	out, err := c.source(p.Source)
	if err != nil {
		return nil, err
	}
	return c.operators(out, p.Ops)
}

func (c *compiler) operators(in *plan, ops []*parser.Operator) (*plan, error) {
	for _, op := range ops {
		var err error
		if in, err = c.operator(in, op); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func (c *compiler) source(s parser.TabularSource) (*plan, error) {
	switch s := s.(type) {
	case *parser.RangeSource:
		return c.rangeSource(s)
	case *parser.DatatableSource:
		return c.datatable(s)
	case *parser.PrintSource:
		return c.print(s)
	case *parser.ParenSource:
		return c.pipeline(s.Body)
	case *parser.TableRef:
		p, found, err := c.tableRef(s.Name.String(), s.Pos.Offset)
		if err != nil {
			return nil, err
		}
		if !found {
			if _, ok := c.scalarLet(s.Name.String()); ok {
				return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "%q is a scalar, not a table", s.Name.String())
			}
			return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "failed to resolve table or column expression named %q", s.Name.String())
		}
		return p, nil
	}
	return nil, fmt.Errorf("engine: unknown source %T", s)
}

// tableRef resolves a name to a tabular let, a registered stream or a table of the database.
func (c *compiler) tableRef(name string, offset int) (*plan, bool, error) {
	if p, ok := c.tabularLet(name); ok {
		return p, true, nil
	}
	if s, ok := c.sess.eng.stream(name); ok {
		return &plan{schema: s.Schema, open: func(ctx context.Context) Iterator { return s.Open(ctx) }}, true, nil
	}
	t, ok := c.db.Table(name)
	if !ok {
		return nil, false, nil
	}
	return scanPlan(t), true, nil
}

// scanPlan reads a snapshot of a table: the extents it had when the query was compiled.
func scanPlan(t TableInfo) *plan {
	schema := t.Schema
	return &plan{schema: schema, open: func(ctx context.Context) Iterator {
		check := newCancelCheck(ctx)
		scan := t.Scan(schema.AllColumns())
		return iterFunc(func() (*Batch, error) {
			b, err := scan.Next()
			if b == nil || err != nil {
				return b, err
			}
			if err := check.err(); err != nil {
				return nil, err
			}
			return b, nil
		})
	}}
}

// framePlan reads a materialized frame, such as a command's result.
func framePlan(f *Frame) *plan {
	return &plan{schema: f.Schema, open: func(ctx context.Context) Iterator {
		row := 0
		return iterFunc(func() (*Batch, error) {
			if row >= f.Rows {
				return nil, nil
			}
			hi := min(row+batchSize, f.Rows)
			b := &Batch{Cols: make([]Column, len(f.Cols)), Len: hi - row}
			for i, col := range f.Cols {
				b.Cols[i] = col.Slice(row, hi)
			}
			row = hi
			return b, nil
		})
	}}
}

func (c *compiler) rangeSource(s *parser.RangeSource) (*plan, error) {
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
	name := s.Column.String()
	var t kusto.Type
	switch {
	case isNumeric(from.Type) && isNumeric(to.Type) && isNumeric(step.Type):
		t = max(kusto.TypeLong, from.Type, to.Type, step.Type)
	case from.Type == kusto.TypeDateTime && to.Type == kusto.TypeDateTime && step.Type == kusto.TypeTimespan,
		from.Type == kusto.TypeTimespan && to.Type == kusto.TypeTimespan && step.Type == kusto.TypeTimespan:
		t = from.Type
	default:
		return nil, c.errorf(s.Pos.Offset, kusto.KindSemantic, "range cannot go from a %s to a %s in steps of a %s", from.Type, to.Type, step.Type)
	}
	schema := Schema{{name, t}}
	if t == kusto.TypeReal {
		f, l, st := toFloat(from.Value), toFloat(to.Value), toFloat(step.Value)
		if st == 0 || math.IsNaN(st) {
			return nil, c.errorf(s.Step.Pos.Offset, kusto.KindSemantic, "range step must not be zero")
		}
		count := math.Floor((l-f)/st) + 1
		if math.IsNaN(count) || count < 0 {
			count = 0
		}
		return &plan{schema: schema, open: func(ctx context.Context) Iterator {
			return rangeIterator(ctx, t, uint64(min(count, math.MaxUint64/2)), func(i uint64, out []float64) {
				for j := range out {
					out[j] = f + float64(i+uint64(j))*st
				}
			})
		}}, nil
	}
	f, l, st := toTicks(from.Value), toTicks(to.Value), toTicks(step.Value)
	if st == 0 {
		return nil, c.errorf(s.Step.Pos.Offset, kusto.KindSemantic, "range step must not be zero")
	}
	count := rangeCount(f, l, st)
	return &plan{schema: schema, open: func(ctx context.Context) Iterator {
		switch t {
		case kusto.TypeDateTime:
			return rangeIterator(ctx, t, count, fillTicks[kusto.DateTime](f, st))
		case kusto.TypeTimespan:
			return rangeIterator(ctx, t, count, fillTicks[kusto.Timespan](f, st))
		}
		return rangeIterator(ctx, t, count, fillTicks[int64](f, st))
	}}, nil
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

// rangeIter yields count values of type t in batches, filling each with fill(first, out). It
// checks for a cancel before every batch.
type rangeIter[T any] struct {
	check cancelCheck
	typ   kusto.Type
	count uint64
	done  uint64
	fill  func(first uint64, out []T)
	view  Vector[T] // nextInto's view of the rows it appended
	batch Batch
}

func rangeIterator[T any](ctx context.Context, t kusto.Type, count uint64, fill func(first uint64, out []T)) Iterator {
	r := &rangeIter[T]{check: newCancelCheck(ctx), typ: t, count: count, fill: fill}
	r.view.typ = t
	r.batch.Cols = []Column{&r.view}
	return r
}

// next returns the rows of the next batch: 0 at the end or on a cancel, with its cause.
func (r *rangeIter[T]) next() (int, error) {
	if r.done >= r.count {
		return 0, nil
	}
	if err := r.check.err(); err != nil {
		return 0, err
	}
	return int(min(batchSize, r.count-r.done)), nil
}

func (r *rangeIter[T]) Next() (*Batch, error) {
	n, err := r.next()
	if n == 0 {
		return nil, err
	}
	data := make([]T, n)
	r.fill(r.done, data)
	r.done += uint64(n)
	return &Batch{Cols: []Column{&Vector[T]{typ: r.typ, Data: data}}, Len: n}, nil
}

// remaining is how many rows the range has still to yield.
func (r *rangeIter[T]) remaining() uint64 { return r.count - r.done }

// nextInto writes the next batch straight into the ingest's column builder.
func (r *rangeIter[T]) nextInto(bs []*chunkedBuilder) (*Batch, error) {
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

// inPlaceSource is an Iterator that can write its rows straight into an ingest's column
// builders, as a bare range does, so that each value is written once, where it stays, with no
// batch allocated or copied.
type inPlaceSource interface {
	Iterator
	// remaining is how many rows are left.
	remaining() uint64
	// nextInto appends the next batch, at most batchSize rows, to the builders, one per column,
	// and returns a view of the rows it appended, valid until the next call; nil at the end.
	nextInto(bs []*chunkedBuilder) (*Batch, error)
}

func (c *compiler) datatable(s *parser.DatatableSource) (*plan, error) {
	schema := make(Schema, len(s.Columns))
	for i, col := range s.Columns {
		schema[i] = ColumnSchema{col.Name.String(), col.Type}
	}
	builders := make([]builder, len(schema))
	for i, col := range schema {
		builders[i] = builderFor(newColumn(col.Type, len(s.Values)/max(1, len(schema))))
	}
	for i, v := range s.Values {
		col := schema[i%len(schema)]
		lit, err := c.constantExpr(v.Tree, "a datatable value")
		if err != nil {
			return nil, err
		}
		value, ok := coerceLiteral(*lit, col.Type)
		if !ok {
			return nil, c.errorf(v.Pos.Offset, kusto.KindSemantic, "datatable column %q is %s; this value is %s", col.Name, col.Type, lit.Type)
		}
		builders[i%len(schema)].appendValue(value)
	}
	f := &Frame{Schema: schema, Rows: len(s.Values) / len(schema)}
	for _, b := range builders {
		f.Cols = append(f.Cols, b.column())
	}
	return framePlan(f), nil
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

func (c *compiler) print(s *parser.PrintSource) (*plan, error) {
	sc := &scope{c: c}
	var schema Schema
	var exprs []*compiled
	for i, n := range s.Columns {
		e, err := sc.compile(n.Expr.Tree)
		if err != nil {
			return nil, err
		}
		name := "print_" + strconv.Itoa(i)
		if n.Name != nil {
			name = n.Name.String()
		} else if col, ok := n.Expr.Tree.(*parser.ColumnExpr); ok {
			name = col.Name
		}
		if schema.Index(name) >= 0 {
			return nil, c.errorf(n.Pos.Offset, kusto.KindSemantic, "column %q is defined twice", name)
		}
		schema = append(schema, ColumnSchema{name, e.typ})
		exprs = append(exprs, e)
	}
	return &plan{schema: schema, open: func(ctx context.Context) Iterator {
		sent := false
		return iterFunc(func() (*Batch, error) {
			if sent {
				return nil, nil
			}
			sent = true
			b := &Batch{Len: 1}
			for _, e := range exprs {
				b.Cols = append(b.Cols, e.eval(&Batch{Len: 1}))
			}
			return b, nil
		})
	}}, nil
}

func (c *compiler) operator(in *plan, op *parser.Operator) (*plan, error) {
	switch {
	case op.Where != nil:
		return c.where(in, op.Where)
	case op.Project != nil:
		return c.project(in, op.Project)
	case op.ProjectAway != nil:
		return c.projectAway(in, op.ProjectAway)
	case op.Extend != nil:
		return c.extend(in, op.Extend)
	case op.Take != nil:
		return c.take(in, op.Take)
	default:
		return countPlan(in), nil
	}
}

func (c *compiler) where(in *plan, e *parser.ScalarExpr) (*plan, error) {
	pred, err := (&scope{schema: in.schema, c: c}).compile(e.Tree)
	if err != nil {
		return nil, err
	}
	if pred.typ != kusto.TypeBool {
		return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "where needs a bool predicate, not a %s", pred.typ)
	}
	return &plan{schema: in.schema, open: func(ctx context.Context) Iterator {
		src := in.open(ctx)
		var selected []int32
		return iterFunc(func() (*Batch, error) {
			for {
				b, err := src.Next()
				if b == nil || err != nil {
					return nil, err
				}
				keep := pred.eval(b).(*Vector[bool])
				selected = selected[:0]
				for i, v := range keep.Data {
					if v && !keep.IsNull(i) {
						selected = append(selected, int32(i))
					}
				}
				switch len(selected) {
				case 0:
					continue
				case b.Len:
					return b, nil
				}
				out := &Batch{Cols: make([]Column, len(b.Cols)), Len: len(selected)}
				for i, col := range b.Cols {
					out.Cols[i] = col.Gather(selected)
				}
				return out, nil
			}
		})
	}}, nil
}

// namedColumns compiles `name = expr` lists; unnamed expressions are named as Kusto does.
func (c *compiler) namedColumn(sc *scope, n *parser.NamedExpr, unnamed *int) (string, *compiled, error) {
	e, err := sc.compile(n.Expr.Tree)
	if err != nil {
		return "", nil, err
	}
	switch col, isCol := n.Expr.Tree.(*parser.ColumnExpr); {
	case n.Name != nil:
		return n.Name.String(), e, nil
	case isCol:
		return col.Name, e, nil
	default:
		*unnamed++
		return "Column" + strconv.Itoa(*unnamed), e, nil
	}
}

func (c *compiler) project(in *plan, list []*parser.NamedExpr) (*plan, error) {
	sc := &scope{schema: in.schema, c: c}
	var schema Schema
	var exprs []*compiled
	unnamed := 0
	for _, n := range list {
		name, e, err := c.namedColumn(sc, n, &unnamed)
		if err != nil {
			return nil, err
		}
		if schema.Index(name) >= 0 {
			return nil, c.errorf(n.Pos.Offset, kusto.KindSemantic, "project: column %q is defined twice", name)
		}
		schema = append(schema, ColumnSchema{name, e.typ})
		exprs = append(exprs, e)
	}
	return mapPlan(in, schema, func(b *Batch) *Batch {
		out := &Batch{Cols: make([]Column, len(exprs)), Len: b.Len}
		for i, e := range exprs {
			out.Cols[i] = e.eval(b)
		}
		return out
	}), nil
}

func mapPlan(in *plan, schema Schema, f func(*Batch) *Batch) *plan {
	return &plan{schema: schema, open: func(ctx context.Context) Iterator {
		src := in.open(ctx)
		return iterFunc(func() (*Batch, error) {
			b, err := src.Next()
			if b == nil || err != nil {
				return nil, err
			}
			return f(b), nil
		})
	}}
}

func (c *compiler) projectAway(in *plan, names []*parser.Name) (*plan, error) {
	drop := map[int]bool{}
	for _, n := range names {
		i := in.schema.Index(n.String())
		if i < 0 {
			return nil, c.errorf(n.Pos.Offset, kusto.KindSemantic, "project-away: failed to resolve column named %q", n.String())
		}
		drop[i] = true
	}
	var schema Schema
	var keep []int
	for i, col := range in.schema {
		if !drop[i] {
			schema = append(schema, col)
			keep = append(keep, i)
		}
	}
	return mapPlan(in, schema, func(b *Batch) *Batch {
		out := &Batch{Cols: make([]Column, len(keep)), Len: b.Len}
		for j, i := range keep {
			out.Cols[j] = b.Cols[i]
		}
		return out
	}), nil
}

// extend evaluates its columns in order, so a later one may use an earlier one; a name that
// already exists is replaced in place.
func (c *compiler) extend(in *plan, list []*parser.NamedExpr) (*plan, error) {
	schema := append(Schema(nil), in.schema...)
	type step struct {
		slot int
		e    *compiled
	}
	var steps []step
	unnamed := 0
	for _, n := range list {
		name, e, err := c.namedColumn(&scope{schema: schema, c: c}, n, &unnamed)
		if err != nil {
			return nil, err
		}
		slot := schema.Index(name)
		if slot < 0 {
			slot = len(schema)
			schema = append(schema, ColumnSchema{name, e.typ})
		} else {
			schema[slot].Type = e.typ
		}
		steps = append(steps, step{slot, e})
	}
	width := len(schema)
	return mapPlan(in, schema, func(b *Batch) *Batch {
		out := &Batch{Cols: make([]Column, width), Len: b.Len}
		copy(out.Cols, b.Cols)
		for _, s := range steps {
			out.Cols[s.slot] = s.e.eval(out)
		}
		return out
	}), nil
}

func (c *compiler) take(in *plan, e *parser.ScalarExpr) (*plan, error) {
	lit, err := c.constantExpr(e.Tree, "the row count of take")
	if err != nil {
		return nil, err
	}
	n, ok := toInt64(lit.Value)
	if !ok || !isNumeric(lit.Type) || n < 0 {
		return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "take needs a non-negative number of rows, not %s", kusto.FormatValue(lit.Value))
	}
	return &plan{schema: in.schema, open: func(ctx context.Context) Iterator {
		src := in.open(ctx)
		left := n
		return iterFunc(func() (*Batch, error) {
			if left <= 0 {
				return nil, nil // stop pulling: upstream may be endless
			}
			b, err := src.Next()
			if b == nil || err != nil {
				return nil, err
			}
			if int64(b.Len) > left {
				out := &Batch{Cols: make([]Column, len(b.Cols)), Len: int(left)}
				for i, col := range b.Cols {
					out.Cols[i] = col.Slice(0, int(left))
				}
				b = out
			}
			left -= int64(b.Len)
			return b, nil
		})
	}}, nil
}

func countPlan(in *plan) *plan {
	return &plan{schema: Schema{{"Count", kusto.TypeLong}}, open: func(ctx context.Context) Iterator {
		src := in.open(ctx)
		finished := false
		return iterFunc(func() (*Batch, error) {
			if finished {
				return nil, nil
			}
			var n int64
			for {
				b, err := src.Next()
				if err != nil {
					return nil, err
				}
				if b == nil {
					break
				}
				n += int64(b.Len)
			}
			finished = true
			return &Batch{Cols: []Column{&Vector[int64]{typ: kusto.TypeLong, Data: []int64{n}}}, Len: 1}, nil
		})
	}}
}

// collect runs a plan and materializes its output, failing if it exceeds limit rows.
func collect(ctx context.Context, p *plan, limit int) (*Frame, error) {
	builders := make([]builder, len(p.schema))
	for i, col := range p.schema {
		builders[i] = builderFor(newColumn(col.Type, 0))
	}
	it := p.open(ctx)
	rows := 0
	for {
		b, err := it.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		if rows += b.Len; limit > 0 && rows > limit {
			return nil, &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
				"query result set has exceeded the limit of %d records; use take, or store a larger result with .set-or-append", limit)}
		}
		for i, col := range b.Cols {
			builders[i].appendColumn(col)
		}
	}
	f := &Frame{Schema: p.schema, Rows: rows}
	for _, b := range builders {
		f.Cols = append(f.Cols, b.column())
	}
	return f, nil
}
