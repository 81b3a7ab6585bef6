package parser

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// finish completes a parsed block: it decodes values the grammar captured as text, builds the
// expression trees, and checks what the grammar cannot (property names and types, column types,
// where a command may feed an ingest).
func finish(src *kusto.Source, b *Block) error {
	f := &finisher{src: src}
	f.block(b)
	return f.err
}

type finisher struct {
	src *kusto.Source
	err error // the first error found; later checks are skipped once it is set
}

func (f *finisher) fail(pos lexer.Position, format string, args ...any) {
	if f.err == nil {
		f.err = kusto.Errorf(kusto.KindSyntax, f.src, pos.Offset, format, args...)
	}
}

func (f *finisher) block(b *Block) {
	b.Source = f.src
	if b.Query != nil {
		f.query(b.Query)
		return
	}
	f.command(b.Command)
	f.operators(b.Then)
}

func (f *finisher) command(c Command) {
	switch c := c.(type) {
	case *CancelOperation:
		f.guid(c.ID)
		f.properties(c.With, cancelProperties, nil, ".cancel operation")
	case *ShowOperations:
		for _, id := range c.IDs {
			f.guid(id)
		}
	case *ShowOperationDetails:
		f.guid(c.ID)
	case *Ingest:
		f.ingest(c)
	case *CreateTable:
		seen := map[string]bool{}
		for _, col := range c.Columns {
			f.columnDef(col)
			if seen[col.Name.String()] {
				f.fail(col.Pos, "column %q is declared twice", col.Name.String())
			}
			seen[col.Name.String()] = true
		}
		name := ".create table"
		if c.Merge {
			name = ".create-merge table"
		}
		f.properties(c.With, tableProperties, nil, name)
	}
}

func (f *finisher) ingest(c *Ingest) {
	name := "." + c.Verb
	f.properties(c.With, ingestProperties, unsupportedIngestProperties, name)
	if c.With != nil {
		for _, p := range c.With.List {
			switch canonical := canonicalName(ingestProperties, p.Name.String()); {
			case canonical == "extend_schema" && c.Verb == "set":
				f.fail(p.Pos, "extend_schema applies only to .append, .set-or-append and .set-or-replace")
			case canonical == "recreate_schema" && c.Verb != "set-or-replace":
				f.fail(p.Pos, "recreate_schema applies only to .set-or-replace")
			}
		}
	}
	src := c.Source
	if src.Command != nil && !isShowCommand(src.Command) {
		f.fail(src.Pos, "the source of %s must be a query or a .show command", name)
	}
	f.block(src)
}

func isShowCommand(c Command) bool {
	switch c.(type) {
	case *ShowOperations, *ShowOperationDetails, *ShowTables, *ShowTable, *ShowDatabases, *ShowVersion:
		return true
	}
	return false
}

func (f *finisher) query(q *Query) {
	for _, l := range q.Lets {
		if l.Tabular != nil {
			f.pipeline(l.Tabular)
		} else {
			f.expr(l.Scalar)
		}
	}
	f.pipeline(q.Body)
}

func (f *finisher) pipeline(p *Pipeline) {
	switch s := p.Source.(type) {
	case *RangeSource:
		f.expr(s.From)
		f.expr(s.To)
		f.expr(s.Step)
	case *DatatableSource:
		for _, col := range s.Columns {
			f.columnDef(col)
		}
		for _, v := range s.Values {
			f.expr(v)
		}
		if n := len(s.Columns); len(s.Values)%n != 0 {
			f.fail(s.Pos, "datatable has %d values for %d columns; the count must be a multiple of %d", len(s.Values), n, n)
		}
	case *PrintSource:
		f.namedExprs(s.Columns)
	case *ParenSource:
		f.pipeline(s.Body)
	}
	f.operators(p.Ops)
}

func (f *finisher) operators(ops []Operator) {
	for _, op := range ops {
		for _, e := range op.scalars() {
			f.expr(e)
		}
	}
}

func (f *finisher) namedExprs(list []*NamedExpr) {
	for _, n := range list {
		f.expr(n.Expr)
	}
}

