package formats

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

// FromText converts a field's text to a value of type t, as Kusto's ingestion does: an empty
// field is null (an empty string in a string column), and a value that does not parse as the
// column's type is null (ingest-invalid-data.md: "Value not matching the table schema data
// type … NULL value filled"). A dynamic column takes the JSON the text holds, or the text
// itself as a string when it is not JSON. ok is false when a non-empty text was turned to null,
// so that a caller can count such values.
func FromText(t kusto.Type, s string) (v any, ok bool) {
	if t == kusto.TypeString {
		return s, true
	}
	text := strings.TrimSpace(s)
	if text == "" {
		return nil, true
	}
	switch t {
	case kusto.TypeBool:
		switch strings.ToLower(text) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	case kusto.TypeInt:
		if n, err := strconv.ParseInt(text, 10, 32); err == nil {
			return int32(n), true
		}
	case kusto.TypeLong:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, true
		}
	case kusto.TypeReal:
		if f, err := strconv.ParseFloat(text, 64); err == nil || isRange(err) {
			return f, true
		}
	case kusto.TypeDateTime:
		if d, err := kusto.ParseDateTime(text); err == nil {
			return d, true
		}
	case kusto.TypeTimespan:
		if d, err := kusto.ParseTimespan(text); err == nil {
			return d, true
		}
	case kusto.TypeGUID:
		if g, err := uuid.Parse(text); err == nil && len(text) == 36 {
			return g, true
		}
	case kusto.TypeDynamic:
		if v, err := decodeJSON([]byte(text)); err == nil {
			return v, true
		}
		return s, true
	}
	return nil, false
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// FromJSON converts a JSON value (as normalize leaves it) to a value of type t: a string takes
// a JSON string's text and any other value's JSON; numbers convert between the numeric types
// when no precision is lost; strings parse as FromText parses them. A value that does not fit
// is null, with ok false.
func FromJSON(t kusto.Type, v any) (any, bool) {
	if v == nil {
		return nil, true
	}
	if s, isString := v.(string); isString && t != kusto.TypeDynamic {
		return FromText(t, s)
	}
	switch t {
	case kusto.TypeDynamic:
		return v, true
	case kusto.TypeString:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, false
		}
		return string(b), true
	case kusto.TypeBool:
		if b, isBool := v.(bool); isBool {
			return b, true
		}
		if n, isInt := v.(int64); isInt {
			return n != 0, true
		}
	case kusto.TypeInt:
		if n, isInt := integral(v); isInt && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int32(n), true
		}
	case kusto.TypeLong:
		if n, isInt := integral(v); isInt {
			return n, true
		}
	case kusto.TypeReal:
		switch x := v.(type) {
		case int64:
			return float64(x), true
		case float64:
			return x, true
		}
	case kusto.TypeDateTime:
		// A number is not a datetime (the DateTimeFromUnix… transforms say which unit it is).
	}
	return nil, false
}

// integral returns a JSON number as an int64 when it is one exactly.
func integral(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return int64(x), true
		}
	}
	return 0, false
}
