package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
)

// fakeOS is the operating system of an in-process server under test.
type fakeOS struct {
	pid     int
	sigs    chan chan<- os.Signal // the server's signal channel, once it listens
	timer   chan time.Time        // fires every grace/shutdown timer
	exits   chan int
	env     map[string]string
	daemons int
	stderr  syncBuffer
	mu      sync.Mutex
}

func newFakeOS(pid int) (*fakeOS, *sysEnv) {
	f := &fakeOS{pid: pid, sigs: make(chan chan<- os.Signal, 1), timer: make(chan time.Time), exits: make(chan int, 1), env: map[string]string{}}
	return f, &sysEnv{
		notify: func(c chan<- os.Signal, _ ...os.Signal) { f.sigs <- c },
		stop:   func(chan<- os.Signal) {},
		after: func(time.Duration) (<-chan time.Time, func() bool) {
			return f.timer, func() bool { return true }
		},
		exit:    func(code int) { f.exits <- code },
		getenv:  func(k string) string { f.mu.Lock(); defer f.mu.Unlock(); return f.env[k] },
		getpid:  func() int { return f.pid },
		geteuid: func() int { return 1000 },
		stderr:  &f.stderr,
		startDaemon: func(*Server) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.daemons++
			return nil
		},
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// lineApp serves a line protocol: "sleep N" waits N ms (or until ctx is
// done) and answers "<id> ok". Keep-alive: it reads the next line unless
// shutdown is closed; an idle connection is closed when shutdown closes.
type lineApp struct {
	id      string
	started chan string // receives each command as it starts
}

func (a *lineApp) ServeConn(ctx context.Context, c *listener.Conn, shutdown <-chan struct{}) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-shutdown:
			c.SetReadDeadline(time.Now()) // wake an idle read
		case <-done:
		}
	}()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSpace(line)
		if a.started != nil {
			a.started <- line
		}
		var ms int
		fmt.Sscanf(line, "sleep %d", &ms)
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-ctx.Done():
			return
		}
		fmt.Fprintf(c, "%s ok\n", a.id)
		select {
		case <-shutdown:
			return
		default:
		}
	}
}

type testServer struct {
	*Server
	os   *fakeOS
	log  *syncBuffer
	sig  chan<- os.Signal
	done chan error
}

// startServer runs a server with one service serving app on 127.0.0.1:0
// (or on addrs) and waits until it is ready.
func startServer(t *testing.T, opt Opt, conf *Conf, app App, addrs ...string) *testServer {
	t.Helper()
	ts, err := tryStartServer(t, opt, conf, app, addrs...)
	require.NoError(t, err)
	return ts
}

// tryStartServer is startServer for goroutines other than the test's.
func tryStartServer(t *testing.T, opt Opt, conf *Conf, app App, addrs ...string) (*testServer, error) {
	if len(addrs) == 0 {
		addrs = []string{"127.0.0.1:0"}
	}
	fo, env := newFakeOS(100)
	if conf == nil {
		conf = &Conf{}
	}
	if conf.UpgradeSock == "" {
		conf.UpgradeSock = filepath.Join(t.TempDir(), "upgrade.sock")
	}
	conf.SetDefaults()
	s := newServer(opt, conf, nil, env)
	lb := &syncBuffer{}
	s.log = slog.New(slog.NewTextHandler(lb, nil))
	svc := NewListeningService("lines", app)
	for _, a := range addrs {
		if strings.HasPrefix(a, "/") {
			svc.AddUnix(a, 0)
		} else {
			svc.AddTCP(a)
		}
	}
	s.AddListening(svc)
	ts := &testServer{Server: s, os: fo, log: lb, done: make(chan error, 1)}
	go func() { ts.done <- s.Run(context.Background()) }()
	select {
	case ts.sig = <-fo.sigs:
	case err := <-ts.done:
		return nil, fmt.Errorf("Run returned before listening for signals: %w", err)
	}
	select {
	case <-s.Ready():
		return ts, nil
	case err := <-ts.done:
		return nil, fmt.Errorf("Run: %w", err)
	case <-time.After(10 * time.Second):
		return nil, errors.New("server not ready")
	}
}

// wait waits for Run to return.
func (ts *testServer) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func dial(t *testing.T, addr net.Addr) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	require.NoError(t, err)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, cmd string) string {
	t.Helper()
	_, err := fmt.Fprintln(c, cmd)
	require.NoError(t, err)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(line)
}

