package umbrella

import (
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pingora-go/pingora/balancer"
	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/limits"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/metrics"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// compiledService is one generation of a service's request handling:
// what SIGHUP swaps. Requests keep the generation they started with.
type compiledService struct {
	name     string
	routes   []compiledRoute
	headers  Headers
	limit    *rateLimit
	access   *slog.Logger // nil: off
	compress int          // compression level, 0: off
	trace    bool         // W3C traceparent propagation
}

type compiledRoute struct {
	host    string // lower case; "" any; "*.x" suffix
	sni     string // tcp services: as host, for the TLS server name
	prefix  string
	up      *upstreamRT
	respond *Respond
	label   string // metrics label: upstream name or "respond"
}

// rateLimit is a service's rate limit.
type rateLimit struct {
	conf RateLimit
	rate *limits.Rate
}

// reqCtx is the per-request context of the proxy's hooks.
type reqCtx struct {
	svc       *compiledService
	route     *compiledRoute
	backend   *balancer.Backend
	acquired  bool
	tried     []*balancer.Backend
	start     time.Time
	upStart   time.Time
	remaining int // rate limit budget left, -1 without a limit
	trace     traceContext
	span      Span // the service tracer's span; nil without one
}

// svcApp is one proxy service: the proxy and its current generation.
type svcApp struct {
	name      string
	cur       atomic.Pointer[compiledService]
	metrics   *metrics.Service
	routeReqs *prometheus.CounterVec
	px        *proxy.Proxy[reqCtx]
	tracer    Tracer // nil: no span export (Extensions.Tracing)
}

// hooks wires the service's phases.
func (a *svcApp) hooks() proxy.Hooks[reqCtx] {
	return proxy.Hooks[reqCtx]{
		EarlyRequestFilter: func(s *proxy.Session, c *reqCtx) error {
			c.svc = a.cur.Load()
			c.start = time.Now()
			c.remaining = -1
			if c.svc.compress > 0 {
				s.SetCompressionLevel(c.svc.compress)
			}
			if a.tracer != nil {
				c.span = a.tracer.StartRequest(s)
			} else if c.svc.trace {
				c.trace = newTraceContext(s.Request())
			}
			return nil
		},
		RequestFilter:         a.requestFilter,
		UpstreamPeer:          a.upstreamPeer,
		FailToConnect:         a.failToConnect,
		ConnectedToUpstream:   a.connected,
		UpstreamRequestFilter: a.upstreamRequestFilter,
		ErrorWhileProxy: func(s *proxy.Session, p *peer.Peer, err *perr.Error, c *reqCtx, _ bool) *perr.Error {
			err = proxy.DefaultErrorWhileProxy(s, p, err)
			if c.route != nil && c.route.up != nil && s.Attempts() > c.route.up.conf.Retries {
				err.SetRetry(false)
			}
			if err.Retry() && c.backend != nil {
				c.tried = append(c.tried, c.backend)
			}
			return err
		},
		ResponseFilter: a.responseFilter,
		Logging:        a.logging,
	}
}

// requestFilter applies the rate limit, matches the route and answers
// respond routes.
func (a *svcApp) requestFilter(s *proxy.Session, c *reqCtx) (bool, error) {
	svc := c.svc
	if rl := svc.limit; rl != nil {
		key := limitKey(s, rl.conf.Key)
		n := rl.rate.Observe(key, 1)
		if n > int64(rl.conf.PerSecond) {
			return true, a.respond(s, c, http429(rl.conf.PerSecond))
		}
		c.remaining = rl.conf.PerSecond - int(n)
	}
	host := requestHost(s.Request())
	path := s.Request().Path()
	for i := range svc.routes {
		r := &svc.routes[i]
		if r.matches(host, path) {
			c.route = r
			break
		}
	}
	switch {
	case c.route == nil:
		return true, a.respond(s, c, &Respond{Status: 404, Body: "no route\n"})
	case c.route.respond != nil:
		return true, a.respond(s, c, c.route.respond)
	}
	return false, nil
}

func http429(limit int) *Respond {
	return &Respond{Status: 429, Headers: []KV{
		{Name: "X-Rate-Limit-Limit", Value: strconv.Itoa(limit)},
		{Name: "X-Rate-Limit-Remaining", Value: "0"},
		{Name: "X-Rate-Limit-Reset", Value: "1"},
	}}
}

// respond writes a fixed response, with the service's response headers.
func (a *svcApp) respond(s *proxy.Session, c *reqCtx, r *Respond) error {
	resp, err := httpheader.NewResponse(r.Status)
	if err != nil {
		return perr.Because(perr.InternalError, "umbrella: respond", err).AsIn()
	}
	for _, kv := range r.Headers {
		_ = resp.Set(kv.Name, kv.Value)
	}
	if r.Body != "" && !resp.Has("Content-Type") {
		_ = resp.Set("Content-Type", "text/plain; charset=utf-8")
	}
	applyResponseHeaders(resp, &c.svc.headers, c.remaining, c.svc.limit)
	_ = resp.SetContentLength(int64(len(r.Body)))
	head := s.Request().Method() == "HEAD"
	if err := s.WriteResponseHeader(resp, r.Body == "" || head); err != nil {
		return err
	}
	if r.Body != "" && !head {
		return s.WriteResponseBody([]byte(r.Body), true)
	}
	return nil
}

func (r *compiledRoute) matches(host, path string) bool {
	return (r.host == "" || matchHost(r.host, host)) && strings.HasPrefix(path, r.prefix)
}

// matchHost reports whether a lower-case host name matches a route's
// pattern: the same name, or for "*.example.com" any subdomain of
// example.com.
func matchHost(pattern, host string) bool {
	if strings.HasPrefix(pattern, "*.") {
		return strings.HasSuffix(host, pattern[1:])
	}
	return pattern == host
}

// requestHost returns the request's host, lower case, without port.
func requestHost(req *httpheader.RequestHeader) string {
	h := req.Get("Host")
	if h == "" {
		h = req.Get(":authority")
	}
	if h == "" {
		return ""
	}
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			h = h[1:i]
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return strings.ToLower(h)
}

// limitKey returns what a rate limit counts a request by.
func limitKey(s *proxy.Session, key string) string {
	if name, ok := strings.CutPrefix(key, "header:"); ok {
		return s.Request().Get(name)
	}
	return clientIP(s)
}

// upstreamPeer picks a backend: the balancer's choice on the first
// attempt, then one not yet tried.
func (a *svcApp) upstreamPeer(s *proxy.Session, c *reqCtx) (*peer.Peer, error) {
	up := c.route.up
	if c.upStart.IsZero() {
		c.upStart = time.Now()
	}
	a.release(c)
	b, acquired, ok := up.pick(up.key(s), c.tried)
	if !ok {
		return nil, perr.Explain(perr.HTTPStatus(502), "umbrella: upstream "+up.conf.Name+" has no ready peer").AsUp()
	}
	c.backend, c.acquired = b, acquired
	return b.Ext.(*peer.Peer), nil
}

// pick chooses a backend for key: the balancer's choice when none was
// tried yet, else the first candidate not in tried. acquired reports a
// least_conn count taken, to be released when the backend is done with.
func (up *upstreamRT) pick(key []byte, tried []*balancer.Backend) (b *balancer.Backend, acquired, ok bool) {
	if len(tried) == 0 {
		if up.leastConn {
			b, ok = up.lb.Acquire(key)
			return b, ok, ok
		}
		b, ok = up.lb.Select(key)
		return b, false, ok
	}
	for cand := range up.lb.Candidates(key) {
		if !wasTried(tried, cand) {
			if up.leastConn {
				up.lb.AcquireBackend(cand)
			}
			return cand, up.leastConn, true
		}
	}
	return nil, false, false
}

func wasTried(list []*balancer.Backend, b *balancer.Backend) bool {
	for _, t := range list {
		if t.Addr == b.Addr && t.Unix == b.Unix {
			return true
		}
	}
	return false
}

// release ends the least-connections count of the current backend.
func (a *svcApp) release(c *reqCtx) {
	if c.acquired && c.backend != nil {
		c.route.up.lb.Release(c.backend)
		c.acquired = false
	}
}

func (a *svcApp) failToConnect(s *proxy.Session, p *peer.Peer, c *reqCtx, err *perr.Error) *perr.Error {
	if c.backend != nil {
		c.route.up.lb.ReportFailure(c.backend)
		c.tried = append(c.tried, c.backend)
	}
	if s.Attempts() > c.route.up.conf.Retries {
		err.SetRetry(false)
	}
	return err
}

func (a *svcApp) connected(s *proxy.Session, reused bool, p *peer.Peer, c *reqCtx) error {
	if m := c.route.up.metrics; reused {
		m.PoolHit()
	} else {
		m.PoolMiss()
	}
	return nil
}

func (a *svcApp) upstreamRequestFilter(s *proxy.Session, req *httpheader.RequestHeader, c *reqCtx) error {
	if c.span != nil {
		if err := req.Set("traceparent", c.span.Traceparent()); err != nil {
			return perr.Because(perr.InternalError, "umbrella: set traceparent", err).AsIn()
		}
	} else if c.svc.trace {
		if err := req.Set("traceparent", c.trace.header()); err != nil {
			return perr.Because(perr.InternalError, "umbrella: set traceparent", err).AsIn()
		}
	}
	h := &c.svc.headers
	for _, n := range h.RequestRemove {
		for req.Del(n) {
		}
	}
	for _, kv := range h.RequestSet {
		if err := req.Set(kv.Name, kv.Value); err != nil {
			return perr.Because(perr.InternalError, "umbrella: set request header "+kv.Name, err).AsIn()
		}
	}
	return nil
}

// responseFilter applies the response headers.
func (a *svcApp) responseFilter(s *proxy.Session, resp *httpheader.ResponseHeader, c *reqCtx) error {
	if resp.Status() < 200 {
		return nil
	}
	applyResponseHeaders(resp, &c.svc.headers, c.remaining, c.svc.limit)
	return nil
}

func applyResponseHeaders(resp *httpheader.ResponseHeader, h *Headers, remaining int, rl *rateLimit) {
	for _, n := range h.ResponseRemove {
		for resp.Del(n) {
		}
	}
	for _, kv := range h.ResponseSet {
		_ = resp.Set(kv.Name, kv.Value)
	}
	if rl != nil && remaining >= 0 {
		_ = resp.Set("X-Rate-Limit-Limit", strconv.Itoa(rl.conf.PerSecond))
		_ = resp.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	}
}

// logging records metrics and the access log line.
func (a *svcApp) logging(s *proxy.Session, err error, c *reqCtx) {
	a.release(c)
	if c.svc == nil {
		c.svc = a.cur.Load()
		c.start = time.Now()
	}
	status := s.Status()
	now := time.Now()
	t := s.Timings()
	start := t.RequestHeader
	if start.IsZero() {
		start = c.start
	}
	total := now.Sub(start)
	a.metrics.Request(status, total)
	route := "none"
	var upLatency time.Duration
	upstream := ""
	if c.route != nil {
		route = c.route.label
		if c.route.up != nil && c.backend != nil {
			upstream = c.backend.String()
			if !t.UpstreamResponseHeader.IsZero() {
				upLatency = t.UpstreamResponseHeader.Sub(c.upStart)
				c.route.up.metrics.Latency(upLatency)
			}
			if err == nil {
				c.route.up.lb.ReportSuccess(c.backend)
			}
		}
	}
	if cv, e := a.routeReqs.GetMetricWithLabelValues(a.name, route, strconv.Itoa(status)); e == nil {
		cv.Inc()
	}
	if c.span != nil {
		c.span.End(SpanEnd{Status: status, Route: route, Upstream: upstream, Err: err})
	}
	if c.svc.access == nil {
		return
	}
	req := s.Request()
	attrs := []slog.Attr{
		slog.String("service", a.name),
		slog.String("client", clientIP(s)),
		slog.String("method", req.Method()),
		slog.String("host", req.Get("Host")),
		slog.String("path", req.Path()),
		slog.Int("status", status),
		slog.Int64("bytes_in", s.RequestBodyBytes()),
		slog.Int64("bytes_out", s.ResponseBodyBytes()),
		slog.String("upstream", upstream),
		slog.Duration("upstream_latency", upLatency),
		slog.Duration("latency", total),
	}
	if c.span != nil {
		attrs = append(attrs, slog.String("trace_id", c.span.TraceID()))
	} else if c.svc.trace {
		attrs = append(attrs, slog.String("trace_id", c.trace.traceID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.svc.access.LogAttrs(s.Context(), slog.LevelInfo, "request", attrs...)
}
