package engine

import (
	"context"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// union, per https://learn.microsoft.com/kusto/query/union-operator: the rows of every leg, one
// leg after the other (Kusto does not promise an order), each leg's columns placed in the
// union's schema by name and type, nulls where a leg lacks a column.

func init() {
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "union", Synopsis: "union [kind=inner|outer] [withsource=Column] Table, (Query), …",
		Summary:   "Returns the rows of its input and of other tables or queries.",
		Completes: CompleteNothing,
		node:      nodeOf[*parser.UnionOp](), compile: compileUnionOp,
	})
}

func compileUnionOp(c *compiler, in Node, op parser.Operator) (Node, error) {
	u := op.(*parser.UnionOp)
	name := ""
	switch n := in.(type) {
	case *scanNode:
		name = n.table.Name
	case *streamNode:
		name = n.name
	case *asNode:
		name = n.name
	}
	return c.union([]Node{in}, []string{name}, []int{u.Pos.Offset}, u.Params, u.Legs)
}

func (c *compiler) unionSource(s *parser.UnionSource) (Node, error) {
	return c.union(nil, nil, nil, s.Params, s.Legs)
}

// union compiles the legs after the given ones (a piped input), with the names withsource gives
// their rows ("" for a tabular expression) and where each starts.
func (c *compiler) union(legs []Node, names []string, at []int, params []*parser.OperatorParam, list []*parser.UnionLeg) (Node, error) {
	n := &unionNode{outer: true}
	for _, p := range params {
		switch p.Name {
		case "kind":
			if p.Value != "inner" && p.Value != "outer" {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "union: kind is inner or outer, not %q", p.Value)
			}
			n.outer = p.Value == "outer"
		case "withsource":
			name, err := paramName(p.Value)
			if err != nil {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "union: withsource needs a column name: %v", err)
			}
			n.source = name
		case "isfuzzy":
			switch p.Value {
			case "false":
			case "true":
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "unsupported: union isfuzzy=true (fuzzy resolution of legs); Kustard resolves every leg or fails")
			default:
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "union: isfuzzy is true or false, not %q", p.Value)
			}
		case "hint.concurrency", "hint.spread":
			// How a cluster spreads the legs: nothing to do on one machine.
			if _, err := strconv.Atoi(p.Value); err != nil {
				return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "union: %s needs a number, not %s", p.Name, p.Value)
			}
		default:
			return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "union: unsupported parameter %q; union takes kind, withsource, isfuzzy, hint.concurrency and hint.spread", p.Name)
		}
		n.params = append(n.params, p.Name+"="+p.Value)
	}
	for _, l := range list {
		var leg Node
		var err error
		name := ""
		if l.Paren != nil {
			leg, err = c.pipeline(l.Paren)
			if as, ok := leg.(*asNode); ok {
				name = as.name
			}
		} else {
			leg, err = c.source(l.Table)
			name = l.Table.Name.String()
		}
		if err != nil {
			return nil, err
		}
		legs, names, at = append(legs, leg), append(names, name), append(at, l.Pos.Offset)
	}
	if n.source != "" {
		// A leg that is not a table's name is named by its place, as Kusto names it: union_arg0
		// for the first leg (the piped input, if there is one), union_arg1, ….
		for i, name := range names {
			if name == "" {
				names[i] = "union_arg" + strconv.Itoa(i)
			}
		}
	}
	n.legs, n.names = legs, names
	n.schema, n.maps = unionSchema(legs, n.outer)
	if n.source != "" {
		if n.schema.Index(n.source) >= 0 {
			return nil, c.errorf(at[0], kusto.KindSemantic, "union: the withsource column %q is also a column of a leg", n.source)
		}
		n.schema = append(Schema{{n.source, kusto.TypeString}}, n.schema...)
		for i := range n.maps {
			n.maps[i] = append([]int{sourceColumn}, n.maps[i]...)
		}
	}
	return n, nil
}

// paramName decodes a parameter's name value: plain, or bracketed (['a b']).
func paramName(v string) (string, error) {
	if strings.HasPrefix(v, "[") {
		return kusto.DecodeBracketedName(v)
	}
	return v, nil
}

const (
	missingColumn = -1 // the leg lacks the column: nulls
	sourceColumn  = -2 // the withsource column: the leg's name
)