// checkGoroutines fails the test if goroutines it started are still
// running shortly after it ends.
func checkGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Errorf("%d goroutines left running:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestServer_GracefulShutdownFinishesInFlight(t *testing.T) {
	checkGoroutines(t)
	app := &lineApp{id: "A", started: make(chan string, 8)}
	ts := startServer(t, Opt{}, nil, app)
	addr := ts.Addrs()[0]

	idle, idleR := dial(t, addr)
	require.Equal(t, "A ok", roundTrip(t, idle, idleR, "sleep 0"))
	<-app.started

	slow, slowR := dial(t, addr)
	_, err := fmt.Fprintln(slow, "sleep 300")
	require.NoError(t, err)
	require.Equal(t, "sleep 300", <-app.started)

	ts.sig <- syscall.SIGTERM
	// The idle keep-alive connection is closed without a reply.
	_, err = idleR.ReadString('\n')
	require.Error(t, err)
	// The request in flight finishes, then its connection closes.
	line, err := slowR.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "A ok\n", line)
	_, err = slowR.ReadString('\n')
	require.Error(t, err)
	// Run returns without the grace timer firing: nothing is left.
	require.NoError(t, ts.wait(t))
	assert.Contains(t, ts.log.String(), "graceful shutdown complete")
	_, err = net.DialTimeout("tcp", addr.String(), time.Second)
	assert.Error(t, err, "the listener is closed")
}

// stuckApp ignores shutdown and returns only when ctx is done.
type stuckApp struct{ entered, cancelled chan struct{} }

func (a *stuckApp) ServeConn(ctx context.Context, c *listener.Conn, _ <-chan struct{}) {
	a.entered <- struct{}{}
	<-ctx.Done()
	close(a.cancelled)
}

func TestServer_GracePeriodEndClosesWhatIsLeft(t *testing.T) {
	checkGoroutines(t)
	app := &stuckApp{entered: make(chan struct{}, 1), cancelled: make(chan struct{})}
	ts := startServer(t, Opt{}, nil, app)
	c, r := dial(t, ts.Addrs()[0])
	<-app.entered
	ts.sig <- syscall.SIGTERM
	select {
	case <-app.cancelled:
		t.Fatal("app cancelled before the grace period ended")
	case <-time.After(50 * time.Millisecond):
	}
	ts.os.timer <- time.Now() // the grace period ends
	<-app.cancelled
	require.NoError(t, ts.wait(t))
	_, err := r.ReadByte()
	assert.Error(t, err, "connection closed by the server")
	_ = c
	assert.Contains(t, ts.log.String(), "grace period over")
}

func TestServer_SIGINTIsFast(t *testing.T) {
	checkGoroutines(t)
	app := &stuckApp{entered: make(chan struct{}, 1), cancelled: make(chan struct{})}
	bgStopped := make(chan struct{})
	fo, env := newFakeOS(1)
	s := newServer(Opt{}, DefaultConf(), nil, env)
	s.log = slog.New(slog.DiscardHandler)
	svc := NewListeningService("stuck", app)
	svc.AddTCP("127.0.0.1:0")
	s.AddListening(svc)
	s.AddBackground("ticker", BackgroundTaskFunc(func(ctx context.Context) {
		<-ctx.Done()
		close(bgStopped)
	}))
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	sig := <-fo.sigs
	<-s.Ready()
	dial(t, s.Addrs()[0])
	<-app.entered
	sig <- syscall.SIGINT
	<-app.cancelled
	<-bgStopped
	require.NoError(t, <-done)
}

func TestServer_ContextDoneIsGraceful(t *testing.T) {
	checkGoroutines(t)
	fo, env := newFakeOS(1)
	s := newServer(Opt{}, DefaultConf(), nil, env)
	s.log = slog.New(slog.DiscardHandler)
	ran := make(chan struct{})
	s.AddBackground("bg", BackgroundTaskFunc(func(ctx context.Context) {
		close(ran)
		<-ctx.Done()
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-fo.sigs
	<-ran
	cancel()
	require.NoError(t, <-done)
	assert.Error(t, s.Run(context.Background()), "Run twice")
}

func TestServer_PanicInAppIsRecovered(t *testing.T) {
	checkGoroutines(t)
	calls := 0
	var mu sync.Mutex
	app := AppFunc(func(ctx context.Context, c *listener.Conn, _ <-chan struct{}) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			panic("boom")
		}
		fmt.Fprintln(c, "fine")
	})
	ts := startServer(t, Opt{}, nil, app)
	c, r := dial(t, ts.Addrs()[0])
	_, err := r.ReadByte()
	require.Error(t, err, "the panicking connection is closed")
	c.Close()
	_, r = dial(t, ts.Addrs()[0])
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "fine\n", line)
	ts.sig <- syscall.SIGTERM
	require.NoError(t, ts.wait(t))
	assert.Contains(t, ts.log.String(), "panic in app")
}

