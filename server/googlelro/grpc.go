package googlelro

import (
	"context"
	"errors"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// GRPCServer returns a gRPC server with the Operations service registered, requiring the bearer
// token when the service has one. opts add the transport's settings (grpc.Creds for TLS).
func (s *Service) GRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.UnaryInterceptor(s.authUnary))
	srv := grpc.NewServer(opts...)
	longrunningpb.RegisterOperationsServer(srv, grpcOperations{s: s})
	return srv
}

func (s *Service) authUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	header := ""
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			header = v[0]
		}
	}
	if aerr := s.authorize(header); aerr != nil {
		return nil, aerr
	}
	return handler(ctx, req)
}

// grpcOperations is the gRPC face of the service.
type grpcOperations struct {
	longrunningpb.UnimplementedOperationsServer
	s *Service
}

// rpcError makes a nil *apiError a nil error, so that no typed nil escapes.
func rpcError(aerr *apiError) error {
	if aerr == nil {
		return nil
	}
	return aerr
}

func (g grpcOperations) ListOperations(_ context.Context, req *longrunningpb.ListOperationsRequest) (*longrunningpb.ListOperationsResponse, error) {
	resp, aerr := g.s.list(req)
	return resp, rpcError(aerr)
}

func (g grpcOperations) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	op, aerr := g.s.get(req.GetName())
	return op, rpcError(aerr)
}

func (g grpcOperations) DeleteOperation(_ context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	empty, aerr := g.s.delete(req.GetName())
	return empty, rpcError(aerr)
}

func (g grpcOperations) CancelOperation(_ context.Context, req *longrunningpb.CancelOperationRequest) (*emptypb.Empty, error) {
	if aerr := g.s.cancel(req.GetName()); aerr != nil {
		return nil, aerr
	}
	return &emptypb.Empty{}, nil
}

func (g grpcOperations) WaitOperation(ctx context.Context, req *longrunningpb.WaitOperationRequest) (*longrunningpb.Operation, error) {
	timeout := req.GetTimeout()
	if timeout != nil {
		if err := timeout.CheckValid(); err != nil || timeout.AsDuration() < 0 {
			return nil, newError(codes.InvalidArgument, "INVALID_TIMEOUT", "timeout %v is not a valid non-negative duration.", timeout.AsDuration())
		}
	}
	op, err := g.s.wait(ctx, req.GetName(), timeout.AsDuration(), timeout != nil)
	var aerr *apiError
	switch {
	case errors.As(err, &aerr):
		return nil, aerr
	case errors.Is(err, context.DeadlineExceeded):
		return nil, status.Error(codes.DeadlineExceeded, "the call's deadline passed before the operation was done")
	case err != nil:
		return nil, status.FromContextError(err).Err()
	}
	return op, nil
}
