package kustohttp

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newGuardedServer serves a deterministic engine with a token and CORS origins.
func newGuardedServer(t *testing.T, token string, origins ...string) *httptest.Server {
	t.Helper()
	srv, _ := newTestServerWith(t, Options{AuthToken: token, CORSOrigins: origins})
	return srv
}

// accessTranscript is transcript for guarded servers: it shows the access headers too, and
// checks afterwards that a request with the right token is still answered.
func accessTranscript(t *testing.T, srv *httptest.Server, name, token string, xs []exchange) {
	t.Helper()
	var out strings.Builder
	for _, x := range xs {
		resp, body := do(t, srv, x)
		method := x.method
		if method == "" {
			method = http.MethodPost
		}
		fmt.Fprintf(&out, "### %s\n%s %s\n", x.name, method, x.path)
		for _, k := range []string{"Authorization", "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"} {
			if v := x.headers[k]; v != "" {
				fmt.Fprintf(&out, "%s: %s\n", k, v)
			}
		}
		if x.body != "" {
			fmt.Fprintf(&out, "%s\n", x.body)
		}
		fmt.Fprintf(&out, "----\n%d %s\n", resp.StatusCode, http.StatusText(resp.StatusCode))
		for _, k := range []string{"WWW-Authenticate", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
			"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age", "Vary"} {
			if v := resp.Header.Get(k); v != "" {
				fmt.Fprintf(&out, "%s: %s\n", k, v)
			}
		}
		if resp.StatusCode == http.StatusOK && strings.HasPrefix(body, `{"Tables"`) {
			body = "(a v1 result)" // the results are the endpoints' goldens; here only access matters
		}
		fmt.Fprintf(&out, "%s\n\n", strings.TrimSuffix(body, "\n"))
		check := exchange{path: "/v1/rest/mgmt", body: `{"csl":".show version"}`}
		if token != "" {
			check.headers = map[string]string{"Authorization": "Bearer " + token}
		}
		if resp, _ := do(t, srv, check); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: the server does not answer .show version afterwards: %s", x.name, resp.Status)
		}
	}
	golden(t, name, out.String())
}

// TestBearerToken: with a token, every endpoint but auth metadata and health needs it; a missing
// or wrong one gets 401, Kusto's error shape and WWW-Authenticate.
func TestBearerToken(t *testing.T) {
	const token = "s3cret-token"
	srv := newGuardedServer(t, token)
	show := `{"csl":".show version"}`
	accessTranscript(t, srv, "token", token, []exchange{
		{name: "the right token", path: "/v1/rest/mgmt", body: show, headers: map[string]string{"Authorization": "Bearer " + token}},
		{name: "the scheme's name is case-insensitive", path: "/v2/rest/query", body: `{"csl":"print 1"}`, headers: map[string]string{"Authorization": "bearer " + token}},
		{name: "no Authorization header", path: "/v1/rest/mgmt", body: show},
		{name: "a wrong token", path: "/v1/rest/query", body: `{"csl":"print 1"}`, headers: map[string]string{"Authorization": "Bearer s3cret-tokeN"}},
		{name: "a prefix of the token", path: "/v1/rest/query", body: `{"csl":"print 1"}`, headers: map[string]string{"Authorization": "Bearer s3cret"}},
		{name: "another scheme", path: "/v2/rest/query", body: `{"csl":"print 1"}`, headers: map[string]string{"Authorization": "Basic " + token}},
		{name: "an unknown endpoint needs the token too, so it tells nothing", method: "GET", path: "/v1/rest/secret"},
		{name: "auth metadata needs none: the SDKs fetch it first, without credentials", method: "GET", path: "/v1/rest/auth/metadata"},
		{name: "nor does the health check", method: "GET", path: "/v1/rest/ping"},
	})
}

// TestNoTokenIgnoresAuthorization: without a token, tools built for the emulator send dummy
// tokens, which are ignored.
func TestNoTokenIgnoresAuthorization(t *testing.T) {
	srv := newGuardedServer(t, "")
	resp, body := do(t, srv, exchange{path: "/v1/rest/mgmt", body: `{"csl":".show version"}`, headers: map[string]string{"Authorization": "Bearer dummy"}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("a dummy token without --auth-token: %s %s", resp.Status, body)
	}
}

// TestCORS: an allowed origin's preflight is answered with the headers the SDKs send, before
// the token (browsers send preflights without credentials); its requests may read the ids.
func TestCORS(t *testing.T) {
	const token = "t0k"
	srv := newGuardedServer(t, token, "https://app.example.com", "http://localhost:3000/")
	preflight := func(origin string) map[string]string {
		return map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization,content-type,x-ms-app,x-ms-client-request-id,x-ms-client-version,x-ms-user"}
	}
	accessTranscript(t, srv, "cors", token, []exchange{
		{name: "the preflight of an allowed origin", method: "OPTIONS", path: "/v2/rest/query", headers: preflight("https://app.example.com")},
		{name: "an origin given with a trailing slash matches without", method: "OPTIONS", path: "/v1/rest/mgmt", headers: preflight("http://localhost:3000")},
		{name: "the preflight of another origin is refused", method: "OPTIONS", path: "/v2/rest/query", headers: preflight("https://evil.example.com")},
		{name: "an allowed origin's request exposes the ids", path: "/v1/rest/mgmt", body: `{"csl":".show version"}`,
			headers: map[string]string{"Origin": "https://app.example.com", "Authorization": "Bearer " + token}},
		{name: "an allowed origin's request without the token: 401, readable by the page", path: "/v1/rest/mgmt", body: `{"csl":".show version"}`,
			headers: map[string]string{"Origin": "https://app.example.com"}},
		{name: "another origin's request gets no CORS headers", path: "/v1/rest/mgmt", body: `{"csl":".show version"}`,
			headers: map[string]string{"Origin": "https://evil.example.com", "Authorization": "Bearer " + token}},
	})
}

// TestCORSAnyOrigin: "*" allows every origin, and without --cors-origin OPTIONS is not served.
func TestCORSAnyOrigin(t *testing.T) {
	any := newGuardedServer(t, "", "*")
	resp, _ := do(t, any, exchange{method: "OPTIONS", path: "/v2/rest/query", headers: map[string]string{"Origin": "https://x.test", "Access-Control-Request-Method": "POST"}})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://x.test" {
		t.Errorf("with *: %s, Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	none := newGuardedServer(t, "")
	resp, _ = do(t, none, exchange{method: "OPTIONS", path: "/v2/rest/query", headers: map[string]string{"Origin": "https://x.test", "Access-Control-Request-Method": "POST"}})
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("without origins: %s, Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
