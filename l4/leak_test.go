package l4_test

import (
	"crypto/tls"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/pingora-go/pingora/l4"
	"github.com/stretchr/testify/require"
)

// TestProxy_NoGoroutineLeak runs tunnels that end every way (EOF both
// ways, idle timeout, connect failure, rejected ClientHello, cancelled
// context), stops the proxy, and checks that every goroutine it started
// has ended.
func TestProxy_NoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("tunnels", func(t *testing.T) {
		be := newEcho(t)
		f := serve(t, l4.Options{Upstream: fixed(be.addr), PeekTLS: true, PeekTimeout: 100 * time.Millisecond,
			IdleTimeout: 100 * time.Millisecond})
		dead := serve(t, l4.Options{Upstream: fixed(refusedAddr(t))})

		c := dial(t, f.addr) // EOF both ways
		_, err := c.Write([]byte("hello"))
		require.NoError(t, err)
		require.NoError(t, c.CloseWrite())
		require.Equal(t, "hello", string(waitEOF(t, c)))

		waitEOF(t, dial(t, f.addr)) // silent client routed, then idle timeout
		waitEOF(t, dial(t, dead.addr))

		c = dial(t, f.addr) // rejected ClientHello
		_, err = c.Write(hello(sniExt("bad_name")))
		require.NoError(t, err)
		waitEOF(t, c)

		c = dial(t, f.addr) // a TLS ClientHello reaches the echo server
		hello := captureHello(t, &tls.Config{ServerName: "x.example"})
		_, err = c.Write(hello)
		require.NoError(t, err)
		_, err = io.ReadFull(c, make([]byte, len(hello)))
		require.NoError(t, err)

		f.stop() // cancels the tunnel above
		waitEOF(t, c)
	})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines left (before: %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
