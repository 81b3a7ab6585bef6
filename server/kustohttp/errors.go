package kustohttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/render"
	"github.com/kustard/kustard/server/httpmw"
)

// Kusto's words for the requests it refuses before running them.
const (
	badRequestCode    = "General_BadRequest"
	badRequestType    = "Kusto.Data.Exceptions.KustoBadRequestException"
	badRequestMessage = "Request is invalid and cannot be executed."
)

// requestMessages are the short messages of the requests refused before they run, by code.
var requestMessages = map[string]string{
	badRequestCode:     badRequestMessage,
	"PayloadTooLarge":  "Request payload exceeded the server's limits.",
	"NotFound":         "The requested endpoint was not found.",
	"MethodNotAllowed": "The request's method is not allowed on this endpoint.",
	"Unauthorized":     "The request is not authorized.",
	"Forbidden":        "The request is forbidden.",
	"RequestTimeout":   "The client took too long to send the request.",
}

// transientCodes are the refusals a client may retry as they are: a body sent too slowly may
// arrive in time on another try.
var transientCodes = map[string]bool{"RequestTimeout": true}

// requestTypes are the exception types of the refusals Kusto names one for, by code; the others
// are KustoBadRequestException. A body past the limit is KustoRequestPayloadTooLargeException
// (failure code 413, "Payload too large", permanent: api/netfx/kusto-data-client-errors.md).
var requestTypes = map[string]string{
	"PayloadTooLarge": "Kusto.Data.Exceptions.KustoRequestPayloadTooLargeException",
}

// Errors the endpoints return in Kusto's words: a management command on the query endpoints
// (microsoft/azuredatastudio#12588; the v2 text from the Go SDK's test data,
// azkustodata/query/v2/testData/error.txt).
var (
	errCommandOnQueryV1 = badRequestf("Control commands (starting with a dot '.') cannot be served from the query endpoint unless they are .show control commands.")
	errCommandOnQueryV2 = badRequestf("Control commands (starting with a dot '.') do not support api_version=v2; send them to /v1/rest/mgmt.")
)

// activity is what an error's @context says about the request it ended.
type activity struct {
	clientRequestID string
	rootID, subID   uuid.UUID
	kind            string         // the activity type: KD.RestApi.Query, KD.RestApi.Mgmt
	log             *httpmw.Record // the request's log record, nil when nothing logs
}

// oneAPIError is Kusto's error object for err (the OneApiErrors shape, api/rest/response-v2.md)
// and the HTTP status Kusto answers it with.
func (h *Handler) oneAPIError(err error, act activity) (int, render.KustoError) {
	var body render.KustoError
	var status int
	var bad *badRequest
	var streaming *engine.StreamIngestError
	if errors.As(err, &streaming) {
		// A refusal the engine names Kusto's code for (BadRequest_StreamingIngestionPolicyNotEnabled).
		status = render.Classify(streaming.Err).HTTPStatus
		body = render.ErrorBody(streaming.Err)
		body.Error.Code, body.Error.Permanent = streaming.Code, true
	} else if errors.As(err, &bad) {
		status = bad.status
		typ, ok := requestTypes[bad.code]
		if !ok {
			typ = badRequestType
		}
		body.Error = render.KustoErrorBody{Code: bad.code, Message: requestMessages[bad.code], Type: typ, Detail: bad.msg, Permanent: !transientCodes[bad.code]}
	} else {
		info := render.Classify(err)
		status = info.HTTPStatus
		body = render.ErrorBody(err)
	}
	body.Error.Context = h.errorContext(act)
	act.log.Failed(body.Error.Code)
	return status, body
}

func (h *Handler) errorContext(act activity) *render.ErrorContext {
	root, sub := act.rootID.String(), act.subID.String()
	return &render.ErrorContext{
		Timestamp:       kusto.DateTimeOf(h.eng.Ops().Clock().Now()).String(),
		ServiceAlias:    serviceAlias,
		MachineName:     h.opts.MachineName,
		ProcessName:     "kustard",
		ProcessID:       h.opts.ProcessID,
		ClientRequestID: act.clientRequestID,
		ActivityID:      root, SubActivityID: sub, ActivityType: act.kind, ParentActivityID: root,
		ActivityStack: fmt.Sprintf("(Activity stack: CRID=%s ARID=%s > %s/%s)", act.clientRequestID, root, act.kind, sub),
	}
}

// writeError answers a request with Kusto's error object and status.
func (h *Handler) writeError(w http.ResponseWriter, err error, act activity) {
	status, body := h.oneAPIError(err, act)
	data := marshal(body)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// marshal encodes v as JSON without escaping <, > and &, which Kusto leaves alone and which
// error messages hold (<input>:1:5).
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only the server's own shapes come here
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
