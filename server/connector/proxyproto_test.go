package connector_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
	"github.com/pingora-go/pingora/server/peer"
)

// proxyServer is an echo server that requires a PROXY header on every
// connection (then TLS, if cfg is set) and records the headers it read.
type proxyServer struct {
	*server
	mu      sync.Mutex
	headers []*proxyproto.Header
}

func startProxyServer(t *testing.T, cfg *tls.Config) *proxyServer {
	ps := &proxyServer{}
	ps.server = startServer(t, "tcp", nil, func(c net.Conn) {
		pc, err := proxyproto.Read(c, proxyproto.Options{})
		if err != nil {
			return // closing tells the client
		}
		ps.mu.Lock()
		ps.headers = append(ps.headers, pc.Header())
		ps.mu.Unlock()
		var rw net.Conn = pc
		if cfg != nil {
			tc := tls.Server(pc, cfg)
			if tc.Handshake() != nil {
				return
			}
			rw = tc
		}
		_, _ = io.Copy(rw, rw)
	})
	return ps
}

func (ps *proxyServer) seenHeaders() []*proxyproto.Header {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]*proxyproto.Header(nil), ps.headers...)
}

func TestConnector_ProxyProtocol(t *testing.T) {
	tests := []struct {
		name     string
		version  int
		src, dst string // empty: no addresses
		wantSrc  string // RemoteAddr the server sees; empty: its own view
		wantDst  string
	}{
		{"v1 ipv4", 1, "192.0.2.7:40000", "198.51.100.1:443", "192.0.2.7:40000", "198.51.100.1:443"},
		{"v2 ipv4", 2, "192.0.2.7:40000", "198.51.100.1:443", "192.0.2.7:40000", "198.51.100.1:443"},
		{"v1 ipv6", 1, "[2001:db8::7]:5", "[2001:db8::1]:80", "[2001:db8::7]:5", "[2001:db8::1]:80"},
		{"v2 ipv6", 2, "[2001:db8::7]:5", "[2001:db8::1]:80", "[2001:db8::7]:5", "[2001:db8::1]:80"},
		{"v2 mapped ipv4", 2, "[::ffff:192.0.2.7]:5", "[::ffff:198.51.100.1]:80", "192.0.2.7:5", "198.51.100.1:80"},
		{"v1 mixed families", 1, "192.0.2.7:5", "[2001:db8::1]:80", "192.0.2.7:5", "[2001:db8::1]:80"}, // sent as TCP6, IPv4-mapped
		{"v1 unknown", 1, "", "", "", ""},
		{"v2 unspec", 2, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startProxyServer(t, nil)
			c := newConnector(t, connector.Options{})
			p := peer.New(srv.addr, false, "")
			p.ProxyProtocol = tt.version
			if tt.src != "" {
				p.ProxySource, p.ProxyDestination = netip(tt.src), netip(tt.dst)
			}
			conn, _, err := c.Get(ctxT(t), p)
			require.NoError(t, err)
			defer conn.Close()
			echo(t, conn, "after the header")
			hs := srv.seenHeaders()
			require.Len(t, hs, 1)
			h := hs[0]
			assert.Equal(t, tt.version, h.Version)
			if tt.wantSrc == "" {
				assert.Nil(t, h.Source)
				assert.Nil(t, h.Destination)
				return
			}
			require.NotNil(t, h.Source)
			assert.Equal(t, tt.wantSrc, h.Source.String())
			assert.Equal(t, tt.wantDst, h.Destination.String())
		})
	}
}

func TestConnector_ProxyProtocolBeforeTLS(t *testing.T) {
	ca := newCA(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "a.example")}}
	srv := startProxyServer(t, cfg)
	c := newConnector(t, connector.Options{})
	p := peer.New(srv.addr, true, "a.example")
	p.CA = []*x509.Certificate{ca.cert}
	p.ProxyProtocol = 2
	p.ProxySource, p.ProxyDestination = netip("192.0.2.7:40000"), netip("198.51.100.1:443")
	conn, _, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	defer conn.Close()
	assert.True(t, conn.TLS())
	echo(t, conn, "over TLS")
	hs := srv.seenHeaders()
	require.Len(t, hs, 1)
	assert.Equal(t, "192.0.2.7:40000", hs[0].Source.String())
}

// A connection that announced one client is never handed to another; the
// same client gets it back.
func TestConnector_ProxyProtocolPooledPerClient(t *testing.T) {
	srv := startProxyServer(t, nil)
	c := newConnector(t, connector.Options{})
	client := func(src string) *peer.Peer {
		p := peer.New(srv.addr, false, "")
		p.ProxyProtocol = 1
		p.ProxySource, p.ProxyDestination = netip(src), netip("198.51.100.1:80")
		return p
	}
	a := client("192.0.2.7:40000")
	first, _, err := c.Get(ctxT(t), a)
	require.NoError(t, err)
	echo(t, first, "a")
	c.Release(a, first, true)

	b := client("192.0.2.8:40000")
	other, reused, err := c.Get(ctxT(t), b)
	require.NoError(t, err)
	assert.False(t, reused)
	assert.NotSame(t, first, other)
	echo(t, other, "b")
	c.Release(b, other, true)

	again, reused, err := c.Get(ctxT(t), client("192.0.2.7:40000"))
	require.NoError(t, err)
	defer again.Close()
	assert.True(t, reused)
	assert.Same(t, first, again)
	echo(t, again, "a again")

	hs := srv.seenHeaders()
	require.Len(t, hs, 2, "one header per connection")
	assert.Equal(t, "192.0.2.7:40000", hs[0].Source.String())
	assert.Equal(t, "192.0.2.8:40000", hs[1].Source.String())
}

// A peer that is not listening fails the connect, retryable, and the
// error says which peer.
func TestConnector_ProxyProtocolRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := newConnector(t, connector.Options{})
	p := peer.New(addr, false, "")
	p.ProxyProtocol = 2
	_, _, err = c.Get(ctxT(t), p)
	pe := requireErr(t, err, perr.ConnectRefused, true)
	assert.Contains(t, pe.Error(), addr)
}
