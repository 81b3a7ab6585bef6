package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
)

// ingestKinds are the Operation names of the ingest commands.
var ingestKinds = map[string]string{
	"set": "TableSet", "append": "TableAppend", "set-or-append": "TableSetOrAppend", "set-or-replace": "TableSetOrReplace",
}

// ingestJob is an ingest from query that has been checked and is ready to run: its plan is
// compiled and the target table's schema settled.
type ingestJob struct {
	c        *call
	cmd      *parser.Ingest
	plan     Node
	table    string
	tableID  uuid.UUID
	replace  bool // .set-or-replace: the new extent replaces the table's data
	recreate bool // recreate_schema: the table's schema becomes the query's, with the data swap
	props    parser.NamedValues
	progress func(rows int64)
}

// runIngest runs `.set`, `.append`, `.set-or-append` and `.set-or-replace`. Everything that can
// be checked is checked before the operation starts, so bad input fails at once, recorded
// BadInput, even with async. A table the command creates, or columns extend_schema adds, are
// committed first, in their own transaction, as Kusto documents; the data is committed in one
// step at the end, or not at all.
func runIngest(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.Ingest)
	info := CommandFor(cmd)
	spec := c.spec(info.Kind, info.Cancellable)
	job, err := prepareIngest(ctx, c, in)
	if err != nil {
		c.sess.eng.ops.Reject(spec, err)
		return nil, err
	}
	if in.Async {
		return c.goAsync(spec, func(ctx context.Context) (any, error) { return job.run(ctx) })
	}
	job.progress = c.req.Progress
	var result *Frame
	_, _, err = c.sess.eng.ops.Run(ctx, spec, func(ctx context.Context) (any, error) {
		out, err := job.run(ctx)
		if err != nil {
			return nil, err
		}
		result = out.extents
		return out, nil
	})
	var skipped *ops.SkippedError
	if errors.As(err, &skipped) {
		return newFrame(extentsSchema).frame(), nil
	}
	return result, err
}

// outcome is what the ingest's operation keeps: its extents table, f.
func (j *ingestJob) outcome(f *Frame) *ingestOutcome {
	out := &ingestOutcome{extents: f, rows: extentRows(f)}
	if v, ok := j.props["persistDetails"]; ok && v.Value.(bool) {
		out.persisted = true
	}
	return out
}

// extentRows sums the RowCount column of an extents table, as an ingest returns.
func extentRows(f *Frame) int64 {
	var n int64
	for r := range f.Rows {
		n += f.Value(r, extentsSchema.Index("RowCount")).(int64)
	}
	return n
}

