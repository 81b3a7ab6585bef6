package engine

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The column-shaping operators: project-keep, project-rename, project-reorder (and project-away's
// patterns), and getschema. Each passes some of its input's columns through, renamed or moved;
// none copies a row.

func init() {
	operatorRegistry = append(operatorRegistry,
		&OperatorInfo{
			Name: "project-keep", Synopsis: "project-keep ColumnNameOrPattern, …",
			Summary: "Keeps the columns named or matched by a wildcard pattern (a*), in their order.", Completes: CompleteColumns,
			node: nodeOf[*parser.ProjectKeepOp](), compile: compileProjectKeep,
		},
		&OperatorInfo{
			Name: "project-rename", Synopsis: "project-rename NewName = ExistingName, …",
			Summary: "Renames columns, keeping their order.", Completes: CompleteColumns,
			node: nodeOf[*parser.ProjectRenameOp](), compile: compileProjectRename,
		},
		&OperatorInfo{
			Name: "project-reorder", Synopsis: "project-reorder ColumnNameOrPattern [asc | desc | granny-asc | granny-desc], …",
			Summary: "Puts the columns named or matched first, in the order given; the rest follow in their order.", Completes: CompleteColumns,
			node: nodeOf[*parser.ProjectReorderOp](), compile: compileProjectReorder,
		},
		&OperatorInfo{
			Name: "getschema", Synopsis: "getschema",
			Summary: "Returns the input's schema: ColumnName, ColumnOrdinal, DataType, ColumnType.", Completes: CompleteNothing,
			node: nodeOf[*parser.GetSchemaOp](), compile: compileGetSchema,
		},
	)
}

// matchColumns returns the columns of schema that p matches, in the schema's order. A plain name
// must be a column; a wildcard may match none.
func (c *compiler) matchColumns(verb string, schema Schema, p *parser.ColumnPattern) ([]int, error) {
	var out []int
	for i, col := range schema {
		if p.Match(col.Name) {
			out = append(out, i)
		}
	}
	if len(out) == 0 && !p.Wildcard {
		return nil, c.errorf(p.Pos.Offset, kusto.KindSemantic, "%s: failed to resolve column named %q", verb, p.Parts[0])
	}
	return out, nil
}

// shapeNode passes some of its input's columns through, under its own schema's names.
type shapeNode struct {
	in     Node
	schema Schema
	keep   []int // by output column, the input column
	text   string
}

func (n *shapeNode) Schema() Schema   { return n.schema }
func (n *shapeNode) Children() []Node { return []Node{n.in} }
func (n *shapeNode) Describe() string { return n.text }
func (n *shapeNode) Open(ctx context.Context) Operator {
	return &selectOperator{keep: n.keep, in: n.in.Open(ctx), batch: Batch{Cols: make([]Column, len(n.keep))}}
}

func (n *shapeNode) prune(needed []bool) {
	in := make([]bool, len(n.in.Schema()))
	for j, i := range n.keep {
		in[i] = in[i] || needed[j]
	}
	prune(n.in, in)
}

func patternText(list []*parser.ColumnPattern) string {
	parts := make([]string, len(list))
	for i, p := range list {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// keepColumns passes the input columns marked in keep, in their order.
func keepColumns(in Node, keep []bool, text string) *shapeNode {
	n := &shapeNode{in: in, text: text}
	for i, col := range in.Schema() {
		if keep[i] {
			n.schema = append(n.schema, col)
			n.keep = append(n.keep, i)
		}
	}
	return n
}

func compileProjectKeep(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.ProjectKeepOp)
	keep := make([]bool, len(in.Schema()))
	for _, p := range o.Columns {
		cols, err := c.matchColumns("project-keep", in.Schema(), p)
		if err != nil {
			return nil, err
		}
		for _, i := range cols {
			keep[i] = true
		}
	}
	return keepColumns(in, keep, "project-keep "+patternText(o.Columns)), nil
}

func compileProjectAway(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.ProjectAwayOp)
	keep := make([]bool, len(in.Schema()))
	for i := range keep {
		keep[i] = true
	}
	for _, p := range o.Columns {
		cols, err := c.matchColumns("project-away", in.Schema(), p)
		if err != nil {
			return nil, err
		}
		for _, i := range cols {
			keep[i] = false
		}
	}
	return keepColumns(in, keep, "project-away "+patternText(o.Columns)), nil
}

// project-rename renames all its pairs at once, so that a=b, b=a swaps two names; a name the
// result would have twice is an error.
func compileProjectRename(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.ProjectRenameOp)
	schema := in.Schema()
	n := &shapeNode{in: in, schema: slices.Clone(schema)}
	renamed := make([]bool, len(schema))
	var parts []string
	for _, p := range o.Columns {
		i := schema.Index(p.Old.String())
		if i < 0 {
			return nil, c.errorf(p.Old.Pos.Offset, kusto.KindSemantic, "project-rename: failed to resolve column named %q", p.Old.String())
		}
		if renamed[i] {
			return nil, c.errorf(p.Old.Pos.Offset, kusto.KindSemantic, "project-rename: column %q is renamed twice", p.Old.String())
		}
		renamed[i] = true
		n.schema[i].Name = p.New.String()
		parts = append(parts, quoteName(p.New.String())+" = "+quoteName(p.Old.String()))
	}
	for i := range n.schema {
		n.keep = append(n.keep, i)
		if j := n.schema.Index(n.schema[i].Name); j != i {
			at := o.Pos.Offset
			for _, p := range o.Columns {
				if p.New.String() == n.schema[i].Name {
					at = p.New.Pos.Offset
				}
			}
			return nil, c.errorf(at, kusto.KindSemantic, "project-rename: the result would have two columns named %q", n.schema[i].Name)
		}
	}
	n.text = "project-rename " + strings.Join(parts, ", ")
	return n, nil
}

