package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/kustard/kustard/server/tlscert"
	"github.com/spf13/cobra"
)

// tlsOptions are serve's flags for HTTPS, the bearer token and CORS.
type tlsOptions struct {
	cert, key   string
	selfSigned  bool
	authToken   string
	corsOrigins []string
}

// authTokenEnv names the environment variable that gives the token when --auth-token does not,
// so that it need not show in a process listing.
const authTokenEnv = "KUSTARD_AUTH_TOKEN"

func (o *tlsOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.cert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key); with --tls-self-signed, where to write the certificate made")
	cmd.Flags().StringVar(&o.key, "tls-key", "", "the private key (PEM) of --tls-cert")
	cmd.Flags().BoolVar(&o.selfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate made at start for the listen address and loopback; prints its file and SHA-256 fingerprint, for clients to trust")
	cmd.Flags().StringVar(&o.authToken, "auth-token", "", "require Authorization: Bearer TOKEN on every endpoint but auth metadata and health (default $"+authTokenEnv+")")
	cmd.Flags().StringArrayVar(&o.corsOrigins, "cors-origin", nil, "allow browser clients from this origin (https://app.example.com, or * for any); repeatable")
}

// check refuses contradictory or incomplete flags, and takes the token from the environment.
func (o *tlsOptions) check() error {
	if o.authToken == "" {
		o.authToken = os.Getenv(authTokenEnv)
	}
	if strings.ContainsAny(o.authToken, " \t\r\n") {
		return fmt.Errorf("--auth-token: a bearer token cannot hold spaces or line breaks")
	}
	switch {
	case o.selfSigned && o.key != "":
		return fmt.Errorf("--tls-self-signed makes its own key; drop --tls-key (--tls-cert names where to write the certificate)")
	case !o.selfSigned && (o.cert == "") != (o.key == ""):
		return fmt.Errorf("--tls-cert and --tls-key go together: HTTPS needs the certificate and its key")
	}
	for _, origin := range o.corsOrigins {
		if origin != "*" && !strings.HasPrefix(origin, "http://") && !strings.HasPrefix(origin, "https://") {
			return fmt.Errorf("--cors-origin %q: an origin is scheme://host[:port], such as https://app.example.com, or *", origin)
		}
	}
	return nil
}

func (o *tlsOptions) https() bool { return o.selfSigned || o.cert != "" }

// tlsConfig loads or makes the server's certificate. For a self-signed one it writes the
// certificate's PEM where --tls-cert says, or to a temporary file that cleanup removes, and
// prints where and its fingerprint.
func (c *cli) tlsConfig(o *tlsOptions, addr net.Addr) (cfg *tls.Config, cleanup func(), err error) {
	cleanup = func() {}
	cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	if !o.selfSigned {
		cert, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, cleanup, fmt.Errorf("--tls-cert %s --tls-key %s: %w", o.cert, o.key, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
		return cfg, cleanup, nil
	}
	host, _, _ := net.SplitHostPort(addr.String())
	hostname, _ := os.Hostname()
	cert, err := tlscert.New(tlscert.HostsFor(host, hostname), time.Now())
	if err != nil {
		return nil, cleanup, err
	}
	path := o.cert
	if path == "" {
		f, err := os.CreateTemp("", "kustard-cert-*.pem")
		if err != nil {
			return nil, cleanup, err
		}
		path = f.Name()
		f.Close()
		cleanup = func() { os.Remove(path) }
	}
	if err := os.WriteFile(path, cert.PEM, 0o644); err != nil {
		cleanup()
		return nil, func() {}, fmt.Errorf("writing the self-signed certificate: %w", err)
	}
	cfg.Certificates = []tls.Certificate{cert.TLS}
	fmt.Fprintf(c.stdout, "Self-signed certificate for %s, valid until %s: %s\n", strings.Join(cert.Hosts, ", "), cert.NotAfter.UTC().Format(time.RFC3339), path)
	fmt.Fprintf(c.stdout, "SHA-256 fingerprint %s\n", cert.Fingerprint())
	return cfg, cleanup, nil
}
