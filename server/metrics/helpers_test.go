package metrics_test

import (
	"context"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server"
)

var signalOnce sync.Once

// checkGoroutines fails the test if goroutines it started are still
// running shortly after it ends.
func checkGoroutines(t *testing.T) {
	t.Helper()
	// os/signal starts a goroutine that lives for ever at the first
	// Notify, which a server's Run calls: start it first.
	signalOnce.Do(func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGWINCH)
		signal.Stop(c)
	})
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left running:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

// runningServer is a server.Server running in the test.
type runningServer struct {
	*server.Server
	cancel context.CancelFunc
	done   chan error
}

// startServer runs a server with the given services, each on one
// 127.0.0.1:0 endpoint, and waits until it serves. Cancelling its context
// (stop) is a graceful shutdown.
func startServer(t *testing.T, svcs ...*server.ListeningService) *runningServer {
	t.Helper()
	dir := t.TempDir()
	s, err := server.NewWithConf(nil, &server.Conf{
		UpgradeSock:        filepath.Join(dir, "upgrade.sock"),
		PIDFile:            filepath.Join(dir, "pid"),
		GracePeriodSeconds: 10,
	})
	require.NoError(t, err)
	for _, svc := range svcs {
		svc.AddTCP("127.0.0.1:0")
		s.AddListening(svc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServer{Server: s, cancel: cancel, done: make(chan error, 1)}
	go func() { rs.done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-rs.done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("server not ready")
	}
	t.Cleanup(func() { rs.stop(t) })
	return rs
}

// stop shuts the server down gracefully and waits for Run to return nil.
func (rs *runningServer) stop(t *testing.T) {
	t.Helper()
	rs.cancel()
	select {
	case err, ok := <-rs.done:
		if ok {
			require.NoError(t, err)
			close(rs.done)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

// addr returns the address of the i-th endpoint.
func (rs *runningServer) addr(i int) string { return rs.Addrs()[i].String() }

// value returns the value of the counter or gauge called name whose
// labels include the given name/value pairs, or -1 if there is none.
func value(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// eventually waits until f returns want, at most 5s.
func eventually(t *testing.T, want float64, f func() float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := f()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dial connects to addr with a deadline and closes the conn at the end.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	t.Cleanup(func() { c.Close() })
	return c
}
