package umbrella

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReload_ConcurrentSafe reloads the configuration over and over while
// clients send requests (some slow, in flight across reloads): no request
// fails, and each is answered by one of the upstreams its route had.
func TestReload_ConcurrentSafe(t *testing.T) {
	a, b, c := origin(t, "a"), origin(t, "b"), origin(t, "c")
	dir := t.TempDir()
	listen := freePort(t)
	cfg := func(up string, perSecond string) string {
		return "upgrade_sock: " + dir + "/u.sock\nservices:\n  - name: web\n    listen: [\"" + listen + "\"]\n" +
			"    access_log: \"off\"\n    rate_limit: {per_second: " + perSecond + "}\n" +
			"    headers: {response_set: {X-Gen: " + up + "}}\n" +
			"    routes: [{path_prefix: /, upstream: " + up + "}]\n" +
			"upstreams:\n  ab: {peers: [\"" + a.Listener.Addr().String() + "\", \"" + b.Listener.Addr().String() + "\"]}\n" +
			"  c: {peers: [\"" + c.Listener.Addr().String() + "\"], health_check: {interval: 1s}}\n"
	}
	path := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg("ab", "100000")), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *instance, 1)
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"pingora", "-c", path}, io.Discard, &stderr, func(in *instance) { started <- in })
	}()
	var in *instance
	select {
	case in = <-started:
	case code := <-done:
		t.Fatalf("run returned %d: %s", code, stderr.String())
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	c8 := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/"
			if w%2 == 0 {
				path = "/slow" // 700 ms: in flight across reloads
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := c8.Get("http://" + listen + path)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				gen, got := resp.Header.Get("X-Gen"), resp.Header.Get("X-Origin")
				if resp.StatusCode != 200 || !strings.Contains(gen, got) {
					mu.Lock()
					failures = append(failures, resp.Status+" gen "+gen+" origin "+got)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range 20 {
		up := "ab"
		if i%2 == 0 {
			up = "c"
		}
		require.NoError(t, os.WriteFile(path, []byte(cfg(up, "100000")), 0o600))
		require.NoError(t, in.reload(ctx))
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	tr.CloseIdleConnections()
	assert.Empty(t, failures)
	cancel()
	assert.Equal(t, 0, <-done, "stderr: %s", stderr.String())
}
