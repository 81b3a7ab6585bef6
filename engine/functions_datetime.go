package engine

import (
	"strings"
	"time"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Datetime functions. now() and ago() read the query's clock, fixed once per query. The
// calendar is the proleptic Gregorian one of .NET's DateTime, on ticks from 0001-01-01 (a
// Monday). A result moved out of the datetime range by an amount (datetime_add, the offsets of
// startof…/endof…, bin_at) fails with E_OVERFLOW, as datetime + timespan does; one made from
// parts that do not form a datetime (make_datetime, unixtime_…) is null, as the docs say.

var tOffset = typeSet{name: "offset", desc: "an int or a long", types: []kusto.Type{kusto.TypeInt, kusto.TypeLong}, to: kusto.TypeLong}

func init() {
	dt, ts := kusto.TypeDateTime, kusto.TypeTimespan
	part := func(name, summary string, f func(kusto.DateTime) int32) *function {
		return &function{name: name, usage: name + "(date)", summary: summary,
			overload: []overload{{params: []typeSet{tDateTime}, result: returns(kusto.TypeInt), build: datePart(f)}}}
	}
	period := func(name, unit string, start func(kusto.DateTime, int64) (kusto.DateTime, bool), end bool) *function {
		b := periodBuild(start, end)
		what := "start"
		if end {
			what = "end (its last tick)"
		}
		return &function{name: name, usage: name + "(date[, offset])",
			summary: "The " + what + " of the " + unit + " of a date, moved by offset " + unit + "s if given.",
			overload: []overload{
				{params: []typeSet{tDateTime}, result: returns(dt), build: b},
				{params: []typeSet{tDateTime, tOffset}, result: returns(dt), build: b},
			}}
	}
	unix := func(unit string, ticks int64) *function {
		name := "unixtime_" + unit + "_todatetime"
		b := unixBuild(ticks)
		return &function{name: name, usage: name + "(" + unit + ")",
			summary: "The datetime a number of " + unit + " after the Unix epoch (1970-01-01); null if out of range.",
			overload: []overload{
				{params: []typeSet{exactly(kusto.TypeLong)}, result: returns(dt), build: b},
				{params: []typeSet{tReal}, result: returns(dt), build: b},
			}}
	}
	declare(
		&function{name: "now", usage: "now([offset])", summary: "The time the query started, plus offset if given.", class: perQuery,
			overload: []overload{
				{result: returns(dt), build: buildNow},
				{params: []typeSet{tTimespan}, result: returns(dt), build: buildNow},
			}},
		&function{name: "ago", usage: "ago(timespan)", summary: "The time the query started, minus a timespan.", class: perQuery,
			overload: []overload{{params: []typeSet{tTimespan}, result: returns(dt), build: buildAgo}}},
		period("startofday", "day", startOfDay, false), period("endofday", "day", startOfDay, true),
		period("startofweek", "week", startOfWeek, false), period("endofweek", "week", startOfWeek, true),
		period("startofmonth", "month", startOfMonth, false), period("endofmonth", "month", startOfMonth, true),
		period("startofyear", "year", startOfYear, false), period("endofyear", "year", startOfYear, true),
		&function{name: "dayofweek", usage: "dayofweek(date)", summary: "The whole days since the Sunday before a date, as a timespan (0.00:00:00 on a Sunday).",
			overload: []overload{{params: []typeSet{tDateTime}, result: returns(ts), build: buildDayOfWeek}}},
		part("dayofmonth", "The day of the month of a date, 1 to 31.", func(d kusto.DateTime) int32 { _, _, day := civil(d); return day }),
		part("dayofyear", "The day of the year of a date, 1 to 366.", dayOfYear),
		part("getmonth", "The month of a date, 1 to 12.", func(d kusto.DateTime) int32 { _, m, _ := civil(d); return m }),
		part("getyear", "The year of a date.", func(d kusto.DateTime) int32 { y, _, _ := civil(d); return y }),
		part("hourofday", "The hour of a date, 0 to 23.", func(d kusto.DateTime) int32 { return int32(int64(d) % kusto.TicksPerDay / kusto.TicksPerHour) }),
		&function{name: "datetime_part", usage: "datetime_part(part, date)",
			summary:  "A part of a date as an int: year, quarter, month, week_of_year (ISO 8601), day, dayofyear, hour, minute, second, millisecond, microsecond or nanosecond.",
			overload: []overload{{params: []typeSet{tString, tDateTime}, result: returns(kusto.TypeInt), build: buildDatetimePart}}},
		&function{name: "datetime_add", usage: "datetime_add(period, amount, datetime)",
			summary:  "A datetime moved by amount periods: year, quarter, month, week, day, hour, minute, second, millisecond, microsecond or nanosecond.",
			overload: []overload{{params: []typeSet{tString, tLong, tDateTime}, result: returns(dt), build: buildDatetimeAdd}}},
		&function{name: "datetime_diff", usage: "datetime_diff(period, datetime1, datetime2)",
			summary:  "The number of period boundaries (year … nanosecond) between datetime2 and datetime1: datetime1 - datetime2 in periods.",
			overload: []overload{{params: []typeSet{tString, tDateTime, tDateTime}, result: returns(kusto.TypeLong), build: buildDatetimeDiff}}},
		&function{name: "make_datetime", usage: "make_datetime(year, month, day[, hour, minute[, second]])",
			summary: "The datetime of the given parts; null if they do not form one.",
			overload: []overload{
				{params: []typeSet{tLong, tLong, tLong}, result: returns(dt), build: buildMakeDatetime},
				{params: []typeSet{tLong, tLong, tLong, tLong, tLong}, result: returns(dt), build: buildMakeDatetime},
				{params: []typeSet{tLong, tLong, tLong, tLong, tLong, tReal}, result: returns(dt), build: buildMakeDatetime},
			}},
		&function{name: "make_timespan", usage: "make_timespan([day,] hour, minute[, second])",
			summary: "The timespan of the given parts (hour 0-23, minute 0-59, second under 60); null if they are out of range.",
			overload: []overload{
				{params: []typeSet{tLong, tLong}, result: returns(ts), build: buildMakeTimespan},
				{params: []typeSet{tLong, tLong, tReal}, result: returns(ts), build: buildMakeTimespan},
				{params: []typeSet{tLong, tLong, tLong, tReal}, result: returns(ts), build: buildMakeTimespan},
			}},
		&function{name: "format_datetime", usage: "format_datetime(date, format)",
			summary:  "A datetime formatted by elements such as yyyy, MM, dd, HH, hh, mm, ss, fffffff, FFFFFFF and tt, and the delimiters between them.",
			overload: []overload{{params: []typeSet{tDateTime, tString}, result: returns(kusto.TypeString), build: buildFormat(false)}}},
		&function{name: "format_timespan", usage: "format_timespan(timespan, format)",
			summary:  "A timespan formatted by elements such as d…dddddddd, HH, mm, ss, fffffff and FFFFFFF, and the delimiters between them.",
			overload: []overload{{params: []typeSet{tTimespan, tString}, result: returns(kusto.TypeString), build: buildFormat(true)}}},
		unix("seconds", kusto.TicksPerSecond), unix("milliseconds", kusto.TicksPerMillisecond),
		unix("microseconds", kusto.TicksPerMicrosecond), unix("nanoseconds", 0),
	)
}

func buildNow(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	now := sc.c.now
	if len(args) == 0 {
		return constant(kusto.TypeDateTime, now), nil
	}
	return binaryNode(kusto.TypeDateTime, constant(kusto.TypeDateTime, now), args[0], dateShift(1, sc.site(call.At, call, kusto.TypeDateTime))), nil
}

func buildAgo(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return binaryNode(kusto.TypeDateTime, constant(kusto.TypeDateTime, sc.c.now), args[0], dateShift(-1, sc.site(call.At, call, kusto.TypeDateTime))), nil
}

// civil returns the year, month and day of a datetime (Hinnant's days-to-civil, on days from
// 0001-01-01).
func civil(d kusto.DateTime) (year, month, day int32) {
	z := int64(d)/kusto.TicksPerDay + 306 // days from 0000-03-01
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int32(y), int32(m), int32(dd)
}

// daysFrom returns the days from 0001-01-01 to a date; months and days past their ranges carry
// into the year (month 13 is January of the next year), so callers may add to them freely.
func daysFrom(year, month, day int64) int64 {
	month--
	year += floorDiv(month, 12)
	month = month - floorDiv(month, 12)*12 + 1
	if month <= 2 {
		year--
	}
	era := floorDiv(year, 400)
	yoe := year - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 306
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func dayOfYear(d kusto.DateTime) int32 {
	y, _, _ := civil(d)
	return int32(int64(d)/kusto.TicksPerDay - daysFrom(int64(y), 1, 1) + 1)
}

func datePart(f func(kusto.DateTime) int32) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		return unaryNode(kusto.TypeInt, args[0], func(d []int32, a []kusto.DateTime) {
			d = d[:len(a)]
			for i, v := range a {
				d[i] = f(v)
			}
		}), nil
	}
}

