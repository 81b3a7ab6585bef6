package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/googlelro"
	"github.com/kustard/kustard/server/httpmw"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// lroOptions are serve's flags for Google's long-running operations API.
type lroOptions struct {
	grpcListen string
	location   string
}

func (o *lroOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.grpcListen, "grpc-listen", "", "also serve google.longrunning.Operations over gRPC on this address, host:port (such as 127.0.0.1:8081; off when empty)")
	cmd.Flags().StringVar(&o.location, "location", googlelro.DefaultLocation, "the {location} of the operation names projects/{database}/locations/{location}/operations/{id}")
}

// withLRO serves Google's operations REST paths (googlelro.Owns) beside the Kusto endpoints,
// neither knowing of the other; serveLimits.wrap logs and bounds both, and they share one
// httpmw.Limiter.
func withLRO(kusto http.Handler, lro *googlelro.Service) http.Handler {
	rest := lro.REST()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if googlelro.Owns(r) {
			rest.ServeHTTP(w, r)
			return
		}
		kusto.ServeHTTP(w, r)
	})
}

// lroService is the Operations service of serve's engine.
func lroService(eng *engine.Engine, o *serveOptions, limiter *httpmw.Limiter) *googlelro.Service {
	return googlelro.New(eng, googlelro.Options{Location: o.lro.location, AuthToken: o.tls.authToken, Limiter: limiter})
}

// startGRPC listens on --grpc-listen, with the server's TLS settings when it has them, and
// serves the Operations service; stop stops it within grace, then cuts off calls still running
// (WaitOperation calls, which may wait for minutes).
func (c *cli) startGRPC(o *serveOptions, lro *googlelro.Service, tlsConfig *tls.Config) (stop func(grace time.Duration), err error) {
	if o.lro.grpcListen == "" {
		return func(time.Duration) {}, nil
	}
	if !isLoopback(o.lro.grpcListen) && o.tls.authToken == "" && !o.insecure {
		return nil, fmt.Errorf("--grpc-listen %s is beyond loopback without --auth-token: anyone who can reach it could cancel any operation; give a token, or add --insecure", o.lro.grpcListen)
	}
	ln, err := net.Listen("tcp", o.lro.grpcListen)
	if err != nil {
		return nil, err
	}
	var opts []grpc.ServerOption
	scheme := "grpc (insecure)"
	if tlsConfig != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConfig)))
		scheme = "grpc (TLS)"
	}
	srv := lro.GRPCServer(opts...)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln) // ends with Stop or GracefulStop
	}()
	fmt.Fprintf(c.stdout, "google.longrunning.Operations at %s, %s\n", ln.Addr(), scheme)
	return func(grace time.Duration) {
		stopped := make(chan struct{})
		go func() {
			srv.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
		case <-time.After(grace):
			srv.Stop()
			<-stopped
		}
		<-done
	}, nil
}
