// Package store is Kustard's durable store (kustard --data DIR): the catalog's databases, tables,
// schemas and extent lists, and the operations with their log, in a bbolt file, and each extent's
// columns in a Parquet file of its own, so that everything comes back when the process starts
// again, and a crash loses nothing a command acknowledged.
//
// A data directory holds:
//
//	kustard.lock        the lock that keeps a second process out; it holds the holder's pid
//	meta.db             bbolt: the format version, databases, tables (schema and extent list),
//	                    operations and their log
//	extents/<id>.parquet one file per extent, named by the extent's id
//	staging/            extents being written, renamed into extents/ before their commit
//
// An ingest's extent is written to staging/ (before the catalog's commit lock: Stage), synced,
// renamed into extents/ (the directory synced), and only then committed, with its SHA-256 and
// its operation's completion, in one bbolt transaction; a commit that fails removes its files.
// The file of a dropped or replaced extent is removed once no snapshot reaches the extent
// (lifetime.go). At open, files in staging/ and extent files no table lists are removed, and
// operations that were live when the process died are marked Completed when their commit
// recorded their completion, Abandoned otherwise. Open reads metadata only: an extent's file is
// read, and its checksum checked, the first time a scan asks for one of its columns, and only the
// columns asked for are decoded (the engine caches them within its memory budget).
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/ops"
	bolt "go.etcd.io/bbolt"
)

// FormatVersion is the version of the on-disk format this build writes and reads. A store of
// another version is refused at open, naming both, so that a later build can migrate it.
const FormatVersion = 1

var (
	bucketMeta      = []byte("meta")
	bucketDatabases = []byte("databases")
	bucketTables    = []byte("tables")
	bucketOps       = []byte("operations")
	bucketLog       = []byte("operations_log")
	// bucketCompleted holds, by operation id, the completion of an operation whose data a
	// catalog commit recorded, until the operation's own record says it ended.
	bucketCompleted = []byte("operations_completed")
	keyFormat       = []byte("format")
)

const (
	lockName    = "kustard.lock"
	metaName    = "meta.db"
	extentsDir  = "extents"
	stagingDir  = "staging"
	extentExt   = ".parquet"
	lockTimeout = time.Second
)

// Options configure a Store.
type Options struct {
	// Now is the clock that stamps operations found live at open when they are marked
	// Abandoned; default time.Now.
	Now func() time.Time
	// Seen, when set, is told at open, before anything is stamped, of every id the store holds
	// (databases, tables, extents, operations and their activities) and the latest time an
	// operation recorded, so that a deterministic run's clock and id sources (kustard
	// --deterministic) continue after them instead of making them again: a table or extent id
	// made twice would overwrite the stored one.
	Seen func(ids iter.Seq[uuid.UUID], latest time.Time)
}

// Store is an open data directory. Catalog and Operations are the stores an engine is opened
// with; Close releases the directory once the engine is closed.
type Store struct {
	dir  string
	db   *bolt.DB
	lock *os.File
	cat  *catalogStore
	ops  *opsStore

	mu     sync.Mutex
	closed bool
}

// Open opens (creating it if need be) the data directory dir, locking it for this process.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	dir = abs
	for _, d := range []string{dir, filepath.Join(dir, extentsDir), filepath.Join(dir, stagingDir)} {
		if err := os.MkdirAll(d, 0o755); errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
		} else if err != nil {
			return nil, fmt.Errorf("data directory %s cannot be created: %w", dir, unwrapPath(err))
		}
	}
	lock, err := acquireLock(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, lock: lock}
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	if err := checkMetaFile(filepath.Join(dir, metaName)); err != nil {
		return nil, fmt.Errorf("data directory %s: the metadata file %s %w", dir, metaName, err)
	}
	s.db, err = bolt.Open(filepath.Join(dir, metaName), 0o644, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		return nil, fmt.Errorf("data directory %s: the metadata file %s cannot be opened: %w", dir, metaName, err)
	}
	if err := s.checkFormat(); err != nil {
		return nil, err
	}
	if opts.Seen != nil {
		latest, err := s.latest()
		if err != nil {
			return nil, err
		}
		opts.Seen(s.ids(), latest)
	}
	s.cat = &catalogStore{s: s}
	if err := s.cat.recover(); err != nil {
		return nil, err
	}
	s.ops, err = openOps(s, opts.Now)
	if err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Catalog is the store of the engine's catalog (engine.Options.Store).
func (s *Store) Catalog() engine.Store { return s.cat }

// Operations is the store of the engine's operations (engine.Options.Operations).
func (s *Store) Operations() ops.Store { return s.ops }

// Close closes the metadata file and releases the directory's lock. Close the engine first.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cat != nil {
		s.cat.close()
	}
	return s.release()
}

func (s *Store) release() error {
	var err error
	if s.db != nil {
		err = s.db.Close()
	}
	if s.lock != nil {
		os.Remove(filepath.Join(s.dir, lockName+".pid"))
		err = errors.Join(err, s.lock.Close()) // closing the descriptor drops the flock
	}
	return err
}

