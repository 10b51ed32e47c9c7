package l4

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
)

// Defaults of Options.
const (
	// DefaultPeekTimeout bounds the wait for a whole ClientHello.
	DefaultPeekTimeout = 5 * time.Second
	// DefaultMaxPeek is the most bytes read to find a whole ClientHello
	// (nginx's preread_buffer_size).
	DefaultMaxPeek = 16 << 10
	// DefaultIdleTimeout closes a tunnel with no byte moving either way
	// for this long (nginx stream's proxy_timeout is 10 minutes).
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultConnectRetries is how many times a failed connect is retried.
	DefaultConnectRetries = 1
)

// bufSize is the size of each direction's copy buffer.
const bufSize = 32 << 10

// ConnInfo is what routing knows about a client connection. Upstream gets
// it before the connect and OnClose after the tunnel ended; neither may
// keep it afterwards or modify it.
type ConnInfo struct {
	// ClientAddr and LocalAddr are the client connection's remote and local
	// addresses: with a PROXY protocol listener, the addresses its header
	// announced.
	ClientAddr, LocalAddr net.Addr
	// TLS reports whether the client's first bytes were a TLS ClientHello.
	// Only set with Options.PeekTLS.
	TLS bool
	// SNI is the ClientHello's server name, lower-cased; "" if none.
	SNI string
	// ALPN is the ClientHello's ALPN protocol list; nil if none.
	ALPN []string
	// Conn is the accepted connection, for what the listener knows of it:
	// its Key, its Accepted time and, with a TLS listener, the TLS state
	// (type-assert Conn.Conn). Upstream and OnClose must not read, write or
	// close it.
	Conn *listener.Conn
}

// Stats are the counters of one connection, for OnClose.
type Stats struct {
	// BytesFromClient is the bytes read from the client and written to
	// the upstream, the peeked ClientHello included.
	BytesFromClient int64
	// BytesToClient is the bytes read from the upstream and written to
	// the client.
	BytesToClient int64
	// Connected is the time from accept to the upstream connection being
	// made; 0 if it never was.
	Connected time.Duration
	// Duration is the time from accept to the end of the connection.
	Duration time.Duration
}

// Options configures a Proxy. Upstream is required; every other field's
// zero value is a documented default.
type Options struct {
	// Upstream picks the peer for a connection. It is called with attempt
	// 0, then again with 1, 2, … for each connect retry, and may return
	// another peer each time. A returned error (or a nil peer) closes the
	// client connection without a retry. Required.
	Upstream func(ctx context.Context, info *ConnInfo, attempt int) (*peer.Peer, error)
	// PeekTLS reads the client's TLS ClientHello before Upstream is called,
	// so that it can route on ConnInfo.TLS, SNI and ALPN; the bytes read
	// are then sent to the upstream before anything else (TLS passthrough:
	// the proxy never terminates TLS). A client whose first byte is not a
	// TLS handshake record is routed with TLS false at once, and so is one
	// that sends nothing for PeekTimeout (a protocol where the server
	// speaks first). A ClientHello that is malformed, longer than MaxPeek,
	// or not complete when PeekTimeout expires or the client stops sending
	// closes the connection without connecting (nginx's ssl_preread closes
	// on a full buffer too). Ignored on a TLS listener, whose stream holds
	// no ClientHello. If false, Upstream is called at once.
	PeekTLS bool
	// PeekTimeout bounds the wait for the whole ClientHello, counted from
	// the start of ServeConn. If zero, DefaultPeekTimeout (5 s).
	PeekTimeout time.Duration
	// MaxPeek is the most bytes read for a ClientHello. If zero,
	// DefaultMaxPeek (16 KiB). Above 32 KiB (the copy buffer size) it
	// costs an allocation per connection.
	MaxPeek int
	// IdleTimeout closes both sides of a tunnel when no byte was read or
	// written on either side for this long. If zero, DefaultIdleTimeout
	// (10 minutes); if negative, tunnels never time out.
	IdleTimeout time.Duration
	// ConnectRetries is how many times a retryable connect failure (one
	// where nothing was sent: refused, timed out, no route, TLS handshake
	// failure) is retried, each time on the peer Upstream picks next. If
	// zero, DefaultConnectRetries (1); if negative, none.
	ConnectRetries int
	// Connector makes the upstream connections, always new ones: a tunnel
	// is never pooled. If nil, the Proxy makes one with pooling off and
	// closes it in Close.
	Connector *connector.Connector
	// Logger receives the error log: failed connects at Warn, Upstream
	// errors at Info, panics at Error, and every other connection that
	// ended with an error at Debug. If nil, slog.Default().
	Logger *slog.Logger
	// OnClose, if set, is called once per connection after both
	// directions ended and both sides were closed: the access-log hook.
	// p is the peer of the last connect attempt (nil if none was made);
	// err is nil for a tunnel that ended by EOF both ways, else a
	// *perr.Error (errors.Is(err, perr.ConnectRefused), …).
	OnClose func(info *ConnInfo, p *peer.Peer, st Stats, err error)
}

