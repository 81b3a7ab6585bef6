package engine

import (
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// A tabular expression as the list of in, !in, in~, !in~, has_any and has_all (in-operator.md:
// "A tabular expression that has a set of values. If the expression has multiple columns, the
// first column is used."): x in (T | project a), x in (T), x !in (aLet). Like toscalar(), it is
// run once, while the query compiles, and its values go into the list's hash set; the values it
// holds are charged to the memory budget until the query ends.

// inItemCost is what an item of an in-list holds besides its value's bytes: the item, its box
// and its entry in the set built from it.
const inItemCost = 64

// tabularItems is tabularList, reached from expressions through a variable, as toscalarCall is
// (the operator registry's initialization would otherwise refer to itself).
var tabularItems func(sc *scope, e *parser.InExpr, item parser.Expr) ([]inItem, bool, error)

func init() { tabularItems = (*scope).tabularList }

// tabularList returns the values of item if it is a tabular expression; ok is false if it is a
// scalar.
func (sc *scope) tabularList(e *parser.InExpr, item parser.Expr) (items []inItem, ok bool, err error) {
	c := sc.c
	switch x := item.(type) {
	case *parser.TabularExpr:
	case *parser.ColumnExpr:
		if sc.schema.Index(x.Name) >= 0 || !c.namesTable(x.Name) {
			return nil, false, nil
		}
	case *parser.CallExpr:
		if fn := c.userFunction(x.Func); (fn == nil || !fn.tabular) && x.Func != "materialize" {
			return nil, false, nil
		}
	default:
		return nil, false, nil
	}
	floor := c.rowFloor
	c.rowFloor = len(c.lets)
	defer func() { c.rowFloor = floor }()
	n, tabular, err := c.tabularArgument(&parser.CallExpr{At: item.Offset(), Func: e.Op, Args: []parser.Expr{item}})
	if err != nil || !tabular {
		return nil, tabular, err
	}
	schema := n.Schema()
	if len(schema) == 0 {
		return nil, true, c.errorf(item.Offset(), kusto.KindSemantic, "%s (…): the tabular expression returns no columns", e.Op)
	}
	t, at := schema[0].Type, item.Offset()
	if c.checking { // a plan is only printed: the list's type is what matters
		return []inItem{{t, nil, at}}, true, nil
	}
	needed := make([]bool, len(schema))
	needed[0] = true
	prune(n, needed)
	op := n.Open(c.context())
	defer op.Close()
	hold := c.holder()
	for {
		b, err := op.Next()
		if err != nil {
			return nil, true, err
		}
		if b == nil {
			break
		}
		if b.Len == 0 {
			continue
		}
		col := b.Cols[0]
		if err := hold(memoryCost(col) + int64(b.Len)*inItemCost); err != nil {
			return nil, true, err
		}
		for i := range b.Len {
			v := col.Value(i)
			if t == kusto.TypeDynamic {
				items = appendElements(items, v, at)
			} else if v != nil {
				items = append(items, inItem{t, v, at})
			}
		}
	}
	if len(items) == 0 { // an empty list still has the column's type, which the left must match
		items = []inItem{{t, nil, at}}
	}
	return items, true, nil
}

// holder returns how the compiler keeps memory for the rest of the query: charged to the
// query's state, which gives it back when the query ends; outside a query, each charge is
// checked against the budget and given back at once.
func (c *compiler) holder() func(n int64) error {
	q, _ := c.context().Value(queryStateKey{}).(*queryState)
	budget := c.sess.eng.budget
	if q == nil {
		return func(n int64) error {
			err := budget.reserve(n)
			if err == nil {
				budget.release(n)
			}
			return err
		}
	}
	return func(n int64) error {
		if err := q.budget.reserve(n); err != nil {
			return err
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.frames == nil { // the query ended
			q.budget.release(n)
			return &kusto.Error{Kind: kusto.KindInternal, Offset: -1, Msg: "an in-list was read after its query ended"}
		}
		q.held += n
		return nil
	}
}
