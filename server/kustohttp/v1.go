package kustohttp

import (
	"strconv"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/render"
)

// writeV1 streams a result as Kusto's v1 JSON (api/rest/response.md): {"Tables":[…]}, the result
// as Table_0. A query's result is followed by the tables Kusto adds to it: @ExtendedProperties,
// QueryStatus and the TableOfContents. A failure after the rows have started is a row
// {"Exceptions":[…]} and a top-level "Exceptions", as Kusto writes a partial query failure (the
// Go SDK's test data, azkustodata/query/v1/testData/error.json). A failure before any row has
// been sent is answered as the error it is, with its HTTP status, as Kusto answers a query or
// command that fails outright: clients that read no in-band exceptions (the Node SDK reads only
// the status and QueryStatus) would otherwise take it for an empty success.
func (h *Handler) writeV1(s *stream, cur *engine.Cursor, query bool, act activity) {
	s.str(`{"Tables":[{"TableName":"Table_0",`)
	s.buf = appendColumns(s.buf, schemaColumns(cur.Schema()), true)
	s.str(`,"Rows":[`)
	rows, err := h.streamRows(s, cur, func() {})
	if err != nil && rows == 0 && s.err == nil {
		// Nothing has been flushed yet: streamRows sends only batches that hold rows.
		s.buf = s.buf[:0]
		h.writeError(s.w, err, act)
		return
	}
	if err != nil {
		exceptions := render.AppendJSONString([]byte("["), render.ErrorBody(err).Error.Detail)
		exceptions = append(exceptions, ']')
		if rows > 0 {
			s.str(",")
		}
		s.str(`{"Exceptions":`)
		s.buf = append(s.buf, exceptions...)
		s.str(`}]}],"Exceptions":`)
		s.buf = append(s.buf, exceptions...)
		s.str("}\n")
		s.flush()
		return
	}
	s.str("]}")
	if query {
		for i, t := range h.v1QueryTables(cur, act) {
			s.str(`,{"TableName":"Table_`)
			s.buf = strconv.AppendInt(s.buf, int64(i+1), 10)
			s.str(`",`)
			s.buf = appendColumns(s.buf, t.columns, true)
			s.str(",")
			s.buf = appendRows(s.buf, t.rows)
			s.str("}")
		}
	}
	s.str("]}\n")
	s.flush()
}

// streamRows appends the cursor's rows, comma-separated, flushing after each batch; before the
// first row of a batch it calls each. It returns how many rows it wrote and the error that ended
// the result early, if one did.
func (h *Handler) streamRows(s *stream, cur *engine.Cursor, each func()) (int, error) {
	rows := 0
	for {
		b, err := cur.Next()
		if err != nil {
			return rows, err
		}
		if b == nil || s.err != nil {
			return rows, nil
		}
		if b.Len == 0 {
			continue
		}
		each()
		for i := range b.Len {
			if rows > 0 {
				s.buf = append(s.buf, ',')
			}
			s.buf = render.AppendJSONRow(s.buf, b.Cols, i)
			rows++
		}
		s.flush()
	}
}

// v1QueryTables are the tables Kusto's v1 response adds after a query's result.
func (h *Handler) v1QueryTables(cur *engine.Cursor, act activity) []table {
	now := kusto.DateTimeOf(h.eng.Ops().Clock().Now())
	level, levelName, text := completionText(nil)
	return []table{
		{name: "@ExtendedProperties", columns: []column{{"Value", kusto.TypeString}},
			rows: [][]any{{visualization(cur)}}},
		{name: "QueryStatus", columns: []column{
			{"Timestamp", kusto.TypeDateTime}, {"Severity", kusto.TypeInt}, {"SeverityName", kusto.TypeString},
			{"StatusCode", kusto.TypeInt}, {"StatusDescription", kusto.TypeString}, {"Count", kusto.TypeInt},
			{"RequestId", kusto.TypeGUID}, {"ActivityId", kusto.TypeGUID}, {"SubActivityId", kusto.TypeGUID},
			{"ClientActivityId", kusto.TypeString},
		}, rows: [][]any{{now, level, levelName, int32(0), text, int32(1), act.rootID, act.rootID, act.subID, act.clientRequestID}}},
		{name: "TableOfContents", columns: []column{
			{"Ordinal", kusto.TypeLong}, {"Kind", kusto.TypeString}, {"Name", kusto.TypeString},
			{"Id", kusto.TypeString}, {"PrettyName", kusto.TypeString},
		}, rows: [][]any{
			{int64(0), "QueryResult", "PrimaryResult", h.id().String(), ""},
			{int64(1), "QueryProperties", "@ExtendedProperties", h.id().String(), ""},
			{int64(2), "QueryStatus", "QueryStatus", nilID.String(), ""},
		}},
	}
}
