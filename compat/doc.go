// Package compat holds end-to-end tests that drive Kustard's server with Microsoft's own Kusto
// SDKs, Google's long-running operations client, Service Fabric's Go client (fault injection)
// and Azure's SQL client on their surfaces, each against a `kustard serve` child process built
// from this checkout. It is a module of its own so that the SDKs' dependencies stay out of
// Kustard's.
package compat
