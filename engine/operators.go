package engine

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// OperatorInfo is one entry of the operator registry: everything about a tabular operator that
// compilation, help, completion and the README read. The parser's operator union and this
// registry are held in step by a test: every operator the grammar accepts has one entry.
type OperatorInfo struct {
	Name     string   // where
	Aliases  []string // filter
	Synopsis string   // where Predicate
	Summary  string
	// Completes says what the shell offers after the operator's keyword.
	Completes Completion
	node      reflect.Type
	compile   func(c *compiler, in Node, op parser.Operator) (Node, error)
}

// Completion says what may follow an operator's keyword, for the shell's completion.
type Completion int

const (
	CompleteNothing     Completion = iota // a number, or nothing: take, count
	CompleteColumns                       // column names: project-away
	CompleteExpressions                   // expressions over the columns: where, project, extend
)

var operatorRegistry = []*OperatorInfo{
	{
		Name: "where", Aliases: []string{"filter"}, Synopsis: "where Predicate",
		Summary: "Keeps the rows for which a predicate is true.", Completes: CompleteExpressions,
		node: nodeOf[*parser.WhereOp](), compile: compileWhere,
	},
	{
		Name: "project", Synopsis: "project [Name =] Expression, …",
		Summary: "Selects, renames and computes columns.", Completes: CompleteExpressions,
		node: nodeOf[*parser.ProjectOp](), compile: compileProject,
	},
	{
		Name: "project-away", Synopsis: "project-away Column, …",
		Summary: "Drops columns.", Completes: CompleteColumns,
		node: nodeOf[*parser.ProjectAwayOp](), compile: compileProjectAway,
	},
	{
		Name: "extend", Synopsis: "extend [Name =] Expression, …",
		Summary: "Adds computed columns, or replaces columns of the same name.", Completes: CompleteExpressions,
		node: nodeOf[*parser.ExtendOp](), compile: compileExtend,
	},
	{
		Name: "take", Aliases: []string{"limit"}, Synopsis: "take NumberOfRows",
		Summary: "Returns up to the given number of rows.", Completes: CompleteNothing,
		node: nodeOf[*parser.TakeOp](), compile: compileTake,
	},
	{
		Name: "count", Synopsis: "count", Summary: "Returns the number of rows.", Completes: CompleteNothing,
		node: nodeOf[*parser.CountOp](), compile: compileCount,
	},
	{
		Name: "summarize", Synopsis: "summarize [[Name =] Aggregation, …] [by [Name =] GroupExpression, …]",
		Summary: "Computes aggregations over the rows: a row for each distinct value of the by expressions, or one row without by.", Completes: CompleteExpressions,
		node: nodeOf[*parser.SummarizeOp](), compile: compileSummarize,
	},
}

func nodeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Operators returns the operator registry.
func Operators() []*OperatorInfo { return operatorRegistry }

// Keywords returns the operator's name and aliases.
func (o *OperatorInfo) Keywords() []string { return append([]string{o.Name}, o.Aliases...) }

// OperatorFor returns the registry entry that compiles a parsed operator. Every operator the
// grammar accepts has one; a test holds the two in step.
func OperatorFor(op parser.Operator) *OperatorInfo {
	t := reflect.TypeOf(op)
	for _, info := range operatorRegistry {
		if info.node == t {
			return info
		}
	}
	panic(fmt.Sprintf("engine: no operator registry entry for %T", op))
}

// LookupOperator returns the entry for an operator's name or alias.
func LookupOperator(keyword string) (*OperatorInfo, bool) {
	for _, info := range operatorRegistry {
		for _, k := range info.Keywords() {
			if k == keyword {
				return info, true
			}
		}
	}
	return nil, false
}

func compileWhere(c *compiler, in Node, op parser.Operator) (Node, error) {
	e := op.(*parser.WhereOp).Predicate
	in, sc, finish, err := c.windowScope(in, []parser.Expr{e.Tree})
	if err != nil {
		return nil, err
	}
	pred, err := sc.compile(e.Tree)
	if err != nil {
		return nil, err
	}
	if pred = asBool(pred); pred.typ != kusto.TypeBool {
		return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "where needs a bool predicate, not a %s", pred.typ)
	}
	return finish(&whereNode{in: in, pred: pred, expr: e.Tree, text: parser.ExprString(e.Tree)}), nil
}

type whereNode struct {
	in   Node
	pred *compiled
	expr parser.Expr
	text string
}

