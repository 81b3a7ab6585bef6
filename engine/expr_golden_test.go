package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kustard/kustard/internal/golden"
	"github.com/kustard/kustard/kusto"
)

// exprTable has a column of every type and a row of nulls, so that each expression below runs
// its kernels over vectors with and without nulls.
const exprTable = `datatable(b:bool, i:int, l:long, r:real, s:string, d:datetime, t:timespan, g:guid, y:dynamic)
[
	true, 1, 10, 1.5, "Hello World", datetime(2024-01-01), 1h, guid(078b2641-f10d-4694-96f8-1ee2b75dda48), dynamic({"a": 1}),
	false, -2, 0, -0.5, "", datetime(null), timespan(null), guid(null), dynamic(null),
	bool(null), int(null), long(null), real(null), "abc", datetime(2020-02-29 12:00), -30m, guid(00000000-0000-0000-0000-000000000001), dynamic([1, 2]),
	true, 0, -7, 0.0, "ABC def-ghi 42", datetime(2000-01-01), 0s, guid(null), dynamic("x"),
	false, 2147483647, 9223372036854775807, 1e300, " 12 ", datetime(9999-12-31), 2d, guid(null), dynamic(3.5),
]`

// rowExprs are evaluated over exprTable's rows; constExprs with print, where they fold.
var rowExprs = []string{
	"i + l", "i - l", "i * i", "l * l", "i / i", "l / i", "i % i", "l % l", "r / r", "r % r", "i + r", "l - r", "r * l",
	"i / 0", "l % 0", "r / 0", "10 / i", "10 % l", "7.5 % r", "i + int(null)", "-i", "-l", "-r", "-t",
	"d + t", "t + d", "d - t", "d - 1d", "l * i", "l + 1", "-l - 2", "t * 1e300", "d - d", "t + t", "t - t", "t / t", "t % t", "t * 2", "2 * t", "t / 2", "t * r", "t / r", "t / 0",
	"d + 1h", "datetime(2024-01-01) - d",
	"i == l", "i != l", "i < l", "i <= r", "l > r", "r >= i", "s == 'abc'", "s != 'abc'", "s < 'b'", "'b' > s", "d < datetime(2021-01-01)",
	"t >= 0s", "b == true", "b != b", "g == g", "g != guid(null)", "i == int(null)", "5 > l", "1.5 == r",
	"b and true", "b and false", "b or true", "b or false", "b and b", "b or b", "b and bool(null)", "b or bool(null)",
	"not(b)", "i > 0 and l > 0", "i > 0 or r > 0",
	"s =~ 'abc'", "s !~ 'ABC'", "s contains 'l'", "s !contains 'L'", "s contains_cs 'W'", "s !contains_cs 'w'",
	"s startswith 'he'", "s !startswith 'he'", "s startswith_cs 'He'", "s endswith 'LD'", "s endswith_cs 'ld'", "s !endswith_cs 'ld'",
	"s has 'world'", "s !has 'world'", "s has_cs 'World'", "s has 'def'", "s hasprefix 'wor'", "s hassuffix 'ghi'", "s has ''",
	"s contains s", "s has s", "'Hello World abc' contains s", "i contains '1'", "l startswith '-'", "r has '5'", "d contains '2024'",
	"i in (1, 2)", "l in (10, -7)", "r in (1.5)", "s in ('abc', '')", "s !in ('abc')", "s in~ ('ABC')", "s !in~ ('ABC', 'hello world')",
	"i in (l, 0)", "d in (datetime(2024-01-01))", "b in (true)",
	"strlen(s)", "strlen(i)", "strcat(s, '-', i, l, r, b)", "strcat(s)", "toupper(s)", "tolower(s)", "substring(s, 1)", "substring(s, 1, 3)",
	"substring(s, i)", "substring(s, l, i)", "substring(s, -1, 2)", "substring(s, 20)",
	"tostring(i)", "tostring(r)", "tostring(d)", "tostring(t)", "tostring(g)", "tostring(y)", "tostring(b)",
	"toint(s)", "toint(r)", "toint(l)", "tolong(s)", "tolong(r)", "tolong(d)", "tolong(t)", "tolong(b)", "toreal(s)", "toreal(i)", "todouble(l)",
	"tobool(s)", "tobool(i)", "toboolean(r)", "todatetime(s)", "todatetime(d)", "totimespan(s)", "totimespan(l)", "toguid(s)", "toguid(g)",
	"todynamic(s)", "todynamic(i)", "todynamic(d)", "todynamic(y)", "parse_json(s)", "tolong(y)", "toreal(y)", "tostring(todynamic(r))",
	"isnull(i)", "isnull(s)", "isnotnull(r)", "isnull(y)", "isnotnull(g)", "isempty(s)", "isnotempty(s)", "isempty(i)", "isnotempty(d)",
	"iff(b, i, l)", "iif(b, s, 'no')", "iff(b, r, i)", "iff(i > 0, d, datetime(null))", "iff(b, t, 1s)", "iff(b, g, guid(null))", "iff(b, y, dynamic(1))",
	"iff(b, b, false)", "iff(true, i, 0)", "iff(bool(null), 1, 2)",
	"abs(i)", "abs(l)", "abs(r)", "abs(t)", "bin(l, 5)", "bin(i, 2)", "bin(r, 0.5)", "bin(d, 1d)", "bin(t, 1h)", "floor(l, 3)", "bin(l, 0)", "bin(l, i)",
	"round(r)", "round(r, 1)", "round(i)", "round(r, i)",
	"now() - now()", "ago(1h) < now()", "now(t) - now()", "isnotnull(new_guid())",
	"coalesce(i, l)", "coalesce(r, 0)", "coalesce(s, 'empty')", "coalesce(d, datetime(2001-01-01))", "coalesce(t, 1s, 2s)", "coalesce(int(null), i)",
	"coalesce(g, guid(null))", "coalesce(y, dynamic(0))", "coalesce(b, false)",
	"max_of(i, l)", "min_of(i, l)", "max_of(r, i, l)", "min_of(r, 0)", "max_of(s, 'b')", "min_of(d, datetime(2010-01-01))", "max_of(t, 1h)",
	"max_of(i, int(null))", "min_of(long(null), l, 3)",
	// errors
	"i + s", "s + 'x'", "b < b", "g < g", "y == 1", "b and 1", "-s", "s matches 'x'", "i in (s)",
	"strlen(s, s)", "substring(s, r)", "substring(s)", "not(i)", "iff(i, 1, 2)", "iff(b, 1, 's')", "abs(s)", "bin(s, 1)", "round(s)",
	"round(r, 1.5)", "now(1)", "ago(1)", "coalesce(i)", "coalesce(i, s)", "max_of(b, b)", "max_of(i, s)", "frob(i)", "atan(r)", "count()",
	"strcat()", "new_guid(1)",
	// datetime functions (query/*-function.md)
	"startofday(d)", "startofday(d, 1)", "startofday(d, toint(r))", "endofday(d)", "startofweek(d)", "endofweek(d, -1)", "startofmonth(d, -1)",
	"endofmonth(d)", "endofmonth(d, l)", "startofyear(d)", "endofyear(d, -1)", "dayofweek(d)", "dayofmonth(d)", "dayofyear(d)", "getmonth(d)",
	"getyear(d)", "hourofday(d)", "datetime_part('week_of_year', d)", "datetime_part('Quarter', d)", "datetime_part(s, d)",
	"datetime_add('month', -1, d)", "datetime_add('year', i, d)", "datetime_add('day', -1, d)", "datetime_add(s, 1, d)",
	"datetime_diff('day', d, datetime(2000-01-01))", "datetime_diff('week', d, datetime(2000-01-01))", "datetime_diff('month', d, d - 40d)",
	"make_datetime(l + 2000, 1, 1)", "make_datetime(2024, i, 29, 0, 0, r)", "make_timespan(i, l)", "make_timespan(l, 2, 3, r)",
	"format_datetime(d, 'yyyy-MM-dd HH:mm:ss.fffffff')", "format_datetime(d, 'h tt y')", "format_datetime(d, 'HH:mm:ss.FFF')", "format_datetime(d, s)", "format_timespan(t, 'd.HH:mm:ss.FFF')",
	"unixtime_seconds_todatetime(l)", "unixtime_milliseconds_todatetime(r)", "unixtime_microseconds_todatetime(i)", "unixtime_nanoseconds_todatetime(l)",
	"bin_at(l, 3, 1)", "bin_at(r, 0.5, 0.25)", "bin_at(d, 1d, datetime(2000-01-01 06:00))", "bin_at(t, 1h, 15m)", "bin_at(i, i, 0)",
	// math functions
	"ceiling(r)", "ceiling(i)", "ceiling(l)", "sign(r)", "sign(l)", "pow(r, 2)", "pow(2, i)", "sqrt(r)", "sqrt(l)", "exp(r)", "log(r)", "log2(l)",
	"log10(l)", "isnan(r / r)", "isinf(r * r)", "isnan(r)", "rand() < 1", "rand(i) >= 0", "hash(s)", "hash(l, 10)", "hash(d)", "hash(r)", "hash(y)",
	"hash(i, i)", "hash(b)", "hash(g)",
	// errors
	"datetime_add('fortnight', 1, d)", "datetime_part('week', d)", "format_datetime(d, 'yyyy-MMM')", "startofday(d, r)", "bin_at(s, 1, 1)", "pow(s, 2)",
	"rand(s)", "getyear(l)", "make_datetime(2024, 1)",
	// dynamic accessors (scalar-data-types/dynamic.md, "Dynamic object accessors")
	"y.a", "y['a']", "y[\"a\"]", "y[0]", "y[1]", "y[-1]", "y[-3]", "y[l]", "y[i]", "y[s]", "y[strcat('', 'a')]", "y[y]", "y.a.b", "y[0].a",
	"tolong(y.a) + 1", "gettype(y[0])", "isnull(y.z)",
	// errors
	"s.a", "i[0]", "y[r]", "y[b]", "y[d]",
	// dynamic operands, typed by the other operand as Kusto.Language's operators are (Operators.cs)
	"y.a == 1", "y == 1", "y != 1", "y > 1", "y <= 3.5", "1 < y", "y == 'x'", "y != 'x'", "y[0] == i", "y == y", "y == dynamic({'a': 1})",
	"y == dynamic([1, 2])", "y < y", "y.a + 1", "y + l", "r * y", "y / 2", "y % 2", "y + y", "y - dynamic(1)", "y * y", "y / dynamic(0)",
	"-y", "-y.a", "y.a + 1h", "d + y.a", "y == true", "y.a == b", "y and b", "not(y)", "iff(y, 1, 2)", "case(y, 1, 0)",
	"y between (1 .. 4)", "y.a in (1, 2)", "y in ('x', 'z')", "y in (l, 3.5)",
	// errors: Kusto has no such operator
	"y < 'x'", "y > d", "y * 1h", "y - d", "y + s", "y between (0s .. 1h)",
	// between (between-operator.md), has_any and has_all (has-any-operator.md, has-all-operator.md), matches regex
	"l between (0 .. 10)", "r between (-1 .. 1.5)", "i !between (0 .. 1)", "i between (l .. 10)", "i between (1 .. int(null))",
	"d between (datetime(2020-01-01) .. datetime(2024-01-01))", "d between (datetime(2020-01-01) .. 1500d)", "d !between (datetime(2020-01-01) .. 1500d)",
	"t between (0s .. 1h)", "t between (-1h .. 0s)",
	"s has_any ('world', 'abc')", "s has_all ('hello', 'world')", "s has_any (dynamic(['def', 'x']))", "s has_all (dynamic([]))", "s has_any (dynamic([]))",
	"i has_any ('1', 2)", "s has_all ('ABC', 42)",
	"s matches regex '^[A-Z]'", "s matches regex s", "i matches regex '^-'", "s matches regex '(?i)world$'",
	// in with a dynamic array and a hash set
	"i in (dynamic([1, 2]))", "l in (10, 0.0)", "r in (1, 1.5)", "s in~ (dynamic(['ABC', 'hello world']))", "s !in (dynamic(['abc']), 'x')",
	"d in (datetime(2024-01-01), datetime(null))", "g in (guid(078b2641-f10d-4694-96f8-1ee2b75dda48))", "t in (1h, 2d)", "i in (l, 1)",
	"i !in (int(null))", "s in~ ('ǅ', 'ABC')", "b in (dynamic([true]))",
	// errors
	"s between ('a' .. 'b')", "d between (1 .. 2)", "l between (0 .. 1h)", "s has_any (s)", "s matches regex '('", "s matches regex 1",
	"i in (y)", "i in (dynamic(['a']), 'b')",
	// string functions
	"strcat_delim('-', s, i, r)", "strcat_delim(s, 'a', 'b')", "strcat_array(y, ',')", "strcat_array(split(s, ' '), '+')", "replace_string(s, 'l', 'L')",
	"replace_string(s, '', 'x')", "reverse(s)", "reverse(i)", "indexof(s, 'l')", "indexof(s, 'l', 3)", "indexof(s, 'l', -3, 1)", "indexof(s, 'l', 0, -1, 3)",
	"indexof(s, 'l', i)", "countof(s, 'l')", "countof(s, '[a-z]', 'regex')", "countof(s, s)", "url_encode(s)", "url_decode(url_encode(s))",
	"base64_encode_tostring(s)", "base64_decode_tostring(base64_encode_tostring(s))", "has_any_index(s, dynamic(['abc', 'world']))",
	"has_any_index(s, y)", "gettype(i)", "gettype(s)", "gettype(y)", "gettype(g)", "trim(' ', s)", "trim_start('[A-Z]', s)", "trim_end(@'\\d+', s)",
	"trim(s, 'abcabc')", "replace_regex(s, '([a-z])([a-z])', @'\\2\\1')", "replace_regex(s, 'l', '$')", "extract(@'(\\w+) (\\w+)', 2, s)",
	"extract('[a-z]+', 0, s)", "extract('x(y)?', 1, s)", "extract('(a)', i, s)", "extract_all(@'(\\w)(\\w)', s)", "extract_all(@'(\\w)', s)",
	"extract_all(@'(\\w)(\\w)', dynamic([2]), s)", "extract_all(@'(?P<x>\\w)(\\w)', dynamic(['x']), s)", "extract_all('(a)', y, s)",
	"split(s, ' ')", "split(s, ' ', 1)", "split(s, '')", "split(s, ' ', l)",
	// errors
	"trim('(', s)", "extract('(', 0, s)", "extract_all('a', s)", "countof(s, 'a', 'fuzzy')", "strcat_array(s, ',')", "split(s)",
	"replace_regex(s, '[', 'x')", "has_any_index(s, 'a')",
	// dynamic functions, and case
	"array_length(y)", "array_length(split(s, ' '))", "array_concat(y, dynamic([3]), split(s, ' '))", "array_slice(split(s, ' '), 1, -1)",
	"array_slice(y, -1, 5)", "array_slice(y, 1, 0)", "array_index_of(y, 2)", "array_index_of(split(s, ' '), 'World')", "array_index_of(y, l)",
	"set_union(y, dynamic([2, 3, 2]))", "set_intersect(y, dynamic([2, 3]))", "bag_keys(y)", "bag_merge(y, dynamic({'a': 0, 'b': 2}))",
	"bag_pack('s', s, 'i', i, 'd', d)", "pack('y', y)", "pack_array(i, r, s, b, t)", "zip(y, dynamic(['x']))",
	"case(i > 0, 'pos', i < 0, 'neg', 'zero')", "case(b, i, l)", "case(b, d, datetime(null))", "case(b, 1, b == false, 2.5, 0)",
	// errors
	"case(b, 1)", "case(i, 1, 2)", "case(b, 1, 's')", "bag_pack('a')", "bag_pack(i, 1)", "array_length(s)", "array_slice(y, 0)",
}

