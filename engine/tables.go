package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// The table and database commands: .create table, .create-merge table, .drop table, .show tables,
// .show table and .show databases. The registry in commands.go dispatches to them.

// Result schemas, as the Kusto docs and Kusto.Language's command table give them.
var (
	tableSchemaSchema = Schema{
		{"TableName", kusto.TypeString}, {"Schema", kusto.TypeString}, {"DatabaseName", kusto.TypeString},
		{"Folder", kusto.TypeString}, {"DocString", kusto.TypeString},
	}
	tablesSchema = Schema{
		{"TableName", kusto.TypeString}, {"DatabaseName", kusto.TypeString}, {"Folder", kusto.TypeString},
		{"DocString", kusto.TypeString},
	}
	droppedSchema      = Schema{{"TableName", kusto.TypeString}, {"DatabaseName", kusto.TypeString}}
	tableDetailsSchema = Schema{
		{"TableName", kusto.TypeString}, {"DatabaseName", kusto.TypeString}, {"Folder", kusto.TypeString},
		{"DocString", kusto.TypeString}, {"TotalExtents", kusto.TypeLong}, {"TotalExtentSize", kusto.TypeReal},
		{"TotalOriginalSize", kusto.TypeReal}, {"TotalRowCount", kusto.TypeLong}, {"HotExtents", kusto.TypeLong},
		{"HotExtentSize", kusto.TypeReal}, {"HotOriginalSize", kusto.TypeReal}, {"HotRowCount", kusto.TypeLong},
		{"AuthorizedPrincipals", kusto.TypeString}, {"RetentionPolicy", kusto.TypeString},
		{"CachingPolicy", kusto.TypeString}, {"ShardingPolicy", kusto.TypeString}, {"MergePolicy", kusto.TypeString},
		{"StreamingIngestionPolicy", kusto.TypeString}, {"IngestionBatchingPolicy", kusto.TypeString},
		{"MinExtentsCreationTime", kusto.TypeDateTime}, {"MaxExtentsCreationTime", kusto.TypeDateTime},
		{"RowOrderPolicy", kusto.TypeString}, {"TableId", kusto.TypeGUID},
	}
	databasesSchema = Schema{
		{"DatabaseName", kusto.TypeString}, {"PersistentStorage", kusto.TypeString}, {"Version", kusto.TypeString},
		{"IsCurrent", kusto.TypeBool}, {"DatabaseAccessMode", kusto.TypeString}, {"PrettyName", kusto.TypeString},
		{"DatabaseId", kusto.TypeGUID}, {"InTransitionTo", kusto.TypeString}, {"SuspensionState", kusto.TypeString},
	}
)

