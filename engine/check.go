package engine

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Checking: the parser parses and decodes; what only the command registry knows (which `with`
// properties a command takes and their types, which commands may feed an ingest) is checked
// here, before anything runs. Its errors are syntax errors, as a parse error is.

// PropertySpec describes one `with` property a command accepts.
type PropertySpec struct {
	Name string
	Type kusto.Type // TypeBool or TypeString
	// Check validates a value beyond its type and may convert it (creationTime to a datetime).
	Check func(kusto.Literal) (kusto.Literal, error)
	Doc   string
	// AppliesTo, when set, names the only commands the property may be given to; the others
	// that list it reject it, saying which those are.
	AppliesTo []string
}

var cancelProperties = []PropertySpec{
	{Name: "reason", Type: kusto.TypeString, Doc: "why the operation is canceled; shown in ReasonPhrase and in the operation's Status"},
}

var cancelQueryProperties = []PropertySpec{
	{Name: "reason", Type: kusto.TypeString, Doc: "why the query is canceled; shown in ReasonPhrase, in the error its client gets and in its FailureReason"},
}

var tableProperties = []PropertySpec{
	{Name: "docstring", Type: kusto.TypeString, Doc: "a description of the table"},
	{Name: "folder", Type: kusto.TypeString, Doc: "the folder the table is shown in"},
}

var ingestProperties = []PropertySpec{
	{Name: "creationTime", Type: kusto.TypeString, Check: checkCreationTime, Doc: "the creation time of the new extent, as an ISO 8601 datetime"},
	{Name: "distributed", Type: kusto.TypeBool, Doc: "accepted for compatibility; Kustard runs on one node"},
	{Name: "docstring", Type: kusto.TypeString, Doc: "a description of the table"},
	{Name: "extend_schema", Type: kusto.TypeBool, Doc: "add the query's extra columns to the end of the table's schema",
		AppliesTo: []string{".append", ".set-or-append", ".set-or-replace"}},
	{Name: "folder", Type: kusto.TypeString, Doc: "the folder the table is shown in"},
	{Name: "ingestIfNotExists", Type: kusto.TypeString, Check: checkStringList, Doc: `skip the ingest if the table already has an extent tagged ingest-by:<value>, e.g. '["v1"]'`},
	{Name: "persistDetails", Type: kusto.TypeBool, Doc: "keep the result for .show operation <id> details"},
	{Name: "recreate_schema", Type: kusto.TypeBool, Doc: "replace the table's schema with the query's (.set-or-replace only)",
		AppliesTo: []string{".set-or-replace"}},
	{Name: "tags", Type: kusto.TypeString, Check: checkStringList, Doc: `tags for the new extent, as a JSON list, e.g. '["ingest-by:v1"]'`},
}

// unsupportedIngestProperties are real Kusto ingest properties that Kustard does not implement;
// they are rejected by name rather than ignored.
var unsupportedIngestProperties = []string{
	"format", "ignoreFirstRecord", "ingestionMapping", "ingestionMappingReference",
	"policy_ingestiontime", "small_dimension_table", "validationPolicy", "zipPattern",
}

// Check parses one block and checks it against the registries, without running anything: what
// `kustard check` reports, and what Execute does before it runs a block. Its errors are
// *kusto.Error of KindSyntax, placed in src.
func Check(src *kusto.Source) (*parser.Block, error) {
	b, err := parser.ParseChecked(src, checkCommand)
	if err != nil {
		return nil, err
	}
	if err := checkStatements(src, b); err != nil {
		return nil, err
	}
	if err := checkFunctions(src, b); err != nil {
		return nil, err
	}
	return b, nil
}

// checkBlock checks a block that may not have come from Check (one from parser.Parse). It fills
// the with-lists' values only where they are not filled yet, so a block from Check is only read
// and may run in many sessions at once.
func checkBlock(b *parser.Block) error {
	if b.Command == nil {
		return nil
	}
	if err := checkCommand(b.Source, b.Command); err != nil {
		return err
	}
	if src := sourceOf(b.Command); src != nil {
		return checkBlock(src)
	}
	return nil
}

// checkCommand checks a parsed command against its registry entry.
func checkCommand(src *kusto.Source, c parser.Command) error {
	info := CommandFor(c)
	if err := checkProperties(src, info, propertiesOf(c)); err != nil {
		return err
	}
	if in := sourceOf(c); in != nil && in.Command != nil && !CommandFor(in.Command).IsShow() {
		return kusto.Errorf(kusto.KindSyntax, src, in.Pos.Offset, "the source of %s must be a query or a .show command", info.Name)
	}
	return nil
}

// checkProperties checks a with list: names match case-insensitively (the docs' own example
// writes Reason), each at most once, and values have the property's type.
func checkProperties(src *kusto.Source, info *CommandInfo, p *parser.Properties) error {
	if p == nil {
		return nil
	}
	fail := func(offset int, format string, args ...any) error {
		return kusto.Errorf(kusto.KindSyntax, src, offset, format, args...)
	}
	specs := info.Properties
	names := make([]string, len(specs))
	for j, s := range specs {
		names[j] = s.Name
	}
	if len(p.List) == 0 {
		// Kusto's grammar wants at least one property; the grammar here takes none so that the
		// message can say which are accepted.
		return fail(p.Pos.Offset, "empty with () for %s; give at least one property: %s", info.Name, strings.Join(names, ", "))
	}
	values := parser.NamedValues{}
	for _, prop := range p.List {
		name := prop.Name.String()
		spec, ok := info.property(name)
		if !ok {
			if slices.ContainsFunc(info.Unsupported, func(u string) bool { return strings.EqualFold(u, name) }) {
				return fail(prop.Pos.Offset, "unsupported property %q for %s; Kustard does not implement it", name, info.Name)
			}
			return fail(prop.Pos.Offset, "unknown property %q for %s; accepted: %s", name, info.Name, strings.Join(names, ", "))
		}
		if _, dup := values[spec.Name]; dup {
			return fail(prop.Pos.Offset, "property %q is given twice", spec.Name)
		}
		value, err := prop.Value, prop.Invalid
		if err == nil {
			value, err = coerceProperty(spec, value)
		}
		if err != nil {
			return fail(prop.Pos.Offset, "property %s: %v", spec.Name, err)
		}
		values[spec.Name] = value
	}
	for _, prop := range p.List {
		spec, _ := info.property(prop.Name.String())
		if len(spec.AppliesTo) > 0 && !slices.Contains(spec.AppliesTo, info.Name) {
			return fail(prop.Pos.Offset, "%s applies only to %s", spec.Name, joinAnd(spec.AppliesTo))
		}
	}
	if p.Values == nil {
		p.Values = values
	}
	return nil
}

// property returns the spec of the property a name (in any case) stands for.
func (info *CommandInfo) property(name string) (PropertySpec, bool) {
	i := slices.IndexFunc(info.Properties, func(s PropertySpec) bool { return strings.EqualFold(s.Name, name) })
	if i < 0 {
		return PropertySpec{}, false
	}
	return info.Properties[i], true
}

// joinAnd joins words as prose: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
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
	case spec.Type == kusto.TypeLong && v.Type == kusto.TypeInt:
		v = kusto.Literal{Type: kusto.TypeLong, Value: int64(v.Value.(int32))}
	case spec.Type == kusto.TypeLong && v.Type == kusto.TypeString:
		// Quoted numbers, as quoted booleans: sizeLimit="100000000".
		n, err := strconv.ParseInt(strings.TrimSpace(v.Value.(string)), 10, 64)
		if err != nil {
			return kusto.Literal{}, fmt.Errorf("expected a whole number, got %q", v.Value)
		}
		v = kusto.Literal{Type: kusto.TypeLong, Value: n}
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

// checkFunctions finds every function call in a block and checks that Kustard implements the
// function, or that a let defines it: an unknown or unsupported function is found before anything runs, as a syntax error
// is. Calls are found by walking the block's values, so that every place an expression can stand
// is covered whatever node holds it.
func checkFunctions(src *kusto.Source, b *parser.Block) error {
	var err error
	visited := map[uintptr]bool{}
	userFuncs := map[string]bool{} // names of user-defined functions
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if err != nil {
			return
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || visited[v.Pointer()] {
				return
			}
			visited[v.Pointer()] = true
			switch n := v.Interface().(type) {
			case *parser.Let:
				if n.Func != nil {
					// A let is walked before the text after it, where its calls stand; compile
					// resolves each call by scope.
					userFuncs[n.Name.String()] = true
				}
			case *parser.CallExpr:
				if _, ok := functions[n.Func]; !ok && !userFuncs[n.Func] && aggregates[n.Func] == nil && !tabularArgFunctions[n.Func] {
					err = kusto.Errorf(kusto.KindSyntax, src, n.At, "%s", functionNameError(n.Func))
					return
				}
			case *parser.ScalarExpr:
				walk(reflect.ValueOf(&n.Tree).Elem()) // the tree, not the grammar's layers
				return
			}
			walk(v.Elem())
		case reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type().PkgPath() != parserPkg {
				return // positions, literals, sources
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(b))
	return err
}

var parserPkg = reflect.TypeOf(parser.Block{}).PkgPath()
