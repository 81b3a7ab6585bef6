package engine

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// distinct, per the Kusto docs' distinct-operator.md: the distinct combinations of the columns
// named (or of all of them, `distinct *`). Kusto does not promise an order; Kustard emits each
// combination where it first appeared, after reading its whole input. Nulls equal nulls, NaN
// equals NaN, and -0 equals +0, as in a group by.

func init() {
	operatorRegistry = append(operatorRegistry, &OperatorInfo{
		Name: "distinct", Synopsis: "distinct Column, … | distinct *",
		Summary: "Returns the distinct combinations of the columns.", Completes: CompleteColumns,
		node: nodeOf[*parser.DistinctOp](), compile: compileDistinct,
	})
}

func compileDistinct(c *compiler, in Node, op parser.Operator) (Node, error) {
	d := op.(*parser.DistinctOp)
	schema := in.Schema()
	n := &distinctNode{in: in, star: d.Star, budget: c.sess.eng.budget}
	offsets := make([]int, 0, len(schema))
	if d.Star {
		n.cols = schema.AllColumns()
		for range n.cols {
			offsets = append(offsets, d.Pos.Offset)
		}
	}
	for _, name := range d.Columns {
		i := schema.Index(name.String())
		if i < 0 {
			return nil, c.errorf(name.Pos.Offset, kusto.KindSemantic, "distinct: failed to resolve column named %q", name.String())
		}
		for _, j := range n.cols {
			if j == i {
				return nil, c.errorf(name.Pos.Offset, kusto.KindSemantic, "distinct: column %q is named twice", name.String())
			}
		}
		n.cols = append(n.cols, i)
		offsets = append(offsets, name.Pos.Offset)
	}
	for k, i := range n.cols {
		if schema[i].Type == kusto.TypeDynamic {
			return nil, c.errorf(offsets[k], kusto.KindSemantic,
				"distinct: column %q is dynamic; Kusto does not group by dynamic values: convert it first, as in extend %s = tostring(%s)",
				schema[i].Name, quoteName(schema[i].Name), quoteName(schema[i].Name))
		}
		n.schema = append(n.schema, schema[i])
	}
	return n, nil
}

type distinctNode struct {
	in     Node
	cols   []int // the input's columns, in the output's order
	schema Schema
	star   bool
	budget *Budget
}

func (n *distinctNode) Schema() Schema   { return n.schema }
func (n *distinctNode) Children() []Node { return []Node{n.in} }
func (n *distinctNode) Describe() string {
	if n.star {
		return "distinct *"
	}
	names := make([]string, len(n.schema))
	for i, col := range n.schema {
		names[i] = quoteName(col.Name)
	}
	return "distinct " + strings.Join(names, ", ")
}

// distinct reads its columns, all of them, whatever is needed of its output: a column left out
// would change which rows are distinct.
func (n *distinctNode) prune(needed []bool) {
	in := make([]bool, len(n.in.Schema()))
	for _, i := range n.cols {
		in[i] = true
	}
	prune(n.in, in)
}

func (n *distinctNode) Open(ctx context.Context) Operator {
	types := make([]kusto.Type, len(n.schema))
	for i, col := range n.schema {
		types[i] = col.Type
	}
	o := &distinctOperator{in: n.in.Open(ctx), check: newCancelCheck(ctx), cols: n.cols, rows: newRowBuffer(types, n.budget),
		row: make([]Column, len(n.cols)), long: len(n.cols) == 1 && types[0] == kusto.TypeLong, seed: maphash.MakeSeed()}
	return o
}

// distinctOperator keeps a hash set of the combinations seen, in open addressing: a slot holds
// a combination's hash and its row in the buffer (plus one; 0 is empty). A single long column
// has its own path, which keys the table by the value itself.
type distinctOperator struct {
	in    Operator
	check cancelCheck
	cols  []int
	rows  *rowBuffer // the distinct combinations, in order of first appearance
	row   []Column   // scratch: a batch's columns in the output's order
	out   Batch
	pos   int
	done  bool
	seed  maphash.Seed

	long      bool
	longSlots []longSlot
	sawNull   bool

	slots  []hashSlot
	hashes []uint64
	equal  []func(g int, src Column, row int) bool
	count  int   // combinations in the table
	table  int64 // reserved for the table
	budget *Budget
}

type longSlot struct {
	key  int64
	used bool
}

type hashSlot struct {
	hash uint64
	row  int32 // the combination's row in the buffer plus one; 0 for an empty slot
}

