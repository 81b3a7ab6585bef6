package engine

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// function is a scalar function: how many arguments it takes and how to compile a call.
type function struct {
	signature string // for error messages and help
	min, max  int
	build     func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error)
}

var functions map[string]*function

func init() {
	conv := func(to kusto.Type) func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
			return convert(args[0], to), nil
		}
	}
	functions = map[string]*function{
		"strlen":     {"strlen(string)", 1, 1, buildStrlen},
		"strcat":     {"strcat(arg1, arg2, …)", 1, 64, buildStrcat},
		"toupper":    {"toupper(string)", 1, 1, stringMapper(strings.ToUpper)},
		"tolower":    {"tolower(string)", 1, 1, stringMapper(strings.ToLower)},
		"substring":  {"substring(string, start[, length])", 2, 3, buildSubstring},
		"tostring":   {"tostring(value)", 1, 1, conv(kusto.TypeString)},
		"toint":      {"toint(value)", 1, 1, conv(kusto.TypeInt)},
		"tolong":     {"tolong(value)", 1, 1, conv(kusto.TypeLong)},
		"toreal":     {"toreal(value)", 1, 1, conv(kusto.TypeReal)},
		"todouble":   {"todouble(value)", 1, 1, conv(kusto.TypeReal)},
		"tobool":     {"tobool(value)", 1, 1, conv(kusto.TypeBool)},
		"toboolean":  {"toboolean(value)", 1, 1, conv(kusto.TypeBool)},
		"todatetime": {"todatetime(value)", 1, 1, conv(kusto.TypeDateTime)},
		"totimespan": {"totimespan(value)", 1, 1, conv(kusto.TypeTimespan)},
		"toguid":     {"toguid(value)", 1, 1, conv(kusto.TypeGUID)},
		"todynamic":  {"todynamic(value)", 1, 1, conv(kusto.TypeDynamic)},
		"parse_json": {"parse_json(string)", 1, 1, conv(kusto.TypeDynamic)},
		"isnull":     {"isnull(value)", 1, 1, nullTest(false)},
		"isnotnull":  {"isnotnull(value)", 1, 1, nullTest(true)},
		"isempty":    {"isempty(value)", 1, 1, emptyTest(false)},
		"isnotempty": {"isnotempty(value)", 1, 1, emptyTest(true)},
		"iff":        {"iff(condition, then, else)", 3, 3, buildIff},
		"iif":        {"iif(condition, then, else)", 3, 3, buildIff},
		"not":        {"not(bool)", 1, 1, buildNot},
		"abs":        {"abs(number)", 1, 1, buildAbs},
		"bin":        {"bin(value, roundTo)", 2, 2, buildBin},
		"floor":      {"floor(value, roundTo)", 2, 2, buildBin},
		"round":      {"round(number[, precision])", 1, 2, buildRound},
		"now":        {"now([offset])", 0, 1, buildNow},
		"ago":        {"ago(timespan)", 1, 1, buildAgo},
		"new_guid":   {"new_guid()", 0, 0, buildNewGuid},
		"coalesce":   {"coalesce(arg1, arg2, …)", 2, 64, buildCoalesce},
		"max_of":     {"max_of(arg1, arg2, …)", 2, 64, extremeOf(1)},
		"min_of":     {"min_of(arg1, arg2, …)", 2, 64, extremeOf(-1)},
	}
}

