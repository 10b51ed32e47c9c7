package metrics

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func benchMetrics(b *testing.B) *Metrics {
	b.Helper()
	m, err := New(Options{NoRuntimeCollectors: true})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// The hot-path methods: with a cached handle (Service, Upstream), and by
// name, which looks the handle up in a lock-free map. All should be 0 allocs.
func BenchmarkMetrics_HotPath(b *testing.B) {
	m := benchMetrics(b)
	s := m.Service("proxy")
	u := m.Upstream("origin")
	s.Request(200, time.Millisecond)
	m.Error("ConnectTimedout")
	for _, bc := range []struct {
		name string
		f    func()
	}{
		{"Service.ConnAccepted+ConnClosed", func() { s.ConnAccepted(); s.ConnClosed() }},
		{"Service.Request", func() { s.Request(200, time.Millisecond) }},
		{"Upstream.PoolHit", u.PoolHit},
		{"Upstream.Latency", func() { u.Latency(time.Millisecond) }},
		{"ConnAccepted+ConnClosed", func() { m.ConnAccepted("proxy"); m.ConnClosed("proxy") }},
		{"Request", func() { m.Request("proxy", 200, time.Millisecond) }},
		{"Error", func() { m.Error("ConnectTimedout") }},
		{"PoolHit", func() { m.PoolHit("origin") }},
		{"nil.Request", func() { (*Metrics)(nil).Request("proxy", 200, time.Millisecond) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.f()
			}
		})
	}
}

// The same calls from every P at once.
func BenchmarkMetrics_HotPathParallel(b *testing.B) {
	m := benchMetrics(b)
	s := m.Service("proxy")
	b.Run("Service.Request", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Request(200, time.Millisecond)
			}
		})
	})
	b.Run("Request", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Request("proxy", 200, time.Millisecond)
			}
		})
	})
}

// Baseline: client_golang's own label lookup, which the cached handles
// avoid.
func BenchmarkCounterVec_WithLabelValues(b *testing.B) {
	m := benchMetrics(b)
	m.requests.WithLabelValues("proxy", "200")
	b.ReportAllocs()
	for b.Loop() {
		m.requests.WithLabelValues("proxy", strconv.Itoa(200)).Inc()
	}
}

// A scrape of n services with a few status codes each.
func BenchmarkMetrics_Scrape(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run("services="+strconv.Itoa(n), func(b *testing.B) {
			m := benchMetrics(b)
			for i := range n {
				s := m.Service("svc" + strconv.Itoa(i))
				for _, code := range []int{200, 404, 502} {
					s.Request(code, time.Millisecond)
				}
			}
			h := m.Handler()
			req := httptest.NewRequest("GET", "/metrics", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
			}
		})
	}
}
