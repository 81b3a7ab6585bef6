package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"github.com/kustard/kustard/parser"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// `.export [async] [compressed] to csv|tsv|json|parquet (Target, …) [with (…)] <| Query`
// (export-data-to-storage.md): the query's rows streamed, batch by batch, to new files in local
// directories (the targets), under Options.ExportFiles. It never overwrites a file: a name that
// exists fails the export (Kusto's docs have no property to overwrite). A failed or canceled
// export removes the files it wrote — unlike Kusto, which leaves them: a local export that
// failed should not leave half a file to be read as a whole one.

// exportKind is the Operation name Kusto gives an export (its CommandType in .show commands).
const exportKind = "DataExportToFile"

// exportSchema is the result: one row per file written (export-data-to-storage.md, "Returns").
var exportSchema = Schema{{"Path", kusto.TypeString}, {"NumRecords", kusto.TypeLong}}

var exportProperties = []PropertySpec{
	{Name: "includeHeaders", Type: kusto.TypeString, Check: oneOf("none", "all", "firstFile"), Doc: "csv/tsv header lines: none (default), all files, or firstFile"},
	{Name: "fileExtension", Type: kusto.TypeString, Doc: "the files' extension (default the format's); .gz is appended when compressed"},
	{Name: "namePrefix", Type: kusto.TypeString, Doc: "the files' name prefix (default export); the names are Prefix_N_Id.Extension"},
	{Name: "encoding", Type: kusto.TypeString, Check: oneOf("UTF8NoBOM", "UTF8BOM"), Doc: "UTF8NoBOM (default) or UTF8BOM"},
	{Name: "compressionType", Type: kusto.TypeString, Check: oneOf("gzip", "snappy"), Doc: "gzip (default), or snappy for parquet"},
	{Name: "distribution", Type: kusto.TypeString, Check: oneOf("single", "per_node", "per_shard"), Doc: "accepted; Kustard writes from one thread"},
	{Name: "distributed", Type: kusto.TypeBool, Doc: "accepted; Kustard writes from one thread"},
	{Name: "persistDetails", Type: kusto.TypeBool, Doc: "keep the result for .show operation <id> details (default true when async)"},
	{Name: "sizeLimit", Type: kusto.TypeLong, Check: checkSizeLimit, Doc: "bytes per file before compression, 100 MB (default) to 1 GB; a larger result is split"},
	{Name: "parquetRowGroupSize", Type: kusto.TypeLong, Check: checkPositive, Doc: "rows per Parquet row group (default 100,000)"},
	{Name: "useNativeParquetWriter", Type: kusto.TypeBool, Doc: "datetime as INT64 TIMESTAMP_MICROS rather than INT96"},
}

var exportFormats = []string{"csv", "tsv", "json", "parquet"}

func oneOf(values ...string) func(kusto.Literal) (kusto.Literal, error) {
	return func(v kusto.Literal) (kusto.Literal, error) {
		for _, x := range values {
			if strings.EqualFold(x, v.Value.(string)) {
				return kusto.Literal{Type: kusto.TypeString, Value: x}, nil
			}
		}
		return kusto.Literal{}, fmt.Errorf("%q is not one of %s", v.Value, strings.Join(values, ", "))
	}
}

// integerProperty reads a property given as a number (coerceProperty made it a long).
func integerProperty(v kusto.Literal) (int64, error) { return v.Value.(int64), nil }

func checkSizeLimit(v kusto.Literal) (kusto.Literal, error) {
	n, err := integerProperty(v)
	if err != nil {
		return kusto.Literal{}, err
	}
	if n < 100<<20 || n > 1<<30 {
		return kusto.Literal{}, fmt.Errorf("%d is outside the allowed range, 100 MB (104857600) to 1 GB (1073741824)", n)
	}
	return kusto.Literal{Type: kusto.TypeLong, Value: n}, nil
}

func checkPositive(v kusto.Literal) (kusto.Literal, error) {
	n, err := integerProperty(v)
	if err != nil {
		return kusto.Literal{}, err
	}
	if n <= 0 {
		return kusto.Literal{}, fmt.Errorf("%d is not positive", n)
	}
	return kusto.Literal{Type: kusto.TypeLong, Value: n}, nil
}

// exportOutcome is what an export's operation keeps: the files it wrote.
type exportOutcome struct {
	files     *Frame
	persisted bool
}

// exportJob is an export that has been checked and is ready to run.
type exportJob struct {
	c       *call
	cmd     *parser.Export
	plan    Node
	format  string
	dirs    []string // the targets, resolved
	shown   []string // the targets as the command named them, for the result's Path
	props   parser.NamedValues
	prefix  string
	ext     string
	header  string
	limit   int64
	created []string // the files written so far, removed if the export fails
}

