package httpmw

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// Credential is what a request's Authorization header says of the server's bearer token.
type Credential int

const (
	// NoToken: the header gives no bearer token.
	NoToken Credential = iota
	// WrongToken: a bearer token that is not the server's.
	WrongToken
	// RightToken: the server's token.
	RightToken
)

// CheckBearer compares the bearer token of an Authorization header ("Bearer <token>", the scheme
// in any case) with the server's, in constant time (over digests, so that the time does not tell
// the length either). Each front door answers NoToken and WrongToken in its own error shape.
func CheckBearer(header, want string) Credential {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return NoToken
	}
	got, w := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(want))
	if subtle.ConstantTimeCompare(got[:], w[:]) == 1 {
		return RightToken
	}
	return WrongToken
}
