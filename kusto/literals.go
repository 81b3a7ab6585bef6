package kusto

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Literal is a constant written in Kusto text. Value is nil for a null, and otherwise by Type:
// bool, int32, int64, float64, string, DateTime, Timespan, uuid.UUID, or for dynamic one of nil,
// bool, int64, float64, string, []any, map[string]any.
type Literal struct {
	Type  Type
	Value any
}

// ParseTypedLiteral parses the text inside name(…) — datetime(2024-01-01), int(null), guid(…),
// dynamic({"a":1}) — into a literal of that type.
func ParseTypedLiteral(name, content string) (Literal, error) {
	typ, ok := LookupType(name)
	if !ok {
		return Literal{}, fmt.Errorf("unknown type %q", name)
	}
	body := strings.TrimSpace(content)
	switch typ {
	case TypeDecimal:
		return Literal{}, errors.New("the decimal type is not supported by Kustard; use real")
	case TypeString:
		// Kusto has no string(…) literal; without this it would be a string with no value.
		return Literal{}, fmt.Errorf("string(…) is not a literal; write %s", Quote(body))
	}
	if body == "null" {
		return Literal{Type: typ}, nil
	}
	var v any
	var err error
	switch typ {
	case TypeBool:
		v, err = ParseBool(body)
	case TypeInt:
		var n int64
		n, err = ParseInteger(body, 32)
		v = int32(n)
	case TypeLong:
		v, err = ParseInteger(body, 64)
	case TypeReal:
		v, err = ParseReal(body)
	case TypeDateTime:
		v, err = ParseDateTime(body)
	case TypeTimespan:
		v, err = ParseTimespan(body)
	case TypeGUID:
		v, err = ParseGUID(body)
	case TypeDynamic:
		v, err = ParseDynamic(body)
	}
	if err != nil {
		var numErr *strconv.NumError
		if errors.As(err, &numErr) {
			err = fmt.Errorf("%q is not a valid %s", body, typ)
		}
		return Literal{}, err
	}
	return Literal{Type: typ, Value: v}, nil
}

// ParseInteger parses a decimal or 0x-prefixed hexadecimal integer with an optional sign. Go's
// base 0 would also read 010 as octal, 0b11 as binary and 1_000 with its underscore, none of which
// is Kusto.
func ParseInteger(s string, bits int) (int64, error) {
	fail := func(err error) (int64, error) { return 0, &strconv.NumError{Func: "ParseInteger", Num: s, Err: err} }
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 {
		return fail(strconv.ErrSyntax)
	}
	base := 10
	if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
		base, digits = 16, digits[2:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return fail(strconv.ErrSyntax)
	}
	u, err := strconv.ParseUint(digits, base, bits)
	if err != nil {
		return fail(err.(*strconv.NumError).Err)
	}
	n := int64(u)
	if strings.HasPrefix(s, "-") {
		n = -n
	}
	limit := uint64(1) << (bits - 1)
	if strings.HasPrefix(s, "-") && u > limit || !strings.HasPrefix(s, "-") && u >= limit {
		return fail(strconv.ErrRange)
	}
	return n, nil
}

func ParseBool(s string) (bool, error) {
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a valid bool (use true or false)", s)
}

