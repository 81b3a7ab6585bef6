package engine

import (
	"strconv"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// Dynamic accessors (scalar-data-types/dynamic.md, "Dynamic object accessors"): d.a and d["a"]
// subscript a property bag, d[0] an array (d[-1] counts from the end), and the subscript may be
// computed, d[i] or d[strcat("a", "b")]. The result is dynamic; a missing key, an index out of
// range, or a subscript of the wrong kind (a key of an array, an index of a bag) is null.

// access compiles a chain of accessors, d.a.b[0], from its base up by a loop, since a chain is
// as deep as it is long and the parser does not bound its length.
func (sc *scope) access(e *parser.IndexExpr) (*compiled, error) {
	chain := []*parser.IndexExpr{e}
	for {
		t, ok := chain[len(chain)-1].Target.(*parser.IndexExpr)
		if !ok {
			break
		}
		chain = append(chain, t)
	}
	x, err := sc.compile(chain[len(chain)-1].Target)
	for i := len(chain) - 1; i >= 0 && err == nil; i-- {
		if x, err = sc.accessStep(chain[i], x); err == nil && i > 0 {
			x, err = sc.counted(x, chain[i]) // the top one is counted by compile
		}
	}
	return x, err
}

func (sc *scope) accessStep(e *parser.IndexExpr, x *compiled) (*compiled, error) {
	if x.typ != kusto.TypeDynamic {
		what := "an element"
		if lit, ok := e.Index.(*parser.LiteralExpr); ok && lit.Type == kusto.TypeString {
			what = "property " + strconv.Quote(lit.Value.(string))
		}
		return nil, sc.c.errorf(e.At, kusto.KindSemantic, "cannot take %s of %s: only a dynamic value has properties and elements; convert it with todynamic() or parse_json() first", what, article(x.typ))
	}
	k, err := sc.compile(e.Index)
	if err != nil {
		return nil, err
	}
	d := kusto.TypeDynamic
	var out *compiled
	switch {
	case k.typ == kusto.TypeString && k.isConst():
		key, _ := constOf[string](k)
		out = convNode(d, x, func(v any) (any, bool) { return property(v, key) })
	case k.typ == kusto.TypeString:
		out = map2Node(d, x, k, property)
	case (k.typ == kusto.TypeInt || k.typ == kusto.TypeLong) && k.isConst():
		i, null := constOf[int64](castNumeric(k, kusto.TypeLong))
		if null {
			return constant(d, nil), nil
		}
		out = convNode(d, x, func(v any) (any, bool) { return element(v, i) })
	case k.typ == kusto.TypeInt || k.typ == kusto.TypeLong:
		out = map2Node(d, x, castNumeric(k, kusto.TypeLong), element)
	case k.typ == kusto.TypeDynamic:
		out = map2Node(d, x, k, func(v, key any) (any, bool) {
			switch key := key.(type) {
			case string:
				return property(v, key)
			case int64:
				return element(v, key)
			}
			return nil, false
		})
	default:
		return nil, sc.c.errorf(e.Index.Offset(), kusto.KindSemantic, "a dynamic value's subscript must be a string (a property's name) or a whole number (an array's index), not %s", article(k.typ))
	}
	return fold(out, x, k), nil
}

// property is a bag's value for key; null if v is not a bag or has no such key.
func property(v any, key string) (any, bool) {
	m, _ := v.(map[string]any)
	r, ok := m[key]
	return r, ok && r != nil
}

// element is an array's i-th value, counting from the end if i is negative; null if v is not an
// array or has no such element.
func element(v any, i int64) (any, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	if i < 0 {
		i += int64(len(a))
	}
	if i < 0 || i >= int64(len(a)) {
		return nil, false
	}
	return a[i], a[i] != nil
}

// accessName is the name Kusto gives an unnamed accessor's column (Kusto.Language's
// GetExpressionResultName): the names of the base and of each subscript joined by "_", d.a.b
// is d_a_b and d[0] is d_0; a subscript that is not a constant name or number adds nothing
// after its "_" (d[i] is d_).
func accessName(e *parser.IndexExpr) (string, bool) {
	name := accessPath(e)
	return name, name != ""
}

// isAccess reports whether e is an accessor whose column Kusto names after it.
func isAccess(e parser.Expr) bool {
	x, ok := e.(*parser.IndexExpr)
	return ok && accessPath(x) != ""
}

func accessPath(e *parser.IndexExpr) string {
	var parts []string // innermost subscript last
	var base parser.Expr = e
	for {
		x, ok := base.(*parser.IndexExpr)
		if !ok {
			break
		}
		right := ""
		if lit, ok := x.Index.(*parser.LiteralExpr); ok {
			switch v := lit.Value.(type) {
			case string:
				right = v
			case int64:
				right = strconv.FormatInt(v, 10)
			}
		}
		parts, base = append(parts, right), x.Target
	}
	left, _ := resultName(base)
	var b strings.Builder
	b.WriteString(left)
	for i := len(parts) - 1; i >= 0; i-- {
		if b.Len() > 0 {
			b.WriteString("_")
		}
		b.WriteString(parts[i])
	}
	return b.String()
}