// ErrNoUpstream is returned by New when Options.Upstream is nil.
var ErrNoUpstream = errors.New("l4: Options.Upstream is required")

// Proxy is a TCP proxy: a server.App that connects each accepted
// connection to the upstream peer Options.Upstream picks and copies bytes
// both ways. Create it with New. It is safe for concurrent use.
type Proxy struct {
	opts     Options
	conns    *connector.Connector
	ownConns bool
	log      *slog.Logger
}

var (
	_ server.App     = (*Proxy)(nil)
	_ server.Cleaner = (*Proxy)(nil)
)

// New returns a Proxy for opts with its defaults filled in. It fails if
// Upstream is nil or PeekTimeout or MaxPeek is negative. opts is not
// modified.
func New(opts Options) (*Proxy, error) {
	if opts.Upstream == nil {
		return nil, ErrNoUpstream
	}
	if opts.PeekTimeout < 0 {
		return nil, fmt.Errorf("l4: negative PeekTimeout %v", opts.PeekTimeout)
	}
	if opts.MaxPeek < 0 {
		return nil, fmt.Errorf("l4: negative MaxPeek %d", opts.MaxPeek)
	}
	if opts.PeekTimeout == 0 {
		opts.PeekTimeout = DefaultPeekTimeout
	}
	if opts.MaxPeek == 0 {
		opts.MaxPeek = DefaultMaxPeek
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	switch {
	case opts.ConnectRetries == 0:
		opts.ConnectRetries = DefaultConnectRetries
	case opts.ConnectRetries < 0:
		opts.ConnectRetries = 0
	}
	p := &Proxy{opts: opts, conns: opts.Connector, log: opts.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.conns == nil {
		c, err := connector.New(connector.Options{PoolSize: -1})
		if err != nil {
			return nil, fmt.Errorf("l4: %w", err)
		}
		p.conns, p.ownConns = c, true
	}
	return p, nil
}

// Connector returns the connector making upstream connections.
func (p *Proxy) Connector() *connector.Connector { return p.conns }

// Close closes the connector if the Proxy made it. Tunnels in progress
// are not touched: the server ends them by cancelling ServeConn's context.
func (p *Proxy) Close() error {
	if p.ownConns {
		return p.conns.Close()
	}
	return nil
}

// Cleanup calls Close; the server calls it once the service stopped.
func (p *Proxy) Cleanup() { _ = p.Close() }

// ServeConn proxies one client connection and closes it before returning.
// It implements server.App.
//
// Closing shutdown does not end a tunnel (as with nginx stream, a
// graceful shutdown waits for tunnels to end on their own); cancelling
// ctx closes both sides at once. Every goroutine ServeConn starts has
// ended when it returns.
func (p *Proxy) ServeConn(ctx context.Context, c *listener.Conn, shutdown <-chan struct{}) {
	var nc net.Conn = c.Conn
	if nc == nil {
		nc = c.Raw
	}
	start := c.Accepted
	if start.IsZero() {
		start = time.Now()
	}
	s := &session{
		p:      p,
		client: nc,
		start:  start,
		info:   ConnInfo{ClientAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr(), Conn: c},
	}
	s.callbacks.Add(1)
	stopCtx := context.AfterFunc(ctx, func() {
		defer s.callbacks.Done()
		s.end(perr.Because(perr.ConnectionClosed, "l4: server stopped", context.Cause(ctx)).AsIn())
	})
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("l4: panic serving a connection", "client", s.info.ClientAddr, "panic", r, "stack", string(debug.Stack()))
			s.end(perr.Explain(perr.InternalError, fmt.Sprintf("l4: panic: %v", r)).AsIn())
		}
		if stopCtx() {
			s.callbacks.Done()
		}
		s.finish()
	}()
	s.serve(ctx)
}

// session is one client connection.
type session struct {
	p      *Proxy
	client net.Conn
	start  time.Time
	info   ConnInfo
	peer   *peer.Peer // of the last connect attempt
	stats  Stats

	mu    sync.Mutex
	up    net.Conn // set once connected
	ended bool     // both sides closed; err is the reason
	err   error
	idle  *time.Timer // nil if none
	done  bool        // finish began: callbacks do nothing more

	// callbacks counts the ctx and idle-timer callbacks that may still
	// run, so that none outlives ServeConn.
	callbacks sync.WaitGroup
	// last is when a byte was last read or written either way, as a
	// duration since start.
	last atomicDuration
}

// serve runs the connection: peek, connect, copy.
func (s *session) serve(ctx context.Context) {
	p := s.p
	peek := p.opts.PeekTLS && !s.info.Conn.TLS
	size := 0
	if peek {
		size = p.opts.MaxPeek
	}
	buf := getBuf(size) // the peek buffer, then the client-to-upstream one
	defer putBuf(buf)
	var peeked []byte
	if peek {
		n, err := s.peek(buf.b)
		if err != nil {
			s.end(err)
			return
		}
		peeked = buf.b[:n]
	}
	up, err := s.connect(ctx)
	if err != nil {
		s.end(err)
		return
	}
	if !s.setUp(up) {
		return
	}
	s.stats.Connected = time.Since(s.start)
	s.armIdle()

	back := getBuf(0)
	defer putBuf(back)
	var wg sync.WaitGroup
	wg.Go(func() {
		s.stats.BytesToClient = s.pipe(s.client, up, nil, back.b, perr.Upstream)
	})
	s.stats.BytesFromClient = s.pipe(up, s.client, peeked, buf.b, perr.Downstream)
	wg.Wait()
}

