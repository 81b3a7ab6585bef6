package kustohttp

import (
	"strconv"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/render"
)

// frames writes a v2 response, a JSON array of frames (api/rest/response-v2.md). With
// results_v2_newlines_between_frames each frame is a line of its own, `[{…}` then `,{…}` and
// a last `]`, which the SDKs read a frame at a time (the Go SDK's frame_reader.go).
type frames struct {
	*stream
	newlines bool
	n        int
}

// begin starts a frame.
func (f *frames) begin() {
	if f.n == 0 {
		f.str("[")
	} else {
		f.str(",")
	}
	f.n++
}

// close ends a frame: with newlines, its line ends with it, so that a client reading lines has
// the frame whole as soon as it is sent, not when the next one starts.
func (f *frames) close(text string) {
	f.str(text)
	if f.newlines {
		f.str("\n")
	}
}

func (f *frames) end() {
	f.close("]")
	f.flush()
}

// The ids of the tables of a v2 response.
const (
	propertiesTableID = 0
	primaryTableID    = 1
	completionTableID = 2
)

// writeV2 streams a query's result as v2 frames, in Kusto's order and with Kusto's fields in
// Kusto's order (the Go SDK reads them in that order, azkustodata/query/v2/frames_defs.go):
// DataSetHeader, the QueryProperties table, the primary result (one DataTable, or with
// results_v2_fragment_primary_tables a TableHeader, a TableFragment per batch and a
// TableCompletion), QueryCompletionInformation, DataSetCompletion. The frames before the rows
// are sent at once, and each batch as the plan produces it.
func (h *Handler) writeV2(s *stream, c *call, cur *engine.Cursor, act activity) {
	f := &frames{stream: s, newlines: c.newlines}
	f.begin()
	f.str(`{"FrameType":"DataSetHeader","IsProgressive":false,"Version":"v2.0","IsFragmented":`)
	f.buf = strconv.AppendBool(f.buf, c.fragment)
	f.close(`,"ErrorReportingPlacement":"` + c.placement.String() + `"}`)
	h.dataTable(f, table{id: propertiesTableID, kind: "QueryProperties", name: "@ExtendedProperties",
		columns: []column{{"TableId", kusto.TypeInt}, {"Key", kusto.TypeString}, {"Value", kusto.TypeDynamic}},
		rows:    [][]any{{int32(primaryTableID), "Visualization", visualization(cur)}}})
	f.flush()

	var err error
	cols := schemaColumns(cur.Schema())
	if c.fragment {
		err = h.fragments(f, c, cur, cols, act)
	} else {
		err = h.primaryTable(f, c, cur, cols, act)
	}

	now := kusto.DateTimeOf(h.eng.Ops().Clock().Now())
	level, levelName, text := completionText(err)
	statusCode, statusName := int32(0), "S_OK (0)"
	if err != nil {
		statusCode, statusName = 1, "S_FALSE (1)"
	}
	payload := string(marshal(map[string]any{"Count": 1, "Text": text}))
	h.dataTable(f, table{id: completionTableID, kind: "QueryCompletionInformation", name: "QueryCompletionInformation",
		columns: []column{
			{"Timestamp", kusto.TypeDateTime}, {"ClientRequestId", kusto.TypeString}, {"ActivityId", kusto.TypeGUID},
			{"SubActivityId", kusto.TypeGUID}, {"ParentActivityId", kusto.TypeGUID}, {"Level", kusto.TypeInt},
			{"LevelName", kusto.TypeString}, {"StatusCode", kusto.TypeInt}, {"StatusCodeName", kusto.TypeString},
			{"EventType", kusto.TypeInt}, {"EventTypeName", kusto.TypeString}, {"Payload", kusto.TypeString},
		},
		rows: [][]any{{now, act.clientRequestID, act.rootID, act.subID, act.rootID, level, levelName,
			statusCode, statusName, int32(4), "QueryInfo", payload}}})

	f.begin()
	f.str(`{"FrameType":"DataSetCompletion","HasErrors":`)
	f.buf = strconv.AppendBool(f.buf, err != nil)
	f.str(`,"Cancelled":`)
	f.buf = strconv.AppendBool(f.buf, isCanceled(err))
	if err != nil {
		f.str(`,"OneApiErrors":`)
		f.buf = h.appendErrors(f.buf, err, act)
	}
	f.close("}")
	f.end()
}

