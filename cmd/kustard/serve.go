package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/parser"
	"github.com/kustard/kustard/server/httpmw"
	"github.com/kustard/kustard/server/kustohttp"
	"github.com/spf13/cobra"
)

// serveOptions are serve's flags.
type serveOptions struct {
	listen   string
	database string
	insecure bool
	grace    time.Duration
	// ingestRoot is the directory whose files .ingest into may read; none when empty.
	ingestRoot string
	// exportRoot is the directory under which .export may write; none when empty.
	exportRoot string
	tls        tlsOptions
	limits     serveLimits
	lro        lroOptions
	fabric     fabricOptions
	sql        sqlOptions
}

func (c *cli) serveCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Serve Kusto's REST API, for Kusto's SDKs and tools",
		Long: `Serve Kusto's REST API over HTTP or HTTPS: POST /v1/rest/mgmt for management commands,
GET or POST /v1/rest/query and /v2/rest/query for queries, GET /v1/rest/ping for health.
Kusto's SDKs connect with an unauthenticated connection string to the printed URL.

--tls-cert and --tls-key serve HTTPS; --tls-self-signed makes a certificate at start and prints
its file and fingerprint, for clients to trust (curl --cacert FILE, SSL_CERT_FILE=FILE).
--auth-token (or $KUSTARD_AUTH_TOKEN) requires Authorization: Bearer TOKEN; without it,
Authorization headers are ignored. --cors-origin lets browser clients from an origin call it.

The same operations are served through Google's google.longrunning.Operations: REST under /v1/operations
and /v1/projects/{database}/locations/{location}/operations, and gRPC on --grpc-listen when given;
and through Azure SQL's database operations API (list and cancel) under
/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{server}/databases/{db}/operations,
any subscription, resource group and server unless --sql-subscription, --sql-resource-group or
--sql-server name one.
Faults (data loss, a table restart, a node stop) are injected through Service Fabric's Fault
Analysis API under /Faults/, with the node (this process) at /Nodes/{--node-name}.

It listens on loopback unless told otherwise; beyond loopback it refuses to start without
--auth-token, unless --insecure is given. SIGINT or SIGTERM stops it: it stops
accepting, lets running requests finish within --shutdown-grace, then marks the operations
still running Abandoned (Canceled with --on-shutdown cancel) and exits 0.` + serveLimitsHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return c.serve(cmd.Context(), o) },
	}
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:8080", "the address to listen on, host:port (port 0 picks a free one)")
	cmd.Flags().StringVar(&o.database, "database", engine.DefaultDatabase, "the database of requests that name none; created if it does not exist")
	cmd.Flags().BoolVar(&o.insecure, "insecure", false, "allow listening beyond loopback without --auth-token")
	cmd.Flags().DurationVar(&o.grace, "shutdown-grace", 10*time.Second, "how long running requests may take to finish at shutdown")
	cmd.Flags().StringVar(&o.ingestRoot, "ingest-root", "", "the directory whose files .ingest into and externaldata may read (default: none; a server reads no local file unless told)")
	cmd.Flags().StringVar(&o.exportRoot, "export-root", "", "the directory under which .export may write files (default: none; a server writes no local file unless told)")
	o.tls.addFlags(cmd)
	o.limits.flags(cmd)
	o.lro.addFlags(cmd)
	o.fabric.addFlags(cmd)
	o.sql.addFlags(cmd)
	return cmd
}

// isLoopback reports whether a listen address stays on this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ingestAccess is the file access of a server: none, or the files under --ingest-root.
func ingestAccess(root string) (engine.FileAccess, error) { return rootAccess("--ingest-root", root) }

