package http2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"golang.org/x/net/http2"
)

// Server defaults. Each is also stated on its ServerOptions field.
const (
	DefaultMaxConcurrentStreams  = 100
	DefaultMaxHeaderListSize     = 64 << 10
	DefaultMaxContinuationFrames = 16
	DefaultServerMaxReadFrame    = 16 << 10
	DefaultServerStreamWindow    = 1 << 20
	DefaultServerConnWindow      = 2 << 20
	DefaultIdleTimeout           = 60 * time.Second
	DefaultBodyTimeout           = 60 * time.Second
)

// Default flood limits of a Server.
var (
	DefaultResetLimit      = FloodLimit{Burst: 200, PerSecond: 100}
	DefaultLocalResetLimit = FloodLimit{Burst: 200, PerSecond: 100}
	DefaultPingLimit       = FloodLimit{Burst: 100, PerSecond: 10}
	DefaultSettingsLimit   = FloodLimit{Burst: 100, PerSecond: 10}
	DefaultEmptyFrameLimit = FloodLimit{Burst: 100, PerSecond: 10}
)

// ServerOptions configures a Server. The zero value is ready to use and
// gives the safe defaults below.
type ServerOptions struct {
	// MaxConcurrentStreams is SETTINGS_MAX_CONCURRENT_STREAMS. If zero, 100.
	MaxConcurrentStreams uint32
	// MaxHeaderListSize bounds a request's header list as RFC 9113 §6.5.2
	// counts it (name + value + 32 octets per field); a larger list gets
	// 431 and, past x/net's hard bound, a closed connection. If zero, 64 KiB.
	MaxHeaderListSize uint32
	// MaxContinuationFrames bounds the CONTINUATION frames after one
	// HEADERS frame; one more closes the connection with
	// GOAWAY(ENHANCE_YOUR_CALM). If zero, 16.
	MaxContinuationFrames int
	// MaxReadFrameSize is SETTINGS_MAX_FRAME_SIZE. If zero, 16 KiB (the
	// protocol's initial value, which also bounds per-frame memory).
	MaxReadFrameSize uint32
	// MaxDecoderHeaderTableSize is SETTINGS_HEADER_TABLE_SIZE. If zero, 4096.
	MaxDecoderHeaderTableSize uint32
	// StreamWindow is the flow-control window of each request body: how
	// much the client may send before the handler reads. If zero, 1 MiB.
	StreamWindow int32
	// ConnWindow is the connection's flow-control window, shared by all
	// request bodies. If zero, 2 MiB.
	ConnWindow int32
	// IdleTimeout closes a connection with no open stream for this long.
	// If zero, 60s; if negative, never.
	IdleTimeout time.Duration
	// ReadTimeout bounds each Session.ReadBody call. If zero, 60s; if
	// negative, unbounded.
	ReadTimeout time.Duration
	// WriteTimeout bounds each Session write, so a client that keeps its
	// flow-control window at zero stalls a stream for at most this long
	// (then RST_STREAM); a connection whose writes make no progress for
	// this long (the client stopped reading it) is closed. If zero, 60s;
	// if negative, unbounded.
	WriteTimeout time.Duration
	// PingInterval sends a PING after this long without a frame from the
	// client; no answer within PingTimeout closes the connection. If zero,
	// no pings.
	PingInterval time.Duration
	// PingTimeout. If zero, 15s.
	PingTimeout time.Duration
	// ResetLimit bounds RST_STREAM frames from the client (CVE-2023-44487,
	// "rapid reset"). If zero, DefaultResetLimit.
	ResetLimit FloodLimit
	// LocalResetLimit bounds RST_STREAM frames the server sends, which a
	// client can provoke with invalid frames (CVE-2025-8671, "MadeYouReset").
	// If zero, DefaultLocalResetLimit.
	LocalResetLimit FloodLimit
	// PingLimit bounds PING frames from the client. If zero, DefaultPingLimit.
	PingLimit FloodLimit
	// SettingsLimit bounds SETTINGS frames from the client. If zero,
	// DefaultSettingsLimit.
	SettingsLimit FloodLimit
	// EmptyFrameLimit bounds frames that carry nothing: DATA without payload
	// or END_STREAM, HEADERS and CONTINUATION without payload or
	// END_HEADERS. If zero, DefaultEmptyFrameLimit.
	EmptyFrameLimit FloodLimit
	// ErrorLog receives x/net/http2's connection error messages. If nil,
	// they are discarded: ServeConn's result and CountError report them.
	ErrorLog *log.Logger
	// CountError, if not nil, is called with a short name for each protocol
	// error and each flood ("flood_ping", "flood_rst_stream", ...).
	CountError func(errType string)
}

