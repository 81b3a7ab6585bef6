package kustohttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/server/httpmw"
)

// body is a request's parameters, from its JSON body or, for the GET form, its URL.
type body struct {
	DB         string          `json:"db"`
	CSL        *string         `json:"csl"`
	Properties json.RawMessage `json:"properties"`
}

// properties is the client request properties document (api/rest/request.md): the options, the
// query parameters, and the client request id, which the header gives too.
type properties struct {
	Options         map[string]json.RawMessage `json:"Options"`
	Parameters      map[string]json.RawMessage `json:"Parameters"`
	ClientRequestID string                     `json:"ClientRequestId"`
}

// Where errors that happen once the result has started go in a v2 response
// (results_error_reporting_placement), and how the DataSetHeader names the choice.
type placement int

const (
	inData placement = iota
	endOfTable
	endOfDataSet
)

var placements = map[string]placement{"in_data": inData, "end_of_table": endOfTable, "end_of_dataset": endOfDataSet}

func (p placement) String() string {
	return [...]string{"InData", "EndOfTable", "EndOfDataSet"}[p]
}

// call is one request, parsed: the text, the database, the engine request built from the headers
// and the properties, and how the response should be framed.
type call struct {
	text        string
	db          string
	req         engine.Request
	description string // request_description, kept for the request's log
	fragment    bool   // results_v2_fragment_primary_tables
	newlines    bool   // results_v2_newlines_between_frames
	placement   placement
}

// badRequest is a request the server refuses before running anything: its body, its properties
// or its headers are wrong. It is Kusto's General_BadRequest.
type badRequest struct {
	status int
	code   string // Kusto's error code: General_BadRequest, unless the status says otherwise
	msg    string
}

func (e *badRequest) Error() string { return e.msg }

func badRequestf(format string, args ...any) error {
	return &badRequest{http.StatusBadRequest, badRequestCode, fmt.Sprintf(format, args...)}
}

// parseCall reads a request's parameters, from the URL for GET and from the JSON body for POST.
func (h *Handler) parseCall(r *http.Request) (*call, error) {
	var b body
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		b.DB = q.Get("db")
		if q.Has("csl") {
			csl := q.Get("csl")
			b.CSL = &csl
		}
		if p := q.Get("properties"); p != "" {
			b.Properties = json.RawMessage(strconv.Quote(p)) // a JSON string holding the document
		}
	} else {
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			return nil, err
		}
		data, err := io.ReadAll(r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return nil, &badRequest{http.StatusRequestEntityTooLarge, "PayloadTooLarge", fmt.Sprintf("the request body is larger than the server's limit of %d bytes", tooLarge.Limit)}
		case errors.Is(err, httpmw.ErrBodyTimeout):
			return nil, &badRequest{http.StatusRequestTimeout, "RequestTimeout", err.Error()}
		case err != nil:
			return nil, badRequestf("the request body could not be read: %v", err)
		}
		if err := decodeStrict(data, &b); err != nil {
			return nil, badRequestf("the request body is not a JSON object with db, csl and properties: %v", err)
		}
	}
	if b.CSL == nil {
		return nil, badRequestf(`the request has no csl, the text of the query or command to run: send {"db": "…", "csl": "…"}`)
	}
	c := &call{text: *b.CSL, db: b.DB}
	if c.db == "" {
		c.db = h.opts.Database
	}
	props, err := parseProperties(b.Properties)
	if err != nil {
		return nil, err
	}
	if err := c.applyOptions(props.Options); err != nil {
		return nil, err
	}
	if c.req.Parameters, err = parseParameters(props.Parameters); err != nil {
		return nil, err
	}
	c.req.ClientRequestID = r.Header.Get("x-ms-client-request-id")
	if c.req.ClientRequestID == "" {
		c.req.ClientRequestID = props.ClientRequestID
	}
	if app := r.Header.Get("x-ms-app"); app != "" && c.req.Application == "" {
		c.req.Application = app
	}
	if user := r.Header.Get("x-ms-user"); user != "" && c.req.User == "" {
		c.req.User = user
	}
	return c, nil
}

// checkContentType accepts JSON in UTF-8, and a request that names no type, as the SDKs never
// send one without it but hand-written clients may.
func checkContentType(value string) error {
	if value == "" {
		return nil
	}
	media, params, err := mime.ParseMediaType(value)
	if err != nil || media != "application/json" {
		return badRequestf("the request's Content-Type is %q; send the body as JSON, with Content-Type: application/json", value)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return badRequestf("the request's charset is %q; the body must be JSON in UTF-8", cs)
	}
	return nil
}

// decodeStrict decodes one JSON value and refuses anything after it.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field != "" {
				return fmt.Errorf("%s is a JSON %s, which it cannot be", typeErr.Field, typeErr.Value)
			}
			return fmt.Errorf("it is a JSON %s, not an object", typeErr.Value)
		}
		return err
	}
	if dec.More() {
		return errors.New("more text follows the JSON object")
	}
	return nil
}

