package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/upgrade"
)

// UpgradeAckTimeout bounds how long the old process of a graceful upgrade
// waits, once it has sent its sockets, for the new process to say it
// serves. Without that word the old process keeps serving.
const UpgradeAckTimeout = 30 * time.Second

// Server is one process hosting listening and background services, with
// Pingora's lifecycle: configuration, optional daemon mode, graceful
// shutdown on SIGTERM, fast shutdown on SIGINT and zero-downtime binary
// upgrade on SIGQUIT.
//
// Add services before [Server.Run]; Run may be called once. The other
// methods may be called from any goroutine.
type Server struct {
	opt   Opt
	conf  *Conf
	warns []*ConfWarning
	env   *sysEnv
	log   *slog.Logger

	listening  []*ListeningService
	background []bgTask

	mu      sync.Mutex
	started bool

	phaseMu sync.Mutex
	phase   Phase
	phaseCh chan struct{} // closed at the next phase change
	onPhase func(Phase)   // tests: called with phaseMu held

	ready chan struct{} // closed once every service is started
	addrs []net.Addr    // set before ready is closed

	table     *listener.Table
	lns       []*listener.Listener
	shutdown  chan struct{} // closed when draining begins
	connCtx   context.Context
	stopConns context.CancelFunc
	bgCtx     context.Context
	stopBG    context.CancelFunc
	acceptWG  sync.WaitGroup
	connWG    sync.WaitGroup
	bgWG      sync.WaitGroup
	connsMu   sync.Mutex
	conns     map[*listener.Conn]struct{}
	hardStop  bool // conns are being closed: close new ones at once
	noAccept  bool // stopAccepting is done: close late accepts at once
}

type bgTask struct {
	name string
	task BackgroundTask
}

// New returns a server configured by opt: the file opt.Conf names, or
// [DefaultConf] if opt is nil or names none, with opt.Daemon merged in.
// Warnings about the file are logged when the server runs (see
// [Server.Warnings]).
func New(opt *Opt) (*Server, error) {
	var o Opt
	if opt != nil {
		o = *opt
	}
	conf, warns := DefaultConf(), []*ConfWarning(nil)
	if o.Conf != "" {
		var err error
		if conf, warns, err = LoadConf(o.Conf); err != nil {
			return nil, err
		}
	}
	return newServer(o, conf, warns, osEnv), nil
}

