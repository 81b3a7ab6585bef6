package formats

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// fastTextCases are spellings each fast converter meets: the forms it takes itself and the
// ones it must leave to FromText.
var fastTextCases = []string{
	"", " ", "0", "-0", "+0", "1", "-1", "+7", "007", " 5", "5 ", "1.5", "-1.5", ".5", "5.", "1e3",
	"1E-3", "inf", "-Inf", "NaN", "0x1p3", "1_000", "12345678901234567", "123456789012345678",
	"1234567890123456789", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
	"2147483647", "2147483648", "-2147483648", "-2147483649", "3.14159265358979", "0.1", "0.30000000000000004",
	"123456789012345.6", "1234567890123456.7", "0.0000000000000000000001", "0.00000000000000000000001",
	"1.", "--1", "+-1", "1-", "1.2.3", "١", "true", "TRUE", "True", "tRuE", "false", "FALSE", " true ",
	"yes", "no", "t", "f", "truee", "fals", "falſe", "2024-01-31", "2024-01-31T12:30:00Z",
	"2024-01-31T12:30:00", "2024-01-31 12:30:00", "2024-01-31T12:30:00.1234567Z",
	"2024-01-31T12:30:00.12345678Z", "2024-01-31T12:30:00.1Z", "2024-01-31T12:30:00.Z", "2024-01-31T12:30",
	"2024-01-31T12:30Z", "2024-1-31", "2024-01-1", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29",
	"2024-04-31", "2024-13-01", "2024-00-10", "2024-01-00", "0000-01-01", "0001-01-01", "9999-12-31T23:59:59.9999999Z",
	"2024-01-31T24:00:00Z", "2024-01-31T23:60:00Z", "2024-01-31T23:59:60Z", "2024-01-31T12:30:00+01:00",
	"2024-01-31T12:30:00-0130", "2024-01-31T12:30:00 Z", "2024-01-31Z", "2024-01-31X12:30:00Z",
	"2024-01-31T12:30:00ZZ", "1970-01-01T00:00:00Z", "1600-03-01", "0400-02-29", "0100-02-29",
}

// TestFastTextAgreesWithFromText: each fast converter gives what FromText gives, on the cases
// above and on random dates, numbers and bytes.
func TestFastTextAgreesWithFromText(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := append([]string(nil), fastTextCases...)
	for range 20000 {
		cases = append(cases,
			strconv.FormatInt(r.Int64()>>r.IntN(63), 10),
			strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(30)-15)), 'f', -1, 64),
			strconv.FormatFloat(float64(r.IntN(1e6))/float64(1+r.IntN(1000)), 'f', r.IntN(12), 64),
			randomDate(r),
			string([]byte{byte(r.IntN(256)), byte('0' + r.IntN(10)), byte(r.IntN(256))}),
		)
	}
	for _, c := range cases {
		b := []byte(c)
		check(t, kusto.TypeLong, c, box(LongFromText(b)))
		check(t, kusto.TypeInt, c, box(IntFromText(b)))
		check(t, kusto.TypeReal, c, box(RealFromText(b)))
		check(t, kusto.TypeBool, c, box(BoolFromText(b)))
		check(t, kusto.TypeDateTime, c, box(DateTimeFromText(b)))
	}
}

func randomDate(r *rand.Rand) string {
	d := kusto.DateTime(r.Int64N(int64(kusto.MaxDateTime)))
	s := d.Time().Format("2006-01-02T15:04:05.0000000Z")
	switch r.IntN(6) {
	case 0:
		return s[:10]
	case 1:
		return s[:19]
	case 2:
		return s[:19] + "Z"
	case 3:
		return s[:21+r.IntN(6)] + "Z"
	case 4: // a day that may not exist
		return s[:8] + strconv.Itoa(28+r.IntN(4)) + s[10:]
	}
	return s
}

func box[T any](v T, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func check(t *testing.T, typ kusto.Type, text string, got any) {
	t.Helper()
	want, _ := FromText(typ, text)
	if f, ok := want.(float64); ok {
		if g, ok := got.(float64); ok && (math.Float64bits(f) == math.Float64bits(g) || math.IsNaN(f) && math.IsNaN(g)) {
			return
		}
	} else if got == want {
		return
	}
	t.Errorf("%s of %q: fast %#v, FromText %#v", typ, text, got, want)
}
