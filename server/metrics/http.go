package metrics

import (
	"context"
	"crypto/tls"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
)

// ServiceName is the name [NewService] gives its service, the one Pingora's
// prometheus_http_service uses.
const ServiceName = "Prometheus metric HTTP"

// Handler returns the HTTP handler that serves the Gatherer in the
// Prometheus text format (or what the scraper's Accept header negotiates,
// compressed as its Accept-Encoding allows) on GET and HEAD /metrics. Other
// paths answer 404 and other methods 405. A collector that fails does not
// fail the scrape: the other metrics are still served.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	}))
	return mux
}

// NewService returns a listening service named [ServiceName] that serves
// m.Handler over HTTP/1.1 with an [HTTPApp] with default options: add its
// endpoints (AddTCP, AddTLS, AddUnix) and give it to the server with
// AddListening. It is Pingora's Service::prometheus_http_service.
func NewService(m *Metrics) *server.ListeningService {
	return server.NewListeningService(ServiceName, NewHTTPApp(m.Handler(), HTTPOptions{}))
}

// HTTPOptions configures an [HTTPApp]. The zero value is ready to use.
type HTTPOptions struct {
	// ReadHeaderTimeout bounds the wait for a request's header, from the
	// connection's start or from the end of the previous response's idle
	// wait. If zero, 10s.
	ReadHeaderTimeout time.Duration
	// WriteTimeout bounds reading a request's body and writing its
	// response. If zero, 30s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that waits this long for
	// its next request. If zero, 60s (Pingora's HTTP keep-alive).
	IdleTimeout time.Duration
	// MaxHeaderBytes limits the size of a request header. If zero, 64 KiB.
	MaxHeaderBytes int
	// ErrorLog receives net/http's errors about connections (malformed
	// requests, handler panics). If nil, the log package's standard logger.
	ErrorLog *log.Logger
}

// HTTPApp is a [server.App] that serves an http.Handler over HTTP/1.1 with
// net/http, so any handler can be a listening service of a server.Server;
// the metrics service is one. It speaks HTTP/1.1 only: a TLS listener for it
// must not offer "h2" in ALPN.
//
// On a graceful shutdown or upgrade (the shutdown channel of ServeConn),
// a request in flight is answered with "Connection: close", an idle
// keep-alive connection is closed at once, and a connection that has not
// sent its first request yet gets one answer if the request comes within
// ReadHeaderTimeout. When the server stops waiting
// (ServeConn's ctx is done), the connection is closed at once.
//
// An HTTPApp holds no goroutine between connections and needs no cleanup.
// It is safe for concurrent use.
type HTTPApp struct {
	handler http.Handler
	opts    HTTPOptions
}

var _ server.App = (*HTTPApp)(nil)

// NewHTTPApp returns an App that serves h; opts is copied with its
// defaults filled in.
func NewHTTPApp(h http.Handler, opts HTTPOptions) *HTTPApp {
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 30 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 60 * time.Second
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = 64 << 10
	}
	return &HTTPApp{handler: h, opts: opts}
}

// ServeConn serves HTTP/1.1 requests on conn until the client closes it,
// a timeout of HTTPOptions ends it, or the server shuts down, and returns
// once net/http has closed it.
//
// Each connection gets an http.Server of its own over a listener that
// yields just that connection, so that draining one connection (which
// net/http only offers server-wide) does not touch the others.
func (a *HTTPApp) ServeConn(ctx context.Context, conn *listener.Conn, shutdown <-chan struct{}) {
	ln := &oneConnListener{conn: conn.Conn, closed: make(chan struct{})}
	tr := &connTracker{closed: make(chan struct{})}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: a.opts.ReadHeaderTimeout,
		WriteTimeout:      a.opts.WriteTimeout,
		IdleTimeout:       a.opts.IdleTimeout,
		MaxHeaderBytes:    a.opts.MaxHeaderBytes,
		ErrorLog:          a.opts.ErrorLog,
		// A non-nil empty map keeps net/http from setting up HTTP/2.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		BaseContext:  func(net.Listener) context.Context { return ctx },
		ConnState:    tr.set,
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // always an error: the listener's, once it is closed
	}()
	serving, done := served, ctx.Done()
	for {
		select {
		case <-tr.closed:
			// net/http has closed (or handed off) the connection: stop
			// Serve, whose next Accept is waiting for the listener to close.
			ln.Close()
			<-served
			return
		case <-serving:
			if !ln.taken() {
				return // Serve stopped before it took the connection
			}
			serving = nil // it took it: wait for tr.closed
		case <-shutdown:
			shutdown = nil
			tr.drain(srv)
		case <-done:
			done = nil
			srv.Close()  // closes the listener and the conns net/http tracks
			conn.Close() // and the conn in case it was not tracked yet
		}
	}
}

// oneConnListener yields one connection, then blocks until it is closed.
type oneConnListener struct {
	mu     sync.Mutex
	conn   net.Conn // nil once accepted
	took   bool
	closed chan struct{}
	once   sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	select {
	case <-l.closed:
		l.mu.Unlock()
		return nil, net.ErrClosed
	default:
	}
	if c := l.conn; c != nil {
		l.conn, l.took = nil, true
		l.mu.Unlock()
		return c, nil
	}
	l.mu.Unlock()
	<-l.closed
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		close(l.closed)
		l.mu.Unlock()
	})
	return nil
}

func (l *oneConnListener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		return l.conn.LocalAddr()
	}
	return &net.TCPAddr{}
}

// taken reports whether Accept has returned the connection.
func (l *oneConnListener) taken() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.took
}

// connTracker follows the state of the one connection of an http.Server,
// to close it as soon as it is idle once draining has begun.
type connTracker struct {
	mu       sync.Mutex
	conn     net.Conn // set by the first state change
	state    http.ConnState
	draining bool
	closed   chan struct{} // closed at StateClosed or StateHijacked
	once     sync.Once
}

// set is the http.Server's ConnState hook.
func (t *connTracker) set(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conn, t.state = c, s
	switch s {
	case http.StateIdle:
		if t.draining {
			c.Close()
		}
	case http.StateClosed, http.StateHijacked:
		t.once.Do(func() { close(t.closed) })
	}
}

// drain makes the connection's response in flight its last and closes it
// if it is idle. Checking the state under t.mu closes the window in which
// net/http has decided to keep the connection alive but not yet marked it
// idle: set closes it then.
func (t *connTracker) drain(srv *http.Server) {
	srv.SetKeepAlivesEnabled(false)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.draining = true
	if t.state == http.StateIdle && t.conn != nil {
		t.conn.Close()
	}
}