func (f *finisher) expr(e *ScalarExpr) {
	if e == nil || f.err != nil {
		return
	}
	if _, err := e.tree(f.src); err != nil {
		f.err = err
	}
}

func (f *finisher) columnDef(c *ColumnDef) {
	t, ok := kusto.LookupType(c.TypeName)
	switch {
	case !ok:
		f.fail(c.Pos, "unknown type %q for column %q; expected bool, int, long, real, string, datetime, timespan, guid or dynamic", c.TypeName, c.Name.String())
	case !t.Supported():
		f.fail(c.Pos, "unsupported type %s for column %q", t, c.Name.String())
	}
	c.Type = t
}

func (f *finisher) guid(g *GuidArg) {
	tok := g.Tokens[0]
	switch tok.Type {
	case TokGUID:
		g.Value = uuid.MustParse(tok.Value)
	case TokString:
		s, _, err := kusto.DecodeStrings(tok.Value)
		if err == nil {
			g.Value, err = kusto.ParseGUID(strings.TrimSpace(s))
		}
		if err != nil {
			f.fail(g.Pos, "%s is not a valid operation id; expected a guid such as 078b2641-f10d-4694-96f8-1ee2b75dda48", shorten(tok.Value))
		}
	case TokTypedLit:
		lit, err := tokenLiteral(f.src, tok)
		if err != nil || lit.Type != kusto.TypeGUID || lit.Value == nil {
			f.fail(g.Pos, "%s is not a valid operation id; expected a guid", shorten(tok.Value))
			return
		}
		g.Value = lit.Value.(uuid.UUID)
	}
}

// PropertySpec describes one `with` property a command accepts.
type PropertySpec struct {
	Name string
	Type kusto.Type // TypeBool or TypeString
	// Check validates a value beyond its type and may convert it (creationTime to a datetime).
	Check func(kusto.Literal) (kusto.Literal, error)
	Doc   string
}

var cancelProperties = []PropertySpec{
	{Name: "reason", Type: kusto.TypeString, Doc: "why the operation is canceled; shown in ReasonPhrase and in the operation's Status"},
}

var tableProperties = []PropertySpec{
	{Name: "docstring", Type: kusto.TypeString, Doc: "a description of the table"},
	{Name: "folder", Type: kusto.TypeString, Doc: "the folder the table is shown in"},
}

var ingestProperties = []PropertySpec{
	{Name: "creationTime", Type: kusto.TypeString, Check: checkCreationTime, Doc: "the creation time of the new extent, as an ISO 8601 datetime"},
	{Name: "distributed", Type: kusto.TypeBool, Doc: "accepted for compatibility; Kustard runs on one node"},
	{Name: "docstring", Type: kusto.TypeString, Doc: "a description of the table"},
	{Name: "extend_schema", Type: kusto.TypeBool, Doc: "add the query's extra columns to the end of the table's schema"},
	{Name: "folder", Type: kusto.TypeString, Doc: "the folder the table is shown in"},
	{Name: "ingestIfNotExists", Type: kusto.TypeString, Check: checkStringList, Doc: `skip the ingest if the table already has an extent tagged ingest-by:<value>, e.g. '["v1"]'`},
	{Name: "persistDetails", Type: kusto.TypeBool, Doc: "keep the result for .show operation <id> details"},
	{Name: "recreate_schema", Type: kusto.TypeBool, Doc: "replace the table's schema with the query's (.set-or-replace only)"},
	{Name: "tags", Type: kusto.TypeString, Check: checkStringList, Doc: `tags for the new extent, as a JSON list, e.g. '["ingest-by:v1"]'`},
}

// unsupportedIngestProperties are real Kusto ingest properties that Kustard does not implement;
// they are rejected by name rather than ignored.
var unsupportedIngestProperties = []string{
	"format", "ignoreFirstRecord", "ingestionMapping", "ingestionMappingReference",
	"policy_ingestiontime", "small_dimension_table", "validationPolicy", "zipPattern",
}

// IngestProperties, TableProperties and CancelProperties describe the with-properties of each
// command, for help and completion.
func IngestProperties() []PropertySpec { return ingestProperties }
func TableProperties() []PropertySpec  { return tableProperties }
func CancelProperties() []PropertySpec { return cancelProperties }

