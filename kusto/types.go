package kusto

import (
	"fmt"
	"strings"
	"time"
)

// Type is a Kusto scalar type.
type Type uint8

const (
	TypeUnknown Type = iota
	TypeBool
	TypeInt
	TypeLong
	TypeReal
	TypeDecimal
	TypeString
	TypeDateTime
	TypeTimespan
	TypeGUID
	TypeDynamic
)

var typeNames = [...]string{"unknown", "bool", "int", "long", "real", "decimal", "string", "datetime", "timespan", "guid", "dynamic"}

// String returns the type's Kusto name, as written in a schema (`x:long`).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// typeAliases maps every name Kusto accepts for a type to the type.
var typeAliases = map[string]Type{
	"bool": TypeBool, "boolean": TypeBool, "int": TypeInt, "long": TypeLong, "real": TypeReal,
	"double": TypeReal, "decimal": TypeDecimal, "string": TypeString, "datetime": TypeDateTime,
	"date": TypeDateTime, "timespan": TypeTimespan, "time": TypeTimespan, "guid": TypeGUID,
	"uuid": TypeGUID, "uniqueid": TypeGUID, "dynamic": TypeDynamic,
}

// LookupType returns the type a Kusto type name (or alias) stands for.
func LookupType(name string) (Type, bool) {
	t, ok := typeAliases[name]
	return t, ok
}

// Supported reports whether Kustard can store values of the type. decimal is a real Kusto type
// that Kustard rejects by name rather than approximating with float64.
func (t Type) Supported() bool { return t != TypeUnknown && t != TypeDecimal }

// Ticks per unit: Kusto's datetime and timespan count 100-nanosecond ticks, as .NET does.
const (
	TicksPerMicrosecond int64 = 10
	TicksPerMillisecond int64 = 10_000
	TicksPerSecond      int64 = 10_000_000
	TicksPerMinute      int64 = 60 * TicksPerSecond
	TicksPerHour        int64 = 60 * TicksPerMinute
	TicksPerDay         int64 = 24 * TicksPerHour
)

// Timespan is a Kusto timespan, in ticks.
type Timespan int64

// DateTime is a Kusto datetime: ticks since 0001-01-01T00:00:00Z, always UTC.
type DateTime int64

const (
	unixEpochTicks = 621_355_968_000_000_000 // ticks from 0001-01-01 to 1970-01-01
	MaxDateTime    = 3_155_378_975_999_999_999
)

// DateTimeOf converts a time to a Kusto datetime, truncating to whole ticks.
func DateTimeOf(t time.Time) DateTime {
	t = t.UTC()
	return DateTime(t.Unix()*TicksPerSecond + unixEpochTicks + int64(t.Nanosecond())/100)
}

// Time converts a Kusto datetime to a time.Time in UTC.
func (d DateTime) Time() time.Time {
	ticks := int64(d) - unixEpochTicks
	sec, rem := ticks/TicksPerSecond, ticks%TicksPerSecond
	if rem < 0 {
		sec, rem = sec-1, rem+TicksPerSecond
	}
	return time.Unix(sec, rem*100).UTC()
}

// Valid reports whether d lies in Kusto's datetime range, 0001-01-01 to 9999-12-31.
func (d DateTime) Valid() bool { return d >= 0 && d <= MaxDateTime }

// String formats a datetime as Kusto does, ISO 8601 in UTC with up to seven fractional digits and
// trailing zeros dropped: 2022-07-18T09:03:55.138732Z.
func (d DateTime) String() string {
	t := d.Time()
	s := t.Format("2006-01-02T15:04:05")
	if frac := int64(d) % TicksPerSecond; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%07d", frac), "0")
	}
	return s + "Z"
}

// String formats a timespan as Kusto does ([-][d.]hh:mm:ss[.fffffff]): 00:00:42.9840549, 4.01:02:03.
func (t Timespan) String() string {
	ticks := int64(t)
	sign := ""
	if ticks < 0 {
		sign = "-"
		if ticks == -ticks { // math.MinInt64 cannot be negated; Kusto prints it like this
			return "-10675199.02:48:05.4775808"
		}
		ticks = -ticks
	}
	days := ticks / TicksPerDay
	ticks %= TicksPerDay
	s := sign
	if days > 0 {
		s += fmt.Sprintf("%d.", days)
	}
	s += fmt.Sprintf("%02d:%02d:%02d", ticks/TicksPerHour, ticks%TicksPerHour/TicksPerMinute, ticks%TicksPerMinute/TicksPerSecond)
	if frac := ticks % TicksPerSecond; frac != 0 {
		s += fmt.Sprintf(".%07d", frac)
	}
	return s
}
