// Package tools holds the development tooling of the pingora-go repository.
//
// It is not a library: nothing imports it. The module exists so that its
// scripts and any Go tools they use are versioned with the repository:
//
//	tools/ci.sh         everything CI checks; the README's test command
//	tools/workspace.sh  regenerates go.work and the in-repo require/replace lines
//	tools/bench.sh      per-module benchmarks in a form benchstat reads
//	tools/fuzz.sh       every fuzz target for a bounded time each
//	tools/release.sh    tags one module and bumps it in its dependents
//	tools/bench/run.sh  the proxy against nginx and httputil.ReverseProxy
//	                    under wrk and h2load (see tools/bench/doc.go)
package tools