func buildDayOfWeek(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return unaryNode(kusto.TypeTimespan, args[0], func(d []kusto.Timespan, a []kusto.DateTime) {
		d = d[:len(a)]
		for i, v := range a {
			d[i] = kusto.Timespan((int64(v)/kusto.TicksPerDay + 1) % 7 * kusto.TicksPerDay) // 0001-01-01 was a Monday
		}
	}), nil
}

// The period starts: the start of the period of d moved by k periods, in ticks that may be out
// of range (ok is false when even the arithmetic would overflow).

const maxDays = kusto.MaxDateTime / kusto.TicksPerDay

func startOfDay(d kusto.DateTime, k int64) (kusto.DateTime, bool) {
	days := int64(d) / kusto.TicksPerDay
	if k > maxDays+1 || k < -maxDays-1 {
		return 0, false
	}
	return kusto.DateTime((days + k) * kusto.TicksPerDay), true
}

func startOfWeek(d kusto.DateTime, k int64) (kusto.DateTime, bool) {
	days := int64(d) / kusto.TicksPerDay
	if k > maxDays/7+1 || k < -maxDays/7-1 {
		return 0, false
	}
	return kusto.DateTime((days - (days+1)%7 + 7*k) * kusto.TicksPerDay), true
}

func startOfMonth(d kusto.DateTime, k int64) (kusto.DateTime, bool) {
	if k > 12*10000 || k < -12*10000 {
		return 0, false
	}
	y, m, _ := civil(d)
	return kusto.DateTime(daysFrom(int64(y), int64(m)+k, 1) * kusto.TicksPerDay), true
}