// project-reorder places, for each pattern in turn, the columns it matches that are not placed
// yet, in the input's order or sorted by name as the pattern says; the rest follow in their order.
func compileProjectReorder(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.ProjectReorderOp)
	schema := in.Schema()
	placed := make([]bool, len(schema))
	n := &shapeNode{in: in}
	var parts []string
	for _, k := range o.Columns {
		cols, err := c.matchColumns("project-reorder", schema, k.Pattern)
		if err != nil {
			return nil, err
		}
		cols = slices.DeleteFunc(cols, func(i int) bool { return placed[i] })
		switch k.Order {
		case "asc", "desc":
			slices.SortStableFunc(cols, func(a, b int) int { return strings.Compare(schema[a].Name, schema[b].Name) })
		case "granny-asc", "granny-desc":
			slices.SortStableFunc(cols, func(a, b int) int { return grannyCompare(schema[a].Name, schema[b].Name) })
		}
		if strings.HasSuffix(k.Order, "desc") {
			slices.Reverse(cols)
		}
		for _, i := range cols {
			placed[i] = true
			n.keep = append(n.keep, i)
		}
		parts = append(parts, strings.TrimSpace(k.Pattern.String()+" "+k.Order))
	}
	for i := range schema {
		if !placed[i] {
			n.keep = append(n.keep, i)
		}
	}
	for _, i := range n.keep {
		n.schema = append(n.schema, schema[i])
	}
	n.text = "project-reorder " + strings.Join(parts, ", ")
	return n, nil
}

// grannyCompare orders names as people do: runs of digits compare by their numeric value, so
// that a2 comes before a10.
func grannyCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if r := strings.Compare(na, nb); r != 0 {
				return r
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && unicode.IsDigit(rune(s[i])) {
		i++
	}
	return i
}

func compileGetSchema(c *compiler, in Node, op parser.Operator) (Node, error) {
	schema := in.Schema()
	names := make([]string, len(schema))
	ordinals := make([]int32, len(schema))
	dataTypes := make([]string, len(schema))
	types := make([]string, len(schema))
	for i, col := range schema {
		names[i], ordinals[i] = col.Name, int32(i)
		dataTypes[i], types[i] = "System."+kusto.DotNetType(col.Type), col.Type.String()
	}
	f := &Frame{Schema: Schema{{"ColumnName", kusto.TypeString}, {"ColumnOrdinal", kusto.TypeInt}, {"DataType", kusto.TypeString}, {"ColumnType", kusto.TypeString}},
		Cols: []Column{NewVector(kusto.TypeString, names, nil), NewVector(kusto.TypeInt, ordinals, nil), NewVector(kusto.TypeString, dataTypes, nil), NewVector(kusto.TypeString, types, nil)},
		Rows: len(schema)}
	return &getschemaNode{in: in, frame: f}, nil
}

// getschemaNode returns its input's schema as rows; the input itself never runs.
type getschemaNode struct {
	in    Node
	frame *Frame
}

func (n *getschemaNode) Schema() Schema   { return n.frame.Schema }
func (n *getschemaNode) Children() []Node { return []Node{n.in} }
func (n *getschemaNode) Describe() string { return "getschema" }
func (n *getschemaNode) Open(ctx context.Context) Operator {
	return (&frameNode{frame: n.frame}).Open(ctx)
}
func (n *getschemaNode) prune(needed []bool) { prune(n.in, make([]bool, len(n.in.Schema()))) }
