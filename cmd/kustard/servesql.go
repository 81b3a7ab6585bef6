package main

import (
	"net/http"

	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/server/azuresql"
	"github.com/kustard/kustard/server/httpmw"
	"github.com/spf13/cobra"
)

// sqlOptions are serve's flags for Azure SQL's database operations API.
type sqlOptions struct {
	subscription, resourceGroup, server string
}

func (o *sqlOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.subscription, "sql-subscription", "", "the only subscription id Azure SQL's database operations API accepts (default: any)")
	cmd.Flags().StringVar(&o.resourceGroup, "sql-resource-group", "", "the only resource group Azure SQL's database operations API accepts (default: any)")
	cmd.Flags().StringVar(&o.server, "sql-server", "", "the only server name Azure SQL's database operations API accepts (default: any)")
}

// sqlService is the database operations service of serve's engine, sharing the server's token
// and pool of concurrent requests.
func sqlService(eng *engine.Engine, o *serveOptions, limiter *httpmw.Limiter) *azuresql.Service {
	return azuresql.New(eng, azuresql.Options{
		Subscription: o.sql.subscription, ResourceGroup: o.sql.resourceGroup, Server: o.sql.server,
		AuthToken: o.tls.authToken, Limiter: limiter,
	})
}

// withSQL serves the ARM paths (azuresql.Owns, under /subscriptions) beside the other front
// doors, none knowing of the others; serveLimits.wrap logs and bounds them all.
func withSQL(next http.Handler, sql *azuresql.Service) http.Handler {
	h := sql.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if azuresql.Owns(r) {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
