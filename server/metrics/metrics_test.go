package metrics

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// small buckets keep the expected histogram text short.
var testOpts = Options{DurationBuckets: []float64{0.1, 1}, LatencyBuckets: []float64{0.05}}

func newTest(t *testing.T) *Metrics {
	t.Helper()
	m, err := New(testOpts)
	require.NoError(t, err)
	return m
}

func familyNames(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return names
}

func TestNew_RuntimeCollectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want bool
	}{
		{"default", Options{}, true},
		{"NoRuntimeCollectors", Options{NoRuntimeCollectors: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.opts)
			require.NoError(t, err)
			names := familyNames(t, m.Gatherer())
			for _, want := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_open_fds", "process_resident_memory_bytes"} {
				if tc.want {
					assert.Contains(t, names, want)
				} else {
					assert.NotContains(t, names, want)
				}
			}
		})
	}
}

func TestNew_NeverUsesDefaultRegisterer(t *testing.T) {
	m, err := New(Options{})
	require.NoError(t, err)
	m.Request("svc", 200, time.Millisecond)
	for _, n := range familyNames(t, prometheus.DefaultGatherer) {
		assert.False(t, strings.HasPrefix(n, Namespace+"_"), "%s is on the default registry", n)
	}
	assert.Contains(t, familyNames(t, m.Gatherer()), "pingora_requests_total")
}

func TestNew_RegisterTwiceIsAnError(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := New(Options{Registerer: reg})
	require.NoError(t, err)

	_, err = New(Options{Registerer: reg})
	require.Error(t, err)
	assert.Equal(t, "metrics: register pingora_connections_accepted_total: duplicate metrics collector registration attempted", err.Error())
	_, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
	assert.True(t, ok, "wraps prometheus.AlreadyRegisteredError")

	// Another namespace on the same registry is fine, and the process and
	// Go collectors already there are shared.
	m, err := New(Options{Registerer: reg, Namespace: "edge"})
	require.NoError(t, err)
	m.Error("ConnectTimedout")
	assert.Contains(t, familyNames(t, reg), "edge_errors_total")
}

func TestNew_FailureUnregistersWhatItRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	// A collector equal to errors_total, the fifth one New registers.
	clash := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pingora_errors_total", Help: "Errors, by kind (the pingora errors ErrorType name).",
	}, []string{"kind"})
	require.NoError(t, reg.Register(clash))
	_, err := New(Options{Registerer: reg, NoRuntimeCollectors: true})
	require.ErrorContains(t, err, "metrics: register pingora_errors_total: ")

	// Had New left its first four collectors behind, this would fail.
	require.True(t, reg.Unregister(clash))
	_, err = New(Options{Registerer: reg, NoRuntimeCollectors: true})
	require.NoError(t, err)
}

func TestNew_SharesRuntimeCollectorsWithTheRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	_, err := New(Options{Registerer: reg})
	require.NoError(t, err)
	_, err = reg.Gather() // no duplicate families
	require.NoError(t, err)
}

func TestNew_Options(t *testing.T) {
	reg := prometheus.NewRegistry()
	wrapped := prometheus.WrapRegistererWith(prometheus.Labels{"zone": "a"}, reg)
	for _, tc := range []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"Registerer not a Gatherer", Options{Registerer: wrapped},
			"metrics: Options.Gatherer is required when Options.Registerer is not a prometheus.Gatherer"},
		{"Registerer and Gatherer", Options{Registerer: wrapped, Gatherer: reg}, ""},
		{"duration buckets not increasing", Options{DurationBuckets: []float64{1, 1}},
			"metrics: histogram buckets must increase: [1 1]"},
		{"bad namespace", Options{Namespace: "my-proxy", NoRuntimeCollectors: true},
			`metrics: namespace "my-proxy" is not [a-zA-Z_][a-zA-Z0-9_]*`},
		{"const label clashes with a label", Options{ConstLabels: prometheus.Labels{"service": "x"}, NoRuntimeCollectors: true},
			`metrics: register pingora_connections_accepted_total: descriptor Desc{fqName: "pingora_connections_accepted_total", help: "Downstream connections accepted, by service.", unit: "", constLabels: {}, variableLabels: {service}} is invalid: duplicate label names in constant and variable labels for metric "pingora_connections_accepted_total"`},
		{"latency buckets not increasing", Options{LatencyBuckets: []float64{2, 1}},
			"metrics: histogram buckets must increase: [2 1]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.opts)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Same(t, reg, m.Gatherer())
		})
	}
}

