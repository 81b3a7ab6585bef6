package engine

import (
	"sync"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// A scalar expression compiles to a tree of typed nodes, each of which evaluates a whole batch
// at once with one tight loop per (operation, type), so a query pays for dispatch once per batch,
// not once per row.
//
// Results and scratch space: a node writes its result into a vector taken from an evalState,
// which keeps the vectors of one evaluation and hands them out again to the next, so that an
// expression allocates per query, not per batch. Only the root's result may have to outlive the
// evaluation; run's own argument says so, and a node asked for its own result allocates it.
// Columns reaching a kernel may be chunked (a large extent's columns); vectorOf gives a kernel
// a plain vector of any column, copying only when the column straddles chunks.

type compiled struct {
	typ kusto.Type
	// run evaluates the expression over b. When own is false the result may live in st, valid
	// until st's next evaluation; when own is true it may not (it may still share the batch's
	// columns, which are immutable).
	run func(st *evalState, b *Batch, own bool) Column
	// konst is set when the expression does not depend on any row; evaluating it once suffices.
	konst *constValue
	// failed is set when the expression depends on no row but fails when it is evaluated.
	failed error
	pool   sync.Pool // of *evalState, for eval
}

type constValue struct {
	v    any // nil for a null
	once sync.Once
	col  Column // a batch of v, made when first needed
}

// batch returns a batch of the value, made once.
func (k *constValue) batch(typ kusto.Type) Column {
	k.once.Do(func() { k.col = constColumn(typ, k.v, batchSize) })
	return k.col
}

func (c *compiled) isConst() bool { return c.konst != nil }

// eval evaluates c over b and returns a column the caller owns. It may be called from any number
// of goroutines at once.
func (c *compiled) eval(b *Batch) Column {
	st, _ := c.pool.Get().(*evalState)
	if st == nil {
		st = &evalState{}
	}
	st.next = 0
	col := c.run(st, b, true)
	c.pool.Put(st)
	return col
}

// evaluator returns a function that evaluates c over a batch in scratch space of its own, so
// that it allocates nothing once warm: the column it returns is valid until its next call, as a
// predicate's is when the operator consumes it at once. One goroutine at a time may call it.
func (c *compiled) evaluator() func(*Batch) Column {
	st := &evalState{}
	return func(b *Batch) Column {
		st.next = 0
		return c.run(st, b, false)
	}
}

// evalState holds the scratch vectors of one evaluator: the k-th vector asked for in an
// evaluation is the k-th of the previous one, reused when its type matches.
type evalState struct {
	bufs []any
	next int
}

// scratch returns a vector of n elements of type typ, not null, whose contents the caller must
// write: the state's when !own, else a new one.
func scratch[T any](st *evalState, typ kusto.Type, n int, own bool) *Vector[T] {
	if own {
		return &Vector[T]{typ: typ, Data: make([]T, n)}
	}
	k := st.next
	st.next++
	if k == len(st.bufs) {
		st.bufs = append(st.bufs, nil)
	}
	v, ok := st.bufs[k].(*Vector[T])
	if !ok || cap(v.Data) < n {
		v = &Vector[T]{Data: make([]T, n, max(n, batchSize))}
		st.bufs[k] = v
	}
	v.typ, v.Data, v.Nulls = typ, v.Data[:n], nil
	return v
}

// scratchFlags returns n flags, all false.
func scratchFlags(st *evalState, n int, own bool) []bool {
	f := scratch[bool](st, kusto.TypeBool, n, own).Data
	if !own {
		clear(f)
	}
	return f
}

// unionNulls returns the null flags of a result that is null wherever a or b is.
func unionNulls(st *evalState, n int, own bool, a, b []bool) []bool {
	switch {
	case a == nil && b == nil:
		return nil
	case b == nil && !own:
		return a
	case a == nil && !own:
		return b
	}
	out := scratch[bool](st, kusto.TypeBool, n, own).Data
	switch {
	case b == nil:
		copy(out, a)
	case a == nil:
		copy(out, b)
	default:
		for i := range out {
			out[i] = a[i] || b[i]
		}
	}
	return out
}

// setNulls gives v its null flags, zeroing the data under them so that a null's value is
// always the zero value, and dropping them for strings, which are never null.
func setNulls[T any](v *Vector[T], nulls []bool) *Vector[T] {
	v.Nulls = nil
	if nulls == nil {
		return v
	}
	var zero T
	for i, null := range nulls {
		if null {
			v.Data[i] = zero
		}
	}
	if v.typ != kusto.TypeString {
		v.Nulls = nulls
	}
	return v
}

// allNull returns n nulls of type typ.
func allNull[T any](st *evalState, typ kusto.Type, n int, own bool) Column {
	v := scratch[T](st, typ, n, own)
	clear(v.Data)
	if typ == kusto.TypeString {
		return v
	}
	v.Nulls = scratch[bool](st, kusto.TypeBool, n, own).Data
	for i := range v.Nulls {
		v.Nulls[i] = true
	}
	return v
}

// vectorOf returns c as a plain vector: c itself, or the one chunk it spans, or else a copy.
func vectorOf[T any](c Column) *Vector[T] {
	switch c := c.(type) {
	case *Vector[T]:
		return c
	case *chunkedColumn:
		if len(c.chunks) == 1 {
			return vectorOf[T](c.chunks[0])
		}
		b := &vectorBuilder[T]{&Vector[T]{typ: c.typ, Data: make([]T, 0, c.rows)}}
		for _, ch := range c.chunks {
			b.appendColumn(vectorOf[T](ch))
		}
		return b.v
	}
	panic("engine: a " + c.Type().String() + " column is not of the Go type its kernel expects")
}

// constant returns an expression that is the value v (nil for null) of type typ. Its batch of
// values is made when first evaluated over more than a row: most constants are only folded into
// others, or read as values, and a datatable or a chain of constants has one per value.
func constant(typ kusto.Type, v any) *compiled {
	k := &constValue{v: v}
	return &compiled{typ: typ, konst: k, run: func(st *evalState, b *Batch, own bool) Column {
		switch { // the column is immutable, so it is shared even when owned
		case b.Len <= 1:
			return constColumn(typ, v, b.Len)
		case b.Len == batchSize:
			return k.batch(typ)
		case b.Len < batchSize:
			return k.batch(typ).Slice(0, b.Len)
		}
		return constColumn(typ, v, b.Len)
	}}
}

// constOf returns a constant expression's value as Go type T, and whether it is null.
func constOf[T any](e *compiled) (T, bool) {
	v, ok := e.konst.v.(T)
	return v, !ok && e.typ != kusto.TypeString // a null string is the empty string
}

// fold replaces an expression whose inputs are all constant by its value. A constant whose
// evaluation fails (an overflow) stays an expression, to fail when the query runs, as a partial
// query failure; it keeps the error, for constantExpr.
func fold(e *compiled, inputs ...*compiled) *compiled {
	for _, in := range inputs {
		switch {
		case in.failed != nil:
			if e.failed == nil {
				e.failed = in.failed
			}
		case !in.isConst():
			e.failed = nil
			return e
		}
	}
	if e.failed != nil {
		return e
	}
	v, err := e.tryEval()
	if err != nil {
		e.failed = err
		return e
	}
	return constant(e.typ, v)
}

// tryEval evaluates a constant expression.
func (c *compiled) tryEval() (v any, err error) {
	defer catchFailure(&err)
	return c.run(&evalState{}, &Batch{Len: 1}, true).Value(0), nil
}

// columnRef is an input column, shared as it is.
func columnRef(typ kusto.Type, i int) *compiled {
	return &compiled{typ: typ, run: func(st *evalState, b *Batch, own bool) Column { return b.Cols[i] }}
}

// Runtime failures. A kernel has no error result, so a failure while an expression runs (an
// arithmetic overflow) panics with an evalFailure, which catchFailure turns back into an error
// where evaluation starts: in the operators that evaluate expressions, and in fold.

type evalFailure struct{ err *kusto.Error }

// catchFailure, deferred, turns an evalFailure panic into *err; other panics go on.
func catchFailure(err *error) {
	if r := recover(); r != nil {
		f, ok := r.(evalFailure)
		if !ok {
			panic(r)
		}
		*err = f.err
	}
}

// OverflowCode is Kusto's error for an arithmetic overflow, from the Kusto docs' page of
// native-code errors (concepts/errorsinnativecode.md): "The result of a computation is too large
// for the destination type".
const OverflowCode = "E_OVERFLOW"

// overflowSite is an expression whose result may not fit its type: where it is, for the error.
// Its text is written only when it overflows: writing it for every operation of a long chain
// would cost the square of the chain's length.
type overflowSite struct {
	src  *kusto.Source
	at   int
	expr parser.Expr
	typ  kusto.Type
}

func (sc *scope) site(at int, e parser.Expr, typ kusto.Type) *overflowSite {
	return &overflowSite{src: sc.c.src, at: at, expr: e, typ: typ}
}

// shortText keeps an expression quoted in a message to one readable line.
func shortText(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// typeRanges are the ranges of the types an overflow can leave, for its message.
var typeRanges = map[kusto.Type]string{
	kusto.TypeInt:      "-2147483648 to 2147483647",
	kusto.TypeLong:     "-9223372036854775808 to 9223372036854775807",
	kusto.TypeTimespan: "-10675199.02:48:05.4775808 to 10675199.02:48:05.4775807",
	kusto.TypeDateTime: "0001-01-01 to 9999-12-31",
}

// fail stops the evaluation with E_OVERFLOW at the site.
func (s *overflowSite) fail() {
	panic(evalFailure{kusto.Errorf(kusto.KindRuntime, s.src, s.at,
		"%s (0x80DA000C): arithmetic overflow: the result of %s is outside the %s range (%s)",
		OverflowCode, shortText(parser.ExprString(s.expr)), s.typ, typeRanges[s.typ])})
}

// isNull reports whether row i is null by flags that may be nil.
func isNull(nulls []bool, i int) bool { return nulls != nil && nulls[i] }