// setUp records the upstream connection; if the session already ended it
// closes conn and reports false.
func (s *session) setUp(conn net.Conn) bool {
	s.mu.Lock()
	ended := s.ended
	if !ended {
		s.up = conn
	}
	s.mu.Unlock()
	if ended {
		_ = conn.Close()
	}
	return !ended
}

// end closes both sides, once; the first reason given is kept (nil: a
// clean end).
func (s *session) end(err error) {
	s.mu.Lock()
	closeFn := s.endLocked(err)
	s.mu.Unlock()
	closeFn()
}

// endLocked marks the session ended with err unless it already was, and
// returns the function that closes both sides, to be called without s.mu
// (closing a TLS connection may write a close_notify alert).
// s.mu must be held.
func (s *session) endLocked(err error) (closeFn func()) {
	if s.ended {
		return func() {}
	}
	s.ended, s.err = true, err
	client, up := s.client, s.up
	return func() {
		_ = client.Close()
		if up != nil {
			_ = up.Close()
		}
	}
}

// finish closes everything, waits for the callbacks, logs and calls
// OnClose.
func (s *session) finish() {
	s.mu.Lock()
	s.done = true
	if s.idle != nil && s.idle.Stop() {
		s.callbacks.Done()
	}
	closeFn := s.endLocked(nil)
	err := s.err
	s.mu.Unlock()
	closeFn()
	s.callbacks.Wait()

	s.stats.Duration = time.Since(s.start)
	if err != nil && s.p.log.Enabled(context.Background(), slog.LevelDebug) {
		s.p.log.Debug("l4: connection ended", "client", s.info.ClientAddr, "peer", peerString(s.peer),
			"from_client", s.stats.BytesFromClient, "to_client", s.stats.BytesToClient, "error", err)
	}
	if s.p.opts.OnClose != nil {
		s.onClose(err)
	}
}

// onClose calls OnClose, recovering a panic.
func (s *session) onClose(err error) {
	defer func() {
		if r := recover(); r != nil {
			s.p.log.Error("l4: panic in OnClose", "client", s.info.ClientAddr, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	s.p.opts.OnClose(&s.info, s.peer, s.stats, err)
}

// connect asks Upstream for a peer and dials it, retrying retryable
// failures on the next peer Upstream picks.
func (s *session) connect(ctx context.Context) (net.Conn, error) {
	p := s.p
	for attempt := 0; ; attempt++ {
		pr, err := s.pick(ctx, attempt)
		if err != nil {
			p.log.Info("l4: no upstream peer", "client", s.info.ClientAddr, "sni", s.info.SNI, "attempt", attempt, "error", err)
			return nil, err
		}
		pr = pr.ForClient(s.info.ClientAddr, s.info.LocalAddr) // PROXY protocol peers announce this client
		s.peer = pr
		conn, err := p.conns.Dial(ctx, pr)
		if err == nil {
			return conn.Conn, nil
		}
		retry := attempt < p.opts.ConnectRetries && ctx.Err() == nil && retryable(err)
		p.log.Warn("l4: connect to upstream failed", "client", s.info.ClientAddr, "peer", pr.String(),
			"attempt", attempt, "retry", retry, "error", err)
		if !retry {
			return nil, err
		}
	}
}

// pick calls Upstream, turning a panic, a nil peer or an untyped error into
// a *perr.Error.
func (s *session) pick(ctx context.Context, attempt int) (pr *peer.Peer, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.p.log.Error("l4: panic in Upstream", "client", s.info.ClientAddr, "panic", r, "stack", string(debug.Stack()))
			pr, err = nil, perr.Explain(perr.InternalError, fmt.Sprintf("l4: Upstream panicked: %v", r)).AsIn()
		}
	}()
	pr, err = s.p.opts.Upstream(ctx, &s.info, attempt)
	switch {
	case err != nil:
		if _, ok := errors.AsType[*perr.Error](err); !ok {
			err = perr.Because(perr.InternalError, "l4: Upstream", err).AsIn()
		}
		return nil, err
	case pr == nil:
		return nil, perr.Explain(perr.InternalError, "l4: Upstream returned no peer").AsIn()
	}
	return pr, nil
}

// retryable reports whether a connect error may be retried on another
// peer: the connector marks the failures where nothing was sent.
func retryable(err error) bool {
	e, ok := errors.AsType[*perr.Error](err)
	return ok && e.Retry()
}

func peerString(p *peer.Peer) string {
	if p == nil {
		return ""
	}
	return p.String()
}