func (n *whereNode) Schema() Schema   { return n.in.Schema() }
func (n *whereNode) Children() []Node { return []Node{n.in} }
func (n *whereNode) Describe() string { return "where " + n.text }
func (n *whereNode) Open(ctx context.Context) Operator {
	return &whereOperator{in: n.in.Open(ctx), pred: n.pred.evaluator()}
}

// whereOperator keeps the rows its predicate holds for. A batch whose rows all pass goes through
// as it is; otherwise the kept rows are gathered into columns the operator reuses.
type whereOperator struct {
	in       Operator
	pred     func(*Batch) Column // the predicate's evaluator: its result lives until the next call
	selected []int32
	batch    Batch
}

// selectRows evaluates the predicate over b and returns the indexes of the rows it keeps.
func (o *whereOperator) selectRows(b *Batch) []int32 {
	keep := vectorOf[bool](o.pred(b))
	o.selected = o.selected[:0]
	if keep.Nulls == nil {
		for i, v := range keep.Data {
			if v {
				o.selected = append(o.selected, int32(i))
			}
		}
		return o.selected
	}
	for i, v := range keep.Data {
		if v && !keep.Nulls[i] {
			o.selected = append(o.selected, int32(i))
		}
	}
	return o.selected
}

func (o *whereOperator) Next() (_ *Batch, err error) {
	defer catchFailure(&err)
	for {
		b, err := o.in.Next()
		if b == nil || err != nil {
			return nil, err
		}
		selected := o.selectRows(b)
		switch len(selected) {
		case 0:
			continue
		case b.Len:
			return b, nil
		}
		if len(o.batch.Cols) != len(b.Cols) {
			o.batch.Cols = make([]Column, len(b.Cols))
		}
		for i, col := range b.Cols {
			if col == nil { // pruned: no node reads it
				o.batch.Cols[i] = nil
				continue
			}
			o.batch.Cols[i] = gatherInto(o.batch.Cols[i], col, selected)
		}
		o.batch.Len = len(selected)
		return &o.batch, nil
	}
}

// countRows counts the rows the predicate keeps without gathering them.
func (o *whereOperator) countRows() (n int64, err error) {
	defer catchFailure(&err)
	for {
		b, err := o.in.Next()
		if b == nil || err != nil {
			return n, err
		}
		n += int64(len(o.selectRows(b)))
	}
}

func (o *whereOperator) Close() { o.in.Close() }

// namedColumn compiles `name = expr`; an unnamed expression is named as Kusto does: after the
// column it is, or the accessor (d.a is d_a), or as Kusto.Language infers a call's name
// (tostring(x) is x, strlen(s) is strlen_s; see resultName), or Column1, Column2, …. An inferred
// name is made unique among the columns in schema with a number (x1), never replacing one.
func (c *compiler) namedColumn(sc *scope, n *parser.NamedExpr, unnamed *int, schema Schema) (string, *compiled, error) {
	e, err := sc.compile(n.Expr.Tree)
	if err != nil {
		return "", nil, err
	}
	switch col, isCol := n.Expr.Tree.(*parser.ColumnExpr); {
	case n.Name != nil:
		return n.Name.String(), e, nil
	case isCol:
		return col.Name, e, nil
	case isAccess(n.Expr.Tree):
		name, _ := accessName(n.Expr.Tree.(*parser.IndexExpr))
		return name, e, nil
	}
	if name, ok := resultName(n.Expr.Tree); ok && name != "" {
		unique := name
		for k := 1; schema.Index(unique) >= 0; k++ {
			unique = name + strconv.Itoa(k)
		}
		return unique, e, nil
	}
	*unnamed++
	return "Column" + strconv.Itoa(*unnamed), e, nil
}

func compileProject(c *compiler, in Node, op parser.Operator) (Node, error) {
	columns := op.(*parser.ProjectOp).Columns
	in, sc, _, err := c.windowScope(in, namedTrees(columns))
	if err != nil {
		return nil, err
	}
	n := &computeNode{in: in, verb: "project", budget: c.sess.eng.budget}
	unnamed := 0
	for _, col := range columns {
		name, e, err := c.namedColumn(sc, col, &unnamed, n.schema)
		if err != nil {
			return nil, err
		}
		if n.schema.Index(name) >= 0 {
			return nil, c.errorf(col.Pos.Offset, kusto.KindSemantic, "project: column %q is defined twice", name)
		}
		n.schema = append(n.schema, ColumnSchema{name, e.typ})
		n.steps = append(n.steps, computeStep{slot: len(n.schema) - 1, e: e, expr: col.Expr.Tree, text: parser.ExprString(col.Expr.Tree)})
	}
	return n, nil
}

