package compat

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	lro "cloud.google.com/go/longrunning/autogen"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/Azure/azure-kusto-go/azkustodata"
	"github.com/google/uuid"
	"github.com/googleapis/gax-go/v2/apierror"
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/googlelro"
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

// startLROServer is `kustard serve --grpc-listen 127.0.0.1:0`: the Kusto endpoints and Google's
// operations REST paths on one HTTP listener, and the Operations service over gRPC on another;
// with a Kusto client to make operations with.
func startLROServer(t *testing.T, cfg serverConfig) (*server, *azkustodata.Client) {
	t.Helper()
	cfg.grpc = true
	s := startServer(t, cfg)
	return s, connect(t, s)
}

// waitDone polls GetOperation, as a client of Google's API does, until the operation is done.
func waitDone(t *testing.T, c *lro.OperationsClient, name string) *longrunningpb.Operation {
	t.Helper()
	var op *longrunningpb.Operation
	eventually(t, name+" done", func() bool {
		var err error
		op, err = c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: name})
		if err != nil {
			t.Fatalf("GetOperation %s: %v", name, err)
		}
		return op.Done
	})
	return op
}

// scenario is what every transport must do with Google's own client: list with paging and
// filters, get, cancel a long ingest and see CANCELLED, cancel a finished one and see
// FAILED_PRECONDITION, delete. prefix makes names of one path style.
func scenario(t *testing.T, kc *azkustodata.Client, c *lro.OperationsClient, parent string, name func(uuid.UUID) string, code func(error) codes.Code) {
	ctx := context.Background()
	mgmt(t, kc, ".set-or-append T <| print x=1")
	mgmt(t, kc, ".set-or-append T <| print x=2")
	long := ingest(t, kc, ".set-or-append async T <| "+forever)

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
	op := waitDone(t, c, name(long))
	if op.GetError().GetCode() != int32(codes.Canceled) || op.GetError().GetMessage() != googlelro.CancelReason {
		t.Fatalf("after cancel: %v", op)
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
	s, kc := startLROServer(t, serverConfig{})
	ctx := context.Background()
	conn, err := grpc.NewClient(s.GRPC, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := lro.NewOperationsClient(ctx, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	scenario(t, kc, c, "operations", flatName, grpcCode)

	// WaitOperation: a short timeout returns it running; a wait without one ends when the
	// operation does, here canceled through Kusto's own command. (Whether the cancel lands
	// before or during the wait, the wait's answer is the same.)
	id := ingest(t, kc, ".set-or-append async T <| "+forever)
	op, err := c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: flatName(id), Timeout: durationpb.New(10 * time.Millisecond)})
	if err != nil || op.Done {
		t.Fatalf("WaitOperation with a timeout: %v, %v", op, err)
	}
	type waited struct {
		op  *longrunningpb.Operation
		err error
	}
	ended := make(chan waited, 1)
	go func() {
		op, err := c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: flatName(id)})
		ended <- waited{op, err}
	}()
	mgmt(t, kc, ".cancel operation "+id.String()+` with (reason = "compat: waited")`)
	select {
	case w := <-ended:
		if w.err != nil || !w.op.Done || w.op.GetError().GetCode() != int32(codes.Canceled) || !strings.Contains(w.op.GetError().GetMessage(), "compat: waited") {
			t.Fatalf("WaitOperation: %v, %v", w.op, w.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitOperation did not return within 30 s of the operation's cancel")
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
			s, kc := startLROServer(t, serverConfig{})
			ctx := context.Background()
			c, err := lro.NewOperationsRESTClient(ctx, option.WithEndpoint(s.URL), option.WithoutAuthentication())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			scenario(t, kc, c, style.parent, style.opName, restCode)
			_, err = c.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: style.opName(uuid.New()), Timeout: durationpb.New(time.Second)})
			var ae *apierror.APIError
			if !errors.As(err, &ae) || ae.HTTPCode() != http.StatusNotImplemented {
				t.Errorf("WaitOperation over REST: %v; want 501 UNIMPLEMENTED", err)
			}
		})
	}
}

// TestGoogleClientGRPCTLSToken: against `kustard serve --tls-self-signed --auth-token T
// --grpc-listen …`, Google's client over gRPC with TLS, trusting the server's certificate by
// its PEM, sends the token as per-RPC credentials; a wrong or missing token is UNAUTHENTICATED.
func TestGoogleClientGRPCTLSToken(t *testing.T) {
	s, kc := startLROServer(t, serverConfig{https: true, token: "tok-42"})
	ctx := context.Background()
	mgmt(t, kc, ".set-or-append T <| print x=1")
	tlsCreds := option.WithGRPCDialOption(grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: s.Roots})))
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
			opts := append([]option.ClientOption{option.WithEndpoint(s.GRPC), tlsCreds}, tc.opts...)
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
	s, kc := startLROServer(t, serverConfig{https: true, token: "tok-42"})
	ctx := context.Background()
	mgmt(t, kc, ".set-or-append T <| print x=1")
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
			var base http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.Roots}}
			if tc.token != "" {
				base = &oauth2.Transport{Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tc.token}), Base: base}
			}
			c, err := lro.NewOperationsRESTClient(ctx, option.WithEndpoint(s.URL), option.WithHTTPClient(&http.Client{Transport: base}))
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
