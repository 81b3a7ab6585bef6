package formats

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"reflect"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet files are read with parquet-go, the library the store writes its extents with. The
// store keeps its own lossless encoding (store/parquet.go, tied to its extent metadata); this
// file reads any Parquet file — DuckDB's, Spark's, pandas' — by its logical types, as Kusto's
// ingestion does (parquet-mapping.md, "Parquet type conversions"):
//
//	BOOLEAN                     bool
//	INT32/INT64, INT(n, s|u)    long (a UINT64 past 2^63 is null)
//	FLOAT, DOUBLE               real
//	DECIMAL (INT32, INT64, FLBA, BA)  real: Kustard has no decimal type, and a real is what
//	                            Kusto converts to when the column is real
//	DATE                        datetime, midnight UTC
//	TIMESTAMP(MILLIS|MICROS|NANOS), legacy TIMESTAMP_MILLIS/MICROS, INT96  datetime (nanos truncated to ticks)
//	TIME(MILLIS|MICROS|NANOS)   timespan
//	STRING, ENUM, JSON          string (JSON: its value, parsed, for a dynamic column)
//	UUID                        guid
//	BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY  string, base64 (as Kusto's BytesAsBase64 would give)
//	a group (LIST, MAP, struct) dynamic: arrays and property bags
//
// Each record's Value is a map from the file's top-level field names to these values, so that
// Parquet mappings (Path "$.field", or Field) select from it as Json mappings do.

// parquetRowBatch is how many rows the reader takes from the library at a time: the library
// decodes page by page, so memory is bounded by a page per column plus this batch.
const parquetRowBatch = 256

// ParquetReader reads the rows of a Parquet file as records, a batch at a time, row group
// after row group.
type ParquetReader struct {
	file    *parquet.File
	rows    *parquet.Reader
	fields  []parquetField
	leafCol map[int]int // leaf column index → field, for top-level leaves
	nested  bool
	buf     []parquet.Row
	n, at   int
	line    int
	rec     Record
}

type parquetField struct {
	name   string
	leaf   bool
	decode func(parquet.Value) any // for a leaf
	node   parquet.Node
}

// NewParquetReader opens the Parquet file r of size bytes: its footer is read now, its rows
// as Next asks for them. A file that is not Parquet, or is truncated, is an *Error.
func NewParquetReader(r io.ReaderAt, size int64) (_ *ParquetReader, err error) {
	defer recoverParquet(&err)
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, parquetError("the file is not valid Parquet (truncated, or another format): %v", err)
	}
	p := &ParquetReader{file: f, leafCol: map[int]int{}}
	schema := f.Schema()
	col := 0
	for i, field := range schema.Fields() {
		pf := parquetField{name: field.Name(), leaf: field.Leaf(), node: field}
		if field.Leaf() && !field.Repeated() {
			dec, err := leafDecoder(field)
			if err != nil {
				return nil, parquetError("column %q: %v", field.Name(), err)
			}
			pf.decode = dec
			p.leafCol[col] = i
			col++
		} else {
			pf.leaf = false
			p.nested = true
			col += countLeaves(field)
		}
		p.fields = append(p.fields, pf)
	}
	p.rows = parquet.NewReader(f, schema)
	p.buf = make([]parquet.Row, parquetRowBatch)
	return p, nil
}

// NumRows is the file's row count, from its footer.
func (p *ParquetReader) NumRows() int64 { return p.file.NumRows() }

// Columns are the file's top-level field names.
func (p *ParquetReader) Columns() []string {
	out := make([]string, len(p.fields))
	for i, f := range p.fields {
		out[i] = f.name
	}
	return out
}

// Line is the 1-based row the last record was.
func (p *ParquetReader) Line() int { return p.line }

func countLeaves(n parquet.Node) int {
	if n.Leaf() {
		return 1
	}
	c := 0
	for _, f := range n.Fields() {
		c += countLeaves(f)
	}
	return c
}

func parquetError(f string, args ...any) *Error {
	return &Error{Code: "BadRequest_InvalidBlob", Offset: -1, Msg: fmt.Sprintf(f, args...)}
}

// recoverParquet turns a panic of the library on a malformed file into an error: a bad file
// must never take the process down.
func recoverParquet(err *error) {
	if r := recover(); r != nil {
		*err = parquetError("the file is corrupt: %v", r)
	}
}

