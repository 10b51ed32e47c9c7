package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/pool"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http2"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
)

// Defaults of Options.
const (
	// DefaultPoolSize is the number of idle connections kept over all peers
	// (Pingora's upstream_keepalive_pool_size).
	DefaultPoolSize = pool.DefaultSize
	// DefaultIdleTimeout is how long an idle connection stays pooled when
	// neither the peer nor Options sets it.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultHandshakeTimeout bounds a TLS handshake when the peer has no
	// TotalConnectionTimeout (Pingora's TLS handshake default).
	DefaultHandshakeTimeout = 60 * time.Second
)

// Options configures a Connector. The zero value is ready to use.
type Options struct {
	// PoolSize is the most idle connections kept, over all peers; the least
	// recently released is closed to make room. If zero, DefaultPoolSize
	// (128). If negative, nothing is pooled.
	PoolSize int
	// IdleTimeout is how long an idle connection stays pooled when its
	// peer's IdleTimeout is zero. If zero, DefaultIdleTimeout (60 s).
	IdleTimeout time.Duration
	// HandshakeTimeout bounds each TLS handshake of a peer without
	// TotalConnectionTimeout. If zero, DefaultHandshakeTimeout (60 s).
	HandshakeTimeout time.Duration
	// TLS runs the TLS handshakes. If nil, a BackendTLS on tlsbackend's
	// gotls backend (crypto/tls), owned by the Connector.
	TLS TLSClient
	// HTTP2 configures the HTTP/2 clients behind HTTP2Stream; a peer's
	// H2PingInterval, H2StreamWindowSize and H2ConnectionWindowSize
	// override its fields, and its MaxH2Streams caps the streams per
	// connection. The zero value gives the http2 package defaults.
	HTTP2 http2.ClientOptions
}

// Connector makes connections to peers and keeps the idle ones in a pool
// keyed by the peer's reuse hash (Pingora's TransportConnector). Create it
// with New. All methods are safe for concurrent use.
type Connector struct {
	pool      *pool.Pool[*Conn] // nil: pooling off
	idle      time.Duration
	handshake time.Duration
	tls       TLSClient
	ownTLS    *BackendTLS // the default TLS client, closed by Close

	preferH1 sync.Map // peer.Key → struct{}: offer only http/1.1

	h2 h2Clients
}

// New returns a Connector with opts' defaults filled in. It fails on
// negative timeouts.
func New(opts Options) (*Connector, error) {
	if opts.IdleTimeout < 0 || opts.HandshakeTimeout < 0 {
		return nil, errors.New("connector: negative timeout in Options")
	}
	if _, err := http2.NewClient(opts.HTTP2); err != nil {
		return nil, fmt.Errorf("connector: HTTP2 options: %w", err)
	}
	c := &Connector{
		idle:      cmp(opts.IdleTimeout, DefaultIdleTimeout),
		handshake: cmp(opts.HandshakeTimeout, DefaultHandshakeTimeout),
		tls:       opts.TLS,
		h2:        h2Clients{opts: opts.HTTP2},
	}
	if c.tls == nil {
		t, err := NewBackendTLS(gotls.New())
		if err != nil {
			return nil, err
		}
		c.tls, c.ownTLS = t, t
	}
	if opts.PoolSize >= 0 {
		p, err := pool.New(pool.Options[*Conn]{Size: opts.PoolSize})
		if err != nil {
			return nil, fmt.Errorf("connector: %w", err)
		}
		c.pool = p
	}
	return c, nil
}

func cmp(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}

// Get returns a connection to p: an idle pooled one if there is one
// (reused is true), else a new one from Dial (reused is false). Retry
// decisions depend on reused: a request that failed on a reused connection
// may be retried, since the server may have closed it while idle.
//
// A pooled connection is handed out only to a peer with an equal Key (see
// package peer), never one whose peer closed it or sent data while idle.
// Errors are those of Dial.
func (c *Connector) Get(ctx context.Context, p *peer.Peer) (conn *Conn, reused bool, err error) {
	return c.get(ctx, p, false)
}

// get is Get; h1Only offers only http/1.1 to a new connection and never
// hands out a pooled HTTP/2 one.
func (c *Connector) get(ctx context.Context, p *peer.Peer, h1Only bool) (conn *Conn, reused bool, err error) {
	if c.pool != nil {
		key := p.Key()
		h := key.Hash()
		for {
			pc, ok := c.pool.Get(h)
			if !ok {
				break
			}
			if pc.key == key && (!h1Only || pc.version == 1) {
				return pc, true, nil
			}
			pc.Close() // a hash collision (never mix peers), or HTTP/2
		}
	}
	conn, err = c.dial(ctx, p, h1Only)
	return conn, false, err
}

