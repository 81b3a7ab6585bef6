package parser

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
)

func dt(s string) kusto.DateTime {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return kusto.DateTimeOf(t)
}

// TestScalarLiterals parses `print <literal>` for every form of every Kusto scalar type.
func TestScalarLiterals(t *testing.T) {
	g := uuid.MustParse(docsGUID)
	tests := []struct {
		in   string
		want kusto.Literal
	}{
		{"true", kusto.Literal{Type: kusto.TypeBool, Value: true}},
		{"false", kusto.Literal{Type: kusto.TypeBool, Value: false}},
		{"True", kusto.Literal{Type: kusto.TypeBool, Value: true}},
		{"FALSE", kusto.Literal{Type: kusto.TypeBool, Value: false}},
		{"bool(true)", kusto.Literal{Type: kusto.TypeBool, Value: true}},
		{"boolean(False)", kusto.Literal{Type: kusto.TypeBool, Value: false}},
		{"bool(null)", kusto.Literal{Type: kusto.TypeBool, Value: nil}},
		{"int(5)", kusto.Literal{Type: kusto.TypeInt, Value: int32(5)}},
		{"int(-2147483648)", kusto.Literal{Type: kusto.TypeInt, Value: int32(math.MinInt32)}},
		{"int(0x10)", kusto.Literal{Type: kusto.TypeInt, Value: int32(16)}},
		{"int(null)", kusto.Literal{Type: kusto.TypeInt, Value: nil}},
		{"42", kusto.Literal{Type: kusto.TypeLong, Value: int64(42)}},
		{"010", kusto.Literal{Type: kusto.TypeLong, Value: int64(10)}}, // decimal, not octal
		{"0x2A", kusto.Literal{Type: kusto.TypeLong, Value: int64(42)}},
		{"9223372036854775807", kusto.Literal{Type: kusto.TypeLong, Value: int64(math.MaxInt64)}},
		// The minimum long is one literal: its magnitude alone is not a long.
		{"-9223372036854775808", kusto.Literal{Type: kusto.TypeLong, Value: int64(math.MinInt64)}},
		{"- 9223372036854775808", kusto.Literal{Type: kusto.TypeLong, Value: int64(math.MinInt64)}},
		{"long(010)", kusto.Literal{Type: kusto.TypeLong, Value: int64(10)}},
		{"long(+7)", kusto.Literal{Type: kusto.TypeLong, Value: int64(7)}},
		{"long(-9223372036854775808)", kusto.Literal{Type: kusto.TypeLong, Value: int64(math.MinInt64)}},
		{"long(-0x10)", kusto.Literal{Type: kusto.TypeLong, Value: int64(-16)}},
		{"long(null)", kusto.Literal{Type: kusto.TypeLong, Value: nil}},
		{"1.5", kusto.Literal{Type: kusto.TypeReal, Value: 1.5}},
		{"1e3", kusto.Literal{Type: kusto.TypeReal, Value: 1000.0}},
		{"2.", kusto.Literal{Type: kusto.TypeReal, Value: 2.0}},
		{"1.5e-1", kusto.Literal{Type: kusto.TypeReal, Value: 0.15}},
		{"real(1.5)", kusto.Literal{Type: kusto.TypeReal, Value: 1.5}},
		{"double(2)", kusto.Literal{Type: kusto.TypeReal, Value: 2.0}},
		{"real(+inf)", kusto.Literal{Type: kusto.TypeReal, Value: math.Inf(1)}},
		{"real(-inf)", kusto.Literal{Type: kusto.TypeReal, Value: math.Inf(-1)}},
		{"real(null)", kusto.Literal{Type: kusto.TypeReal, Value: nil}},
		{`"s"`, kusto.Literal{Type: kusto.TypeString, Value: "s"}},
		{`'a\tb'`, kusto.Literal{Type: kusto.TypeString, Value: "a\tb"}},
		{`@"c:\x"`, kusto.Literal{Type: kusto.TypeString, Value: `c:\x`}},
		{"```multi\nline```", kusto.Literal{Type: kusto.TypeString, Value: "multi\nline"}},
		{`h"hidden"`, kusto.Literal{Type: kusto.TypeString, Value: "hidden"}},
		{"datetime(2024-01-31)", kusto.Literal{Type: kusto.TypeDateTime, Value: dt("2024-01-31T00:00:00Z")}},
		{"datetime(2024-01-31 12:30)", kusto.Literal{Type: kusto.TypeDateTime, Value: dt("2024-01-31T12:30:00Z")}},
		{"datetime(2024-01-31T12:30:00+02:00)", kusto.Literal{Type: kusto.TypeDateTime, Value: dt("2024-01-31T10:30:00Z")}},
		{"datetime(2024-01-31T12:30:00-0130)", kusto.Literal{Type: kusto.TypeDateTime, Value: dt("2024-01-31T14:00:00Z")}},
		{"datetime(2022-07-18 09:03:55.1387320)", kusto.Literal{Type: kusto.TypeDateTime, Value: dt("2022-07-18T09:03:55.138732Z")}},
		{"datetime(9999-12-31T23:59:59.9999999Z)", kusto.Literal{Type: kusto.TypeDateTime, Value: kusto.DateTime(kusto.MaxDateTime)}},
		{"datetime(0001-01-01)", kusto.Literal{Type: kusto.TypeDateTime, Value: kusto.DateTime(0)}},
		{"date(2024-02-29)", kusto.Literal{Type: kusto.TypeDateTime, Value: dt("2024-02-29T00:00:00Z")}},
		{"datetime(null)", kusto.Literal{Type: kusto.TypeDateTime, Value: nil}},
		{"1d", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(kusto.TicksPerDay)}},
		{"1.5h", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(90 * kusto.TicksPerMinute)}},
		{"30m", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(30 * kusto.TicksPerMinute)}},
		{"0.1s", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(kusto.TicksPerSecond / 10)}},
		{"100ms", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(100 * kusto.TicksPerMillisecond)}},
		{"10microsecond", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(100)}},
		{"1tick", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(1)}},
		{"250nanoseconds", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(2)}}, // truncated to whole ticks
		{"timespan(1.5h)", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(90 * kusto.TicksPerMinute)}},
		{"time(15 seconds)", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(15 * kusto.TicksPerSecond)}},
		{"time(2)", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(2 * kusto.TicksPerDay)}},
		{"time(0.12:34:56.7)", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(12*kusto.TicksPerHour + 34*kusto.TicksPerMinute + 56*kusto.TicksPerSecond + 7*kusto.TicksPerSecond/10)}},
		{"timespan(-01:00:00)", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(-kusto.TicksPerHour)}},
		{"timespan(-1d)", kusto.Literal{Type: kusto.TypeTimespan, Value: kusto.Timespan(-kusto.TicksPerDay)}},
		{"timespan(null)", kusto.Literal{Type: kusto.TypeTimespan, Value: nil}},
		{"guid(" + docsGUID + ")", kusto.Literal{Type: kusto.TypeGUID, Value: g}},
		{"uuid(" + strings.ToUpper(docsGUID) + ")", kusto.Literal{Type: kusto.TypeGUID, Value: g}},
		{"uniqueid(" + docsGUID + ")", kusto.Literal{Type: kusto.TypeGUID, Value: g}},
		{"guid(null)", kusto.Literal{Type: kusto.TypeGUID, Value: nil}},
		{"dynamic(null)", kusto.Literal{Type: kusto.TypeDynamic, Value: nil}},
		{"dynamic(1)", kusto.Literal{Type: kusto.TypeDynamic, Value: int64(1)}},
		{"dynamic('x')", kusto.Literal{Type: kusto.TypeDynamic, Value: "x"}},
		{`dynamic([1, 2.5, -3, "x", true, false, null, {}])`, kusto.Literal{Type: kusto.TypeDynamic, Value: []any{int64(1), 2.5, int64(-3), "x", true, false, nil, map[string]any{}}}},
		{`dynamic({"a": {'b': [@"c\d"]}})`, kusto.Literal{Type: kusto.TypeDynamic, Value: map[string]any{"a": map[string]any{"b": []any{`c\d`}}}}},
	}
	for _, tc := range tests {
		b := mustParse(t, "print "+tc.in)
		e, ok := b.Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree.(*LiteralExpr)
		if !ok {
			t.Errorf("%s: not a literal", tc.in)
			continue
		}
		if !reflect.DeepEqual(e.Literal, tc.want) {
			t.Errorf("%s = %#v; want %#v", tc.in, e.Literal, tc.want)
		}
		if e.At != 6 {
			t.Errorf("%s at %d; want 6", tc.in, e.At)
		}
	}
	// NaN is not equal to itself, so it gets its own check.
	b := mustParse(t, "print real(nan)")
	if v := b.Query.Body.Source.(*PrintSource).Columns[0].Expr.Tree.(*LiteralExpr).Value; !math.IsNaN(v.(float64)) {
		t.Errorf("real(nan) = %v", v)
	}
}
