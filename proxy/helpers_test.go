package proxy_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/require"
)

// harness runs a Proxy on a loopback listener, as a server.ListeningService
// would.
type harness struct {
	Addr     string
	ln       net.Listener
	shutdown chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
	cleanup  func()
}

// serve starts serving p on 127.0.0.1; wrap (may be nil) wraps each
// accepted conn (TLS).
func serve(t testing.TB, app interface {
	ServeConn(context.Context, *listener.Conn, <-chan struct{})
}, wrap func(net.Conn) (net.Conn, bool)) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{Addr: ln.Addr().String(), ln: ln, shutdown: make(chan struct{}), cancel: cancel}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			lc := &listener.Conn{Conn: c, Raw: c, Accepted: time.Now()}
			if wrap != nil {
				lc.Conn, lc.TLS = wrap(c)
			}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				app.ServeConn(ctx, lc, h.shutdown)
				_ = lc.Conn.Close()
			}()
		}
	}()
	t.Cleanup(h.Close)
	return h
}

// Close stops accepting, signals shutdown, cancels and waits for every
// connection goroutine.
func (h *harness) Close() {
	h.once.Do(func() {
		_ = h.ln.Close()
		close(h.shutdown)
		done := make(chan struct{})
		go func() { h.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			h.cancel()
			<-done
		}
		h.cancel()
		if h.cleanup != nil {
			h.cleanup()
		}
	})
}

// newProxy builds a proxy with h and o and serves it.
func newProxy[C any](t testing.TB, h proxy.Hooks[C], o proxy.Options) (*harness, *proxy.Proxy[C]) {
	t.Helper()
	p, err := proxy.New(h, o)
	require.NoError(t, err)
	hs := serve(t, p, nil)
	hs.cleanup = p.Cleanup
	return hs, p
}

// fixedPeer returns an UpstreamPeer hook always answering addr.
func fixedPeer[C any](addr string) func(*proxy.Session, *C) (*peer.Peer, error) {
	return func(*proxy.Session, *C) (*peer.Peer, error) { return peer.New(addr, false, ""), nil }
}

func http1Options(keepAlive time.Duration) http1.Options {
	return http1.Options{KeepAliveTimeout: keepAlive}
}
