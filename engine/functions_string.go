package engine

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// String functions. Their string arguments take any value, converted as tostring() does.

func init() {
	declare(
		&function{name: "strlen", usage: "strlen(string)", summary: "The number of characters (Unicode code points) in a string.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeLong), build: buildStrlen}}},
		&function{name: "strcat", usage: "strcat(arg1, arg2, …)", summary: "Joins its arguments, each converted to a string.",
			overload: []overload{{params: []typeSet{tString}, variadic: true, result: returns(kusto.TypeString), build: buildStrcat}}},
		&function{name: "toupper", usage: "toupper(string)", summary: "A string in upper case.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(strings.ToUpper)}}},
		&function{name: "tolower", usage: "tolower(string)", summary: "A string in lower case.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(strings.ToLower)}}},
		&function{name: "substring", usage: "substring(string, start[, length])",
			summary: "The characters of a string from start (counting from 0; a negative start counts from the end), to the end or for length characters.",
			overload: []overload{
				{params: []typeSet{tString, tLong}, result: returns(kusto.TypeString), build: buildSubstring},
				{params: []typeSet{tString, tLong, tLong}, result: returns(kusto.TypeString), build: buildSubstring},
			}},
	)
}

func buildStrlen(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return unaryNode(kusto.TypeLong, args[0], func(d []int64, a []string) {
		d = d[:len(a)]
		for i, s := range a {
			d[i] = int64(utf8.RuneCountInString(s))
		}
	}), nil
}

func stringMapper(f func(string) string) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unaryNode(kusto.TypeString, args[0], func(d, a []string) {
			d = d[:len(a)]
			for i, s := range a {
				d[i] = f(s)
			}
		}), nil
	}
}

func buildStrcat(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return &compiled{typ: kusto.TypeString, run: func(st *evalState, b *Batch, own bool) Column {
		out := scratch[string](st, kusto.TypeString, b.Len, own)
		parts := make([][]string, len(args))
		for k, p := range args {
			parts[k] = vectorOf[string](p.run(st, b, false)).Data
		}
		var sb strings.Builder
		for i := range out.Data {
			sb.Reset()
			for _, p := range parts {
				sb.WriteString(p[i])
			}
			out.Data[i] = sb.String()
		}
		return out
	}}, nil
}

func buildSubstring(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return &compiled{typ: kusto.TypeString, run: func(st *evalState, b *Batch, own bool) Column {
		out := scratch[string](st, kusto.TypeString, b.Len, own)
		text := vectorOf[string](args[0].run(st, b, false))
		start := vectorOf[int64](args[1].run(st, b, false))
		var length *Vector[int64]
		if len(args) == 3 {
			length = vectorOf[int64](args[2].run(st, b, false))
		}
		for i := range out.Data {
			out.Data[i] = ""
			if start.IsNull(i) {
				continue
			}
			runes := []rune(text.Data[i])
			from := start.Data[i]
			if from < 0 {
				// A negative start counts from the end, as the docs say: substring("123456", -2) is "56".
				from = max(0, int64(len(runes))+from)
			}
			lo := int(min(from, int64(len(runes))))
			hi := len(runes)
			if length != nil && !length.IsNull(i) {
				// Compared rather than added, so that a huge length cannot wrap.
				hi = lo + int(max(0, min(length.Data[i], int64(len(runes)-lo))))
			}
			out.Data[i] = string(runes[lo:hi])
		}
		return out
	}}, nil
}

// asString converts an expression to string, as tostring() does and as Kusto does for the
// operands of string operators: a null becomes the empty string.
func asString(e *compiled) *compiled {
	var out *compiled
	switch e.typ {
	case kusto.TypeString:
		return e
	case kusto.TypeBool:
		out = formatNode(e, func(d []string, a []bool) {
			for i, v := range a {
				d[i] = strconv.FormatBool(v)
			}
		})
	case kusto.TypeInt:
		out = formatNode(e, func(d []string, a []int32) {
			for i, v := range a {
				d[i] = strconv.FormatInt(int64(v), 10)
			}
		})
	case kusto.TypeLong:
		out = formatNode(e, func(d []string, a []int64) {
			for i, v := range a {
				d[i] = strconv.FormatInt(v, 10)
			}
		})
	case kusto.TypeReal:
		out = formatNode(e, func(d []string, a []float64) {
			for i, v := range a {
				d[i] = kusto.FormatReal(v)
			}
		})
	case kusto.TypeDateTime:
		out = formatNode(e, stringers[kusto.DateTime])
	case kusto.TypeTimespan:
		out = formatNode(e, stringers[kusto.Timespan])
	case kusto.TypeGUID:
		out = formatNode(e, stringers[uuid.UUID])
	default:
		out = unaryNode(kusto.TypeString, e, func(d []string, a []any) {
			for i, v := range a {
				d[i] = kusto.FormatValue(v)
			}
		})
	}
	return fold(out, e)
}

func stringers[T fmt.Stringer](d []string, a []T) {
	for i, v := range a {
		d[i] = v.String()
	}
}

// formatNode formats each non-null element; a null is the empty string.
func formatNode[A any](e *compiled, loop func(d []string, a []A)) *compiled {
	return unaryNode(kusto.TypeString, e, func(d []string, a []A) { loop(d[:len(a)], a) })
}