func startOfYear(d kusto.DateTime, k int64) (kusto.DateTime, bool) {
	if k > 10000 || k < -10000 {
		return 0, false
	}
	y, _, _ := civil(d)
	return kusto.DateTime(daysFrom(int64(y)+k, 1, 1) * kusto.TicksPerDay), true
}

func periodBuild(start func(kusto.DateTime, int64) (kusto.DateTime, bool), end bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		offset := constant(kusto.TypeLong, int64(0))
		if len(args) == 2 {
			offset = args[1]
		}
		site := sc.site(call.At, call, kusto.TypeDateTime)
		return map2Node(kusto.TypeDateTime, args[0], offset, func(d kusto.DateTime, k int64) (kusto.DateTime, bool) {
			if end {
				if k == 1<<63-1 {
					site.fail()
				}
				k++
			}
			r, ok := start(d, k)
			if end {
				r--
			}
			if !ok || !r.Valid() {
				site.fail()
			}
			return r, true
		}), nil
	}
}

// periodNames maps the periods of datetime_add, datetime_diff and datetime_part, which the docs
// list case-insensitively, to one spelling.
func periodOf(s string) string { return strings.ToLower(s) }

var (
	addPeriods  = wordSet("year quarter month week day hour minute second millisecond microsecond nanosecond")
	partPeriods = wordSet("year quarter month week_of_year day dayofyear hour minute second millisecond microsecond nanosecond")
)

// checkPeriod rejects a constant period the function does not know, where it is written; a
// period that is not constant and not known makes its row null.
func checkPeriod(sc *scope, call *parser.CallExpr, args []*compiled, known map[string]bool) error {
	if p, ok := constString(args[0]); ok && !known[periodOf(p)] {
		return sc.c.errorf(call.Args[0].Offset(), kusto.KindSemantic, "%s: unknown period %q", call.Func, p)
	}
	return nil
}

