package otel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/umbrella"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope name of the spans.
const ScopeName = "github.com/pingora-go/pingora/umbrella/otel"

// Attribute keys of the spans that no OpenTelemetry semantic convention
// names.
const (
	// ServiceKey is the umbrella service that served the request.
	ServiceKey = attribute.Key("pingora.service")
	// RouteKey is the route's label: its upstream name, "respond" or
	// "none".
	RouteKey = attribute.Key("pingora.route")
	// UpstreamKey is the backend that served the request ("host:port"
	// or "unix:/path").
	UpstreamKey = attribute.Key("pingora.upstream.address")
)

// Extensions returns the umbrella extensions of this package: services
// with tracing.otlp_endpoint export their spans with NewOTLPTracer.
func Extensions() umbrella.Extensions {
	return umbrella.Extensions{Tracing: NewOTLPTracer}
}

// NewOTLPTracer returns the Tracer of service for its tracing section: an
// SDK tracer provider whose batch span processor exports over OTLP/HTTP
// (protobuf) to conf.OTLPEndpoint's path + /v1/traces (plaintext for
// http://, each request bounded by ExportTimeout), with resource
// service.name conf.ServiceName and a parent-based sampler of ratio
// conf.SampleRatio. The OTEL_EXPORTER_OTLP_HEADERS and _COMPRESSION
// environment variables apply; the certificate and timeout ones do not
// (the exporter uses its own HTTP client, whose idle connections Shutdown
// closes).
func NewOTLPTracer(service string, conf umbrella.Tracing) (umbrella.Tracer, error) {
	u, err := url.Parse(conf.OTLPEndpoint)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("otel: otlp_endpoint %q is not an http:// or https:// URL", conf.OTLPEndpoint)
	}
	// An own transport, so that Shutdown can close its idle connections.
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	opts := []otlptracehttp.Option{
		otlptracehttp.WithHTTPClient(&http.Client{Transport: transport, Timeout: ExportTimeout}),
		otlptracehttp.WithEndpoint(u.Host),
		otlptracehttp.WithURLPath(strings.TrimSuffix(u.Path, "/") + "/v1/traces"),
	}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, fmt.Errorf("otel: otlp exporter: %w", err)
	}
	name := conf.ServiceName
	if name == "" {
		name = umbrella.DefaultTracingServiceName
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(conf.SampleRatio))),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name))),
	)
	t := newTracer(tp, service)
	t.closeIdle = transport.CloseIdleConnections
	return t, nil
}

// ExportTimeout bounds one OTLP/HTTP export request.
const ExportTimeout = 10 * time.Second

// NewTracer returns a Tracer whose spans tp records, for service; its
// Shutdown calls tp's Shutdown(ctx) error method if tp has one (as
// *sdktrace.TracerProvider does). Use it to export elsewhere than
// OTLP/HTTP:
//
//	ext := umbrella.Extensions{Tracing: func(svc string, _ umbrella.Tracing) (umbrella.Tracer, error) {
//		return otel.NewTracer(myProvider, svc), nil
//	}}
func NewTracer(tp trace.TracerProvider, service string) umbrella.Tracer {
	return newTracer(tp, service)
}

func newTracer(tp trace.TracerProvider, service string) *tracer {
	return &tracer{
		tp:      tp,
		t:       tp.Tracer(ScopeName),
		service: ServiceKey.String(service),
	}
}

type tracer struct {
	tp      trace.TracerProvider
	t       trace.Tracer
	service attribute.KeyValue
	prop    propagation.TraceContext
	// closeIdle, if not nil, closes the exporter's idle connections.
	closeIdle func()
}