// checkFormat writes the format version into a new store and checks an existing store's.
func (s *Store) checkFormat() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keyFormat); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil || n != FormatVersion {
				return fmt.Errorf("data directory %s holds format version %q; this kustard reads format version %d", s.dir, v, FormatVersion)
			}
		} else if err := meta.Put(keyFormat, []byte(strconv.Itoa(FormatVersion))); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketDatabases, bucketTables, bucketOps, bucketLog, bucketCompleted} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkMetaFile refuses a metadata file shorter than its own header says. bbolt takes an empty
// file for a new store (and recovery would then remove every extent as unlisted) and maps a
// truncated one past its end (a SIGBUS at the first read), so the length is checked first: each
// of bbolt's two meta pages (page 0, and page 1 at the page size) records the page size and the
// number of pages, and the file, which bbolt never shrinks, holds at least that many.
func checkMetaFile(path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil // a new store
	}
	if err != nil {
		return fmt.Errorf("cannot be read: %w", unwrapPath(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot be read: %w", unwrapPath(err))
	}
	size := info.Size()
	const magic = 0xED0CDAED
	var need int64
	read := func(off int64) (pageSize, pages int64, ok bool) {
		var b [64]byte
		if _, err := f.ReadAt(b[:], off); err != nil {
			return 0, 0, false
		}
		// page header (16 bytes), then magic, version, page size, flags, root bucket (16),
		// freelist page, page count
		if binary.LittleEndian.Uint32(b[16:]) != magic {
			return 0, 0, false
		}
		return int64(binary.LittleEndian.Uint32(b[24:])), int64(binary.LittleEndian.Uint64(b[56:])), true
	}
	ps, pages, ok := read(0)
	if !ok {
		return fmt.Errorf("is truncated or not a bbolt file (%d bytes)", size)
	}
	need = ps * pages
	if ps2, pages2, ok := read(ps); ok && ps2*pages2 > need {
		need = ps2 * pages2
	}
	if size < need {
		return fmt.Errorf("is truncated: %d bytes, of at least %d", size, need)
	}
	return nil
}

// acquireLock takes an exclusive flock on dir's lock file and records this process's pid beside
// it, so that a second process can say who holds the directory.
func acquireLock(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		holder := "another process"
		if b, rerr := os.ReadFile(path + ".pid"); rerr == nil && strings.TrimSpace(string(b)) != "" {
			holder = "process " + strings.TrimSpace(string(b))
		}
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by %s (it holds %s); one kustard process may use a data directory at a time", dir, holder, path)
		}
		return nil, fmt.Errorf("data directory %s cannot be locked: %w", dir, err)
	}
	if err := writeSynced(path+".pid", []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPath(err))
	}
	return f, nil
}

// writeSynced writes a small file and syncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir syncs a directory, so that the names created or renamed in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}

// unwrapPath drops the *PathError's operation, whose path the message already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func u64key(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// ids yields every id the store holds: databases, tables and their extents, operations and
// their activities (records and log).
func (s *Store) ids() iter.Seq[uuid.UUID] {
	return func(yield func(uuid.UUID) bool) {
		s.db.View(func(tx *bolt.Tx) error {
			stop := errors.New("stop")
			key := func(k, _ []byte) error {
				if id, err := uuid.FromBytes(k); err == nil && !yield(id) {
					return stop
				}
				return nil
			}
			if tx.Bucket(bucketDatabases).ForEach(key) != nil || tx.Bucket(bucketTables).ForEach(key) != nil {
				return nil
			}
			err := tx.Bucket(bucketTables).ForEach(func(_, v []byte) error {
				var t tableRec
				if json.Unmarshal(v, &t) != nil {
					return nil // Load reports it
				}
				for _, e := range t.Extents {
					if !yield(e.ID) {
						return stop
					}
				}
				return nil
			})
			if err != nil {
				return nil
			}
			for _, b := range [][]byte{bucketOps, bucketLog} {
				err := tx.Bucket(b).ForEach(func(_, v []byte) error {
					var r opRec
					if json.Unmarshal(v, &r) != nil {
						return nil // openOps reports it
					}
					if !yield(r.ID) || !yield(r.ActivityID) {
						return stop
					}
					return nil
				})
				if err != nil {
					return nil
				}
			}
			return nil
		})
	}
}

// latest is the latest time an operation recorded (zero for none).
func (s *Store) latest() (time.Time, error) {
	var latest time.Time
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketOps, bucketLog} {
			err := tx.Bucket(b).ForEach(func(k, v []byte) error {
				var r opRec
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("operation record %x: %w", k, err)
				}
				if r.Updated.After(latest) {
					latest = r.Updated
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("data directory %s: the operations are unreadable: %w", s.dir, err)
	}
	return latest, nil
}