var unitTicks = map[string]int64{
	"week": 7 * kusto.TicksPerDay, "day": kusto.TicksPerDay, "hour": kusto.TicksPerHour, "minute": kusto.TicksPerMinute,
	"second": kusto.TicksPerSecond, "millisecond": kusto.TicksPerMillisecond, "microsecond": kusto.TicksPerMicrosecond, "nanosecond": 1,
}

func buildDatetimeAdd(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if err := checkPeriod(sc, call, args, addPeriods); err != nil {
		return nil, err
	}
	site := sc.site(call.At, call, kusto.TypeDateTime)
	return map3Node(kusto.TypeDateTime, args[0], args[1], args[2], func(p string, n int64, d kusto.DateTime) (kusto.DateTime, bool) {
		p = periodOf(p)
		var months int64
		switch p {
		case "year":
			months = 12
		case "quarter":
			months = 3
		case "month":
			months = 1
		case "nanosecond":
			return checkedShift(d, n/100, site), true // a tick is 100 ns; less than a tick is dropped
		default:
			unit, ok := unitTicks[p]
			if !ok {
				return 0, false
			}
			if n > kusto.MaxDateTime/unit || n < -kusto.MaxDateTime/unit {
				site.fail()
			}
			return checkedShift(d, n*unit, site), true
		}
		if n > 12*10000 || n < -12*10000 {
			site.fail()
		}
		return addMonths(d, n*months, site), true
	}), nil
}

func checkedShift(d kusto.DateTime, ticks int64, site *overflowSite) kusto.DateTime {
	r := d + kusto.DateTime(ticks)
	if ticks > kusto.MaxDateTime || ticks < -kusto.MaxDateTime || !r.Valid() {
		site.fail()
	}
	return r
}

// addMonths moves d by n months, keeping its time of day and clamping its day to the new
// month's last, as .NET's AddMonths does (January 31 plus a month is February 28 or 29).
func addMonths(d kusto.DateTime, n int64, site *overflowSite) kusto.DateTime {
	y, m, day := civil(d)
	total := int64(y)*12 + int64(m) - 1 + n
	ny, nm := floorDiv(total, 12), total-floorDiv(total, 12)*12+1
	if ny < 1 || ny > 9999 {
		site.fail()
	}
	dd := min(int64(day), daysIn(ny, nm))
	return kusto.DateTime(daysFrom(ny, nm, dd)*kusto.TicksPerDay + int64(d)%kusto.TicksPerDay)
}

func buildDatetimeDiff(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if err := checkPeriod(sc, call, args, addPeriods); err != nil {
		return nil, err
	}
	return map3Node(kusto.TypeLong, args[0], args[1], args[2], func(p string, a, b kusto.DateTime) (int64, bool) {
		p = periodOf(p)
		ya, ma, _ := civil(a)
		yb, mb, _ := civil(b)
		switch p {
		case "year":
			return int64(ya - yb), true
		case "quarter":
			return int64(ya*4+(ma-1)/3) - int64(yb*4+(mb-1)/3), true
		case "month":
			return int64(ya*12+ma) - int64(yb*12+mb), true
		case "week":
			sa, _ := startOfWeek(a, 0)
			sb, _ := startOfWeek(b, 0)
			return int64(sa-sb) / (7 * kusto.TicksPerDay), true
		case "nanosecond":
			return int64(a-b) * 100, true
		}
		unit, ok := unitTicks[p]
		if !ok {
			return 0, false
		}
		return int64(a)/unit - int64(b)/unit, true // ticks are not negative, so / is floor
	}), nil
}