func runCreateTable(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	create := cmd.(*parser.CreateTable)
	info := CommandFor(cmd)
	name := create.Table.String()
	var schema Schema
	for _, col := range create.Columns {
		schema = append(schema, ColumnSchema{col.Name.String(), col.Type})
	}
	var folder, doc *string
	if create.With != nil {
		if v, ok := create.With.Values["folder"]; ok {
			s := v.Value.(string)
			folder = &s
		}
		if v, ok := create.With.Values["docstring"]; ok {
			s := v.Value.(string)
			doc = &s
		}
	}
	db, newID := c.db.Name, c.lazyID()
	var snap *Snapshot
	_, _, err := c.sess.eng.ops.Run(ctx, c.spec(info.Kind, false), func(ctx context.Context) (_ any, err error) {
		snap, err = c.sess.eng.cat.Update(func(tx *Txn) error {
			t, exists := tx.Table(db, name)
			if !exists {
				// Fails with a conflict, and runs again, if another command creates the table first.
				return tx.CreateTable(db, name, newID(), schema, deref(folder), deref(doc))
			}
			// What follows relies on the table as read (a merged schema, or that it exists).
			if err := tx.Unchanged(db, name); err != nil {
				return err
			}
			if create.Merge {
				merged, err := mergeSchema(t.Schema, schema)
				if err != nil {
					return c.errorf(create.Table.Pos.Offset, kusto.KindSemantic, "%v", err)
				}
				if len(merged) > len(t.Schema) {
					if err := tx.SetSchema(db, name, merged); err != nil {
						return err
					}
				}
				if folder != nil {
					if err := tx.SetFolder(db, name, *folder); err != nil {
						return err
					}
				}
				if doc != nil {
					return tx.SetDocString(db, name, *doc)
				}
			}
			// `.create table` on an existing table succeeds without changing it, as documented.
			return nil
		})
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	result, _ := snap.Table(db, name)
	return schemaFrame(result, db, jsonSchema(result.Name, result.Schema)), nil
}

// lazyID returns a function that makes a new id the first time it is called, and returns that
// id after: a transaction that Update runs again creates its table with the same id, and
// one that creates nothing makes none.
func (c *call) lazyID() func() uuid.UUID {
	var id uuid.UUID
	return func() uuid.UUID {
		if id == uuid.Nil {
			id = c.sess.eng.ops.IDs().NewID()
		}
		return id
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// mergeSchema appends the columns of add that existing lacks; a column of the same name must
// have the same type.
func mergeSchema(existing, add Schema) (Schema, error) {
	out := slices.Clone(existing)
	for _, col := range add {
		i := out.Index(col.Name)
		switch {
		case i < 0:
			out = append(out, col)
		case out[i].Type != col.Type:
			return nil, fmt.Errorf("column %q is %s in the table, not %s", col.Name, out[i].Type, col.Type)
		}
	}
	return out, nil
}

func schemaFrame(t TableInfo, db, schema string) *Frame {
	fb := newFrame(tableSchemaSchema)
	fb.row(t.Name, schema, db, t.Folder, t.DocString)
	return fb.frame()
}

func runDropTable(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	drop := cmd.(*parser.DropTable)
	name := drop.Table.String()
	db := c.db.Name
	var snap *Snapshot
	_, _, err := c.sess.eng.ops.Run(ctx, c.spec("TableDrop", false), func(ctx context.Context) (_ any, err error) {
		snap, err = c.sess.eng.cat.Update(func(tx *Txn) error {
			if _, ok := tx.Table(db, name); !ok {
				if !drop.IfExists {
					return c.errorf(drop.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist", name)
				}
				return nil
			}
			return tx.DropTable(db, name)
		})
		return nil, err
	})
	if err != nil {
		return nil, err
	}
	fb := newFrame(droppedSchema)
	for _, t := range snap.Tables(db) {
		fb.row(t.Name, c.db.Name)
	}
	return fb.frame(), nil
}

// tablesNamed returns snapshots of the named tables, or all of them when names is empty.
func (c *call) tablesNamed(names []*parser.Name) ([]TableInfo, error) {
	if len(names) == 0 {
		return c.db.Tables(), nil
	}
	var out []TableInfo
	for _, n := range names {
		t, ok := c.db.Table(n.String())
		if !ok {
			return nil, c.errorf(n.Pos.Offset, kusto.KindNotFound, "table %q does not exist", n.String())
		}
		out = append(out, t)
	}
	return out, nil
}

func runShowTables(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowTables)
	tables, err := c.tablesNamed(show.Tables)
	if err != nil {
		return nil, err
	}
	if show.Details {
		return tableDetails(tables, c.db.Name), nil
	}
	fb := newFrame(tablesSchema)
	for _, t := range tables {
		fb.row(t.Name, c.db.Name, t.Folder, t.DocString)
	}
	return fb.frame(), nil
}

func runShowTable(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	show := cmd.(*parser.ShowTable)
	tables, err := c.tablesNamed([]*parser.Name{show.Table})
	if err != nil {
		return nil, err
	}
	t := tables[0]
	switch show.What {
	case "schema":
		return schemaFrame(t, c.db.Name, jsonSchema(t.Name, t.Schema)), nil
	case "cslschema":
		return schemaFrame(t, c.db.Name, t.Schema.CSL()), nil
	case "extents":
		return c.sess.eng.extentsFrame(c.db.Name, tables), nil
	default:
		return tableDetails(tables, c.db.Name), nil
	}
}

func tableDetails(tables []TableInfo, db string) *Frame {
	fb := newFrame(tableDetailsSchema)
	for _, t := range tables {
		var minCreated, maxCreated any
		for _, e := range t.Extents {
			if minCreated == nil || e.CreatedOn < minCreated.(kusto.DateTime) {
				minCreated = e.CreatedOn
			}
			if maxCreated == nil || e.CreatedOn > maxCreated.(kusto.DateTime) {
				maxCreated = e.CreatedOn
			}
		}
		size := float64(t.Size())
		// Kustard keeps every extent in memory, uncompressed: all of it is hot, and the
		// original, extent and column sizes are the same.
		fb.row(t.Name, db, t.Folder, t.DocString, int64(len(t.Extents)), size, size, t.Rows(),
			int64(len(t.Extents)), size, size, t.Rows(), "[]", "null", "null", "null", "null", "null", "null",
			minCreated, maxCreated, "null", t.ID)
	}
	return fb.frame()
}

func runShowDatabases(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	return databasesFrame(c.sess.eng.cat.Snapshot().Databases(), c), nil
}
