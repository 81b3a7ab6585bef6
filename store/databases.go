package store

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	bolt "go.etcd.io/bbolt"
)

// isVolatile reports whether database db is volatile.
func (c *catalogStore) isVolatile(db string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.volatile[strings.ToLower(db)]
}

func (c *catalogStore) setVolatile(db string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.volatile == nil {
		c.volatile = map[string]bool{}
	}
	if on {
		c.volatile[strings.ToLower(db)] = true
	} else {
		delete(c.volatile, strings.ToLower(db))
	}
}

// changeDatabase is the database a table change names.
func changeDatabase(ch engine.Change) (string, bool) {
	switch ch := ch.(type) {
	case *engine.CreateTable:
		return ch.Database, true
	case *engine.SetSchema:
		return ch.Database, true
	case *engine.SetFolder:
		return ch.Database, true
	case *engine.SetDocString:
		return ch.Database, true
	case *engine.DropTable:
		return ch.Database, true
	case *engine.AppendExtents:
		return ch.Database, true
	case *engine.ReplaceExtents:
		return ch.Database, true
	case *engine.SetIngestionMapping:
		return ch.Database, true
	case *engine.DropIngestionMapping:
		return ch.Database, true
	case *engine.SetStreamingIngestionPolicy:
		return ch.Database, true
	}
	return "", false
}

// Dir is the data directory (engine.DatabaseStore).
func (c *catalogStore) Dir() string { return c.s.dir }

// Detached returns the detached database named name, with the changes that bring back its
// tables and their extents (engine.DatabaseStore).
func (c *catalogStore) Detached(name string) (*engine.DetachedDatabase, error) {
	var out *engine.DetachedDatabase
	err := c.s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketDatabases).ForEach(func(k, v []byte) error {
			var d databaseRec
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("database record %x: %w", k, err)
			}
			if d.Detached && strings.EqualFold(d.Name, name) {
				id, err := uuid.FromBytes(k)
				if err != nil {
					return err
				}
				out = &engine.DetachedDatabase{Name: d.Name, ID: id, Paths: d.Paths}
				if d.Streaming != nil {
					// Applied after the AttachDatabase, with the tables.
					out.Tables = append(out.Tables, &engine.SetStreamingIngestionPolicy{Database: d.Name, ID: id, Policy: d.Streaming.policy()})
				}
			}
			return nil
		})
		if err != nil || out == nil {
			return err
		}
		return tx.Bucket(bucketTables).ForEach(func(k, v []byte) error {
			var t tableRec
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("table record %x: %w", k, err)
			}
			if !strings.EqualFold(t.Database, out.Name) {
				return nil
			}
			t.Database = out.Name
			changes, err := c.tableChanges(k, t)
			out.Tables = append(out.Tables, changes...)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("data directory %s: the metadata is unreadable: %w", c.s.dir, err)
	}
	return out, nil
}