func runExport(ctx context.Context, c *call, cmd parser.Command) (*Frame, error) {
	in := cmd.(*parser.Export)
	info := CommandFor(cmd)
	spec := c.spec(info.Kind, info.Cancellable)
	job, err := prepareExport(ctx, c, in)
	if err != nil {
		c.sess.eng.ops.Reject(spec, err)
		return nil, err
	}
	if in.Async {
		return c.goAsync(spec, func(ctx context.Context) (any, error) { return job.run(ctx, true) })
	}
	var result *Frame
	_, _, err = c.sess.eng.ops.Run(ctx, spec, func(ctx context.Context) (any, error) {
		out, err := job.run(ctx, false)
		if err != nil {
			return nil, err
		}
		result = out.files
		return out, nil
	})
	return result, err
}

func prepareExport(ctx context.Context, c *call, in *parser.Export) (*exportJob, error) {
	j := &exportJob{c: c, cmd: in, format: strings.ToLower(in.Format.String()), header: "none", limit: 100 << 20}
	if in.With != nil {
		j.props = in.With.Values
	}
	switch j.format {
	case "csv", "tsv", "json", "parquet":
	default:
		return nil, c.errorf(in.Format.Pos.Offset, kusto.KindSemantic, "unsupported export format %q; Kustard exports %s", in.Format.String(), strings.Join(exportFormats, ", "))
	}
	j.ext = "." + j.format
	if v, ok := j.props["fileExtension"]; ok {
		j.ext = v.Value.(string)
		if !strings.HasPrefix(j.ext, ".") {
			j.ext = "." + j.ext
		}
	}
	if in.Compressed && j.format != "parquet" {
		if v, ok := j.props["compressionType"]; ok && v.Value.(string) == "snappy" {
			return nil, c.errorf(in.Pos.Offset, kusto.KindSemantic, "compressionType snappy is for parquet; a compressed %s export is gzip", j.format)
		}
		j.ext += ".gz"
	}
	j.prefix = "export"
	if v, ok := j.props["namePrefix"]; ok {
		j.prefix = v.Value.(string)
		if j.prefix == "" || strings.ContainsAny(j.prefix, `/\`) || strings.Contains(j.prefix, "..") {
			return nil, c.errorf(in.Pos.Offset, kusto.KindSemantic, "namePrefix %q must be a file name: no slashes and no '..'", j.prefix)
		}
	}
	if v, ok := j.props["includeHeaders"]; ok {
		j.header = v.Value.(string)
	}
	if v, ok := j.props["sizeLimit"]; ok {
		j.limit = v.Value.(int64)
	}
	for _, t := range in.Targets {
		dir, err := c.sess.eng.opts.ExportFiles.exportDir(t.Value)
		if err != nil {
			if ke, ok := err.(*kusto.Error); ok {
				ke.Src, ke.Offset = c.block.Source, t.Pos.Offset
			}
			return nil, err
		}
		shown, _ := localPath(t.Value)
		j.dirs, j.shown = append(j.dirs, dir), append(j.shown, shown)
	}
	p, err := sourcePlan(ctx, c, in.Source)
	if err != nil {
		return nil, err
	}
	if len(p.Schema()) == 0 {
		return nil, c.errorf(in.Source.Pos.Offset, kusto.KindSemantic, "the query returns no columns")
	}
	j.plan = p
	return j, nil
}

// exportDir resolves an export target: an existing directory, by the same rules as a source
// (no '..' under Root, no symbolic link leading out, no cloud storage).
func (a FileAccess) exportDir(locator string) (string, error) {
	if a.Disabled {
		return "", fileError(kusto.KindSemantic, locator, "this server writes no local files (start it with --export-root DIR to export to the directories under DIR)")
	}
	path, err := localPath(locator)
	if err != nil {
		return "", exportTargetError(locator, "%v", strings.Replace(err.Error(), "ingests local files", "exports to local directories", 1))
	}
	if a.Root != "" {
		if containsDotDot(strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' })) {
			return "", exportTargetError(locator, "has a '..' element; targets must stay under the export root")
		}
		root, err := filepath.EvalSymlinks(a.Root)
		if err != nil {
			return "", exportTargetError(locator, "the export root cannot be read: %v", err)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		} else if abs, _ := filepath.Abs(a.Root); !within(root, path) && !within(abs, path) {
			return "", exportTargetError(locator, "is outside the export root")
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return "", exportTargetError(locator, "%v", plainPathError(err))
		}
		if !within(root, real) {
			return "", exportTargetError(locator, "is outside the export root (a symbolic link that leads out, or a path elsewhere)")
		}
		path = real
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", exportTargetError(locator, "%v; the target is a directory that exists", plainPathError(err))
	}
	if !st.IsDir() {
		return "", exportTargetError(locator, "is not a directory; an export target is the directory the files are written to")
	}
	return path, nil
}

func exportTargetError(name, format string, args ...any) error {
	return &kusto.Error{Kind: kusto.KindSemantic, Offset: -1, Msg: fmt.Sprintf("export target %q: ", name) + fmt.Sprintf(format, args...)}
}

// exportFile is one file being written: its path, and the path the result shows (under the
// target as the command named it, as Kusto shows the storage URL it was given).
type exportFile struct {
	path  string
	shown string
	f     *os.File
	w     exportWriter
	rows  int64
}

func (j *exportJob) run(ctx context.Context, async bool) (_ *exportOutcome, err error) {
	eng := j.c.sess.eng
	var files []*exportFile
	var cur *exportFile
	defer func() {
		if cur != nil {
			cur.w.abandon()
			cur.f.Close()
		}
		if err != nil {
			for _, p := range j.created {
				os.Remove(p)
			}
		}
	}()
	ctx, release := withQueryState(ctx, eng.budget)
	defer release()
	it := j.plan.Open(ctx)
	defer it.Close()
	h := ops.FromContext(ctx)
	h.SetPhase("writing files")
	schema := j.plan.Schema()
	id := strings.ReplaceAll(eng.ops.IDs().NewID().String(), "-", "")
	finish := func() error {
		if cur == nil {
			return nil
		}
		if err := cur.w.close(); err != nil {
			return exportWriteError(cur.path, err)
		}
		if err := cur.f.Close(); err != nil {
			return exportWriteError(cur.path, err)
		}
		files = append(files, cur)
		cur = nil
		return nil
	}
	var total int64
	for {
		b, err := it.Next()
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, context.Cause(ctx)
		}
		if b == nil {
			break
		}
		if cur != nil && cur.w.written() >= j.limit {
			if err := finish(); err != nil {
				return nil, err
			}
		}
		if cur == nil {
			if cur, err = j.create(len(files), schema, id); err != nil {
				return nil, err
			}
		}
		if err := cur.w.write(b); err != nil {
			var ke *kusto.Error
			if errors.As(err, &ke) { // the budget's: not the file's
				return nil, err
			}
			return nil, exportWriteError(cur.path, err)
		}
		cur.rows += int64(b.Len)
		total += int64(b.Len)
		h.SetDone(total)
	}
	if cur == nil && len(files) == 0 {
		// No rows: one file still, holding the header (if any), so that the export's result
		// names where its (empty) output is.
		if cur, err = j.create(0, schema, id); err != nil {
			return nil, err
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	fb := newFrame(exportSchema)
	for _, f := range files {
		fb.row(f.shown, f.rows)
	}
	out := &exportOutcome{files: fb.frame(), persisted: async}
	if v, ok := j.props["persistDetails"]; ok {
		out.persisted = v.Value.(bool)
	}
	return out, nil
}

func exportWriteError(path string, err error) error {
	return &kusto.Error{Kind: kusto.KindSemantic, Offset: -1, Msg: fmt.Sprintf("export file %q: %v", path, plainPathError(err))}
}

// create makes the n-th file (from 0), in the targets in turn; it fails if the name exists.
func (j *exportJob) create(n int, schema Schema, id string) (*exportFile, error) {
	name := fmt.Sprintf("%s_%d_%s%s", j.prefix, n+1, id, j.ext)
	path := filepath.Join(j.dirs[n%len(j.dirs)], name)
	shown := filepath.Join(j.shown[n%len(j.shown)], name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, &kusto.Error{Kind: kusto.KindConflict, Offset: -1, Msg: fmt.Sprintf("export file %q already exists; .export never overwrites a file (give another namePrefix)", shown)}
		}
		return nil, exportWriteError(shown, err)
	}
	j.created = append(j.created, path)
	out := &exportFile{path: path, shown: shown, f: f}
	var w io.Writer = f
	switch j.format {
	case "parquet":
		var codec compress.Codec
		if j.cmd.Compressed {
			codec = &gzip.Codec{}
			if v, ok := j.props["compressionType"]; ok && v.Value.(string) == "snappy" {
				codec = &snappy.Codec{}
			}
		}
		group := int64(100_000)
		if v, ok := j.props["parquetRowGroupSize"]; ok {
			group = v.Value.(int64)
		}
		native := false
		if v, ok := j.props["useNativeParquetWriter"]; ok {
			native = v.Value.(bool)
		}
		out.w = newParquetWriter(w, schema, native, codec, group, j.c.sess.eng.budget)
	default:
		bom := false
		if v, ok := j.props["encoding"]; ok {
			bom = v.Value.(string) == "UTF8BOM"
		}
		header := j.header == "all" || j.header == "firstFile" && n == 0
		tw, err := newTextWriter(w, schema, j.format, j.cmd.Compressed, bom, header)
		if err != nil {
			f.Close()
			return nil, exportWriteError(path, err)
		}
		out.w = tw
	}
	return out, nil
}

func init() {
	RegisterCommand(&CommandInfo{
		Name: ".export", Keywords: []string{"export"},
		Synopsis: ".export [async] [compressed] to csv|tsv|json|parquet (h@'/dir', …) [with (namePrefix = …, includeHeaders = …, …)] <| Query",
		Summary:  "Runs a query and writes its rows to new files in local directories.",
		Notes:    "never overwrites a file; a failed export removes its files; see [Exporting](#exporting)",
		Result:   exportSchema, Properties: exportProperties,
		Unsupported: []string{"spread", "concurrency"},
		Kind:        exportKind, Async: true,
		Args: []Arg{{Words: []Word{{"async", "return an OperationId at once"}, {"compressed", "gzip the files"}, {"to", "to csv|tsv|json|parquet (targets)"}}}},
		Node: &parser.Export{}, Run: runExport,
	})
}
