package metrics

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes the name of every metric this package defines unless
// Options.Namespace says otherwise: pingora_requests_total and so on.
const Namespace = "pingora"

// DefaultBuckets are the upper bounds, in seconds, of the request duration
// and upstream latency histograms when Options leaves them empty: 1 ms to
// 60 s, roughly 1-2.5-5 per decade.
var DefaultBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// Options configures [New]. The zero value is ready to use: a fresh
// registry with the process and Go collectors and the server's metrics.
type Options struct {
	// Registerer receives every collector. If nil, New creates a fresh
	// *prometheus.Registry, which is also the Gatherer. New never falls back
	// to prometheus.DefaultRegisterer: pass it here to use the global
	// registry.
	Registerer prometheus.Registerer
	// Gatherer is what Handler serves. If nil, Registerer, which must then
	// also be a prometheus.Gatherer (a *prometheus.Registry is).
	Gatherer prometheus.Gatherer
	// Namespace prefixes every metric name; it must match
	// [a-zA-Z_][a-zA-Z0-9_]*. If empty, [Namespace] ("pingora").
	Namespace string
	// ConstLabels are added to every metric of this package (not to the
	// process and Go metrics), e.g. {"instance_group": "edge"}. If nil, none.
	ConstLabels prometheus.Labels
	// DurationBuckets are the request duration histogram's upper bounds in
	// seconds. If empty, [DefaultBuckets].
	DurationBuckets []float64
	// LatencyBuckets are the upstream latency histogram's upper bounds in
	// seconds. If empty, [DefaultBuckets].
	LatencyBuckets []float64
	// NoRuntimeCollectors leaves out the process (process_*) and Go (go_*)
	// collectors. If false they are registered; if the registry already has
	// them (prometheus.DefaultRegisterer does), that is not an error.
	NoRuntimeCollectors bool
}

// Metrics holds the server's own collectors. Record through its methods, or
// through the handles of [Metrics.Service] and [Metrics.Upstream], which
// skip the label lookup. A nil *Metrics records nothing, so code can hold
// one that is optional. Every method is safe for concurrent use.
type Metrics struct {
	gatherer prometheus.Gatherer

	connsAccepted   *prometheus.CounterVec
	connsActive     *prometheus.GaugeVec
	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	errors          *prometheus.CounterVec
	upstreamLatency *prometheus.HistogramVec
	poolHits        *prometheus.CounterVec
	poolMisses      *prometheus.CounterVec
	backendHealthy  *prometheus.GaugeVec

	// The caches below are copy-on-write maps: readers load them without a
	// lock or an allocation; writers hold mu and store a new map.
	mu        sync.Mutex
	services  atomic.Pointer[map[string]*Service]
	upstreams atomic.Pointer[map[string]*Upstream]
	kinds     atomic.Pointer[map[string]prometheus.Counter]
}

// New creates the collectors and registers them, with the process and Go
// collectors unless opts.NoRuntimeCollectors. If a collector cannot be
// registered (the same metrics are already on opts.Registerer, typically
// because New was called twice with it), New unregisters what it did
// register and returns an error that wraps the registry's, e.g. a
// prometheus.AlreadyRegisteredError.
func New(opts Options) (*Metrics, error) {
	reg, gat := opts.Registerer, opts.Gatherer
	if reg == nil {
		r := prometheus.NewRegistry()
		reg = r
		if gat == nil {
			gat = r
		}
	}
	if gat == nil {
		g, ok := reg.(prometheus.Gatherer)
		if !ok {
			return nil, errors.New("metrics: Options.Gatherer is required when Options.Registerer is not a prometheus.Gatherer")
		}
		gat = g
	}
	ns := opts.Namespace
	if ns == "" {
		ns = Namespace
	}
	if !validNamespace(ns) {
		return nil, fmt.Errorf("metrics: namespace %q is not [a-zA-Z_][a-zA-Z0-9_]*", ns)
	}
	durB := opts.DurationBuckets
	if len(durB) == 0 {
		durB = DefaultBuckets
	}
	latB := opts.LatencyBuckets
	if len(latB) == 0 {
		latB = DefaultBuckets
	}
	for _, b := range [][]float64{durB, latB} {
		for i := 1; i < len(b); i++ {
			if !(b[i] > b[i-1]) {
				return nil, fmt.Errorf("metrics: histogram buckets must increase: %v", b)
			}
		}
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels,
		}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels,
		}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: name, Help: help, ConstLabels: opts.ConstLabels,
			Buckets: append([]float64(nil), buckets...),
		}, labels)
	}
	m := &Metrics{
		gatherer: gat,
		connsAccepted: counter("connections_accepted_total",
			"Downstream connections accepted, by service.", "service"),
		connsActive: gauge("connections_active",
			"Downstream connections being served, by service.", "service"),
		requests: counter("requests_total",
			"Downstream requests answered, by service and response status code (0: no response).", "service", "code"),
		requestDuration: histogram("request_duration_seconds",
			"Time from a downstream request's arrival to the end of its response, by service.", durB, "service"),
		errors: counter("errors_total",
			"Errors, by kind (the pingora errors ErrorType name).", "kind"),
		upstreamLatency: histogram("upstream_latency_seconds",
			"Time from sending a request upstream to receiving its response header, by upstream.", latB, "upstream"),
		poolHits: counter("upstream_pool_hits_total",
			"Upstream connections reused from the pool, by upstream.", "upstream"),
		poolMisses: counter("upstream_pool_misses_total",
			"Upstream connections dialled because the pool had none to reuse, by upstream.", "upstream"),
		backendHealthy: gauge("backend_healthy",
			"1 if the backend passes its health check, else 0, by upstream and backend.", "upstream", "backend"),
	}
	m.services.Store(&map[string]*Service{})
	m.upstreams.Store(&map[string]*Upstream{})
	m.kinds.Store(&map[string]prometheus.Counter{})

	type named struct {
		name string
		c    prometheus.Collector
	}
	own := []named{
		{"connections_accepted_total", m.connsAccepted},
		{"connections_active", m.connsActive},
		{"requests_total", m.requests},
		{"request_duration_seconds", m.requestDuration},
		{"errors_total", m.errors},
		{"upstream_latency_seconds", m.upstreamLatency},
		{"upstream_pool_hits_total", m.poolHits},
		{"upstream_pool_misses_total", m.poolMisses},
		{"backend_healthy", m.backendHealthy},
	}
	var done []prometheus.Collector
	undo := func() {
		for _, c := range done {
			reg.Unregister(c)
		}
	}
	for _, n := range own {
		if err := reg.Register(n.c); err != nil {
			undo()
			return nil, fmt.Errorf("metrics: register %s_%s: %w", ns, n.name, err)
		}
		done = append(done, n.c)
	}
	if !opts.NoRuntimeCollectors {
		runtime := []named{
			{"process collector", collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})},
			{"go collector", collectors.NewGoCollector()},
		}
		for _, n := range runtime {
			err := reg.Register(n.c)
			if _, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
				continue // the registry has them already: one per process is enough
			}
			if err != nil {
				undo()
				return nil, fmt.Errorf("metrics: register %s: %w", n.name, err)
			}
			done = append(done, n.c)
		}
	}
	return m, nil
}