func canonicalName(specs []PropertySpec, name string) string {
	for _, s := range specs {
		if strings.EqualFold(s.Name, name) {
			return s.Name
		}
	}
	return ""
}

// properties validates a with list: names match case-insensitively (the docs' own example writes
// Reason), each at most once, and values have the property's type.
func (f *finisher) properties(p *Properties, specs []PropertySpec, unsupported []string, command string) {
	if p == nil {
		return
	}
	p.Values = NamedValues{}
	names := make([]string, len(specs))
	for j, s := range specs {
		names[j] = s.Name
	}
	if len(p.List) == 0 {
		// Kusto's grammar wants at least one property; the grammar here takes none so that the
		// message can say which are accepted.
		f.fail(p.Pos, "empty with () for %s; give at least one property: %s", command, strings.Join(names, ", "))
		return
	}
	for _, prop := range p.List {
		name := prop.Name.String()
		i := slices.IndexFunc(specs, func(s PropertySpec) bool { return strings.EqualFold(s.Name, name) })
		if i < 0 {
			if slices.ContainsFunc(unsupported, func(u string) bool { return strings.EqualFold(u, name) }) {
				f.fail(prop.Pos, "unsupported property %q for %s; Kustard does not implement it", name, command)
				return
			}
			f.fail(prop.Pos, "unknown property %q for %s; accepted: %s", name, command, strings.Join(names, ", "))
			return
		}
		spec := specs[i]
		if _, dup := p.Values[spec.Name]; dup {
			f.fail(prop.Pos, "property %q is given twice", spec.Name)
			return
		}
		value, err := f.propertyValue(prop)
		if err == nil {
			value, err = coerceProperty(spec, value)
		}
		if err != nil {
			f.fail(prop.Pos, "property %s: %v", spec.Name, err)
			return
		}
		p.Values[spec.Name] = value
	}
}

func (f *finisher) propertyValue(p *Property) (kusto.Literal, error) {
	tok := p.Tokens[len(p.Tokens)-1]
	if tok.Type == TokIdent {
		if b, err := kusto.ParseBool(tok.Value); err == nil {
			return kusto.Literal{Type: kusto.TypeBool, Value: b}, nil
		}
		return kusto.Literal{}, fmt.Errorf("%s is not a value; quote strings, as in %s=%q", tok.Value, p.Name.String(), tok.Value)
	}
	lit, err := tokenLiteral(f.src, tok)
	if err != nil {
		return kusto.Literal{}, fmt.Errorf("%v", err.(*kusto.Error).Msg)
	}
	return lit, nil
}

func coerceProperty(spec PropertySpec, v kusto.Literal) (kusto.Literal, error) {
	switch {
	case spec.Type == kusto.TypeBool && v.Type == kusto.TypeString:
		// Kusto tolerates quoted booleans: extend_schema="true".
		b, err := kusto.ParseBool(v.Value.(string))
		if err != nil {
			return kusto.Literal{}, fmt.Errorf("expected true or false, got %q", v.Value)
		}
		v = kusto.Literal{Type: kusto.TypeBool, Value: b}
	case spec.Type != v.Type:
		return kusto.Literal{}, fmt.Errorf("expected a %s value, got a %s", spec.Type, v.Type)
	}
	if spec.Check != nil {
		return spec.Check(v)
	}
	return v, nil
}

func checkCreationTime(v kusto.Literal) (kusto.Literal, error) {
	d, err := kusto.ParseDateTime(strings.TrimSpace(v.Value.(string)))
	if err != nil {
		return kusto.Literal{}, err
	}
	return kusto.Literal{Type: kusto.TypeDateTime, Value: d}, nil
}

// checkStringList accepts a JSON list of strings, the form the docs give for tags and
// ingestIfNotExists.
func checkStringList(v kusto.Literal) (kusto.Literal, error) {
	var list []string
	if err := json.Unmarshal([]byte(v.Value.(string)), &list); err != nil {
		return kusto.Literal{}, fmt.Errorf(`expected a JSON list of strings such as '["a","b"]', got %q`, v.Value)
	}
	return v, nil
}
