package engine

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kustard/kustard/kusto"
)

// TestStreamIngestBounds: a gzip bomb sent to the streaming endpoint stops at the per-ingest
// cap, a body past the memory budget stops with the budget's error; neither commits a row or
// keeps a byte reserved, and a cancel stops the ingest the same way.
func TestStreamIngestBounds(t *testing.T) {
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	line := bytes.Repeat([]byte("1\n"), 1<<16)
	for range 400 { // 50 MiB of data
		zw.Write(line)
	}
	zw.Close()
	big := strings.Repeat("123456789,some text to fill the columns\n", 200000) // 8 MB
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		name                string
		memory, ingestBytes int64
		ctx                 context.Context
		body                []byte
		want                string
	}{
		{"gzip bomb", 1 << 30, 1 << 20, t.Context(), bomb.Bytes(), "--max-ingest-bytes"},
		{"past the memory budget", 1 << 20, 1 << 30, t.Context(), []byte(big), "E_LOW_MEMORY_CONDITION"},
		{"canceled", 1 << 30, 1 << 30, canceled, []byte(big), "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng := newBudgetEngine(tc.memory, tc.ingestBytes, 0)
			defer closeEngine(t, eng)
			s := eng.NewSession()
			if err := execText(t, s, Request{}, ".create table T (a:long, b:string)"); err != nil {
				t.Fatal(err)
			}
			if err := execText(t, s, Request{}, ".alter table T policy streamingingestion enable"); err != nil {
				t.Fatal(err)
			}
			before := eng.Memory().Used()
			_, err := eng.StreamIngest(tc.ctx, StreamIngest{Database: DefaultDatabase, Table: "T", Format: "csv", Body: bytes.NewReader(tc.body)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if used := eng.Memory().Used(); used != before {
				t.Errorf("%d bytes reserved after the ingest failed, %d before", used, before)
			}
			if n := queryScalar(t, s, "T | count"); n != int64(0) {
				t.Errorf("the failed ingest committed %v rows", n)
			}
		})
	}
}

// TestStreamIngestPolicy: the table's own policy decides; without one the database's does;
// without either the ingest is refused with Kusto's code, and nothing is read.
func TestStreamIngestPolicy(t *testing.T) {
	eng := newBudgetEngine(1<<30, 1<<30, 0)
	defer closeEngine(t, eng)
	s := eng.NewSession()
	for _, cmd := range []string{".create table A (a:long)", ".create table B (a:long)"} {
		if err := execText(t, s, Request{}, cmd); err != nil {
			t.Fatal(err)
		}
	}
	try := func(table string) error {
		_, err := eng.StreamIngest(t.Context(), StreamIngest{Database: DefaultDatabase, Table: table, Format: "Csv", Body: strings.NewReader("1\n")})
		return err
	}
	refused := func(err error) bool {
		var se *StreamIngestError
		return errors.As(err, &se) && se.Code == "BadRequest_StreamingIngestionPolicyNotEnabled" && se.Err.Kind == kusto.KindSemantic
	}
	if err := try("A"); !refused(err) {
		t.Errorf("no policy anywhere: %v", err)
	}
	execText(t, s, Request{}, ".alter database NetDefaultDB policy streamingingestion enable")
	execText(t, s, Request{}, ".alter table B policy streamingingestion disable")
	if err := try("A"); err != nil {
		t.Errorf("the database's policy enabled: %v", err)
	}
	if err := try("B"); !refused(err) {
		t.Errorf("the table's own policy disabled, the database's enabled: %v", err)
	}
	if n := queryScalar(t, s, "union A, B | count"); n != int64(1) {
		t.Errorf("%v rows, want the one ingest that was let through", n)
	}
}
