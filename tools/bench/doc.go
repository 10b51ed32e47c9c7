// Package bench is the end-to-end proxy benchmark of pingora-go: run.sh
// starts an origin, nginx, httputil.ReverseProxy and pingora-go's proxy on
// loopback, drives each with wrk (HTTP/1.1 keep-alive) and h2load (h2c),
// and prints requests per second, p50/p99 latency and peak RSS as ratios
// to nginx measured in the same run.
//
//	tools/bench/run.sh              # about 2.5 minutes with the defaults
//	tools/bench/run.sh -d 5s -s 100 # shorter: small bodies only
//	tools/bench/run.sh -r 3         # medians of 3 interleaved rounds
//
// The programs it runs are under cmd/:
//
//	cmd/origin          a raw-socket HTTP/1.1 origin; GET /N answers N bytes
//	cmd/pingora-proxy   a minimal proxy.Hooks program (UpstreamPeer only)
//	cmd/httputil-proxy  httputil.ReverseProxy with a tuned Transport
//
// The package itself holds no code: its test builds the programs and
// sends requests through them, so CI keeps them working. The speed
// figures come only from run.sh, on a quiet machine; see its header for
// what it needs (wrk, nginx, optionally h2load) and how it pins processes
// to CPUs.
package bench