func TestNew_ConstLabels(t *testing.T) {
	m, err := New(Options{ConstLabels: prometheus.Labels{"group": "edge"}, NoRuntimeCollectors: true})
	require.NoError(t, err)
	m.Error("ReadError")
	require.NoError(t, testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(`
# HELP pingora_errors_total Errors, by kind (the pingora errors ErrorType name).
# TYPE pingora_errors_total counter
pingora_errors_total{group="edge",kind="ReadError"} 1
`), "pingora_errors_total"))
}

func TestMetrics_Connections(t *testing.T) {
	m := newTest(t)
	m.ConnAccepted("proxy")
	m.ConnAccepted("proxy")
	m.ConnAccepted("admin")
	m.ConnClosed("proxy")
	assert.Equal(t, 2.0, testutil.ToFloat64(m.connsAccepted.WithLabelValues("proxy")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.connsActive.WithLabelValues("proxy")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.connsActive.WithLabelValues("admin")))
	assert.Same(t, m.Service("proxy"), m.Service("proxy"), "handles are cached")
	assert.Equal(t, "proxy", m.Service("proxy").Name())
}

func TestMetrics_RequestStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
	}{
		{200, "200"}, {100, "100"}, {599, "599"}, {404, "404"},
		{0, "0"}, {99, "0"}, {600, "0"}, {-1, "0"}, {1 << 20, "0"},
	} {
		t.Run("status="+strconv.Itoa(tc.status), func(t *testing.T) {
			m := newTest(t)
			m.Request("svc", tc.status, 50*time.Millisecond)
			m.Request("svc", tc.status, 2*time.Second)
			assert.Equal(t, 2.0, testutil.ToFloat64(m.requests.WithLabelValues("svc", tc.code)))
			assert.Equal(t, 1, testutil.CollectAndCount(m.requests), "one series")
		})
	}
}

func TestMetrics_RequestAndDuration(t *testing.T) {
	m := newTest(t)
	s := m.Service("proxy")
	s.Request(200, 20*time.Millisecond)
	s.Request(200, 500*time.Millisecond)
	m.Request("proxy", 502, 3*time.Second)
	require.NoError(t, testutil.CollectAndCompare(m.requests, strings.NewReader(`
# HELP pingora_requests_total Downstream requests answered, by service and response status code (0: no response).
# TYPE pingora_requests_total counter
pingora_requests_total{code="200",service="proxy"} 2
pingora_requests_total{code="502",service="proxy"} 1
`)))
	require.NoError(t, testutil.CollectAndCompare(m.requestDuration, strings.NewReader(`
# HELP pingora_request_duration_seconds Time from a downstream request's arrival to the end of its response, by service.
# TYPE pingora_request_duration_seconds histogram
pingora_request_duration_seconds_bucket{service="proxy",le="0.1"} 1
pingora_request_duration_seconds_bucket{service="proxy",le="1"} 2
pingora_request_duration_seconds_bucket{service="proxy",le="+Inf"} 3
pingora_request_duration_seconds_sum{service="proxy"} 3.52
pingora_request_duration_seconds_count{service="proxy"} 3
`)))
}

func TestMetrics_Errors(t *testing.T) {
	m := newTest(t)
	for _, k := range []string{"ConnectTimedout", "ConnectTimedout", "ReadError", "ConnectTimedout"} {
		m.Error(k)
	}
	require.NoError(t, testutil.CollectAndCompare(m.errors, strings.NewReader(`
# HELP pingora_errors_total Errors, by kind (the pingora errors ErrorType name).
# TYPE pingora_errors_total counter
pingora_errors_total{kind="ConnectTimedout"} 3
pingora_errors_total{kind="ReadError"} 1
`)))
}

func TestMetrics_Upstream(t *testing.T) {
	m := newTest(t)
	u := m.Upstream("origin")
	u.PoolHit()
	u.PoolHit()
	m.PoolMiss("origin")
	m.PoolHit("other")
	u.Latency(10 * time.Millisecond)
	m.UpstreamLatency("origin", 100*time.Millisecond)
	assert.Same(t, u, m.Upstream("origin"))
	assert.Equal(t, 2.0, testutil.ToFloat64(m.poolHits.WithLabelValues("origin")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.poolMisses.WithLabelValues("origin")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.poolHits.WithLabelValues("other")))
	require.NoError(t, testutil.CollectAndCompare(m.upstreamLatency, strings.NewReader(`
# HELP pingora_upstream_latency_seconds Time from sending a request upstream to receiving its response header, by upstream.
# TYPE pingora_upstream_latency_seconds histogram
pingora_upstream_latency_seconds_bucket{upstream="origin",le="0.05"} 1
pingora_upstream_latency_seconds_bucket{upstream="origin",le="+Inf"} 2
pingora_upstream_latency_seconds_sum{upstream="origin"} 0.11
pingora_upstream_latency_seconds_count{upstream="origin"} 2
pingora_upstream_latency_seconds_bucket{upstream="other",le="0.05"} 0
pingora_upstream_latency_seconds_bucket{upstream="other",le="+Inf"} 0
pingora_upstream_latency_seconds_sum{upstream="other"} 0
pingora_upstream_latency_seconds_count{upstream="other"} 0
`)))
}

