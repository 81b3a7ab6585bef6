// Package tlscert makes the self-signed certificate that `kustard serve --tls-self-signed`
// serves HTTPS with, so that tools which insist on HTTPS can reach a local server in tests and
// CI without anyone running a certificate authority. The certificate is its own root: a client
// trusts it by adding its PEM to its roots (SSL_CERT_FILE, curl --cacert, an x509.CertPool).
package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"
)

// Validity is how long a self-signed certificate is good for: long enough for a working day or
// a CI run, short enough that a leaked one soon means nothing. A restart makes a new one.
const Validity = 7 * 24 * time.Hour

// Cert is a self-signed certificate and its key.
type Cert struct {
	TLS      tls.Certificate // what a tls.Config serves
	PEM      []byte          // the certificate alone, PEM-encoded, for clients to trust
	Hosts    []string        // the names and addresses it is for
	NotAfter time.Time
}

// Fingerprint is the SHA-256 of the certificate's DER, as `openssl x509 -fingerprint -sha256`
// prints it (AB:CD:…).
func (c *Cert) Fingerprint() string {
	sum := sha256.Sum256(c.TLS.Certificate[0])
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// HostsFor lists the names a certificate for a server listening on host should name: the host
// itself, unless it is empty or unspecified (0.0.0.0, ::), whereupon the machine's name stands
// for it, and always localhost, 127.0.0.1 and ::1, so that a loopback client can verify it
// whatever name it dials.
func HostsFor(host, hostname string) []string {
	var hosts []string
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if hostname != "" {
			hosts = append(hosts, hostname)
		}
	} else {
		hosts = append(hosts, host)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// New makes an ECDSA P-256 certificate for hosts (DNS names or IP addresses), valid from an hour
// before now (clocks drift) for Validity.
func New(hosts []string, now time.Time) (*Cert, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("tlscert: a certificate needs at least one host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(pub)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"Kustard"}, CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(Validity),
		// Its own root: a CA that signs only itself, so that strict verifiers (OpenSSL, Python's
		// ssl) take it as a trust anchor as well as Go does.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		SubjectKeyId:          ski[:20],
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{
		TLS:      tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf},
		PEM:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Hosts:    hosts,
		NotAfter: tmpl.NotAfter,
	}, nil
}

// Pool is a certificate pool holding only c, for a client that should trust this server and
// nothing else.
func (c *Cert) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.TLS.Leaf)
	return pool
}
