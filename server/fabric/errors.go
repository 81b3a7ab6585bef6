package fabric

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// fabricError is a failure as the gateway reports it: a FabricError code and its HTTP status.
type fabricError struct {
	status  int
	code    string
	message string
}

func (e *fabricError) Error() string { return e.code + ": " + e.message }

// Service Fabric's codes, with the statuses HttpUtil::ErrorCodeToHttpStatus gives them.
func errInvalidArg(format string, args ...any) *fabricError {
	return &fabricError{http.StatusBadRequest, "E_INVALIDARG", fmt.Sprintf(format, args...)}
}

func errKeyNotFound(id fmt.Stringer) *fabricError {
	return &fabricError{http.StatusNotFound, "FABRIC_E_KEY_NOT_FOUND", fmt.Sprintf("OperationId '%s' was not found", id)}
}

func errInvalidState(format string, args ...any) *fabricError {
	return &fabricError{http.StatusBadRequest, "FABRIC_E_INVALID_TEST_COMMAND_STATE", fmt.Sprintf(format, args...)}
}

func errAlreadyExists(id fmt.Stringer) *fabricError {
	return &fabricError{http.StatusConflict, "FABRIC_E_TEST_COMMAND_OPERATION_ID_ALREADY_EXISTS", fmt.Sprintf("OperationId '%s' already exists", id)}
}

// The body of a FabricError: {"Error":{"Code":…,"Message":…}}.
type errorBody struct {
	Error struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"Error"`
}

func writeError(w http.ResponseWriter, e *fabricError) {
	var body errorBody
	body.Error.Code, body.Error.Message = e.code, e.message
	if rw, ok := w.(recordingWriter); ok {
		rw.rec.Failed(e.code)
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // only this package's own shapes come here
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}
