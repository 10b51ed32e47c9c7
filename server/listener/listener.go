package listener

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Listener accepts connections on one TCP or Unix socket, optionally through
// a TLS handshake. It implements [net.Listener]; [Listener.AcceptConn] also
// tells what the proxy needs to know about each connection.
//
// Accept, AcceptConn, Addr, Key, File and Close may be called from any
// goroutine at the same time.
type Listener struct {
	cfg     Config       // defaults filled in
	ln      net.Listener // *net.TCPListener or *net.UnixListener
	env     *sysEnv
	adopted bool // from FileListener: Go's default keep-alive was applied, fix it per conn
	tcp     bool

	// Unix socket file bookkeeping: the file is removed on Close if it is
	// still the one this listener bound and File was never called.
	path   string
	pathFI fs.FileInfo
	unlink atomic.Bool

	ctx       context.Context // done when Close is called
	cancel    context.CancelFunc
	errClosed error
	closeOnce sync.Once
	closeErr  error
	table     *Table // set by Table.Listen, guarded by table.mu

	// TLS listeners only: an accept goroutine starts a handshake goroutine
	// per connection; finished handshakes wait on ready for Accept.
	wg       sync.WaitGroup
	ready    chan Conn
	loopDone chan struct{} // closed when the accept goroutine ends
	loopErr  error         // why it ended; written before loopDone is closed
}

var _ net.Listener = (*Listener)(nil)

// Listen binds and listens on cfg.Addr with cfg's socket options. ctx bounds
// the bind (name resolution and the BindRetries waits); values in ctx are
// passed on to TLS handshakes, but cancelling ctx later does not close the
// listener.
//
// A stale Unix socket file (one nothing listens on) is removed first; a
// path where a listener still accepts is left alone and Listen fails with an
// error matching syscall.EADDRINUSE. Any other file at the path is an error.
func Listen(ctx context.Context, cfg Config) (*Listener, error) {
	return listen(ctx, cfg, osEnv)
}

func listen(ctx context.Context, cfg Config, env *sysEnv) (*Listener, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	var ln net.Listener
	for try := 0; ; try++ {
		ln, err = bind(ctx, &c)
		if err == nil || try >= c.BindRetries || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		if c.OnError != nil {
			c.OnError(fmt.Errorf("listener: listen %s %s: %w (retrying in %v)", c.Network, c.Addr, err, c.BindRetryDelay))
		}
		if !env.sleep(c.BindRetryDelay, ctx.Done()) {
			err = fmt.Errorf("%w (gave up after %d tries: %w)", err, try+1, ctx.Err())
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listener: listen %s %s: %w", c.Network, c.Addr, err)
	}
	l, err := newListener(ctx, c, ln, env, false)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return l, nil
}

// bind creates the listening socket for c.
func bind(ctx context.Context, c *Config) (net.Listener, error) {
	if c.Network == "unix" {
		return listenUnix(c)
	}
	lc := net.ListenConfig{
		Control: func(network, _ string, rc syscall.RawConn) error {
			return control(c, network, rc)
		},
		KeepAliveConfig: c.KeepAlive,
	}
	if c.NoKeepAlive {
		lc.KeepAlive, lc.KeepAliveConfig = -1, net.KeepAliveConfig{}
	}
	ln, err := lc.Listen(ctx, c.Network, c.Addr)
	if err != nil {
		return nil, err
	}
	if c.Backlog > 0 {
		if err := relisten(ln, c.Backlog); err != nil {
			ln.Close()
			return nil, err
		}
	}
	return ln, nil
}

// FileListener makes a Listener from an inherited listening socket, such as
// one received from the previous process in a graceful upgrade. cfg
// describes the socket as it was configured, in particular Network and Addr:
// FileListener fails if f is not a listening socket of that network, if
// Addr names a port (or a Unix path) other than the socket's, or if cfg is
// invalid. Backlog, SendBuffer, RecvBuffer, UserTimeout, UnixMode and the
// per-connection options are applied again; options that only act at bind
// time (ReusePort, IPv6Only, FastOpen) come with the socket as it is.
//
// f is duplicated: the caller still owns f and should close it.
func FileListener(f *os.File, cfg Config) (*Listener, error) {
	return fileListener(f, cfg, osEnv)
}

func fileListener(f *os.File, cfg Config, env *sysEnv) (*Listener, error) {
	c, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("listener: inherit %s %s: %w", c.Network, c.Addr, err)
	}
	if err := adopt(ln, &c); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listener: inherit %s %s: %w", c.Network, c.Addr, err)
	}
	l, err := newListener(context.Background(), c, ln, env, true)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return l, nil
}

