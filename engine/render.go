package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// render (https://learn.microsoft.com/kusto/query/render-operator): the data passes unchanged;
// the chart kind and its properties go with the result as Kusto's visualization metadata, which
// the REST protocol carries in the QueryProperties frame's "Visualization" row.

func init() {
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "render", Synopsis: "render Visualization [with (PropertyName = PropertyValue, …)]",
		Summary: "Asks the client to chart the result; the data is unchanged. The last operator of a query.", Completes: CompleteNothing,
		node: nodeOf[*parser.RenderOp](), compile: compileRender,
	})
}

// renderKinds are the visualizations of the render operator's page.
var renderKinds = []string{"anomalychart", "areachart", "barchart", "card", "columnchart", "ladderchart", "linechart",
	"piechart", "pivotchart", "scatterchart", "stackedareachart", "table", "timechart", "timepivot", "treemap"}

// Visualization is a result's visualization metadata: what render asked for. Its JSON is Kusto's
// (the "Visualization" value of the QueryProperties table).
type Visualization struct {
	Visualization  string
	Title          *string
	XColumn        *string
	Series         *string // comma-separated column names, as written
	YColumns       *string
	AnomalyColumns *string
	XTitle         *string
	YTitle         *string
	XAxis          *string
	YAxis          *string
	Legend         *string
	YSplit         *string
	Accumulate     bool
	IsQuerySorted  bool
	Kind           *string
	Ymin, Ymax     float64 // NaN when not set
	Xmin, Xmax     *float64
}

// JSON returns the visualization as Kusto writes it, its properties in Kusto's order, unset ones
// null, and Ymin and Ymax "NaN" when not set.
func (v *Visualization) JSON() string {
	bound := func(f float64) any {
		if math.IsNaN(f) {
			return "NaN"
		}
		return f
	}
	out, err := json.Marshal(struct {
		Visualization                                                                  string
		Title, XColumn, Series, YColumns, AnomalyColumns, XTitle, YTitle, XAxis, YAxis *string
		Legend, YSplit                                                                 *string
		Accumulate, IsQuerySorted                                                      bool
		Kind                                                                           *string
		Ymin, Ymax                                                                     any
		Xmin, Xmax                                                                     *float64
	}{v.Visualization, v.Title, v.XColumn, v.Series, v.YColumns, v.AnomalyColumns, v.XTitle, v.YTitle, v.XAxis, v.YAxis,
		v.Legend, v.YSplit, v.Accumulate, v.IsQuerySorted, v.Kind, bound(v.Ymin), bound(v.Ymax), v.Xmin, v.Xmax})
	if err != nil {
		panic("engine: a visualization does not marshal: " + err.Error())
	}
	return string(out)
}

// renderProperty is one property render takes: how its value is written and where it goes.
type renderProperty struct {
	kind   string   // string, number, bool, columns, column, or word (one of values)
	values []string // a word's values
	set    func(v *Visualization, text string, f float64)
}

func strField(get func(v *Visualization) **string) func(v *Visualization, text string, _ float64) {
	return func(v *Visualization, text string, _ float64) { s := text; *get(v) = &s }
}

var renderProperties = map[string]renderProperty{
	"accumulate":     {kind: "bool", set: func(v *Visualization, t string, _ float64) { v.Accumulate = t == "true" }},
	"kind":           {kind: "word", values: []string{"default", "unstacked", "stacked", "stacked100", "map"}, set: strField(func(v *Visualization) **string { return &v.Kind })},
	"legend":         {kind: "word", values: []string{"visible", "hidden"}, set: strField(func(v *Visualization) **string { return &v.Legend })},
	"series":         {kind: "columns", set: strField(func(v *Visualization) **string { return &v.Series })},
	"ymin":           {kind: "number", set: func(v *Visualization, _ string, f float64) { v.Ymin = f }},
	"ymax":           {kind: "number", set: func(v *Visualization, _ string, f float64) { v.Ymax = f }},
	"xmin":           {kind: "number", set: func(v *Visualization, _ string, f float64) { v.Xmin = &f }},
	"xmax":           {kind: "number", set: func(v *Visualization, _ string, f float64) { v.Xmax = &f }},
	"title":          {kind: "string", set: strField(func(v *Visualization) **string { return &v.Title })},
	"xaxis":          {kind: "word", values: []string{"linear", "log"}, set: strField(func(v *Visualization) **string { return &v.XAxis })},
	"xcolumn":        {kind: "column", set: strField(func(v *Visualization) **string { return &v.XColumn })},
	"xtitle":         {kind: "string", set: strField(func(v *Visualization) **string { return &v.XTitle })},
	"yaxis":          {kind: "word", values: []string{"linear", "log"}, set: strField(func(v *Visualization) **string { return &v.YAxis })},
	"ycolumns":       {kind: "columns", set: strField(func(v *Visualization) **string { return &v.YColumns })},
	"ysplit":         {kind: "word", values: []string{"none", "axes", "panels"}, set: strField(func(v *Visualization) **string { return &v.YSplit })},
	"ytitle":         {kind: "string", set: strField(func(v *Visualization) **string { return &v.YTitle })},
	"anomalycolumns": {kind: "columns", set: strField(func(v *Visualization) **string { return &v.AnomalyColumns })},
}