// StartRequest opens the request's server span, child of the remote span
// of a valid traceparent header.
func (t *tracer) StartRequest(s *proxy.Session) umbrella.Span {
	req := s.Request()
	ctx := t.prop.Extract(s.Context(), carrier{req})
	method, known := knownMethod(req.Method())
	name := method
	attrs := make([]attribute.KeyValue, 0, 12)
	if known {
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String(method))
	} else {
		name = "HTTP"
		attrs = append(attrs, semconv.HTTPRequestMethodKey.String("_OTHER"), semconv.HTTPRequestMethodOriginal(req.Method()))
	}
	scheme := "http"
	if s.TLS() != nil {
		scheme = "https"
	}
	version := "1.1"
	if s.IsHTTP2() {
		version = "2"
	}
	attrs = append(attrs, t.service, semconv.URLPath(req.Path()), semconv.URLScheme(scheme), semconv.NetworkProtocolVersion(version))
	if host, port, ok := splitHost(hostHeader(req)); ok {
		attrs = append(attrs, semconv.ServerAddress(host))
		if port > 0 {
			attrs = append(attrs, semconv.ServerPort(port))
		}
	}
	if ap, ok := addrPort(s.ClientAddr()); ok {
		ip := ap.Addr().Unmap().String()
		attrs = append(attrs, semconv.NetworkPeerAddress(ip), semconv.NetworkPeerPort(int(ap.Port())), semconv.ClientAddress(ip))
	}
	if ua := req.Get("User-Agent"); ua != "" {
		attrs = append(attrs, semconv.UserAgentOriginal(ua))
	}
	_, span := t.t.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	return &reqSpan{span: span}
}

// Shutdown flushes and stops the tracer provider.
func (t *tracer) Shutdown(ctx context.Context) error {
	var err error
	if sd, ok := t.tp.(interface{ Shutdown(context.Context) error }); ok {
		err = sd.Shutdown(ctx)
	}
	if t.closeIdle != nil {
		t.closeIdle()
	}
	return err
}

type reqSpan struct {
	span trace.Span
}

// Traceparent returns the span's context as a version 00 traceparent.
func (r *reqSpan) Traceparent() string {
	sc := r.span.SpanContext()
	return "00-" + sc.TraceID().String() + "-" + sc.SpanID().String() + "-" + sc.TraceFlags().String()
}

func (r *reqSpan) TraceID() string { return r.span.SpanContext().TraceID().String() }

// End sets the response attributes and the status (an error for a 5xx
// or a request ended by an error, as the HTTP server conventions say)
// and ends the span.
func (r *reqSpan) End(e umbrella.SpanEnd) {
	sp := r.span
	if sp.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 4)
		if e.Status > 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(e.Status))
		}
		if e.Route != "" {
			attrs = append(attrs, RouteKey.String(e.Route))
		}
		if e.Upstream != "" {
			attrs = append(attrs, UpstreamKey.String(e.Upstream))
		}
		switch {
		case e.Err != nil:
			attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(e.Err, e.Status)))
			sp.RecordError(e.Err)
			sp.SetStatus(codes.Error, e.Err.Error())
		case e.Status >= 500:
			attrs = append(attrs, semconv.ErrorTypeKey.String(strconv.Itoa(e.Status)))
			sp.SetStatus(codes.Error, "")
		}
		sp.SetAttributes(attrs...)
	}
	sp.End()
}

// errorType names an error for error.type: the status code of a 5xx
// response, else the error's Go type.
func errorType(err error, status int) string {
	if status >= 500 {
		return strconv.Itoa(status)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return fmt.Sprintf("%T", err)
}

// carrier reads a request header for the W3C propagator.
type carrier struct{ h *httpheader.RequestHeader }

func (c carrier) Get(key string) string { return c.h.Get(key) }
func (c carrier) Set(string, string)    {}
func (c carrier) Keys() []string        { return nil }

// knownMethod reports whether m is one of the methods the HTTP
// conventions name (RFC 9110 and PATCH).
func knownMethod(m string) (string, bool) {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH":
		return m, true
	}
	return m, false
}

func hostHeader(req *httpheader.RequestHeader) string {
	if h := req.Get("Host"); h != "" {
		return h
	}
	return req.Get(":authority")
}

// splitHost splits a Host header into its host and port (0 if none).
func splitHost(h string) (string, int, bool) {
	if h == "" {
		return "", 0, false
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		p, err := strconv.Atoi(port)
		if err != nil || p < 0 || p > 65535 {
			return host, 0, true
		}
		return host, p, true
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"), 0, true
}

func addrPort(a net.Addr) (netip.AddrPort, bool) {
	switch a := a.(type) {
	case *net.TCPAddr:
		if a == nil {
			return netip.AddrPort{}, false
		}
		return a.AddrPort(), true
	case nil:
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(a.String())
	return ap, err == nil
}
