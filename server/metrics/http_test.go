package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/metrics"
)

func TestNewService_ScrapeOverLoopback(t *testing.T) {
	checkGoroutines(t)
	m, err := metrics.New(metrics.Options{DurationBuckets: []float64{0.1, 1}})
	require.NoError(t, err)
	prom := metrics.NewService(m)
	assert.Equal(t, "Prometheus metric HTTP", prom.Name())
	rs := startServer(t, prom)
	url := "http://" + rs.addr(0) + "/metrics"

	m.ConnAccepted("proxy")
	m.ConnAccepted("proxy")
	m.ConnClosed("proxy")
	ps := m.Service("proxy")
	ps.Request(200, 30*time.Millisecond)
	ps.Request(200, 300*time.Millisecond)
	ps.Request(503, 2*time.Second)
	m.Error("ConnectTimedout")
	m.PoolHit("origin")
	m.PoolMiss("origin")
	m.BackendHealth("origin", "10.0.0.1:80", true)

	require.NoError(t, testutil.ScrapeAndCompare(url, strings.NewReader(`
# HELP pingora_connections_accepted_total Downstream connections accepted, by service.
# TYPE pingora_connections_accepted_total counter
pingora_connections_accepted_total{service="proxy"} 2
# HELP pingora_connections_active Downstream connections being served, by service.
# TYPE pingora_connections_active gauge
pingora_connections_active{service="proxy"} 1
# HELP pingora_requests_total Downstream requests answered, by service and response status code (0: no response).
# TYPE pingora_requests_total counter
pingora_requests_total{code="200",service="proxy"} 2
pingora_requests_total{code="503",service="proxy"} 1
# HELP pingora_request_duration_seconds Time from a downstream request's arrival to the end of its response, by service.
# TYPE pingora_request_duration_seconds histogram
pingora_request_duration_seconds_bucket{service="proxy",le="0.1"} 1
pingora_request_duration_seconds_bucket{service="proxy",le="1"} 2
pingora_request_duration_seconds_bucket{service="proxy",le="+Inf"} 3
pingora_request_duration_seconds_sum{service="proxy"} 2.33
pingora_request_duration_seconds_count{service="proxy"} 3
# HELP pingora_errors_total Errors, by kind (the pingora errors ErrorType name).
# TYPE pingora_errors_total counter
pingora_errors_total{kind="ConnectTimedout"} 1
# HELP pingora_upstream_pool_hits_total Upstream connections reused from the pool, by upstream.
# TYPE pingora_upstream_pool_hits_total counter
pingora_upstream_pool_hits_total{upstream="origin"} 1
# HELP pingora_upstream_pool_misses_total Upstream connections dialled because the pool had none to reuse, by upstream.
# TYPE pingora_upstream_pool_misses_total counter
pingora_upstream_pool_misses_total{upstream="origin"} 1
# HELP pingora_backend_healthy 1 if the backend passes its health check, else 0, by upstream and backend.
# TYPE pingora_backend_healthy gauge
pingora_backend_healthy{backend="10.0.0.1:80",upstream="origin"} 1
`), "pingora_connections_accepted_total", "pingora_connections_active", "pingora_requests_total",
		"pingora_request_duration_seconds", "pingora_errors_total", "pingora_upstream_pool_hits_total",
		"pingora_upstream_pool_misses_total", "pingora_backend_healthy"))

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(method, path string) (*http.Response, string) {
		req, err := http.NewRequest(method, "http://"+rs.addr(0)+path, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return resp, string(body)
	}

	resp, body := get("GET", "/metrics")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_cpu_seconds_total ", "process_open_fds ", "process_start_time_seconds "} {
		assert.Contains(t, body, "\n"+name, "process and Go metrics")
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"HEAD", "/metrics", 200},
		{"GET", "/", 404},
		{"GET", "/metrics/x", 404},
		{"POST", "/metrics", 405},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, _ := get(tc.method, tc.path)
			assert.Equal(t, tc.status, resp.StatusCode)
		})
	}
}

