package store

import (
	"encoding/json"
	"fmt"

	"github.com/kustard/kustard/engine"
	bolt "go.etcd.io/bbolt"
)

// Reload reads a table's extents back from the data directory, as a restarted node would
// (engine.TableReloader): fresh extents from the table's record, each reading its file (and
// checking its checksum) again the first time a query scans it.
func (c *catalogStore) Reload(database string, t engine.TableInfo) ([]*engine.Extent, error) {
	var rec tableRec
	err := c.s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTables).Get(t.ID[:])
		if v == nil {
			return fmt.Errorf("table %q of database %q is not in the store", t.Name, database)
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return nil, c.recordErr(err)
	}
	out := make([]*engine.Extent, len(rec.Extents))
	for i, er := range rec.Extents {
		if out[i], err = c.extent(rec, er); err != nil {
			return nil, c.recordErr(err)
		}
	}
	return out, nil
}
