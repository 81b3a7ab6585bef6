package render

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
)

// AppendJSONRow appends row i of cols as a JSON array of Kusto's JSON values (see JSONValue),
// without boxing the values of the common vectors: the server writes every row of a result this
// way, so this is its hot loop.
func AppendJSONRow(b []byte, cols []engine.Column, i int) []byte {
	b = append(b, '[')
	for c, col := range cols {
		if c > 0 {
			b = append(b, ',')
		}
		b = appendJSONCell(b, col, i)
	}
	return append(b, ']')
}

func appendJSONCell(b []byte, col engine.Column, i int) []byte {
	if col.IsNull(i) {
		return append(b, "null"...)
	}
	switch v := col.(type) {
	case *engine.Vector[int64]:
		return strconv.AppendInt(b, v.Data[i], 10)
	case *engine.Vector[int32]:
		return strconv.AppendInt(b, int64(v.Data[i]), 10)
	case *engine.Vector[float64]:
		return AppendJSONReal(b, v.Data[i])
	case *engine.Vector[string]:
		return AppendJSONString(b, v.Data[i])
	case *engine.Vector[bool]:
		return strconv.AppendBool(b, v.Data[i])
	}
	return AppendJSONValue(b, col.Value(i))
}

// AppendJSONValue appends one value as Kusto writes it in JSON: long, int and real as numbers
// (a real JSON cannot hold as "NaN", "Infinity" or "-Infinity"), datetime, timespan and guid as
// strings in Kusto's formats, dynamic as JSON, null as null.
func AppendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		return AppendJSONReal(b, v)
	case string:
		return AppendJSONString(b, v)
	case kusto.DateTime, kusto.Timespan, uuid.UUID:
		return AppendJSONString(b, kusto.FormatValue(v))
	}
	return append(b, kusto.DynamicJSON(v)...)
}

// AppendJSONReal appends a real as encoding/json writes a float64, so that the server and the
// CLI's JSON agree; NaN and the infinities, which JSON lacks, are strings, as Kusto writes them.
func AppendJSONReal(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return AppendJSONString(b, kusto.FormatReal(f))
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // 1e-07 → 1e-7, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Unlike encoding/json it leaves <, > and & alone,
// as Kusto does; control characters are escaped and invalid UTF-8 becomes U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
