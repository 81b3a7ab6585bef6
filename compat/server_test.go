package compat

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

// kustardBin is the kustard binary the tests serve with: built once by TestMain from the parent
// module, or $KUSTARD_BIN.
var kustardBin string

const (
	// startTimeout bounds how long a server may take to print its URL (a race-built binary
	// starts slower than a plain one, and the machine may be busy).
	startTimeout = 30 * time.Second
	// stopTimeout bounds how long a server may take to exit after SIGTERM: --shutdown-grace
	// plus the engine's own bound on ending its operations, with room to spare.
	stopTimeout = 20 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if bin := os.Getenv("KUSTARD_BIN"); bin != "" {
		kustardBin = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "kustard-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kustardBin = filepath.Join(dir, "kustard")
	args := []string{"build", "-o", kustardBin}
	if raceEnabled {
		// Under go test -race the server runs under the race detector too, driven by the SDKs;
		// a race it finds makes it exit non-zero, which stop reports.
		args = append(args, "-race")
	}
	// Built in the parent module, with its own go.mod: compat's requires only what the SDKs and
	// the tests need, not the CLI's dependencies.
	build := exec.Command("go", append(args, "./cmd/kustard")...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building kustard: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// server is a `kustard serve` child process on free loopback ports.
type server struct {
	// URL is the Kusto REST API's, as the server prints it; Google's operations REST paths,
	// Azure SQL's and Service Fabric's are served on it too.
	URL string
	// GRPC is the address of google.longrunning.Operations over gRPC (--grpc-listen), or "".
	GRPC string
	// Roots trusts the server's self-signed certificate (read from the PEM file it wrote, as
	// the README shows), for HTTPS and gRPC over TLS; nil over plain HTTP.
	Roots *x509.CertPool
	// Client is an HTTP client for the SDKs: for HTTPS it trusts the server's certificate, and
	// nothing else.
	Client *http.Client
	// Token is the bearer token the server requires (--auth-token), or "".
	Token string
}

type serverConfig struct {
	https bool   // --tls-self-signed, its certificate written to a file of the test's
	token string // --auth-token
	grpc  bool   // --grpc-listen 127.0.0.1:0
	// deterministic gives --deterministic: sequential ids and a stepping clock. Off by default,
	// so that the server runs as users run it.
	deterministic bool
	flags         []string // more serve flags
}

var (
	urlLine  = regexp.MustCompile(`serves Kusto's REST API at (https?://\S+) `)
	grpcLine = regexp.MustCompile(`google\.longrunning\.Operations at (\S+), grpc`)
)

// startServer starts `kustard serve` as a child process, reads the addresses it announces, and
// stops it when the test ends: SIGTERM, then SIGKILL if it has not exited within stopTimeout.
// A server that does not exit 0 fails the test; its standard error (the request log) is shown
// when the test fails.
func startServer(t *testing.T, cfg serverConfig) *server {
	t.Helper()
	var args []string
	if cfg.deterministic {
		args = append(args, "--deterministic")
	}
	// A short grace: a request a failed test left running must not hold the stop for 10 s.
	args = append(args, "serve", "--listen", "127.0.0.1:0", "--shutdown-grace", "2s")
	if cfg.grpc {
		args = append(args, "--grpc-listen", "127.0.0.1:0")
	}
	certFile := ""
	if cfg.https {
		certFile = filepath.Join(t.TempDir(), "kustard.pem")
		args = append(args, "--tls-self-signed", "--tls-cert", certFile)
	}
	if cfg.token != "" {
		args = append(args, "--auth-token", cfg.token)
	}
	args = append(args, cfg.flags...)

	cmd := exec.Command(kustardBin, args...)
	stdout, stderr := newOutput(), newOutput()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), "KUSTARD_AUTH_TOKEN=") // only cfg.token, never the caller's
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", kustardBin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	s := &server{Client: &http.Client{Transport: &http.Transport{}}, Token: cfg.token}
	announced := false // the server printed its URL: from then on it should run until stopped
	t.Cleanup(func() {
		s.Client.CloseIdleConnections()
		select {
		case <-exited:
			if announced {
				t.Errorf("kustard serve exited before the test ended: %v", waitErr)
			} // else the start failed, and said why
		default:
			// SIGTERM is how a service manager stops serve: it should exit 0 within its grace.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Errorf("SIGTERM to kustard serve: %v", err)
			}
			select {
			case <-exited:
				if waitErr != nil {
					t.Errorf("kustard serve, stopped with SIGTERM: %v", waitErr)
				}
			case <-time.After(stopTimeout):
				_ = cmd.Process.Kill()
				<-exited
				t.Errorf("kustard serve did not exit within %v of SIGTERM; killed it", stopTimeout)
			}
		}
		if t.Failed() {
			t.Logf("kustard %v\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
		}
	})

	deadline := time.After(startTimeout)
	for {
		if m := urlLine.FindStringSubmatch(stdout.String()); m != nil {
			s.URL, announced = m[1], true
			break
		}
		select {
		case <-stdout.wrote:
		case <-exited:
			// Wait has copied all of the output: look once more, in case the line came last.
			if m := urlLine.FindStringSubmatch(stdout.String()); m != nil {
				t.Fatalf("kustard serve exited (%v) right after printing its URL %s", waitErr, m[1])
			}
			t.Fatalf("kustard serve exited (%v) before printing its URL", waitErr)
		case <-deadline:
			t.Fatalf("kustard serve printed no URL within %v", startTimeout)
		}
	}
	// Serve prints every other line (the gRPC listener, the certificate) before the URL's.
	if cfg.grpc {
		m := grpcLine.FindStringSubmatch(stdout.String())
		if m == nil {
			t.Fatal("kustard serve --grpc-listen printed no gRPC address")
		}
		s.GRPC = m[1]
	}
	if cfg.https {
		pem, err := os.ReadFile(certFile)
		if err != nil {
			t.Fatalf("the self-signed certificate: %v", err)
		}
		s.Roots = x509.NewCertPool()
		if !s.Roots.AppendCertsFromPEM(pem) {
			t.Fatalf("%s holds no certificate", certFile)
		}
		s.Client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.Roots}}
	}
	return s
}

// output collects a child's output, telling a reader each time more came.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{} // a token after a write, for a reader waiting for a line
}

func newOutput() *output { return &output{wrote: make(chan struct{}, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	select {
	case o.wrote <- struct{}{}:
	default: // a token is already waiting
	}
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// eventually polls cond, backing off to 100 ms, until it holds; past 30 s it fails the test.
// It polls the state a client of the server can observe, as that client would; it is not a
// synchronization of the test's own goroutines.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(wait)
	}
}
