package kustohttp

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kustard/kustard/kusto"
)

// Defaults of the limits a Handler applies itself; the listener's timeouts belong to the
// http.Server (cmd/kustard's serve).
const (
	DefaultMaxConcurrentRequests = 64
	DefaultRetryAfter            = time.Second
)

// A request past the concurrency bound (an httpmw.Limiter, which the server's front doors may
// share) gets Kusto's throttling error (429, KustoRequestThrottledException, not permanent) and
// a Retry-After header; the SDKs retry a 429 by themselves.

// unlimited are the endpoints a throttled server still answers: the health check and the auth
// metadata the SDKs fetch first cost nothing, and a supervisor that sees a busy server fail its
// health check would restart it.
var unlimited = map[string]bool{"/v1/rest/ping": true, "/v1/rest/auth/metadata": true}

// limit serves r through next if a slot is free, and refuses it otherwise.
func (h *Handler) limit(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if unlimited[r.URL.Path] {
		next.ServeHTTP(w, r)
		return
	}
	if !h.limiter.TryAcquire() {
		h.throttle(w, r)
		return
	}
	defer h.limiter.Release()
	next.ServeHTTP(w, r)
}

// throttle answers a request past the concurrency bound.
func (h *Handler) throttle(w http.ResponseWriter, r *http.Request) {
	kind := "KD.RestApi.Unknown"
	switch r.URL.Path {
	case "/v1/rest/mgmt":
		kind = activityTypes[mgmt]
	case "/v1/rest/query", "/v2/rest/query":
		kind = activityTypes[queryV1]
	default:
		if strings.HasPrefix(r.URL.Path, "/v1/rest/ingest/") {
			kind = streamingActivity
		}
	}
	act := h.newActivity(r, kind)
	h.setHeaders(w, &act)
	seconds := max(1, int(math.Ceil(h.limiter.RetryAfter().Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(seconds))
	h.writeError(w, &kusto.Error{Kind: kusto.KindThrottled, Offset: -1, Msg: fmt.Sprintf(
		"The request was denied due to throttling: the server is already serving %d requests, its limit of concurrent requests; retry after %d s.",
		h.limiter.Cap(), seconds)}, act)
}