// validNamespace reports whether ns is a metric name prefix every
// scraper accepts unquoted.
func validNamespace(ns string) bool {
	for i, r := range ns {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// Gatherer returns what [Metrics.Handler] serves: Options.Gatherer, or the
// registry New used.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.gatherer }

// Service returns the handle that records a downstream service's metrics,
// creating it on first use. Keep it: its methods do no lookup at all.
// A nil *Metrics returns a nil *Service, which records nothing.
func (m *Metrics) Service(name string) *Service {
	if m == nil {
		return nil
	}
	if s, ok := (*m.services.Load())[name]; ok {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.services.Load()
	if s, ok := old[name]; ok {
		return s
	}
	s := &Service{m: m, name: name}
	// A label value that is not valid UTF-8 cannot be exported: such a
	// service records nothing rather than panicking.
	if c, err := m.connsAccepted.GetMetricWithLabelValues(name); err == nil {
		s.accepted = c
		s.active = m.connsActive.WithLabelValues(name)
		s.duration = m.requestDuration.WithLabelValues(name)
	}
	next := make(map[string]*Service, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = s
	m.services.Store(&next)
	return s
}

// Upstream returns the handle that records an upstream's metrics, creating
// it on first use. name is the upstream group (as a load balancer names
// it), not one backend's address: every distinct name is a time series.
// A nil *Metrics returns a nil *Upstream, which records nothing.
func (m *Metrics) Upstream(name string) *Upstream {
	if m == nil {
		return nil
	}
	if u, ok := (*m.upstreams.Load())[name]; ok {
		return u
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.upstreams.Load()
	if u, ok := old[name]; ok {
		return u
	}
	u := &Upstream{}
	if c, err := m.poolHits.GetMetricWithLabelValues(name); err == nil {
		u.hits = c
		u.misses = m.poolMisses.WithLabelValues(name)
		u.latency = m.upstreamLatency.WithLabelValues(name)
	}
	next := make(map[string]*Upstream, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = u
	m.upstreams.Store(&next)
	return u
}

// ConnAccepted records a downstream connection accepted by service svc:
// connections accepted and active both go up by one.
func (m *Metrics) ConnAccepted(svc string) { m.Service(svc).ConnAccepted() }

// ConnClosed records the end of a connection [Metrics.ConnAccepted]
// recorded: connections active goes down by one.
func (m *Metrics) ConnClosed(svc string) { m.Service(svc).ConnClosed() }

// Request records a request service svc answered with status after dur:
// requests_total{service, code} goes up by one and dur is observed in
// request_duration_seconds. A status outside 100-599 is counted as code
// "0", meaning no response was sent (the request failed before one).
func (m *Metrics) Request(svc string, status int, dur time.Duration) {
	m.Service(svc).Request(status, dur)
}

// Error counts one error of the given kind, the name of a pingora errors
// ErrorType such as "ConnectTimedout" (perr.ConnectTimedout.String()).
// Kinds should come from a fixed set: each is a time series.
func (m *Metrics) Error(kind string) {
	if m == nil {
		return
	}
	if c, ok := (*m.kinds.Load())[kind]; ok {
		c.Inc()
		return
	}
	m.errorSlow(kind)
}

func (m *Metrics) errorSlow(kind string) {
	m.mu.Lock()
	old := *m.kinds.Load()
	c, ok := old[kind]
	if !ok {
		var err error
		if c, err = m.errors.GetMetricWithLabelValues(kind); err != nil {
			m.mu.Unlock()
			return // not valid UTF-8: cannot be exported
		}
		next := make(map[string]prometheus.Counter, len(old)+1)
		for k, v := range old {
			next[k] = v
		}
		next[kind] = c
		m.kinds.Store(&next)
	}
	m.mu.Unlock()
	c.Inc()
}

// PoolHit records an upstream connection reused from the pool.
func (m *Metrics) PoolHit(upstream string) { m.Upstream(upstream).PoolHit() }

// PoolMiss records an upstream connection dialled because the pool had
// none to reuse.
func (m *Metrics) PoolMiss(upstream string) { m.Upstream(upstream).PoolMiss() }

// UpstreamLatency observes d, the time from sending a request upstream to
// receiving its response header, in upstream_latency_seconds.
func (m *Metrics) UpstreamLatency(upstream string, d time.Duration) {
	m.Upstream(upstream).Latency(d)
}

// BackendHealth sets backend_healthy{upstream, backend} to 1 if healthy,
// else 0. Health checks run seldom, so this looks the series up each time.
// Call [Metrics.RemoveBackend] when a backend leaves the upstream.
func (m *Metrics) BackendHealth(upstream, backend string, healthy bool) {
	if m == nil {
		return
	}
	g, err := m.backendHealthy.GetMetricWithLabelValues(upstream, backend)
	if err != nil {
		return // not valid UTF-8: cannot be exported
	}
	if healthy {
		g.Set(1)
	} else {
		g.Set(0)
	}
}

// RemoveBackend deletes the backend_healthy series of a backend and
// reports whether there was one.
func (m *Metrics) RemoveBackend(upstream, backend string) bool {
	if m == nil {
		return false
	}
	return m.backendHealthy.DeleteLabelValues(upstream, backend)
}

// Service records the metrics of one downstream service, with every label
// already resolved; get it from [Metrics.Service]. A nil *Service records
// nothing. Its methods are safe for concurrent use.
type Service struct {
	m        *Metrics
	name     string
	accepted prometheus.Counter // nil if name cannot be a label value
	active   prometheus.Gauge
	duration prometheus.Observer
	// codes[i] is requests_total{code=i}, created on first use; codes[0]
	// stands for every status outside 100-599.
	codes [600]atomic.Pointer[counterRef]
}

type counterRef struct{ c prometheus.Counter }

// Name returns the service's name, the value of its "service" label.
func (s *Service) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// ConnAccepted records an accepted connection: connections accepted and
// active both go up by one.
func (s *Service) ConnAccepted() {
	if s == nil || s.accepted == nil {
		return
	}
	s.accepted.Inc()
	s.active.Inc()
}

// ConnClosed records the end of a connection ConnAccepted recorded:
// connections active goes down by one.
func (s *Service) ConnClosed() {
	if s == nil || s.accepted == nil {
		return
	}
	s.active.Dec()
}

// Request records a request answered with status after dur, as
// [Metrics.Request] does.
func (s *Service) Request(status int, dur time.Duration) {
	if s == nil || s.accepted == nil {
		return
	}
	if status < 100 || status > 599 {
		status = 0
	}
	r := s.codes[status].Load()
	if r == nil {
		r = &counterRef{c: s.m.requests.WithLabelValues(s.name, strconv.Itoa(status))}
		if !s.codes[status].CompareAndSwap(nil, r) {
			r = s.codes[status].Load() // the same child: the vec returns one per label set
		}
	}
	r.c.Inc()
	s.duration.Observe(dur.Seconds())
}

// Upstream records the metrics of one upstream, with every label already
// resolved; get it from [Metrics.Upstream]. A nil *Upstream records
// nothing. Its methods are safe for concurrent use.
type Upstream struct {
	hits    prometheus.Counter // nil if the name cannot be a label value
	misses  prometheus.Counter
	latency prometheus.Observer
}

// PoolHit records an upstream connection reused from the pool.
func (u *Upstream) PoolHit() {
	if u == nil || u.hits == nil {
		return
	}
	u.hits.Inc()
}

// PoolMiss records an upstream connection dialled because the pool had
// none to reuse.
func (u *Upstream) PoolMiss() {
	if u == nil || u.hits == nil {
		return
	}
	u.misses.Inc()
}

// Latency observes d, the time from sending a request upstream to
// receiving its response header.
func (u *Upstream) Latency(d time.Duration) {
	if u == nil || u.hits == nil {
		return
	}
	u.latency.Observe(d.Seconds())
}
