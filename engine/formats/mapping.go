package formats

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
)

// MappingKinds are the ingestion mapping kinds Kustard takes, as Kusto spells them in
// `.show … ingestion mappings`; UnsupportedMappingKinds are Kusto's others, rejected by name.
var (
	MappingKinds            = []string{"Csv", "Json", "Parquet"}
	UnsupportedMappingKinds = []string{"Avro", "Orc", "W3CLogFile", "ApacheAvro", "SStream"}
)

// ColumnMapping is one element of an ingestion mapping (mappings.md): the column it fills,
// the type to create the column with if it does not exist, and where its value comes from.
type ColumnMapping struct {
	Column    string
	DataType  kusto.Type // TypeUnknown when not given
	Ordinal   int        // Csv: the field, from 0; -1 when not given
	Path      []PathStep // Json: the path, nil when not given
	PathText  string
	Const     *string // ConstValue
	Transform string  // "" or one of Transforms
}

// Transforms are the mapping transformations Kustard applies (mappings.md, "Mapping
// transformations"); the others Kusto has are rejected by name.
var Transforms = []string{
	"SourceLocation", "SourceLineNumber", "DateTimeFromUnixSeconds", "DateTimeFromUnixMilliseconds",
	"DateTimeFromUnixMicroseconds", "DateTimeFromUnixNanoseconds",
}

var unsupportedTransforms = []string{"PropertyBagArrayToDictionary", "GetPathElement", "BytesAsBase64", "DropMappedFields"}

// ParseMapping parses a mapping of kind ("Csv" or "Json") given as JSON text, in the form of
// the docs ([{"Column": …, "DataType": …, "Properties": {"Ordinal": "0"}}, …]) or the legacy
// flat one ([{"Name": …, "Ordinal": 0, "ConstValue": null}, …]); property names in any case.
func ParseMapping(kind, text string) ([]ColumnMapping, error) {
	var raw []map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("the mapping is not a JSON array of column mappings: %v", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("the mapping has no columns")
	}
	out := make([]ColumnMapping, 0, len(raw))
	seen := map[string]bool{}
	for i, elem := range raw {
		m := ColumnMapping{Ordinal: -1}
		props := map[string]any{}
		for k, v := range elem {
			switch strings.ToLower(k) {
			case "column", "name":
				s, _ := v.(string)
				m.Column = s
			case "datatype":
				if v == nil {
					continue
				}
				s, _ := v.(string)
				t, ok := kusto.LookupType(s)
				if !ok || !t.Supported() {
					return nil, fmt.Errorf("column mapping %d: unknown data type %q", i+1, s)
				}
				m.DataType = t
			case "properties":
				p, ok := v.(map[string]any)
				if !ok && v != nil {
					return nil, fmt.Errorf("column mapping %d: Properties must be an object", i+1)
				}
				for pk, pv := range p {
					props[strings.ToLower(pk)] = pv
				}
			case "csvdatatype", "columntype":
			default:
				props[strings.ToLower(k)] = v
			}
		}
		if m.Column == "" {
			return nil, fmt.Errorf("column mapping %d has no Column", i+1)
		}
		if seen[m.Column] {
			return nil, fmt.Errorf("column %q is mapped twice", m.Column)
		}
		seen[m.Column] = true
		for k, v := range props {
			if v == nil {
				continue
			}
			text := fmt.Sprint(v)
			switch k {
			case "ordinal":
				n, err := strconv.Atoi(strings.TrimSpace(text))
				if err != nil || n < 0 {
					return nil, fmt.Errorf("column mapping %q: Ordinal must be a number from 0, not %q", m.Column, text)
				}
				m.Ordinal = n
			case "constvalue", "constantvalue":
				m.Const = &text
			case "path":
				if !strings.HasPrefix(text, "$") {
					m.Const = &text // the docs: a Path not starting with $ is a constant
					continue
				}
				steps, err := ParsePath(text)
				if err != nil {
					return nil, fmt.Errorf("column mapping %q: %v", m.Column, err)
				}
				m.Path, m.PathText = steps, text
			case "transform":
				if err := checkTransform(text); err != nil {
					return nil, fmt.Errorf("column mapping %q: %v", m.Column, err)
				}
				m.Transform = text
			case "field":
				if kind != "Parquet" {
					return nil, fmt.Errorf("column mapping %q: Field is a property of Avro, Parquet, Orc and W3CLogFile mappings, not %s", m.Column, kind)
				}
				// parquet-mapping.md: Field "EventName" is Path "$.EventName".
				m.Path, m.PathText = []PathStep{{Name: text}}, "$['"+text+"']"
			default:
				return nil, fmt.Errorf("column mapping %q: unknown property %q", m.Column, k)
			}
		}
		switch kind {
		case "Csv":
			if m.Path != nil {
				return nil, fmt.Errorf("column mapping %q: Path is a property of Json mappings; a Csv mapping takes Ordinal or ConstValue", m.Column)
			}
			if m.Ordinal >= 0 && m.Const != nil {
				return nil, fmt.Errorf("column mapping %q: Ordinal and ConstValue are mutually exclusive", m.Column)
			}
			if m.Ordinal < 0 && m.Const == nil && m.Transform == "" {
				return nil, fmt.Errorf("column mapping %q needs Ordinal or ConstValue", m.Column)
			}
		case "Json", "Parquet":
			if m.Ordinal >= 0 {
				return nil, fmt.Errorf("column mapping %q: Ordinal is a property of Csv mappings; a %s mapping takes Path", m.Column, kind)
			}
			if m.Path == nil && m.Const == nil && m.Transform == "" {
				if kind == "Parquet" {
					return nil, fmt.Errorf("column mapping %q needs Path, Field or ConstValue", m.Column)
				}
				return nil, fmt.Errorf("column mapping %q needs Path or ConstValue", m.Column)
			}
		}
		if strings.HasPrefix(m.Transform, "DateTimeFromUnix") && m.Path == nil && m.Ordinal < 0 {
			return nil, fmt.Errorf("column mapping %q: %s needs a value to transform", m.Column, m.Transform)
		}
		out = append(out, m)
	}
	return out, nil
}

