package googlelro

import (
	"context"
	"net"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"github.com/kustard/kustard/internal/servertest"
	"github.com/kustard/kustard/ops"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/durationpb"
)

func dialBufconn(t *testing.T, svc *Service) longrunningpb.OperationsClient {
	t.Helper()
	ln := bufconn.Listen(1 << 20)
	srv := svc.GRPCServer()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ln.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return longrunningpb.NewOperationsClient(conn)
}

func wantCode(t *testing.T, what string, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("%s: code %v (%v); want %v", what, got, err, want)
	}
}

func TestGRPC(t *testing.T) {
	eng := newEngine(t)
	release := servertest.SlowStream(t, eng, "Slow")
	ctx := context.Background()
	client := dialBufconn(t, New(eng, Options{}))
	servertest.Run(t, eng, ".set-or-append T <| print x=1")
	long := startAsync(t, eng, ".set-or-append async T <| Slow")
	name := "operations/" + long.String()

	resp, err := client.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations", PageSize: 1})
	if err != nil || len(resp.Operations) != 1 || resp.NextPageToken == "" || !resp.Operations[0].Done {
		t.Fatalf("first page: %v, %v", resp, err)
	}
	resp, err = client.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations", PageSize: 1, PageToken: resp.NextPageToken})
	if err != nil || len(resp.Operations) != 1 || resp.NextPageToken != "" || resp.Operations[0].Name != name {
		t.Fatalf("second page: %v, %v", resp, err)
	}
	_, err = client.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Filter: "done != true"})
	wantCode(t, "a bad filter", err, codes.InvalidArgument)

	// A wait that times out returns the operation, not done.
	op, err := client.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: name, Timeout: durationpb.New(10 * time.Millisecond)})
	if err != nil || op.Done {
		t.Fatalf("WaitOperation with a timeout: %v, %v", op, err)
	}
	// The caller's deadline ends the call with DEADLINE_EXCEEDED.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = client.WaitOperation(short, &longrunningpb.WaitOperationRequest{Name: name})
	cancel()
	wantCode(t, "WaitOperation past the caller's deadline", err, codes.DeadlineExceeded)

	// Canceled through Kusto's command: CANCELLED here.
	waited := make(chan *longrunningpb.Operation, 1)
	go func() {
		op, err := client.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: name})
		if err != nil {
			t.Errorf("WaitOperation: %v", err)
		}
		waited <- op
	}()
	servertest.Run(t, eng, `.cancel operation `+long.String()+` with (reason="enough")`)
	release()
	op = <-waited
	if !op.Done || op.GetError().GetCode() != int32(codes.Canceled) || op.GetError().GetMessage() != "enough" {
		t.Errorf("after .cancel operation: %v", op)
	}
	if got, err := client.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name}); err != nil || got.GetError().GetCode() != 1 {
		t.Errorf("GetOperation: %v, %v", got, err)
	}
	_, err = client.CancelOperation(ctx, &longrunningpb.CancelOperationRequest{Name: name})
	wantCode(t, "cancel a finished operation", err, codes.FailedPrecondition)
	if st, _ := status.FromError(err); st.Message() != "Operation has already finished: its state is Canceled." {
		t.Errorf("message %q", st.Message())
	}
	if _, err := client.DeleteOperation(ctx, &longrunningpb.DeleteOperationRequest{Name: name}); err != nil {
		t.Errorf("DeleteOperation: %v", err)
	}
	_, err = client.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: name})
	wantCode(t, "get a deleted operation", err, codes.NotFound)
	_, err = client.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: "operations/x"})
	wantCode(t, "a malformed name", err, codes.InvalidArgument)
	_, err = client.WaitOperation(ctx, &longrunningpb.WaitOperationRequest{Name: name, Timeout: durationpb.New(-time.Second)})
	wantCode(t, "a negative timeout", err, codes.InvalidArgument)
	if s, _ := eng.Ops().Get(long); s.State != ops.Canceled {
		t.Errorf("state %v", s.State)
	}
}

func TestGRPCBearerToken(t *testing.T) {
	eng := newEngine(t)
	client := dialBufconn(t, New(eng, Options{AuthToken: "s3cret"}))
	ctx := context.Background()
	_, err := client.ListOperations(ctx, &longrunningpb.ListOperationsRequest{Name: "operations"})
	wantCode(t, "no token", err, codes.Unauthenticated)
	_, err = client.ListOperations(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer nope"), &longrunningpb.ListOperationsRequest{Name: "operations"})
	wantCode(t, "a wrong token", err, codes.Unauthenticated)
	if _, err := client.ListOperations(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer s3cret"), &longrunningpb.ListOperationsRequest{Name: "operations"}); err != nil {
		t.Errorf("with the token: %v", err)
	}
}
