package store

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
)

// The records of meta.db: what a database, a table, its schema, mappings, policy and extents are
// stored as (JSON values under their ids).

type databaseRec struct {
	Name string `json:"name"`
	// Paths are the persist paths the database was created with, as written (metadata first).
	Paths []string `json:"paths,omitempty"`
	// Detached: the database is not loaded at open; its tables' records and files are kept
	// (recovery removes none of them) for .attach database.
	Detached bool `json:"detached,omitempty"`
	// Streaming is the database's streaming ingestion policy, when one is set.
	Streaming *policyRec `json:"streaming_ingestion,omitempty"`
}

// policyRec is a streaming ingestion policy.
type policyRec struct {
	IsEnabled         bool     `json:"is_enabled"`
	HintAllocatedRate *float64 `json:"hint_allocated_rate,omitempty"`
}

func policyRecOf(p *engine.StreamingIngestionPolicy) *policyRec {
	if p == nil {
		return nil
	}
	return &policyRec{IsEnabled: p.IsEnabled, HintAllocatedRate: p.HintAllocatedRate}
}

func (r *policyRec) policy() *engine.StreamingIngestionPolicy {
	if r == nil {
		return nil
	}
	return &engine.StreamingIngestionPolicy{IsEnabled: r.IsEnabled, HintAllocatedRate: r.HintAllocatedRate}
}

type columnRec struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type tableRec struct {
	Database  string       `json:"database"`
	Name      string       `json:"name"`
	Schema    []columnRec  `json:"schema"`
	Folder    string       `json:"folder,omitempty"`
	DocString string       `json:"docstring,omitempty"`
	Extents   []extentRec  `json:"extents"`
	Mappings  []mappingRec `json:"mappings,omitempty"`
	Streaming *policyRec   `json:"streaming_ingestion,omitempty"`
}

// mappingRec is an ingestion mapping of a table.
type mappingRec struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Mapping       string `json:"mapping"`
	LastUpdatedOn int64  `json:"last_updated_on"` // ticks
}

// extentRec is an extent as the metadata records it; its data is in File.
type extentRec struct {
	ID        uuid.UUID `json:"id"`
	Rows      int       `json:"rows"`
	Types     []string  `json:"types"`
	CreatedOn int64     `json:"created_on"` // ticks
	Tags      []string  `json:"tags,omitempty"`
	Size      int64     `json:"size"`
	FileSize  int64     `json:"file_size,omitempty"` // bytes of File; 0 in records written before it was kept
	File      string    `json:"file"`                // under extents/
	SHA256    string    `json:"sha256"`              // of the file, hex
	Columns   []string  `json:"columns"`             // the Parquet column of each extent column
	// Ticks marks the datetime columns written as plain INT64 ticks since 0001-01-01, because
	// a value lay outside the nanosecond timestamp's range (1677-2262); the others are
	// TIMESTAMP(NANOS).
	Ticks []bool `json:"ticks,omitempty"`
}

func schemaRec(s engine.Schema) []columnRec {
	out := make([]columnRec, len(s))
	for i, c := range s {
		out[i] = columnRec{c.Name, c.Type.String()}
	}
	return out
}

func parseType(name string) (kusto.Type, error) {
	t, ok := kusto.LookupType(name)
	if !ok || !t.Supported() {
		return 0, fmt.Errorf("unknown column type %q", name)
	}
	return t, nil
}

func (r tableRec) schema() (engine.Schema, error) {
	out := make(engine.Schema, len(r.Schema))
	for i, c := range r.Schema {
		t, err := parseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %q: %w", r.Name, err)
		}
		out[i] = engine.ColumnSchema{Name: c.Name, Type: t}
	}
	return out, nil
}
