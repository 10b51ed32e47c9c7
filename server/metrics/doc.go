// Package metrics is the server's Prometheus instrumentation: the
// collectors of the server's own metrics, an HTTP service that exposes
// them with the process and Go metrics on /metrics, and a wrapper that
// counts the connections of any [server.App].
//
// It ports pingora-core's Prometheus service (Service::prometheus_http_service,
// feature "prometheus", whose app serves the Rust prometheus crate's
// global registry) with github.com/prometheus/client_golang. Unlike
// Pingora, it serves the registry it is given rather than a global one,
// only on /metrics, and it defines the server's own metrics instead of
// leaving each application to.
//
// # Usage
//
//	m, err := metrics.New(metrics.Options{}) // a fresh registry
//	svc := server.NewListeningService("proxy", metrics.CountingApp(app, m, "proxy"))
//	prom := metrics.NewService(m)             // "Prometheus metric HTTP"
//	prom.AddTCP("127.0.0.1:6192")
//	s.AddListening(svc); s.AddListening(prom)
//
// and, on the hot path, with handles resolved once:
//
//	ps := m.Service("proxy")
//	ps.Request(resp.Status, time.Since(start))
//	m.Error(perr.ConnectTimedout.String())
//
// # Metrics
//
// Every name starts with Options.Namespace, by default [Namespace]
// ("pingora"); durations are in seconds.
//
//	pingora_connections_accepted_total  counter    service
//	pingora_connections_active          gauge      service
//	pingora_requests_total              counter    service, code ("0": no response)
//	pingora_request_duration_seconds    histogram  service
//	pingora_errors_total                counter    kind (a perr ErrorType name)
//	pingora_upstream_latency_seconds    histogram  upstream
//	pingora_upstream_pool_hits_total    counter    upstream
//	pingora_upstream_pool_misses_total  counter    upstream
//	pingora_backend_healthy             gauge      upstream, backend (1 or 0)
//
// plus process_* and go_* from client_golang's process and Go collectors.
// Histograms use [DefaultBuckets] (1 ms to 60 s) unless Options says
// otherwise. Label values come from the caller: keep them to a fixed set
// (service and upstream names, error kinds), never addresses of clients.
//
// # Registry
//
// [New] registers on Options.Registerer, or, if it is nil, on a fresh
// prometheus.Registry; it never uses prometheus.DefaultRegisterer unless
// given it. Registering the same metrics twice on one registry is an error
// from New that wraps prometheus.AlreadyRegisteredError; the process and Go
// collectors are the exception, being the process's own, so New can share a
// registry that has them already.
//
// # Why a listening service
//
// The metrics endpoint is an [HTTPApp] served by a server.ListeningService,
// not a background task that runs its own http.Server. As a listening
// service, its socket is in the server's listener table: -t checks its
// address, a graceful upgrade hands it to the new process like every other
// socket (so no scrape is refused and the new process never fails to bind
// an address the old one still holds), and a graceful shutdown lets a
// scrape in flight finish and closes idle keep-alive connections. AddTLS
// and AddUnix work as for any service.
//
// # Defaults
//
// Options: fresh registry, namespace "pingora", no const labels,
// [DefaultBuckets], process and Go collectors registered. HTTPOptions:
// ReadHeaderTimeout 10s, WriteTimeout 30s, IdleTimeout 60s,
// MaxHeaderBytes 64 KiB, errors to the standard logger.
//
// # Concurrency
//
// Every method of [Metrics], [Service], [Upstream] and [HTTPApp] is safe
// for concurrent use. The methods of Service and Upstream, and those of
// Metrics for a name seen before, take no lock and do not allocate (the
// first request with a given status code on a service allocates its
// series). A nil *Metrics, *Service or *Upstream records nothing.
package metrics
