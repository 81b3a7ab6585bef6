package store

import (
	"os"
	"path/filepath"
	"runtime"
	"weak"

	"github.com/kustard/kustard/engine"
)

// An extent's file is removed once the metadata no longer lists it (its table was dropped, a
// .set-or-replace replaced it) and no snapshot can read it any more: a query that began before
// the drop holds the snapshot it compiled against, whose extents stay reachable, and so keep
// their files, until it ends. Reachability is the Go runtime's to tell: each extent this process
// recorded (loaded at open, or committed) carries a cleanup (runtime.AddCleanup) that, once the
// extent is garbage, removes its file unless the metadata lists it again — which it cannot for an
// extent nothing can reach — or the store is closed (a later open's recovery removes what is
// left, and stays the backstop for a crash).

// fileRef is what an extent's cleanup needs; it must not reach the extent.
type fileRef struct {
	key  weak.Pointer[engine.Extent]
	file string // under extents/
}

// track records that e's data is the file of er, and arranges for the file's removal once e is
// unreachable and no longer listed. A .set-or-replace that keeps e finds its record here rather
// than writing it again. Called with c.mu held.
func (c *catalogStore) track(e *engine.Extent, er extentRec) {
	key := weak.Make(e)
	if _, ok := c.files[key]; ok {
		return
	}
	if c.files == nil {
		c.files = map[weak.Pointer[engine.Extent]]extentRec{}
	}
	c.files[key] = er
	runtime.AddCleanup(e, c.unreachable, fileRef{key: key, file: er.File})
}

// recorded returns the record of an extent whose file this process wrote or loaded.
func (c *catalogStore) recorded(e *engine.Extent) (extentRec, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	er, ok := c.files[weak.Make(e)]
	return er, ok
}

// unreachable runs, on the runtime's cleanup goroutine, once an extent is garbage.
func (c *catalogStore) unreachable(r fileRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.files, r.key)
	if c.closed || c.live[r.file] {
		return
	}
	os.Remove(filepath.Join(c.s.dir, extentsDir, r.file))
	c.removed++
}

// close stops the removal of files: the metadata file is closing, and the next open's recovery
// decides instead.
func (c *catalogStore) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
}
