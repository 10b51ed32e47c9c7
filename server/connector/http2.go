package connector

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http2"
)

// HTTP2Stream returns a new HTTP/2 stream to p, multiplexed on a
// connection of the Connector's HTTP/2 client when one of p's (an equal
// peer.Key) has a free stream slot, else on a new connection: dial and, for
// TLS peers, a handshake offering p.ALPN, which must pick "h2"; a plaintext
// peer must have ALPN peer.ALPNH2 (h2c with prior knowledge). reused reports
// whether the connection carried streams before (retry decisions depend
// on it). A connection carries at most p.MaxH2Streams streams at once (if
// set) and the server's SETTINGS_MAX_CONCURRENT_STREAMS.
//
// When the peer cannot speak HTTP/2 the error is a retryable
// perr.H2Downgrade (errors.Is(err, perr.H2Downgrade)), and the caller falls
// back to HTTP1Session: when p.ALPN is ALPNH1 (or ALPNH2H1 without TLS),
// after PreferH1(p), or when a new TLS connection negotiated "http/1.1".
// That connection is not wasted: it is pooled, and the HTTP1Session that
// follows gets it (with reused true).
//
// The caller must Close the stream. Other errors are those of Dial and of
// http2.Client.NewStream; after Close, HTTP2Stream fails with
// ConnectionClosed. p's ReadTimeout and WriteTimeout do not apply to
// HTTP/2 streams.
func (c *Connector) HTTP2Stream(ctx context.Context, p *peer.Peer) (s *http2.Stream, reused bool, err error) {
	if err := p.Validate(); err != nil {
		return nil, false, perr.Create(perr.InternalError, perr.Internal, "connect "+p.String(), err)
	}
	key := p.Key()
	h2OK := p.ALPN == peer.ALPNH2 || (p.TLS && p.ALPN == peer.ALPNH2H1)
	if _, ok := c.preferH1.Load(key); ok {
		h2OK = false
	}
	if !h2OK {
		return nil, false, perr.Explain(perr.H2Downgrade,
			target(p)+": peer is not set up for HTTP/2 (ALPN "+p.ALPN.String()+")").AsUp().SetRetry(true)
	}
	cl, err := c.h2.client(p)
	if err != nil {
		return nil, false, err
	}
	s, err = cl.NewStreamWith(ctx, c.h2.key(key), http2.StreamOptions{MaxStreamsPerConn: p.MaxH2Streams},
		func(ctx context.Context) (net.Conn, error) { return c.dialH2(ctx, p) })
	if err != nil {
		return nil, false, err
	}
	return s, s.Reused(), nil
}

// dialH2 makes a new connection for the HTTP/2 client.
func (c *Connector) dialH2(ctx context.Context, p *peer.Peer) (net.Conn, error) {
	conn, err := c.dial(ctx, p, false)
	if err != nil {
		return nil, err
	}
	if !conn.TLS() {
		return conn, nil // h2c: prior knowledge
	}
	if conn.ALPN() != "h2" {
		// The server chose HTTP/1.1: keep the connection for the
		// HTTP1Session the caller falls back to.
		alpn := conn.ALPN()
		c.Release(p, conn, true)
		return nil, perr.Explain(perr.H2Downgrade,
			target(p)+": peer did not negotiate h2 (ALPN "+strconv.Quote(alpn)+")").AsUp().SetRetry(true)
	}
	st, _ := conn.TLSState()
	return &h2TLSConn{Conn: conn, cs: st}, nil
}

// h2TLSConn shows the http2 client that a connection runs TLS (for the
// https scheme and its ALPN check), whatever TLSClient made it.
type h2TLSConn struct {
	*Conn
	cs tls.ConnectionState
}

// ConnectionState returns the TLS state of the connection.
func (c *h2TLSConn) ConnectionState() tls.ConnectionState { return c.cs }

// h2Settings are the per-peer HTTP/2 settings that need a client of their
// own (x/net/http2 sets them per transport).
type h2Settings struct {
	ping         time.Duration
	stream, conn int32
}

// h2Clients are the Connector's HTTP/2 clients, one per h2Settings in use
// (usually one).
type h2Clients struct {
	opts http2.ClientOptions

	mu      sync.Mutex
	clients map[h2Settings]*http2.Client
	closed  bool

	keys sync.Map // peer.Key → string: the http2.Client key of a peer
	next atomic.Uint64
}

// client returns the HTTP/2 client for p's settings.
func (h *h2Clients) client(p *peer.Peer) (*http2.Client, error) {
	s := h2Settings{ping: p.H2PingInterval, stream: window(p.H2StreamWindowSize), conn: window(p.H2ConnectionWindowSize)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, perr.Explain(perr.ConnectionClosed, "connector is closed").AsUp()
	}
	if cl := h.clients[s]; cl != nil {
		return cl, nil
	}
	o := h.opts
	if s.ping > 0 {
		o.PingInterval = s.ping
	}
	if s.stream > 0 {
		o.StreamWindow = s.stream
	}
	if s.conn > 0 {
		o.ConnWindow = s.conn
	}
	cl, err := http2.NewClient(o)
	if err != nil {
		return nil, perr.Create(perr.InternalError, perr.Internal, "h2 client for "+p.String(), err)
	}
	if h.clients == nil {
		h.clients = make(map[h2Settings]*http2.Client)
	}
	h.clients[s] = cl
	return cl, nil
}

// window converts a peer's window size (0: default) to the client's type.
func window(v uint32) int32 { return int32(min(v, 1<<31-1)) }

// key returns the http2.Client key of a peer key: peers with equal Keys,
// and no others, share HTTP/2 connections.
func (h *h2Clients) key(k peer.Key) string {
	if v, ok := h.keys.Load(k); ok {
		return v.(string)
	}
	v, _ := h.keys.LoadOrStore(k, "peer-"+strconv.FormatUint(h.next.Add(1), 10))
	return v.(string)
}

func (h *h2Clients) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, cl := range h.clients {
		_ = cl.Close()
	}
	h.clients = nil
}
