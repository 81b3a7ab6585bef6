package formats

import (
	"bytes"

	"github.com/kustard/kustard/kusto"
)

// The converters below take a field's bytes straight to a column's Go type, without boxing the
// value or allocating a string, for the common spellings of each type; anything else goes to
// FromText, so that the rules stay FromText's exactly (TestFastTextAgreesWithFromText holds them
// to it). Each returns the value and true, or false for a null: an empty field, or text that is
// not of the type.

// LongFromText converts a field to a long as FromText does.
func LongFromText(b []byte) (int64, bool) {
	if n, ok := smallInt(b); ok {
		return n, true
	}
	v, _ := FromText(kusto.TypeLong, string(b))
	n, ok := v.(int64)
	return n, ok
}

// IntFromText converts a field to an int as FromText does.
func IntFromText(b []byte) (int32, bool) {
	if n, ok := smallInt(b); ok && n >= -1<<31 && n < 1<<31 {
		return int32(n), true
	}
	v, _ := FromText(kusto.TypeInt, string(b))
	n, ok := v.(int32)
	return n, ok
}

// smallInt parses [+-]digits of at most 18 digits, which cannot overflow an int64.
func smallInt(b []byte) (int64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, i = b[0] == '-', 1
	}
	if len(b)-i == 0 || len(b)-i > 18 {
		return 0, false
	}
	var n int64
	for ; i < len(b); i++ {
		c := b[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int64(c)
	}
	if neg {
		n = -n
	}
	return n, true
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// RealFromText converts a field to a real as FromText does. A plain decimal ([+-]digits[.digits])
// whose digits fit in 2⁵³ and with at most 22 after the point is one exact integer divided by an
// exact power of ten: IEEE division rounds that correctly, as strconv.ParseFloat does (Clinger's
// fast path).
func RealFromText(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, i = b[0] == '-', 1
	}
	var mant uint64
	digits, frac, point := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' && !point {
			point = true
			continue
		}
		if c-'0' > 9 {
			digits = -1
			break
		}
		mant = mant*10 + uint64(c-'0')
		digits++
		if point {
			frac++
		}
		if digits > 15 {
			digits = -1
			break
		}
	}
	if digits > 0 && frac < len(pow10) && !(point && frac == 0) && !(point && digits == frac) {
		f := float64(mant) / pow10[frac]
		if neg {
			f = -f
		}
		return f, true
	}
	v, _ := FromText(kusto.TypeReal, string(b))
	f, ok := v.(float64)
	return f, ok
}

// BoolFromText converts a field to a bool as FromText does.
func BoolFromText(b []byte) (bool, bool) {
	b = bytes.TrimSpace(b)
	switch len(b) {
	case 1:
		switch b[0] {
		case '1':
			return true, true
		case '0':
			return false, true
		}
	case 4:
		if asciiFold(b, "true") {
			return true, true
		}
	case 5:
		if asciiFold(b, "false") {
			return false, true
		}
	}
	return false, false
}

// asciiFold reports whether b is word (lower-case ASCII) in any case, as strings.ToLower(b) ==
// word is: only ASCII letters lower to ASCII letters.
func asciiFold(b []byte, word string) bool {
	for i := range len(word) {
		if b[i]|0x20 != word[i] {
			return false
		}
	}
	return true
}

// DateTimeFromText converts a field to a datetime as FromText does. The fast path takes
// yyyy-mm-dd, optionally followed by T or a space and hh:mm:ss with up to seven fractional
// digits, optionally Z; any other form (an offset, one-digit fields, surrounding blanks) goes to
// kusto.ParseDateTime.
func DateTimeFromText(b []byte) (kusto.DateTime, bool) {
	if d, ok := isoDateTime(b); ok {
		return d, true
	}
	v, _ := FromText(kusto.TypeDateTime, string(b))
	d, ok := v.(kusto.DateTime)
	return d, ok
}

func isoDateTime(b []byte) (kusto.DateTime, bool) {
	n := len(b)
	if n > 0 && b[n-1] == 'Z' {
		n--
	}
	if n != 10 && n < 19 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	var hour, minute, second, ticks int64
	if n > 10 {
		if b[10] != 'T' && b[10] != ' ' || b[13] != ':' || b[16] != ':' {
			return 0, false
		}
		var ok4, ok5, ok6 bool
		hour, ok4 = digits(b[11:13])
		minute, ok5 = digits(b[14:16])
		second, ok6 = digits(b[17:19])
		if !ok4 || !ok5 || !ok6 || hour > 23 || minute > 59 || second > 59 {
			return 0, false
		}
		if n > 19 {
			f := b[20:n]
			if b[19] != '.' || len(f) == 0 || len(f) > 7 {
				return 0, false
			}
			v, ok := digits(f)
			if !ok {
				return 0, false
			}
			for range 7 - len(f) {
				v *= 10
			}
			ticks = v
		}
	}
	days := daysFromCivil(year, month, day)
	secs := days*86400 + hour*3600 + minute*60 + second
	return kusto.DateTime(secs*kusto.TicksPerSecond + ticks), true
}

func digits(b []byte) (int64, bool) {
	var n int64
	for _, c := range b {
		if c-'0' > 9 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func daysIn(year, month int64) int64 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 0001-01-01 (tick 0 of a Kusto datetime) to the date,
// proleptic Gregorian (Howard Hinnant's days_from_civil, shifted to year 1).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400 // y ≥ 0 here
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	// era*146097 + doe - 719468 counts from 1970-01-01; 0001-01-01 is 719162 days before it.
	return era*146097 + doe - 719468 + 719162
}