// NewWithConf returns a server with the given configuration; opt.Conf, if
// set, is ignored (and a warning logged), opt.Daemon is merged in. conf is
// copied and its defaults filled; it is an error if [Conf.Validate] fails.
func NewWithConf(opt *Opt, conf *Conf) (*Server, error) {
	var o Opt
	if opt != nil {
		o = *opt
	}
	c := DefaultConf()
	if conf != nil {
		cp := *conf
		c = &cp
		c.SetDefaults()
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	s := newServer(o, c, nil, osEnv)
	if o.Conf != "" {
		s.warns = append(s.warns, &ConfWarning{Key: "-c " + o.Conf, Reason: "configuration given in code, file ignored"})
	}
	return s, nil
}

func newServer(o Opt, conf *Conf, warns []*ConfWarning, env *sysEnv) *Server {
	if o.Daemon {
		conf.Daemon = true
	}
	return &Server{
		opt: o, conf: conf, warns: warns, env: env,
		log:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
		ready:    make(chan struct{}),
		shutdown: make(chan struct{}),
		phaseCh:  make(chan struct{}),
		conns:    make(map[*listener.Conn]struct{}),
	}
}

// Conf returns the server's configuration, defaults filled. Do not change
// it once the server runs.
func (s *Server) Conf() *Conf { return s.conf }

// Opt returns the command line the server was built with.
func (s *Server) Opt() Opt { return s.opt }

// Warnings returns the configuration file's ignored keys.
func (s *Server) Warnings() []*ConfWarning { return s.warns }

// Logger returns the server's logger: stderr, or Conf.ErrorLog once Run
// has opened it.
func (s *Server) Logger() *slog.Logger {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log
}

// AddListening adds a listening service. Call it before Run.
func (s *Server) AddListening(svc *ListeningService) {
	s.listening = append(s.listening, svc)
}

// AddBackground adds a background service named "BG "+name, as Pingora
// names them. Call it before Run.
func (s *Server) AddBackground(name string, task BackgroundTask) {
	s.background = append(s.background, bgTask{name: "BG " + name, task: task})
}

// Ready returns a channel closed once every service is started: sockets
// bound (or inherited) and accepting, background services running.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addrs returns the address of every listening socket, in the order the
// services and their endpoints were added, with the ports the system chose
// for ":0". It is nil until [Server.Ready] is closed.
func (s *Server) Addrs() []net.Addr {
	select {
	case <-s.ready:
		return s.addrs
	default:
		return nil
	}
}

// RunForever runs the server and exits the process: with -t, after
// printing every problem to stderr, with status 0 if there is none and 1
// otherwise; else with status 0 after a shutdown and 1 if the server could
// not start.
func (s *Server) RunForever() {
	if s.opt.Test {
		s.env.exit(s.printTest(s.env.stderr))
		return
	}
	if err := s.Run(context.Background()); err != nil {
		fmt.Fprintln(s.env.stderr, err)
		s.env.exit(1)
		return
	}
	s.env.exit(0)
}

// printTest runs Test, prints its findings to w and returns the exit status.
func (s *Server) printTest(w io.Writer) int {
	for _, wr := range s.warns {
		fmt.Fprintln(w, "warning:", wr)
	}
	err := s.Test()
	if err == nil {
		fmt.Fprintln(w, "server: configuration test passed")
		return 0
	}
	for _, e := range unjoin(err) {
		fmt.Fprintln(w, "error:", e)
	}
	return 1
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// Run starts every service and serves until a signal or ctx ends it, then
// returns: nil after a shutdown, or the reason the server could not start.
//
//   - With -t, Run only returns [Server.Test]'s result.
//   - With Conf.Daemon, the process that is not yet the daemon starts it
//     (the same executable and arguments, detached in a new session) and
//     returns nil at once, or once the daemon is ready if
//     Conf.DaemonWaitForReady. The daemon writes Conf.PIDFile.
//   - With -u, Run first receives the listening sockets from the old
//     process over Conf.UpgradeSock, waiting about
//     Conf.UpgradeSockConnectAcceptMaxRetries+1 seconds for it.
//
// Once running: SIGTERM, or ctx done, starts a graceful shutdown: stop
// accepting, close the shutdown channel given to every App, cancel the
// background services, and return as soon as every connection and service
// has returned, or close what is left when Conf.GracePeriodSeconds have
// passed. SIGINT is a fast shutdown: everything is closed at once. SIGQUIT
// is a graceful upgrade: hand every listening socket to the new process,
// wait for it to say it serves, then shut down gracefully; if the new
// process is not there or fails, log why and keep serving.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("server: Run called twice")
	}
	s.started = true
	s.mu.Unlock()

	if s.opt.Test {
		return s.Test()
	}
	daemonChild := s.env.getenv(envDaemon) != ""
	if s.conf.Daemon && !daemonChild {
		return s.env.startDaemon(s)
	}

	sigs := make(chan os.Signal, 4)
	s.env.notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	defer s.env.stop(sigs)

	s.setPhase(PhaseBootstrap)
	defer s.setPhase(PhaseTerminated)
	closeLog, err := s.openLog()
	if err != nil {
		return err
	}
	defer closeLog()
	for _, w := range s.warns {
		s.log.Warn(w.Error())
	}
	if daemonChild {
		if err := s.writePIDFile(); err != nil {
			return err
		}
	}
	if err := s.bootstrap(ctx); err != nil {
		return err
	}
	if daemonChild {
		notifyDaemonParent(s.env.getenv(envReadyFD))
	}
	s.setPhase(PhaseRunning)
	s.log.Info("server running", "pid", s.env.getpid(), "listeners", len(s.lns), "background", len(s.background))
	return s.loop(ctx, sigs)
}

// bootstrap receives inherited sockets (with -u), binds every listener,
// drops privileges and starts the services.
func (s *Server) bootstrap(ctx context.Context) error {
	var recv *upgrade.Received
	if s.opt.Upgrade {
		wait := time.Duration(s.conf.UpgradeSockConnectAcceptMaxRetries+1) * time.Second
		rctx, cancel := context.WithTimeout(ctx, wait)
		var err error
		recv, err = upgrade.Receive(rctx, s.conf.UpgradeSock)
		cancel()
		if err != nil {
			return fmt.Errorf("server: graceful upgrade: %w", err)
		}
		s.log.Info("received listening sockets from the old process", "count", len(recv.Files))
		s.table = listener.NewTable(recv.Files)
	} else {
		s.table = listener.NewTable(nil)
	}
	if err := s.bind(ctx); err != nil {
		for _, l := range s.lns {
			if recv != nil {
				// The old process still serves on these sockets: keep
				// their Unix socket files (File turns removal off).
				if f, ferr := l.File(); ferr == nil {
					f.Close()
				}
			}
			l.Close()
		}
		s.table.CloseInherited()
		if recv != nil {
			recv.Close()
		}
		return err
	}
	if keys := s.table.CloseInherited(); len(keys) > 0 {
		s.log.Warn("inherited sockets no service listens on were closed", "keys", keys)
	}
	s.setPhase(PhaseBootstrapComplete)
	s.dropPrivileges()
	s.start()
	if recv != nil {
		if err := recv.Ack(); err != nil {
			s.log.Warn("could not tell the old process this one serves", "err", err)
		}
	}
	return nil
}

