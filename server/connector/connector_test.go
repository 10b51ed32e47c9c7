package connector_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

func TestConnector_GetPlain(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			srv := startServer(t, network, nil, nil)
			c := newConnector(t, connector.Options{})
			p := peer.New(srv.addr, false, "")
			if network == "unix" {
				p = peer.NewUnix(srv.addr, false, "")
			}
			p.ConnectionTimeout = time.Second
			conn, reused, err := c.Get(ctxT(t), p)
			require.NoError(t, err)
			defer conn.Close()
			assert.False(t, reused)
			assert.False(t, conn.TLS())
			assert.Equal(t, "", conn.ALPN())
			assert.Equal(t, 1, conn.HTTPVersion())
			_, ok := conn.TLSState()
			assert.False(t, ok)
			echo(t, conn, "hello")
		})
	}
}

func TestConnector_SocketOptions(t *testing.T) {
	srv := startServer(t, "tcp", nil, nil)
	c := newConnector(t, connector.Options{})
	p := peer.New(srv.addr, false, "")
	p.BindTo = netip("127.0.0.1:0")
	p.TCPRecvBuf = 64 << 10
	p.TCPKeepAlive = net.KeepAliveConfig{Enable: true, Idle: time.Minute, Interval: 10 * time.Second, Count: 3}
	conn, _, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	defer conn.Close()
	echo(t, conn, "x")
	assert.Equal(t, "127.0.0.1", conn.LocalAddr().(*net.TCPAddr).IP.String())

	p.NoTCPKeepAlive = true
	p.BindTo = netip("127.0.0.2:0") // 127/8 is all loopback on Linux; may fail elsewhere
	conn2, _, err := c.Get(ctxT(t), p)
	if err != nil {
		t.Skipf("cannot bind to 127.0.0.2 here: %v", err)
	}
	defer conn2.Close()
	assert.Equal(t, "127.0.0.2", conn2.LocalAddr().(*net.TCPAddr).IP.String())
}

func TestConnector_Refused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()

	c := newConnector(t, connector.Options{})
	_, reused, err := c.Get(ctxT(t), peer.New(addr, false, ""))
	assert.False(t, reused)
	pe := requireErr(t, err, perr.ConnectRefused, true)
	assert.Equal(t, perr.Upstream, pe.Source())
	assert.True(t, errors.Is(err, perr.ConnectRefused))
	assert.Contains(t, err.Error(), "Upstream ConnectRefused context: connect "+addr)
	assert.Contains(t, err.Error(), "connection refused")
}

func TestConnector_InvalidPeer(t *testing.T) {
	c := newConnector(t, connector.Options{})
	_, _, err := c.Get(ctxT(t), peer.NewUnix("/nonexistent.sock", true, ""))
	pe := requireErr(t, err, perr.InternalError, false)
	assert.Equal(t, perr.Internal, pe.Source())
	assert.ErrorIs(t, err, peer.ErrNoServerName)
}