// Release ends the use of conn, a connection Get or Dial returned for p. If
// reusable (the exchange on it ended cleanly and the protocol allows
// keep-alive) it is pooled for p's idle timeout (p.IdleTimeout, else
// Options.IdleTimeout) and watched: it is closed as soon as the peer closes
// it or sends data while idle. Otherwise, or if p.IdleTimeout is negative,
// it is closed. The connection is pooled under the key it was made for,
// whatever p is.
//
// Release is for connections whose reads nobody owns while idle, such as
// HTTP/1 connections. An HTTP/2 connection read by its own driver must be
// pooled by the HTTP/2 layer, not released here.
func (c *Connector) Release(p *peer.Peer, conn *Conn, reusable bool) {
	if conn == nil {
		return
	}
	idle := c.idle
	if p != nil && p.IdleTimeout != 0 {
		idle = p.IdleTimeout
	}
	if !reusable || idle < 0 || c.pool == nil {
		conn.Close()
		return
	}
	// PutWatched closes conn on failure (closed pool, deadline error).
	_ = c.pool.PutWatched(conn.key.Hash(), conn, idle)
}

// Pooling reports whether the connector keeps idle connections
// (Options.PoolSize is not negative): whether Release may pool a
// connection rather than close it.
func (c *Connector) Pooling() bool { return c.pool != nil }

// PreferH1 makes later new connections to p (to any peer with an equal
// Key) offer only HTTP/1.1 in ALPN, as Pingora does after a server asked
// to downgrade from HTTP/2 (H2Downgrade). Pooled connections are not
// affected.
func (c *Connector) PreferH1(p *peer.Peer) { c.preferH1.Store(p.Key(), struct{}{}) }

// Stats returns the counters of the connection pool (zero when pooling is
// off).
func (c *Connector) Stats() pool.Stats {
	if c.pool == nil {
		return pool.Stats{}
	}
	return c.pool.Stats()
}

// Close closes every idle connection and stops pooling: connections
// released afterwards are closed. Connections in use are not touched. The
// HTTP/2 connections are closed, failing their streams, and HTTP2Stream
// fails from then on; Get and Dial still make new connections.
func (c *Connector) Close() error {
	if c.pool != nil {
		c.pool.Close()
	}
	c.h2.close()
	if c.ownTLS != nil {
		_ = c.ownTLS.Close()
	}
	return nil
}

// errTotalTimeout is the context cause when a peer's
// TotalConnectionTimeout expires.
var errTotalTimeout = errors.New("total-connection timeout")

// Dial makes a new connection to p, never from the pool (Pingora's
// new_stream): a TCP or Unix connect under p.ConnectionTimeout, from
// p.BindTo if set, with p's keep-alive and receive buffer settings, then
// for TLS peers a handshake offering p.ALPN (http/1.1 only after
// PreferH1). TotalConnectionTimeout bounds both; without it the handshake
// has Options.HandshakeTimeout. ctx cancels both.
//
// Errors are *perr.Error with source Upstream and the address in the
// context, typed ConnectRefused, ConnectTimedout, ConnectNoRoute, BindError,
// ConnectError, InvalidCert (certificate verification failed),
// TLSHandshakeTimedout or TLSHandshakeFailure. They are marked retryable:
// nothing was sent to the peer, so the request may be tried on another
// one. Two kinds are not retryable: a cancelled ctx (ConnectError) and an
// invalid peer (InternalError, source Internal).
func (c *Connector) Dial(ctx context.Context, p *peer.Peer) (*Conn, error) {
	return c.dial(ctx, p, false)
}

func (c *Connector) dial(ctx context.Context, p *peer.Peer, h1Only bool) (*Conn, error) {
	if err := p.Validate(); err != nil {
		return nil, perr.Create(perr.InternalError, perr.Internal, "connect "+p.String(), err)
	}
	var totalAt time.Time
	if d := p.TotalConnectionTimeout; d > 0 {
		var cancel context.CancelFunc
		totalAt = time.Now().Add(d)
		ctx, cancel = context.WithTimeoutCause(ctx, d, errTotalTimeout)
		defer cancel()
	}
	raw, err := dial(ctx, p)
	if err != nil {
		return nil, dialError(ctx, p, err)
	}
	conn := &Conn{Conn: raw, key: p.Key(), tls: p.TLS}
	if !p.TLS {
		conn.version = 1
		if !h1Only {
			conn.version = httpVersion(p, false, "")
		}
		return conn, nil
	}
	alpn := p.ALPN.Protos()
	if h1Only {
		alpn = peer.ALPNH1.Protos()
	} else if _, ok := c.preferH1.Load(conn.key); ok {
		alpn = peer.ALPNH1.Protos()
	}
	hctx := ctx
	if p.TotalConnectionTimeout <= 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, c.handshake)
		defer cancel()
	}
	tc, proto, err := c.tls.Handshake(hctx, raw, p, alpn)
	if err != nil {
		raw.Close()
		return nil, tlsError(hctx, p, err, totalAt)
	}
	conn.Conn, conn.alpn = tc, proto
	conn.version = httpVersion(p, true, proto)
	return conn, nil
}

