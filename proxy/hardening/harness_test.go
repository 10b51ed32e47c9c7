package hardening

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/pingora-go/pingora/server/protocol/http2"
	"github.com/stretchr/testify/require"
)

// Timeouts of the proxy under test: short, so that every deadline case
// ends within a second.
const (
	dsHeaderTimeout = 400 * time.Millisecond
	dsBodyTimeout   = 500 * time.Millisecond
	usHeaderTimeout = 600 * time.Millisecond
	usBodyTimeout   = 600 * time.Millisecond
	ioWait          = 3 * time.Second // the longest a client waits for an answer
)

// Leak tolerances after each case (see doc.go).
const (
	goroutineSlack = 2
	fdSlack        = 4
	heapSlack      = 32 << 20
	settleTime     = 5 * time.Second
)

// ---------------------------------------------------------------------------
// Recording origin

// seenReq is one request as the origin parsed it.
type seenReq struct {
	Method, Target, Host string
	Header               http.Header
	Body                 []byte
	Conn                 int // index of the origin connection
}

// origin is a scripted upstream that records the raw bytes of every
// connection it accepts.
type origin struct {
	t      testing.TB
	ln     net.Listener
	script func(*originConn)
	done   chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*originConn
	reqs  []seenReq
}

// originConn is one accepted upstream connection.
type originConn struct {
	net.Conn
	o   *origin
	idx int
	br  *bufio.Reader

	mu  sync.Mutex
	raw bytes.Buffer
}

func (oc *originConn) Read(p []byte) (int, error) {
	n, err := oc.Conn.Read(p)
	oc.mu.Lock()
	oc.raw.Write(p[:n])
	oc.mu.Unlock()
	return n, err
}

// Raw returns what the connection received so far.
func (oc *originConn) Raw() []byte {
	oc.mu.Lock()
	defer oc.mu.Unlock()
	return bytes.Clone(oc.raw.Bytes())
}

// next parses the next request (body included) and records it.
func (oc *originConn) next() (*seenReq, error) {
	_ = oc.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadRequest(oc.br)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	sr := seenReq{Method: r.Method, Target: r.RequestURI, Host: r.Host, Header: r.Header, Body: body, Conn: oc.idx}
	oc.o.mu.Lock()
	oc.o.reqs = append(oc.o.reqs, sr)
	oc.o.mu.Unlock()
	return &sr, nil
}

// nextHead parses the next request head only, leaving its body unread.
func (oc *originConn) nextHead() (*http.Request, error) {
	_ = oc.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := http.ReadRequest(oc.br)
	if err != nil {
		return nil, err
	}
	oc.o.mu.Lock()
	oc.o.reqs = append(oc.o.reqs, seenReq{Method: r.Method, Target: r.RequestURI, Host: r.Host, Header: r.Header, Conn: oc.idx})
	oc.o.mu.Unlock()
	return r, nil
}

func (oc *originConn) write(s string) { _, _ = io.WriteString(oc.Conn, s) }

// reset closes the connection with a TCP RST.
func (oc *originConn) reset() {
	if tc, ok := oc.Conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = oc.Conn.Close()
}

// sleep waits d or until the origin closes; false if it closed.
func (oc *originConn) sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-oc.o.done:
		return false
	}
}

func newOrigin(t testing.TB, script func(*originConn)) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	o := &origin{t: t, ln: ln, script: script, done: make(chan struct{})}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			o.mu.Lock()
			oc := &originConn{Conn: c, o: o, idx: len(o.conns)}
			oc.br = bufio.NewReader(oc)
			o.conns = append(o.conns, oc)
			o.mu.Unlock()
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				defer c.Close()
				o.script(oc)
			}()
		}
	}()
	return o
}

func (o *origin) Addr() string { return o.ln.Addr().String() }

// Conns is how many connections the origin accepted.
func (o *origin) Conns() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.conns)
}

// Requests returns the requests parsed so far.
func (o *origin) Requests() []seenReq {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]seenReq(nil), o.reqs...)
}

