package engine

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
)

// What an ingest operation keeps once it has ended, and its encoding for a durable store, so
// that `.show operation <id> details` and the front doors' results work after a restart.

// ingestOutcome is what a finished ingest operation keeps: the extents table a synchronous run
// returns, which `.show operation <id> details` shows if the command asked to persist it, and
// the rows it committed, which front doors report when an async ingest ends.
type ingestOutcome struct {
	extents   *Frame
	rows      int64
	persisted bool
}

// resultRec is an operation's result as a store keeps it: one field per kind of result the
// engine makes (only ingests have one today).
type resultRec struct {
	Ingest *ingestRec `json:"ingest,omitempty"`
}

type ingestRec struct {
	Rows      int64       `json:"rows"`
	Persisted bool        `json:"persisted,omitempty"`
	Extents   []extentRow `json:"extents"`
}

// extentRow is one row of the extents table an ingest returns (extentsSchema).
type extentRow struct {
	ID           uuid.UUID `json:"id"`
	OriginalSize int64     `json:"original_size"`
	ExtentSize   int64     `json:"extent_size"`
	ColumnSize   int64     `json:"column_size"`
	IndexSize    int64     `json:"index_size"`
	Rows         int64     `json:"rows"`
}

// EncodeResult encodes the result of an operation the engine ran, for a durable store; nil
// for a result the engine does not keep across a restart (none, or one it does not know).
func EncodeResult(result any) (json.RawMessage, error) {
	out, ok := result.(*ingestOutcome)
	if !ok || out == nil || out.extents == nil {
		return nil, nil
	}
	rec := &ingestRec{Rows: out.rows, Persisted: out.persisted}
	f := out.extents
	for r := range f.Rows {
		long := func(col int) int64 { v, _ := f.Value(r, col).(int64); return v }
		id, _ := f.Value(r, 0).(uuid.UUID)
		rec.Extents = append(rec.Extents, extentRow{ID: id, OriginalSize: long(1), ExtentSize: long(2), ColumnSize: long(3), IndexSize: long(4), Rows: long(5)})
	}
	return json.Marshal(resultRec{Ingest: rec})
}

// DecodeResult is the result EncodeResult encoded, as the operation's Snapshot holds it.
func DecodeResult(b json.RawMessage) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var rec resultRec
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("operation result: %w", err)
	}
	if rec.Ingest == nil {
		return nil, nil
	}
	fb := newFrame(extentsSchema)
	for _, e := range rec.Ingest.Extents {
		fb.row(e.ID, e.OriginalSize, e.ExtentSize, e.ColumnSize, e.IndexSize, e.Rows)
	}
	return &ingestOutcome{extents: fb.frame(), rows: rec.Ingest.Rows, persisted: rec.Ingest.Persisted}, nil
}

// ResultRows is how many rows an ingest's result (an operation's Result) committed.
func ResultRows(result any) (int64, bool) {
	out, ok := result.(*ingestOutcome)
	if !ok || out == nil {
		return 0, false
	}
	return out.rows, true
}