// dial makes the TCP or Unix connection.
func dial(ctx context.Context, p *peer.Peer) (net.Conn, error) {
	d := net.Dialer{Timeout: p.ConnectionTimeout}
	network := p.Network
	if network == "" {
		network = "tcp"
	}
	if !p.IsUnix() {
		switch {
		case p.NoTCPKeepAlive:
			d.KeepAlive = -1
		case p.TCPKeepAlive.Enable:
			d.KeepAliveConfig = p.TCPKeepAlive
		}
		if p.BindTo.IsValid() {
			d.LocalAddr = net.TCPAddrFromAddrPort(p.BindTo)
		}
	}
	raw, err := d.DialContext(ctx, network, p.Addr)
	if err != nil {
		return nil, err
	}
	if p.TCPRecvBuf > 0 {
		if tc, ok := raw.(*net.TCPConn); ok {
			if err := tc.SetReadBuffer(p.TCPRecvBuf); err != nil {
				raw.Close()
				return nil, err
			}
		}
	}
	if p.ProxyProtocol != 0 {
		if err := sendProxyHeader(ctx, raw, p); err != nil {
			raw.Close()
			return nil, err
		}
	}
	return raw, nil
}

// sendProxyHeader writes the peer's PROXY protocol header on a new
// connection, under ctx's deadline or, without one, the peer's
// ConnectionTimeout (a header of at most 108 bytes on a fresh socket does
// not wait for the peer in practice).
func sendProxyHeader(ctx context.Context, raw net.Conn, p *peer.Peer) error {
	h := proxyproto.Header{Command: proxyproto.Proxy}
	if src, dst := p.ProxyAddrs(); src.IsValid() {
		h.Source, h.Destination = net.TCPAddrFromAddrPort(src), net.TCPAddrFromAddrPort(dst)
	}
	var buf [proxyHeaderMax]byte
	var b []byte
	var err error
	if p.ProxyProtocol == 1 {
		b, err = h.AppendV1(buf[:0])
	} else {
		b, err = h.AppendV2(buf[:0])
	}
	if err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok && p.ConnectionTimeout > 0 {
		deadline, ok = time.Now().Add(p.ConnectionTimeout), true
	}
	if ok {
		if err := raw.SetWriteDeadline(deadline); err != nil {
			return err
		}
		defer raw.SetWriteDeadline(time.Time{})
	}
	if _, err := raw.Write(b); err != nil {
		return fmt.Errorf("sending the PROXY protocol header: %w", err)
	}
	return nil
}

// proxyHeaderMax is the longest PROXY header the connector writes: a
// version 2 header with two IPv6 addresses (16 + 36 bytes) or the longest
// version 1 line (107 bytes).
const proxyHeaderMax = 108

// target names the peer in error contexts: "connect 127.0.0.1:80".
func target(p *peer.Peer) string {
	if p.IsUnix() {
		return "connect unix:" + p.Addr
	}
	return "connect " + p.Addr
}

// dialError types a connect error.
func dialError(ctx context.Context, p *peer.Peer, err error) error {
	ctxt := target(p)
	if context.Cause(ctx) == errTotalTimeout {
		return perr.Because(perr.ConnectTimedout, ctxt+": "+errTotalTimeout.Error(), err).AsUp().SetRetry(true)
	}
	if errors.Is(err, context.Canceled) {
		return perr.Because(perr.ConnectError, ctxt, err).AsUp().SetRetry(false)
	}
	return perr.Because(connectErrorType(err), ctxt, err).AsUp().SetRetry(true)
}

// tlsError types a handshake error. totalAt is when the peer's
// TotalConnectionTimeout expires (zero: none): a TLSClient that turns the
// context deadline into a socket deadline may time out a moment before
// the context itself is done.
func tlsError(ctx context.Context, p *peer.Peer, err error, totalAt time.Time) error {
	ctxt := "tls handshake with " + p.ServerName() + " (" + target(p)[len("connect "):] + ")"
	if pe, ok := errors.AsType[*perr.Error](err); ok && pe != nil && pe.Source() == perr.Upstream {
		return pe.MoreContext(ctxt) // already typed by the TLSClient
	}
	var t perr.ErrorType
	retry := true
	switch {
	case context.Cause(ctx) == errTotalTimeout,
		isTimeout(err) && !totalAt.IsZero() && !time.Now().Before(totalAt):
		return perr.Because(perr.ConnectTimedout, ctxt+": "+errTotalTimeout.Error(), err).AsUp().SetRetry(true)
	case errors.Is(err, context.Canceled):
		t, retry = perr.ConnectError, false
	case isCertError(err):
		t = perr.InvalidCert
	case isTimeout(err) || errors.Is(err, context.DeadlineExceeded):
		t = perr.TLSHandshakeTimedout
	default:
		t = perr.TLSHandshakeFailure
	}
	return perr.Because(t, ctxt, err).AsUp().SetRetry(retry)
}
