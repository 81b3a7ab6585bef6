package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The function registry. Each scalar function is one declaration (name, evaluation class,
// summary and overloads), and the checker, the error messages and the help all read it: a call
// picks the cheapest overload its arguments convert to, by the implicit conversions below, and
// the overload's build gets its arguments already converted. The families are declared in
// functions_string.go, functions_math.go, functions_datetime.go, functions_conversion.go,
// functions_dynamic.go and functions_conditional.go.

// class is when a function's value may change, which decides whether a call is folded.
type class uint8

const (
	pure     class = iota // the same arguments give the same value: folded when constant
	perQuery              // fixed once per query, as now() is: folded too
	perRow                // a new value every row, as new_guid() gives: never folded
	window                // reads the rows around the row in a serialized row set (window.go)
)

func (c class) String() string {
	return [...]string{"pure", "per query", "per row", "window"}[c]
}

// typeSet is what a parameter accepts.
type typeSet struct {
	name  string       // in signatures: long, number, scalar, T
	desc  string       // in messages: "an int or a long"
	types []kusto.Type // what it accepts, each by the implicit conversions; nil for any type
	to    kusto.Type   // what an argument is converted to; TypeUnknown to keep its type
	// typeVar marks the parameters that share one type T, the widest of their arguments'
	// (iff's branches); types, if set, constrains T.
	typeVar bool
}

var (
	tString   = typeSet{name: "string", desc: "a string", types: []kusto.Type{kusto.TypeString}, to: kusto.TypeString}
	tLong     = typeSet{name: "long", desc: "an int or a long", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong}, to: kusto.TypeLong}
	tReal     = typeSet{name: "real", desc: "a number", types: []kusto.Type{kusto.TypeReal}, to: kusto.TypeReal}
	tBool     = typeSet{name: "bool", desc: "a bool", types: []kusto.Type{kusto.TypeBool}, to: kusto.TypeBool}
	tTimespan = typeSet{name: "timespan", desc: "a timespan", types: []kusto.Type{kusto.TypeTimespan}}
	tDateTime = typeSet{name: "datetime", desc: "a datetime", types: []kusto.Type{kusto.TypeDateTime}}
	tAny      = typeSet{name: "scalar", desc: "a value"}
	tT        = typeSet{name: "T", typeVar: true}
	tOrdered  = typeSet{name: "T", desc: "an orderable value", typeVar: true, types: []kusto.Type{
		kusto.TypeInt, kusto.TypeLong, kusto.TypeReal, kusto.TypeString, kusto.TypeDateTime, kusto.TypeTimespan}}
)

// exactly returns the set of one type, kept as it is.
func exactly(t kusto.Type) typeSet {
	return typeSet{name: t.String(), desc: article(t), types: []kusto.Type{t}, to: t}
}

// article is a type's name with its indefinite article: "an int", "a long".
func article(t kusto.Type) string {
	if strings.ContainsRune("aeiou", rune(t.String()[0])) {
		return "an " + t.String()
	}
	return "a " + t.String()
}

// implicitConversions is the one table of conversions Kustard makes without being asked, with
// their costs: numbers widen (int → long → real), and anything converts to a string where a
// string is expected (the operands of string operators, a string function's arguments), as Kusto
// does. Overload resolution picks the overload of least total cost.
var implicitConversions = map[[2]kusto.Type]int{
	{kusto.TypeInt, kusto.TypeLong}:  1,
	{kusto.TypeInt, kusto.TypeReal}:  2,
	{kusto.TypeLong, kusto.TypeReal}: 1,
}

// dynamicBoolCost is the cost of reading a dynamic value as a bool (asBool).
const dynamicBoolCost = 10

// toStringCost is the cost of converting a value of another type to a string.
const toStringCost = 10