func (o *distinctOperator) Next() (*Batch, error) {
	if !o.done {
		o.budget = o.rows.budget
		for {
			b, err := o.in.Next()
			if err != nil {
				return nil, err
			}
			if b == nil {
				break
			}
			for j, i := range o.cols {
				o.row[j] = b.Cols[i]
			}
			if o.long {
				err = o.addLongs(o.row[0].(*Vector[int64]))
			} else {
				err = o.addRows(o.row, b.Len)
			}
			if err == nil {
				err = o.rows.settle()
			}
			if err != nil {
				return nil, err
			}
		}
		o.done = true
	}
	n := o.rows.len()
	if o.pos >= n {
		return nil, nil
	}
	if err := o.check.err(); err != nil {
		return nil, err
	}
	hi := min(o.pos+batchSize, n)
	if len(o.out.Cols) != len(o.cols) {
		o.out.Cols = make([]Column, len(o.cols))
	}
	for i := range o.cols {
		o.out.Cols[i] = o.rows.column(i).Slice(o.pos, hi)
	}
	o.out.Len = hi - o.pos
	o.pos = hi
	return &o.out, nil
}

func (o *distinctOperator) Close() {
	o.in.Close()
	o.rows.release()
	o.budget.release(o.table)
	o.table = 0
}

// grow doubles the table (of slots of size bytes each), reserving it, until it would be at most
// half full with more combinations added; it returns the new size, or 0 when there is room.
func (o *distinctOperator) grow(slots, size, more int) (int, error) {
	n := slots
	for n < 1024 || o.count+more > n/2 {
		n = max(1024, 2*n)
	}
	if n == slots {
		return 0, nil
	}
	cost := int64(n * size)
	if err := o.budget.reserve(cost); err != nil {
		return 0, err
	}
	o.budget.release(o.table)
	o.table = cost
	return n, nil
}

func hashLong(x int64) uint64 {
	h := uint64(x) * 0x9E3779B97F4A7C15
	return h ^ h>>29
}

func (o *distinctOperator) addLongs(v *Vector[int64]) error {
	// Room for the whole batch first, so the loop below never grows the table.
	if n, err := o.grow(len(o.longSlots), 16, len(v.Data)); err != nil {
		return err
	} else if n > 0 {
		o.rehashLongs(n)
	}
	slots := o.longSlots
	mask := uint64(len(slots) - 1)
	for r, x := range v.Data {
		if v.Nulls != nil && v.Nulls[r] {
			if !o.sawNull {
				o.sawNull = true
				o.appendRow(o.row, r)
			}
			continue
		}
		for h := hashLong(x) & mask; ; h = (h + 1) & mask {
			s := &slots[h]
			if !s.used {
				s.key, s.used = x, true
				o.count++
				o.appendRow(o.row, r)
				break
			}
			if s.key == x {
				break
			}
		}
	}
	return nil
}

func (o *distinctOperator) rehashLongs(n int) {
	old := o.longSlots
	o.longSlots = make([]longSlot, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s.used {
			h := hashLong(s.key) & mask
			for o.longSlots[h].used {
				h = (h + 1) & mask
			}
			o.longSlots[h] = s
		}
	}
}

// appendRow adds row r of cols to the buffer of combinations.
func (o *distinctOperator) appendRow(cols []Column, r int) {
	rb := o.rows
	for i, c := range cols {
		if rb.cols[i] == nil {
			rb.cols[i] = builderFor(newColumn(rb.types[i], 0))
		}
		rb.payload += rb.cols[i].column().(rowAppender).appendFrom(c, r)
	}
	rb.rows++
}

func (o *distinctOperator) addRows(cols []Column, n int) error {
	if o.equal == nil {
		for i := range cols {
			if o.rows.cols[i] == nil {
				o.rows.cols[i] = builderFor(newColumn(o.rows.types[i], 0))
			}
			o.equal = append(o.equal, equaler(o.rows.cols[i].column()))
		}
	}
	o.hashes = hashRows(o.seed, cols, n, o.hashes)
	if size, err := o.grow(len(o.slots), 16, n); err != nil {
		return err
	} else if size > 0 {
		o.rehash(size)
	}
	mask := uint64(len(o.slots) - 1)
	for r, h := range o.hashes {
	probe:
		for p := h & mask; ; p = (p + 1) & mask {
			s := &o.slots[p]
			if s.row == 0 {
				if o.rows.len() >= math.MaxInt32 {
					return &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: "distinct: more than 2147483646 combinations"}
				}
				s.hash, s.row = h, int32(o.rows.len()+1)
				o.count++
				o.appendRow(cols, r)
				break
			}
			if s.hash != h {
				continue
			}
			for i, eq := range o.equal {
				if !eq(int(s.row-1), cols[i], r) {
					continue probe
				}
			}
			break
		}
	}
	return nil
}