// unionSchema is, for kind outer, one column for each name and type in any leg, in order of
// first appearance; a name that comes with several types becomes name_type for each, numbered
// when that clashes with another column (x_long1), as union-operator.md's examples show. For
// kind inner it is the columns, by name and type, that every leg has, in the first leg's order.
// maps[leg][j] is the leg's column for output column j, or missingColumn.
func unionSchema(legs []Node, outer bool) (Schema, [][]int) {
	var cols Schema
	seen := map[ColumnSchema]bool{}
	types := map[string]int{}
	for _, leg := range legs {
		for _, col := range leg.Schema() {
			if !seen[col] {
				seen[col] = true
				types[col.Name]++
				cols = append(cols, col)
			}
		}
	}
	if !outer {
		var common Schema
		for _, col := range legs[0].Schema() {
			every := true
			for _, leg := range legs[1:] {
				i := leg.Schema().Index(col.Name)
				every = every && i >= 0 && leg.Schema()[i].Type == col.Type
			}
			if every {
				common = append(common, col)
			}
		}
		cols, types = common, nil
	}
	out := make(Schema, len(cols))
	taken := map[string]bool{}
	for _, col := range cols {
		if types[col.Name] <= 1 {
			taken[col.Name] = true
		}
	}
	for j, col := range cols {
		name := col.Name
		if types[col.Name] > 1 {
			name += "_" + col.Type.String()
			if taken[name] {
				for i := 1; ; i++ {
					if n := name + strconv.Itoa(i); !taken[n] {
						name = n
						break
					}
				}
			}
			taken[name] = true
		}
		out[j] = ColumnSchema{name, col.Type}
	}
	maps := make([][]int, len(legs))
	for i, leg := range legs {
		maps[i] = make([]int, len(cols))
		for j, col := range cols {
			maps[i][j] = missingColumn
			if k := leg.Schema().Index(col.Name); k >= 0 && leg.Schema()[k].Type == col.Type {
				maps[i][j] = k
			}
		}
	}
	return out, maps
}

type unionNode struct {
	legs      []Node
	names     []string // the withsource value of each leg's rows
	outer     bool
	source    string // the withsource column; "" for none
	params    []string
	schema    Schema
	maps      [][]int
	outNeeded []bool // nil (all) until the plan is pruned
}

func (n *unionNode) Schema() Schema   { return n.schema }
func (n *unionNode) Children() []Node { return n.legs }
func (n *unionNode) Describe() string {
	if len(n.params) == 0 {
		return "union"
	}
	return "union " + strings.Join(n.params, " ")
}

func (n *unionNode) prune(needed []bool) {
	n.outNeeded = orNeeded(n.outNeeded, needed)
	for i, leg := range n.legs {
		in := make([]bool, len(leg.Schema()))
		for j, k := range n.maps[i] {
			if k >= 0 && needed[j] {
				in[k] = true
			}
		}
		prune(leg, in)
	}
}

func (n *unionNode) Open(ctx context.Context) Operator {
	return &unionOperator{node: n, ctx: ctx, batch: Batch{Cols: make([]Column, len(n.schema))}}
}

// unionOperator reads the legs one after the other, opening each when it is reached.
type unionOperator struct {
	node   *unionNode
	ctx    context.Context
	leg    int
	cur    Operator
	batch  Batch
	consts []Column // per output column, a batch of nulls, or of the leg's name for withsource
}

func (o *unionOperator) Next() (*Batch, error) {
	for o.leg < len(o.node.legs) {
		if o.cur == nil {
			o.cur = o.node.legs[o.leg].Open(o.ctx)
			o.consts = nil
		}
		b, err := o.cur.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			o.cur.Close()
			o.cur = nil
			o.leg++
			continue
		}
		return o.place(b), nil
	}
	return nil, nil
}

// place maps a leg's batch into the union's schema.
func (o *unionOperator) place(b *Batch) *Batch {
	n := o.node
	for j, k := range n.maps[o.leg] {
		switch {
		case n.outNeeded != nil && !n.outNeeded[j]:
			o.batch.Cols[j] = nil
		case k >= 0:
			o.batch.Cols[j] = b.Cols[k]
		default:
			if o.consts == nil {
				o.consts = make([]Column, len(n.schema))
			}
			if o.consts[j] == nil {
				var v any // nulls
				if k == sourceColumn {
					v = n.names[o.leg]
				}
				o.consts[j] = constColumn(n.schema[j].Type, v, batchSize)
			}
			o.batch.Cols[j] = o.consts[j].Slice(0, b.Len)
		}
	}
	o.batch.Len = b.Len
	return &o.batch
}

// countRows counts each leg's rows without placing them.
func (o *unionOperator) countRows() (int64, error) {
	var total int64
	for ; o.leg < len(o.node.legs); o.leg++ {
		if o.cur == nil {
			o.cur = o.node.legs[o.leg].Open(o.ctx)
		}
		n, err := countRows(o.cur)
		o.cur.Close()
		o.cur = nil
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func (o *unionOperator) Close() {
	if o.cur != nil {
		o.cur.Close()
		o.cur = nil
	}
	o.leg = len(o.node.legs)
}