func checkTransform(name string) error {
	for _, t := range Transforms {
		if strings.EqualFold(t, name) {
			return nil
		}
	}
	for _, t := range unsupportedTransforms {
		if strings.EqualFold(t, name) {
			return fmt.Errorf("unsupported transform %q; Kustard applies %s", name, strings.Join(Transforms, ", "))
		}
	}
	return fmt.Errorf("unknown transform %q; Kustard applies %s", name, strings.Join(Transforms, ", "))
}

// MappingJSON is a mapping as `.show … ingestion mappings` shows it: the docs' form, each
// property's value a string, as Kusto keeps them.
func MappingJSON(ms []ColumnMapping) string {
	type elem struct {
		Column     string            `json:"Column"`
		DataType   string            `json:"DataType,omitempty"`
		Properties map[string]string `json:"Properties"`
	}
	out := make([]elem, len(ms))
	for i, m := range ms {
		e := elem{Column: m.Column, Properties: map[string]string{}}
		if m.DataType != kusto.TypeUnknown {
			e.DataType = m.DataType.String()
		}
		if m.Ordinal >= 0 {
			e.Properties["Ordinal"] = strconv.Itoa(m.Ordinal)
		}
		if m.Path != nil {
			e.Properties["Path"] = m.PathText
		}
		if m.Const != nil {
			e.Properties["ConstValue"] = *m.Const
		}
		if m.Transform != "" {
			e.Properties["Transform"] = m.Transform
		}
		out[i] = e
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// PathStep is one step of a JSON path: a property name, or an array index when Name is empty.
type PathStep struct {
	Name  string
	Index int
}

// ParsePath parses the JSONPath subset mappings use (jsonpath.md): $ for the whole record,
// .name, ['name'] or ["name"] (also written .['name']) for a property, and [n] for an element.
func ParsePath(p string) ([]PathStep, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("path %q must start with $", p)
	}
	steps := []PathStep{}
	i := 1
	for i < len(p) {
		switch {
		case p[i] == '.' && i+1 < len(p) && p[i+1] == '[':
			i++
		case p[i] == '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("path %q has an empty name at %d", p, i+1)
			}
			steps = append(steps, PathStep{Name: p[i+1 : j]})
			i = j
		case p[i] == '[':
			if i+1 < len(p) && (p[i+1] == '\'' || p[i+1] == '"') {
				q := p[i+1]
				end := strings.IndexByte(p[i+2:], q)
				if end < 0 || i+2+end+1 >= len(p) || p[i+2+end+1] != ']' {
					return nil, fmt.Errorf("path %q has an unclosed [%c…%c] at %d", p, q, q, i+1)
				}
				steps = append(steps, PathStep{Name: p[i+2 : i+2+end]})
				i += 2 + end + 2
				continue
			}
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("path %q has an unclosed [ at %d", p, i+1)
			}
			n, err := strconv.Atoi(p[i+1 : i+end])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("path %q: [%s] is not an array index or a quoted name", p, p[i+1:i+end])
			}
			steps = append(steps, PathStep{Index: n})
			i += end + 1
		default:
			return nil, fmt.Errorf("path %q: unexpected %q at %d", p, p[i], i+1)
		}
	}
	return steps, nil
}

// Lookup returns the value a path selects in a JSON record, and whether it is there.
func Select(v any, path []PathStep) (any, bool) {
	for _, s := range path {
		if s.Name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s.Name]; !ok {
				return nil, false
			}
			continue
		}
		a, ok := v.([]any)
		if !ok || s.Index >= len(a) {
			return nil, false
		}
		v = a[s.Index]
	}
	return v, true
}