// rootAccess is the file access a flag gives: none, or what is under its directory. Reading
// (--ingest-root) and writing (--export-root) are separate grants: a server that may read
// files may not therefore write them.
func rootAccess(flag, root string) (engine.FileAccess, error) {
	if root == "" {
		return engine.FileAccess{Disabled: true}, nil
	}
	st, err := os.Stat(root)
	if err != nil || !st.IsDir() {
		return engine.FileAccess{}, fmt.Errorf("%s %s: not a directory", flag, root)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return engine.FileAccess{}, fmt.Errorf("%s %s: %w", flag, root, err)
	}
	return engine.FileAccess{Root: abs}, nil
}

func (c *cli) serve(ctx context.Context, o serveOptions) error {
	if err := o.tls.check(); err != nil {
		return err
	}
	if !isLoopback(o.listen) && o.tls.authToken == "" && !o.insecure {
		return fmt.Errorf("--listen %s is beyond loopback without --auth-token: anyone who can reach it could run any command; give a token (--auth-token or $%s), or add --insecure to serve it anyway", o.listen, authTokenEnv)
	}
	if o.grace < 0 {
		return fmt.Errorf("--shutdown-grace %v: a grace period cannot be negative", o.grace)
	}
	if err := o.limits.check(); err != nil {
		return err
	}
	if err := o.fabric.check(); err != nil {
		return err
	}
	logger, err := o.limits.logger(c.stderr)
	if err != nil {
		return err
	}
	// Build the grammar before listening, or the first request that parses pays 3-6 ms for it.
	parser.BuildGrammar()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	scheme := "http://"
	var tlsConfig *tls.Config
	if o.tls.https() {
		cfg, cleanup, err := c.tlsConfig(&o.tls, ln.Addr())
		if err != nil {
			ln.Close()
			return err
		}
		defer cleanup()
		tlsConfig, scheme = cfg, "https://"
		ln = tls.NewListener(ln, cfg)
	}
	url := scheme + ln.Addr().String()
	access, err := ingestAccess(o.ingestRoot)
	if err != nil {
		ln.Close()
		return err
	}
	exports, err := rootAccess("--export-root", o.exportRoot)
	if err != nil {
		ln.Close()
		return err
	}
	eng, err := c.newEngine(func(opts *engine.Options) { opts.Address, opts.IngestFiles, opts.ExportFiles = url, access, exports }, o.fabric.engineOptions)
	if err != nil {
		ln.Close()
		return err
	}
	defer c.shutEngine(eng, o.limits.onShutdown)
	if _, ok := eng.Database(o.database); !ok {
		id := eng.Ops().IDs().NewID()
		if _, err := eng.Catalog().Update(func(tx *engine.Txn) error { return tx.CreateDatabase(o.database, id) }); err != nil {
			ln.Close()
			return err
		}
	}
	// One pool of concurrent requests and one request log for every HTTP front door.
	limiter := httpmw.NewLimiter(o.limits.maxConcurrent, kustohttp.DefaultRetryAfter)
	lro := lroService(eng, &o, limiter)
	fab := fabricService(eng, &o, ln.Addr(), limiter)
	stopGRPC, err := c.startGRPC(&o, lro, tlsConfig)
	if err != nil {
		ln.Close()
		return err
	}
	defer func() { stopGRPC(o.grace) }()
	srv := &http.Server{
		Handler: o.limits.wrap(withSQL(withFabric(withLRO(kustohttp.New(eng, o.limits.handlerOptions(kustohttp.Options{
			Database: o.database, AuthToken: o.tls.authToken, CORSOrigins: o.tls.corsOrigins, Limiter: limiter}, logger)), lro), fab),
			sqlService(eng, &o, limiter)), logger),
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: o.limits.headerTimeout,
		IdleTimeout:       o.limits.idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(c.stdout, "Kustard %s serves Kusto's REST API at %s (database %s); Ctrl-C stops it\n", engine.Version, url, o.database)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintf(c.stderr, "kustard: shutting down; waiting up to %v for running requests\n", o.grace)
	graceCtx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	if err := srv.Shutdown(graceCtx); err != nil {
		fmt.Fprintf(c.stderr, "kustard: requests still running after %v were cut off\n", o.grace)
		srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
