package main

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/fabric"
	"github.com/kustard/kustard/server/httpmw"
	"github.com/spf13/cobra"
)

// fabricOptions are serve's flags for Service Fabric's Fault Analysis API.
type fabricOptions struct {
	nodeName   string
	maxStop    time.Duration
	startDelay time.Duration
}

func (o *fabricOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.nodeName, "node-name", fabric.DefaultNodeName, "the name of the node (this process) in Service Fabric's Fault Analysis API, /Nodes/{name}")
	cmd.Flags().DurationVar(&o.maxStop, "max-node-stop", engine.DefaultMaxNodeStop, "the longest a StartNodeTransition Stop may stop the node (refusing Kusto commands and queries)")
	cmd.Flags().DurationVar(&o.startDelay, "node-start-delay", engine.DefaultNodeStartDelay, "how long a stopped node takes to start when its stop is canceled gracefully (a forced cancel cuts it short)")
}

func (o *fabricOptions) check() error {
	switch {
	case o.nodeName == "":
		return fmt.Errorf("--node-name: a node needs a name")
	case o.maxStop <= 0:
		return fmt.Errorf("--max-node-stop %v: give a positive duration", o.maxStop)
	case o.startDelay <= 0:
		return fmt.Errorf("--node-start-delay %v: give a positive duration", o.startDelay)
	}
	return nil
}

func (o *fabricOptions) engineOptions(opts *engine.Options) {
	opts.MaxNodeStop, opts.NodeStartDelay = o.maxStop, o.startDelay
}

// fabricService is the Fault Analysis service of serve's engine; its node's address is the
// listener's host.
func fabricService(eng *engine.Engine, o *serveOptions, addr net.Addr, limiter *httpmw.Limiter) *fabric.Service {
	host, _, _ := net.SplitHostPort(addr.String())
	return fabric.New(eng, fabric.Options{NodeName: o.fabric.nodeName, Address: host, AuthToken: o.tls.authToken, Limiter: limiter})
}

// withFabric serves the Fault Analysis paths (fabric.Owns) beside the other front doors;
// serveLimits.wrap logs and bounds them all.
func withFabric(next http.Handler, fab *fabric.Service) http.Handler {
	rest := fab.REST()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fabric.Owns(r) {
			rest.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
