package kusto

import (
	"math"
	"strings"
	"testing"
	"time"
)

func dt(s string) DateTime {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return DateTimeOf(t)
}

func TestParseTypedLiteralErrors(t *testing.T) {
	tests := []struct{ name, body, msg string }{
		{"int", "2147483648", `"2147483648" is not a valid int`},
		{"int", "0b11", `"0b11" is not a valid int`},
		{"long", "1_000", `"1_000" is not a valid long`},
		{"long", "--1", `"--1" is not a valid long`},
		{"long", "0x", `"0x" is not a valid long`},
		{"real", "x", `"x" is not a valid real`},
		{"bool", "yes", `"yes" is not a valid bool (use true or false)`},
		{"decimal", "1.5", "the decimal type is not supported by Kustard; use real"},
		{"datetime", "2023-02-29", `"2023-02-29" is not a valid date and time`},
		{"datetime", "2024-01-31T24:00:00", `"2024-01-31T24:00:00" is not a valid date and time`},
		{"datetime", "yesterday", `"yesterday" is not a datetime (expected ISO 8601, e.g. 2024-01-31 or 2024-01-31T12:30:00Z)`},
		{"datetime", "0001-01-01T00:00:00+01:00", `"0001-01-01T00:00:00+01:00" is outside the datetime range`},
		{"timespan", "1y", `unknown timespan unit "y"`},
		{"timespan", "25:00", `"25:00" is not a valid timespan`},
		{"timespan", "soon", `"soon" is not a timespan (expected e.g. 1d, 1.5h, 30m, 10s, 100ms or 01:30:00)`},
		{"timespan", "99999999999999d", `"99999999999999d" is outside the timespan range`},
		{"timespan", "99999999999999.00:00:00", `"99999999999999.00:00:00" is outside the timespan range`},
		{"guid", "nope", `"nope" is not a guid (expected 8-4-4-4-12 hex digits)`},
		{"dynamic", `{"a":1,}`, "expected a quoted property name in dynamic value"},
		{"dynamic", `[1 2]`, "expected ',' in dynamic value"},
		{"dynamic", `{"a" 1}`, "expected ':' in dynamic value"},
		{"dynamic", `[1] x`, `unexpected "x" after the dynamic value`},
		{"dynamic", `nul`, `unexpected "nul" in dynamic value (expected JSON)`},
		{"dynamic", `#`, `unexpected "#" in dynamic value (expected JSON)`},
		{"dynamic", ``, "missing dynamic value"},
		{"dynamic", `1.2.3`, `"1.2.3" is not a number`},
		{"dynamic", `"a`, `string literal is missing its closing "`},
		{"dynamic", strings.Repeat("[", 600) + strings.Repeat("]", 600), "dynamic value is nested too deeply"},
		{"string", "x", `string(…) is not a literal; write "x"`},
	}
	for _, tc := range tests {
		_, err := ParseTypedLiteral(tc.name, tc.body)
		if err == nil || err.Error() != tc.msg {
			t.Errorf("ParseTypedLiteral(%s, %q) error = %v; want %q", tc.name, tc.body, err, tc.msg)
		}
	}
	if _, err := ParseTypedLiteral("nosuchtype", "1"); err == nil || err.Error() != `unknown type "nosuchtype"` {
		t.Errorf("unknown type: %v", err)
	}
}

func TestTypes(t *testing.T) {
	for name, want := range map[string]Type{
		"bool": TypeBool, "boolean": TypeBool, "int": TypeInt, "long": TypeLong, "real": TypeReal, "double": TypeReal,
		"decimal": TypeDecimal, "string": TypeString, "datetime": TypeDateTime, "date": TypeDateTime,
		"timespan": TypeTimespan, "time": TypeTimespan, "guid": TypeGUID, "uuid": TypeGUID, "uniqueid": TypeGUID,
		"dynamic": TypeDynamic,
	} {
		if got, ok := LookupType(name); !ok || got != want {
			t.Errorf("LookupType(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	if _, ok := LookupType("Long"); ok {
		t.Error("type names are case-sensitive, but Long was accepted")
	}
	if TypeDecimal.Supported() || TypeUnknown.Supported() || !TypeDynamic.Supported() {
		t.Error("Supported: want every type but decimal and unknown")
	}
	if TypeGUID.String() != "guid" || Type(200).String() != "Type(200)" {
		t.Errorf("String: %s %s", TypeGUID, Type(200))
	}
}

func TestDateTimeAndTimespanStrings(t *testing.T) {
	for _, tc := range []struct {
		d    DateTime
		want string
	}{
		{dt("2022-07-18T09:03:55.138732Z"), "2022-07-18T09:03:55.138732Z"},
		{dt("2024-01-31T00:00:00Z"), "2024-01-31T00:00:00Z"},
		{DateTime(0), "0001-01-01T00:00:00Z"},
		{DateTime(MaxDateTime), "9999-12-31T23:59:59.9999999Z"},
		{dt("1969-12-31T23:59:59.9Z"), "1969-12-31T23:59:59.9Z"},
	} {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("DateTime(%d) = %s; want %s", int64(tc.d), got, tc.want)
		}
		if back := DateTimeOf(tc.d.Time()); back != tc.d {
			t.Errorf("DateTimeOf(%s.Time()) = %d; want %d", tc.want, back, tc.d)
		}
		if !tc.d.Valid() {
			t.Errorf("%s is not Valid", tc.want)
		}
	}
	if DateTime(-1).Valid() || DateTime(MaxDateTime+1).Valid() {
		t.Error("Valid accepts datetimes outside 0001-9999")
	}
	for _, tc := range []struct {
		ts   Timespan
		want string
	}{
		{0, "00:00:00"},
		{Timespan(429840549), "00:00:42.9840549"},
		{Timespan(4*TicksPerDay + TicksPerHour + 2*TicksPerMinute + 3*TicksPerSecond), "4.01:02:03"},
		{Timespan(-90 * TicksPerMinute), "-01:30:00"},
		{Timespan(math.MinInt64), "-10675199.02:48:05.4775808"},
		{Timespan(math.MaxInt64), "10675199.02:48:05.4775807"},
	} {
		if got := tc.ts.String(); got != tc.want {
			t.Errorf("Timespan(%d) = %s; want %s", int64(tc.ts), got, tc.want)
		}
		if tc.ts != Timespan(math.MinInt64) {
			if back, err := ParseTimespan(tc.want); err != nil || back != tc.ts {
				t.Errorf("ParseTimespan(%s) = %d, %v; want %d", tc.want, back, err, tc.ts)
			}
		}
	}
}
