package kustohttp

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
)

// Streaming ingestion (api/rest/streaming-ingest.md):
//
//	POST /v1/rest/ingest/{database}/{table}?streamFormat=Csv[&mappingName=…]
//
// The body is the data, plain or gzip-compressed (Content-Encoding: gzip), at most
// Options.MaxStreamingBytes as sent (Kusto's streaming limit, 4 MB: ingest-data-streaming.md's
// limitations; the managed streaming clients send larger data queued). The engine reads it
// through the readers `.ingest` uses, in batches, and commits one extent or nothing. Every
// refusal is permanent (@permanent: true), as Kusto marks bad requests and bad data: a managed
// streaming client that reads it reports the error rather than retry and fall back to queued
// ingestion, which would hide it.

// DefaultMaxStreamingBytes bounds a streaming ingest's body, as sent, unless Options say
// otherwise.
const DefaultMaxStreamingBytes = 4 << 20

const streamingActivity = "KD.RestApi.StreamingIngest"

// streamingResultColumns are the columns of the table Kusto answers a streaming ingest with.
var streamingResultColumns = []column{
	{"ConsumedRecordsCount", kusto.TypeLong}, {"UpdatePolicyStatus", kusto.TypeString},
	{"UpdatePolicyFailureCode", kusto.TypeString}, {"UpdatePolicyFailureReason", kusto.TypeString},
}

func (h *Handler) streamIngest(w http.ResponseWriter, r *http.Request) {
	act := h.newActivity(r, streamingActivity)
	h.setHeaders(w, &act)
	db, table := r.PathValue("db"), r.PathValue("table")
	if rec := act.log; rec != nil {
		rec.Kind, rec.DB = "streaming-ingest", db
	}
	q := r.URL.Query()
	if kind := q.Get("sourceKind"); kind != "" {
		h.writeError(w, badRequestf("sourceKind=%s is not supported: Kustard's streaming ingestion reads the data from the request's body, not from a blob URI", kind), act)
		return
	}
	body := io.Reader(r.Body)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		br := bufio.NewReader(body)
		if magic, _ := br.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
			h.writeError(w, badRequestf("the request says Content-Encoding: gzip, but its body is not gzip data"), act)
			return
		}
		body = br // the engine gunzips what starts with gzip's magic bytes
	default:
		h.writeError(w, badRequestf("Content-Encoding %q is not supported; send the body plain or gzip-compressed (Content-Encoding: gzip)", enc), act)
		return
	}
	limited := &limitReader{r: body, left: h.opts.MaxStreamingBytes}
	res, err := h.eng.StreamIngest(r.Context(), engine.StreamIngest{
		Database: db, Table: table, Format: q.Get("streamFormat"), MappingName: q.Get("mappingName"), Body: limited,
	})
	if limited.exceeded {
		err = &badRequest{http.StatusRequestEntityTooLarge, "PayloadTooLarge", "the streaming ingest's body is larger than " +
			itoa(h.opts.MaxStreamingBytes) + " bytes, the streaming ingestion limit; send larger data with .ingest into, or in parts"}
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		err = &badRequest{http.StatusRequestEntityTooLarge, "PayloadTooLarge", "the request's body is larger than " + itoa(mb.Limit) + " bytes, the server's limit"}
	}
	if err != nil {
		h.writeError(w, err, act)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	b := []byte(`{"Tables":[{"TableName":"Table_0",`)
	b = appendColumns(b, streamingResultColumns, true)
	b = append(b, ',')
	b = appendRows(b, [][]any{{res.Rows, "Inactive", "Unknown", nil}})
	b = append(b, "}]}\n"...)
	w.Write(b)
}

// limitReader reads at most left bytes of r; past them it fails, and says so.
type limitReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		l.exceeded = true
		return 0, &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: "the streaming ingest's body is too large"}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.exceeded = true
		return n, &kusto.Error{Kind: kusto.KindLimits, Offset: -1, Msg: "the streaming ingest's body is too large"}
	}
	return n, err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