func TestMetrics_BackendHealth(t *testing.T) {
	m := newTest(t)
	m.BackendHealth("origin", "10.0.0.1:80", true)
	m.BackendHealth("origin", "10.0.0.2:80", true)
	m.BackendHealth("origin", "10.0.0.2:80", false)
	require.NoError(t, testutil.CollectAndCompare(m.backendHealthy, strings.NewReader(`
# HELP pingora_backend_healthy 1 if the backend passes its health check, else 0, by upstream and backend.
# TYPE pingora_backend_healthy gauge
pingora_backend_healthy{backend="10.0.0.1:80",upstream="origin"} 1
pingora_backend_healthy{backend="10.0.0.2:80",upstream="origin"} 0
`)))
	assert.True(t, m.RemoveBackend("origin", "10.0.0.2:80"))
	assert.False(t, m.RemoveBackend("origin", "10.0.0.2:80"))
	assert.Equal(t, 1, testutil.CollectAndCount(m.backendHealthy))
}

// Nil handles are how code holds metrics that are optional.
func TestMetrics_NilRecordsNothing(t *testing.T) {
	var m *Metrics
	assert.NotPanics(t, func() {
		m.ConnAccepted("a")
		m.ConnClosed("a")
		m.Request("a", 200, time.Second)
		m.Error("ReadError")
		m.PoolHit("u")
		m.PoolMiss("u")
		m.UpstreamLatency("u", time.Second)
		m.BackendHealth("u", "b", true)
		assert.False(t, m.RemoveBackend("u", "b"))
		assert.Nil(t, m.Service("a"))
		assert.Nil(t, m.Upstream("u"))
		assert.Equal(t, "", m.Service("a").Name())
		CountingApp(nil, m, "a")
	})
}

// A label value that is not UTF-8 cannot be exported: it is dropped, never
// a panic in the request path.
func TestMetrics_InvalidUTF8LabelIsDropped(t *testing.T) {
	m := newTest(t)
	bad := "\xff\xfe"
	assert.NotPanics(t, func() {
		m.ConnAccepted(bad)
		m.ConnClosed(bad)
		m.Request(bad, 200, time.Second)
		m.Error(bad)
		m.PoolHit(bad)
		m.PoolMiss(bad)
		m.UpstreamLatency(bad, time.Second)
		m.BackendHealth(bad, bad, true)
	})
	for _, c := range []prometheus.Collector{m.connsAccepted, m.requests, m.errors, m.poolHits, m.backendHealthy} {
		assert.Equal(t, 0, testutil.CollectAndCount(c))
	}
	_, err := m.Gatherer().Gather()
	assert.NoError(t, err)
}

func TestMetrics_ConcurrentSafe(t *testing.T) {
	m := newTest(t)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			svc := []string{"a", "b"}[w%2]
			for i := range each {
				m.ConnAccepted(svc)
				m.Request(svc, 200+i%3, time.Millisecond)
				m.Error([]string{"ReadError", "WriteError"}[i%2])
				m.PoolHit("u")
				m.Upstream("u" + strconv.Itoa(w)).PoolMiss() // handles created concurrently
				m.ConnClosed(svc)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, float64(workers/2*each), testutil.ToFloat64(m.connsAccepted.WithLabelValues("a")))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.connsActive.WithLabelValues("b")))
	assert.Equal(t, float64(workers*each/2), testutil.ToFloat64(m.errors.WithLabelValues("WriteError")))
	assert.Equal(t, float64(workers*each), testutil.ToFloat64(m.poolHits.WithLabelValues("u")))
	assert.Equal(t, 6, testutil.CollectAndCount(m.requests))
	assert.Equal(t, float64(each), testutil.ToFloat64(m.poolMisses.WithLabelValues("u7")))
	assert.Equal(t, workers, testutil.CollectAndCount(m.poolMisses)-1, "one series per upstream, plus u")
}