// extend evaluates its columns in order, so a later one may use an earlier one; a name that
// already exists is replaced in place.
func compileExtend(c *compiler, in Node, op parser.Operator) (Node, error) {
	columns := op.(*parser.ExtendOp).Columns
	in, sc, finish, err := c.windowScope(in, namedTrees(columns))
	if err != nil {
		return nil, err
	}
	n := &computeNode{in: in, verb: "extend", schema: append(Schema(nil), in.Schema()...), keepInput: true, budget: c.sess.eng.budget}
	unnamed := 0
	for _, col := range columns {
		name, e, err := c.namedColumn(&scope{schema: n.schema, c: c, windows: sc.windows}, col, &unnamed, n.schema)
		if err != nil {
			return nil, err
		}
		slot := n.schema.Index(name)
		if slot < 0 {
			slot = len(n.schema)
			n.schema = append(n.schema, ColumnSchema{name, e.typ})
		} else {
			n.schema[slot].Type = e.typ
		}
		n.steps = append(n.steps, computeStep{slot: slot, e: e, expr: col.Expr.Tree, text: parser.ExprString(col.Expr.Tree)})
	}
	return finish(n), nil
}

// computeNode is project and extend: each step evaluates an expression into a column slot of the
// output, in order, so a step may read the slots of the steps before it (extend).
type computeNode struct {
	in        Node
	verb      string
	schema    Schema
	steps     []computeStep
	keepInput bool // the output starts as the input's columns (extend)
	budget    *Budget
}

type computeStep struct {
	slot int
	e    *compiled
	expr parser.Expr
	text string
}

func (n *computeNode) Schema() Schema   { return n.schema }
func (n *computeNode) Children() []Node { return []Node{n.in} }
func (n *computeNode) Describe() string {
	parts := make([]string, len(n.steps))
	for i, s := range n.steps {
		parts[i] = quoteName(n.schema[s.slot].Name) + " = " + s.text
	}
	return n.verb + " " + strings.Join(parts, ", ")
}

func (n *computeNode) Open(ctx context.Context) Operator {
	o := &computeOperator{node: n, in: n.in.Open(ctx), batch: Batch{Cols: make([]Column, len(n.schema))}}
	for _, s := range n.steps {
		o.evals = append(o.evals, s.e.evaluator())
		// Only string and dynamic values grow past their header; a constant is one value, its
		// column of a batch's length sharing it.
		o.charged = append(o.charged, n.budget != nil && !s.e.isConst() && (s.e.typ == kusto.TypeString || s.e.typ == kusto.TypeDynamic))
	}
	return o
}

// computeOperator evaluates each step with an evaluator of its own, whose scratch columns the
// output batch holds until the next call to Next. The string and dynamic columns it computes
// for a batch are reserved from the budget until the batch is reused: a value is held to
// MaxValueSize, but a batch of them is not.
type computeOperator struct {
	node     *computeNode
	in       Operator
	evals    []func(*Batch) Column
	charged  []bool // per step: its columns are reserved from the budget
	batch    Batch
	reserved int64 // for the batch last returned
}

func (o *computeOperator) Next() (_ *Batch, err error) {
	defer catchFailure(&err)
	b, err := o.in.Next()
	o.node.budget.release(o.reserved)
	o.reserved = 0
	if b == nil || err != nil {
		return nil, err
	}
	out := &o.batch
	out.Len = b.Len
	if o.node.keepInput {
		copy(out.Cols, b.Cols)
	}
	for i, s := range o.node.steps {
		in := b
		if o.node.keepInput {
			in = out // extend's later steps see the earlier ones
		}
		col := o.evals[i](in)
		out.Cols[s.slot] = col
		// Each step is charged as it is made, so a batch of huge values stops at the step that
		// passes the budget, not after the whole batch.
		if o.charged[i] && o.computed(col, b, out, i) {
			cost := memoryCost(col)
			if err := o.node.budget.reserve(cost); err != nil {
				return nil, err
			}
			o.reserved += cost
		}
	}
	return out, nil
}

