package compat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	lro "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/google/uuid"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/server/googlelro"
	"github.com/kustard/kustard/server/kustohttp"
	"github.com/kustard/kustard/server/tlscert"
	"golang.org/x/oauth2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// lroServer is what `kustard serve --grpc-listen` serves: the Kusto endpoints and Google's
// operations REST paths on one HTTP listener, and the Operations service over gRPC on another.
type lroServer struct {
	eng      *engine.Engine
	url      string
	grpcAddr string
	gate     chan struct{}
}

func startLROServer(t *testing.T) *lroServer {
	t.Helper()
	eng := engine.New(engine.Options{MaxMemory: 1 << 30})
	s := &lroServer{eng: eng, gate: make(chan struct{})}
	// Slow is a table that yields nothing until the gate opens or its ingest is canceled: a
	// long ingest to cancel.
	eng.RegisterStream("Slow", engine.Stream{Schema: engine.Schema{{Name: "x", Type: kusto.TypeLong}},
		Open: func(ctx context.Context) engine.Operator {
			return engine.NewOperator(func() (*engine.Batch, error) {
				select {
				case <-s.gate:
					return nil, nil
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
			})
		}})
	svc := googlelro.New(eng, googlelro.Options{})
	kusto, rest := kustohttp.New(eng, kustohttp.Options{}), svc.REST()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if googlelro.Owns(r) {
			rest.ServeHTTP(w, r)
			return
		}
		kusto.ServeHTTP(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := svc.GRPCServer()
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(func() {
		gs.Stop()
		srv.Close()
		eng.Close(context.Background())
	})
	s.url, s.grpcAddr = srv.URL, ln.Addr().String()
	return s
}

func (s *lroServer) exec(t *testing.T, text string) *engine.Result {
	t.Helper()
	res, err := s.eng.NewSession().Execute(context.Background(), engine.Request{}, &kusto.Source{Text: text})
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return res
}

// scenario is what every transport must do with Google's own client: list with paging and
// filters, get, cancel a long ingest and see CANCELLED, cancel a finished one and see
// FAILED_PRECONDITION, delete. prefix makes names of one path style.
func scenario(t *testing.T, s *lroServer, c *lro.OperationsClient, parent string, name func(uuid.UUID) string, code func(error) codes.Code) {
	ctx := context.Background()
	s.exec(t, ".set-or-append T <| print x=1")
	s.exec(t, ".set-or-append T <| print x=2")
	long := s.exec(t, ".set-or-append async T <| Slow").Value(0, 0).(uuid.UUID)

	// Paging: three operations, pages of two.
	it := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: parent})
	var page []*longrunningpb.Operation
	token, err := iterator.NewPager(it, 2, "").NextPage(&page)
	if err != nil || len(page) != 2 || token == "" {
		t.Fatalf("first page: %d operations, token %q, %v", len(page), token, err)
	}
	it = c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: parent})
	page = nil // NextPage appends
	token, err = iterator.NewPager(it, 2, token).NextPage(&page)
	if err != nil || len(page) != 1 || token != "" || page[0].Name != name(long) {
		t.Fatalf("second page: %v, token %q, %v", page, token, err)
	}
	// Filters.
	live := collect(t, c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: parent, Filter: "done = false"}))
	if len(live) != 1 || live[0].Name != name(long) || live[0].Done {
		t.Errorf("done = false: %v", live)
	}
	ended := collect(t, c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: parent, Filter: `metadata.kind = "TableSetOrAppend" AND done = true`}))
	if len(ended) != 2 || ended[0].GetResponse() == nil {
		t.Errorf("ended ingests: %v", ended)
	}
	_, err = c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: parent, Filter: "state = 1"}).Next()
	if code(err) != codes.InvalidArgument {
		t.Errorf("a bad filter: %v", err)
	}

	// Cancel the long ingest: {} at once, then CANCELLED.
	if err := c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: name(long)}); err != nil {
		t.Fatalf("CancelOperation: %v", err)
	}
	waitCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if _, err := s.eng.Ops().Wait(waitCtx, long); err != nil {
		t.Fatal(err)
	}
	op, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name(long)})
	if err != nil || !op.Done || op.GetError().GetCode() != int32(codes.Canceled) || op.GetError().GetMessage() != googlelro.CancelReason {
		t.Fatalf("after cancel: %v, %v", op, err)
	}
	// Cancel a finished one.
	err = c.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: name(long)})
	if code(err) != codes.FailedPrecondition {
		t.Errorf("cancel a finished operation: %v", err)
	}
	// Delete: gone from this surface.
	if err := c.DeleteOperation(ctx, &longrunningpb.DeleteOperationRequest{Name: name(long)}); err != nil {
		t.Fatalf("DeleteOperation: %v", err)
	}
	if _, err := c.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name(long)}); code(err) != codes.NotFound {
		t.Errorf("get after delete: %v", err)
	}
	if all := collect(t, c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: parent})); len(all) != 2 {
		t.Errorf("after delete, %d operations listed; want 2", len(all))
	}
}

