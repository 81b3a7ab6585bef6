package engine

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The set and range operators: in, !in, in~, !in~ (in-cs-operator.md, in-operator.md), has_any
// and has_all (has-any-operator.md, has-all-operator.md), between and !between
// (between-operator.md), and matches regex (datatypes-string-operators.md).

// anyOf sets d[i] where v[i] is true and not null.
func anyOf(d, v, nulls []bool) {
	d, v = d[:len(v)], v[:len(d)]
	if nulls == nil {
		for i := range d {
			d[i] = d[i] || v[i]
		}
		return
	}
	for i := range d {
		d[i] = d[i] || v[i] && !nulls[i]
	}
}

// namesTable reports whether name is a tabular let, a tabular function, a stream or a table.
func (c *compiler) namesTable(name string) bool {
	if b := c.binding(name); b != nil {
		return b.tabular != nil || b.fn != nil && b.fn.tabular
	}
	if _, ok := c.sess.eng.stream(name); ok {
		return true
	}
	_, ok := c.db.Table(name)
	return ok
}

// inItem is a constant of an in-list: a value and its type.
type inItem struct {
	typ kusto.Type
	v   any
	at  int
}

// in compiles an in-list. Its constants, a dynamic array's elements among them, go into a hash
// set built once, so that a list of a thousand values costs one lookup a row; the items that
// depend on the row are compared one by one. A null in the list matches nothing; a null on the
// left is in no list.
func (sc *scope) in(e *parser.InExpr) (*compiled, error) {
	if e.Op == "has_any" || e.Op == "has_all" {
		return sc.hasAny(e)
	}
	x, err := sc.compile(e.Left)
	if err != nil {
		return nil, err
	}
	caseless := strings.HasSuffix(e.Op, "~")
	negate := strings.HasPrefix(e.Op, "!")
	if caseless {
		x = asString(x)
	}
	var items []inItem
	var tests []*compiled
	inputs := []*compiled{x}
	for _, item := range e.List {
		tab, tabular, err := tabularItems(sc, e, item)
		if err != nil {
			return nil, err
		}
		if tabular {
			items = append(items, tab...)
			continue
		}
		y, err := sc.compile(item)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, y)
		switch {
		case y.isConst() && y.typ == kusto.TypeDynamic:
			items = appendElements(items, y.konst.v, item.Offset())
			continue
		case y.isConst():
			items = append(items, inItem{y.typ, y.konst.v, item.Offset()})
			continue
		case y.typ == kusto.TypeDynamic:
			return nil, sc.c.errorf(item.Offset(), kusto.KindSemantic, "%s takes a dynamic array only as a constant (a literal or a let), not one that depends on the row", e.Op)
		}
		test, err := sc.inTest(e, x, y, item.Offset(), caseless)
		if err != nil {
			return nil, err
		}
		tests = append(tests, test)
	}
	if len(items) > 0 {
		test, err := sc.inSet(e, x, items, caseless)
		if err != nil {
			return nil, err
		}
		tests = append(tests, test)
	}
	out := &compiled{typ: kusto.TypeBool, run: func(st *evalState, b *Batch, own bool) Column {
		found := scratch[bool](st, kusto.TypeBool, b.Len, own)
		clear(found.Data)
		for _, t := range tests {
			col := vectorOf[bool](t.run(st, b, false))
			anyOf(found.Data, col.Data, col.Nulls)
		}
		if negate {
			for i, v := range found.Data {
				found.Data[i] = !v
			}
		}
		return found
	}}
	return fold(out, inputs...), nil
}

// appendElements adds a constant dynamic value's elements to an in-list: each element of an
// array (a value that is not an array is one element), as the scalar it holds.
func appendElements(items []inItem, v any, at int) []inItem {
	a, ok := v.([]any)
	if !ok {
		a = []any{v}
	}
	for _, x := range a {
		switch x := x.(type) {
		case int64:
			items = append(items, inItem{kusto.TypeLong, x, at})
		case float64:
			items = append(items, inItem{kusto.TypeReal, x, at})
		case string:
			items = append(items, inItem{kusto.TypeString, x, at})
		case bool:
			items = append(items, inItem{kusto.TypeBool, x, at})
		} // nulls, arrays and bags equal no scalar
	}
	return items
}

// inTest compares x with one item that depends on the row.
func (sc *scope) inTest(e *parser.InExpr, x, y *compiled, at int, caseless bool) (*compiled, error) {
	l, r := x, y
	if l.typ == kusto.TypeDynamic && r.typ != kusto.TypeDynamic {
		l = convert(l, r.typ) // a dynamic value is read as the item's type, as == reads it
	}
	if isNumeric(l.typ) && isNumeric(r.typ) {
		t := promote(l.typ, r.typ)
		l, r = castNumeric(l, t), castNumeric(r, t)
	}
	var test *compiled
	switch {
	case caseless:
		test = binaryNode(kusto.TypeBool, l, asString(r), stringKernel("=~", false))
	case l.typ == r.typ:
		test = compareNode(l.typ, "==", l, r)
	}
	if test == nil {
		return nil, sc.c.errorf(at, kusto.KindSemantic, "cannot compare %s with %s in %q", x.typ, y.typ, e.Op)
	}
	return test, nil
}

