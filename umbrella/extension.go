package umbrella

import (
	"context"

	"github.com/pingora-go/pingora/proxy"
)

// Extensions are features a binary built from another module adds to
// the pingora binary, so that their dependencies stay out of the default
// build. The zero value is the default binary; package
// github.com/pingora-go/pingora/umbrella/otel returns the OpenTelemetry
// one.
type Extensions struct {
	// Tracing, if not nil, builds the Tracer of each service whose
	// tracing section sets otlp_endpoint (conf is that section, with
	// defaults applied). It is called once per such service when the
	// server is built, and for -t; the Tracer lives until the server
	// stops, when its Shutdown is called. A reload that changes the
	// section logs that the change needs a graceful upgrade. If nil,
	// otlp_endpoint draws a startup warning and spans are not exported.
	Tracing func(service string, conf Tracing) (Tracer, error)
}

// Tracer opens a span for each request of a service. It must be safe for
// concurrent use.
type Tracer interface {
	// StartRequest is called once per request, when its header has been
	// read and before the rate limit and routing. The request, client
	// address and context are s's. The Span is ended once, by End, when
	// the request is done (after the response, or after an error).
	StartRequest(s *proxy.Session) Span
	// Shutdown flushes the spans not yet exported and stops the tracer;
	// it is called once, when the server stops (or -t ends).
	Shutdown(ctx context.Context) error
}

// Span is one request's span, used by one request's goroutine.
type Span interface {
	// Traceparent returns the W3C traceparent header sent upstream: the
	// span's trace and span id. Called before each upstream attempt.
	Traceparent() string
	// TraceID returns the trace id (32 lower-case hex digits) written to
	// the access log as trace_id.
	TraceID() string
	// End ends the span.
	End(r SpanEnd)
}

// SpanEnd is how a request ended, for Span.End.
type SpanEnd struct {
	// Status is the status code sent to the client; 0 if none was.
	Status int
	// Route is the route's label: its upstream name, "respond", or
	// "none" when no route matched.
	Route string
	// Upstream is the backend that served the request ("host:port" or
	// "unix:/path"); empty if none was chosen.
	Upstream string
	// Err is the error that ended the request, or nil.
	Err error
}

// MainWith is Main with extensions: a binary that links them calls
// os.Exit(umbrella.MainWith(os.Args, ext)).
func MainWith(args []string, ext Extensions) int {
	return runWith(context.Background(), args, ext, nil, nil, nil)
}
