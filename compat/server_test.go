package compat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/kusto"
	"github.com/kustard/kustard/server/kustohttp"
	"github.com/kustard/kustard/server/tlscert"
)

// server is a Kustard server on a free loopback port: the handler `kustard serve` serves, over
// HTTP or over HTTPS with the self-signed certificate --tls-self-signed makes.
type server struct {
	URL    string
	Engine *engine.Engine
	// Client is an HTTP client for the SDK: for HTTPS it trusts the server's certificate, and
	// nothing else.
	Client *http.Client
}

type serverConfig struct {
	https bool
	token string
}

func startServer(t *testing.T, cfg serverConfig) *server {
	t.Helper()
	eng := engine.New(engine.Options{MaxMemory: 1 << 30})
	srv := httptest.NewUnstartedServer(kustohttp.New(eng, kustohttp.Options{AuthToken: cfg.token}))
	client := &http.Client{Transport: &http.Transport{}}
	if cfg.https {
		cert, err := tlscert.New(tlscert.HostsFor("127.0.0.1", ""), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert.TLS}, MinVersion: tls.VersionTLS12}
		srv.StartTLS()
		// As `kustard serve --tls-self-signed` leaves it: the certificate in a PEM file, which the
		// client trusts as the README shows.
		file := filepath.Join(t.TempDir(), "kustard.pem")
		if err := os.WriteFile(file, cert.PEM, 0o644); err != nil {
			t.Fatal(err)
		}
		pem, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", file)
		}
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	} else {
		srv.Start()
	}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
		eng.Close(context.Background())
	})
	return &server{URL: srv.URL, Engine: eng, Client: client}
}

// gatedStream registers a table Gated whose first row comes at once and whose second waits for
// the query's end, so that a query is held open, running, until something cancels it.
func gatedStream(eng *engine.Engine) {
	schema := engine.Schema{{Name: "x", Type: kusto.TypeLong}}
	eng.RegisterStream("Gated", engine.Stream{Schema: schema, Open: func(ctx context.Context) engine.Operator {
		n := 0
		return engine.NewOperator(func() (*engine.Batch, error) {
			n++
			if n > 1 {
				<-ctx.Done()
				return nil, context.Cause(ctx)
			}
			return &engine.Batch{Cols: []engine.Column{engine.NewVector(kusto.TypeLong, []int64{1}, nil)}, Len: 1}, nil
		})
	}})
}
