package engine

import (
	"context"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// .show extents, .show table T extents and .show database D extents
// (https://learn.microsoft.com/kusto/management/show-extents).

// showExtentsSchema is the docs' Returns table of show-extents.md.
var showExtentsSchema = Schema{
	{"ExtentId", kusto.TypeGUID}, {"DatabaseName", kusto.TypeString}, {"TableName", kusto.TypeString},
	{"MaxCreatedOn", kusto.TypeDateTime}, {"OriginalSize", kusto.TypeReal}, {"ExtentSize", kusto.TypeReal},
	{"CompressedSize", kusto.TypeReal}, {"IndexSize", kusto.TypeReal}, {"Blocks", kusto.TypeLong},
	{"Segments", kusto.TypeLong}, {"ExtentContainerId", kusto.TypeString}, {"RowCount", kusto.TypeLong},
	{"MinCreatedOn", kusto.TypeDateTime}, {"Tags", kusto.TypeString}, {"Kind", kusto.TypeString},
	{"DeletedRowCount", kusto.TypeLong},
}

// extentsFrame lists the extents of tables of database db, table by table in their order.
// OriginalSize is the size of the extent's column data in memory; ExtentSize and CompressedSize
// are its file's size when a durable store holds it, else the in-memory size (an extent in
// memory is not compressed). Kustard keeps no index, and never merges extents, so an extent's
// min and max creation times are its own; its tags are one a line, as Kusto writes them.
func (e *Engine) extentsFrame(db string, tables []TableInfo) *Frame {
	fb := newFrame(showExtentsSchema)
	for _, t := range tables {
		for _, x := range t.Extents {
			original := float64(x.Size)
			stored := original
			if x.FileSize > 0 {
				stored = float64(x.FileSize)
			}
			fb.row(x.ID, db, t.Name, x.CreatedOn, original, stored, stored, 0.0, int64(1), int64(1), "",
				int64(x.Rows), x.CreatedOn, strings.Join(x.Tags, "\r\n"), "StorageV3", int64(0))
		}
	}
	return fb.frame()
}

func runShowExtents(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	return c.sess.eng.extentsFrame(c.db.Name, c.db.Tables()), nil
}