// adopt checks that ln is the socket c describes and applies c's options.
func adopt(ln net.Listener, c *Config) error {
	switch ln.(type) {
	case *net.TCPListener:
		if c.Network == "unix" {
			return fmt.Errorf("socket is tcp (%s), not unix", ln.Addr())
		}
	case *net.UnixListener:
		if c.Network != "unix" {
			return fmt.Errorf("socket is unix (%s), not %s", ln.Addr(), c.Network)
		}
	default:
		return fmt.Errorf("socket is %T, not a stream listener", ln)
	}
	if ok, err := isListening(ln); err != nil {
		return err
	} else if !ok {
		return errors.New("socket does not listen")
	}
	if err := matchAddr(ln.Addr(), c); err != nil {
		return err
	}
	if err := setListenerOptsRaw(ln, c); err != nil {
		return err
	}
	if c.Backlog > 0 {
		if err := relisten(ln, c.Backlog); err != nil {
			return err
		}
	}
	if c.Network == "unix" && !isAbstract(c.Addr) {
		if err := os.Chmod(c.Addr, c.UnixMode); err != nil {
			return err
		}
	}
	return nil
}

// matchAddr reports an error when the socket's address cannot be the one c
// names: another Unix path, or another literal port.
func matchAddr(a net.Addr, c *Config) error {
	if c.Network == "unix" {
		if got := a.String(); got != c.Addr {
			return fmt.Errorf("socket is bound to %q", got)
		}
		return nil
	}
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return err
	}
	want, err := strconv.Atoi(port)
	if err != nil || want == 0 {
		return nil // a service name or an ephemeral port: nothing to compare
	}
	if ta, ok := a.(*net.TCPAddr); ok && ta.Port != want {
		return fmt.Errorf("socket is bound to %s", a)
	}
	return nil
}

func newListener(ctx context.Context, c Config, ln net.Listener, env *sysEnv, adopted bool) (*Listener, error) {
	l := &Listener{cfg: c, ln: ln, env: env, adopted: adopted, tcp: c.Network != "unix"}
	l.ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	l.errClosed = fmt.Errorf("listener: accept on %s: %w", c.Addr, net.ErrClosed)
	if !l.tcp && !isAbstract(c.Addr) {
		fi, err := os.Stat(c.Addr)
		if err != nil {
			l.cancel()
			return nil, fmt.Errorf("listener: %w", err)
		}
		l.path, l.pathFI = c.Addr, fi
		l.unlink.Store(true)
	}
	if c.TLS != nil || c.Preamble != nil {
		l.ready = make(chan Conn)
		l.loopDone = make(chan struct{})
		l.wg.Add(1)
		go l.acceptLoop()
	}
	return l, nil
}

// Accept waits for the next connection and returns it: for a TLS listener
// the conn the Handshaker returned (so a *tls.Conn stays visible to callers
// such as net/http), else the accepted *net.TCPConn or *net.UnixConn.
// Temporary accept errors (EMFILE, ENFILE, ENOBUFS, …) are retried after a
// back-off that grows from 5 ms to 1 s and are reported to Config.OnError.
// After Close, Accept returns an error matching net.ErrClosed.
func (l *Listener) Accept() (net.Conn, error) {
	if l.ready != nil {
		c, err := l.acceptTLS()
		if err != nil {
			return nil, err
		}
		return c.Conn, nil
	}
	return l.acceptRaw()
}