// The scraper's keep-alive connection is reused, and a graceful shutdown
// closes it at once rather than waiting out the idle timeout.
func TestNewService_GracefulStop(t *testing.T) {
	checkGoroutines(t)
	m, err := metrics.New(metrics.Options{})
	require.NoError(t, err)
	rs := startServer(t, metrics.NewService(m))
	c := dial(t, rs.addr(0))
	r := bufio.NewReader(c)
	for range 2 {
		fmt.Fprint(c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(r, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.False(t, resp.Close)
	}
	start := time.Now()
	rs.stop(t)
	_, err = r.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "the idle connection is closed")
	assert.Less(t, time.Since(start), 10*time.Second, "not the 60s idle timeout")
}

// serveOne runs app.ServeConn on one loopback connection and returns the
// client's end.
type served struct {
	client   net.Conn
	r        *bufio.Reader
	shutdown chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
}

func serveOne(t *testing.T, app server.App) *served {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client := dial(t, ln.Addr().String())
	raw, err := ln.Accept()
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{client: client, r: bufio.NewReader(client), shutdown: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer raw.Close() // the server's part
		app.ServeConn(ctx, &listener.Conn{Conn: raw, Raw: raw, Accepted: time.Now()}, s.shutdown)
	}()
	t.Cleanup(func() {
		cancel()
		client.Close()
		<-s.done
	})
	return s
}

func (s *served) request(t *testing.T, path string) {
	t.Helper()
	_, err := fmt.Fprintf(s.client, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path)
	require.NoError(t, err)
}

func (s *served) response(t *testing.T) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(s.r, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// waitDone waits for ServeConn to return.
func (s *served) waitDone(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeConn did not return")
	}
}

// assertClosed checks that the server has closed the connection: reading
// what is left reaches EOF before the deadline.
func (s *served) assertClosed(t *testing.T) {
	t.Helper()
	_, err := io.Copy(io.Discard, s.r)
	assert.NoError(t, err)
}

// slowHandler answers "/slow" once release is closed, "/" at once.
type slowHandler struct {
	started, release chan struct{}
	ctxErr           chan error
}

func newSlowHandler() *slowHandler {
	return &slowHandler{started: make(chan struct{}, 1), release: make(chan struct{}), ctxErr: make(chan error, 1)}
}

func (h *slowHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		h.started <- struct{}{}
		select {
		case <-h.release:
		case <-r.Context().Done():
			h.ctxErr <- r.Context().Err()
			return
		}
	}
	io.WriteString(w, "ok "+r.URL.Path)
}

func TestHTTPApp_ServeConn(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s *served, h *slowHandler)
	}{
		{"keep-alive until the client closes", func(t *testing.T, s *served, h *slowHandler) {
			for _, p := range []string{"/a", "/b", "/c"} {
				s.request(t, p)
				resp, body := s.response(t)
				assert.Equal(t, "ok "+p, body)
				assert.False(t, resp.Close)
			}
			s.client.Close()
			s.waitDone(t)
		}},
		{"shutdown closes an idle connection", func(t *testing.T, s *served, h *slowHandler) {
			s.request(t, "/")
			s.response(t)
			close(s.shutdown)
			s.waitDone(t)
			s.assertClosed(t)
		}},
		{"shutdown lets the request in flight finish", func(t *testing.T, s *served, h *slowHandler) {
			s.request(t, "/slow")
			<-h.started
			close(s.shutdown)
			close(h.release)
			// The answer says "Connection: close" if ServeConn saw the
			// shutdown before the handler returned; if not, the
			// connection is closed as soon as it is idle.
			resp, body := s.response(t)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "ok /slow", body)
			s.waitDone(t)
			s.assertClosed(t)
		}},
		{"a connection new at shutdown gets one answer", func(t *testing.T, s *served, h *slowHandler) {
			close(s.shutdown)
			s.request(t, "/")
			_, body := s.response(t)
			assert.Equal(t, "ok /", body)
			s.waitDone(t)
			s.assertClosed(t)
		}},
		{"ctx done closes at once", func(t *testing.T, s *served, h *slowHandler) {
			s.request(t, "/slow")
			<-h.started
			s.cancel()
			s.waitDone(t)
			assert.ErrorIs(t, <-h.ctxErr, context.Canceled, "the handler's context is done")
			s.assertClosed(t)
		}},
		{"bad request", func(t *testing.T, s *served, h *slowHandler) {
			fmt.Fprint(s.client, "NOT HTTP\r\n\r\n")
			resp, _ := s.response(t)
			assert.Equal(t, 400, resp.StatusCode)
			s.waitDone(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			h := newSlowHandler()
			tc.run(t, serveOne(t, metrics.NewHTTPApp(h, metrics.HTTPOptions{})), h)
		})
	}
}

func TestHTTPApp_ReadHeaderTimeout(t *testing.T) {
	checkGoroutines(t)
	s := serveOne(t, metrics.NewHTTPApp(newSlowHandler(), metrics.HTTPOptions{ReadHeaderTimeout: 50 * time.Millisecond}))
	s.waitDone(t) // the client never sends a request
	s.assertClosed(t)
}

func TestHTTPApp_IdleTimeout(t *testing.T) {
	checkGoroutines(t)
	s := serveOne(t, metrics.NewHTTPApp(newSlowHandler(), metrics.HTTPOptions{IdleTimeout: 50 * time.Millisecond}))
	s.request(t, "/")
	s.response(t)
	s.waitDone(t)
	s.assertClosed(t)
}
