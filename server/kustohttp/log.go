package kustohttp

import (
	"github.com/kustard/kustard/engine"
	"github.com/kustard/kustard/parser"
	"github.com/kustard/kustard/server/httpmw"
)

// The request's log record (httpmw.Record) is written by httpmw.Logged, around this handler when
// Options.Logger is set or around the server's composed front doors; the handler fills it in as
// it learns what the request asks.

// noteCall records what the request asks: its database, text and description.
func noteCall(rec *httpmw.Record, c *call) {
	if rec != nil {
		rec.DB, rec.Text, rec.Description = c.db, c.text, c.description
	}
}

// noteKind records the kind of the checked text: "query", or the management command's name from
// the registry (".set-or-append").
func noteKind(rec *httpmw.Record, b *parser.Block) {
	switch {
	case rec == nil:
	case b.Command != nil:
		rec.Kind = engine.CommandFor(b.Command).Name
	default:
		rec.Kind = "query"
	}
}

// pathKinds name the kind of the requests to endpoints that run no text.
var pathKinds = map[string]string{"/v1/rest/ping": "ping", "/v1/rest/auth/metadata": "auth-metadata"}