func (o *distinctOperator) rehash(n int) {
	old := o.slots
	o.slots = make([]hashSlot, n)
	mask := uint64(n - 1)
	for _, s := range old {
		if s.row != 0 {
			p := s.hash & mask
			for o.slots[p].row != 0 {
				p = (p + 1) & mask
			}
			o.slots[p] = s
		}
	}
}

// rowAppender appends one row of a column of the same type to a vector, returning the
// payload it adds (string bytes).
type rowAppender interface {
	appendFrom(src Column, row int) int64
}

func (v *Vector[T]) appendFrom(src Column, row int) int64 {
	s := src.(*Vector[T])
	v.Data = append(v.Data, s.Data[row])
	null := s.Nulls != nil && s.Nulls[row]
	if null && v.Nulls == nil {
		v.Nulls = make([]bool, len(v.Data)-1, cap(v.Data))
	}
	if v.Nulls != nil {
		v.Nulls = append(v.Nulls, null)
	}
	if sv, ok := any(s).(*Vector[string]); ok {
		return int64(len(sv.Data[row]))
	}
	return 0
}

const nullHash = 0x5bd1e9955bd1e995

// hashRows hashes each of the n rows of cols into out (reused).
func hashRows(seed maphash.Seed, cols []Column, n int, out []uint64) []uint64 {
	out = out[:0]
	for range n {
		out = append(out, 0)
	}
	for _, c := range cols {
		switch v := c.(type) {
		case *Vector[bool]:
			hashWith(v, out, func(x bool) uint64 {
				if x {
					return 1
				}
				return 2
			})
		case *Vector[int32]:
			hashWith(v, out, func(x int32) uint64 { return uint64(x) })
		case *Vector[int64]:
			hashWith(v, out, func(x int64) uint64 { return uint64(x) })
		case *Vector[kusto.DateTime]:
			hashWith(v, out, func(x kusto.DateTime) uint64 { return uint64(x) })
		case *Vector[kusto.Timespan]:
			hashWith(v, out, func(x kusto.Timespan) uint64 { return uint64(x) })
		case *Vector[float64]:
			hashWith(v, out, func(x float64) uint64 {
				switch {
				case x == 0:
					return 0 // -0 and +0
				case math.IsNaN(x):
					return 0x7ff8000000000001
				}
				return math.Float64bits(x)
			})
		case *Vector[string]:
			hashWith(v, out, func(x string) uint64 { return maphash.String(seed, x) })
		case *Vector[uuid.UUID]:
			hashWith(v, out, func(x uuid.UUID) uint64 {
				return binary.LittleEndian.Uint64(x[:8]) ^ binary.LittleEndian.Uint64(x[8:])*0xff51afd7ed558ccd
			})
		default:
			panic("engine: distinct cannot hash " + c.Type().String())
		}
	}
	return out
}

func hashWith[T any](v *Vector[T], out []uint64, f func(T) uint64) {
	for i, x := range v.Data {
		k := f(x)
		if v.Nulls != nil && v.Nulls[i] {
			k = nullHash
		}
		h := (out[i] ^ k) * 0x9E3779B97F4A7C15
		out[i] = h ^ h>>32
	}
}

// equaler returns a function that says whether row g of store equals row r of src, a column of
// the same type, with distinct's equality.
func equaler(store Column) func(g int, src Column, r int) bool {
	switch v := store.(type) {
	case *Vector[bool]:
		return equalWith(v, func(a, b bool) bool { return a == b })
	case *Vector[int32]:
		return equalWith(v, func(a, b int32) bool { return a == b })
	case *Vector[int64]:
		return equalWith(v, func(a, b int64) bool { return a == b })
	case *Vector[kusto.DateTime]:
		return equalWith(v, func(a, b kusto.DateTime) bool { return a == b })
	case *Vector[kusto.Timespan]:
		return equalWith(v, func(a, b kusto.Timespan) bool { return a == b })
	case *Vector[float64]:
		return equalWith(v, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) })
	case *Vector[string]:
		return equalWith(v, func(a, b string) bool { return a == b })
	case *Vector[uuid.UUID]:
		return equalWith(v, func(a, b uuid.UUID) bool { return a == b })
	}
	panic("engine: distinct cannot compare " + store.Type().String())
}

// equalWith reads v through its pointer at each call: the buffer grows as rows come.
func equalWith[T any](v *Vector[T], eq func(a, b T) bool) func(g int, src Column, r int) bool {
	return func(g int, src Column, r int) bool {
		s := src.(*Vector[T])
		gn, rn := v.Nulls != nil && v.Nulls[g], s.Nulls != nil && s.Nulls[r]
		if gn || rn {
			return gn == rn
		}
		return eq(v.Data[g], s.Data[r])
	}
}