// inSet tests x against the list's constants with a hash set of x's type, numbers widened to
// the widest of them.
func (sc *scope) inSet(e *parser.InExpr, x *compiled, items []inItem, caseless bool) (*compiled, error) {
	if x.typ == kusto.TypeDynamic && !caseless {
		x = convert(x, listType(items)) // read as the list's type, as == reads it
	}
	t := x.typ
	if t == kusto.TypeInt {
		t = kusto.TypeLong // the sets of whole numbers are of int64
	}
	for _, it := range items {
		switch {
		case caseless:
		case isNumeric(t) && isNumeric(it.typ):
			t = promote(t, it.typ)
		case it.typ != t:
			return nil, sc.c.errorf(it.at, kusto.KindSemantic, "cannot compare %s with %s in %q", x.typ, it.typ, e.Op)
		}
	}
	if caseless {
		set := map[string]struct{}{}
		for _, it := range items {
			if it.v == nil && it.typ != kusto.TypeString {
				continue // a null matches nothing
			}
			s, _ := constOf[string](fold(asString(constant(it.typ, it.v))))
			set[foldKey(s)] = struct{}{}
		}
		return setTest(x, set, foldKey), nil
	}
	x = castNumeric(x, t)
	switch t {
	case kusto.TypeInt, kusto.TypeLong, kusto.TypeReal:
		// The values are compared as t: a long constant in a real list is its real value.
		if t == kusto.TypeReal {
			return setTest(x, valueSet[float64](items, t), same[float64]), nil
		}
		return setTest(x, valueSet[int64](items, t), same[int64]), nil
	case kusto.TypeString:
		return setTest(x, valueSet[string](items, t), same[string]), nil
	case kusto.TypeBool:
		return setTest(x, valueSet[bool](items, t), same[bool]), nil
	case kusto.TypeDateTime:
		return setTest(x, valueSet[kusto.DateTime](items, t), same[kusto.DateTime]), nil
	case kusto.TypeTimespan:
		return setTest(x, valueSet[kusto.Timespan](items, t), same[kusto.Timespan]), nil
	case kusto.TypeGUID:
		return setTest(x, valueSet[uuid.UUID](items, t), same[uuid.UUID]), nil
	}
	return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot compare %s values in %q", x.typ, e.Op)
}

// listType is the type of an in-list's constants: the widest of its numbers, or the type of
// its first item (the others are checked against it).
func listType(items []inItem) kusto.Type {
	t := items[0].typ
	for _, it := range items[1:] {
		if isNumeric(t) && isNumeric(it.typ) {
			t = promote(t, it.typ)
		}
	}
	return t
}

func same[T any](v T) T { return v }

// valueSet is the set of the items' values as type t; nulls are left out, matching nothing.
func valueSet[T comparable](items []inItem, t kusto.Type) map[T]struct{} {
	set := make(map[T]struct{}, len(items))
	for _, it := range items {
		c := constant(it.typ, it.v)
		if isNumeric(t) {
			c = castNumeric(c, t)
		}
		if v, ok := c.konst.v.(T); ok {
			set[v] = struct{}{}
		}
	}
	return set
}

// setTest is whether each row of x, keyed by key, is in set; a null row is not.
func setTest[T, K comparable](x *compiled, set map[K]struct{}, key func(T) K) *compiled {
	return &compiled{typ: kusto.TypeBool, run: func(st *evalState, b *Batch, own bool) Column {
		a := vectorOf[T](x.run(st, b, false))
		out := scratch[bool](st, kusto.TypeBool, len(a.Data), own)
		for i, v := range a.Data {
			_, found := set[key(v)]
			out.Data[i] = found && !a.IsNull(i)
		}
		return out
	}}
}

