package engine

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"slices"
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
		&function{name: "strcat_delim", usage: "strcat_delim(delimiter, arg1, arg2, …)", summary: "Joins its arguments after the first, each converted to a string, with the first between them.",
			overload: []overload{{params: []typeSet{tString, tString}, variadic: true, result: returns(kusto.TypeString), build: buildStrcatDelim}}},
		&function{name: "strcat_array", usage: "strcat_array(array, delimiter)", summary: "Joins the elements of a dynamic array, each converted to a string, with delimiter between them.",
			overload: []overload{{params: []typeSet{exactly(kusto.TypeDynamic), tString}, result: returns(kusto.TypeString), build: buildStrcatArray}}},
		&function{name: "replace_string", usage: "replace_string(text, lookup, rewrite)", summary: "text with every occurrence of lookup replaced by rewrite.",
			overload: []overload{{params: []typeSet{tString, tString, tString}, result: returns(kusto.TypeString), build: buildReplaceString}}},
		&function{name: "reverse", usage: "reverse(value)", summary: "A string (or a value converted to one) with its characters in reverse order.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(reverseString)}}},
		&function{name: "indexof", usage: "indexof(string, match[, start[, length[, occurrence]]])",
			summary: "The index (in characters) of the occurrence-th match in string, searching from start (from the end if negative) over length+1 characters (-1 for all); -1 if not found.",
			overload: []overload{
				{params: []typeSet{tString, tString}, result: returns(kusto.TypeLong), build: buildIndexof},
				{params: []typeSet{tString, tString, tLong}, result: returns(kusto.TypeLong), build: buildIndexof},
				{params: []typeSet{tString, tString, tLong, tLong}, result: returns(kusto.TypeLong), build: buildIndexof},
				{params: []typeSet{tString, tString, tLong, tLong, tLong}, result: returns(kusto.TypeLong), build: buildIndexof},
			}},
		&function{name: "countof", usage: "countof(source, search[, kind])", summary: "The occurrences of search in source: overlapping for kind normal (the default), not overlapping for kind regex.",
			overload: []overload{
				{params: []typeSet{tString, tString}, result: returns(kusto.TypeLong), build: buildCountof},
				{params: []typeSet{tString, tString, tString}, result: returns(kusto.TypeLong), build: buildCountof},
			}},
		&function{name: "url_encode", usage: "url_encode(url)", summary: "A URL percent-encoded as a form value: spaces become +, and bytes other than letters, digits and -_.!*() become %xx.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(urlEncode)}}},
		&function{name: "url_decode", usage: "url_decode(encoded_url)", summary: "A percent-encoded URL decoded (+ as a space); empty if it is not valid.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(urlDecode)}}},
		&function{name: "base64_encode_tostring", usage: "base64_encode_tostring(string)", summary: "A string's UTF-8 bytes in base64.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) })}}},
		&function{name: "base64_decode_tostring", usage: "base64_decode_tostring(base64_string)", summary: "A base64 string decoded to a UTF-8 string; null if it is not base64 of UTF-8.",
			overload: []overload{{params: []typeSet{tString}, result: returns(kusto.TypeString), build: stringMapper(base64Decode)}}},
		&function{name: "has_any_index", usage: "has_any_index(source, values)", summary: "The index of the first element of a dynamic array that source has as a term (as has does); -1 if none.",
			overload: []overload{{params: []typeSet{tString, exactly(kusto.TypeDynamic)}, result: returns(kusto.TypeLong), build: buildHasAnyIndex}}},
		&function{name: "gettype", usage: "gettype(value)", summary: "The name of a value's type; for a dynamic, of the value it holds (int, long, real, string, bool, array, dictionary or null).",
			overload: []overload{{params: []typeSet{tAny}, result: returns(kusto.TypeString), build: buildGettype}}},
	)
}

func reverseString(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

func buildStrcatDelim(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return &compiled{typ: kusto.TypeString, run: func(st *evalState, b *Batch, own bool) Column {
		out := scratch[string](st, kusto.TypeString, b.Len, own)
		delim := vectorOf[string](args[0].run(st, b, false)).Data
		parts := make([][]string, len(args)-1)
		for k, p := range args[1:] {
			parts[k] = vectorOf[string](p.run(st, b, false)).Data
		}
		var sb strings.Builder
		for i := range out.Data {
			sb.Reset()
			for k, p := range parts {
				if k > 0 {
					sb.WriteString(delim[i])
				}
				sb.WriteString(p[i])
			}
			out.Data[i] = sb.String()
		}
		return out
	}}, nil
}

func buildStrcatArray(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return map2Node(kusto.TypeString, args[0], args[1], func(v any, delim string) (string, bool) {
		a, _ := v.([]any)
		parts := make([]string, len(a))
		for i, x := range a {
			parts[i] = kusto.FormatValue(x)
		}
		return strings.Join(parts, delim), true
	}), nil
}

func buildReplaceString(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return map3Node(kusto.TypeString, args[0], args[1], args[2], func(text, lookup, rewrite string) (string, bool) {
		if lookup == "" { // Go would insert rewrite between every character
			return text, true
		}
		return strings.ReplaceAll(text, lookup, rewrite), true
	}), nil
}

// buildIndexof follows the page's examples, which examine length+1 characters from start:
// indexof("abcdefgabcdefg", "cde", 1, 10, 2) is 9. A length under -1 or an occurrence under 1
// is null.
func buildIndexof(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeLong, args, func(v []any) (int64, bool) {
		start, length, occurrence := int64(0), int64(-1), int64(1)
		for k, p := range []*int64{&start, &length, &occurrence} {
			if len(v) > k+2 {
				n, ok := v[k+2].(int64)
				if !ok {
					return 0, false
				}
				*p = n
			}
		}
		text, match := []rune(v[0].(string)), []rune(v[1].(string))
		if start < 0 {
			start = max(0, int64(len(text))+start)
		}
		if length < -1 || occurrence < 1 {
			return 0, false
		}
		if start > int64(len(text)) {
			return -1, true
		}
		end := int64(len(text))
		if length >= 0 {
			end = min(end, start+length+1)
		}
		window := text[start:end]
		for i := 0; i+len(match) <= len(window); i++ {
			if slices.Equal(window[i:i+len(match)], match) {
				if occurrence--; occurrence == 0 {
					return start + int64(i), true
				}
			}
		}
		return -1, true
	}), nil
}

func buildCountof(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	kind := constant(kusto.TypeString, "normal")
	if len(args) == 3 {
		kind = args[2]
		if k, ok := constString(kind); ok && k != "normal" && k != "regex" {
			return nil, sc.c.errorf(call.Args[2].Offset(), kusto.KindSemantic, "countof: kind must be \"normal\" or \"regex\", not %q", k)
		}
	}
	res, err := newRegexCache(sc, call, 1, args)
	if err != nil && kind.isConst() && constValueString(kind) == "regex" {
		return nil, err
	}
	if err != nil {
		res = &regexCache{}
	}
	return map3Node(kusto.TypeLong, args[0], args[1], kind, func(s, search, kind string) (int64, bool) {
		switch kind {
		case "normal":
			if search == "" {
				return 0, true
			}
			n := int64(0)
			for i := 0; i+len(search) <= len(s); i++ { // a match of valid UTF-8 starts on a character
				if strings.HasPrefix(s[i:], search) {
					n++
				}
			}
			return n, true
		case "regex":
			re := res.get(search)
			if re == nil {
				return 0, false
			}
			return int64(len(re.FindAllStringIndex(s, -1))), true
		}
		return 0, false
	}), nil
}

func constValueString(e *compiled) string {
	s, _ := constString(e)
	return s
}

func urlEncode(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!*()", c) >= 0:
			sb.WriteByte(c)
		case c == ' ':
			sb.WriteByte('+')
		default:
			fmt.Fprintf(&sb, "%%%02x", c) // lower-case hex, as the page's example shows
		}
	}
	return sb.String()
}