// FunctionNames lists the scalar functions Kustard implements, for help and completion.
func FunctionNames() []string {
	names := make([]string, 0, len(functions))
	for n := range functions {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// unsupportedFunctions are Kusto functions Kustard does not implement; a call names them
// rather than calling them unknown. Aggregations belong to summarize, which Kustard lacks.
var unsupportedFunctions = wordSet(`acos asin atan atan2 array_concat array_length array_slice
	array_sort_asc array_sort_desc array_index_of avg avgif bag_keys bag_merge base64_decode_tostring
	base64_encode_tostring bin_at case ceiling cos count countif countof datetime_add datetime_diff
	datetime_part dayofmonth dayofweek dayofyear dcount dcountif endofday endofmonth endofweek
	endofyear exp exp10 exp2 extract extract_all format_datetime format_timespan gettype hash
	hash_sha256 hourofday indexof isnan isinf log log10 log2 make_bag make_list make_set max
	maxif min minif monthofyear pack pack_array parse_url percentile percentiles pow rand
	replace_string reverse sign sin split sqrt startofday startofmonth startofweek startofyear
	stdev strcat_delim strcmp string_size strrep sum sumif take_any tan tohex trim trim_end
	trim_start unixtime_milliseconds_todatetime unixtime_seconds_todatetime url_decode url_encode
	variance week_of_year zip`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func (sc *scope) call(e *parser.CallExpr) (*compiled, error) {
	f, ok := functions[e.Func]
	if !ok {
		if unsupportedFunctions[e.Func] {
			return nil, sc.c.errorf(e.At, kusto.KindSemantic, "unsupported function %q", e.Func)
		}
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "unknown function %q", e.Func)
	}
	if len(e.Args) < f.min || len(e.Args) > f.max {
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%s takes %s, not %d", f.signature, argCount(f.min, f.max), len(e.Args))
	}
	args := make([]*compiled, len(e.Args))
	for i, a := range e.Args {
		c, err := sc.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = c
	}
	out, err := f.build(sc, e, args)
	if err != nil {
		return nil, err
	}
	if e.Func == "new_guid" {
		return out, nil // a new value every row
	}
	return fold(out, args...), nil
}

func argCount(lo, hi int) string {
	switch {
	case lo == hi && lo == 1:
		return "1 argument"
	case lo == hi:
		return strconv.Itoa(lo) + " arguments"
	case hi >= 64:
		return "at least " + strconv.Itoa(lo) + " arguments"
	default:
		return strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + " arguments"
	}
}

func argError(sc *scope, call *parser.CallExpr, i int, want string, got kusto.Type) error {
	return sc.c.errorf(call.Args[i].Offset(), kusto.KindSemantic, "%s: argument %d must be %s, not %s", call.Func, i+1, want, got)
}

func unary(arg *compiled, typ kusto.Type, f func(Column) Column) *compiled {
	return &compiled{typ: typ, eval: func(b *Batch) Column { return f(arg.eval(b)) }}
}

func buildStrlen(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	s := asString(args[0])
	return unary(s, kusto.TypeLong, func(c Column) Column {
		return mapCol(kusto.TypeLong, c, func(v string) (int64, bool) { return int64(utf8.RuneCountInString(v)), true })
	}), nil
}

func stringMapper(f func(string) string) func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unary(asString(args[0]), kusto.TypeString, func(c Column) Column {
			return mapCol(kusto.TypeString, c, func(v string) (string, bool) { return f(v), true })
		}), nil
	}
}

func buildStrcat(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	parts := make([]*compiled, len(args))
	for i, a := range args {
		parts[i] = asString(a)
	}
	return &compiled{typ: kusto.TypeString, eval: func(b *Batch) Column {
		out := make([]string, b.Len)
		for _, p := range parts {
			col := p.eval(b).(*Vector[string])
			for i, v := range col.Data {
				out[i] += v
			}
		}
		return &Vector[string]{typ: kusto.TypeString, Data: out}
	}}, nil
}

func buildSubstring(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	for i := 1; i < len(args); i++ {
		if !isNumeric(args[i].typ) || args[i].typ == kusto.TypeReal {
			return nil, argError(sc, call, i, "an int or a long", args[i].typ)
		}
		args[i] = castNumeric(args[i], kusto.TypeLong)
	}
	s := asString(args[0])
	return &compiled{typ: kusto.TypeString, eval: func(b *Batch) Column {
		text := s.eval(b).(*Vector[string])
		start := args[1].eval(b).(*Vector[int64])
		var length *Vector[int64]
		if len(args) == 3 {
			length = args[2].eval(b).(*Vector[int64])
		}
		out := make([]string, b.Len)
		for i := range out {
			runes := []rune(text.Data[i])
			lo := int(max(0, min(start.Data[i], int64(len(runes)))))
			hi := len(runes)
			if length != nil && !length.IsNull(i) {
				hi = int(max(int64(lo), min(int64(lo)+length.Data[i], int64(len(runes)))))
			}
			if !start.IsNull(i) {
				out[i] = string(runes[lo:hi])
			}
		}
		return &Vector[string]{typ: kusto.TypeString, Data: out}
	}}, nil
}

// convert returns arg converted to type to, as the to*() functions do: a value that does not
// convert becomes null.
func convert(arg *compiled, to kusto.Type) *compiled {
	if arg.typ == to && to != kusto.TypeDynamic {
		return arg
	}
	if to == kusto.TypeString {
		return asString(arg)
	}
	return unary(arg, to, func(c Column) Column {
		b := builderFor(newColumn(to, c.Len()))
		for i := range c.Len() {
			b.appendValue(convertValue(c.Value(i), to))
		}
		return b.column()
	})
}

// convertValue converts one value; nil when it cannot.
func convertValue(v any, to kusto.Type) any {
	if v == nil {
		return nil
	}
	switch to {
	case kusto.TypeDynamic:
		if s, ok := v.(string); ok {
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
		if math.IsNaN(v) || v >= math.MaxInt64 || v < math.MinInt64 {
			return 0, false
		}
		return int64(v), true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if ferr != nil {
				return 0, false
			}
			return toInt64(f)
		}
		return n, true
	case kusto.DateTime:
		return int64(v), true
	case kusto.Timespan:
		return int64(v), true
	}
	return 0, false
}

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

