package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcAddr is the address serve printed for google.longrunning.Operations, and how.
func (s *served) grpcAddr(t *testing.T) (addr, scheme string) {
	t.Helper()
	for _, line := range s.before {
		if rest, ok := strings.CutPrefix(line, "google.longrunning.Operations at "); ok {
			addr, scheme, _ = strings.Cut(strings.TrimSpace(rest), ", ")
			return addr, scheme
		}
	}
	t.Fatalf("serve printed no gRPC address: %q", s.before)
	return "", ""
}

func operationsClient(t *testing.T, addr string, creds grpc.DialOption) longrunningpb.OperationsClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, creds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return longrunningpb.NewOperationsClient(conn)
}

// TestServeGRPC: --grpc-listen serves the Operations service, insecure on loopback; the
// operations of the Kusto side are listed; at shutdown the port is closed.
func TestServeGRPC(t *testing.T) {
	s := startServe(t, "--grpc-listen", "127.0.0.1:0")
	addr, scheme := s.grpcAddr(t)
	if scheme != "grpc (insecure)" {
		t.Errorf("scheme %q", scheme)
	}
	if status, body := post(t, s.url, ".set-or-append async T <| print x=1"); status != 200 {
		t.Fatalf("ingest: %d %s", status, body)
	}
	c := operationsClient(t, addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations"})
	if err != nil || len(resp.Operations) != 1 {
		t.Fatalf("ListOperations: %v, %v", resp, err)
	}
	if code := s.wait(); code != exitOK {
		t.Errorf("exit %d", code)
	}
	// Stopped: nothing listens on the port any more.
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after shutdown", addr)
	}
}

// TestServeGRPCBeyondLoopback: --grpc-listen beyond loopback needs a token, or --insecure.
func TestServeGRPCBeyondLoopback(t *testing.T) {
	_, stderr, code := kustard(t, "", "serve", "--listen", "127.0.0.1:0", "--grpc-listen", "0.0.0.0:0")
	if code != exitUsage || !strings.Contains(stderr, "--grpc-listen 0.0.0.0:0 is beyond loopback") {
		t.Errorf("without a token: exit %d, stderr %q", code, stderr)
	}
	s := startServe(t, "--grpc-listen", "0.0.0.0:0", "--insecure")
	if addr, _ := s.grpcAddr(t); !strings.HasPrefix(addr, "[::]:") && !strings.HasPrefix(addr, "0.0.0.0:") {
		t.Errorf("with --insecure, listening at %s", addr)
	}
}

// TestServeGRPCTLS: with --tls-self-signed and a token, gRPC is served over TLS with the same
// certificate, and a call needs the token.
func TestServeGRPCTLS(t *testing.T) {
	s := startServe(t, "--grpc-listen", "127.0.0.1:0", "--tls-self-signed", "--auth-token", "tok-9")
	addr, scheme := s.grpcAddr(t)
	if scheme != "grpc (TLS)" {
		t.Fatalf("scheme %q", scheme)
	}
	var certFile string
	for _, line := range s.before {
		if strings.HasPrefix(line, "Self-signed certificate") {
			certFile = strings.TrimSpace(line[strings.LastIndex(line, ": ")+2:])
		}
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", certFile)
	}
	c := operationsClient(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without the token: %v", err)
	}
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer tok-9")
	if _, err := c.ListOperations(authed, &longrunningpb.ListOperationsRequest{Name: "operations"}); err != nil {
		t.Errorf("with the token: %v", err)
	}
	// A client that does not trust the certificate does not connect.
	plain := operationsClient(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{})))
	if _, err := plain.ListOperations(authed, &longrunningpb.ListOperationsRequest{Name: "operations"}); status.Code(err) != codes.Unavailable {
		t.Errorf("an untrusting client: %v", err)
	}
}

// TestServeBodyTimeout: a client that sends its body too slowly gets 408 in Kusto's shape, on
// the Kusto endpoints, and the server goes on answering.
func TestServeBodyTimeout(t *testing.T) {
	s := startServe(t, "--body-timeout", "100ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second)) // bounds the test if the timeout fails
	io.WriteString(conn, "POST /v1/rest/mgmt HTTP/1.1\r\nHost: kustard\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"csl\":")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Code      string `json:"code"`
			Message   string `json:"@message"`
			Permanent bool   `json:"@permanent"`
		} `json:"error"`
	}
	if resp.StatusCode != http.StatusRequestTimeout || json.Unmarshal(body, &e) != nil || e.Error.Code != "RequestTimeout" ||
		!strings.Contains(e.Error.Message, "longer than 100ms") || e.Error.Permanent {
		t.Errorf("%s %s", resp.Status, body)
	}
	if status, body := post(t, s.url, ".show version"); status != 200 {
		t.Errorf("after the slow body: %d %s", status, body)
	}
}

// TestServeLogsLRO: requests to Google's operations REST paths are logged as the Kusto ones are,
// their kind naming the RPC.
func TestServeLogsLRO(t *testing.T) {
	s := startServe(t, "--log-format", "json")
	resp, err := http.Get(s.url + "/v1/operations/00000000-0000-0000-0000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.wait()
	var rec map[string]any
	line, _, _ := strings.Cut(s.stderr.String(), "\n")
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["kind"] != "lro.GetOperation" || rec["status"] != float64(404) ||
		rec["error"] != "NOT_FOUND" || rec["level"] != "WARN" {
		t.Errorf("the LRO request's record (%v): %s", err, s.stderr)
	}
}