// conversionCost returns what converting from to to costs, and whether it is allowed.
func conversionCost(from, to kusto.Type) (int, bool) {
	if from == to {
		return 0, true
	}
	if to == kusto.TypeString {
		return toStringCost, true
	}
	if from == kusto.TypeDynamic && to == kusto.TypeBool {
		return dynamicBoolCost, true // a dynamic predicate, iff(d.flag, …), as Kusto reads it
	}
	c, ok := implicitConversions[[2]kusto.Type{from, to}]
	return c, ok
}

// unifyTypes returns the type two types meet at by widening, as the operands of a comparison
// and the branches of iff do.
func unifyTypes(a, b kusto.Type) (kusto.Type, bool) {
	switch {
	case a == b:
		return a, true
	case a != kusto.TypeString && b != kusto.TypeString:
		if _, ok := implicitConversions[[2]kusto.Type{a, b}]; ok {
			return b, true
		}
		if _, ok := implicitConversions[[2]kusto.Type{b, a}]; ok {
			return a, true
		}
	}
	return 0, false
}

// implicit converts e to type t, which conversionCost allows.
func implicit(e *compiled, t kusto.Type) *compiled {
	switch {
	case e.typ == t:
		return e
	case t == kusto.TypeString:
		return asString(e)
	case e.typ == kusto.TypeDynamic && t == kusto.TypeBool:
		return asBool(e)
	}
	return castNumeric(e, t)
}

// accepts returns the cost of passing an argument of type t for s, and whether s takes it.
func (s typeSet) accepts(t kusto.Type) (int, bool) {
	if s.types == nil {
		return 0, true
	}
	best, ok := 0, false
	for _, want := range s.types {
		if c, can := conversionCost(t, want); can && (!ok || c < best) {
			best, ok = c, true
		}
	}
	return best, ok
}

// result is an overload's result type: fixed, or T.
type result struct {
	name string
	typ  kusto.Type // TypeUnknown for T, or a type the build decides (abs of a number)
}

func returns(t kusto.Type) result { return result{t.String(), t} }

var (
	returnsT    = result{name: "T"}
	returnsSame = result{name: "same as the argument"}
)

type buildFunc func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error)

// overload is one way to call a function: its parameters (the last repeating if variadic), its
// result and the build that compiles a call, given arguments already converted.
type overload struct {
	params   []typeSet
	variadic bool
	result   result
	build    buildFunc
}

// function is a scalar function's declaration.
type function struct {
	name     string
	usage    string // in arity errors: substring(string, start[, length])
	summary  string
	class    class
	overload []overload
	// mismatch, if set, words the error for arguments no overload takes.
	mismatch func(sc *scope, call *parser.CallExpr, args []*compiled) error
	min, max int // arity, from the overloads; max is maxArgs for a variadic function
}

// maxArgs is the most arguments a variadic function takes, as in Kusto.
const maxArgs = 64

var functions = map[string]*function{}

// declare adds functions to the registry; it is called from the families' init functions.
func declare(fs ...*function) {
	for _, f := range fs {
		if _, dup := functions[f.name]; dup {
			panic("engine: function " + f.name + " declared twice")
		}
		f.min, f.max = maxArgs, 0
		for _, o := range f.overload {
			n := len(o.params)
			f.min, f.max = min(f.min, n), max(f.max, n)
			if o.variadic {
				f.max = maxArgs
			}
		}
		functions[f.name] = f
	}
}

// alias declares name as another name for f.
func alias(name string, f *function) *function {
	a := *f
	a.name = name
	a.usage = name + strings.TrimPrefix(f.usage, f.name)
	a.summary = "Another name for " + f.name + "(): " + f.summary
	return &a
}

// FunctionInfo describes a scalar function for help and docs.
type FunctionInfo struct {
	Name       string
	Usage      string   // substring(string, start[, length])
	Signatures []string // one per overload: substring(string, long, long) → string
	Class      string   // pure, per query or per row
	Summary    string
}

