//go:build linux

package server

// Integration tests: build internal/testbin/httpapp, run it as real
// processes on loopback and drive them with signals under load.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// buildHTTPApp compiles the test program into dir.
func buildHTTPApp(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a binary")
	}
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH")
	}
	bin := filepath.Join(t.TempDir(), "httpapp")
	cmd := exec.Command(gotool, "build", "-o", bin, "./internal/testbin/httpapp")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

type fixture struct {
	bin, dir, conf, addr, log string
}

func newFixture(t *testing.T, extraConf string) *fixture {
	f := &fixture{bin: buildHTTPApp(t), dir: t.TempDir(), addr: freeAddr(t)}
	f.conf = filepath.Join(f.dir, "conf.yaml")
	f.log = filepath.Join(f.dir, "error.log")
	conf := fmt.Sprintf("version: 1\nupgrade_sock: %s\nerror_log: %s\npid_file: %s\n"+
		"grace_period_seconds: 30\ngraceful_shutdown_timeout_seconds: 2\n"+
		"upgrade_sock_connect_accept_max_retries: 3\n%s",
		filepath.Join(f.dir, "upgrade.sock"), f.log, filepath.Join(f.dir, "server.pid"), extraConf)
	require.NoError(t, os.WriteFile(f.conf, []byte(conf), 0o644))
	return f
}

// proc is a process this test started.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	output bytes.Buffer
}

func (f *fixture) start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(f.bin, append([]string{"-c", f.conf}, args...)...)
	p.cmd.Env = append(append(os.Environ(), "HTTPAPP_ADDR="+f.addr), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.output, &p.output
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // our own child only
			<-p.done
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
}

// wait waits for the process to exit and returns its status.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("process %d still running after %v", p.pid(), d)
		return -1
	}
}

// get fetches url and returns the pid in the answer "pid=N".
func get(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(string(body), "pid="))
	if err != nil {
		return 0, fmt.Errorf("body %q", body)
	}
	return pid, nil
}

func newClient(keepAlive bool) *http.Client {
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 1},
	}
}

// waitServing polls until addr answers, and returns the pid that did.
func waitServing(t *testing.T, addr string, p *proc) int {
	t.Helper()
	c := newClient(false)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if pid, err := get(c, "http://"+addr+"/"); err == nil {
			return pid
		}
		select {
		case <-p.done:
			t.Fatalf("process exited: %v\n%s", p.err, p.output.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s not serving", addr)
	return 0
}

// load is a steady, bounded stream of requests from a few clients.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []error
	pids       map[int]int
	wg         sync.WaitGroup
}

// startLoad runs clients (half with keep-alive, half opening a connection
// per request) until ctx is done or each has sent perClient requests.
func startLoad(ctx context.Context, addr string, clients, perClient int) *load {
	l := &load{pids: map[int]int{}}
	for i := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			c := newClient(i%2 == 0)
			defer c.CloseIdleConnections()
			for n := 0; n < perClient && ctx.Err() == nil; n++ {
				pid, err := get(c, "http://"+addr+"/")
				l.mu.Lock()
				if err != nil {
					l.failed.Add(1)
					l.errs = append(l.errs, err)
				} else {
					l.ok.Add(1)
					l.pids[pid]++
				}
				l.mu.Unlock()
				time.Sleep(500 * time.Microsecond) // steady, not flat out
			}
		}()
	}
	return l
}

func (l *load) wait() { l.wg.Wait() }

func (l *load) check(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("load: %d requests ok, %d failed, by pid %v", l.ok.Load(), l.failed.Load(), l.pids)
	assert.Zero(t, l.failed.Load(), "failed requests: %v", l.errs)
	assert.Positive(t, l.ok.Load())
}

// slowRequests starts n requests that take d on the server, each on its
// own connection, and returns a channel with their results.
type slowResult struct {
	pid int
	err error
}

func slowRequests(addr string, n int, d time.Duration) chan slowResult {
	out := make(chan slowResult, n)
	for range n {
		go func() {
			pid, err := get(newClient(false), fmt.Sprintf("http://%s/slow?ms=%d", addr, d.Milliseconds()))
			out <- slowResult{pid, err}
		}()
	}
	return out
}