func prepareIngest(ctx context.Context, c *call, in *parser.Ingest) (*ingestJob, error) {
	job := &ingestJob{c: c, cmd: in, table: in.Table.String(), replace: in.Verb == "set-or-replace"}
	if in.With != nil {
		job.props = in.With.Values
	}
	flag := func(name string) bool {
		v, ok := job.props[name]
		return ok && v.Value.(bool)
	}
	job.recreate = flag("recreate_schema")
	p, err := sourcePlan(ctx, c, in.Source)
	if err != nil {
		return nil, err
	}
	job.plan = p
	query := p.Schema()
	if len(query) == 0 {
		return nil, c.errorf(in.Source.Pos.Offset, kusto.KindSemantic, "the query returns no columns")
	}
	db, newID := c.db.Name, c.lazyID()
	_, err = c.sess.eng.cat.Update(func(tx *Txn) error {
		t, exists := tx.Table(db, job.table)
		switch {
		case exists && in.Verb == "set":
			return c.errorf(in.Table.Pos.Offset, kusto.KindConflict, "table %q already exists; .set creates a new table (use .append or .set-or-append to add to it)", job.table)
		case !exists && in.Verb == "append":
			return c.errorf(in.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist; .append needs an existing table (use .set-or-append to create it)", job.table)
		case !exists:
			// Fails with a conflict, and runs again, if another command creates the table first.
			if err := tx.CreateTable(db, job.table, newID(), query, "", ""); err != nil {
				return err
			}
		case !job.recreate:
			schema, err := matchSchema(t, query, flag("extend_schema"))
			if err != nil {
				return c.errorf(in.Source.Pos.Offset, kusto.KindSemantic, "%v", err)
			}
			if len(schema) > len(t.Schema) {
				// The extended schema is computed from the table as read: it must not have changed.
				if err := tx.Unchanged(db, job.table); err != nil {
					return err
				}
				if err := tx.SetSchema(db, job.table, schema); err != nil {
					return err
				}
			}
		}
		t, _ = tx.Table(db, job.table)
		job.tableID = t.ID
		if v, ok := job.props["folder"]; ok {
			if err := tx.SetFolder(db, job.table, v.Value.(string)); err != nil {
				return err
			}
		}
		if v, ok := job.props["docstring"]; ok {
			return tx.SetDocString(db, job.table, v.Value.(string))
		}
		return nil
	})
	return job, err
}

// sourcePlan compiles the source of an ingest: a query, or a .show command (run now) followed
// by any operators.
func sourcePlan(ctx context.Context, c *call, src *parser.Block) (Node, error) {
	comp := c.sess.compiler(c.db, c.req, src.Source)
	comp.ctx = ctx
	if src.Query != nil {
		return comp.query(src.Query)
	}
	f, err := CommandFor(src.Command).Run(ctx, &call{sess: c.sess, req: c.req, db: c.db, block: src}, src.Command)
	if err != nil {
		return nil, err
	}
	return comp.operators(&frameNode{frame: f, what: "result"}, src.Then)
}

// matchSchema checks a query's columns against a table's, by position and type as Kusto does
// (names are not matched), and returns the table's schema, extended with the query's extra
// columns when extend is set.
func matchSchema(t TableInfo, query Schema, extend bool) (Schema, error) {
	table := t.Schema
	for i := range min(len(table), len(query)) {
		if table[i].Type != query[i].Type {
			return nil, fmt.Errorf("column %d of the query (%s:%s) does not match column %d of table %q (%s:%s); ingest from query matches columns by position and type",
				i+1, quoteName(query[i].Name), query[i].Type, i+1, t.Name, quoteName(table[i].Name), table[i].Type)
		}
	}
	switch {
	case len(query) < len(table):
		return nil, fmt.Errorf("the query returns %d columns but table %q has %d (%s)", len(query), t.Name, len(table), table.CSL())
	case len(query) > len(table) && !extend:
		return nil, fmt.Errorf("the query returns %d columns but table %q has %d (%s); use with (extend_schema=true) to add the rest", len(query), t.Name, len(table), table.CSL())
	}
	out := slices.Clone(table)
	for _, col := range query[len(table):] {
		if out.Index(col.Name) >= 0 {
			return nil, fmt.Errorf("extend_schema cannot add column %q: table %q already has a column of that name", col.Name, t.Name)
		}
		out = append(out, col)
	}
	return out, nil
}

// yieldEvery is how long an ingest runs before it lets another goroutine have its core, when
// more ingests may run than there are cores (Capacity set above its default). The Go scheduler
// would let each run 10 ms at a time, so a canceled ingest could wait its turn for hundreds of
// milliseconds before it saw the cancel. With the default Capacity each has a core of its own
// and never yields: yielding wakes an idle core each time, which costs about a fifth of the
// throughput.
const yieldEvery = 10 * time.Microsecond

// run executes the query into a new extent and commits it. It returns the operation's outcome,
// whose extents table a synchronous ingest shows.
func (j *ingestJob) run(ctx context.Context) (_ *ingestOutcome, err error) {
	eng := j.c.sess.eng
	// A restart of the table abandons the ingest (faults.go).
	ctx, untrack := eng.trackIngest(ctx, j.tableID)
	defer untrack()
	defer func() {
		if ab := abandonment(ctx); err != nil && ab != nil {
			err = ab
		}
	}()
	// What the extent costs is reserved from the engine's memory budget as it grows; the table
	// holds it once the extent commits, and a failed or canceled ingest gives it all back.
	var held int64
	committed := false
	defer func() {
		if !committed {
			eng.budget.release(held)
		}
	}()
	schema := j.plan.Schema()
	ctx, release := withQueryState(ctx, eng.budget)
	defer release()
	it := j.plan.Open(ctx)
	defer it.Close()
	inPlace, _ := it.(inPlaceSource)
	expect := uint64(math.MaxUint64)
	if inPlace != nil {
		expect = inPlace.remaining()
	}
	builders := make([]*chunkedBuilder, len(schema))
	for i, col := range schema {
		builders[i] = newChunkedBuilder(col.Type, expect)
	}
	var rows, size int64
	// The operation's phase and progress, for front doors that show them: rows so far, of the
	// total when the source knows it.
	h := ops.FromContext(ctx)
	var total int64
	if inPlace != nil && expect <= math.MaxInt64 {
		total = int64(expect)
	}
	h.SetPhase("building extent")
	h.SetProgress(0, total)
	share := eng.ops.Capacity() >= runtime.GOMAXPROCS(0)
	batches, yielded := 0, time.Now()
	for {
		var b *Batch
		var err error
		if inPlace != nil {
			b, err = inPlace.nextInto(builders)
		} else {
			b, err = it.Next()
		}
		if err != nil {
			return nil, err
		}
		if b == nil {
			break
		}
		var cost int64
		for i, col := range b.Cols {
			if inPlace == nil {
				builders[i].appendColumn(col)
			}
			size += columnBytes(col)
			cost += memoryCost(col)
		}
		rows += int64(b.Len)
		if held+cost > eng.opts.MaxIngestBytes {
			return nil, &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
				"the ingest exceeded %d bytes after %d rows; the Kusto docs advise under 1 GB per ingest from query (Kustard's limit is set by --max-ingest-bytes)",
				eng.opts.MaxIngestBytes, rows)}
		}
		if err := eng.budget.reserve(cost); err != nil {
			return nil, err
		}
		held += cost
		h.SetDone(rows)
		if j.progress != nil {
			j.progress(rows)
		}
		if batches++; share && batches%4 == 0 { // reading the clock every batch costs too much
			if now := time.Now(); now.Sub(yielded) > yieldEvery {
				runtime.Gosched()
				yielded = now
			}
		}
	}
	var extent *Extent
	var cols MemoryData
	if rows > 0 {
		cols = make(MemoryData, len(builders))
		types := make([]kusto.Type, len(builders))
		for i, b := range builders {
			cols[i], types[i] = b.column(), schema[i].Type
		}
		extent = NewExtent(eng.ops.IDs().NewID(), int(rows), types, cols)
		extent.Size = size
		extent.cost = held
		if v, ok := j.props["tags"]; ok {
			extent.Tags = kusto.StringList(v)
		}
		extent.CreatedOn = kusto.DateTimeOf(eng.ops.Clock().Now())
		if v, ok := j.props["creationTime"]; ok {
			extent.CreatedOn = v.Value.(kusto.DateTime)
		}
	}
	fb := newFrame(extentsSchema)
	if extent != nil {
		// Extents live in memory uncompressed: original, extent and column sizes agree.
		fb.row(extent.ID, extent.Size, extent.Size, extent.Size, int64(0), int64(extent.Rows))
	}
	out := j.outcome(fb.frame())
	h.SetPhase("committing")
	if err := j.commit(ctx, extent, h.ID(), out); err != nil {
		return nil, err
	}
	committed = true // the extent's memory is the table's now, given back when it leaves
	if extent != nil && extent.stored != nil {
		// A durable store committed the extent to its file and made it a stored extent
		// (Extent.SetStored): its columns move from the ingest's reservation to the cache,
		// where they are evictable, so that the budget holds more data than it has memory.
		eng.budget.release(held)
		eng.budget.cache.warm(eng.budget, extent, cols)
	}
	return out, nil
}

