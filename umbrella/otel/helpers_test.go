package otel_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/umbrella"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listening = regexp.MustCompile(`service web listening on (http://\S+)/`)

// running is a pingora server run in this process by umbrella.Run.
type running struct {
	URL    string // the web service, "http://127.0.0.1:port"
	stderr *syncBuffer
	stop   func()
}

// startServer runs the YAML cfg ({{DIR}} replaced by a temporary
// directory; the service named web should listen on 127.0.0.1:0) with
// ext until the test ends, and checks it stops cleanly.
func startServer(t testing.TB, cfg string, ext umbrella.Extensions) *running {
	t.Helper()
	dir := t.TempDir()
	cfg = "upgrade_sock: " + dir + "/upgrade.sock\npid_file: " + dir + "/pingora.pid\n" + cfg
	path := filepath.Join(dir, "pingora.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- umbrella.Run(ctx, []string{"pingora", "-c", path}, ext, &stdout, &stderr) }()
	r := &running{stderr: &stderr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			r.URL = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("umbrella.Run returned %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the server did not start: %s", stderr.String())
		}
	}
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			http.DefaultClient.CloseIdleConnections()
			cancel()
			select {
			case code := <-done:
				require.Equal(t, 0, code, "exit status; stderr: %s", stderr.String())
			case <-time.After(15 * time.Second):
				t.Fatal("the server did not stop")
			}
			require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 5*time.Second, 20*time.Millisecond,
				"goroutines left running")
		})
	}
	t.Cleanup(r.stop)
	return r
}

// origin is a backend that answers 200 with the traceparent it got in
// X-Got-Traceparent.
func origin(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-Traceparent", r.Header.Get("Traceparent"))
		_, _ = w.Write([]byte("hello\n"))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func config(upstream string) string {
	return strings.ReplaceAll(`services:
  - name: web
    listen: [127.0.0.1:0]
    access_log: "off"
    routes:
      - {path_prefix: /down, respond: {status: 503, body: "down\n"}}
      - {path_prefix: /, upstream: u}
    tracing: {otlp_endpoint: "{{OTLP}}", service_name: edge}
upstreams:
  u: {peers: ["`+upstream+`"]}
`, "{{OTLP}}", "http://127.0.0.1:1")
}
