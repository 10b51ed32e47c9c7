// Package umbrella assembles the pingora-go modules into a complete proxy
// server configured by one YAML file, and is the pingora binary
// (cmd/pingora) that runs it.
//
// It ports the pingora umbrella crate of Cloudflare's Pingora, and goes
// further: Pingora's umbrella re-exports the crates for Rust programs,
// while this package also turns a configuration file into running
// services, so a load balancer or API gateway needs no Go code. It
// assembles rather than mirrors: programs that want the Go API import
// server, proxy and balancer directly (see examples/quickstart). The
// examples directory also holds configurations for a rate-limited API
// gateway, a WebSocket proxy, a gRPC proxy and TLS passthrough with SNI
// routing (protocol: tcp), each run by a test.
//
// # The binary
//
//	go run ./umbrella/cmd/pingora            # the embedded demo: curl http://127.0.0.1:6188/
//	pingora -c pingora.yaml                  # run a configuration
//	pingora -t -c pingora.yaml               # validate it: every error with its line; exit 0 or 1
//	pingora -c pingora.yaml -d               # as a daemon; -u takes over from a running one
//	kill -HUP $(cat /tmp/pingora.pid)        # reload routes, upstreams, limits, headers
//
// Without -c, [Main] runs [DefaultConfig]: a round-robin load balancer on
// 127.0.0.1:6188 over two demo origins the process serves itself on
// 127.0.0.1:6190 and 127.0.0.1:6191, an HTTP health check every second,
// and Prometheus metrics on 127.0.0.1:6192/metrics.
//
// # Usage from Go
//
//	cfg, warnings, err := umbrella.LoadConfig("pingora.yaml")
//	if err != nil { // one *server.ConfError per problem, joined
//		log.Fatal(err) // server: conf line 12: services[0].routes[1].upstream: unknown upstream "api"
//	}
//	os.Exit(umbrella.Main([]string{"pingora", "-c", "pingora.yaml"}))
//
// # Configuration
//
// Top-level keys are those of [server.Conf] (version, threads, pid_file,
// upgrade_sock, error_log, daemon, user, group, grace_period_seconds,
// graceful_shutdown_timeout_seconds, max_retries,
// upstream_keepalive_pool_size, ca_file, …; see package server for each
// default) plus the keys below. Relative file names are resolved against
// the configuration file's directory. Unknown keys are warnings with their
// line, never errors, so a file may carry its own settings; a value of the
// wrong type or out of range, a route naming an unknown upstream, an
// address listened on twice, or a certificate that does not load is an
// error naming the field and its line.
//
//	key                               type                 default
//	version                           int                  1 (the only version)
//	log_format                        text | json          text
//	log_level                         debug|info|warn|error info
//	services[]                        list, at least one
//	  name                            string, unique       service<N>
//	  protocol                        http | tcp           http (tcp: connections tunnelled, see below)
//	  idle_timeout                    duration (tcp)       10m
//	  listen[]                        addr or {addr, …}    required
//	    addr                          host:port            required
//	    proxy_protocol                bool                 false (true: a PROXY v1/v2 header is required)
//	    proxy_protocol_from[]         CIDR or address      any source (else others are closed)
//	    notsent_lowat                 bytes >= 1           system default (TCP_NOTSENT_LOWAT, Linux)
//	    tls.cert, tls.key             PEM file             required with tls
//	    tls.client_ca                 PEM file             none (no mTLS)
//	  h2c                             bool                 false
//	  x_forwarded                     bool                 false (true: X-Forwarded-For/-Proto upstream)
//	  routes[]                        first match wins     required (or upstream / respond)
//	    sni                           name or *.suffix     any connection (tcp services only)
//	    host                          name or *.suffix     any host
//	    path_prefix                   /path                /
//	    upstream                      upstream name        (one of upstream, respond)
//	    respond                       {status, body, headers}
//	      status                      200-599              200
//	      body                        string               empty
//	      headers                     {Name: value}        none
//	  upstream                        upstream name        (a single route for /)
//	  respond                         as routes[].respond  (a single route for /)
//	  compression.enabled             bool                 false
//	  compression.level               1-9                  6
//	  rate_limit.key                  client_ip | header:NAME  client_ip
//	  rate_limit.per_second           int >= 1             required with rate_limit
//	  headers.request_set             {Name: value}        none
//	  headers.request_remove          [Name]               none
//	  headers.response_set            {Name: value}        none
//	  headers.response_remove         [Name]               none
//	  access_log                      stdout|stderr|off|path stdout
//	  tracing.traceparent             bool                 false
//	  tracing.otlp_endpoint           http(s):// URL       none (no export; umbrella/otel build only)
//	  tracing.service_name            string               pingora
//	  tracing.sample_ratio            0-1                  1
//	upstreams                         {name: upstream}
//	  selection                       round_robin|random|hash|ketama|least_conn  round_robin
//	  hash_key                        uri | client_ip | header:NAME  uri
//	  peers[]                         ip:port, host:port, unix:/path, or {addr, weight}  required
//	    weight                        1-65535              1
//	  tls                             {sni, verify, ca}    none (plaintext)
//	    sni                           string               the peer's host name
//	    verify                        bool                 true
//	    ca                            PEM file             ca_file, else system roots
//	  h2                              bool                 false (HTTP/1.1)
//	  health_check                    {…}                  none (passive health only)
//	    type                          tcp | http           tcp
//	    path                          /path                /
//	    host                          Host header          the peer's address
//	    status                        100-599              200
//	    interval                      duration             5s
//	    timeout                       duration             1s
//	    rise                          int >= 1             1
//	    fall                          int >= 1             1
//	  timeouts.connect                duration             5s
//	  timeouts.read                   duration             60s
//	  timeouts.write                  duration             60s
//	  timeouts.idle                   duration             60s
//	  retries                         0-16                 1
//	  proxy_protocol                  1 | 2                none (1 or 2: a PROXY header with the client's address)
//	metrics.listen                    host:port            none (no endpoint)
//
// Durations are Go durations ("250ms", "1s", "2m"). A host:port peer is
// resolved when the file is loaded (and again at each reload); with tls,
// its host name is the default SNI.
//
// # Requests
//
// For each request a service applies, in order: the rate limit (over the
// limit: 429 with X-Rate-Limit-Limit, X-Rate-Limit-Remaining: 0 and
// X-Rate-Limit-Reset: 1; under it, responses carry the limit and what is
// left), the first route whose host and path_prefix match (none: 404),
// then either the route's fixed response or the upstream: a backend from
// the balancer keyed by hash_key, request headers removed then set, the
// response headers removed then set, and, with compression on, the
// proxy's compression module: zstd or gzip by the client's
// Accept-Encoding, for textual types of 256 bytes or more. A connect
// failure is retried on another backend up to retries times (the proxy
// decides which other failures are safe to retry); the failed backend is
// held down by passive health for 10 s. One access-log line is written
// per request (time, service, client, method, host, path, status,
// bytes_in, bytes_out, upstream, upstream_latency, latency, and trace_id
// with tracing) in log_format.
//
// # TCP services
//
// A service with protocol: tcp proxies connections, not requests (package
// l4): each accepted connection goes to a backend of the first route
// whose sni matches the server name of the TLS ClientHello the client
// sends first (the proxy reads it without terminating TLS and replays it
// upstream; a route without sni matches any connection, TLS or not), and
// bytes are copied both ways, half-closes passed on, until both sides
// end or nothing moves for idle_timeout. A listener with tls terminates
// TLS instead and tunnels the plaintext (no sni routes then). Connect
// failures are retried on another backend up to the upstream's retries;
// hash and ketama selection hash the client IP; an upstream's
// proxy_protocol tells the backend the client's address. One access-log
// line per connection: service, client, sni, bytes_in, bytes_out,
// upstream, connect, duration, error.
//
// With tracing.traceparent, a service takes part in W3C Trace Context
// without any tracing library: it continues the trace of a valid incoming
// traceparent (or starts a sampled one), sends upstream a traceparent
// naming a new span for its hop, passes tracestate unchanged, and logs the
// trace id.
//
// Exporting spans is not in the default binary, which links no
// OpenTelemetry package: build github.com/pingora-go/pingora/umbrella/otel/cmd/pingora
// (package umbrella/otel, which passes Extensions to MainWith) and set
// tracing.otlp_endpoint. Each request then becomes an OpenTelemetry
// server span "HTTP <method>", child of a valid incoming traceparent,
// whose context is the traceparent sent upstream; spans are batched to
// the OTLP/HTTP collector at otlp_endpoint + /v1/traces, sampled by
// sample_ratio (parent-based), and flushed when the server stops. The
// default binary warns that otlp_endpoint needs that build and
// otherwise ignores it.
//
// # Reload
//
// SIGHUP re-reads the -c file and validates it whole. If it is valid, the
// routes, upstreams, rate limits, headers, compression and access logs of
// every service are swapped at once (an atomic pointer per service);
// requests in flight, and open connections, finish with the configuration
// they started with. Upstreams whose configuration did not change keep
// their health state and connections; rate limits that did not change keep
// their counts. TLS certificates are re-read from their files. If the file
// is not valid, the running configuration stays and each error is logged
// with its line. Changes to listeners, services, metrics.listen or server
// settings are logged: they take effect through the graceful upgrade
// (start the new binary with -u, then SIGQUIT the old one).
//
// # Metrics
//
// metrics.listen serves the server/metrics collectors on /metrics:
// requests by service and code, request duration, active and accepted
// connections, upstream latency, pool hits and misses (the reuse ratio),
// backend health (1 or 0), errors by kind, plus
// pingora_route_requests_total{service, route, code} where route is the
// upstream name, "respond", or "none" (rate limited or unrouted).
//
// # Builds
//
// The default build is pure Go (crypto/tls; CGO_ENABLED=0 works).
// -tags openssl serves TLS with OpenSSL through cgo (backend_openssl.go;
// without cgo the build stops with a message), GOEXPERIMENT=boringcrypto
// with BoringCrypto (backend_boring.go). The same backend runs both the
// listeners' handshakes and the upstream ones (the connector's TLSClient).
//
// # Concurrency
//
// [ParseConfig] and [LoadConfig] are safe for concurrent use. A [Config]
// they return is read-only. [Main] runs one server; the request path takes
// no lock (the configuration is read through atomic pointers), and a
// reload is serialized with other reloads.
package umbrella
