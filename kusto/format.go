package kusto

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// FormatValue renders a value as Kusto's tostring() does; a null is the empty string. It is the
// text form used by tostring(), the table, CSV and markdown renderers.
func FormatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return FormatReal(v)
	case string:
		return v
	case DateTime:
		return v.String()
	case Timespan:
		return v.String()
	case uuid.UUID:
		return v.String()
	default:
		return FormatDynamic(v)
	}
}

// FormatReal renders a real the way .NET's round-trip format does, as Kusto shows it: plain
// digits from 1e-5 up to 1e15, otherwise an exponent with a capital E (1E+20, 1E-07).
func FormatReal(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-5 && a < 1e15) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1E+20, 1.5E-07
	mantissa, exp, _ := strings.Cut(s, "E")
	sign, digits := exp[:1], strings.TrimLeft(exp[1:], "0")
	for len(digits) < 2 {
		digits = "0" + digits
	}
	return mantissa + "E" + sign + digits
}

// FormatDynamic renders a dynamic value as compact JSON; a string value is itself, as
// tostring(dynamic("a")) is a.
func FormatDynamic(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return string(DynamicJSON(v))
}

// DynamicJSON encodes a dynamic value as JSON.
func DynamicJSON(v any) []byte {
	b, err := json.Marshal(jsonSafe(v))
	if err != nil {
		return []byte("null")
	}
	return b
}

// jsonSafe replaces the float values JSON cannot hold (NaN, ±Inf) with their names.
func jsonSafe(v any) any {
	switch v := v.(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return FormatReal(v)
		}
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = jsonSafe(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = jsonSafe(x)
		}
		return out
	}
	return v
}

// DotNetType is the approximate .NET type of a Kusto type, as the DataType of Kusto's v1 JSON
// and the Type of a JSON table schema give it.
func DotNetType(t Type) string {
	switch t {
	case TypeBool:
		return "Boolean"
	case TypeInt:
		return "Int32"
	case TypeLong:
		return "Int64"
	case TypeReal:
		return "Double"
	case TypeString:
		return "String"
	case TypeDateTime:
		return "DateTime"
	case TypeTimespan:
		return "TimeSpan"
	case TypeGUID:
		return "Guid"
	default:
		return "Object"
	}
}