// bind creates or adopts every listener.
func (s *Server) bind(ctx context.Context) error {
	for _, svc := range s.listening {
		for _, ep := range svc.endpoints {
			cfg := ep.Listener
			if cfg.TLS == nil && (ep.CertFile != "" || ep.KeyFile != "") {
				h, err := loadTLS(ep.CertFile, ep.KeyFile)
				if err != nil {
					return fmt.Errorf("server: service %q: tls for %s: %w", svc.name, cfg.Addr, err)
				}
				cfg.TLS = h
			}
			if cfg.OnError == nil {
				log, name := s.log, svc.name
				cfg.OnError = func(err error) { log.Warn("listener", "service", name, "err", err) }
			}
			l, err := s.table.Listen(ctx, cfg)
			if err != nil {
				return fmt.Errorf("server: service %q: %w", svc.name, err)
			}
			s.lns = append(s.lns, l)
		}
	}
	return nil
}

// start runs the accept loops and background services.
func (s *Server) start() {
	s.connCtx, s.stopConns = context.WithCancel(context.Background())
	s.bgCtx, s.stopBG = context.WithCancel(context.Background())
	tasks := max(s.conf.ListenerTasksPerFD, 1)
	i := 0
	for _, svc := range s.listening {
		for range svc.endpoints {
			l := s.lns[i]
			i++
			s.addrs = append(s.addrs, l.Addr())
			for range tasks {
				s.acceptWG.Add(1)
				go s.acceptLoop(svc, l)
			}
		}
	}
	for _, b := range s.background {
		s.bgWG.Add(1)
		go func() {
			defer s.bgWG.Done()
			defer s.recoverPanic("background service", b.name)
			b.task.Start(s.bgCtx)
		}()
	}
	close(s.ready)
}

func (s *Server) recoverPanic(what, name string) {
	if p := recover(); p != nil {
		s.log.Error("panic in "+what, "service", name, "panic", p, "stack", string(debug.Stack()))
	}
}

func (s *Server) acceptLoop(svc *ListeningService, l *listener.Listener) {
	defer s.acceptWG.Done()
	for {
		c, err := l.AcceptConn()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("listener stopped accepting", "service", svc.name, "addr", l.Key(), "err", err)
			}
			return
		}
		s.connsMu.Lock()
		if s.hardStop || s.noAccept {
			s.connsMu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.connsMu.Unlock()
		go s.serveConn(svc, c)
	}
}

func (s *Server) serveConn(svc *ListeningService, c *listener.Conn) {
	defer s.connWG.Done()
	defer func() {
		c.Close()
		s.connsMu.Lock()
		delete(s.conns, c)
		s.connsMu.Unlock()
	}()
	defer s.recoverPanic("app", svc.name)
	svc.app.ServeConn(s.connCtx, c, s.shutdown)
}

// loop waits for the signal that ends the server.
func (s *Server) loop(ctx context.Context, sigs <-chan os.Signal) error {
	for {
		select {
		case <-ctx.Done():
			s.log.Info("context done: graceful shutdown")
			s.setPhase(PhaseGracefulTerminate)
			return s.drain(sigs)
		case sig := <-sigs:
			switch sig {
			case syscall.SIGINT:
				s.log.Info("SIGINT: fast shutdown")
				s.setPhase(PhaseShutdownStarted)
				s.stopAccepting()
				s.closeAll()
				return nil
			case syscall.SIGTERM:
				s.log.Info("SIGTERM: graceful shutdown")
				s.setPhase(PhaseGracefulTerminate)
				return s.drain(sigs)
			case syscall.SIGQUIT:
				s.log.Info("SIGQUIT: graceful upgrade")
				s.setPhase(PhaseGracefulUpgradeTransferringFDs)
				if s.handOver() {
					return s.drain(sigs)
				}
				s.setPhase(PhaseRunning)
			}
		}
	}
}