func collect(t *testing.T, it *lro.OperationIterator) []*longrunningpb.Operation {
	t.Helper()
	var out []*longrunningpb.Operation
	for {
		op, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out
		}
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, op)
	}
}

func grpcCode(err error) codes.Code { return status.Code(err) }

// restCode reads the google.rpc code of a REST error from its HTTP status and ErrorInfo reason.
func restCode(err error) codes.Code {
	var ae *apierror.APIError
	if !errors.As(err, &ae) {
		return codes.OK
	}
	// HTTP 400 is both INVALID_ARGUMENT and FAILED_PRECONDITION: the ErrorInfo tells them apart.
	switch ae.HTTPCode() {
	case 400:
		if ae.Reason() == "OPERATION_FINISHED" || ae.Reason() == "OPERATION_RUNNING" {
			return codes.FailedPrecondition
		}
		return codes.InvalidArgument
	case 404:
		return codes.NotFound
	case 501:
		return codes.Unimplemented
	}
	return codes.Unknown
}

func flatName(id uuid.UUID) string { return "operations/" + id.String() }
func projectName(id uuid.UUID) string {
	return "projects/" + engine.DefaultDatabase + "/locations/local/operations/" + id.String()
}

func TestGoogleClientGRPC(t *testing.T) {
	s := startLROServer(t)
	ctx := context.Background()
	conn, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := lro.NewOperationsClient(ctx, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	scenario(t, s, c, "operations", flatName, grpcCode)

	// WaitOperation: a short timeout returns it running; then it ends and the wait says so.
	id := s.exec(t, ".set-or-append async T <| Slow").Value(0, 0).(uuid.UUID)
	op, err := c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: flatName(id), Timeout: durationpb.New(10 * time.Millisecond)})
	if err != nil || op.Done {
		t.Fatalf("WaitOperation with a timeout: %v, %v", op, err)
	}
	close(s.gate)
	op, err = c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: flatName(id)})
	if err != nil || !op.Done || op.GetResponse() == nil {
		t.Fatalf("WaitOperation: %v, %v", op, err)
	}
}

func TestGoogleClientREST(t *testing.T) {
	for _, style := range []struct {
		name, parent string
		opName       func(uuid.UUID) string
	}{
		{"operations", "operations", flatName},
		{"projects", "projects/" + engine.DefaultDatabase + "/locations/local/operations", projectName},
	} {
		t.Run(style.name, func(t *testing.T) {
			s := startLROServer(t)
			ctx := context.Background()
			c, err := lro.NewOperationsRESTClient(ctx, option.WithEndpoint(s.url), option.WithoutAuthentication())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			scenario(t, s, c, style.parent, style.opName, restCode)
			_, err = c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: style.opName(uuid.New()), Timeout: durationpb.New(time.Second)})
			var ae *apierror.APIError
			if !errors.As(err, &ae) || ae.HTTPCode() != http.StatusNotImplemented {
				t.Errorf("WaitOperation over REST: %v; want 501 UNIMPLEMENTED", err)
			}
		})
	}
}

