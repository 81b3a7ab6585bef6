package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeIngestRoot: a server reads no local file unless --ingest-root names a directory,
// and then only the files under it.
func TestServeIngestRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(root, "in.csv"), []byte("1\n2\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "out.csv"), []byte("3\n"), 0o644)
	os.Symlink(filepath.Join(outside, "out.csv"), filepath.Join(root, "link.csv"))

	s := startServe(t)
	post(t, s.url, ".create table T (a:long)")
	if status, body := post(t, s.url, ".ingest into table T ('"+filepath.Join(root, "in.csv")+"')"); status == 200 || !strings.Contains(body, "reads no local files") {
		t.Errorf("without --ingest-root: %d %s", status, body)
	}
	s.wait()

	s = startServe(t, "--ingest-root", root)
	post(t, s.url, ".create table T (a:long)")
	for _, c := range []struct{ source, want string }{
		{"in.csv", `"ItemLoaded"`},
		{filepath.Join(root, "in.csv"), `"ItemLoaded"`},
		{filepath.Join(outside, "out.csv"), "is outside the ingest root"},
		{"link.csv", "is outside the ingest root"},
		{"../" + filepath.Base(outside) + "/out.csv", "has a '..' element"},
	} {
		status, body := post(t, s.url, ".ingest into table T ('"+c.source+"')")
		if !strings.Contains(body, c.want) || (c.want == `"ItemLoaded"`) != (status == 200) {
			t.Errorf("%s: %d %s, want %s", c.source, status, body, c.want)
		}
	}
	if _, body := post(t, s.url, "T | count"); !strings.Contains(body, "[4]") {
		t.Errorf("T | count: %s, want 4", body)
	}
}

// TestServeExportRoot: a server writes no local file unless --export-root names a directory,
// and then only under it; --ingest-root alone does not let it write.
func TestServeExportRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()

	s := startServe(t, "--ingest-root", root)
	if status, body := post(t, s.url, ".export to csv ('"+root+"') <| print 1"); status == 200 || !strings.Contains(body, "writes no local files") {
		t.Errorf("without --export-root: %d %s", status, body)
	}
	s.wait()

	s = startServe(t, "--export-root", root)
	for _, c := range []struct{ target, want string }{
		{".", `"NumRecords"`},
		{root, `"NumRecords"`},
		{outside, "is outside the export root"},
		{"../" + filepath.Base(outside), "has a '..' element"},
	} {
		status, body := post(t, s.url, ".export to csv ('"+c.target+"') <| print 1")
		if !strings.Contains(body, c.want) || (c.want == `"NumRecords"`) != (status == 200) {
			t.Errorf("%s: %d %s, want %s", c.target, status, body, c.want)
		}
	}
	if files, _ := os.ReadDir(root); len(files) != 2 {
		t.Errorf("%d files under the export root, want 2", len(files))
	}
	if files, _ := os.ReadDir(outside); len(files) != 0 {
		t.Errorf("%d files written outside the export root", len(files))
	}
}