var constExprs = []string{
	"1 + 2", "int(1) + int(2)", "10 / 0", "10 % 0", "10.0 / 0", "7 % -3", "-7 % 3", "5.5 % 2", "9223372036854775807 + 1",
	"1 < 2", "dynamic(2) > 1", "dynamic(9007199254740993) > 9007199254740992.0", "dynamic(9223372036854775807) + dynamic(1)", "dynamic(2.5) + 1", "'a' == 'A'", "'a' =~ 'A'", "true and bool(null)", "false and bool(null)", "true or bool(null)", "bool(null) or bool(null)",
	"strcat('a', 1, 2.5, true, datetime(2024-01-01), 1h)", "coalesce(int(null), long(null), 3)", "coalesce('', 'x')",
	"max_of(1, 2.5, int(3))", "min_of('b', 'a')", "iff(1 > 2, 'yes', 'no')", "substring('Kustard', 1, 3)", "tolong('42')",
	"toint('99999999999')", "tobool('TRUE')", "toreal('x')", "todynamic('[1,2]')", "todynamic('not json')", "tostring(dynamic({\"b\":[1]}))",
	"bin(17, 5)", "bin(-17, 5)", "bin(datetime(2024-01-01 13:00), 1d)", "round(2.5)", "round(-2.5)", "round(1.2345, 2)", "abs(int(-3))",
	"datetime(2024-01-01) + 36h", "datetime(9999-12-31) + 1d", "1h / 30m", "1h * 1.5", "1h / 0", "1h % 0s", "tolong(1d)", "totimespan(10)",
	"strlen('héllo')", "toupper('straße')", "'Hello' has 'hel'", "'Hello-World' has 'world'", "'a' in~ ('A')", "isempty('')", "isnotempty(int(null))",
	// Overflows (concepts/overflow.md) are E_OVERFLOW errors, never wrapped values; conversions
	// that do not fit are null, as the conversion functions' docs say.
	"1d * 1e300", "1d / 1e-300", "10675199d * 2", "10675199d + 10675199d", "-10675199d - 1d", "-timespan(-10675199.02:48:05.4775808)",
	"abs(timespan(-10675199.02:48:05.4775808))", "bin(timespan(-10675199.02:48:05.4775808), 7d)", "datetime(0001-01-01) - 1tick",
	"datetime(9999-12-31 23:59:59.9999999) + 1tick", "datetime(2024-01-01) - timespan(-10675199.02:48:05.4775808)", "now(10000000d)", "ago(-10000000d)",
	"9223372036854775807 * 2", "-9223372036854775807 - 2", "long(-9223372036854775807) - 1", "-(long(-9223372036854775807) - 1)",
	"(long(-9223372036854775807) - 1) / -1", "(long(-9223372036854775807) - 1) % -1", "int(2147483647) + int(1)", "int(-2147483647) * int(2)",
	"abs(long(-9223372036854775807) - 1)", "1d * real(null)", "timespan(null) * 1e300", "datetime(null) - 1d", "long(null) + 9223372036854775807",
	"totimespan(1e300)", "totimespan('100000000000d')", "totimespan(9223372036854775807)", "tolong(1e300)", "toint(9999999999)",
	"todatetime('10000-01-01')", "1e300 * 1e300",
	// datetime and math functions
	"datetime_add('month', 1, datetime(2024-01-31))", "datetime_add('year', 1, datetime(2024-02-29))", "datetime_add('nanosecond', 250, datetime(2024-01-01))",
	"datetime_add('year', 1, datetime(9999-01-01))", "datetime_add('day', 9223372036854775807, datetime(2024-01-01))", "datetime_add('quarter', -4, datetime(2024-05-31))",
	"datetime_diff('year', datetime(2017-01-01), datetime(2000-12-31))", "datetime_diff('nanosecond', datetime(2017-10-30), datetime(2017-10-30 00:00:00.0000007))",
	"endofyear(datetime(9999-06-01))", "startofyear(datetime(9999-06-01), 1)", "startofmonth(datetime(0001-01-15), -1)", "endofweek(datetime(9999-12-31))",
	"startofweek(datetime(0001-01-01))", "make_datetime(2023, 2, 29)", "make_datetime(0, 1, 1)", "make_datetime(2024, 1, 1, 24, 0)",
	"make_datetime(2024, 1, 1, 0, 0, 59.99999999)", "make_timespan(24, 0)", "make_timespan(-1, 2, 3, 4.5)", "unixtime_seconds_todatetime(-62135596800)",
	"unixtime_seconds_todatetime(-62135596801)", "unixtime_nanoseconds_todatetime(1546300800123456789)", "unixtime_seconds_todatetime(1e300)",
	"format_timespan(-time(1.02:03:04.5), 'dd HH:mm:ss.ff')", "format_timespan(1d, 'dddddddd')", "format_datetime(datetime(2009-06-15 00:45:30.05), 'hh tt F FF fff [yy]')",
	"format_datetime(datetime(0900-01-01), 'y yy yyy yyyy')", "bin_at(-9223372036854775807, 10, 5)", "bin_at(datetime(0001-01-01 01:00), 1d, datetime(2000-01-01 12:00))",
	"bin_at(1, 0, 0)", "bin_at(6.5, 2.5, 7)", "ceiling(-1.1)", "sign(-0.0)", "pow(2, 0.5)", "sqrt(-1)", "log(0)", "log(-1)", "log10(1000)", "exp(1)",
	"isinf(-1.0 / 0)", "hash('World')", "hash('World', 100)", "hash(datetime(2015-01-01))", "hash('x', 0)", "hash(long(null))", "rand(0)",
	// string functions
	"countof('aaaa', 'aa')", "countof('ababa', 'aba', 'regex')", "countof('abcabc', 'a.c', 'regex')", "indexof('abcdefgabcdefg', 'cde', 1, 10, 2)",
	"indexof('abc', 'c', 5)", "indexof('abc', 'c', 0, -2)", "indexof('abc', '')", "url_encode('a b&c/é')", "url_decode('%zz')",
	"base64_decode_tostring('not base64!')", "base64_decode_tostring('S3VzdG8')", "gettype(parse_json('9999999999'))", "gettype(parse_json('1.5'))",
	"gettype(int(null))", "gettype(dynamic(null))", "split('a,b,,c', ',', -1)", "extract_all('(a)|(b)', 'ab')", "replace_regex('aaa', 'a*', 'x')",
	"trim_end('a', 'baaa')", "trim('', 'abc')",
	// dynamic functions, and case
	"array_concat(dynamic([1]), dynamic({}))", "set_union(dynamic([1, '1', 1.0]), dynamic([null, null]))", "bag_merge(dynamic({'a': 1}), dynamic([1]))",
	"pack_array(int(null), 'a', dynamic(null))", "zip(dynamic([]), dynamic([]))", "case(bool(null), 1, 2)", "case(false, 1, true, 2, 3)",
	// accessors fold (scalar-data-types/dynamic.md, "Casting dynamic objects")
	"parse_json('[100,101,102]')[0]", "toint(parse_json('[100,101,102]')[1])", "parse_json('{\"a1\":100, \"a b c\":\"2015-01-01\"}').a1",
	"todatetime(parse_json('{\"a1\":100, \"a b c\":\"2015-01-01\"}')['a b c'])", "pack_array(1, 2)[1]", "dynamic({'a': {'b': [1, null]}}).a.b[1]",
	"dynamic([1, 2])[long(null)]", "dynamic({'where': 1}).['where']", "dynamic([1])[9223372036854775807]", "dynamic([1])[-9223372036854775807]",
	// between, has_any, matches regex and in over constants
	"5 between (1 .. 10)", "5 !between (1 .. 10)", "1.5 between (1 .. 2)", "int(null) between (1 .. 2)", "datetime(9999-12-31) between (datetime(9999-12-30) .. 2d)",
	"'New York' has_any ('york', 'x')", "'New York' has_all ('new', 'or')", "'abc' matches regex 'b'", "2 in (dynamic([1, 2, 3]))", "'B' in~ (dynamic(['a', 'b']))",
}

func runExpr(t *testing.T, s *Session, text string) string {
	t.Helper()
	res, err := s.Execute(context.Background(), Request{}, &kusto.Source{Text: text})
	if err != nil {
		return "error: " + err.(*kusto.Error).Msg
	}
	var vals []string
	for row := range res.Rows {
		v := res.Value(row, 0)
		if v == nil {
			vals = append(vals, "null")
		} else {
			vals = append(vals, kusto.FormatValue(v))
		}
	}
	return res.Schema[0].Type.String() + ": " + strings.Join(vals, " | ")
}

// TestExpressionsGolden pins down what every operator and function returns, over columns with
// and without nulls and over constants, and the errors they give.
func TestExpressionsGolden(t *testing.T) {
	eng := New(Options{})
	defer closeEngine(t, eng)
	s := eng.NewSession()
	var out strings.Builder
	for _, e := range rowExprs {
		fmt.Fprintf(&out, "%s\n\t%s\n", e, runExpr(t, s, exprTable+" | project r = "+e))
	}
	for _, e := range constExprs {
		fmt.Fprintf(&out, "print %s\n\t%s\n", e, runExpr(t, s, "print r = "+e))
	}
	golden.Check(t, "../testdata/engine/expressions.golden", []byte(out.String()))
}