type cleanApp struct {
	lineApp
	cleaned chan struct{}
}

func (a *cleanApp) Cleanup() { close(a.cleaned) }

func TestServer_CleanupAfterDrain(t *testing.T) {
	checkGoroutines(t)
	app := &cleanApp{lineApp: lineApp{id: "A"}, cleaned: make(chan struct{})}
	ts := startServer(t, Opt{}, &Conf{ListenerTasksPerFD: 3}, app)
	ts.sig <- syscall.SIGTERM
	require.NoError(t, ts.wait(t))
	<-app.cleaned
}

func TestServer_Upgrade(t *testing.T) {
	checkGoroutines(t)
	sock := filepath.Join(t.TempDir(), "upgrade.sock")
	appA := &lineApp{id: "A", started: make(chan string, 8)}
	a := startServer(t, Opt{}, &Conf{UpgradeSock: sock}, appA)
	addr := a.Addrs()[0]

	slow, slowR := dial(t, addr)
	_, err := fmt.Fprintln(slow, "sleep 200")
	require.NoError(t, err)
	<-appA.started

	// B waits on the upgrade socket while A still serves.
	type result struct {
		ts  *testServer
		err error
	}
	bReady := make(chan result, 1)
	go func() {
		ts, err := tryStartServer(t, Opt{Upgrade: true}, &Conf{UpgradeSock: sock}, &lineApp{id: "B"})
		bReady <- result{ts, err}
	}()
	a.sig <- syscall.SIGQUIT
	br := <-bReady
	require.NoError(t, br.err)
	b := br.ts
	require.Equal(t, addr.String(), b.Addrs()[0].String(), "B serves the inherited socket")

	// The request started on A finishes on A.
	line, err := slowR.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "A ok\n", line)
	require.NoError(t, a.wait(t))
	assert.Contains(t, a.log.String(), "the new process serves")

	// New connections reach B.
	c, r := dial(t, addr)
	assert.Equal(t, "B ok", roundTrip(t, c, r, "sleep 0"))
	b.sig <- syscall.SIGTERM
	require.NoError(t, b.wait(t))
}

func TestServer_UpgradeWithoutNewProcessKeepsServing(t *testing.T) {
	checkGoroutines(t)
	conf := &Conf{UpgradeSockConnectAcceptMaxRetries: 1} // gives up after 2 s
	a := startServer(t, Opt{}, conf, &lineApp{id: "A"})
	c, r := dial(t, a.Addrs()[0])
	a.sig <- syscall.SIGQUIT
	// Served during and after the failed attempt.
	for i := 0; i < 3; i++ {
		assert.Equal(t, "A ok", roundTrip(t, c, r, "sleep 0"))
	}
	require.Eventually(t, func() bool {
		return strings.Contains(a.log.String(), "graceful upgrade failed, still serving")
	}, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, a.log.String(), "no new process is listening")
	c2, r2 := dial(t, a.Addrs()[0])
	assert.Equal(t, "A ok", roundTrip(t, c2, r2, "sleep 0"))
	a.sig <- syscall.SIGTERM
	require.NoError(t, a.wait(t))
}

func TestServer_UpgradeToFailingProcessKeepsServing(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "upgrade.sock")
	unixPath := filepath.Join(dir, "a.sock")
	a := startServer(t, Opt{}, &Conf{UpgradeSock: sock}, &lineApp{id: "A"}, "127.0.0.1:0", unixPath)
	addr := a.Addrs()[0]

	// B receives the sockets and adopts two, then fails to bind its third.
	_, env := newFakeOS(2)
	conf := &Conf{UpgradeSock: sock}
	conf.SetDefaults()
	b := newServer(Opt{Upgrade: true}, conf, nil, env)
	b.log = slog.New(slog.DiscardHandler)
	svc := NewListeningService("lines", &lineApp{id: "B"})
	svc.AddTCP("127.0.0.1:0") // A's key: B inherits A's socket
	svc.AddUnix(unixPath, 0)
	svc.AddUnix(filepath.Join(dir, "missing", "b.sock"), 0)
	b.AddListening(svc)
	bErr := make(chan error, 1)
	go func() { bErr <- b.Run(context.Background()) }()
	a.sig <- syscall.SIGQUIT
	err := <-bErr
	require.Error(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(a.log.String(), "graceful upgrade failed, still serving")
	}, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, a.log.String(), "without acknowledging")
	c, r := dial(t, addr)
	assert.Equal(t, "A ok", roundTrip(t, c, r, "sleep 0"))
	// B did not remove the Unix socket file A serves on.
	uc, err := net.DialTimeout("unix", unixPath, 5*time.Second)
	require.NoError(t, err)
	defer uc.Close()
	assert.Equal(t, "A ok", roundTrip(t, uc, bufio.NewReader(uc), "sleep 0"))
	a.sig <- syscall.SIGTERM
	require.NoError(t, a.wait(t))
}

