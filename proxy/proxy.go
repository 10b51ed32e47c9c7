package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/pingora-go/pingora/server/protocol/http2"
)

// Defaults of Options.
const (
	// DefaultMaxRetries is the cap on upstream attempts per request
	// (Pingora's max_retries, counting every attempt).
	DefaultMaxRetries = 16
	// DefaultRetryBufferSize is how much of a request body is kept for
	// replay on a retry.
	DefaultRetryBufferSize = 64 << 10
	// DefaultBodyBufferSize is the size of the buffers bodies are copied
	// through, one per direction of an exchange in progress.
	DefaultBodyBufferSize = 64 << 10
)

// Options configures a Proxy. The zero value is ready to use.
type Options struct {
	// MaxRetries caps the upstream attempts of one request, the first one
	// included. If zero, 16. Negative is an error.
	MaxRetries int
	// RetryBufferSize is how many request body bytes are kept so that a
	// retry can replay them; a longer body cannot be retried once sent. If
	// zero, 64 KiB; negative: nothing is kept.
	RetryBufferSize int
	// BodyBufferSize is the size of the copy buffer of each direction
	// (the most read or written at once). Buffers are pooled: a body being
	// copied holds one, an idle keep-alive connection none. If zero, 64 KiB.
	BodyBufferSize int

	// Downstream configures HTTP/1 client connections: limits, header,
	// body, write and keep-alive timeouts (http1 defaults: 30 s whole
	// header, 60 s body idle, 30 s write, 60 s keep-alive idle between
	// requests).
	Downstream http1.Options
	// DownstreamH2 configures HTTP/2 client connections (TLS with ALPN h2,
	// or h2c when H2C is set).
	DownstreamH2 http2.ServerOptions
	// H2C serves cleartext HTTP/2 with prior knowledge on the same port as
	// HTTP/1, told apart by the client preface. If false (Pingora's
	// default), cleartext connections speak HTTP/1 only.
	H2C bool

	// Upstream configures HTTP/1 upstream sessions; a peer's ReadTimeout
	// and WriteTimeout override it.
	Upstream http1.Options
	// UpstreamH2 configures the HTTP/2 upstream client.
	UpstreamH2 http2.ClientOptions
	// Connector makes upstream connections. If nil, the proxy makes one
	// from ConnectorOptions and closes it in Cleanup.
	Connector *connector.Connector
	// ConnectorOptions configures the connector made when Connector is nil.
	ConnectorOptions connector.Options

	// AllowConnect lets CONNECT requests go through the hooks. If false,
	// they are answered 405 before any hook runs (Pingora's
	// allow_connect_method_proxying).
	AllowConnect bool

	// Via, if not empty, is the pseudonym added to a Via field of every
	// request sent upstream and every response sent downstream (RFC 9110
	// §7.6.3), e.g. "pingora" gives "Via: 1.1 pingora".
	Via string
	// XForwardedFor appends the client's IP to X-Forwarded-For upstream.
	XForwardedFor bool
	// XForwardedProto sets X-Forwarded-Proto upstream to http or https.
	XForwardedProto bool
	// Forwarded appends a Forwarded element (RFC 7239: for=, proto=, host=)
	// upstream.
	Forwarded bool

	// Compression configures the response compression module. The zero
	// value compresses nothing.
	Compression Compression

	// Logger receives the error log. If nil, slog.Default().
	Logger *slog.Logger
}

// Proxy is a programmable HTTP proxy (Pingora's HttpProxy): it serves
// downstream connections with the phases of Hooks. It implements
// server.App, so it can be added to a server.ListeningService.
//
// A Proxy is safe for concurrent use: every connection is served on its
// own goroutine.
type Proxy[C any] struct {
	hooks    Hooks[C]
	opts     Options
	conns    *connector.Connector
	ownConns bool
	h2srv    *http2.Server
	h2states sync.Pool // *reqState[C] of finished HTTP/2 streams
	bodyBufs sync.Pool // *[]byte of opts.BodyBufferSize
	h2cli    *http2.Client
	log      *slog.Logger
	closed   atomic.Bool

	via, via10, via2 string // Via values per message version
}

var _ server.App = (*Proxy[struct{}])(nil)
var _ server.Cleaner = (*Proxy[struct{}])(nil)

// ErrNoUpstreamPeer is returned by New when Hooks.UpstreamPeer is nil.
var ErrNoUpstreamPeer = errors.New("proxy: Hooks.UpstreamPeer is required")

