package balancer_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/balancer"
	"github.com/stretchr/testify/require"
)

// quiet is a logger that drops everything, for load balancers in tests.
var quiet = slog.New(slog.DiscardHandler)

// algorithms are every built-in Algorithm, by name.
var algorithms = []struct {
	name string
	alg  balancer.Algorithm
}{
	{"RoundRobin", balancer.RoundRobin},
	{"Random", balancer.Random},
	{"FNVHash", balancer.FNVHash},
	{"Ketama", balancer.Ketama},
	{"LeastConnections", balancer.LeastConnections},
	{"PowerOfTwoChoices", balancer.PowerOfTwoChoices},
}

// addrs returns n backends 10.0.x.y:80 with the given weights (cycled;
// none means weight 1).
func addrs(n int, weights ...uint32) []balancer.Backend {
	bs := make([]balancer.Backend, n)
	for i := range bs {
		bs[i] = balancer.Backend{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 80), Weight: 1}
		if len(weights) > 0 {
			bs[i].Weight = weights[i%len(weights)]
		}
	}
	return bs
}

// newLB builds and fills a load balancer over static backends.
func newLB(t testing.TB, opts balancer.Options, bs ...balancer.Backend) (*balancer.LoadBalancer, *balancer.Static) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	st := balancer.NewStatic(bs...)
	lb, err := balancer.New(st, opts)
	require.NoError(t, err)
	require.NoError(t, lb.Update(context.Background()))
	return lb, st
}

// upstream is a loopback TCP listener that can go down and come back on
// the same port. While up it accepts connections and hands them to serve
// (nil: close at once).
type upstream struct {
	t     testing.TB
	addr  string
	serve func(net.Conn)

	mu sync.Mutex
	ln net.Listener
	wg sync.WaitGroup
}

func newUpstream(t testing.TB, serve func(net.Conn)) *upstream {
	u := &upstream{t: t, addr: "127.0.0.1:0", serve: serve}
	u.start()
	u.addr = u.ln.Addr().String()
	t.Cleanup(u.stop)
	return u
}

func (u *upstream) backend() balancer.Backend {
	return balancer.Backend{Addr: netip.MustParseAddrPort(u.addr), Weight: 1}
}

func (u *upstream) start() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.ln != nil {
		return
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after stop
		if ln, err = net.Listen("tcp", u.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(u.t, err)
	u.ln = ln
	u.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if u.serve == nil {
				c.Close()
				continue
			}
			u.wg.Go(func() { defer c.Close(); u.serve(c) })
		}
	})
}

func (u *upstream) stop() {
	u.mu.Lock()
	ln := u.ln
	u.ln = nil
	u.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	u.wg.Wait()
}

// httpServe answers every request on c with status and body, then closes.
func httpServe(status int, body string) func(net.Conn) {
	return func(c net.Conn) {
		c.SetDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		_ = n
		io.WriteString(c, "HTTP/1.1 "+strconv.Itoa(status)+" X\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body)
	}
}

// checkGoroutines returns a func that fails t unless the number of
// goroutines comes back down to what it is now within a few seconds.
func checkGoroutines(t *testing.T) func() {
	before := runtime.NumGoroutine()
	return func() {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// errDown is what fake health checks return.
var errDown = errors.New("down")
