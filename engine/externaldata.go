package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/kustard/kustard/engine/formats"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/parser"
)

// externaldata (externaldata-operator.md): a table whose schema the query gives, read from
// files in one of the ingestion formats, a batch at a time, under the same file-access rules as
// `.ingest into` (Options.IngestFiles). Its batches are charged to the memory budget while they
// are live; what a later operator keeps, it charges itself.

// externalDataProperties are the properties the docs list for externaldata.
var externalDataProperties = []PropertySpec{
	{Name: "format", Type: kusto.TypeString, Check: checkFormat, Doc: "the data format (default: from the file's extension, else csv)"},
	{Name: "ignoreFirstRecord", Type: kusto.TypeBool, Doc: "skip the first record of each file (a header line)"},
	{Name: "ingestionMapping", Type: kusto.TypeString, Doc: "a Csv, Json or Parquet mapping, as JSON text"},
}

// externalDataInfo lets checkProperties check externaldata's with list as it checks a command's.
var externalDataInfo = &CommandInfo{Name: "externaldata", Properties: externalDataProperties,
	Unsupported: []string{"ingestionMappingReference", "zipPattern", "validationPolicy", "tags", "creationTime"}}

func (c *compiler) externalData(s *parser.ExternalDataSource) (Node, error) {
	schema := make(Schema, len(s.Columns))
	for i, col := range s.Columns {
		schema[i] = ColumnSchema{col.Name.String(), col.Type}
	}
	if len(s.Sources) == 0 {
		return nil, c.errorf(s.Pos.Offset, kusto.KindSyntax, "externaldata needs one or more sources: externaldata (col:type, …) [h@'/path/file.csv']")
	}
	if err := checkProperties(c.src, externalDataInfo, s.With); err != nil {
		return nil, err
	}
	var props parser.NamedValues
	if s.With != nil {
		props = s.With.Values
	}
	n := &externalDataNode{schema: schema, access: c.sess.eng.opts.IngestFiles, budget: c.sess.eng.budget,
		maxBytes: c.sess.eng.opts.MaxIngestBytes}
	if v, ok := props["format"]; ok {
		n.format, _ = formats.Lookup(v.Value.(string))
	} else {
		n.format = formatOfName(s.Sources[0].Value)
	}
	if v, ok := props["ignoreFirstRecord"]; ok {
		n.ignoreFirst = v.Value.(bool)
	}
	var mapping []formats.ColumnMapping
	if v, ok := props["ingestionMapping"]; ok {
		at := s.Pos.Offset
		for _, p := range s.With.List {
			if strings.EqualFold(p.Name.String(), "ingestionMapping") {
				at = p.Pos.Offset
			}
		}
		ms, err := formats.ParseMapping(n.format.MappingKind, v.Value.(string))
		if err != nil {
			return nil, c.errorf(at, kusto.KindSemantic, "ingestionMapping (%s, for format %s): %v", n.format.MappingKind, n.format.Name, err)
		}
		for _, m := range ms {
			if schema.Index(m.Column) < 0 {
				return nil, c.errorf(at, kusto.KindSemantic, "ingestionMapping: column %q is not in the externaldata schema (%s)", m.Column, schema.CSL())
			}
		}
		mapping = ms
	}
	n.columns = columnSourcesFor(schema, n.format, mapping)
	// Each source is checked now, so that a refusal points at it; the operator opens it again.
	for _, src := range s.Sources {
		f, err := n.access.open(src.Value)
		if err != nil {
			if ke, ok := err.(*kusto.Error); ok {
				ke.Src, ke.Offset = c.src, src.Pos.Offset
			}
			return nil, err
		}
		f.f.Close()
		n.sources = append(n.sources, src.Value)
	}
	return n, nil
}

// formatOfName is the format a file's extension names (less .gz), else csv: the docs' rule when
// no format is given.
func formatOfName(name string) formats.Format {
	lower := strings.TrimSuffix(strings.ToLower(name), ".gz")
	if ext := strings.TrimPrefix(path.Ext(lower), "."); ext != "" {
		if f, err := formats.Lookup(ext); err == nil {
			return f
		}
	}
	f, _ := formats.Lookup("csv")
	return f
}

