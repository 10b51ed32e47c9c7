package umbrella

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTracer records what the hooks call.
type fakeTracer struct {
	mu       sync.Mutex
	started  []string // request paths
	ended    []SpanEnd
	shutdown int
}

type fakeSpan struct {
	t *fakeTracer
}

func (f *fakeTracer) StartRequest(s *proxy.Session) Span {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, s.Request().Path())
	return fakeSpan{f}
}

func (f *fakeTracer) Shutdown(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shutdown++
	return nil
}

func (s fakeSpan) Traceparent() string {
	return "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
}
func (s fakeSpan) TraceID() string { return "0af7651916cd43dd8448eb211c80319c" }
func (s fakeSpan) End(e SpanEnd) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	s.t.ended = append(s.t.ended, e)
}

func (f *fakeTracer) endedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ended)
}

// TestExtensions_Tracing runs the server with a Tracer: it is built per
// service with otlp_endpoint, opens and ends a span per request, its
// traceparent goes upstream and its trace id to the access log, and
// Shutdown is called when the server stops.
func TestExtensions_Tracing(t *testing.T) {
	a := origin(t, "a")
	dir := t.TempDir()
	web := freePort(t)
	cfg := "upgrade_sock: " + dir + "/u.sock\npid_file: " + dir + "/p.pid\nservices:\n" +
		"  - name: web\n    listen: [\"" + web + "\"]\n    access_log: " + dir + "/access.log\n" +
		"    routes:\n      - {path_prefix: /fixed, respond: {status: 503}}\n      - {upstream: u}\n" +
		"    tracing: {otlp_endpoint: \"http://127.0.0.1:4318\", sample_ratio: 0.25}\n" +
		"  - name: plain\n    listen: [\"" + freePort(t) + "\"]\n    upstream: u\n" +
		"upstreams:\n  u: {peers: [\"" + a.Listener.Addr().String() + "\"]}\n"
	path := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))

	tr := &fakeTracer{}
	var built []string
	var conf Tracing
	ext := Extensions{Tracing: func(svc string, c Tracing) (Tracer, error) {
		built, conf = append(built, svc), c
		return tr, nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	done := make(chan int, 1)
	var stdout, stderr syncBuffer
	go func() {
		done <- runWith(ctx, []string{"pingora", "-c", path}, ext, &stdout, &stderr, func(*instance) { close(started) })
	}()
	select {
	case <-started:
	case code := <-done:
		t.Fatalf("run returned %d: %s", code, stderr.String())
	}
	assert.Equal(t, []string{"web"}, built, "one tracer, for the service with otlp_endpoint")
	assert.Equal(t, Tracing{OTLPEndpoint: "http://127.0.0.1:4318", ServiceName: DefaultTracingServiceName, SampleRatio: 0.25, line: conf.line}, conf)
	assert.NotContains(t, stderr.String(), "needs the pingora binary built from umbrella/otel")

	resp, _ := get(t, "http://"+web+"/x", "Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, fakeSpan{}.Traceparent(), resp.Header.Get("X-Got-Traceparent"), "the span's traceparent goes upstream")
	resp, _ = get(t, "http://"+web+"/fixed")
	require.Equal(t, 503, resp.StatusCode)
	require.Eventually(t, func() bool { return tr.endedCount() == 2 }, 5*time.Second, 5*time.Millisecond)
	tr.mu.Lock()
	assert.Equal(t, []string{"/x", "/fixed"}, tr.started)
	assert.Equal(t, SpanEnd{Status: 200, Route: "u", Upstream: a.Listener.Addr().String()}, tr.ended[0])
	assert.Equal(t, SpanEnd{Status: 503, Route: "respond"}, tr.ended[1])
	tr.mu.Unlock()
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "access.log"))
		return strings.Count(string(b), "trace_id=0af7651916cd43dd8448eb211c80319c") == 2
	}, 5*time.Second, 10*time.Millisecond, "the access log has the span's trace id")

	cancel()
	require.Equal(t, 0, <-done)
	tr.mu.Lock()
	assert.Equal(t, 1, tr.shutdown, "Shutdown once, when the server stops")
	tr.mu.Unlock()
}

func TestSameExporter(t *testing.T) {
	base := Tracing{OTLPEndpoint: "http://c:4318", ServiceName: "a", SampleRatio: 1}
	tests := []struct {
		name string
		a, b Tracing
		want bool
	}{
		{"no export", Tracing{}, Tracing{Traceparent: true}, true},
		{"same", base, base, true},
		{"traceparent only", base, Tracing{Traceparent: true, OTLPEndpoint: "http://c:4318", ServiceName: "a", SampleRatio: 1}, true},
		{"endpoint added", Tracing{}, base, false},
		{"ratio", base, Tracing{OTLPEndpoint: "http://c:4318", ServiceName: "a", SampleRatio: 0.5}, false},
		{"name", base, Tracing{OTLPEndpoint: "http://c:4318", ServiceName: "b", SampleRatio: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, sameExporter(tt.a, tt.b))
		})
	}
}
