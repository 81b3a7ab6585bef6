package googlelro

import (
	"fmt"
	"net/http"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errorDomain is the ErrorInfo domain of Kustard's errors (AIP-193).
const errorDomain = "kustard"

// apiError is a failed call: a google.rpc code, an ErrorInfo reason (UPPER_SNAKE, AIP-193) and a
// developer-facing message.
type apiError struct {
	code    codes.Code
	reason  string
	message string
}

func newError(c codes.Code, reason, format string, args ...any) *apiError {
	return &apiError{code: c, reason: reason, message: fmt.Sprintf(format, args...)}
}

func (e *apiError) Error() string { return e.message }

// GRPCStatus makes an apiError the gRPC status it stands for, with its ErrorInfo.
func (e *apiError) GRPCStatus() *status.Status {
	st := status.New(e.code, e.message)
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: e.reason, Domain: errorDomain}); err == nil {
		return withInfo
	}
	return st
}

// httpStatus is the HTTP status of a google.rpc code (google/rpc/code.proto).
func httpStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.Canceled:
		return 499 // Client Closed Request
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return http.StatusBadRequest
	case codes.DeadlineExceeded:
		return http.StatusGatewayTimeout
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists, codes.Aborted:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError // Unknown, Internal, DataLoss
}

// codeName is a code's name as google.rpc.Code spells it: NOT_FOUND, not NotFound.
func codeName(c codes.Code) string {
	if name, ok := code.Code_name[int32(c)]; ok {
		return name
	}
	return c.String()
}