func nullTest(wantNotNull bool) func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unary(args[0], kusto.TypeBool, func(c Column) Column {
			out := make([]bool, c.Len())
			for i := range out {
				out[i] = c.IsNull(i) != wantNotNull
			}
			return &Vector[bool]{typ: kusto.TypeBool, Data: out}
		}), nil
	}
}

func emptyTest(wantNotEmpty bool) func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unary(args[0], kusto.TypeBool, func(c Column) Column {
			out := make([]bool, c.Len())
			for i := range out {
				v := c.Value(i)
				out[i] = (v == nil || v == "") != wantNotEmpty
			}
			return &Vector[bool]{typ: kusto.TypeBool, Data: out}
		}), nil
	}
}

func buildNot(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if args[0].typ != kusto.TypeBool {
		return nil, argError(sc, call, 0, "a bool", args[0].typ)
	}
	return unary(args[0], kusto.TypeBool, func(c Column) Column {
		return mapCol(kusto.TypeBool, c, func(v bool) (bool, bool) { return !v, true })
	}), nil
}

// unify brings the branches of iff, coalesce and the like to one type.
func unify(sc *scope, call *parser.CallExpr, args []*compiled, first int) (kusto.Type, error) {
	t := args[first].typ
	for i := first + 1; i < len(args); i++ {
		switch a := args[i].typ; {
		case a == t:
		case isNumeric(a) && isNumeric(t):
			t = promote(a, t)
		default:
			return 0, argError(sc, call, i, "a "+t.String(), a)
		}
	}
	for i := first; i < len(args); i++ {
		if isNumeric(t) {
			args[i] = castNumeric(args[i], t)
		}
	}
	return t, nil
}

func buildIff(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if args[0].typ != kusto.TypeBool {
		return nil, argError(sc, call, 0, "a bool", args[0].typ)
	}
	t, err := unify(sc, call, args, 1)
	if err != nil {
		return nil, err
	}
	return &compiled{typ: t, eval: func(b *Batch) Column {
		cond := args[0].eval(b).(*Vector[bool])
		then, other := args[1].eval(b), args[2].eval(b)
		out := builderFor(newColumn(t, b.Len))
		for i := range b.Len {
			if cond.Data[i] && !cond.IsNull(i) {
				out.appendValue(then.Value(i))
			} else {
				out.appendValue(other.Value(i))
			}
		}
		return out.column()
	}}, nil
}

func buildCoalesce(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	t, err := unify(sc, call, args, 0)
	if err != nil {
		return nil, err
	}
	return &compiled{typ: t, eval: func(b *Batch) Column {
		cols := make([]Column, len(args))
		for i, a := range args {
			cols[i] = a.eval(b)
		}
		out := builderFor(newColumn(t, b.Len))
		for i := range b.Len {
			var v any
			for _, c := range cols {
				if v = c.Value(i); v != nil && v != "" {
					break
				}
			}
			out.appendValue(v)
		}
		return out.column()
	}}, nil
}

func extremeOf(sign int) func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		t, err := unify(sc, call, args, 0)
		if err != nil {
			return nil, err
		}
		if compareColumns(t, "<") == nil {
			return nil, argError(sc, call, 0, "an orderable value", t)
		}
		return &compiled{typ: t, eval: func(b *Batch) Column {
			cols := make([]Column, len(args))
			for i, a := range args {
				cols[i] = a.eval(b)
			}
			out := builderFor(newColumn(t, b.Len))
			for i := range b.Len {
				var best any // nulls are ignored, as in Kusto
				for _, c := range cols {
					if v := c.Value(i); v != nil && (best == nil || compareValues(v, best)*sign > 0) {
						best = v
					}
				}
				out.appendValue(best)
			}
			return out.column()
		}}, nil
	}
}

// compareValues orders two non-null values of the same orderable type.
func compareValues(a, b any) int {
	switch a := a.(type) {
	case int32:
		return cmp.Compare(a, b.(int32))
	case int64:
		return cmp.Compare(a, b.(int64))
	case float64:
		return cmp.Compare(a, b.(float64))
	case string:
		return cmp.Compare(a, b.(string))
	case kusto.DateTime:
		return cmp.Compare(a, b.(kusto.DateTime))
	case kusto.Timespan:
		return cmp.Compare(a, b.(kusto.Timespan))
	}
	return 0
}