func (o ServerOptions) withDefaults() (ServerOptions, error) {
	def := func(v *time.Duration, d time.Duration) {
		switch {
		case *v == 0:
			*v = d
		case *v < 0:
			*v = 0
		}
	}
	if o.MaxConcurrentStreams == 0 {
		o.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	if o.MaxHeaderListSize == 0 {
		o.MaxHeaderListSize = DefaultMaxHeaderListSize
	}
	if o.MaxHeaderListSize < 1024 {
		return o, fmt.Errorf("http2: MaxHeaderListSize %d is below 1024", o.MaxHeaderListSize)
	}
	if o.MaxContinuationFrames == 0 {
		o.MaxContinuationFrames = DefaultMaxContinuationFrames
	}
	if o.MaxReadFrameSize == 0 {
		o.MaxReadFrameSize = DefaultServerMaxReadFrame
	}
	if o.MaxReadFrameSize < 1<<14 || o.MaxReadFrameSize > 1<<24-1 {
		return o, fmt.Errorf("http2: MaxReadFrameSize %d is outside [16384, 16777215]", o.MaxReadFrameSize)
	}
	if o.StreamWindow == 0 {
		o.StreamWindow = DefaultServerStreamWindow
	}
	if o.ConnWindow == 0 {
		o.ConnWindow = DefaultServerConnWindow
	}
	if o.StreamWindow < 0 || o.ConnWindow < 65535 {
		return o, fmt.Errorf("http2: windows must be positive and the connection window at least 65535")
	}
	def(&o.IdleTimeout, DefaultIdleTimeout)
	def(&o.ReadTimeout, DefaultBodyTimeout)
	def(&o.WriteTimeout, DefaultBodyTimeout)
	if o.PingTimeout <= 0 {
		o.PingTimeout = 15 * time.Second
	}
	if o.ErrorLog == nil {
		o.ErrorLog = log.New(io.Discard, "", 0)
	}
	o.ResetLimit = o.ResetLimit.orDefault(DefaultResetLimit)
	o.LocalResetLimit = o.LocalResetLimit.orDefault(DefaultLocalResetLimit)
	o.PingLimit = o.PingLimit.orDefault(DefaultPingLimit)
	o.SettingsLimit = o.SettingsLimit.orDefault(DefaultSettingsLimit)
	o.EmptyFrameLimit = o.EmptyFrameLimit.orDefault(DefaultEmptyFrameLimit)
	return o, nil
}

// Handler serves the streams of a Server.
type Handler interface {
	// ServeStream handles one request. The response is complete, and the
	// stream ends, when ServeStream returns. It runs on its own goroutine.
	ServeStream(s *Session)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(s *Session)

// ServeStream calls f(s).
func (f HandlerFunc) ServeStream(s *Session) { f(s) }

// Server serves HTTP/2 connections from clients (downstream). It is safe for
// concurrent use; one Server serves any number of connections.
type Server struct {
	opts ServerOptions
	lim  guardLimits
	h2   *http2.Server
	base *http.Server

	mu       sync.Mutex
	conns    map[*guard]struct{}
	shutdown bool
}

// NewServer returns a Server. It validates opts and fills defaults; opts is
// not modified.
func NewServer(opts ServerOptions) (*Server, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: o,
		lim: guardLimits{
			maxContinuation: o.MaxContinuationFrames,
			maxFrame:        o.MaxReadFrameSize,
			tableSize:       o.MaxDecoderHeaderTableSize,
			pings:           o.PingLimit,
			settings:        o.SettingsLimit,
			resets:          o.ResetLimit,
			localResets:     o.LocalResetLimit,
			empty:           o.EmptyFrameLimit,
			countError:      o.CountError,
			writeTimeout:    max(o.WriteTimeout, 0),
		},
		conns: make(map[*guard]struct{}),
	}
	s.h2 = &http2.Server{
		MaxConcurrentStreams:         o.MaxConcurrentStreams,
		MaxDecoderHeaderTableSize:    o.MaxDecoderHeaderTableSize,
		MaxReadFrameSize:             o.MaxReadFrameSize,
		IdleTimeout:                  o.IdleTimeout,
		ReadIdleTimeout:              o.PingInterval,
		PingTimeout:                  o.PingTimeout,
		MaxUploadBufferPerConnection: o.ConnWindow,
		MaxUploadBufferPerStream:     o.StreamWindow,
		CountError:                   o.CountError,
	}
	s.base = &http.Server{
		// x/net/http2 advertises MaxHeaderBytes + 10*32 as
		// SETTINGS_MAX_HEADER_LIST_SIZE.
		MaxHeaderBytes: int(o.MaxHeaderListSize) - 320,
		ErrorLog:       o.ErrorLog,
	}
	if err := http2.ConfigureServer(s.base, s.h2); err != nil {
		return nil, fmt.Errorf("http2: configure server: %w", err)
	}
	return s, nil
}

// connectionStater is implemented by *tls.Conn.
type connectionStater interface {
	ConnectionState() tls.ConnectionState
}

// tlsGuard keeps the TLS state of a guarded *tls.Conn visible to x/net/http2
// (which then checks the TLS version and cipher suite, RFC 9113 §9.2) and to
// sessions.
type tlsGuard struct {
	*guard
	cs connectionStater
}

// ConnectionState returns the TLS state of the connection.
func (t *tlsGuard) ConnectionState() tls.ConnectionState { return t.cs.ConnectionState() }

// ServeConn serves HTTP/2 on c until the connection ends and returns then.
// c is a TLS connection whose ALPN negotiated "h2", or a cleartext
// connection whose client speaks HTTP/2 with prior knowledge (h2c; see
// [PeekPreface] for ports that also serve HTTP/1). The client preface is
// read from c. Each stream runs h on its own goroutine, with a context
// derived from ctx. Canceling ctx closes the connection at once; use
// Shutdown to drain. ServeConn closes c.
//
// ServeConn returns nil when the connection ended normally, and a
// Downstream *perr.Error of type InvalidH2 when flood protection closed it.
func (s *Server) ServeConn(ctx context.Context, c net.Conn, h Handler) error {
	if h == nil {
		return errors.New("http2: nil handler")
	}
	g := newGuard(c, &s.lim)
	var conn net.Conn = g
	if cs, ok := c.(connectionStater); ok {
		conn = &tlsGuard{guard: g, cs: cs}
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		_ = c.Close()
		return perr.Explain(perr.ConnectionClosed, "http2 server is shut down").AsDown()
	}
	s.conns[g] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, g)
		s.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()
	wd := newWatchdog(s.opts.ReadTimeout, s.opts.WriteTimeout)
	if wd != nil {
		defer wd.stop()
	}
	s.h2.ServeConn(conn, &http2.ServeConnOpts{
		Context:    ctx,
		BaseConfig: s.base,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.serveStream(w, r, h, wd)
		}),
	})
	_ = g.Close()
	g.wait()
	if err := g.err(); err != nil {
		return perr.Because(perr.InvalidH2, "downstream h2 connection closed", err).AsDown()
	}
	return nil
}