func quotedList(s []string) string {
	q := make([]string, len(s))
	for i, w := range s {
		q[i] = strconv.Quote(w)
	}
	return orList(q)
}

func compileRender(c *compiler, in Node, op parser.Operator) (Node, error) {
	o := op.(*parser.RenderOp)
	if op != c.last {
		return nil, c.errorf(o.Pos.Offset, kusto.KindSemantic, "render must be the last operator of the query")
	}
	kind := o.Visualization.String()
	if !slices.Contains(renderKinds, kind) {
		return nil, c.errorf(o.Visualization.Pos.Offset, kusto.KindSemantic, "render: unknown visualization %q; Kusto's are %s", kind, strings.Join(renderKinds, ", "))
	}
	v := &Visualization{Visualization: kind, Ymin: math.NaN(), Ymax: math.NaN()}
	_, v.IsQuerySorted = serialization(in)
	seen := map[string]bool{}
	for _, p := range o.Properties {
		name := p.Name.String()
		spec, ok := renderProperties[name]
		if !ok {
			names := make([]string, 0, len(renderProperties))
			for k := range renderProperties {
				names = append(names, k)
			}
			slices.Sort(names)
			return nil, c.errorf(p.Name.Pos.Offset, kusto.KindSemantic, "render: unknown property %q; render takes %s", name, strings.Join(names, ", "))
		}
		if seen[name] {
			return nil, c.errorf(p.Name.Pos.Offset, kusto.KindSemantic, "render: property %q is given twice", name)
		}
		seen[name] = true
		bad := func(want string) error {
			return c.errorf(p.Name.Pos.Offset, kusto.KindSemantic, "render: %s takes %s", name, want)
		}
		var f float64
		switch spec.kind {
		case "string":
			if p.Names != nil || p.Number != "" {
				return nil, bad("a string")
			}
		case "number":
			var err error
			if f, err = strconv.ParseFloat(p.Number, 64); p.Number == "" || err != nil {
				return nil, bad("a number")
			}
		case "bool":
			if len(p.Names) != 1 || p.Text != "true" && p.Text != "false" {
				return nil, bad("true or false")
			}
		case "word":
			if len(p.Names) != 1 || !slices.Contains(spec.values, p.Text) {
				return nil, bad(quotedList(spec.values))
			}
		case "column", "columns":
			if p.Names == nil || spec.kind == "column" && len(p.Names) != 1 {
				return nil, bad(map[string]string{"column": "a column name", "columns": "column names, separated by commas"}[spec.kind])
			}
			for _, n := range p.Names {
				if in.Schema().Index(n.String()) < 0 {
					return nil, c.errorf(n.Pos.Offset, kusto.KindSemantic, "render %s: failed to resolve column named %q", name, n.String())
				}
			}
		}
		spec.set(v, p.Text, f)
	}
	return &renderNode{in: in, vis: v}, nil
}

// renderNode passes its input through; its visualization goes with the result.
type renderNode struct {
	in  Node
	vis *Visualization
}

func (n *renderNode) Schema() Schema                    { return n.in.Schema() }
func (n *renderNode) Children() []Node                  { return []Node{n.in} }
func (n *renderNode) Describe() string                  { return fmt.Sprintf("render %s", n.vis.Visualization) }
func (n *renderNode) Open(ctx context.Context) Operator { return n.in.Open(ctx) }
func (n *renderNode) prune(needed []bool)               { prune(n.in, needed) }