// Next returns the next row as a record whose Value is a map of the top-level fields.
func (p *ParquetReader) Next() (_ *Record, err error) {
	defer recoverParquet(&err)
	if p.at == p.n {
		p.at = 0
		n, err := p.rows.ReadRows(p.buf)
		p.n = n
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, parquetError("row %d: %v", p.line+1, err)
		}
	}
	row := p.buf[p.at]
	p.at++
	p.line++
	obj := make(map[string]any, len(p.fields))
	for _, v := range row {
		if i, ok := p.leafCol[v.Column()]; ok {
			if v.IsNull() {
				obj[p.fields[i].name] = nil
			} else {
				obj[p.fields[i].name] = p.fields[i].decode(v)
			}
		}
	}
	if p.nested {
		whole := map[string]any{}
		if err := p.file.Schema().Reconstruct(&whole, row); err != nil {
			return nil, parquetError("row %d: %v", p.line, err)
		}
		for _, f := range p.fields {
			if !f.leaf {
				obj[f.name] = nestedValue(whole[f.name])
			}
		}
	}
	p.rec = Record{Line: p.line, Value: obj}
	return &p.rec, nil
}

// Skipped: a Parquet file has no records to skip; a bad file fails.
func (p *ParquetReader) Skipped() (int, *Error) { return 0, nil }

// Close releases the row reader.
func (p *ParquetReader) Close() error { return p.rows.Close() }

// nestedValue turns what the library reconstructs for a group into a dynamic value: bytes are
// strings, numbers int64 or float64, as JSON values are.
func nestedValue(v any) any {
	switch x := v.(type) {
	case nil, bool, int64, float64, string:
		return x
	case []byte:
		return string(x)
	case int32:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return float64(x)
		}
		return int64(x)
	case int:
		return int64(x)
	case float32:
		return float64(x)
	case deprecated.Int96:
		return int96Time(x).String()
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = nestedValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = nestedValue(e)
		}
		return out
	}
	// What else the library builds (pointers for optional map values, typed slices and maps)
	// is walked by reflection.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return nestedValue(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = nestedValue(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			out[fmt.Sprint(nestedValue(it.Key().Interface()))] = nestedValue(it.Value().Interface())
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		for i := 0; i < rv.NumField(); i++ {
			if rv.Type().Field(i).IsExported() {
				out[rv.Type().Field(i).Name] = nestedValue(rv.Field(i).Interface())
			}
		}
		return out
	}
	return fmt.Sprint(v)
}

// leafDecoder returns how a top-level leaf's values become record values.
func leafDecoder(n parquet.Node) (func(parquet.Value) any, error) {
	t := n.Type()
	lt := t.LogicalType()
	ct := t.ConvertedType()
	kind := t.Kind()
	var value format.LogicalTypeValue
	if lt != nil {
		value = lt.Value
	}
	switch x := value.(type) {
	case *format.TimestampType:
		return timestampDecoder(unitOf(&x.Unit)), nil
	case *format.TimeType:
		per := unitOf(&x.Unit)
		return func(v parquet.Value) any { return kusto.Timespan(scaleTicks(int64Of(v), per)) }, nil
	case *format.DateType:
		return func(v parquet.Value) any { return kusto.DateTime(int64(v.Int32())*kusto.TicksPerDay + unixEpoch) }, nil
	case *format.DecimalType:
		return decimalDecoder(kind, int(x.Scale)), nil
	case *format.UUIDType:
		return func(v parquet.Value) any {
			u, err := uuid.FromBytes(v.ByteArray())
			if err != nil {
				return nil
			}
			return u
		}, nil
	case *format.IntType:
		if !x.IsSigned {
			return func(v parquet.Value) any {
				if kind == parquet.Int32 {
					return int64(v.Uint32())
				}
				u := v.Uint64()
				if u > math.MaxInt64 {
					return nil
				}
				return int64(u)
			}, nil
		}
	case *format.StringType, *format.EnumType, *format.JsonType:
		return func(v parquet.Value) any { return string(v.ByteArray()) }, nil
	case *format.NullType:
		return func(parquet.Value) any { return nil }, nil
	}
	if value == nil && ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			return timestampDecoder(1e6), nil
		case deprecated.TimestampMicros:
			return timestampDecoder(1e3), nil
		case deprecated.TimeMillis:
			return func(v parquet.Value) any { return kusto.Timespan(int64(v.Int32()) * kusto.TicksPerMillisecond) }, nil
		case deprecated.TimeMicros:
			return func(v parquet.Value) any { return kusto.Timespan(v.Int64() * kusto.TicksPerMicrosecond) }, nil
		case deprecated.Date:
			return func(v parquet.Value) any { return kusto.DateTime(int64(v.Int32())*kusto.TicksPerDay + unixEpoch) }, nil
		case deprecated.UTF8, deprecated.Enum, deprecated.Json:
			return func(v parquet.Value) any { return string(v.ByteArray()) }, nil
		case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32:
			return func(v parquet.Value) any { return int64(v.Uint32()) }, nil
		case deprecated.Uint64:
			return func(v parquet.Value) any {
				if u := v.Uint64(); u <= math.MaxInt64 {
					return int64(u)
				}
				return nil
			}, nil
		}
	}
	switch kind {
	case parquet.Boolean:
		return func(v parquet.Value) any { return v.Boolean() }, nil
	case parquet.Int32:
		return func(v parquet.Value) any { return int64(v.Int32()) }, nil
	case parquet.Int64:
		return func(v parquet.Value) any { return v.Int64() }, nil
	case parquet.Int96:
		return func(v parquet.Value) any { return int96Time(v.Int96()) }, nil
	case parquet.Float:
		return func(v parquet.Value) any { return float64(v.Float()) }, nil
	case parquet.Double:
		return func(v parquet.Value) any { return v.Double() }, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return func(v parquet.Value) any { return base64.StdEncoding.EncodeToString(v.ByteArray()) }, nil
	}
	return nil, fmt.Errorf("has Parquet type %s, which Kustard does not read", t)
}