func TestIntegration_UpgradeUnderLoad(t *testing.T) {
	f := newFixture(t, "")
	a := f.start(t, nil)
	require.Equal(t, a.pid(), waitServing(t, f.addr, a))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ld := startLoad(ctx, f.addr, 4, 1500)
	time.Sleep(300 * time.Millisecond)
	slow := slowRequests(f.addr, 3, 1500*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // the slow requests are in flight on A

	b := f.start(t, nil, "-u")
	time.Sleep(100 * time.Millisecond)
	quit := time.Now()
	a.signal(t, syscall.SIGQUIT)

	for range 3 {
		r := <-slow
		require.NoError(t, r.err)
		assert.Equal(t, a.pid(), r.pid, "a request started before the upgrade finishes on the old process")
	}
	require.Equal(t, 0, a.wait(t, 20*time.Second), "old process output: %s", a.output.String())
	exited := time.Since(quit)
	t.Logf("old process exited %v after SIGQUIT (grace period 30s)", exited)
	assert.Less(t, exited, 10*time.Second, "drained without waiting out the grace period")

	ld.wait()
	ld.check(t)
	ld.mu.Lock()
	assert.Positive(t, ld.pids[a.pid()], "the old process served part of the load")
	assert.Positive(t, ld.pids[b.pid()], "the new process served part of the load")
	ld.mu.Unlock()

	assert.Equal(t, b.pid(), waitServing(t, f.addr, b))
	b.signal(t, syscall.SIGTERM)
	require.Equal(t, 0, b.wait(t, 10*time.Second))
	logged, _ := os.ReadFile(f.log)
	assert.Contains(t, string(logged), "the new process serves; draining")
}

func TestIntegration_GracefulShutdown(t *testing.T) {
	f := newFixture(t, "")
	a := f.start(t, nil)
	waitServing(t, f.addr, a)
	slow := slowRequests(f.addr, 3, 1500*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	term := time.Now()
	a.signal(t, syscall.SIGTERM)
	for range 3 {
		r := <-slow
		require.NoError(t, r.err)
		assert.Equal(t, a.pid(), r.pid)
	}
	finished := time.Since(term)
	require.Equal(t, 0, a.wait(t, 20*time.Second), "output: %s", a.output.String())
	exited := time.Since(term)
	t.Logf("in-flight requests done %v after SIGTERM, process exited after %v (grace period 30s)", finished, exited)
	assert.Less(t, exited, 10*time.Second, "exits when done, not after the grace period")
	_, err := net.DialTimeout("tcp", f.addr, time.Second)
	assert.Error(t, err)
}

func TestIntegration_FastShutdown(t *testing.T) {
	f := newFixture(t, "")
	a := f.start(t, nil)
	waitServing(t, f.addr, a)
	slow := slowRequests(f.addr, 1, 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	a.signal(t, syscall.SIGINT)
	require.Equal(t, 0, a.wait(t, 10*time.Second))
	r := <-slow
	assert.Error(t, r.err, "the request in flight is cut")
}

func TestIntegration_FailedUpgradeKeepsServing(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		code int
		log  string
	}{
		{"new binary exits at once", []string{"HTTPAPP_FAIL=exit"}, 3, "no new process is listening"},
		{"new binary fails after receiving", []string{"HTTPAPP_EXTRA_UNIX=/nonexistent/dir/x.sock"}, 1, "without acknowledging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "")
			a := f.start(t, nil)
			waitServing(t, f.addr, a)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ld := startLoad(ctx, f.addr, 2, 1000)

			b := f.start(t, tc.env, "-u")
			a.signal(t, syscall.SIGQUIT)
			assert.Equal(t, tc.code, b.wait(t, 15*time.Second), "new process output: %s", b.output.String())
			require.Eventually(t, func() bool {
				logged, _ := os.ReadFile(f.log)
				return strings.Contains(string(logged), "graceful upgrade failed, still serving")
			}, 15*time.Second, 50*time.Millisecond)
			logged, _ := os.ReadFile(f.log)
			assert.Contains(t, string(logged), tc.log)

			ld.wait()
			ld.check(t)
			ld.mu.Lock()
			assert.Equal(t, map[int]int{a.pid(): int(ld.ok.Load())}, ld.pids, "only the old process served")
			ld.mu.Unlock()
			assert.Equal(t, a.pid(), waitServing(t, f.addr, a))
			a.signal(t, syscall.SIGTERM)
			require.Equal(t, 0, a.wait(t, 10*time.Second))
		})
	}
}

func TestIntegration_TestFlag(t *testing.T) {
	f := newFixture(t, "")
	ok := f.start(t, nil, "-t")
	assert.Equal(t, 0, ok.wait(t, 10*time.Second), ok.output.String())
	assert.Contains(t, ok.output.String(), "test passed")

	bad := newFixture(t, "ca_file: /nonexistent/ca.pem\nthreads_typo: 1\n")
	p := bad.start(t, []string{"HTTPAPP_ADDR=256.0.0.1:80", "HTTPAPP_EXTRA_UNIX=/nonexistent/dir/x.sock"}, "--test")
	assert.Equal(t, 1, p.wait(t, 10*time.Second))
	out := p.output.String()
	assert.Contains(t, out, "ca_file")
	assert.Contains(t, out, "256.0.0.1:80")
	assert.Contains(t, out, "/nonexistent/dir")
	assert.Contains(t, out, `warning: server: conf line 9: key "threads_typo" ignored`)
}

func TestIntegration_Daemon(t *testing.T) {
	f := newFixture(t, "daemon_wait_for_ready: true\n")
	pidFile := filepath.Join(f.dir, "server.pid")
	require.NoError(t, os.WriteFile(pidFile, []byte("1\n"), 0o644))
	parent := f.start(t, nil, "-d")
	require.Equal(t, 0, parent.wait(t, 15*time.Second), "parent output: %s", parent.output.String())

	// The parent exits only once the daemon is ready: it serves at once.
	pid, err := ReadPIDFile(pidFile)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) }) // the daemon we started
	old, err := ReadPIDFile(pidFile + ".old")
	require.NoError(t, err)
	assert.Equal(t, 1, old)
	assert.NotEqual(t, parent.pid(), pid)
	served, err := get(newClient(false), "http://"+f.addr+"/")
	require.NoError(t, err)
	assert.Equal(t, pid, served)
	sid, err := unix.Getsid(pid)
	require.NoError(t, err)
	assert.Equal(t, pid, sid, "the daemon leads its own session")

	require.NoError(t, syscall.Kill(pid, syscall.SIGTERM))
	require.Eventually(t, func() bool { return !alive(pid) }, 10*time.Second, 20*time.Millisecond)
	logged, _ := os.ReadFile(f.log)
	assert.Contains(t, string(logged), "graceful shutdown complete")
}

// alive reports whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