// Raw returns every byte received, all connections in accept order.
func (o *origin) Raw() []byte {
	o.mu.Lock()
	conns := append([]*originConn(nil), o.conns...)
	o.mu.Unlock()
	var b []byte
	for _, c := range conns {
		b = append(b, c.Raw()...)
	}
	return b
}

func (o *origin) Close() {
	select {
	case <-o.done:
		return
	default:
	}
	close(o.done)
	_ = o.ln.Close()
	o.mu.Lock()
	for _, c := range o.conns {
		_ = c.Conn.Close()
	}
	o.mu.Unlock()
	o.wg.Wait()
}

// respondAll answers every request on the connection with resp.
func respondAll(resp string) func(*originConn) {
	return func(oc *originConn) {
		for {
			if _, err := oc.next(); err != nil {
				return
			}
			oc.write(resp)
		}
	}
}

const okResp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

// ---------------------------------------------------------------------------
// Proxy under test

type config struct {
	opts     proxy.Options
	hooks    proxy.Hooks[struct{}]
	peer     func() *peer.Peer // the attacked upstream; nil: the origin
	tls      listener.Handshaker
	tlsProbe *tls.Config // probe's TLS config when tls is set
	noProbe  bool
}

type env struct {
	t      *testing.T
	origin *origin
	benign *origin
	addr   string
	probe  *probe
	cfg    config
}

// newEnv starts an origin with script (nil: 200 "ok" for everything), a
// proxy in front of it and the probe, and registers the checks that run
// when the test ends: probe unaffected, resources back to baseline.
func newEnv(t *testing.T, script func(*originConn), mods ...func(*config)) *env {
	t.Helper()
	base := takeSnapshot()
	t.Cleanup(func() { checkBaseline(t, base) })

	if script == nil {
		script = respondAll(okResp)
	}
	e := &env{t: t}
	e.origin = newOrigin(t, script)
	e.benign = newOrigin(t, respondAll("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nprobe"))
	e.cfg = config{opts: proxy.Options{
		MaxRetries: 2,
		Via:        "hardening",
		H2C:        true,
		Downstream: http1.Options{HeaderTimeout: dsHeaderTimeout, BodyTimeout: dsBodyTimeout,
			WriteTimeout: time.Second, KeepAliveTimeout: 2 * time.Second},
		Upstream: http1.Options{HeaderTimeout: usHeaderTimeout, BodyTimeout: usBodyTimeout,
			WriteTimeout: time.Second},
		DownstreamH2: http2.ServerOptions{ReadTimeout: dsBodyTimeout, WriteTimeout: 500 * time.Millisecond,
			IdleTimeout: 2 * time.Second},
	}}
	for _, m := range mods {
		m(&e.cfg)
	}
	up := e.cfg.peer
	if up == nil {
		up = func() *peer.Peer {
			p := peer.New(e.origin.Addr(), false, "")
			p.ConnectionTimeout = 300 * time.Millisecond
			return p
		}
	}
	h := e.cfg.hooks
	h.UpstreamPeer = func(s *proxy.Session, _ *struct{}) (*peer.Peer, error) {
		if strings.HasPrefix(s.Request().Path(), "/probe") {
			return peer.New(e.benign.Addr(), false, ""), nil
		}
		return up(), nil
	}
	p, err := proxy.New(h, e.cfg.opts)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	ln, err := listener.Listen(ctx, listener.Config{Addr: "127.0.0.1:0", TLS: e.cfg.tls, HandshakeTimeout: time.Second})
	require.NoError(t, err)
	e.addr = ln.Addr().String()
	shutdown := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.ServeConn(ctx, c, shutdown)
				_ = c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		close(shutdown)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cancel()
			<-done
		}
		cancel()
		p.Cleanup()
		e.origin.Close()
		e.benign.Close()
	})
	if !e.cfg.noProbe {
		e.probe = startProbe(t, e.addr, e.cfg.tlsProbe)
		t.Cleanup(e.probe.stop)
	}
	return e
}

// ---------------------------------------------------------------------------
// Benign probe

// probe keeps sending normal requests through the proxy; every one must
// succeed.
type probe struct {
	t      *testing.T
	c      *http.Client
	url    string
	quit   chan struct{}
	wg     sync.WaitGroup
	ok     atomic.Int64
	mu     sync.Mutex
	failed []error
}