// appendErrors appends a OneApiErrors array holding err.
func (h *Handler) appendErrors(b []byte, err error, act activity) []byte {
	_, body := h.oneAPIError(err, act)
	b = append(b, '[')
	b = append(b, marshal(body)...)
	return append(b, ']')
}

// dataTable writes a whole table as one DataTable frame.
func (h *Handler) dataTable(f *frames, t table) {
	f.begin()
	f.buf = appendTableStart(f.buf, "DataTable", t.id, t.kind, t.name, t.columns)
	f.str(",")
	f.buf = appendRows(f.buf, t.rows)
	f.close("}")
}

func appendTableStart(b []byte, frameType string, id int, kind, name string, cols []column) []byte {
	b = append(b, `{"FrameType":"`+frameType+`","TableId":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"TableKind":`...)
	b = render.AppendJSONString(b, kind)
	b = append(b, `,"TableName":`...)
	b = render.AppendJSONString(b, name)
	b = append(b, ',')
	return appendColumns(b, cols, false)
}

// primaryTable streams the result as one DataTable frame, its rows sent batch by batch. An error
// in_data ends its rows as a row {"OneApiErrors":[…]}; otherwise only DataSetCompletion has it.
func (h *Handler) primaryTable(f *frames, c *call, cur *engine.Cursor, cols []column, act activity) error {
	f.begin()
	f.buf = appendTableStart(f.buf, "DataTable", primaryTableID, "PrimaryResult", "PrimaryResult", cols)
	f.str(`,"Rows":[`)
	rows, err := h.streamRows(f.stream, cur, func() {})
	if err != nil && c.placement == inData {
		if rows > 0 {
			f.str(",")
		}
		f.str(`{"OneApiErrors":`)
		f.buf = h.appendErrors(f.buf, err, act)
		f.str("}")
	}
	f.close("]}")
	return err
}

// fragments streams the result as a TableHeader, a TableFragment per batch and a
// TableCompletion. An error in_data is a fragment of its own holding the row {"OneApiErrors":
// […]}; end_of_table puts it in the TableCompletion; end_of_dataset leaves it to
// DataSetCompletion, which has it in every case.
func (h *Handler) fragments(f *frames, c *call, cur *engine.Cursor, cols []column, act activity) error {
	f.begin()
	f.buf = appendTableStart(f.buf, "TableHeader", primaryTableID, "PrimaryResult", "PrimaryResult", cols)
	f.close("}")
	f.flush()
	rows := 0
	var err error
	for {
		var b *engine.Batch
		if b, err = cur.Next(); err != nil || b == nil || f.err != nil {
			break
		}
		if b.Len == 0 {
			continue
		}
		f.begin()
		f.str(`{"FrameType":"TableFragment","TableFragmentType":"DataAppend","TableId":1,"Rows":[`)
		for i := range b.Len {
			if i > 0 {
				f.str(",")
			}
			f.buf = render.AppendJSONRow(f.buf, b.Cols, i)
		}
		rows += b.Len
		f.close("]}")
		f.flush()
	}
	if err != nil && c.placement == inData {
		f.begin()
		f.str(`{"FrameType":"TableFragment","TableFragmentType":"DataAppend","TableId":1,"Rows":[{"OneApiErrors":`)
		f.buf = h.appendErrors(f.buf, err, act)
		f.close("}]}")
	}
	f.begin()
	f.str(`{"FrameType":"TableCompletion","TableId":1,"RowCount":`)
	f.buf = strconv.AppendInt(f.buf, int64(rows), 10)
	if err != nil && c.placement == endOfTable {
		f.str(`,"OneApiErrors":`)
		f.buf = h.appendErrors(f.buf, err, act)
	}
	f.close("}")
	return err
}
