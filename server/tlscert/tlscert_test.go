package tlscert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"testing"
	"time"
)

func TestHostsFor(t *testing.T) {
	for _, c := range []struct {
		host string
		want []string
	}{
		{"127.0.0.1", []string{"127.0.0.1", "localhost", "::1"}},
		{"", []string{"box", "localhost", "127.0.0.1", "::1"}},
		{"0.0.0.0", []string{"box", "localhost", "127.0.0.1", "::1"}},
		{"::", []string{"box", "localhost", "127.0.0.1", "::1"}},
		{"kustard.test", []string{"kustard.test", "localhost", "127.0.0.1", "::1"}},
	} {
		if got := HostsFor(c.host, "box"); !slices.Equal(got, c.want) {
			t.Errorf("HostsFor(%q) = %q, want %q", c.host, got, c.want)
		}
	}
}

// TestNew: the PEM parses back to the served certificate, which verifies as its own root for
// every host it names, as a server certificate, within its validity.
func TestNew(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c, err := New([]string{"kustard.test", "127.0.0.1", "::1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(c.PEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate: %q", c.PEM)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Equal(c.TLS.Leaf) {
		t.Fatal("the PEM is not the served certificate")
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(c.PEM)
	for _, host := range []string{"kustard.test", "127.0.0.1", "::1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: roots, CurrentTime: now}); err == nil {
		t.Error("verified for a host it does not name")
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "kustard.test", Roots: roots, CurrentTime: now.Add(Validity + time.Minute)}); err == nil {
		t.Error("verified after its validity")
	}
	if len(c.Fingerprint()) != 32*3-1 {
		t.Errorf("fingerprint %q", c.Fingerprint())
	}
	if _, err := New(nil, now); err == nil {
		t.Error("a certificate for no host")
	}
}

// TestHandshake: a client trusting only the certificate's pool completes a TLS handshake with a
// server serving it.
func TestHandshake(t *testing.T) {
	c, err := New(HostsFor("127.0.0.1", ""), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{c.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			err = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
		served <- err
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: c.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}