// commit swaps the extent into the table in one transaction, whose preconditions are what must
// still hold since prepareIngest: the table has the id it had then, the ingest was not canceled
// (a cancel that arrived before this point wins: nothing is committed), no extent has an
// ingestIfNotExists tag, and the schema still takes the query's columns. A commit that changes
// the table's data also completes operation op with out, so that a durable store records both
// at once (CompleteOperation).
func (j *ingestJob) commit(ctx context.Context, extent *Extent, op uuid.UUID, out *ingestOutcome) error {
	db := j.c.db.Name
	_, err := j.c.sess.eng.cat.UpdateContext(ctx, func(tx *Txn) error {
		err := tx.Require(func(s *Snapshot) error {
			if t, ok := s.Table(db, j.table); !ok || t.ID != j.tableID {
				return &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: fmt.Sprintf("table %q was dropped while the ingest ran", j.table)}
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if v, ok := j.props["ingestIfNotExists"]; ok {
			tags := kusto.StringList(v)
			err := tx.Require(func(s *Snapshot) error {
				t, _ := s.Table(db, j.table)
				for _, tag := range tags {
					if tableHasTag(t, "ingest-by:"+tag) {
						return &ops.SkippedError{Reason: fmt.Sprintf("table %q already has data tagged ingest-by:%s", j.table, tag)}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if j.recreate {
			if err := tx.SetSchema(db, j.table, j.plan.Schema()); err != nil {
				return err
			}
		} else {
			err := tx.Require(func(s *Snapshot) error {
				t, _ := s.Table(db, j.table)
				if len(t.Schema) < len(j.plan.Schema()) || !typesMatch(t.Schema, j.plan.Schema()) {
					return &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: fmt.Sprintf("the schema of table %q changed while the ingest ran", j.table)}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		var extents []*Extent
		if extent != nil {
			extents = append(extents, extent)
		}
		if !j.replace && len(extents) == 0 {
			return nil // nothing to commit: the operation's own record completes it
		}
		if j.replace {
			err = tx.ReplaceExtents(db, j.table, extents...)
		} else {
			err = tx.AppendExtents(db, j.table, extents...)
		}
		if err != nil || op == uuid.Nil {
			return err
		}
		return tx.CompleteOperation(op, j.c.sess.eng.ops.Stamp(), out)
	})
	return err
}

func typesMatch(table, query Schema) bool {
	for i := range query {
		if table[i].Type != query[i].Type {
			return false
		}
	}
	return true
}

func tableHasTag(t TableInfo, tag string) bool {
	for _, e := range t.Extents {
		if slices.Contains(e.Tags, tag) {
			return true
		}
	}
	return false
}
