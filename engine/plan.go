package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
)

// A query compiles to a plan: a tree of Nodes, checked completely before anything runs, so type
// errors never surface halfway through an ingest. Opening a node gives an Operator that streams
// batches, in the manner of CockroachDB's colexecop.Operator and go-mysql-server's sql.Node.

// Node is one node of a query plan. It knows its output schema and its children, and opens into
// an Operator; a node can be opened any number of times (a tabular let used twice), each open
// independent of the others.
type Node interface {
	Schema() Schema
	Children() []Node
	// Describe is the node's line in a printed plan, without its children.
	Describe() string
	// Open starts the node's execution under ctx; the caller must Close the operator.
	Open(ctx context.Context) Operator
}

// Operator streams the batches of an opened Node.
//
// Next returns the next batch, or nil at the end. The batch and its columns belong to the
// operator and stay valid only until the next call to Next: an operator may reuse them, so that
// a query allocates per query rather than per batch. A consumer that keeps rows copies them.
// Close releases the operator and its children's; it is safe to call more than once.
type Operator interface {
	Next() (*Batch, error)
	Close()
}

// NewOperator adapts a function to an Operator with nothing to close, for streams.
func NewOperator(next func() (*Batch, error)) Operator { return funcOperator(next) }

type funcOperator func() (*Batch, error)

func (f funcOperator) Next() (*Batch, error) { return f() }
func (f funcOperator) Close()                {}

// rowCounter is an Operator that can count its remaining rows without producing them: a filter
// counts the rows its predicate keeps without copying them, a range knows its size. count uses it.
type rowCounter interface {
	countRows() (int64, error)
}

// countRows drains an operator and returns how many rows it had.
func countRows(op Operator) (int64, error) {
	if c, ok := op.(rowCounter); ok {
		return c.countRows()
	}
	var n int64
	for {
		b, err := op.Next()
		if b == nil || err != nil {
			return n, err
		}
		n += int64(b.Len)
	}
}

// FormatPlan prints a plan as an indented tree, one node a line, children under their parent.
func FormatPlan(n Node) string {
	var b strings.Builder
	var write func(n Node, depth int)
	write = func(n Node, depth int) {
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat("  ", depth), n.Describe())
		for _, c := range n.Children() {
			write(c, depth+1)
		}
	}
	write(n, 0)
	return b.String()
}

// cancelCheck tells a source whether its query has been canceled. Sources ask once per batch,
// that is at least every batchSize rows, through the cached Done channel.
type cancelCheck struct {
	ctx  context.Context
	done <-chan struct{}
}

func newCancelCheck(ctx context.Context) cancelCheck { return cancelCheck{ctx, ctx.Done()} }

func (c cancelCheck) err() error {
	select {
	case <-c.done:
		return context.Cause(c.ctx)
	default:
		return nil
	}
}

// Cursor streams a query's result batch by batch, as the REST server writes v2 frames as they
// come; Session.Run collects one into a Frame. Batches follow the Operator contract: each is
// valid until the next call to Next.
type Cursor struct {
	schema Schema
	op     Operator
	limit  int   // the most rows the result may have; 0 for no limit
	size   int64 // the most bytes it may have (as memoryCost counts them); 0 for no limit
	rows   int
	bytes  int64
	cost   int64             // of the last batch Next returned
	place  func(error) error // makes an error a placed *kusto.Error
	done   func()            // releases the request's deadline
	budget *Budget           // what Collect draws on while it materializes; nil for none
	vis    *Visualization    // what render asked for; nil without render
	track  *ops.Operation    // the query's record in .show queries; nil for a command's result
	err    error             // the first error Next or Collect returned, for the record
}

func newCursor(ctx context.Context, n Node, limit int, size int64) *Cursor {
	return &Cursor{schema: n.Schema(), op: n.Open(ctx), limit: limit, size: size, place: func(err error) error { return err }, done: func() {}}
}

// Schema is the result's schema.
func (c *Cursor) Schema() Schema { return c.schema }

// Visualization is what the query's render asked for (for the QueryProperties frame), or nil.
func (c *Cursor) Visualization() *Visualization { return c.vis }

// Next returns the next batch of the result, or nil at the end. Passing the row limit is an error,
// as Kusto's result-set truncation reports it.
func (c *Cursor) Next() (b *Batch, err error) {
	defer recoverInternal(&err)
	defer func() {
		if err != nil && c.err == nil {
			c.err = err
		}
	}()
	b, err = c.op.Next()
	if b == nil || err != nil {
		return nil, c.place(err)
	}
	if c.rows += b.Len; c.limit > 0 && c.rows > c.limit {
		return nil, c.place(&kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
			"query result set has exceeded the internal record count limit %d (E_QUERY_RESULT_SET_TOO_LARGE); use take, set truncationmaxrecords, or store a larger result with .set-or-append", c.limit)})
	}
	c.cost = 0
	for _, col := range b.Cols {
		c.cost += memoryCost(col)
	}
	if c.bytes += c.cost; c.size > 0 && c.bytes > c.size {
		return nil, c.place(&kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
			"query result set has exceeded the internal data size limit %d (E_QUERY_RESULT_SET_TOO_LARGE); project fewer columns, use take, set truncationmaxsize, or store a larger result with .set-or-append", c.size)})
	}
	return b, nil
}

// Close stops the query and records how it ended; it is safe to call more than once. A query
// closed before its end, without an error, completed: its client took what it wanted.
func (c *Cursor) Close() {
	c.op.Close()
	if c.track != nil {
		c.track.End(&queryOutcome{rows: c.rows, bytes: c.bytes}, c.err) // before done: a timeout's cancel is not its end
	}
	c.done()
}

// Collect reads the rest of the result into a Frame and closes the cursor. The rows it holds
// count against the memory budget while it reads them; the frame is the caller's once returned.
func (c *Cursor) Collect() (*Frame, error) {
	defer c.Close()
	var held int64
	defer func() { c.budget.release(held) }()
	builders := make([]builder, len(c.schema))
	for i, col := range c.schema {
		builders[i] = builderFor(newColumn(col.Type, 0))
	}
	for {
		b, err := c.Next()
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		for i, col := range b.Cols {
			builders[i].appendColumn(col)
		}
		if err := c.budget.reserve(c.cost); err != nil {
			c.err = err
			return nil, c.place(err)
		}
		held += c.cost
	}
	f := &Frame{Schema: c.schema, Rows: c.rows}
	for _, b := range builders {
		f.Cols = append(f.Cols, b.column())
	}
	return f, nil
}

// Frame is a materialized table: the result of a command or a query.
type Frame struct {
	Schema Schema
	Cols   []Column
	Rows   int
}

// Value returns the value at row, col (nil for null).
func (f *Frame) Value(row, col int) any { return f.Cols[col].Value(row) }