func TestServer_DaemonParentStartsChild(t *testing.T) {
	fo, env := newFakeOS(1)
	s := newServer(Opt{Daemon: true}, DefaultConf(), nil, env)
	require.True(t, s.Conf().Daemon, "-d sets conf.daemon")
	require.NoError(t, s.Run(context.Background()))
	assert.Equal(t, 1, fo.daemons)
}

func TestServer_DaemonChildWritesPIDFile(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "p.pid")
	require.NoError(t, os.WriteFile(pidFile, []byte("7\n"), 0o644))
	fo, env := newFakeOS(4242)
	fo.env[envDaemon] = "1"
	conf := &Conf{Daemon: true, PIDFile: pidFile, ErrorLog: filepath.Join(dir, "err.log")}
	conf.SetDefaults()
	s := newServer(Opt{}, conf, nil, env)
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	sig := <-fo.sigs
	<-s.Ready()
	pid, err := ReadPIDFile(pidFile)
	require.NoError(t, err)
	assert.Equal(t, 4242, pid)
	old, err := ReadPIDFile(pidFile + ".old")
	require.NoError(t, err)
	assert.Equal(t, 7, old)
	assert.Equal(t, 0, fo.daemons, "the daemon does not start another")
	sig <- syscall.SIGTERM
	require.NoError(t, <-done)
	logged, err := os.ReadFile(conf.ErrorLog)
	require.NoError(t, err)
	assert.Contains(t, string(logged), "server running")
}

func TestServer_DropPrivilegesSkipsWhenNotRoot(t *testing.T) {
	_, env := newFakeOS(1)
	conf := DefaultConf()
	conf.User = "nobody"
	s := newServer(Opt{}, conf, nil, env)
	lb := &syncBuffer{}
	s.log = slog.New(slog.NewTextHandler(lb, nil))
	s.dropPrivileges()
	assert.Contains(t, lb.String(), "not running as root")
}

func TestServer_RunForeverTest(t *testing.T) {
	for _, tc := range []struct {
		name string
		conf Conf
		code int
		out  string
	}{
		{"ok", Conf{}, 0, "server: configuration test passed\n"},
		{"bad", Conf{CAFile: "/nonexistent/ca.pem"}, 1, "error: server: conf ca_file: open /nonexistent/ca.pem: no such file or directory\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fo, env := newFakeOS(1)
			c := tc.conf
			c.SetDefaults()
			c.UpgradeSock = filepath.Join(t.TempDir(), "u.sock")
			s := newServer(Opt{Test: true}, &c, nil, env)
			s.warns = []*ConfWarning{{Key: "k", Line: 3, Reason: "unknown key"}}
			s.RunForever()
			assert.Equal(t, tc.code, <-fo.exits)
			assert.Equal(t, "warning: server: conf line 3: key \"k\" ignored: unknown key\n"+tc.out, fo.stderr.String())
		})
	}
}

func TestServer_BindFailureIsReturned(t *testing.T) {
	checkGoroutines(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	_, env := newFakeOS(1)
	s := newServer(Opt{}, DefaultConf(), nil, env)
	s.log = slog.New(slog.DiscardHandler)
	svc := NewListeningService("x", &lineApp{})
	svc.AddTCP("127.0.0.1:0")
	svc.AddTCP(busy.Addr().String())
	s.AddListening(svc)
	err = s.Run(context.Background())
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.EADDRINUSE), "%v", err)
}