// computed reports whether col, made by step i, is a column of its own rather than one the
// batch already holds (extend t = s, project s): the input's, or an earlier step's.
func (o *computeOperator) computed(col Column, in, out *Batch, i int) bool {
	for _, c := range in.Cols {
		if c == col {
			return false
		}
	}
	for _, s := range o.node.steps[:i] {
		if s.slot != o.node.steps[i].slot && out.Cols[s.slot] == col {
			return false
		}
	}
	return true
}

// countRows: computing columns does not change how many rows there are.
func (o *computeOperator) countRows() (int64, error) { return countRows(o.in) }

func (o *computeOperator) Close() {
	o.node.budget.release(o.reserved)
	o.reserved = 0
	o.in.Close()
}

// selectOperator passes some of its input's columns through (shapeNode, shape.go).
type selectOperator struct {
	keep  []int
	in    Operator
	batch Batch
}

func (o *selectOperator) Next() (*Batch, error) {
	b, err := o.in.Next()
	if b == nil || err != nil {
		return nil, err
	}
	for j, i := range o.keep {
		o.batch.Cols[j] = b.Cols[i]
	}
	o.batch.Len = b.Len
	return &o.batch, nil
}

func (o *selectOperator) countRows() (int64, error) { return countRows(o.in) }
func (o *selectOperator) Close()                    { o.in.Close() }

func compileTake(c *compiler, in Node, op parser.Operator) (Node, error) {
	e := op.(*parser.TakeOp).Count
	lit, err := c.constantExpr(e.Tree, "the row count of take")
	if err != nil {
		return nil, err
	}
	n, ok := toInt64(lit.Value)
	if !ok || !isNumeric(lit.Type) || n < 0 {
		return nil, c.errorf(e.Pos.Offset, kusto.KindSemantic, "take needs a non-negative number of rows, not %s", kusto.FormatValue(lit.Value))
	}
	if top, ok := takeOfSort(in, n); ok {
		return top, nil
	}
	return &takeNode{in: in, n: n}, nil
}

type takeNode struct {
	in Node
	n  int64
}

func (n *takeNode) Schema() Schema   { return n.in.Schema() }
func (n *takeNode) Children() []Node { return []Node{n.in} }
func (n *takeNode) Describe() string { return "take " + strconv.FormatInt(n.n, 10) }
func (n *takeNode) Open(ctx context.Context) Operator {
	return &takeOperator{in: n.in.Open(ctx), left: n.n}
}

type takeOperator struct {
	in    Operator
	left  int64
	batch Batch
}

func (o *takeOperator) Next() (*Batch, error) {
	if o.left <= 0 {
		return nil, nil // stop pulling: upstream may be endless
	}
	b, err := o.in.Next()
	if b == nil || err != nil {
		return nil, err
	}
	if int64(b.Len) > o.left {
		if len(o.batch.Cols) != len(b.Cols) {
			o.batch.Cols = make([]Column, len(b.Cols))
		}
		for i, col := range b.Cols {
			if col != nil { // nil: pruned
				o.batch.Cols[i] = col.Slice(0, int(o.left))
			}
		}
		o.batch.Len = int(o.left)
		b = &o.batch
	}
	o.left -= int64(b.Len)
	return b, nil
}

func (o *takeOperator) Close() { o.in.Close() }

func compileCount(c *compiler, in Node, op parser.Operator) (Node, error) {
	return &countNode{in: in}, nil
}

type countNode struct{ in Node }

func (n *countNode) Schema() Schema   { return Schema{{"Count", kusto.TypeLong}} }
func (n *countNode) Children() []Node { return []Node{n.in} }
func (n *countNode) Describe() string { return "count" }
func (n *countNode) Open(ctx context.Context) Operator {
	in := n.in.Open(ctx)
	finished := false
	return &closingOperator{close: in.Close, next: func() (*Batch, error) {
		if finished {
			return nil, nil
		}
		finished = true
		rows, err := countRows(in)
		if err != nil {
			return nil, err
		}
		return &Batch{Cols: []Column{&Vector[int64]{typ: kusto.TypeLong, Data: []int64{rows}}}, Len: 1}, nil
	}}
}

// closingOperator is an Operator made of a next function and its input's Close.
type closingOperator struct {
	next  func() (*Batch, error)
	close func()
}

func (o *closingOperator) Next() (*Batch, error) { return o.next() }
func (o *closingOperator) Close()                { o.close() }