// Functions lists the scalar functions Kustard implements, sorted by name.
func Functions() []FunctionInfo {
	var out []FunctionInfo
	for _, f := range functions {
		info := FunctionInfo{Name: f.name, Usage: f.usage, Class: f.class.String(), Summary: f.summary}
		for _, o := range f.overload {
			info.Signatures = append(info.Signatures, o.signature(f.name))
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b FunctionInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (o overload) signature(name string) string {
	var params []string
	for _, p := range o.params {
		params = append(params, p.name)
	}
	if o.variadic {
		params = append(params, "…")
	}
	return name + "(" + strings.Join(params, ", ") + ") → " + o.result.name
}

// FunctionNames lists the scalar functions Kustard implements, for help and completion.
func FunctionNames() []string {
	var names []string
	for _, f := range Functions() {
		names = append(names, f.Name)
	}
	return names
}

// unsupportedFunctions are Kusto's functions that Kustard does not implement, so that a call
// names them as Kusto's rather than calling them unknown: the scalar functions of the docs' list
// (query/scalar-functions.md), the aggregation functions (query/aggregation-functions.md) that the
// aggregate registry does not implement (those it does are found there first), and a few the lists leave out (strcat_array, the
// deprecated aliases).
var unsupportedFunctions = wordSet(`
	acos array_iff array_iif array_reverse array_rotate_left array_rotate_right array_shift_left
	array_shift_right array_sort_asc array_sort_desc array_split array_sum asin assert atan atan2
	bag_has_key bag_pack_columns bag_remove_keys bag_set_key bag_zip base64_decode_toarray
	base64_decode_toguid base64_encode_fromarray base64_encode_fromguid beta_cdf beta_inv beta_pdf
	bin_auto binary_and binary_not binary_or binary_shift_left binary_shift_right binary_xor
	bitset_count_ones column_ifexists convert_angle convert_energy convert_force convert_length
	convert_mass convert_speed convert_temperature convert_volume cos cot current_cluster_endpoint
	current_database current_principal current_principal_details current_principal_is_member_of
	cursor_after cursor_before_or_at cursor_current datetime_list_timezones datetime_local_to_utc
	datetime_utc_to_local dcount_hll degrees dynamic_to_json erf erfc estimate_data_size exp10
	exp2 extent_id extent_tags extract_json extractjson format_bytes format_ipv4 format_ipv4_mask
	gamma geo_angle geo_azimuth geo_distance_2points geo_distance_point_to_line
	geo_distance_point_to_polygon geo_geohash_neighbors geo_geohash_to_central_point
	geo_geohash_to_polygon geo_h3cell_children geo_h3cell_level geo_h3cell_neighbors
	geo_h3cell_parent geo_h3cell_rings geo_h3cell_to_central_point geo_h3cell_to_polygon
	geo_info_from_ip_address geo_intersection_2lines geo_intersection_2polygons
	geo_intersection_line_with_polygon geo_intersects_2lines geo_intersects_2polygons
	geo_intersects_line_with_polygon geo_line_buffer geo_line_centroid geo_line_densify
	geo_line_length geo_line_simplify geo_line_to_s2cells geo_point_buffer geo_point_in_circle
	geo_point_in_polygon geo_point_to_geohash geo_point_to_h3cell geo_point_to_s2cell
	geo_polygon_area geo_polygon_buffer geo_polygon_centroid geo_polygon_densify
	geo_polygon_perimeter geo_polygon_simplify geo_polygon_to_h3cells geo_polygon_to_s2cells
	geo_s2cell_neighbors geo_s2cell_to_central_point geo_s2cell_to_polygon
	geo_simplify_polygons_array geo_union_lines_array geo_union_polygons_array has_any_ipv4
	has_any_ipv4_prefix has_ipv4 has_ipv4_prefix hash_combine hash_many hash_md5 hash_sha1
	hash_sha256 hash_xxhash64 indexof_regex ingestion_time ipv4_compare ipv4_is_in_any_range
	ipv4_is_in_range ipv4_is_match ipv4_is_private ipv4_netmask_suffix ipv4_range_to_cidr_list
	ipv6_compare ipv6_is_in_any_range ipv6_is_in_range ipv6_is_match isascii isfinite isutf8
	jaccard_index loggamma make_string monthofyear pack_all pack_dictionary
	parse_command_line parse_csv parse_ipv4 parse_ipv4_mask parse_ipv6 parse_ipv6_mask parse_path
	parse_url parse_urlquery parse_user_agent parse_version parse_xml percentile_array_tdigest
	percentile_tdigest percentrank_tdigest pi punycode_from_string punycode_to_string radians
	range rank_tdigest repeat replace replace_strings row_cumsum row_rank_dense
	row_rank_min row_window_session series_abs series_acos series_add series_asin series_atan
	series_ceiling series_cos series_cosine_similarity series_decompose series_decompose_anomalies
	series_decompose_forecast series_divide series_dot_product series_equals series_exp series_fft
	series_fill_backward series_fill_const series_fill_forward series_fill_linear series_fir
	series_fit_2lines series_fit_2lines_dynamic series_fit_line series_fit_line_dynamic
	series_fit_poly series_floor series_greater series_greater_equals series_ifft series_iir
	series_less series_less_equals series_log series_magnitude series_multiply series_not_equals
	series_outliers series_pearson_correlation series_periods_detect series_periods_validate
	series_pow series_seasonal series_sign series_sin series_stats series_stats_dynamic
	series_subtract series_sum series_tan set_difference set_has_element sin strcmp string_size
	strrep tan to_utf8 todecimal tohex totime translate treepath
	unicode_codepoints_from_string unicode_codepoints_to_string week_of_year weekofyear welch_test
	anyif`)

// functionNameError is the error for a call of a function Kustard does not implement: what
// Kusto's it is, or that Kusto has no such function.
func functionNameError(name string) string {
	switch {
	case name == "typeof":
		return "unsupported: typeof(…) is a type literal in Kusto (an argument of extract() and extract_json(), as typeof(long)), not a function; Kustard does not implement it. gettype() gives a value's type"
	case unsupportedFunctions[name]:
		return fmt.Sprintf("unsupported function %q", name)
	case unsupportedAggregates[name]:
		return fmt.Sprintf("unsupported aggregation function %q", name)
	}
	return fmt.Sprintf("unknown function %q", name)
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func (sc *scope) call(e *parser.CallExpr) (*compiled, error) {
	if slot, ok := sc.windows[e]; ok {
		return columnRef(sc.schema[slot].Type, slot), nil // computed by a windowNode (window.go)
	}
	if fn := sc.c.userFunction(e.Func); fn != nil {
		return userCall(sc, fn, e) // a let shadows a built-in function
	}
	switch e.Func {
	case "toscalar":
		return toscalarCall(sc, e)
	case "materialize":
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "materialize() returns a table, not a scalar; name it with let, as in let m = materialize(T | …);")
	}
	f, ok := functions[e.Func]
	if !ok {
		if err := sc.c.unresolvedCall(e.Func, e.At); err != nil {
			return nil, err
		}
		if aggregates[e.Func] != nil {
			return nil, sc.misplacedAggregate(e)
		}
		if unsupportedAggregates[e.Func] {
			return nil, sc.c.errorf(e.At, kusto.KindSemantic, "unsupported aggregation function %q", e.Func)
		}
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%s", functionNameError(e.Func))
	}
	if i := slices.IndexFunc(e.Args, func(a parser.Expr) bool { _, named := a.(*parser.NamedArgExpr); return named }); i >= 0 {
		return nil, sc.c.errorf(e.Args[i].Offset(), kusto.KindSemantic, "%s takes its arguments by position; only user-defined functions take them by name", f.usage)
	}
	if len(e.Args) < f.min || len(e.Args) > f.max {
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "%s takes %s, not %d", f.usage, argCount(f.min, f.max, len(e.Args)), len(e.Args))
	}
	args := make([]*compiled, len(e.Args))
	for i, a := range e.Args {
		c, err := sc.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = c
	}
	o, converted, err := f.resolve(sc, e, args)
	if err != nil {
		return nil, err
	}
	out, err := o.build(sc, e, converted)
	if err != nil {
		return nil, err
	}
	if t := o.result.typ; t != kusto.TypeUnknown && out.typ != t {
		panic("engine: " + o.signature(f.name) + " built a " + out.typ.String())
	}
	if out.typ == kusto.TypeString || out.typ == kusto.TypeDynamic {
		out = capValues(sc, e, out)
	}
	if f.class == perRow || f.class == window {
		return out, nil
	}
	return fold(out, args...), nil
}

func argCount(lo, hi, got int) string {
	plural := func(n int) string {
		if n == 1 {
			return "1 argument"
		}
		return strconv.Itoa(n) + " arguments"
	}
	switch {
	case lo == hi:
		return plural(lo)
	case hi >= maxArgs && got > hi:
		return "at most " + plural(hi)
	case hi >= maxArgs:
		return "at least " + plural(lo)
	default:
		return strconv.Itoa(lo) + " to " + plural(hi)
	}
}

// resolve picks the overload of least conversion cost that takes args and converts them to it.
func (f *function) resolve(sc *scope, call *parser.CallExpr, args []*compiled) (overload, []*compiled, error) {
	types := make([]kusto.Type, len(args))
	for i, a := range args {
		types[i] = a.typ
	}
	best, bestCost := -1, 0
	var bestT kusto.Type
	failAt, failures := -1, []string(nil) // the furthest argument some overload failed at, and why
	for k, o := range f.overload {
		cost, t, at, why := o.match(types)
		switch {
		case at == -1 && (best < 0 || cost < bestCost):
			best, bestCost, bestT = k, cost, t
		case at >= 0 && at > failAt:
			failAt, failures = at, []string{why}
		case at >= 0 && at == failAt && !slices.Contains(failures, why):
			failures = append(failures, why)
		}
	}
	if best < 0 {
		if f.mismatch != nil || failAt < 0 {
			return overload{}, nil, f.mismatch(sc, call, args)
		}
		return overload{}, nil, sc.c.errorf(call.Args[failAt].Offset(), kusto.KindSemantic, "%s: argument %d must be %s, not %s",
			call.Func, failAt+1, orList(failures), types[failAt])
	}
	o := f.overload[best]
	out := make([]*compiled, len(args))
	for i, a := range args {
		p := o.param(i)
		switch {
		case p.typeVar:
			out[i] = implicit(a, bestT)
		case p.to != kusto.TypeUnknown:
			out[i] = implicit(a, p.to)
		default:
			out[i] = a
		}
	}
	return o, out, nil
}

func (o overload) param(i int) typeSet { return o.params[min(i, len(o.params)-1)] }

// match returns the cost of calling o with arguments of the given types and T's type; or the
// argument at which o fails and what it wanted there (at is -1 when o matches; -2 when the count
// is wrong, which arity errors have reported already unless another overload takes it).
func (o overload) match(types []kusto.Type) (cost int, t kusto.Type, at int, want string) {
	if len(types) < len(o.params) || len(types) > len(o.params) && !o.variadic {
		return 0, 0, -2, ""
	}
	first := -1
	for i, a := range types {
		p := o.param(i)
		if p.typeVar {
			if first < 0 {
				first, t = i, a
				continue
			}
			u, ok := unifyTypes(t, a)
			if !ok {
				return 0, 0, i, article(t)
			}
			t = u
			continue
		}
		c, ok := p.accepts(a)
		if !ok {
			return 0, 0, i, p.desc
		}
		cost += c
	}
	if first >= 0 {
		p := o.param(first)
		if p.types != nil && !slices.Contains(p.types, t) {
			return 0, 0, first, p.desc
		}
		for i, a := range types {
			if o.param(i).typeVar {
				c, _ := conversionCost(a, t)
				cost += c
			}
		}
	}
	return cost, t, -1, ""
}

// orList joins alternatives: "a number or a timespan".
func orList(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