func TestServer_SIGINTWhileDraining(t *testing.T) {
	checkGoroutines(t)
	app := &stuckApp{entered: make(chan struct{}, 1), cancelled: make(chan struct{})}
	ts := startServer(t, Opt{}, nil, app)
	dial(t, ts.Addrs()[0])
	<-app.entered
	ts.sig <- syscall.SIGTERM
	ts.sig <- syscall.SIGQUIT // ignored: already shutting down
	ts.sig <- syscall.SIGINT
	<-app.cancelled
	require.NoError(t, ts.wait(t))
	assert.Contains(t, ts.log.String(), "SIGINT while draining")
}

func TestServer_Phases(t *testing.T) {
	checkGoroutines(t)
	for _, tc := range []struct {
		name string
		sig  syscall.Signal
		want []Phase
	}{
		{"SIGTERM", syscall.SIGTERM, []Phase{PhaseBootstrap, PhaseBootstrapComplete, PhaseRunning,
			PhaseGracefulTerminate, PhaseShutdownStarted, PhaseShutdownGracePeriod, PhaseTerminated}},
		{"SIGINT", syscall.SIGINT, []Phase{PhaseBootstrap, PhaseBootstrapComplete, PhaseRunning,
			PhaseShutdownStarted, PhaseShutdownRuntimes, PhaseTerminated}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fo, env := newFakeOS(1)
			conf := DefaultConf()
			conf.UpgradeSock = filepath.Join(t.TempDir(), "u.sock")
			s := newServer(Opt{}, conf, nil, env)
			s.log = slog.New(slog.DiscardHandler)
			var got []Phase
			s.onPhase = func(p Phase) { got = append(got, p) }
			p, changed := s.WatchPhase()
			assert.Equal(t, PhaseSetup, p)
			svc := NewListeningService("x", &lineApp{})
			svc.AddTCP("127.0.0.1:0")
			s.AddListening(svc)
			done := make(chan error, 1)
			go func() { done <- s.Run(context.Background()) }()
			sig := <-fo.sigs
			<-changed
			<-s.Ready()
			sig <- tc.sig
			require.NoError(t, <-done)
			s.phaseMu.Lock()
			defer s.phaseMu.Unlock()
			assert.Equal(t, tc.want, got)
			assert.Equal(t, "Terminated", s.phase.String())
		})
	}
	assert.Equal(t, "GracefulUpgradeTransferringFds", PhaseGracefulUpgradeTransferringFDs.String())
	assert.Equal(t, "Phase(42)", Phase(42).String())
}

func TestServer_RunForeverExitStatus(t *testing.T) {
	checkGoroutines(t)
	t.Run("shutdown", func(t *testing.T) {
		fo, env := newFakeOS(1)
		s := newServer(Opt{}, DefaultConf(), nil, env)
		s.log = slog.New(slog.DiscardHandler)
		go s.RunForever()
		(<-fo.sigs) <- syscall.SIGTERM
		assert.Equal(t, 0, <-fo.exits)
	})
	t.Run("cannot start", func(t *testing.T) {
		fo, env := newFakeOS(1)
		conf := DefaultConf()
		conf.ErrorLog = "/nonexistent/dir/e.log"
		s := newServer(Opt{}, conf, nil, env)
		s.RunForever()
		assert.Equal(t, 1, <-fo.exits)
		assert.Contains(t, fo.stderr.String(), "server: error_log: open /nonexistent/dir/e.log")
	})
}

func TestServer_StuckAcceptDoesNotBlockShutdown(t *testing.T) {
	checkGoroutines(t)
	app := &lineApp{id: "A"}
	ts := startServer(t, Opt{}, &Conf{GracefulShutdownTimeoutSeconds: 1}, app)
	addr := ts.Addrs()[0]
	// What adopting the socket in another process does for a moment: put
	// the shared socket in blocking mode (os.File.Fd).
	f, err := ts.lns[0].File()
	require.NoError(t, err)
	f.Fd()
	defer f.Close()
	// After this connection the accept loop calls accept again and blocks
	// in the kernel.
	c, r := dial(t, addr)
	assert.Equal(t, "A ok", roundTrip(t, c, r, "sleep 0"))
	time.Sleep(50 * time.Millisecond)

	ts.sig <- syscall.SIGTERM
	require.NoError(t, ts.wait(t))
	assert.Contains(t, ts.log.String(), "did not stop accepting in time")
	// A late connection unblocks the stuck accept; it is closed, unserved.
	late, err := net.DialTimeout("tcp", addr.String(), time.Second)
	require.NoError(t, err)
	late.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = late.Read(make([]byte, 1))
	assert.Error(t, err)
	late.Close()
}