func startProbe(t *testing.T, addr string, tc *tls.Config) *probe {
	scheme := "http"
	tr := &http.Transport{MaxIdleConnsPerHost: 2}
	if tc != nil {
		scheme = "https"
		tr.TLSClientConfig = tc
	}
	pr := &probe{t: t, c: &http.Client{Transport: tr, Timeout: 5 * time.Second},
		url: scheme + "://" + addr + "/probe", quit: make(chan struct{})}
	pr.once() // the proxy works before the attack
	pr.wg.Add(1)
	go func() {
		defer pr.wg.Done()
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-pr.quit:
				return
			case <-tick.C:
				pr.once()
			}
		}
	}()
	return pr
}

func (pr *probe) once() {
	err := func() error {
		resp, err := pr.c.Get(pr.url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 || string(b) != "probe" {
			return fmt.Errorf("probe: status %d body %q", resp.StatusCode, b)
		}
		return nil
	}()
	if err != nil {
		pr.mu.Lock()
		pr.failed = append(pr.failed, err)
		pr.mu.Unlock()
		return
	}
	pr.ok.Add(1)
}

func (pr *probe) stop() {
	close(pr.quit)
	pr.wg.Wait()
	pr.once() // the proxy still works after the attack
	pr.c.CloseIdleConnections()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if len(pr.failed) > 0 {
		pr.t.Errorf("benign probe saw %d failures (%d successes); first: %v", len(pr.failed), pr.ok.Load(), pr.failed[0])
	}
	if pr.ok.Load() < 2 {
		pr.t.Errorf("benign probe: only %d successes", pr.ok.Load())
	}
}

// ---------------------------------------------------------------------------
// Resource baseline

type snapshot struct {
	goroutines int
	fds        int // -1: unknown
	heap       uint64
}

func takeSnapshot() snapshot {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return snapshot{goroutines: runtime.NumGoroutine(), fds: countFDs(), heap: ms.HeapAlloc}
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// checkBaseline waits until goroutines, FDs and heap are back near base.
func checkBaseline(t *testing.T, base snapshot) {
	t.Helper()
	deadline := time.Now().Add(settleTime)
	var now snapshot
	for {
		now = takeSnapshot()
		okG := now.goroutines <= base.goroutines+goroutineSlack
		okF := base.fds < 0 || now.fds <= base.fds+fdSlack
		okH := now.heap <= base.heap+heapSlack
		if okG && okF && okH {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	t.Errorf("resources not back to baseline after %v: goroutines %d (base %d), fds %d (base %d), heap %d (base %d)\n%s",
		settleTime, now.goroutines, base.goroutines, now.fds, base.fds, now.heap, base.heap, buf[:runtime.Stack(buf, true)])
}

// ---------------------------------------------------------------------------
// Raw HTTP/1 attacker

type rawConn struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (e *env) dial() *rawConn {
	e.t.Helper()
	c, err := net.DialTimeout("tcp", e.addr, time.Second)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: e.t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	_ = r.c.SetWriteDeadline(time.Now().Add(ioWait))
	_, _ = io.WriteString(r.c, s) // the proxy may have closed already
}

// response reads one response (body included) to a request of method.
func (r *rawConn) response(method string) (*http.Response, []byte, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(ioWait))
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(resp.Body)
	return resp, b, err // resp is kept when only the body failed
}

// status reads one response and returns its status (0: none).
func (r *rawConn) status() int {
	resp, _, _ := r.response("GET")
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// closed reports whether the proxy closes the connection within ioWait,
// discarding whatever arrives before.
func (r *rawConn) closed() bool {
	_ = r.c.SetReadDeadline(time.Now().Add(ioWait))
	_, err := io.Copy(io.Discard, r.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

// expectReject checks the proxy answers status and closes, and that the
// origin received nothing.
func (e *env) expectReject(req string, status int) {
	e.t.Helper()
	rc := e.dial()
	rc.send(req)
	require.Equal(e.t, status, rc.status(), "status")
	require.True(e.t, rc.closed(), "connection must be closed")
	require.Empty(e.t, e.origin.Raw(), "the origin must receive nothing")
}