// handOver sends every listening socket to the new process and reports
// whether it took them over.
func (s *Server) handOver() bool {
	keys, files, err := s.table.Files()
	if err != nil {
		s.log.Error("graceful upgrade failed, still serving", "err", err)
		return false
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	if len(keys) == 0 {
		s.log.Info("no listening sockets to hand over")
		return true
	}
	wait := time.Duration(s.conf.UpgradeSockConnectAcceptMaxRetries+1) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	h, err := upgrade.Send(ctx, s.conf.UpgradeSock, keys, files)
	cancel()
	if err != nil {
		s.log.Error("graceful upgrade failed, still serving", "err", err)
		return false
	}
	s.setPhase(PhaseGracefulUpgradeCloseTimeout)
	ctx, cancel = context.WithTimeout(context.Background(), UpgradeAckTimeout)
	err = h.Wait(ctx)
	cancel()
	if err != nil {
		s.log.Error("graceful upgrade failed, still serving", "err", err)
		return false
	}
	s.log.Info("the new process serves; draining", "sockets", len(keys))
	return true
}

// stopAccepting closes every listener and waits for the accept loops, at
// most the shutdown timeout. (An accept can get stuck in the kernel: while
// the new process of an upgrade adopts a socket, Go's os.File.Fd briefly
// puts the socket, shared by both processes, in blocking mode.) A loop
// that returns later closes what it accepts.
func (s *Server) stopAccepting() {
	done := make(chan struct{})
	go func() {
		for _, l := range s.lns {
			if err := l.Close(); err != nil {
				s.log.Warn("close listener", "err", err)
			}
		}
		s.acceptWG.Wait()
		close(done)
	}()
	t := time.NewTimer(s.conf.GracefulShutdownTimeout())
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.log.Warn("a listener did not stop accepting in time; going on without it")
	}
	s.connsMu.Lock()
	s.noAccept = true
	s.connsMu.Unlock()
}

// drain is the graceful shutdown: it returns once everything has
// finished, or closes what is left after the grace period or on SIGINT.
func (s *Server) drain(sigs <-chan os.Signal) error {
	s.setPhase(PhaseShutdownStarted)
	s.stopAccepting()
	close(s.shutdown)
	s.stopBG()
	s.setPhase(PhaseShutdownGracePeriod)
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		s.bgWG.Wait()
		close(done)
	}()
	grace, stop := s.env.after(s.conf.GracePeriod())
	defer stop()
	for {
		select {
		case <-done:
			s.log.Info("graceful shutdown complete")
			s.cleanup()
			return nil
		case <-grace:
			s.log.Warn("grace period over: closing what is left", "connections", s.active())
		case sig := <-sigs:
			if sig != syscall.SIGINT {
				continue // already shutting down
			}
			s.log.Warn("SIGINT while draining: closing what is left", "connections", s.active())
		}
		s.closeAll()
		return nil
	}
}

// closeAll is the fast shutdown: cancel everything, close every
// connection, wait for the goroutines up to the shutdown timeout.
func (s *Server) closeAll() {
	s.setPhase(PhaseShutdownRuntimes)
	select {
	case <-s.shutdown:
	default:
		close(s.shutdown)
	}
	s.stopBG()
	s.stopConns()
	s.connsMu.Lock()
	s.hardStop = true
	for c := range s.conns {
		c.Close()
	}
	s.connsMu.Unlock()
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		s.bgWG.Wait()
		close(done)
	}()
	timeout, stop := s.env.after(s.conf.GracefulShutdownTimeout())
	defer stop()
	select {
	case <-done:
		s.cleanup()
	case <-timeout:
		s.log.Warn("shutdown timeout: some connections or services did not return", "connections", s.active())
	}
}

func (s *Server) active() int {
	s.connsMu.Lock()
	defer s.connsMu.Unlock()
	return len(s.conns)
}

// cleanup calls Cleanup on every App that has it.
func (s *Server) cleanup() {
	for _, svc := range s.listening {
		if c, ok := svc.app.(Cleaner); ok {
			func() {
				defer s.recoverPanic("app cleanup", svc.name)
				c.Cleanup()
			}()
		}
	}
}

// openLog points the logger at Conf.ErrorLog.
func (s *Server) openLog() (func(), error) {
	if s.conf.ErrorLog == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(s.conf.ErrorLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("server: error_log: %w", err)
	}
	s.mu.Lock()
	s.log = slog.New(slog.NewTextHandler(f, nil))
	s.mu.Unlock()
	return func() { f.Close() }, nil
}
