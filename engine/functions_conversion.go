package engine

import (
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Conversion functions: to…() converts a value to a type; a value that does not convert is null.

func init() {
	conv := func(name string, to kusto.Type) *function {
		return &function{name: name, usage: name + "(value)", summary: "Its argument as " + article(to) + "; null if it does not convert.",
			overload: []overload{{params: []typeSet{tAny}, result: returns(to), build: func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
				return convert(args[0], to), nil
			}}}}
	}
	toreal, tobool := conv("toreal", kusto.TypeReal), conv("tobool", kusto.TypeBool)
	declare(
		conv("tostring", kusto.TypeString), conv("toint", kusto.TypeInt), conv("tolong", kusto.TypeLong),
		toreal, alias("todouble", toreal), tobool, alias("toboolean", tobool),
		conv("todatetime", kusto.TypeDateTime), conv("totimespan", kusto.TypeTimespan), conv("toguid", kusto.TypeGUID),
		&function{name: "new_guid", usage: "new_guid()", summary: "A new random guid, different in every row.", class: perRow,
			overload: []overload{{result: returns(kusto.TypeGUID), build: buildNewGuid}}},
	)
}

// convert returns arg converted to type to, as the to*() functions do: a value that does not
// convert becomes null. The conversion is chosen once, by the two types.
func convert(arg *compiled, to kusto.Type) *compiled {
	from := arg.typ
	switch {
	case from == to && to != kusto.TypeDynamic:
		return arg
	case to == kusto.TypeString:
		return asString(arg)
	case from == kusto.TypeDynamic:
		return fold(fromDynamic(arg, to), arg)
	}
	var out *compiled
	switch to {
	case kusto.TypeBool:
		out = convertToBool(arg)
	case kusto.TypeInt:
		out = convertToInt(arg)
	case kusto.TypeLong:
		out = convertToLong(arg)
	case kusto.TypeReal:
		out = convertToReal(arg)
	case kusto.TypeDateTime:
		if from == kusto.TypeString {
			out = convNode(to, arg, parser0(kusto.ParseDateTime))
		}
	case kusto.TypeTimespan:
		switch from {
		case kusto.TypeLong:
			out = convNode(to, arg, func(v int64) (kusto.Timespan, bool) { return kusto.Timespan(v), true })
		case kusto.TypeString:
			out = convNode(to, arg, parser0(kusto.ParseTimespan))
		}
	case kusto.TypeGUID:
		if from == kusto.TypeString {
			out = convNode(to, arg, parser0(kusto.ParseGUID))
		}
	case kusto.TypeDynamic:
		out = toDynamic(arg)
	}
	if out == nil { // no conversion between the two types: every value is null
		out = &compiled{typ: to, run: func(st *evalState, b *Batch, own bool) Column { return nullColumn(to, b.Len) }}
	}
	return fold(out, arg)
}

// fromDynamic converts a dynamic's values, which are boxed already, to type to.
func fromDynamic(x *compiled, to kusto.Type) *compiled {
	switch to {
	case kusto.TypeBool:
		return convNode(to, x, unboxAs[bool](to))
	case kusto.TypeInt:
		return convNode(to, x, unboxAs[int32](to))
	case kusto.TypeLong:
		return convNode(to, x, unboxAs[int64](to))
	case kusto.TypeReal:
		return convNode(to, x, unboxAs[float64](to))
	case kusto.TypeDateTime:
		return convNode(to, x, unboxAs[kusto.DateTime](to))
	case kusto.TypeTimespan:
		return convNode(to, x, unboxAs[kusto.Timespan](to))
	case kusto.TypeGUID:
		return convNode(to, x, unboxAs[uuid.UUID](to))
	}
	return convNode(to, x, func(v any) (any, bool) { r := convertValue(v, to); return r, r != nil })
}

func unboxAs[R any](to kusto.Type) func(v any) (R, bool) {
	return func(v any) (R, bool) {
		r, ok := convertValue(v, to).(R)
		return r, ok
	}
}

// convNode converts each non-null element with f; f's false makes a null. Conversions call a
// function per element, typed: they parse or check ranges, which costs more than the call.
func convNode[A, R any](to kusto.Type, x *compiled, f func(A) (R, bool)) *compiled {
	return &compiled{typ: to, run: func(st *evalState, b *Batch, own bool) Column {
		a := vectorOf[A](x.run(st, b, false))
		out := scratch[R](st, to, len(a.Data), own)
		var bad []bool
		var zero R
		for i, v := range a.Data {
			if a.Nulls != nil && a.Nulls[i] {
				out.Data[i] = zero
				continue
			}
			r, ok := f(v)
			if !ok {
				if bad == nil {
					bad = scratchFlags(st, len(a.Data), own)
				}
				bad[i] = true
			}
			out.Data[i] = r
		}
		return setNulls(out, unionNulls(st, len(a.Data), own, a.Nulls, bad))
	}}
}

// parser0 adapts a parse function to convNode, trimming spaces as Kusto's to…() do.
func parser0[T any](parse func(string) (T, error)) func(string) (T, bool) {
	return func(s string) (T, bool) {
		v, err := parse(strings.TrimSpace(s))
		return v, err == nil
	}
}

func numToBool[A number](v A) (bool, bool) { return v != 0, true }

