package engine

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kustard/kustard/kusto"
)

// FileAccess says which local files `.ingest into` may read. The zero value lets it read any
// readable regular file, as the command line and the shell do (the user who runs them can read
// the files anyway); a server sets Root, or Disabled when it has no --ingest-root.
type FileAccess struct {
	// Disabled refuses every file source.
	Disabled bool
	// Root, when set, confines sources to the files under this directory: a path with a ".."
	// element or an encoded dot or slash, a symbolic link that leads out, and anything but a
	// regular file are refused, each by name. Relative paths are taken under it.
	Root string
	// Open, when set, opens every source instead of the file system, and the rules above do not
	// apply: an embedder serves sources from elsewhere, and tests feed an ingest a generated
	// stream of any size (its reader and size) without writing it to disk.
	Open func(locator string) (io.ReadCloser, int64, error)
}

// sourceFile is a source of `.ingest into`, opened: its name as the command gave it (for
// messages and ItemLoaded), its size on disk, and its file.
type sourceFile struct {
	name string
	path string
	size int64
	f    io.ReadCloser
}

// fileError is an error about a source, which names it.
func fileError(kind kusto.Kind, name, format string, args ...any) error {
	return &kusto.Error{Kind: kind, Offset: -1, Msg: fmt.Sprintf("source %q: ", name) + fmt.Sprintf(format, args...)}
}

// localPath turns a SourceDataLocator into a local path: a plain path, or a file: URI. Kusto's
// cloud storage URIs are refused by name.
func localPath(locator string) (string, error) {
	lower := strings.ToLower(locator)
	switch {
	case strings.HasPrefix(lower, "file://"):
		u, err := url.Parse(locator)
		if err != nil || u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("is not a local file URI (file:///path)")
		}
		if strings.Contains(lower, "%2e") || strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
			return "", fmt.Errorf("has an encoded dot or slash; write the path plainly")
		}
		return u.Path, nil
	case strings.Contains(lower, "://"):
		scheme, _, _ := strings.Cut(locator, "://")
		return "", fmt.Errorf("is a %s:// URI; Kustard ingests local files (a path or file:///path), not cloud storage", scheme)
	case strings.Contains(locator, ";"):
		return "", fmt.Errorf("has a ';' clause (credentials?); a local file takes none")
	case locator == "":
		return "", fmt.Errorf("is empty")
	}
	return locator, nil
}

// open opens a source by the policy: only a regular file, and under Root when set.
func (a FileAccess) open(locator string) (*sourceFile, error) {
	if a.Open != nil {
		r, size, err := a.Open(locator)
		if err != nil {
			return nil, err
		}
		return &sourceFile{name: locator, path: locator, size: size, f: r}, nil
	}
	if a.Disabled {
		return nil, fileError(kusto.KindSemantic, locator, "this server reads no local files (start it with --ingest-root DIR to ingest the files under DIR)")
	}
	path, err := localPath(locator)
	if err != nil {
		return nil, fileError(kusto.KindSemantic, locator, "%v", err)
	}
	if a.Root != "" {
		if slices := strings.FieldsFunc(path, func(r rune) bool { return r == '/' || r == '\\' }); containsDotDot(slices) {
			return nil, fileError(kusto.KindSemantic, locator, "has a '..' element; sources must stay under the ingest root")
		}
		root, err := filepath.EvalSymlinks(a.Root)
		if err != nil {
			return nil, fileError(kusto.KindSemantic, locator, "the ingest root cannot be read: %v", err)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		} else if abs, _ := filepath.Abs(a.Root); !within(root, path) && !within(abs, path) {
			return nil, fileError(kusto.KindSemantic, locator, "is outside the ingest root")
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, fileError(kusto.KindNotFound, locator, "%v (Download_SourceNotFound)", plainPathError(err))
		}
		if !within(root, real) {
			return nil, fileError(kusto.KindSemantic, locator, "is outside the ingest root (a symbolic link that leads out, or a path elsewhere)")
		}
		path = real
	}
	// O_NONBLOCK so that opening a FIFO does not wait for a writer; what it is, fstat says.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fileError(kusto.KindNotFound, locator, "%v (Download_SourceNotFound)", plainPathError(err))
		}
		return nil, fileError(kusto.KindSemantic, locator, "%v (Download_Forbidden)", plainPathError(err))
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fileError(kusto.KindSemantic, locator, "%v", plainPathError(err))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		what := "not a regular file"
		switch {
		case st.IsDir():
			what = "a directory"
		case st.Mode()&os.ModeNamedPipe != 0:
			what = "a FIFO"
		case st.Mode()&os.ModeDevice != 0:
			what = "a device"
		case st.Mode()&os.ModeSocket != 0:
			what = "a socket"
		}
		return nil, fileError(kusto.KindSemantic, locator, "is %s; Kustard ingests regular files only", what)
	}
	return &sourceFile{name: locator, path: path, size: st.Size(), f: f}, nil
}

// within reports whether path is dir or under it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func containsDotDot(elems []string) bool {
	for _, e := range elems {
		if e == ".." {
			return true
		}
	}
	return false
}

// plainPathError is an os error without the Go operation's name: "no such file or directory".
func plainPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sourceStream is what a reader of a source reads: the decompressed bytes, counted. It counts
// the source's own bytes (progress, of the file's size), and stops with a limits error once the
// decompressed bytes pass max: a gzip bomb ends there, cleanly.
type sourceStream struct {
	ctx        context.Context
	name       string
	raw        *countingReader // the file's bytes
	r          io.Reader       // decompressed
	read, max  int64
	onProgress func()
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// newSourceStream reads r, gunzipping it when its name ends in .gz or it starts with gzip's
// magic bytes.
func newSourceStream(ctx context.Context, name string, r io.Reader, max int64) (*sourceStream, error) {
	raw := &countingReader{r: r}
	br := bufio.NewReaderSize(raw, 64<<10)
	s := &sourceStream{ctx: ctx, name: name, raw: raw, r: br, max: max}
	magic, _ := br.Peek(2)
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".zip") {
		return nil, fileError(kusto.KindSemantic, name, "is a ZIP archive; Kustard reads plain and gzip-compressed sources (zipPattern is not supported)")
	}
	if strings.HasSuffix(lower, ".gz") || len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fileError(kusto.KindSemantic, name, "is not valid gzip: %v (BadRequest_InvalidBlob)", err)
		}
		s.r = zr
	}
	return s, nil
}

func (s *sourceStream) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, context.Cause(s.ctx)
	}
	if s.read > s.max {
		return 0, &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: fmt.Sprintf(
			"source %q: the ingest read more than %d bytes of data (after decompression); Kustard's limit is set by --max-ingest-bytes", s.name, s.max)}
	}
	if int64(len(p)) > s.max-s.read+1 {
		p = p[:s.max-s.read+1]
	}
	n, err := s.r.Read(p)
	s.read += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) {
			return n, fileError(kusto.KindSemantic, s.name, "the gzip stream is truncated or corrupt: %v (BadRequest_InvalidBlob)", err)
		}
		var ke *kusto.Error
		if !errors.As(err, &ke) {
			return n, fileError(kusto.KindSemantic, s.name, "%v", plainPathError(err))
		}
	}
	if s.onProgress != nil {
		s.onProgress()
	}
	return n, err
}
