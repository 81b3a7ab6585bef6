package render

import (
	"errors"
	"io"
	"net/http"

	"github.com/kustard/kustard/kusto"
)

// ErrorInfo is how Kusto's REST API reports a failure of a given kind: the HTTP status, the
// error code (the .NET SDK's FailureSubCode), the exception type and whether retrying is futile.
// The mapping follows the Kusto.Data exceptions reference
// (https://learn.microsoft.com/kusto/api/netfx/kusto-data-client-errors).
type ErrorInfo struct {
	HTTPStatus int
	Code       string
	Type       string
	Message    string // the short message; the error's own text goes in @message
	Prefix     string // leads the error's text in @message, as Kusto's "Syntax error: …"
	Permanent  bool
}

var errorInfos = map[kusto.Kind]ErrorInfo{
	kusto.KindSyntax:    {http.StatusBadRequest, "BadRequest_SyntaxError", "Kusto.Data.Exceptions.SyntaxException", "Request is invalid and cannot be executed.", "Syntax error: ", true},
	kusto.KindSemantic:  {http.StatusBadRequest, "General_BadRequest", "Kusto.Data.Exceptions.SemanticException", "Request is invalid and cannot be executed.", "Semantic error: ", true},
	kusto.KindNotFound:  {http.StatusNotFound, "NotFound", "Kusto.Common.Svc.Exceptions.EntityNameDoesNotExistException", "The requested entity was not found.", "", true},
	kusto.KindConflict:  {http.StatusConflict, "Conflict", "Kusto.Data.Exceptions.KustoConflictException", "The request cannot be performed in the current state.", "", true},
	kusto.KindCanceled:  {http.StatusBadRequest, "Canceled", "Kusto.Data.Exceptions.KustoRequestCanceledException", "The request was canceled.", "", false},
	kusto.KindThrottled: {http.StatusTooManyRequests, "TooManyRequests", "Kusto.Data.Exceptions.KustoRequestThrottledException", "The request was denied due to throttling.", "", false},
	kusto.KindLimits:    {http.StatusBadRequest, "LimitsExceeded", "Kusto.Data.Exceptions.KustoServicePartialQueryFailureLimitsExceededException", "Request exceeded a limit.", "", true},
	kusto.KindRuntime:   {http.StatusBadRequest, "PartialQueryFailure", "Kusto.Data.Exceptions.KustoServicePartialQueryFailureException", "Query execution has failed before completion.", "", false},
	// A stopped node: 503, as Kusto answers while a cluster's service is unavailable
	// (KustoServiceException covers the 5xx failures; transient, so SDKs retry).
	kusto.KindUnavailable: {http.StatusServiceUnavailable, "ServiceUnavailable", "Kusto.Data.Exceptions.KustoServiceException", "Service is unavailable.", "", false},
	kusto.KindInternal:    {520, "ServiceError", "Kusto.Data.Exceptions.KustoServiceException", "Service error while processing the request.", "", false},
}

// Classify returns how Kusto reports err.
func Classify(err error) ErrorInfo {
	kind := kusto.KindInternal
	var perr *kusto.Error
	if errors.As(err, &perr) {
		kind = perr.Kind
	}
	return errorInfos[kind]
}

// KustoError is Kusto's JSON error body.
type KustoError struct {
	Error KustoErrorBody `json:"error"`
}

// KustoErrorBody is the inside of KustoError.
type KustoErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"@type"`
	Detail  string `json:"@message"`
	// Context says where and in which request the error happened; the server fills it, the CLI
	// leaves it out.
	Context   *ErrorContext `json:"@context,omitempty"`
	Permanent bool          `json:"@permanent"`
}

// ErrorContext is the @context of Kusto's error object, in Kusto's field order.
type ErrorContext struct {
	Timestamp        string `json:"timestamp"`
	ServiceAlias     string `json:"serviceAlias"`
	MachineName      string `json:"machineName"`
	ProcessName      string `json:"processName"`
	ProcessID        int    `json:"processId"`
	ClientRequestID  string `json:"clientRequestId"`
	ActivityID       string `json:"activityId"`
	SubActivityID    string `json:"subActivityId"`
	ActivityType     string `json:"activityType"`
	ParentActivityID string `json:"parentActivityId"`
	ActivityStack    string `json:"activityStack"`
}

// ErrorBody builds Kusto's error object for err.
func ErrorBody(err error) KustoError {
	info := Classify(err)
	return KustoError{KustoErrorBody{Code: info.Code, Message: info.Message, Type: info.Type, Detail: info.Prefix + err.Error(), Permanent: info.Permanent}}
}

// WriteJSONError prints Kusto's error object for err on one line.
func WriteJSONError(w io.Writer, err error) error {
	return writeJSONLine(w, ErrorBody(err))
}