func convertToBool(x *compiled) *compiled {
	switch x.typ {
	case kusto.TypeInt:
		return convNode(kusto.TypeBool, x, numToBool[int32])
	case kusto.TypeLong:
		return convNode(kusto.TypeBool, x, numToBool[int64])
	case kusto.TypeReal:
		return convNode(kusto.TypeBool, x, numToBool[float64])
	case kusto.TypeString:
		return convNode(kusto.TypeBool, x, func(s string) (bool, bool) {
			switch strings.ToLower(strings.TrimSpace(s)) {
			case "true", "1":
				return true, true
			case "false", "0":
				return false, true
			}
			return false, false
		})
	}
	return nil
}

// longOf converts to a long where the type allows it: numbers (reals in range, truncated),
// bools, strings that parse, and datetimes and timespans as their ticks.
func longOf(x *compiled) *compiled {
	l := kusto.TypeLong
	switch x.typ {
	case kusto.TypeBool:
		return convNode(l, x, func(v bool) (int64, bool) {
			if v {
				return 1, true
			}
			return 0, true
		})
	case kusto.TypeInt:
		return castNumeric(x, l)
	case kusto.TypeLong:
		return x
	case kusto.TypeReal:
		return convNode(l, x, realToLong)
	case kusto.TypeString:
		return convNode(l, x, stringToLong)
	case kusto.TypeDateTime:
		return convNode(l, x, func(v kusto.DateTime) (int64, bool) { return int64(v), true })
	case kusto.TypeTimespan:
		return convNode(l, x, func(v kusto.Timespan) (int64, bool) { return int64(v), true })
	}
	return nil
}

func realToLong(v float64) (int64, bool) {
	if math.IsNaN(v) || v >= math.MaxInt64 || v < math.MinInt64 {
		return 0, false
	}
	return int64(v), true
}

func stringToLong(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return realToLong(f)
}

func convertToLong(x *compiled) *compiled { return longOf(x) }

func convertToInt(x *compiled) *compiled {
	l := longOf(x)
	if l == nil {
		return nil
	}
	return convNode(kusto.TypeInt, l, func(n int64) (int32, bool) {
		return int32(n), n >= math.MinInt32 && n <= math.MaxInt32
	})
}

func convertToReal(x *compiled) *compiled {
	r := kusto.TypeReal
	switch x.typ {
	case kusto.TypeBool:
		return convNode(r, x, func(v bool) (float64, bool) {
			if v {
				return 1, true
			}
			return 0, true
		})
	case kusto.TypeInt, kusto.TypeLong:
		return castNumeric(x, r)
	case kusto.TypeString:
		return convNode(r, x, parser0(func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }))
	}
	return nil
}

// convertValue converts one boxed value, a dynamic's; nil when it cannot.
func convertValue(v any, to kusto.Type) any {
	if v == nil {
		return nil
	}
	switch to {
	case kusto.TypeDynamic:
		if s, ok := v.(string); ok {
			if strings.TrimSpace(s) == "" {
				return nil // parse_json('') is null, as the gettype page's example shows
			}
			d, err := kusto.ParseDynamic(s)
			if err != nil {
				return s // Kusto keeps a string that is not JSON as a dynamic string
			}
			return d
		}
		return dynamicOf(v)
	case kusto.TypeBool:
		switch v := v.(type) {
		case bool:
			return v
		case int32:
			return v != 0
		case int64:
			return v != 0
		case float64:
			return v != 0
		case string:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true", "1":
				return true
			case "false", "0":
				return false
			}
		}
	case kusto.TypeInt, kusto.TypeLong:
		n, ok := toInt64(v)
		if !ok {
			return nil
		}
		if to == kusto.TypeInt {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil
			}
			return int32(n)
		}
		return n
	case kusto.TypeReal:
		switch v := v.(type) {
		case bool:
			if v {
				return 1.0
			}
			return 0.0
		case int32:
			return float64(v)
		case int64:
			return float64(v)
		case float64:
			return v
		case string:
			return parsedOrNull(v, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
		}
	case kusto.TypeDateTime:
		switch v := v.(type) {
		case kusto.DateTime:
			return v
		case string:
			return parsedOrNull(v, kusto.ParseDateTime)
		}
	case kusto.TypeTimespan:
		switch v := v.(type) {
		case kusto.Timespan:
			return v
		case int64:
			return kusto.Timespan(v)
		case string:
			return parsedOrNull(v, kusto.ParseTimespan)
		}
	case kusto.TypeGUID:
		switch v := v.(type) {
		case uuid.UUID:
			return v
		case string:
			return parsedOrNull(v, kusto.ParseGUID)
		}
	}
	return nil
}

// parsedOrNull converts a string as Kusto's to… functions do: one that does not parse is null.
func parsedOrNull[T any](s string, parse func(string) (T, error)) any {
	v, err := parse(strings.TrimSpace(s))
	if err != nil {
		return nil
	}
	return v
}

// toInt64 converts a boxed value to a long, as tolong() does.
func toInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return realToLong(v)
	case string:
		return stringToLong(v)
	case kusto.DateTime:
		return int64(v), true
	case kusto.Timespan:
		return int64(v), true
	}
	return 0, false
}

func buildNewGuid(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	ids := sc.c.sess.eng.ops.IDs()
	return &compiled{typ: kusto.TypeGUID, run: func(st *evalState, b *Batch, own bool) Column {
		out := scratch[uuid.UUID](st, kusto.TypeGUID, b.Len, own)
		for i := range out.Data {
			out.Data[i] = ids.NewID()
		}
		return out
	}}, nil
}
