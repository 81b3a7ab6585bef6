package kustohttp

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/render"
)

// stream is a response body written in pieces: JSON is appended to buf and sent with flush, once
// per batch, so that a client reads a result's first rows while the plan makes the rest. After a
// write fails (the client went away) it drops what it is given; the request's context, which the
// query runs under, stops the query.
type stream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	buf []byte
	err error
}

func newStream(w http.ResponseWriter) *stream {
	return &stream{w: w, rc: http.NewResponseController(w), buf: make([]byte, 0, 64<<10)}
}

// flush sends what has been appended.
func (s *stream) flush() {
	if s.err == nil && len(s.buf) > 0 {
		if _, s.err = s.w.Write(s.buf); s.err == nil {
			s.err = s.rc.Flush()
		}
	}
	s.buf = s.buf[:0]
}

func (s *stream) str(text string) { s.buf = append(s.buf, text...) }

// column is one column of a table the server makes itself (the tables around a query's result).
type column struct {
	name string
	typ  kusto.Type
}

// table is a small table the server writes whole: QueryProperties, QueryCompletionInformation,
// and v1's QueryStatus and TableOfContents.
type table struct {
	id         int
	kind, name string
	columns    []column
	rows       [][]any
}

func schemaColumns(s engine.Schema) []column {
	out := make([]column, len(s))
	for i, c := range s {
		out[i] = column{c.Name, c.Type}
	}
	return out
}

// appendColumns appends a Columns array: v1 gives each column its .NET DataType, v2 does not.
func appendColumns(b []byte, cols []column, v1 bool) []byte {
	b = append(b, `"Columns":[`...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ColumnName":`...)
		b = render.AppendJSONString(b, c.name)
		if v1 {
			b = append(b, `,"DataType":`...)
			b = render.AppendJSONString(b, kusto.DotNetType(c.typ))
		}
		b = append(b, `,"ColumnType":`...)
		b = render.AppendJSONString(b, c.typ.String())
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRows(b []byte, rows [][]any) []byte {
	b = append(b, `"Rows":[`...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range row {
			if j > 0 {
				b = append(b, ',')
			}
			b = render.AppendJSONValue(b, v)
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// noVisualization is the Visualization property of a query without render, as Kusto writes it
// (the Go SDK's test data, azkustodata/query/v2/testData/validFrames.json).
const noVisualization = `{"Visualization":null,"Title":null,"XColumn":null,"Series":null,"YColumns":null,"AnomalyColumns":null,"XTitle":null,"YTitle":null,"XAxis":null,"YAxis":null,"Legend":null,"YSplit":null,"Accumulate":false,"IsQuerySorted":false,"Kind":null,"Ymin":"NaN","Ymax":"NaN","Xmin":null,"Xmax":null}`

// visualization is what the QueryProperties table (v2) and @ExtendedProperties (v1) say the
// query's render operator asked for, or Kusto's value for none.
func visualization(cur *engine.Cursor) string {
	if v := cur.Visualization(); v != nil {
		return v.JSON()
	}
	return noVisualization
}

// completionText is how QueryCompletionInformation (v2) and QueryStatus (v1) report a query's
// outcome: its level (4 Info, 2 Error: "Severity values of 2 or smaller indicate failure") and text.
func completionText(err error) (level int32, levelName string, text string) {
	if err != nil {
		return 2, "Error", "Query completed with errors: " + render.ErrorBody(err).Error.Detail
	}
	return 4, "Info", "Query completed successfully"
}

var nilID = uuid.UUID{}
