package umbrella

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// buildBinary builds cmd/pingora once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pingora-e2e-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "pingora")
		out, err := exec.Command("go", "build", "-o", binPath, "./cmd/pingora").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// origin is an in-process upstream that names itself in every answer.
func origin(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "origin-"+name)
		w.Header().Set("X-Origin", name)
		w.Header().Set("X-Got-From", r.Header.Get("X-From"))
		w.Header().Set("X-Got-Debug", r.Header.Get("X-Debug"))
		w.Header().Set("X-Got-Traceparent", r.Header.Get("Traceparent"))
		switch r.URL.Path {
		case "/slow":
			time.Sleep(700 * time.Millisecond)
		case "/text":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, strings.Repeat("pingora-go compresses text. ", 100))
			return
		}
		fmt.Fprintf(w, "origin %s %s\n", name, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// proc is a running binary.
type proc struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the binary with args and waits until it prints that its
// metrics (the last thing it lists) are up.
func start(t *testing.T, args ...string) *proc {
	t.Helper()
	p := launch(t, args...)
	p.waitReady(t)
	return p
}

// launch runs the binary with args.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(buildBinary(t), args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
		}
	})
	return p
}

// waitReady waits until the binary prints its metrics address.
func (p *proc) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.stdout.String(), "/metrics") {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("pingora exited: %v\nstderr:\n%s", err, p.stderr)
		default:
		}
		require.True(t, time.Now().Before(deadline), "pingora did not start:\n%s", p.stderr)
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and waits for the exit status.
func (p *proc) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("pingora did not exit")
		return nil
	}
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

const testConfig = `version: 1
grace_period_seconds: 10
pid_file: {{DIR}}/pingora.pid
upgrade_sock: {{DIR}}/upgrade.sock
services:
  - name: web
    listen: [{addr: "{{WEB}}"}]
    routes:
      - {path_prefix: /api/, upstream: {{APIROUTE}}}
      - {path_prefix: /health, respond: {status: 200, body: "ok\n"}}
      - {path_prefix: /, upstream: backends}
    compression: {enabled: true, level: 5}
    headers:
      request_set: {X-From: pingora}
      request_remove: [X-Debug]
      response_set: {X-Served-By: pingora-go}
      response_remove: [Server]
  - name: limited
    listen: ["{{LIMITED}}"]
    upstream: backends
    rate_limit: {key: "header:X-Api-Key", per_second: 3}
    access_log: "off"
upstreams:
  backends:
    selection: round_robin
    peers: ["{{A}}", "{{B}}"]
    health_check: {type: http, path: /, interval: 1s, timeout: 1s}
  api:
    peers: ["{{C}}"]
metrics: {listen: "{{METRICS}}"}
`

func writeConfig(t *testing.T, path string, vars map[string]string) {
	t.Helper()
	s := testConfig
	for k, v := range vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	require.NoError(t, os.WriteFile(path+".tmp", []byte(s), 0o600))
	require.NoError(t, os.Rename(path+".tmp", path))
}

