package connector

import (
	"crypto/tls"
	"net"
	"time"

	"github.com/pingora-go/pingora/server/internal/deadline"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/tlsbackend"
)

// Conn is a connection to a peer made by a Connector: the net.Conn
// (for TLS peers the TLSClient's connection, a tlsbackend.Conn with the
// default one) plus what was negotiated. Read, Write, Close and deadlines
// are the embedded net.Conn's; SetReadTimeout and SetWriteTimeout set them
// coarsely.
// Like a net.Conn it may be read and written concurrently; hand it back with
// Connector.Release or Close it.
type Conn struct {
	net.Conn
	key     peer.Key
	alpn    string
	version uint8
	tls     bool
	rd, wd  deadline.Coarse // kept by SetReadTimeout and SetWriteTimeout
	probe   *idleProbe      // made by CanCheckIdle
}

// Socket returns the TCP or Unix socket under a plaintext connection,
// whose Read and Write are c's own (c adds nothing to them), so that a
// protocol session may do its I/O on the socket directly; nil over TLS.
func (c *Conn) Socket() net.Conn {
	if c.tls {
		return nil
	}
	switch c.Conn.(type) {
	case *net.TCPConn, *net.UnixConn:
		return c.Conn
	}
	return nil
}

// ALPN returns the protocol negotiated by TLS ALPN: "h2", "http/1.1", or ""
// when none was (or for plaintext connections).
func (c *Conn) ALPN() string { return c.alpn }

// HTTPVersion is the HTTP major version to speak on the connection, 1 or 2:
// 2 when TLS negotiated "h2", or on a plaintext connection to a peer with
// ALPN peer.ALPNH2 (HTTP/2 with prior knowledge, h2c); else 1.
func (c *Conn) HTTPVersion() int { return int(c.version) }

// TLS reports whether the connection runs TLS.
func (c *Conn) TLS() bool { return c.tls }

// TLSState returns the state of a TLS connection in crypto/tls terms: the
// connection's own for crypto/tls (the default TLSClient), else built from
// a tlsbackend.Conn's State (version, cipher suite, ALPN, server name, peer
// certificates, resumption). It reports false for a plaintext connection
// and one whose TLSClient offers neither.
func (c *Conn) TLSState() (tls.ConnectionState, bool) {
	switch tc := c.Conn.(type) {
	case interface{ ConnectionState() tls.ConnectionState }:
		return tc.ConnectionState(), true
	case tlsbackend.Conn:
		st := tc.State()
		return tls.ConnectionState{
			Version:            st.Version,
			HandshakeComplete:  true,
			DidResume:          st.DidResume,
			CipherSuite:        st.CipherSuite,
			NegotiatedProtocol: st.NegotiatedProtocol,
			ServerName:         st.ServerName,
			PeerCertificates:   st.PeerCertificates,
		}, true
	}
	return tls.ConnectionState{}, false
}

// Key is the peer key the connection was made for: it is only ever handed
// out again for peers with an equal Key.
func (c *Conn) Key() peer.Key { return c.key }

// httpVersion decides the HTTP version of a new connection (Pingora's
// connectors/http: negotiated h2 → 2; other ALPN → 1; no ALPN → 1 over TLS,
// else 2 only for an h2-only peer).
func httpVersion(p *peer.Peer, useTLS bool, negotiated string) uint8 {
	switch {
	case negotiated == "h2":
		return 2
	case negotiated != "" || useTLS:
		return 1
	case p.ALPN.MinHTTPVersion() == 2:
		return 2
	}
	return 1
}

// SetReadTimeout makes reads starting now time out after d (d <= 0:
// never), coarsely: the deadline already set is kept while it lies between
// d and 9/8·d from now, so a connection carrying small exchanges back to
// back does not pay for a new deadline on every read (see
// protocol/http1.TimeoutSetter, which ClientSession uses).
func (c *Conn) SetReadTimeout(d time.Duration) error { return c.rd.Set(c.Conn.SetReadDeadline, d) }

// SetWriteTimeout is SetReadTimeout for writes.
func (c *Conn) SetWriteTimeout(d time.Duration) error { return c.wd.Set(c.Conn.SetWriteDeadline, d) }

// SetDeadline sets both deadlines exactly, as net.Conn's does.
func (c *Conn) SetDeadline(t time.Time) error {
	c.rd.Forget()
	c.wd.Forget()
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline sets the read deadline exactly, as net.Conn's does.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.rd.Forget()
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline exactly, as net.Conn's does.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wd.Forget()
	return c.Conn.SetWriteDeadline(t)
}
