package engine

import (
	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Dynamic functions: values held as JSON-like trees.

func init() {
	todynamic := func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return convert(args[0], kusto.TypeDynamic), nil
	}
	declare(
		&function{name: "todynamic", usage: "todynamic(value)", summary: "Its argument as a dynamic: a string is parsed as JSON, and kept as a string if it is not JSON.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeDynamic), build: todynamic}}},
		&function{name: "parse_json", usage: "parse_json(string)", summary: "A string parsed as JSON, as a dynamic; a string that is not JSON stays a string.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeDynamic), build: todynamic}}},
	)
}

// toDynamic converts a scalar expression to dynamic.
func toDynamic(x *compiled) *compiled {
	d := kusto.TypeDynamic
	switch x.typ {
	case kusto.TypeBool:
		return convNode(d, x, boxed[bool])
	case kusto.TypeInt:
		return convNode(d, x, func(v int32) (any, bool) { return int64(v), true })
	case kusto.TypeLong:
		return convNode(d, x, boxed[int64])
	case kusto.TypeReal:
		return convNode(d, x, boxed[float64])
	case kusto.TypeString:
		return convNode(d, x, func(s string) (any, bool) { return convertValue(s, d), true })
	case kusto.TypeDateTime:
		return convNode(d, x, func(v kusto.DateTime) (any, bool) { return v.String(), true })
	case kusto.TypeTimespan:
		return convNode(d, x, func(v kusto.Timespan) (any, bool) { return v.String(), true })
	case kusto.TypeGUID:
		return convNode(d, x, func(v uuid.UUID) (any, bool) { return v.String(), true })
	}
	return nil
}

func boxed[T any](v T) (any, bool) { return v, true }

// dynamicOf converts a scalar to the value a dynamic holds.
func dynamicOf(v any) any {
	switch v := v.(type) {
	case int32:
		return int64(v)
	case kusto.DateTime, kusto.Timespan, uuid.UUID:
		return kusto.FormatValue(v)
	}
	return v
}