func TestBinary_Config(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("signals")
	}
	a, b, c := origin(t, "a"), origin(t, "b"), origin(t, "c")
	dir := t.TempDir()
	vars := map[string]string{
		"DIR": dir, "WEB": freePort(t), "LIMITED": freePort(t), "METRICS": freePort(t),
		"A": a.Listener.Addr().String(), "B": b.Listener.Addr().String(), "C": c.Listener.Addr().String(),
		"APIROUTE": "api",
	}
	path := filepath.Join(dir, "pingora.yaml")
	writeConfig(t, path, vars)
	p := start(t, "-c", path)
	web := "http://" + vars["WEB"]

	t.Run("round robin", func(t *testing.T) {
		seen := map[string]int{}
		for range 6 {
			resp, body := get(t, web+"/")
			require.Equal(t, 200, resp.StatusCode, body)
			seen[resp.Header.Get("X-Origin")]++
		}
		assert.Equal(t, map[string]int{"a": 3, "b": 3}, seen)
	})
	t.Run("route to a second upstream", func(t *testing.T) {
		resp, body := get(t, web+"/api/users")
		assert.Equal(t, "c", resp.Header.Get("X-Origin"))
		assert.Equal(t, "origin c /api/users\n", body)
	})
	t.Run("respond route", func(t *testing.T) {
		resp, body := get(t, web+"/health")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "ok\n", body)
	})
	t.Run("headers", func(t *testing.T) {
		resp, _ := get(t, web+"/", "X-Debug", "1")
		assert.Equal(t, "pingora", resp.Header.Get("X-Got-From"), "request_set")
		assert.Empty(t, resp.Header.Get("X-Got-Debug"), "request_remove")
		assert.Equal(t, "pingora-go", resp.Header.Get("X-Served-By"), "response_set")
		assert.Empty(t, resp.Header.Get("Server"), "response_remove")
	})
	t.Run("compression", func(t *testing.T) {
		resp, body := get(t, web+"/text", "Accept-Encoding", "gzip")
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		zr, err := gzip.NewReader(strings.NewReader(body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, strings.Repeat("pingora-go compresses text. ", 100), string(plain))
		resp, body = get(t, web+"/text")
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Len(t, body, 2800)
	})
	t.Run("rate limit", func(t *testing.T) {
		lim := "http://" + vars["LIMITED"] + "/"
		codes := map[int]int{}
		var last *http.Response
		for range 6 {
			resp, _ := get(t, lim, "X-Api-Key", "k1")
			codes[resp.StatusCode]++
			if resp.StatusCode == 429 {
				last = resp
			}
		}
		require.NotNil(t, last, "codes: %v", codes)
		assert.GreaterOrEqual(t, codes[200], 1)
		assert.Equal(t, "3", last.Header.Get("X-Rate-Limit-Limit"))
		assert.Equal(t, "0", last.Header.Get("X-Rate-Limit-Remaining"))
		assert.Equal(t, "1", last.Header.Get("X-Rate-Limit-Reset"))
		resp, _ := get(t, lim, "X-Api-Key", "other")
		assert.Equal(t, 200, resp.StatusCode, "another key has its own budget")
	})
	t.Run("metrics", func(t *testing.T) {
		resp, body := get(t, "http://"+vars["METRICS"]+"/metrics")
		require.Equal(t, 200, resp.StatusCode)
		for _, want := range []string{
			`pingora_requests_total{code="200",service="web"}`,
			`pingora_route_requests_total{code="200",route="api",service="web"} 1`,
			`pingora_route_requests_total{code="429",route="none",service="limited"}`,
			`pingora_backend_healthy{backend="` + vars["A"] + `",upstream="backends"} 1`,
			`pingora_upstream_latency_seconds_count{upstream="backends"}`,
			`pingora_connections_active{service="web"}`,
			`pingora_upstream_pool_hits_total{upstream="backends"}`,
		} {
			assert.Contains(t, body, want)
		}
	})
	t.Run("access log", func(t *testing.T) {
		out := p.stdout.String()
		assert.Contains(t, out, "msg=request service=web client=127.0.0.1 method=GET host="+vars["WEB"]+" path=/api/users status=200 bytes_in=0 bytes_out=20 upstream="+vars["C"])
		assert.Contains(t, out, "upstream_latency=")
		assert.NotContains(t, out, "service=limited", "access_log: off")
	})
	t.Run("reload", func(t *testing.T) {
		vars["APIROUTE"] = "backends"
		writeConfig(t, path, vars)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
		require.Eventually(t, func() bool {
			resp, _ := get(t, web+"/api/users")
			return resp.Header.Get("X-Origin") != "c"
		}, 10*time.Second, 50*time.Millisecond)
		assert.Contains(t, p.stderr.String(), "configuration reloaded")
	})
	t.Run("reload of a bad file keeps the config", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path, []byte("services:\n  - listen: [x]\n"), 0o600))
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
		require.Eventually(t, func() bool {
			return strings.Contains(p.stderr.String(), "configuration reload failed")
		}, 10*time.Second, 50*time.Millisecond)
		assert.Contains(t, p.stderr.String(), "line 2")
		resp, _ := get(t, web+"/api/users")
		assert.Equal(t, 200, resp.StatusCode)
		assert.NotEqual(t, "c", resp.Header.Get("X-Origin"))
	})
	t.Run("graceful SIGTERM", func(t *testing.T) {
		type result struct {
			code int
			err  error
		}
		ch := make(chan result, 1)
		go func() {
			resp, err := client.Get(web + "/slow")
			if err != nil {
				ch <- result{err: err}
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ch <- result{code: resp.StatusCode}
		}()
		time.Sleep(200 * time.Millisecond) // the request is in flight
		err := p.stop(t, syscall.SIGTERM)
		assert.NoError(t, err, "exit status 0")
		r := <-ch
		require.NoError(t, r.err)
		assert.Equal(t, 200, r.code, "the request in flight finished")
	})
}