func buildDatetimePart(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	if err := checkPeriod(sc, call, args, partPeriods); err != nil {
		return nil, err
	}
	return map2Node(kusto.TypeInt, args[0], args[1], func(p string, d kusto.DateTime) (int32, bool) {
		y, m, day := civil(d)
		tod := int64(d) % kusto.TicksPerDay
		switch periodOf(p) {
		case "year":
			return y, true
		case "quarter":
			return (m-1)/3 + 1, true
		case "month":
			return m, true
		case "week_of_year":
			_, w := d.Time().ISOWeek()
			return int32(w), true
		case "day":
			return day, true
		case "dayofyear":
			return dayOfYear(d), true
		case "hour":
			return int32(tod / kusto.TicksPerHour), true
		case "minute":
			return int32(tod % kusto.TicksPerHour / kusto.TicksPerMinute), true
		case "second":
			return int32(tod % kusto.TicksPerMinute / kusto.TicksPerSecond), true
		case "millisecond":
			return int32(tod % kusto.TicksPerSecond / kusto.TicksPerMillisecond), true
		case "microsecond":
			return int32(tod % kusto.TicksPerSecond / kusto.TicksPerMicrosecond), true
		case "nanosecond":
			return int32(tod % kusto.TicksPerSecond * 100), true
		}
		return 0, false
	}), nil
}

func buildMakeDatetime(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeDateTime, args, func(v []any) (kusto.DateTime, bool) {
		for _, x := range v {
			if x == nil {
				return 0, false
			}
		}
		y, m, d := v[0].(int64), v[1].(int64), v[2].(int64)
		if y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
			return 0, false
		}
		ticks := daysFrom(y, m, d) * kusto.TicksPerDay
		if len(v) >= 5 {
			h, mi := v[3].(int64), v[4].(int64)
			if h < 0 || h > 23 || mi < 0 || mi > 59 {
				return 0, false
			}
			ticks += h*kusto.TicksPerHour + mi*kusto.TicksPerMinute
		}
		if len(v) == 6 {
			s := v[5].(float64)
			if !(s >= 0 && s < 60) {
				return 0, false
			}
			ticks += int64(roundTicks(s * float64(kusto.TicksPerSecond)))
		}
		return kusto.DateTime(ticks), kusto.DateTime(ticks).Valid()
	}), nil
}

func roundTicks(f float64) float64 {
	if f < 0 {
		return -float64(int64(-f + 0.5))
	}
	return float64(int64(f + 0.5))
}

func buildMakeTimespan(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
	return boxedNode(kusto.TypeTimespan, args, func(v []any) (kusto.Timespan, bool) {
		for _, x := range v {
			if x == nil {
				return 0, false
			}
		}
		var days int64
		if len(v) == 4 {
			days, v = v[0].(int64), v[1:]
		}
		h, m := v[0].(int64), v[1].(int64)
		s := 0.0
		if len(v) == 3 {
			s = v[2].(float64)
		}
		if h < 0 || h > 23 || m < 0 || m > 59 || !(s >= 0 && s < 60) || days > maxDays || days < -maxDays {
			return 0, false
		}
		return kusto.Timespan(days*kusto.TicksPerDay + h*kusto.TicksPerHour + m*kusto.TicksPerMinute + int64(roundTicks(s*float64(kusto.TicksPerSecond)))), true
	}), nil
}

// unixBuild converts a count of units since the Unix epoch, each perUnit ticks (0 for
// nanoseconds, a hundredth of a tick); a long converts exactly, a real to the nearest tick.
func unixBuild(perUnit int64) buildFunc {
	epoch := kusto.DateTimeOf(time.Unix(0, 0))
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		if args[0].typ == kusto.TypeLong {
			return convNode(kusto.TypeDateTime, args[0], func(n int64) (kusto.DateTime, bool) {
				var ticks int64
				switch {
				case perUnit == 0:
					ticks = floorDiv(n, 100)
				case n > kusto.MaxDateTime/perUnit || n < -kusto.MaxDateTime/perUnit:
					return 0, false
				default:
					ticks = n * perUnit
				}
				r := epoch + kusto.DateTime(ticks)
				return r, r.Valid()
			}), nil
		}
		scale := float64(perUnit)
		if perUnit == 0 {
			scale = 0.01
		}
		return convNode(kusto.TypeDateTime, args[0], func(f float64) (kusto.DateTime, bool) {
			t := roundTicks(f * scale)
			if !(t > -float64(kusto.MaxDateTime) && t < float64(kusto.MaxDateTime)) {
				return 0, false
			}
			r := epoch + kusto.DateTime(t)
			return r, r.Valid()
		}), nil
	}
}
