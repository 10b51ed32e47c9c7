// Package otel adds OpenTelemetry span export to the pingora binary of
// package umbrella, in a module of its own so that the default binary
// links no OpenTelemetry package.
//
// Pingora (the Rust project) has no tracing crate of its own; this is the
// Go port's answer to the "OpenTelemetry tracing" item of the umbrella
// binary. Build the binary from this module:
//
//	go install github.com/pingora-go/pingora/umbrella/otel/cmd/pingora@latest
//
// and give a service a collector:
//
//	services:
//	  - name: web
//	    listen: [0.0.0.0:80]
//	    upstream: backends
//	    tracing: {otlp_endpoint: "http://127.0.0.1:4318", service_name: edge, sample_ratio: 0.25}
//
// A program embedding the binary passes Extensions to umbrella.MainWith
// or umbrella.Run:
//
//	os.Exit(umbrella.MainWith(os.Args, otel.Extensions()))
//
// # Spans
//
// Each request of such a service is one server span, started when its
// header has been read and ended after the response (or the error). Its
// parent is the remote span of a valid incoming traceparent header (W3C
// Trace Context; tracestate is kept in the span context and forwarded
// unchanged); without one the span starts a trace. The traceparent sent
// upstream, on every attempt, names this span, so the backend's spans are
// its children. The access log's trace_id is the span's trace.
//
// The span is named by the request method ("GET"; "HTTP" for a method
// the conventions do not list), as the OpenTelemetry HTTP server
// conventions say for a server without route templates, and carries
// http.request.method (and http.request.method_original), url.path,
// url.scheme, network.protocol.version, server.address and server.port
// (from Host), client.address, network.peer.address and
// network.peer.port, user_agent.original, and at its end
// http.response.status_code, error.type, and pingora.service,
// pingora.route and pingora.upstream.address. A 5xx response or a request
// ended by an error sets the span status to Error.
//
// # Export
//
// NewOTLPTracer builds one SDK tracer provider per service: a batch span
// processor (the SDK defaults: 5 s or 512 spans per export, a queue of
// 2048, spans dropped when it is full) and an OTLP/HTTP protobuf exporter
// posting to otlp_endpoint's path + /v1/traces, plaintext for http://.
// The resource is service.name = service_name (default "pingora").
// Sampling is parent-based: an incoming traceparent's sampled flag is
// followed, new traces are recorded with probability sample_ratio
// (default 1). An unsampled request still gets span and trace ids, so
// propagation is unchanged. The provider is shut down, flushing what is
// queued (at most 5 s), when the server stops; changing these keys needs
// a restart or graceful upgrade, not a reload.
//
// # Concurrency
//
// A Tracer is safe for concurrent use; each Span belongs to one request.
package otel
