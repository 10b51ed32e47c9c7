package server

import (
	"context"
	"crypto/tls"
	"io/fs"
	"net"

	"github.com/pingora-go/pingora/server/listener"
)

// App serves the connections a [ListeningService] accepts: Pingora's
// ServerApp.
type App interface {
	// ServeConn serves one accepted connection and closes it before it
	// returns; it is called on a goroutine of its own per connection.
	//
	// shutdown is closed when a graceful shutdown or upgrade begins: finish
	// the request in flight, do not wait for another on a keep-alive
	// connection (close it at once if it is idle), and return. ctx is
	// cancelled when the server stops waiting (fast shutdown, or the end of
	// the grace period); the server then closes the connection itself.
	ServeConn(ctx context.Context, conn *listener.Conn, shutdown <-chan struct{})
}

// AppFunc adapts a function to an [App].
type AppFunc func(ctx context.Context, conn *listener.Conn, shutdown <-chan struct{})

// ServeConn calls f(ctx, conn, shutdown).
func (f AppFunc) ServeConn(ctx context.Context, conn *listener.Conn, shutdown <-chan struct{}) {
	f(ctx, conn, shutdown)
}

var _ App = AppFunc(nil)

// Cleaner is implemented by an [App] that has something to do once its
// service has stopped accepting and every connection has returned
// (Pingora's cleanup): the server calls Cleanup then.
type Cleaner interface {
	Cleanup()
}

// Checker is implemented by an [App], a [BackgroundTask] or a
// listener.Handshaker that can check its own configuration (files it
// reads, certificates it loads); -t calls Check and reports its error.
type Checker interface {
	Check() error
}

// Endpoint is one listening socket of a [ListeningService].
type Endpoint struct {
	// Listener configures the socket. Its Addr is the key under which a
	// graceful upgrade hands the socket over.
	Listener listener.Config
	// CertFile and KeyFile, when set and Listener.TLS is nil, are a PEM
	// certificate chain and key: the server loads them when it starts (and
	// -t checks them) and serves TLS with crypto/tls.
	CertFile, KeyFile string
}

// ListeningService is a set of listening sockets whose connections one
// [App] serves: Pingora's Service<App>. Build it before [Server.AddListening];
// it is not safe to change once the server runs.
type ListeningService struct {
	name      string
	app       App
	endpoints []Endpoint
}

// NewListeningService returns a service with no endpoints.
func NewListeningService(name string, app App) *ListeningService {
	return &ListeningService{name: name, app: app}
}

// Name returns the service's name.
func (s *ListeningService) Name() string { return s.name }

// App returns the service's App.
func (s *ListeningService) App() App { return s.app }

// Endpoints returns a copy of the service's endpoints.
func (s *ListeningService) Endpoints() []Endpoint {
	return append([]Endpoint(nil), s.endpoints...)
}

// AddTCP listens on a TCP address such as "0.0.0.0:6188" or "[::1]:8080".
func (s *ListeningService) AddTCP(addr string) {
	s.AddListener(listener.Config{Network: "tcp", Addr: addr})
}

// AddUnix listens on a Unix socket at path with file mode perm; if perm is
// zero, 0666.
func (s *ListeningService) AddUnix(path string, perm fs.FileMode) {
	s.AddListener(listener.Config{Network: "unix", Addr: path, UnixMode: perm})
}

// AddTLS listens on a TCP address and serves TLS with the PEM certificate
// chain and key in the two files, loaded when the server starts.
func (s *ListeningService) AddTLS(addr, certFile, keyFile string) {
	s.endpoints = append(s.endpoints, Endpoint{
		Listener: listener.Config{Network: "tcp", Addr: addr},
		CertFile: certFile, KeyFile: keyFile,
	})
}

// AddListener listens with a full listener configuration.
func (s *ListeningService) AddListener(cfg listener.Config) {
	s.endpoints = append(s.endpoints, Endpoint{Listener: cfg})
}

// BackgroundTask is a service without listeners: Pingora's
// BackgroundService.
type BackgroundTask interface {
	// Start runs the task until ctx is done, then returns. ctx is done when
	// any shutdown or an upgrade's drain begins; the server waits for Start
	// to return, up to the grace period.
	Start(ctx context.Context)
}

// BackgroundTaskFunc adapts a function to a [BackgroundTask].
type BackgroundTaskFunc func(ctx context.Context)

// Start calls f(ctx).
func (f BackgroundTaskFunc) Start(ctx context.Context) { f(ctx) }

var _ BackgroundTask = BackgroundTaskFunc(nil)

// tlsHandshaker serves TLS with crypto/tls; for endpoints given by files.
type tlsHandshaker struct{ cfg *tls.Config }

func (h tlsHandshaker) Handshake(ctx context.Context, raw net.Conn) (net.Conn, error) {
	c := tls.Server(raw, h.cfg)
	if err := c.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// loadTLS builds the handshaker of an endpoint given by files.
func loadTLS(certFile, keyFile string) (listener.Handshaker, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return tlsHandshaker{cfg: &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}}, nil
}