const unixEpoch = 621_355_968_000_000_000 // ticks from 0001-01-01 to 1970-01-01

// unitOf is the nanoseconds per unit of a time unit.
func unitOf(u *format.TimeUnit) int64 {
	switch u.Value.(type) {
	case *format.MilliSeconds:
		return 1e6
	case *format.MicroSeconds:
		return 1e3
	}
	return 1
}

// scaleTicks converts a count of units of per nanoseconds to ticks (100 ns), truncating.
func scaleTicks(x, per int64) int64 {
	if per >= 100 {
		return x * (per / 100)
	}
	return x / (100 / per)
}

func int64Of(v parquet.Value) int64 {
	if v.Kind() == parquet.Int32 {
		return int64(v.Int32())
	}
	return v.Int64()
}

func timestampDecoder(per int64) func(parquet.Value) any {
	ticks := timestampTicks(per)
	return func(v parquet.Value) any {
		if d, ok := ticks(v); ok {
			return d
		}
		return nil
	}
}

// timestampTicks decodes a timestamp of per nanoseconds a unit; false outside Kusto's range
// (0001..9999), where the value is null, as an unparsable one is.
func timestampTicks(per int64) func(parquet.Value) (kusto.DateTime, bool) {
	return func(v parquet.Value) (kusto.DateTime, bool) {
		x := int64Of(v)
		const maxMillis = (kusto.MaxDateTime - unixEpoch) / kusto.TicksPerMillisecond
		if per == 1e6 && (x > maxMillis || x < -unixEpoch/kusto.TicksPerMillisecond) {
			return 0, false
		}
		d := kusto.DateTime(scaleTicks(x, per) + unixEpoch)
		return d, d.Valid()
	}
}

// int96Time decodes the legacy INT96 timestamp (Impala, old Spark): nanoseconds of the day,
// then the Julian day.
func int96Time(x deprecated.Int96) kusto.DateTime {
	nanos := int64(x[1])<<32 | int64(x[0])
	julian := int64(x[2])
	const julianUnixEpoch = 2_440_588
	return kusto.DateTime((julian-julianUnixEpoch)*kusto.TicksPerDay + nanos/100 + unixEpoch)
}

// decimalDecoder reads a DECIMAL as a real: the unscaled integer over 10^scale.
func decimalDecoder(kind parquet.Kind, scale int) func(parquet.Value) any {
	div := math.Pow10(scale)
	switch kind {
	case parquet.Int32, parquet.Int64:
		return func(v parquet.Value) any { return float64(int64Of(v)) / div }
	}
	return func(v parquet.Value) any {
		b := v.ByteArray()
		n := new(big.Int).SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 { // two's complement, big-endian
			n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
		}
		f, _ := new(big.Float).Quo(new(big.Float).SetInt(n), big.NewFloat(div)).Float64()
		return f
	}
}

// FromParquet converts a value a ParquetReader yields to a value of type t, as Kusto's type
// conversions for Parquet allow; what does not convert is null, with ok false.
func FromParquet(t kusto.Type, v any) (any, bool) {
	switch x := v.(type) {
	case kusto.DateTime:
		switch t {
		case kusto.TypeDateTime:
			return x, true
		case kusto.TypeString:
			return x.String(), true
		case kusto.TypeDynamic:
			return x.String(), true
		}
		return nil, false
	case kusto.Timespan:
		switch t {
		case kusto.TypeTimespan:
			return x, true
		case kusto.TypeLong:
			return int64(x), true
		case kusto.TypeString, kusto.TypeDynamic:
			return x.String(), true
		}
		return nil, false
	case uuid.UUID:
		switch t {
		case kusto.TypeGUID:
			return x, true
		case kusto.TypeString, kusto.TypeDynamic:
			return x.String(), true
		}
		return nil, false
	case string:
		if t == kusto.TypeDynamic {
			// JSON text (a JSON column, or a dynamic value Kusto exported) is its value, as a
			// CSV field's is; other text is a string.
			return FromText(kusto.TypeDynamic, x)
		}
	}
	return FromJSON(t, v)
}