func urlDecode(s string) string {
	d, err := url.QueryUnescape(s)
	if err != nil {
		return ""
	}
	return d
}

func base64Decode(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return ""
		}
	}
	if !utf8.Valid(b) {
		return ""
	}
	return string(b)
}

func buildHasAnyIndex(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return map2Node(kusto.TypeLong, args[0], args[1], func(s string, v any) (int64, bool) {
		a, _ := v.([]any)
		for i, x := range a {
			if x != nil && hasTerm(s, kusto.FormatValue(x), true, true, true) {
				return int64(i), true
			}
		}
		return -1, true
	}), nil
}

// dynamicTypeName is what gettype() says of a value a dynamic holds: a whole number is an int
// when it fits one, as parse_json('1') is in the docs' examples.
func dynamicTypeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int64:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return "int"
		}
		return "long"
	case float64:
		return "real"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "dictionary"
	}
	return "null"
}

func buildGettype(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if args[0].typ != kusto.TypeDynamic {
		return constant(kusto.TypeString, args[0].typ.String()), nil
	}
	return &compiled{typ: kusto.TypeString, run: func(st *evalState, b *Batch, own bool) Column {
		v := vectorOf[any](args[0].run(st, b, false))
		out := scratch[string](st, kusto.TypeString, b.Len, own)
		for i, x := range v.Data {
			if v.IsNull(i) {
				x = nil
			}
			out.Data[i] = dynamicTypeName(x)
		}
		return out
	}}, nil
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