// AcceptConn is Accept returning the connection with what is known about it.
func (l *Listener) AcceptConn() (*Conn, error) {
	if l.ready != nil {
		c, err := l.acceptTLS()
		if err != nil {
			return nil, err
		}
		return &c, nil
	}
	raw, err := l.acceptRaw()
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: raw, Raw: raw, Accepted: time.Now(), Key: l.cfg.Addr}, nil
}

// acceptRaw accepts one socket, retrying temporary errors with back-off.
func (l *Listener) acceptRaw() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.env.accept(l.ln)
		if err == nil {
			l.tune(c)
			return c, nil
		}
		if l.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
			return nil, l.errClosed
		}
		if !temporary(err) {
			return nil, &AcceptError{Key: l.cfg.Addr, Err: err}
		}
		delay = nextDelay(delay)
		l.report(&AcceptError{Key: l.cfg.Addr, Retry: delay, Err: err})
		if !l.env.sleep(delay, l.ctx.Done()) {
			return nil, l.errClosed
		}
	}
}

// tune applies the per-connection options Go does not apply itself.
func (l *Listener) tune(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	// Errors are ignored, as Go ignores them for its own defaults: a socket
	// that fails setsockopt is broken and its first read will say so.
	if l.cfg.Nagle {
		_ = tc.SetNoDelay(false)
	}
	if l.cfg.NotSentLowat > 0 {
		// Not inherited from the listening socket: set on each.
		if rc, err := tc.SyscallConn(); err == nil {
			_ = rc.Control(func(fd uintptr) { _ = setNotSentLowat(int(fd), l.cfg.NotSentLowat) })
		}
	}
	if l.adopted {
		switch {
		case l.cfg.NoKeepAlive:
			_ = tc.SetKeepAlive(false)
		case l.cfg.KeepAlive.Enable:
			_ = tc.SetKeepAliveConfig(l.cfg.KeepAlive)
		}
	}
}

func (l *Listener) report(err error) {
	if l.cfg.OnError != nil {
		l.cfg.OnError(err)
	}
}

// Addr returns the socket's address, with the port chosen by the system for
// ":0".
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Key returns Config.Addr exactly as configured: the key under which a
// graceful upgrade hands this socket to the next process.
func (l *Listener) Key() string { return l.cfg.Addr }

// Network returns Config.Network with its default filled in.
func (l *Listener) Network() string { return l.cfg.Network }

// File returns a duplicate of the listening socket's file descriptor, for
// handing it to another process. The caller must close it. Closing the
// Listener does not close the duplicate: the socket keeps listening until
// every copy is closed. After File, Close no longer removes a Unix socket's
// file, since the other process is expected to serve on it.
func (l *Listener) File() (*os.File, error) {
	type filer interface{ File() (*os.File, error) }
	fl, ok := l.ln.(filer)
	if !ok {
		return nil, fmt.Errorf("listener: %T has no file", l.ln)
	}
	f, err := fl.File()
	if err != nil {
		return nil, fmt.Errorf("listener: file of %s: %w", l.cfg.Addr, err)
	}
	l.unlink.Store(false)
	return f, nil
}

// Close stops the listener: blocked Accept calls return an error matching
// net.ErrClosed, TLS handshakes in progress are interrupted and their
// connections closed, and Close returns when their goroutines have ended.
// Connections already returned by Accept stay open. A Unix socket's file is
// removed unless File was called or the path now holds another file. Close
// may be called more than once; later calls return the first result.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		l.cancel()
		if l.path != "" && l.unlink.Load() {
			if fi, err := os.Stat(l.path); err == nil && os.SameFile(fi, l.pathFI) {
				_ = os.Remove(l.path)
			}
		}
		if err := l.ln.Close(); err != nil {
			l.closeErr = fmt.Errorf("listener: close %s: %w", l.cfg.Addr, err)
		}
		if l.table != nil {
			l.table.forget(l)
		}
	})
	l.wg.Wait()
	return l.closeErr
}

// isAbstract reports whether a Unix address names a Linux abstract socket,
// which has no file.
func isAbstract(path string) bool {
	return len(path) > 0 && path[0] == '@' && (runtime.GOOS == "linux" || runtime.GOOS == "android")
}