func TestConnector_Cancelled(t *testing.T) {
	srv := startServer(t, "tcp", nil, nil)
	c := newConnector(t, connector.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.Get(ctx, peer.New(srv.addr, false, ""))
	requireErr(t, err, perr.ConnectError, false)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestConnector_TotalConnectionTimeout(t *testing.T) {
	// A server that accepts and never answers the TLS ClientHello.
	stall := make(chan struct{})
	srv := startServer(t, "tcp", nil, func(c net.Conn) { <-stall })
	defer close(stall)
	c := newConnector(t, connector.Options{})
	p := peer.New(srv.addr, true, "a.example")
	p.TotalConnectionTimeout = 100 * time.Millisecond
	start := time.Now()
	_, _, err := c.Get(ctxT(t), p)
	pe := requireErr(t, err, perr.ConnectTimedout, true)
	assert.Equal(t, perr.Upstream, pe.Source())
	assert.Contains(t, err.Error(), "total-connection timeout")
	assert.Less(t, time.Since(start), 5*time.Second)

	// Without a total timeout the handshake has Options.HandshakeTimeout.
	c2 := newConnector(t, connector.Options{HandshakeTimeout: 100 * time.Millisecond})
	p.TotalConnectionTimeout = 0
	_, _, err = c2.Get(ctxT(t), p)
	requireErr(t, err, perr.TLSHandshakeTimedout, true)
	assert.Contains(t, err.Error(), "tls handshake with a.example ("+srv.addr+")")
}

// tlsEnv is a TLS echo server with a certificate for a.example,
// b.example, a-b.example and 127.0.0.1, signed by ca.
type tlsEnv struct {
	ca    *testCA
	roots []*x509.Certificate
	srv   *server
}

func newTLSEnv(t *testing.T, names []string, protos []string, clientCAs *x509.CertPool) *tlsEnv {
	ca := newCA(t)
	cert := ca.issue(t, names...)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: protos}
	if clientCAs != nil {
		cfg.ClientCAs = clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return &tlsEnv{ca: ca, roots: []*x509.Certificate{ca.cert}, srv: startServer(t, "tcp", cfg, nil)}
}

func TestConnector_TLSVerify(t *testing.T) {
	env := newTLSEnv(t, []string{"a.example", "b.example", "a-b.example", "127.0.0.1"}, nil, nil)
	noIP := newTLSEnv(t, []string{"a.example"}, nil, nil)
	tests := []struct {
		name string
		env  *tlsEnv
		set  func(p *peer.Peer)
		want perr.ErrorType // zero: success
	}{
		{"ok", env, func(p *peer.Peer) {}, perr.ErrorType{}},
		{"ok other name", env, func(p *peer.Peer) { p.SNI = "b.example" }, perr.ErrorType{}},
		{"wrong host name", env, func(p *peer.Peer) { p.SNI = "c.example" }, perr.InvalidCert},
		{"unknown CA", env, func(p *peer.Peer) { p.CA = nil }, perr.InvalidCert},
		{"other CA", env, func(p *peer.Peer) { p.CA = []*x509.Certificate{newCA(t).cert} }, perr.InvalidCert},
		{"empty SNI verifies the IP", env, func(p *peer.Peer) { p.SNI = "" }, perr.ErrorType{}},
		{"empty SNI, no IP SAN", noIP, func(p *peer.Peer) { p.SNI = "" }, perr.InvalidCert},
		{"alternative CN", env, func(p *peer.Peer) { p.SNI = "c.example"; p.AlternativeCN = "b.example" }, perr.ErrorType{}},
		{"alternative CN wrong", env, func(p *peer.Peer) { p.SNI = "c.example"; p.AlternativeCN = "d.example" }, perr.InvalidCert},
		{"underscore label", env, func(p *peer.Peer) { p.SNI = "a_b.example" }, perr.ErrorType{}},
		{"skip host name", env, func(p *peer.Peer) { p.SNI = "c.example"; p.SkipVerifyHostname = true }, perr.ErrorType{}},
		{"skip host name keeps chain check", env, func(p *peer.Peer) { p.SkipVerifyHostname = true; p.CA = nil }, perr.InvalidCert},
		{"skip cert", env, func(p *peer.Peer) { p.SNI = "c.example"; p.CA = nil; p.SkipVerifyCert = true }, perr.ErrorType{}},
	}
	for _, b := range tlsBackends {
		t.Run(b.name, func(t *testing.T) {
			c := newConnector(t, connector.Options{TLS: b.client(t)})
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					p := peer.New(tt.env.srv.addr, true, "a.example")
					p.CA = tt.env.roots
					tt.set(p)
					conn, reused, err := c.Get(ctxT(t), p)
					if tt.want == (perr.ErrorType{}) {
						require.NoError(t, err)
						defer conn.Close()
						assert.False(t, reused)
						assert.True(t, conn.TLS())
						st, ok := conn.TLSState()
						require.True(t, ok)
						assert.NotEmpty(t, st.PeerCertificates)
						echo(t, conn, "over tls")
						return
					}
					pe := requireErr(t, err, tt.want, true)
					assert.Equal(t, perr.Upstream, pe.Source())
					assert.Contains(t, err.Error(), "tls handshake with ")
				})
			}
		})
	}
}

// tlsBackends are the TLS clients the verification table runs with: the
// default (nil: BackendTLS on gotls), and openssl in a build with
// -tags openssl (tls_openssl_test.go).
var tlsBackends = []struct {
	name   string
	client func(t *testing.T) connector.TLSClient
}{
	{"default", func(*testing.T) connector.TLSClient { return nil }},
}

func TestConnector_SNI(t *testing.T) {
	env := newTLSEnv(t, []string{"a.example", "127.0.0.1"}, nil, nil)
	c := newConnector(t, connector.Options{})
	tests := []struct {
		sni, want string
	}{
		{"a.example", "a.example"},
		{"", ""}, // an IP address is never sent as SNI
	}
	for i, tt := range tests {
		t.Run(tt.sni, func(t *testing.T) {
			p := peer.New(env.srv.addr, true, tt.sni)
			p.CA = env.roots
			conn, _, err := c.Get(ctxT(t), p)
			require.NoError(t, err)
			defer conn.Close()
			echo(t, conn, "sni")
			snis, _, _ := env.srv.seen()
			require.Len(t, snis, i+1)
			assert.Equal(t, tt.want, snis[i])
		})
	}
}