// parseProperties reads properties, which the docs and the SDKs send either as an object or as a
// JSON string holding one (Python's SDK sends a string, Go's an object).
func parseProperties(raw json.RawMessage) (properties, error) {
	var p properties
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return p, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return p, badRequestf("properties is not a valid JSON string: %v", err)
		}
		if strings.TrimSpace(s) == "" {
			return p, nil
		}
		raw = []byte(s)
	}
	if raw[0] != '{' {
		return p, badRequestf("properties must be a JSON object, or a string holding one, with Options and Parameters")
	}
	if err := decodeStrict(raw, &p); err != nil {
		return p, badRequestf("properties is not an object of Options and Parameters: %v", err)
	}
	return p, nil
}

// applyOptions carries the client request properties Kustard uses into the call. Kusto ignores
// the options it does not know, and the SDKs always send some, so Kustard ignores the rest too;
// an option it uses with a value of the wrong type is an error, never a silent default.
func (c *call) applyOptions(opts map[string]json.RawMessage) error {
	for name, raw := range opts {
		var err error
		switch strings.ToLower(name) {
		case "servertimeout":
			var d time.Duration
			if d, err = optionTimespan(raw); err == nil && d <= 0 {
				err = errors.New("the timeout must be positive")
			}
			c.req.ServerTimeout = d
		case "query_now":
			var s string
			if s, err = optionString(raw); err == nil {
				var t kusto.DateTime
				if t, err = kusto.ParseDateTime(s); err == nil {
					c.req.QueryNow = &t
				}
			}
		case "notruncation":
			c.req.NoTruncation, err = optionBool(raw)
		case "truncationmaxrecords", "truncation_max_records":
			var n int64
			n, err = optionLong(raw)
			c.req.MaxResultRows = int(n)
		case "truncationmaxsize", "truncation_max_size":
			c.req.MaxResultBytes, err = optionLong(raw)
		case "results_v2_fragment_primary_tables":
			c.fragment, err = optionBool(raw)
		case "results_v2_newlines_between_frames":
			c.newlines, err = optionBool(raw)
		case "results_error_reporting_placement":
			var s string
			if s, err = optionString(raw); err == nil {
				p, ok := placements[strings.ToLower(s)]
				if !ok {
					err = fmt.Errorf("%q is not one of in_data, end_of_table and end_of_dataset", s)
				}
				c.placement = p
			}
		case "request_description":
			c.description, err = optionString(raw)
		case "request_app_name":
			c.req.Application, err = optionString(raw)
		case "request_user":
			c.req.User, err = optionString(raw)
		}
		if err != nil {
			return badRequestf("client request property %s: %v", name, err)
		}
	}
	return nil
}

func optionString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is not a string", raw)
	}
	return s, nil
}

// optionBool takes true and false, or a string holding one, as .NET's SDK sends some options.
func optionBool(raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	if s, err := optionString(raw); err == nil {
		if b, err := kusto.ParseBool(s); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%s is not a bool", raw)
}

// optionLong takes a non-negative integer, or a string holding one.
func optionLong(raw json.RawMessage) (int64, error) {
	text := string(raw)
	if s, err := optionString(raw); err == nil {
		text = s
	}
	n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s is not a non-negative integer", raw)
	}
	return n, nil
}

// optionTimespan takes a timespan in any of Kusto's forms ("00:04:00", "1.00:00:00", "50m",
// "timespan(50m)").
func optionTimespan(raw json.RawMessage) (time.Duration, error) {
	s, err := optionString(raw)
	if err != nil {
		return 0, err
	}
	s = strings.TrimSpace(s)
	if inner, ok := strings.CutPrefix(s, "timespan("); ok {
		s = strings.TrimSuffix(inner, ")")
	}
	ts, err := kusto.ParseTimespan(s)
	if err != nil {
		return 0, err
	}
	return time.Duration(ts) * 100, nil
}

// parseParameters reads the values of the query's declared parameters. A string is read as a
// literal of the parameter's declared type, as the docs say non-string and non-long values must
// be sent; a JSON number or bool is taken as a long, real or bool, and an object or array as the
// text of a dynamic value.
func parseParameters(raw map[string]json.RawMessage) (map[string]kusto.Literal, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make(map[string]kusto.Literal, len(raw))
	for name, v := range raw {
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if err := dec.Decode(&x); err != nil {
			return nil, badRequestf("query parameter %s: %v", name, err)
		}
		switch x := x.(type) {
		case string:
			out[name] = kusto.Literal{Type: kusto.TypeString, Value: x}
		case bool:
			out[name] = kusto.Literal{Type: kusto.TypeBool, Value: x}
		case json.Number:
			if n, err := x.Int64(); err == nil {
				out[name] = kusto.Literal{Type: kusto.TypeLong, Value: n}
			} else if f, err := x.Float64(); err == nil {
				out[name] = kusto.Literal{Type: kusto.TypeReal, Value: f}
			} else {
				return nil, badRequestf("query parameter %s: %s is not a number Kusto can hold", name, x)
			}
		case nil:
			return nil, badRequestf("query parameter %s is null; send a typed null as a string, such as \"long(null)\"", name)
		default: // an object or an array: its text, which a dynamic parameter reads as JSON
			out[name] = kusto.Literal{Type: kusto.TypeString, Value: string(bytes.TrimSpace(v))}
		}
	}
	return out, nil
}