func ParseReal(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "nan":
		return math.NaN(), nil
	case "inf", "+inf":
		return math.Inf(1), nil
	case "-inf":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

func ParseGUID(s string) (uuid.UUID, error) {
	if len(s) != 36 || !IsGUIDAt(s, 0) {
		return uuid.UUID{}, fmt.Errorf("%q is not a guid (expected 8-4-4-4-12 hex digits)", s)
	}
	return uuid.Parse(s)
}

var dateTimePattern = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$`)

// ParseDateTime parses the ISO 8601 forms Kusto accepts inside datetime(…): a date, optionally
// followed by T or a space and a time with up to seven fractional digits, optionally Z or an offset.
func ParseDateTime(s string) (DateTime, error) {
	m := dateTimePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a datetime (expected ISO 8601, e.g. 2024-01-31 or 2024-01-31T12:30:00Z)", s)
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(m[i])
		return n
	}
	year, month, day, hour, minute, second := num(1), num(2), num(3), num(4), num(5), num(6)
	t := time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC)
	if t.Year() != year || int(t.Month()) != month || t.Day() != day || hour > 23 || minute > 59 || second > 59 || year < 1 {
		return 0, fmt.Errorf("%q is not a valid date and time", s)
	}
	if zone := m[8]; zone != "" && zone != "Z" {
		offset := strings.ReplaceAll(zone[1:], ":", "")
		h, _ := strconv.Atoi(offset[:2])
		mins, _ := strconv.Atoi(offset[2:])
		d := time.Duration(h)*time.Hour + time.Duration(mins)*time.Minute
		if zone[0] == '+' {
			d = -d
		}
		t = t.Add(d)
	}
	ticks := DateTimeOf(t)
	if frac := m[7]; frac != "" {
		f, _ := strconv.ParseInt((frac + "000000")[:7], 10, 64)
		ticks += DateTime(f)
	}
	if !ticks.Valid() {
		return 0, fmt.Errorf("%q is outside the datetime range", s)
	}
	return ticks, nil
}

var (
	clockPattern = regexp.MustCompile(`^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$`)
	unitPattern  = regexp.MustCompile(`^([+-]?)(\d+(?:\.\d+)?)\s*([a-z]*)$`)
)

// ParseTimespan parses what Kusto accepts inside timespan(…): a literal with a unit (1.5h, 100ms),
// a clock form ([-][d.]hh:mm[:ss[.fffffff]]), or a bare number of days.
func ParseTimespan(s string) (Timespan, error) {
	if m := clockPattern.FindStringSubmatch(s); m != nil {
		num := func(i int) int64 {
			n, _ := strconv.ParseInt(m[i], 10, 64)
			return n
		}
		if num(3) > 23 || num(4) > 59 || num(5) > 59 {
			return 0, fmt.Errorf("%q is not a valid timespan", s)
		}
		frac, _ := strconv.ParseInt((m[6] + "0000000")[:7], 10, 64)
		total := new(big.Int).SetInt64(num(2))
		total.Mul(total, big.NewInt(TicksPerDay))
		total.Add(total, big.NewInt(num(3)*TicksPerHour+num(4)*TicksPerMinute+num(5)*TicksPerSecond+frac))
		if m[1] == "-" {
			total.Neg(total)
		}
		if !total.IsInt64() {
			return 0, fmt.Errorf("%q is outside the timespan range", s)
		}
		return Timespan(total.Int64()), nil
	}
	m := unitPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a timespan (expected e.g. 1d, 1.5h, 30m, 10s, 100ms or 01:30:00)", s)
	}
	unit := m[3]
	if unit == "" {
		unit = "d"
	}
	perUnit, ok := TimespanUnits[unit]
	if !ok {
		return 0, fmt.Errorf("unknown timespan unit %q", unit)
	}
	return scaleTicks(m[1] == "-", m[2], perUnit, s)
}

// scaleTicks multiplies a decimal number by a unit's length in nanoseconds exactly and truncates
// the result to whole ticks.
func scaleTicks(negative bool, number string, unitNanos int64, original string) (Timespan, error) {
	r, ok := new(big.Rat).SetString(number)
	if !ok {
		return 0, fmt.Errorf("%q is not a valid timespan", original)
	}
	r.Mul(r, new(big.Rat).SetFrac64(unitNanos, 100))
	ticks := new(big.Int).Quo(r.Num(), r.Denom())
	if negative {
		ticks.Neg(ticks)
	}
	if !ticks.IsInt64() {
		return 0, fmt.Errorf("%q is outside the timespan range", original)
	}
	return Timespan(ticks.Int64()), nil
}

// ParseTimespanToken parses a Timespan token such as 1.5h.
func ParseTimespanToken(raw string) (Timespan, error) {
	i := strings.IndexFunc(raw, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
	return scaleTicks(false, raw[:i], TimespanUnits[raw[i:]], raw)
}

// ParseDynamic parses the body of dynamic(…): JSON, where strings may also be written in any
// Kusto string form ('…', @"…").
func ParseDynamic(s string) (any, error) {
	p := &dynamicParser{text: s}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.off < len(p.text) {
		return nil, fmt.Errorf("unexpected %q after the dynamic value", p.text[p.off:])
	}
	return v, nil
}

type dynamicParser struct {
	text  string
	off   int
	depth int
}

// maxDynamicDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDynamicDepth = 512

func (p *dynamicParser) skip() {
	for p.off < len(p.text) && IsSpace(rune(p.text[p.off])) {
		p.off++
	}
}

func (p *dynamicParser) value() (any, error) {
	if p.depth++; p.depth > maxDynamicDepth {
		return nil, errors.New("dynamic value is nested too deeply")
	}
	defer func() { p.depth-- }()
	p.skip()
	if p.off >= len(p.text) {
		return nil, errors.New("missing dynamic value")
	}
	switch c := p.text[p.off]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case StartsString(p.text, p.off):
		return p.string()
	case c == '-' || c == '+' || c >= '0' && c <= '9':
		end := p.off + 1
		for end < len(p.text) && strings.IndexByte("0123456789.eE+-", p.text[end]) >= 0 {
			end++
		}
		num := p.text[p.off:end]
		p.off = end
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			return n, nil
		}
		if f, err := strconv.ParseFloat(num, 64); err == nil {
			return f, nil
		}
		return nil, fmt.Errorf("%q is not a number", num)
	default:
		word, end := WordAt(p.text, p.off)
		p.off = end
		switch word {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if word == "" {
			word = string(c)
		}
		return nil, fmt.Errorf("unexpected %q in dynamic value (expected JSON)", word)
	}
}

func (p *dynamicParser) string() (string, error) {
	end, err := ScanString(&Source{Text: p.text}, p.off)
	if err != nil {
		return "", errors.New(err.(*Error).Msg)
	}
	s, _, err := DecodeStrings(p.text[p.off:end])
	p.off = end
	return s, err
}

func (p *dynamicParser) expect(c byte) error {
	p.skip()
	if p.off >= len(p.text) || p.text[p.off] != c {
		return fmt.Errorf("expected %q in dynamic value", c)
	}
	p.off++
	return nil
}

func (p *dynamicParser) peekIs(c byte) bool {
	p.skip()
	return p.off < len(p.text) && p.text[p.off] == c
}

func (p *dynamicParser) array() (any, error) {
	p.off++
	out := []any{}
	for !p.peekIs(']') {
		if len(out) > 0 {
			if err := p.expect(','); err != nil {
				return nil, err
			}
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	p.off++
	return out, nil
}

func (p *dynamicParser) object() (any, error) {
	p.off++
	out := map[string]any{}
	for n := 0; !p.peekIs('}'); n++ {
		if n > 0 {
			if err := p.expect(','); err != nil {
				return nil, err
			}
		}
		p.skip()
		if p.off >= len(p.text) || !StartsString(p.text, p.off) {
			return nil, errors.New("expected a quoted property name in dynamic value")
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	p.off++
	return out, nil
}

// StringList decodes a JSON list of strings, as a validated tags or ingestIfNotExists property holds.
func StringList(v Literal) []string {
	var list []string
	_ = json.Unmarshal([]byte(v.Value.(string)), &list)
	return list
}
