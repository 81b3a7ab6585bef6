package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
	var result TableInfo
	_, _, err := c.sess.eng.ops.Run(ctx, c.spec(info.Kind, false), func(ctx context.Context) (any, error) {
		return nil, c.db.update(func(tables map[string]*Table) error {
			t, exists := tables[name]
			switch {
			case !exists:
				t = &Table{Name: name, ID: c.sess.eng.ops.IDs().NewID(), schema: schema}
				tables[name] = t
				setText(&t.folder, folder)
				setText(&t.docString, doc)
			case create.Merge:
				merged, err := mergeSchema(t.schema, schema)
				if err != nil {
					return c.errorf(create.Table.Pos.Offset, kusto.KindSemantic, "%v", err)
				}
				t.schema = merged
				setText(&t.folder, folder)
				setText(&t.docString, doc)
			}
			// `.create table` on an existing table succeeds without changing it, as documented.
			result = t.infoLocked()
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return schemaFrame(result, c.db.Name, jsonSchema(result.Name, result.Schema)), nil
}

func setText(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
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
	_, _, err := c.sess.eng.ops.Run(ctx, c.spec("TableDrop", false), func(ctx context.Context) (any, error) {
		return nil, c.db.update(func(tables map[string]*Table) error {
			if _, ok := tables[name]; !ok && !drop.IfExists {
				return c.errorf(drop.Table.Pos.Offset, kusto.KindNotFound, "table %q does not exist", name)
			}
			delete(tables, name)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	fb := newFrame(droppedSchema)
	for _, t := range c.db.Tables() {
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
	fb := newFrame(databasesSchema)
	dbs := c.sess.eng.Databases()
	slices.SortFunc(dbs, func(a, b *Database) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	for _, db := range dbs {
		fb.row(db.Name, "", "v1.0", db == c.db, "ReadWrite", "", db.ID, "", "")
	}
	return fb.frame(), nil
}