func TestConnector_ALPN(t *testing.T) {
	h2h1 := newTLSEnv(t, []string{"a.example"}, []string{"h2", "http/1.1"}, nil)
	h1 := newTLSEnv(t, []string{"a.example"}, []string{"http/1.1"}, nil)
	plain := startServer(t, "tcp", nil, nil)
	tests := []struct {
		name     string
		env      *tlsEnv
		alpn     peer.ALPN
		wantALPN string
		wantVer  int
	}{
		{"H1", h2h1, peer.ALPNH1, "http/1.1", 1},
		{"H2", h2h1, peer.ALPNH2, "h2", 2},
		{"H2H1", h2h1, peer.ALPNH2H1, "h2", 2},
		{"H2H1 to h1 server", h1, peer.ALPNH2H1, "http/1.1", 1},
		{"plain H2 is h2c", nil, peer.ALPNH2, "", 2},
		{"plain H2H1", nil, peer.ALPNH2H1, "", 1},
	}
	c := newConnector(t, connector.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := peer.New(plain.addr, false, "")
			if tt.env != nil {
				p = peer.New(tt.env.srv.addr, true, "a.example")
				p.CA = tt.env.roots
			}
			p.ALPN = tt.alpn
			conn, _, err := c.Get(ctxT(t), p)
			require.NoError(t, err)
			defer conn.Close()
			assert.Equal(t, tt.wantALPN, conn.ALPN())
			assert.Equal(t, tt.wantVer, conn.HTTPVersion())
			if tt.env != nil {
				st, ok := conn.TLSState()
				require.True(t, ok)
				assert.Equal(t, tt.wantALPN, st.NegotiatedProtocol)
			}
		})
	}

	t.Run("PreferH1", func(t *testing.T) {
		p := peer.New(h2h1.srv.addr, true, "a.example")
		p.CA = h2h1.roots
		p.ALPN = peer.ALPNH2H1
		c.PreferH1(p)
		conn, _, err := c.Get(ctxT(t), p)
		require.NoError(t, err)
		defer conn.Close()
		assert.Equal(t, "http/1.1", conn.ALPN())
		assert.Equal(t, 1, conn.HTTPVersion())
	})
}

func TestConnector_ClientCert(t *testing.T) {
	clientCA := newCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	env := newTLSEnv(t, []string{"a.example"}, nil, pool)
	cert := clientCA.issue(t, "client")
	c := newConnector(t, connector.Options{})
	p := peer.NewMTLS(env.srv.addr, "a.example", &cert)
	p.CA = env.roots
	conn, _, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	defer conn.Close()
	echo(t, conn, "mtls")
	_, _, certs := env.srv.seen()
	assert.Equal(t, 1, certs)
}

func TestConnector_Reuse(t *testing.T) {
	env := newTLSEnv(t, []string{"a.example", "b.example"}, nil, nil)
	c := newConnector(t, connector.Options{})
	pa := peer.New(env.srv.addr, true, "a.example")
	pa.CA = env.roots
	pb := peer.New(env.srv.addr, true, "b.example")
	pb.CA = env.roots

	first, reused, err := c.Get(ctxT(t), pa)
	require.NoError(t, err)
	require.False(t, reused)
	echo(t, first, "one")
	c.Release(pa, first, true)

	t.Run("same peer gets the same conn", func(t *testing.T) {
		again, reused, err := c.Get(ctxT(t), pa)
		require.NoError(t, err)
		assert.True(t, reused)
		assert.Same(t, first, again)
		echo(t, again, "two")
		c.Release(pa, again, true)
	})

	t.Run("other SNI never gets it", func(t *testing.T) {
		other, reused, err := c.Get(ctxT(t), pb)
		require.NoError(t, err)
		defer other.Close()
		assert.False(t, reused)
		assert.NotSame(t, first, other)
		st, _ := other.TLSState()
		assert.Equal(t, "b.example", st.ServerName)
		assert.Equal(t, 1, c.Stats().Idle, "a.example's conn stays pooled")
	})

	t.Run("not reusable is closed", func(t *testing.T) {
		conn, reused, err := c.Get(ctxT(t), pa)
		require.NoError(t, err)
		require.True(t, reused)
		c.Release(pa, conn, false)
		_, err = conn.Write([]byte("x"))
		assert.Error(t, err)
		_, reused, err = c.Get(ctxT(t), pa)
		require.NoError(t, err)
		assert.False(t, reused)
	})

	t.Run("negative idle timeout never pools", func(t *testing.T) {
		p := *pa
		p.IdleTimeout = -1
		conn, _, err := c.Get(ctxT(t), &p)
		require.NoError(t, err)
		c.Release(&p, conn, true)
		assert.Equal(t, 0, c.Stats().Idle)
		_, err = conn.Write([]byte("x"))
		assert.Error(t, err)
	})

	t.Run("pooling off", func(t *testing.T) {
		off := newConnector(t, connector.Options{PoolSize: -1})
		conn, _, err := off.Get(ctxT(t), pa)
		require.NoError(t, err)
		off.Release(pa, conn, true)
		_, reused, err := off.Get(ctxT(t), pa)
		require.NoError(t, err)
		assert.False(t, reused)
	})
}

