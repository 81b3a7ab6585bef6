package engine

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// format_datetime and format_timespan: a format is a sequence of elements (a run of one
// format letter, as yyyy or fff) and the characters between them, which are copied. The
// elements are those of the functions' pages; any other run of letters is an error where the
// format is written (or, for a format that is not a constant, an empty result).

type formatElem struct {
	letter byte // 0 for literal text
	n      int
	text   string
}

// formatLimits are the longest runs of each letter the pages list.
var (
	dateLimits = map[byte]int{'d': 2, 'f': 7, 'F': 7, 'h': 2, 'H': 2, 'm': 2, 'M': 2, 's': 2, 'y': 4, 't': 2}
	spanLimits = map[byte]int{'d': 8, 'f': 7, 'F': 7, 'h': 2, 'H': 2, 'm': 2, 's': 2}
)

func parseFormat(s string, span bool) ([]formatElem, error) {
	limits := dateLimits
	if span {
		limits = spanLimits
	}
	var out []formatElem
	for i := 0; i < len(s); {
		c := s[i]
		j := i + 1
		isLetter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !isLetter {
			for j < len(s) && !(s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
				j++
			}
			out = append(out, formatElem{text: s[i:j]})
			i = j
			continue
		}
		for j < len(s) && s[j] == c {
			j++
		}
		n := j - i
		if limit, ok := limits[c]; !ok || n > limit || c == 't' && n != 2 {
			return nil, fmt.Errorf("unsupported format element %q", s[i:j])
		}
		out = append(out, formatElem{letter: c, n: n})
		i = j
	}
	return out, nil
}

func pad(v int64, n int) string {
	s := strconv.FormatInt(v, 10)
	for len(s) < n {
		s = "0" + s
	}
	return s
}

// fraction writes the first n digits of the seven of a tick fraction: all of them for f, the
// ones up to the last non-zero for F; it reports whether it wrote any.
func fraction(sb *strings.Builder, frac int64, e formatElem) bool {
	digits := fmt.Sprintf("%07d", frac)[:e.n]
	if e.letter == 'F' {
		digits = strings.TrimRight(digits, "0")
	}
	sb.WriteString(digits)
	return digits != ""
}

func formatDate(d kusto.DateTime, elems []formatElem) string {
	y, mo, day := civil(d)
	tod := int64(d) % kusto.TicksPerDay
	h := tod / kusto.TicksPerHour
	var sb strings.Builder
	for _, e := range elems {
		switch e.letter {
		case 0:
			sb.WriteString(e.text)
		case 'd':
			sb.WriteString(pad(int64(day), e.n))
		case 'f', 'F':
			if !fraction(&sb, tod%kusto.TicksPerSecond, e) && strings.HasSuffix(sb.String(), ".") {
				// As .NET's DateTime formatting does, an F with nothing to show takes its point with it.
				s := sb.String()
				sb.Reset()
				sb.WriteString(s[:len(s)-1])
			}
		case 'h':
			sb.WriteString(pad((h+11)%12+1, e.n))
		case 'H':
			sb.WriteString(pad(h, e.n))
		case 'm':
			sb.WriteString(pad(tod%kusto.TicksPerHour/kusto.TicksPerMinute, e.n))
		case 'M':
			sb.WriteString(pad(int64(mo), e.n))
		case 's':
			sb.WriteString(pad(tod%kusto.TicksPerMinute/kusto.TicksPerSecond, e.n))
		case 'y':
			if e.n <= 2 {
				sb.WriteString(pad(int64(y%100), e.n))
			} else {
				sb.WriteString(pad(int64(y), e.n))
			}
		case 't':
			if h < 12 {
				sb.WriteString("AM")
			} else {
				sb.WriteString("PM")
			}
		}
	}
	return sb.String()
}

// formatSpan formats a timespan's magnitude; a negative one gets a leading minus, which the
// page does not cover.
func formatSpan(t kusto.Timespan, elems []formatElem) string {
	ticks := uint64(t)
	var sb strings.Builder
	if t < 0 {
		sb.WriteByte('-')
		ticks = -ticks
	}
	day := uint64(kusto.TicksPerDay)
	rest := int64(ticks % day)
	for _, e := range elems {
		switch e.letter {
		case 0:
			sb.WriteString(e.text)
		case 'd':
			s := strconv.FormatUint(ticks/day, 10)
			sb.WriteString(strings.Repeat("0", max(0, e.n-len(s))) + s)
		case 'f', 'F':
			fraction(&sb, rest%kusto.TicksPerSecond, e)
		case 'h', 'H':
			sb.WriteString(pad(rest/kusto.TicksPerHour, e.n))
		case 'm':
			sb.WriteString(pad(rest%kusto.TicksPerHour/kusto.TicksPerMinute, e.n))
		case 's':
			sb.WriteString(pad(rest%kusto.TicksPerMinute/kusto.TicksPerSecond, e.n))
		}
	}
	return sb.String()
}

func buildFormat(span bool) buildFunc {
	return func(sc *scope, call *parser.CallExpr, args []*compiled) (*compiled, error) {
		var fixed []formatElem
		if f, ok := constString(args[1]); ok {
			elems, err := parseFormat(f, span)
			if err != nil {
				return nil, sc.c.errorf(call.Args[1].Offset(), kusto.KindSemantic, "%s: %v", call.Func, err)
			}
			fixed = elems
		}
		elemsOf := func(f string) ([]formatElem, bool) {
			if fixed != nil {
				return fixed, true
			}
			elems, err := parseFormat(f, span)
			return elems, err == nil
		}
		if span {
			return map2Node(kusto.TypeString, args[0], args[1], func(t kusto.Timespan, f string) (string, bool) {
				elems, ok := elemsOf(f)
				if !ok {
					return "", true
				}
				return formatSpan(t, elems), true
			}), nil
		}
		return map2Node(kusto.TypeString, args[0], args[1], func(d kusto.DateTime, f string) (string, bool) {
			elems, ok := elemsOf(f)
			if !ok {
				return "", true
			}
			return formatDate(d, elems), true
		}), nil
	}
}
