package proxy_test

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/stretchr/testify/require"
)

// TestProxy_NoGoroutineLeak serves requests of every kind, shuts down,
// and checks that every goroutine the proxy started has ended.
func TestProxy_NoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
			_ = http.NewResponseController(w).EnableFullDuplex()
			_, _ = io.Copy(w, r.Body)
		})
		defer srv.Close()
		hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{})
		c := client()
		for i := 0; i < 5; i++ {
			resp, err := c.Post("http://"+hs.Addr+"/", "text/plain", strings.NewReader(strings.Repeat("z", 100000)))
			require.NoError(t, err)
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		c.CloseIdleConnections()
		hs.Close()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left (before: %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
