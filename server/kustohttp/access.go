package kustohttp

import (
	"net/http"
	"slices"
	"strings"

	"github.com/kustard/kustard/server/httpmw"
)

// Access control: a bearer token that every endpoint but auth metadata and health requires, and
// the browser origins allowed to call across origins (CORS). Both are off unless Options name
// them; without a token, Authorization headers are ignored, since tools built for the emulator
// send dummy tokens.

// openPaths need no token: the SDKs fetch auth metadata without credentials before their first
// request, and health checks carry none.
var openPaths = map[string]bool{"/v1/rest/auth/metadata": true, "/v1/rest/ping": true}

// corsAllowHeaders are the request headers Kusto's SDKs send that a browser asks leave for.
const corsAllowHeaders = "Accept, Authorization, Content-Type, x-ms-app, x-ms-user, x-ms-user-id, " +
	"x-ms-client-request-id, x-ms-client-version, x-ms-version, x-ms-readonly"

// corsExposeHeaders are the response headers a browser client may read.
const corsExposeHeaders = "x-ms-activity-id, x-ms-client-request-id"

// errUnauthorized is the answer to a request without the right token. It does not say which of
// missing or wrong, beyond what WWW-Authenticate says, as is usual.
var errUnauthorized = &badRequest{http.StatusUnauthorized, "Unauthorized",
	"the request needs an Authorization header with the server's bearer token (Authorization: Bearer <token>)"}

// admit applies CORS and the token to r. It answers r itself, and returns false, for a
// preflight and for a request the token refuses.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && h.originAllowed(origin)
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" && len(h.opts.CORSOrigins) > 0 {
		// A preflight: browsers send it without credentials, so it is answered before the token.
		if !allowed {
			act := h.newActivity(r, "KD.RestApi.Preflight")
			h.setHeaders(w, &act)
			h.writeError(w, &badRequest{http.StatusForbidden, "Forbidden",
				"origin " + origin + " is not allowed; the server allows " + strings.Join(h.opts.CORSOrigins, ", ") + " (--cors-origin)"}, act)
			return false
		}
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		w.Header().Set("Access-Control-Allow-Headers", corsAllowHeaders)
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return false
	}
	if allowed {
		w.Header().Set("Access-Control-Expose-Headers", corsExposeHeaders)
	}
	if h.opts.AuthToken == "" || openPaths[r.URL.Path] {
		return true
	}
	switch httpmw.CheckBearer(r.Header.Get("Authorization"), h.opts.AuthToken) {
	case httpmw.RightToken:
		return true
	case httpmw.WrongToken:
		w.Header().Set("WWW-Authenticate", `Bearer realm="Kustard", error="invalid_token"`)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="Kustard"`)
	}
	act := h.newActivity(r, "KD.RestApi.Authenticate")
	h.setHeaders(w, &act)
	h.writeError(w, errUnauthorized, act)
	return false
}

func (h *Handler) originAllowed(origin string) bool {
	return slices.Contains(h.opts.CORSOrigins, "*") || slices.ContainsFunc(h.opts.CORSOrigins, func(o string) bool {
		return strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}