// serveStream adapts one x/net/http2 request to a Session.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, h Handler, wd *watchdog) {
	sess := &Session{r: r, opts: &s.opts, wd: wd}
	if err := requestHeaderFromHTTP(&sess.req, r); err != nil {
		// x/net/http2 has validated names and values; what is left is a
		// target or method httpheader refuses.
		w.Header()["Content-Type"] = nil
		w.Header()["Date"] = nil
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if sw, ok := w.(streamWriter); ok {
		sess.w = sw
	} else {
		sess.w = controllerWriter{w, http.NewResponseController(w)}
	}
	if wd != nil {
		wd.add(sess)
	}
	defer func() {
		if wd != nil {
			wd.remove(sess)
		}
		sess.mu.Lock()
		sess.finished = true
		sess.mu.Unlock()
	}()
	h.ServeStream(sess)
	if sess.aborted() || !sess.headerWritten {
		// Reset the stream with INTERNAL_ERROR; x/net/http2 recovers this.
		panic(http.ErrAbortHandler)
	}
}

// Shutdown stops the server gracefully: every connection gets
// GOAWAY(NO_ERROR) and closes once its open streams are done. New
// connections are refused. Shutdown returns when all connections have
// closed, or with ctx's error when ctx is done first (the connections are
// then left to finish or be closed by Close).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	_ = s.base.Shutdown(ctx) // sends GOAWAY on every x/net/http2 connection
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close closes every connection at once and refuses new ones.
func (s *Server) Close() error {
	s.mu.Lock()
	s.shutdown = true
	for g := range s.conns {
		_ = g.Conn.Close()
	}
	s.mu.Unlock()
	return nil
}