func buildAbs(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	a := args[0]
	switch a.typ {
	case kusto.TypeInt:
		return unary(a, a.typ, func(c Column) Column {
			return mapCol(a.typ, c, func(v int32) (int32, bool) { return max(v, -v), true })
		}), nil
	case kusto.TypeLong:
		return unary(a, a.typ, func(c Column) Column {
			return mapCol(a.typ, c, func(v int64) (int64, bool) { return max(v, -v), true })
		}), nil
	case kusto.TypeReal:
		return unary(a, a.typ, func(c Column) Column {
			return mapCol(a.typ, c, func(v float64) (float64, bool) { return math.Abs(v), true })
		}), nil
	case kusto.TypeTimespan:
		return unary(a, a.typ, func(c Column) Column {
			return mapCol(a.typ, c, func(v kusto.Timespan) (kusto.Timespan, bool) { return max(v, -v), true })
		}), nil
	}
	return nil, argError(sc, call, 0, "a number or a timespan", a.typ)
}

// buildBin rounds down to a multiple of roundTo: numbers by numbers, datetimes and timespans by
// timespans.
func buildBin(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	v, size := args[0], args[1]
	switch {
	case isNumeric(v.typ) && isNumeric(size.typ):
		t := promote(v.typ, size.typ)
		if t == kusto.TypeInt {
			t = kusto.TypeLong
		}
		v, size = castNumeric(v, t), castNumeric(size, t)
		if t == kusto.TypeLong {
			return binaryEval(v, size, t, func(a, b Column) Column {
				return zip(t, a, b, func(x, s int64) (int64, bool) { return floorTo(x, s) })
			}), nil
		}
		return binaryEval(v, size, t, func(a, b Column) Column {
			return zip(t, a, b, func(x, s float64) (float64, bool) { return math.Floor(x/s) * s, s > 0 })
		}), nil
	case v.typ == kusto.TypeDateTime && size.typ == kusto.TypeTimespan:
		return binaryEval(v, size, v.typ, func(a, b Column) Column {
			return zip(v.typ, a, b, func(x kusto.DateTime, s kusto.Timespan) (kusto.DateTime, bool) {
				r, ok := floorTo(int64(x), int64(s))
				return kusto.DateTime(r), ok
			})
		}), nil
	case v.typ == kusto.TypeTimespan && size.typ == kusto.TypeTimespan:
		return binaryEval(v, size, v.typ, func(a, b Column) Column {
			return zip(v.typ, a, b, func(x, s kusto.Timespan) (kusto.Timespan, bool) {
				r, ok := floorTo(int64(x), int64(s))
				return kusto.Timespan(r), ok
			})
		}), nil
	}
	return nil, sc.c.errorf(call.At, kusto.KindSemantic, "%s cannot round a %s to a %s", call.Func, v.typ, size.typ)
}

func floorTo(x, s int64) (int64, bool) {
	if s <= 0 {
		return 0, false
	}
	r := x / s * s
	if x < 0 && r != x {
		r -= s
	}
	return r, true
}

func buildRound(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if !isNumeric(args[0].typ) {
		return nil, argError(sc, call, 0, "a number", args[0].typ)
	}
	x := castNumeric(args[0], kusto.TypeReal)
	precision := constant(kusto.TypeLong, int64(0))
	if len(args) == 2 {
		if !isNumeric(args[1].typ) || args[1].typ == kusto.TypeReal {
			return nil, argError(sc, call, 1, "an int or a long", args[1].typ)
		}
		precision = castNumeric(args[1], kusto.TypeLong)
	}
	return binaryEval(x, precision, kusto.TypeReal, func(a, b Column) Column {
		return zip(kusto.TypeReal, a, b, func(v float64, p int64) (float64, bool) {
			scale := math.Pow(10, float64(p))
			return math.Round(v*scale) / scale, true
		})
	}), nil
}

func buildNow(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	now := sc.c.now
	if len(args) == 0 {
		return constant(kusto.TypeDateTime, now), nil
	}
	if args[0].typ != kusto.TypeTimespan {
		return nil, argError(sc, call, 0, "a timespan", args[0].typ)
	}
	return unary(args[0], kusto.TypeDateTime, func(c Column) Column {
		return mapCol(kusto.TypeDateTime, c, func(t kusto.Timespan) (kusto.DateTime, bool) {
			r := now + kusto.DateTime(t)
			return r, r.Valid()
		})
	}), nil
}

func buildAgo(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if args[0].typ != kusto.TypeTimespan {
		return nil, argError(sc, call, 0, "a timespan", args[0].typ)
	}
	now := sc.c.now
	return unary(args[0], kusto.TypeDateTime, func(c Column) Column {
		return mapCol(kusto.TypeDateTime, c, func(t kusto.Timespan) (kusto.DateTime, bool) {
			r := now - kusto.DateTime(t)
			return r, r.Valid()
		})
	}), nil
}

func buildNewGuid(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	ids := sc.c.sess.eng.ops.IDs()
	return &compiled{typ: kusto.TypeGUID, eval: func(b *Batch) Column {
		out := make([]uuid.UUID, b.Len)
		for i := range out {
			out[i] = ids.NewID()
		}
		return &Vector[uuid.UUID]{typ: kusto.TypeGUID, Data: out}
	}}, nil
}