func TestBinary_DefaultConfig(t *testing.T) {
	// The embedded default, on free ports (a user may be running it on
	// 6188).
	cfg := string(DefaultConfig())
	ports := map[string]string{}
	for _, p := range []string{"6188", "6190", "6191", "6192"} {
		ports[p] = freePort(t)
		cfg = strings.ReplaceAll(cfg, "127.0.0.1:"+p, ports[p])
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "default.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	p := start(t, "-c", path)
	seen := map[string]int{}
	for range 4 {
		resp, body := get(t, "http://"+ports["6188"]+"/")
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "pingora-go", resp.Header.Get("X-Proxied-By"))
		seen[body]++
	}
	assert.Len(t, seen, 2, "both demo origins answer: %v", seen)
	_, body := get(t, "http://"+ports["6192"]+"/metrics")
	assert.Contains(t, body, `pingora_backend_healthy{backend="`+ports["6190"]+`",upstream="demo"} 1`)
	assert.NoError(t, p.stop(t, syscall.SIGTERM))
}

func TestBinary_Test(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("services:\n  - listen: [127.0.0.1:0]\n    respond: {body: hi}\n"), 0o600))
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("threads: x\nservices:\n  - listen: [127.0.0.1:1]\n    upstream: nope\n"), 0o600))
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"default", []string{"-t"}, 0, []string{"configuration test passed: embedded default configuration"}},
		{"good", []string{"-t", "-c", good}, 0, []string{"configuration test passed"}},
		{"bad", []string{"-t", "-c", bad}, 1, []string{
			"error: " + bad + ": server: conf line 1: threads: want an integer",
			"error: " + bad + `: server: conf line 4: services[0].routes[0].upstream: unknown upstream "nope"`,
			"configuration test failed",
		}},
		{"missing", []string{"-t", "-c", filepath.Join(dir, "nope.yaml")}, 1, []string{"no such file"}},
		{"bad flag", []string{"-x"}, 2, []string{"flag provided but not defined"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.code, code, "%s", out)
			for _, w := range tt.want {
				assert.Contains(t, string(out), w)
			}
		})
	}
}

// TestBinary_Upgrade hands the listening sockets to a new process (-u,
// then SIGQUIT to the old one): requests keep being served throughout.
func TestBinary_Upgrade(t *testing.T) {
	a, b, c := origin(t, "a"), origin(t, "b"), origin(t, "c")
	dir := t.TempDir()
	vars := map[string]string{
		"DIR": dir, "WEB": freePort(t), "LIMITED": freePort(t), "METRICS": freePort(t),
		"A": a.Listener.Addr().String(), "B": b.Listener.Addr().String(), "C": c.Listener.Addr().String(),
		"APIROUTE": "api",
	}
	path := filepath.Join(dir, "pingora.yaml")
	writeConfig(t, path, vars)
	old := start(t, "-c", path)
	web := "http://" + vars["WEB"]
	resp, _ := get(t, web+"/api/x")
	require.Equal(t, "c", resp.Header.Get("X-Origin"))

	// The new process runs a changed configuration on the same sockets.
	vars["APIROUTE"] = "backends"
	writeConfig(t, path, vars)
	next := launch(t, "-c", path, "-u")
	time.Sleep(300 * time.Millisecond) // let it wait on upgrade_sock
	require.NoError(t, old.cmd.Process.Signal(syscall.SIGQUIT))
	next.waitReady(t)
	select {
	case err := <-old.done:
		old.done <- err
		assert.NoError(t, err, "the old process exits 0 after handing over")
	case <-time.After(20 * time.Second):
		t.Fatal("the old process did not exit")
	}
	resp, _ = get(t, web+"/api/x")
	assert.NotEqual(t, "c", resp.Header.Get("X-Origin"), "the new process serves with its configuration")
	assert.NoError(t, next.stop(t, syscall.SIGTERM))
}
