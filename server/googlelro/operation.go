package googlelro

import (
	"math"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/ops"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// operation is a snapshot as google.longrunning shows it: done from the state; metadata the
// columns of `.show operations` and whether a cancel was requested (as Data Fusion's
// requestedCancellation); the extents of a successful ingest as its response, or the end's error.
func (s *Service) operation(snap ops.Snapshot, projectStyle bool) *longrunningpb.Operation {
	n := opName{id: snap.ID, project: snap.Scope, projectStyle: projectStyle}
	_, cancelRequested := snap.CancelRequested()
	meta := map[string]any{
		"kind":                  snap.Kind.Name,
		"database":              snap.Scope,
		"startedOn":             timestamp(snap.Created),
		"lastUpdatedOn":         timestamp(snap.Updated),
		"state":                 engine.KustoState(snap.State),
		"status":                engine.KustoStatus(snap),
		"requestedCancellation": cancelRequested,
	}
	op := &longrunningpb.Operation{
		Name:     n.String(s.opts.Location),
		Metadata: anyStruct(meta),
		Done:     snap.State.Terminal(),
	}
	if !op.Done {
		return op
	}
	// Skipped (ingestIfNotExists found its tag) is a success that ingested nothing, as Kusto
	// and the script runner count it: a response with no extents, not an error.
	if snap.State == ops.Succeeded || snap.State == ops.Skipped {
		resp := map[string]any{}
		if extents, ok := engine.IngestExtents(snap); ok {
			resp["extents"] = frameRows(extents)
		}
		op.Result = &longrunningpb.Operation_Response{Response: anyStruct(resp)}
		return op
	}
	op.Result = &longrunningpb.Operation_Error{Error: &status.Status{
		Code: int32(endCode(snap.State)), Message: engine.KustoStatus(snap),
	}}
	return op
}

// endCode is the google.rpc.Code of an end other than success.
func endCode(state ops.State) codes.Code {
	switch state {
	case ops.Canceled:
		return codes.Canceled
	case ops.BadInput:
		return codes.InvalidArgument
	case ops.Throttled:
		return codes.ResourceExhausted
	case ops.Abandoned:
		return codes.Aborted
	}
	return codes.Unknown // Failed, PartiallySucceeded
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// anyStruct packs a JSON-like map as a google.protobuf.Struct in an Any: the well-known types
// carry Kustard's metadata and results without a proto of its own.
func anyStruct(m map[string]any) *anypb.Any {
	st, err := structpb.NewStruct(m)
	if err != nil {
		panic(err) // the maps are built here from JSON-able values
	}
	a, err := anypb.New(st)
	if err != nil {
		panic(err)
	}
	return a
}

// frameRows is a table as a list of objects, one a row, by column name: numbers and booleans as
// JSON's, every other value as Kusto's text of it.
func frameRows(f *engine.Frame) []any {
	rows := make([]any, f.Rows)
	for r := range f.Rows {
		row := map[string]any{}
		for c, col := range f.Schema {
			switch v := f.Value(r, c).(type) {
			case nil:
				row[col.Name] = nil
			case bool:
				row[col.Name] = v
			case int64:
				row[col.Name] = float64(v)
			case int32:
				row[col.Name] = float64(v)
			case float64:
				if math.IsNaN(v) || math.IsInf(v, 0) {
					row[col.Name] = kusto.FormatReal(v) // JSON has no NaN or infinity
				} else {
					row[col.Name] = v
				}
			case uuid.UUID:
				row[col.Name] = v.String()
			default:
				row[col.Name] = kusto.FormatValue(v)
			}
		}
		rows[r] = row
	}
	return rows
}