type externalDataNode struct {
	schema      Schema
	format      formats.Format
	sources     []string
	columns     []columnSource
	ignoreFirst bool
	access      FileAccess
	budget      *Budget
	maxBytes    int64
}

func (n *externalDataNode) Schema() Schema   { return n.schema }
func (n *externalDataNode) Children() []Node { return nil }
func (n *externalDataNode) Describe() string {
	return fmt.Sprintf("externaldata(%s) [%d sources] (format %s)", n.schema.CSL(), len(n.sources), n.format.Name)
}

func (n *externalDataNode) Open(ctx context.Context) Operator {
	return &externalDataOperator{n: n, ctx: ctx, batch: Batch{Cols: make([]Column, len(n.schema))}}
}

// externalDataOperator reads the sources one after the other.
type externalDataOperator struct {
	n      *externalDataNode
	ctx    context.Context
	next   int // the next source to open
	file   *sourceFile
	name   string
	reader formats.Reader
	closer io.Closer
	first  bool
	held   int64 // the budget the current batch holds
	batch  Batch
	done   bool
}

func (o *externalDataOperator) Next() (*Batch, error) {
	n := o.n
	o.n.budget.release(o.held)
	o.held = 0
	if o.done {
		return nil, nil
	}
	builders := make([]builder, len(n.schema))
	for i, col := range n.schema {
		builders[i] = builderFor(newColumn(col.Type, batchSize))
	}
	rows := 0
	for rows < batchSize {
		if err := o.ctx.Err(); err != nil {
			return nil, context.Cause(o.ctx)
		}
		if o.reader == nil {
			if o.next == len(n.sources) {
				o.done = true
				break
			}
			if err := o.openNext(); err != nil {
				return nil, err
			}
		}
		rec, err := o.reader.Next()
		if errors.Is(err, io.EOF) {
			o.closeSource()
			continue
		}
		if err != nil {
			var fe *formats.Error
			if errors.As(err, &fe) {
				return nil, fileError(kusto.KindSemantic, o.name, "%v", fe)
			}
			return nil, err
		}
		if o.first {
			o.first = false
			if n.ignoreFirst {
				continue
			}
		}
		for i, src := range n.columns {
			builders[i].appendValue(src(o.name, rec))
		}
		rows++
	}
	if rows == 0 {
		return nil, nil
	}
	var cost int64
	for i, b := range builders {
		o.batch.Cols[i] = b.column()
		cost += memoryCost(o.batch.Cols[i])
	}
	if err := n.budget.reserve(cost); err != nil {
		return nil, err
	}
	o.held = cost
	o.batch.Len = rows
	return &o.batch, nil
}

// openNext opens the next source and its reader.
func (o *externalDataOperator) openNext() error {
	n := o.n
	name := n.sources[o.next]
	o.next++
	f, err := n.access.open(name)
	if err != nil {
		return err
	}
	o.file, o.name, o.first = f, name, true
	if n.format.Kind == formats.Parquet {
		pr, err := openParquetSource(name, f.f, f.size, nil)
		if err != nil {
			o.closeSource()
			return err
		}
		o.reader, o.closer = pr, pr
		return nil
	}
	stream, err := newSourceStream(o.ctx, name, f.f, n.maxBytes)
	if err != nil {
		o.closeSource()
		return err
	}
	o.reader = formats.NewReader(n.format, stream, formats.Options{})
	return nil
}

func (o *externalDataOperator) closeSource() {
	if o.closer != nil {
		o.closer.Close()
		o.closer = nil
	}
	if o.file != nil {
		o.file.f.Close()
		o.file = nil
	}
	o.reader = nil
}

func (o *externalDataOperator) Close() {
	o.closeSource()
	o.n.budget.release(o.held)
	o.held = 0
	o.done = true
}