// startLROServerTLS is startLROServer over TLS with the server's self-signed certificate and a
// bearer token, as `kustard serve --tls-self-signed --auth-token T --grpc-listen …` serves; it
// returns the certificate pool a client trusts.
func startLROServerTLS(t *testing.T, token string) (*lroServer, *x509.CertPool) {
	t.Helper()
	eng := engine.New(engine.Options{MaxMemory: 1 << 30})
	s := &lroServer{eng: eng, gate: make(chan struct{})}
	cert, err := tlscert.New(tlscert.HostsFor("127.0.0.1", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(cert.PEM) {
		t.Fatal("the certificate's PEM holds no certificate")
	}
	svc := googlelro.New(eng, googlelro.Options{AuthToken: token})
	rest := svc.REST()
	srv := httptest.NewUnstartedServer(rest)
	srv.TLS = cfg
	srv.StartTLS()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := svc.GRPCServer(grpc.Creds(credentials.NewTLS(cfg)))
	go func() { _ = gs.Serve(ln) }()
	t.Cleanup(func() {
		gs.Stop()
		srv.Close()
		eng.Close(context.Background())
	})
	s.url, s.grpcAddr = srv.URL, ln.Addr().String()
	return s, roots
}

// TestGoogleClientGRPCTLSToken: Google's client over gRPC with TLS, trusting the server's
// certificate by its PEM, sends the token as per-RPC credentials; a wrong or missing token is
// UNAUTHENTICATED.
func TestGoogleClientGRPCTLSToken(t *testing.T) {
	s, roots := startLROServerTLS(t, "tok-42")
	ctx := context.Background()
	s.exec(t, ".set-or-append T <| print x=1")
	tlsCreds := option.WithGRPCDialOption(grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots})))
	for _, tc := range []struct {
		name string
		opts []option.ClientOption
		want codes.Code
	}{
		{"token", []option.ClientOption{option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-42"}))}, codes.OK},
		{"wrong token", []option.ClientOption{option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-43"}))}, codes.Unauthenticated},
		{"no token", []option.ClientOption{option.WithoutAuthentication()}, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]option.ClientOption{option.WithEndpoint(s.grpcAddr), tlsCreds}, tc.opts...)
			c, err := lro.NewOperationsClient(ctx, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ops, err := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations"}).Next()
			if got := grpcCode(err); got != tc.want || (tc.want == codes.OK && ops == nil) {
				t.Errorf("ListOperations: %v, %v; want %v", ops, err, tc.want)
			}
		})
	}
}

// TestGoogleClientRESTTLSToken: the same over the REST transport, HTTPS with the token.
func TestGoogleClientRESTTLSToken(t *testing.T) {
	s, roots := startLROServerTLS(t, "tok-42")
	ctx := context.Background()
	s.exec(t, ".set-or-append T <| print x=1")
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"token", "tok-42", http.StatusOK},
		{"wrong token", "tok-43", http.StatusUnauthorized},
		{"no token", "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var base http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
			if tc.token != "" {
				base = &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tc.token}), Base: base}
			}
			c, err := lro.NewOperationsRESTClient(ctx, option.WithEndpoint(s.url), option.WithHTTPClient(&http.Client{Transport: base}))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ops, err := c.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations"}).Next()
			var ae *apierror.APIError
			switch {
			case tc.want == http.StatusOK:
				if err != nil || ops == nil {
					t.Errorf("ListOperations: %v, %v", ops, err)
				}
			case !errors.As(err, &ae) || ae.HTTPCode() != tc.want:
				t.Errorf("ListOperations: %v; want %d", err, tc.want)
			}
		})
	}
}