// foldKey is s in a form that two strings share exactly when strings.EqualFold says they are
// equal: each rune replaced by the smallest of its simple case folding orbit. ASCII text, the
// usual case, is lowercased without the orbit walk, and not copied if it is lowercase already.
func foldKey(s string) string {
	ascii, lower := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if 'A' <= c && c <= 'Z' {
			lower = false
		}
	}
	if ascii {
		if lower {
			return s
		}
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// hasAny compiles has_any and has_all: whether the left side has any (or all) of the values as
// a term, as has does. The values are constants: literals, lets, dynamic arrays.
func (sc *scope) hasAny(e *parser.InExpr) (*compiled, error) {
	x, err := sc.compile(e.Left)
	if err != nil {
		return nil, err
	}
	x = asString(x)
	var terms []string
	for _, item := range e.List {
		tab, tabular, err := tabularItems(sc, e, item)
		if err != nil {
			return nil, err
		}
		for _, it := range tab {
			if it.v != nil {
				s, _ := constOf[string](fold(asString(constant(it.typ, it.v))))
				terms = append(terms, strings.ToLower(s))
			}
		}
		if tabular {
			continue
		}
		y, err := sc.compile(item)
		if err != nil {
			return nil, err
		}
		if !y.isConst() {
			return nil, sc.c.errorf(item.Offset(), kusto.KindSemantic, "%s takes constant values (literals, lets or a dynamic array), not ones that depend on the row", e.Op)
		}
		var elems []inItem
		if y.typ == kusto.TypeDynamic {
			elems = appendElements(nil, y.konst.v, item.Offset())
		} else if y.konst.v != nil || y.typ == kusto.TypeString {
			elems = []inItem{{y.typ, y.konst.v, item.Offset()}}
		}
		for _, it := range elems {
			s, _ := constOf[string](fold(asString(constant(it.typ, it.v))))
			terms = append(terms, strings.ToLower(s))
		}
	}
	all := e.Op == "has_all"
	out := convNode(kusto.TypeBool, x, func(s string) (bool, bool) {
		s = strings.ToLower(s)
		for _, t := range terms {
			if hasTerm(s, t, true, true, false) != all {
				return !all, true
			}
		}
		return all, true
	})
	return fold(out, x), nil
}

// between compiles `x between (lo .. hi)`: x >= lo and x <= hi, both ends included; !between is
// its negation, x < lo or x > hi. For a datetime x and lo, hi may be a timespan: the range is
// then lo .. lo + hi. A null anywhere makes a null, which where drops.
func (sc *scope) between(e *parser.BetweenExpr) (*compiled, error) {
	var ops [3]*compiled
	for i, part := range []parser.Expr{e.Left, e.From, e.To} {
		x, err := sc.compile(part)
		if err != nil {
			return nil, err
		}
		// A dynamic value is compared as a number, beside numbers (Kusto.Language's between
		// takes dynamic with numbers only); the loop below rejects it beside anything else.
		if !isNumeric(x.typ) && x.typ != kusto.TypeDateTime && x.typ != kusto.TypeTimespan && x.typ != kusto.TypeDynamic {
			return nil, sc.c.errorf(part.Offset(), kusto.KindSemantic, "between takes numbers, datetimes or timespans, not %s", article(x.typ))
		}
		ops[i] = x
	}
	x, lo, hi := ops[0], ops[1], ops[2]
	if x.typ == kusto.TypeDateTime && lo.typ == kusto.TypeDateTime && hi.typ == kusto.TypeTimespan {
		// An end past the last datetime includes every datetime from lo on, so it is clamped
		// there rather than failing as lo + hi would.
		span := hi
		hi = fold(map2Node(kusto.TypeDateTime, lo, span, func(lo kusto.DateTime, span kusto.Timespan) (kusto.DateTime, bool) {
			return lo + kusto.DateTime(min(int64(span), kusto.MaxDateTime-int64(lo))), true
		}), lo, span)
	}
	for i, part := range []parser.Expr{e.From, e.To} {
		b := ops[i+1].typ
		if x.typ == kusto.TypeDynamic && isNumeric(b) || b == kusto.TypeDynamic && isNumeric(x.typ) {
			continue
		}
		if _, ok := unifyTypes(x.typ, b); !ok && !(i == 1 && hi != ops[2]) {
			return nil, sc.c.errorf(part.Offset(), kusto.KindSemantic, "between: cannot compare %s with %s", x.typ, ops[i+1].typ)
		}
	}
	geOp, leOp, join := ">=", "<=", true
	if e.Negated {
		geOp, leOp, join = "<", ">", false
	}
	ge, err := sc.comparison(&parser.BinaryExpr{At: e.From.Offset(), Op: geOp, Left: e.Left, Right: e.From}, x, lo)
	if err != nil {
		return nil, err
	}
	le, err := sc.comparison(&parser.BinaryExpr{At: e.To.Offset(), Op: leOp, Left: e.Left, Right: e.To}, x, hi)
	if err != nil {
		return nil, err
	}
	ge, le = fold(ge, x, lo), fold(le, x, hi)
	return fold(logicalNode(ge, le, join), ge, le), nil
}

// matchesRegex compiles `x matches regex re`, RE2 syntax as Go's regexp has it. A constant
// regex is compiled once, and a bad one is an error where it is written; one that depends on
// the row is compiled per row, and a row whose regex does not compile is null.
func (sc *scope) matchesRegex(e *parser.BinaryExpr, x, y *compiled) (*compiled, error) {
	x = asString(x)
	if y.typ != kusto.TypeString {
		return nil, sc.c.errorf(e.Right.Offset(), kusto.KindSemantic, "matches regex takes a string regular expression, not %s", article(y.typ))
	}
	if p, ok := constString(y); ok {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, sc.c.errorf(e.Right.Offset(), kusto.KindSemantic, "matches regex: %s is not a valid regular expression: %v", kusto.Quote(p), err)
		}
		return convNode(kusto.TypeBool, x, func(s string) (bool, bool) { return re.MatchString(s), true }), nil
	}
	cache := &regexCache{}
	return map2Node(kusto.TypeBool, x, y, func(s, p string) (bool, bool) {
		re := cache.get(p)
		return re != nil && re.MatchString(s), re != nil
	}), nil
}