func TestConnector_IdleClosedByPeer(t *testing.T) {
	closeNow := make(chan struct{})
	srv := startServer(t, "tcp", nil, func(c net.Conn) {
		buf := make([]byte, 4)
		_, _ = c.Read(buf)
		_, _ = c.Write(buf)
		<-closeNow
	})
	c := newConnector(t, connector.Options{})
	p := peer.New(srv.addr, false, "")
	conn, _, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	echo(t, conn, "ping")
	c.Release(p, conn, true)
	require.Equal(t, 1, c.Stats().Idle)

	close(closeNow) // the server closes its end
	require.Eventually(t, func() bool { return c.Stats().PeerClosed == 1 }, 5*time.Second, 5*time.Millisecond)
	_, reused, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	assert.False(t, reused)
}

func TestConnector_IdleTimeout(t *testing.T) {
	srv := startServer(t, "tcp", nil, nil)
	c := newConnector(t, connector.Options{IdleTimeout: 20 * time.Millisecond})
	p := peer.New(srv.addr, false, "")
	conn, _, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	c.Release(p, conn, true)
	require.Eventually(t, func() bool { return c.Stats().Expired == 1 }, 5*time.Second, 5*time.Millisecond)
	_, reused, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	assert.False(t, reused)
}

func TestConnector_CustomTLSClient(t *testing.T) {
	env := newTLSEnv(t, []string{"a.example"}, []string{"h2"}, nil)
	var calls int
	var mu sync.Mutex
	tc := connector.TLSClientFunc(func(ctx context.Context, raw net.Conn, p *peer.Peer, alpn []string) (net.Conn, string, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		c := tls.Client(raw, connector.ClientConfig(p, alpn))
		if err := c.HandshakeContext(ctx); err != nil {
			return nil, "", err
		}
		return c, c.ConnectionState().NegotiatedProtocol, nil
	})
	c := newConnector(t, connector.Options{TLS: tc})
	p := peer.New(env.srv.addr, true, "a.example")
	p.CA = env.roots
	p.ALPN = peer.ALPNH2H1
	conn, _, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	defer conn.Close()
	assert.Equal(t, 2, conn.HTTPVersion())
	assert.Equal(t, 1, calls)

	p.SNI = "wrong.example"
	_, _, err = c.Get(ctxT(t), p)
	requireErr(t, err, perr.InvalidCert, true)
}

func TestNew_Invalid(t *testing.T) {
	_, err := connector.New(connector.Options{IdleTimeout: -1})
	assert.Error(t, err)
}

func TestConnector_ConcurrentSafe(t *testing.T) {
	srv := startServer(t, "tcp", nil, nil)
	c := newConnector(t, connector.Options{PoolSize: 4})
	peers := []*peer.Peer{peer.New(srv.addr, false, ""), peer.New(srv.addr, false, "")}
	peers[1].GroupKey = 1
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			p := peers[w%2]
			for range rounds {
				conn, _, err := c.Get(context.Background(), p)
				if err != nil {
					errs <- err
					return
				}
				if conn.Key() != p.Key() {
					errs <- errors.New("connection of another peer handed out")
					return
				}
				msg := []byte("abc")
				if _, err := conn.Write(msg); err != nil {
					errs <- err
					return
				}
				if _, err := conn.Read(msg); err != nil {
					errs <- err
					return
				}
				c.Release(p, conn, true)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := c.Stats()
	assert.LessOrEqual(t, st.Idle, 4)
	assert.Positive(t, st.Hits)
}