// New returns a Proxy running h. It fills the defaults of opts, validates
// them and never modifies opts.
func New[C any](h Hooks[C], opts Options) (*Proxy[C], error) {
	if h.UpstreamPeer == nil {
		return nil, ErrNoUpstreamPeer
	}
	if opts.MaxRetries < 0 {
		return nil, errors.New("proxy: negative MaxRetries")
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = DefaultMaxRetries
	}
	switch {
	case opts.RetryBufferSize == 0:
		opts.RetryBufferSize = DefaultRetryBufferSize
	case opts.RetryBufferSize < 0:
		opts.RetryBufferSize = 0
	}
	if opts.BodyBufferSize <= 0 {
		opts.BodyBufferSize = DefaultBodyBufferSize
	}
	p := &Proxy[C]{hooks: h, opts: opts, conns: opts.Connector, log: opts.Logger}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.conns == nil {
		c, err := connector.New(opts.ConnectorOptions)
		if err != nil {
			return nil, err
		}
		p.conns, p.ownConns = c, true
	}
	if opts.Via != "" {
		p.via, p.via10, p.via2 = "1.1 "+opts.Via, "1.0 "+opts.Via, "2 "+opts.Via
	}
	var err error
	if p.h2srv, err = http2.NewServer(opts.DownstreamH2); err != nil {
		return nil, err
	}
	if p.h2cli, err = http2.NewClient(opts.UpstreamH2); err != nil {
		return nil, err
	}
	return p, nil
}

// Connector returns the connector making upstream connections.
func (p *Proxy[C]) Connector() *connector.Connector { return p.conns }

// Cleanup closes the idle upstream connections (HTTP/1 pool and HTTP/2
// connections) and the connector if the proxy made it. The server calls it
// once its service stopped; connections served afterwards still work but
// pool nothing.
func (p *Proxy[C]) Cleanup() {
	if p.closed.Swap(true) {
		return
	}
	_ = p.h2cli.Close()
	if p.ownConns {
		_ = p.conns.Close()
	}
}

// ServeConn serves one downstream connection until it closes, the client
// stops sending requests, or shutdown is closed (then the request in flight
// finishes with Connection: close and an idle connection closes at once).
// It closes conn. It implements server.App.
//
// The protocol is HTTP/2 if TLS negotiated ALPN "h2", or if Options.H2C is
// set and the client sent the HTTP/2 preface; else HTTP/1.
func (p *Proxy[C]) ServeConn(ctx context.Context, conn *listener.Conn, shutdown <-chan struct{}) {
	if shutdown == nil {
		shutdown = make(chan struct{})
	}
	var nc net.Conn = conn.Conn
	if nc == nil {
		nc = conn.Raw
	}
	ci := connInfo{accepted: conn.Accepted, local: nc.LocalAddr(), remote: nc.RemoteAddr()}
	if ci.accepted.IsZero() {
		ci.accepted = time.Now()
	}
	if cs, ok := nc.(interface{ ConnectionState() tls.ConnectionState }); ok {
		st := cs.ConnectionState()
		ci.tls = &st
		if st.NegotiatedProtocol == "h2" {
			p.serveH2(ctx, nc, ci, shutdown)
			return
		}
	} else if p.opts.H2C {
		isH2, rc, err := http2.PeekPreface(nc, time.Now().Add(headerTimeout(&p.opts.Downstream)))
		if err != nil {
			_ = rc.Close()
			return
		}
		if isH2 {
			p.serveH2(ctx, rc, ci, shutdown)
			return
		}
		// HTTP/1 parses the peeked bytes itself and then uses the
		// connection directly (vectored writes, no wrapper per call).
		raw, peeked := http2.Replayed(rc)
		p.serveH1(ctx, raw, peeked, ci, shutdown)
		return
	}
	p.serveH1(ctx, nc, nil, ci, shutdown)
}

// connInfo are the facts about a downstream connection.
type connInfo struct {
	accepted      time.Time
	local, remote net.Addr
	tls           *tls.ConnectionState
}

// logError writes one error log line unless the hook suppresses it: at
// level Error, or Debug when the client went away (status 499).
func (p *Proxy[C]) logError(s *Session, c *C, msg string, err error, code int) {
	if h := p.hooks.SuppressErrorLog; h != nil && h(s, c, err) {
		return
	}
	level := slog.LevelError
	if isClientGone(err) {
		// The client went away (499): routine, not a failure of the proxy.
		level = slog.LevelDebug
	}
	if !p.log.Enabled(s.ctx, level) {
		return
	}
	summary := ""
	if h := p.hooks.RequestSummary; h != nil {
		summary = h(s, c)
	} else {
		summary = s.RequestSummary()
	}
	p.log.Log(s.ctx, level, msg, "error", err, "status", code, "tries", s.attempts, "request", summary)
}

// isClientGone reports whether err means the downstream client went away.
func isClientGone(err error) bool {
	var e *perr.Error
	if !errors.As(err, &e) || e.Source() != perr.Downstream {
		return false
	}
	return perr.StatusCode(err) == 0
}

func headerTimeout(o *http1.Options) time.Duration {
	if o.HeaderTimeout > 0 {
		return o.HeaderTimeout
	}
	return http1.DefaultHeaderTimeout
}

// bodyBuf returns a body copy buffer; give it back with putBodyBuf once
// nothing refers to it.
func (p *Proxy[C]) bodyBuf() *[]byte {
	if b, ok := p.bodyBufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, p.opts.BodyBufferSize)
	return &b
}

func (p *Proxy[C]) putBodyBuf(b *[]byte) { p.bodyBufs.Put(b) }
