package umbrella

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const inProcessConfig = `version: 1
grace_period_seconds: 5
upgrade_sock: {{DIR}}/upgrade.sock
services:
  - name: web
    listen:
      - "{{WEB}}"
      - {addr: "{{TLS}}", tls: {cert: site.crt, key: site.key}}
    h2c: true
    routes:
      - {host: "*.hash.test", upstream: hashed}
      - {path_prefix: /, upstream: {{MAIN}}}
    access_log: {{DIR}}/access.log
    tracing: {traceparent: true}
upstreams:
  flaky:
    peers: ["{{DEAD}}", "{{A}}"]
    retries: 1
  hashed:
    selection: hash
    hash_key: "header:X-User"
    peers: ["{{A}}", "{{B}}"]
  other:
    selection: random
    peers: ["{{B}}"]
metrics: {listen: "{{METRICS}}"}
`

// TestRun_InProcess runs the server in this process (so -race sees it):
// TLS with ALPN h2, h2c, hash selection, retry past a dead peer, reload,
// and a clean stop.
func TestRun_InProcess(t *testing.T) {
	a, b := origin(t, "a"), origin(t, "b")
	dir := t.TempDir()
	writeCerts(t, dir)
	vars := map[string]string{
		"DIR": dir, "WEB": freePort(t), "TLS": freePort(t), "METRICS": freePort(t), "DEAD": freePort(t),
		"A": a.Listener.Addr().String(), "B": b.Listener.Addr().String(), "MAIN": "flaky",
	}
	path := filepath.Join(dir, "pingora.yaml")
	write := func() {
		s := inProcessConfig
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		require.NoError(t, os.WriteFile(path, []byte(s), 0o600))
	}
	write()
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *instance, 1)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"pingora", "-c", path}, &stdout, &stderr, func(in *instance) { started <- in })
	}()
	var in *instance
	select {
	case in = <-started:
	case code := <-done:
		t.Fatalf("run returned %d: %s", code, stderr.String())
	}
	web := "http://" + vars["WEB"]

	t.Run("retry past a dead peer", func(t *testing.T) {
		for range 4 {
			resp, _ := get(t, web+"/")
			require.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "a", resp.Header.Get("X-Origin"))
		}
	})
	t.Run("hash selection", func(t *testing.T) {
		for _, user := range []string{"u1", "u2", "u3", "u4"} {
			req, _ := http.NewRequest("GET", web+"/", nil)
			req.Host = "x.hash.test"
			req.Header.Set("X-User", user)
			var first string
			for i := range 3 {
				resp, err := client.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				if i == 0 {
					first = resp.Header.Get("X-Origin")
				}
				assert.Equal(t, first, resp.Header.Get("X-Origin"), "user %s sticks to one backend", user)
			}
		}
	})
	t.Run("tls with alpn h2", func(t *testing.T) {
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
		require.NoError(t, err)
		blk, _ := pem.Decode(caPEM)
		ca, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(t, err)
		pool := x509.NewCertPool()
		pool.AddCert(ca)
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, ForceAttemptHTTP2: true,
		}}
		resp, err := c.Get("https://" + vars["TLS"] + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "HTTP/2.0", resp.Proto)
		c.CloseIdleConnections()
	})
	t.Run("h2c", func(t *testing.T) {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: &p}
		c := &http.Client{Timeout: 5 * time.Second, Transport: tr}
		resp, err := c.Get(web + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "HTTP/2.0", resp.Proto)
		tr.CloseIdleConnections()
	})
	t.Run("traceparent", func(t *testing.T) {
		const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		resp, _ := get(t, web+"/", "Traceparent", in)
		got := resp.Header.Get("X-Got-Traceparent")
		require.Len(t, got, 55)
		assert.Equal(t, in[:36], got[:36], "the trace continues")
		assert.NotEqual(t, in[36:52], got[36:52], "with a span of this hop")
		assert.Equal(t, "-01", got[52:])
		resp, _ = get(t, web+"/", "Traceparent", "garbage")
		got = resp.Header.Get("X-Got-Traceparent")
		_, _, ok := parseTraceparent(got)
		assert.True(t, ok, "a new trace replaces an invalid traceparent: %q", got)
		assert.NotEqual(t, in[3:35], got[3:35])
	})
	t.Run("access log file", func(t *testing.T) {
		require.Eventually(t, func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, "access.log"))
			return bytes.Contains(b, []byte("msg=request service=web")) && bytes.Contains(b, []byte("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"))
		}, 5*time.Second, 20*time.Millisecond)
	})
	t.Run("reload", func(t *testing.T) {
		vars["MAIN"] = "other"
		write()
		require.NoError(t, in.reload(ctx))
		resp, _ := get(t, web+"/")
		assert.Equal(t, "b", resp.Header.Get("X-Origin"))
		// A bad file keeps the running configuration.
		require.NoError(t, os.WriteFile(path, []byte("services: 3\n"), 0o600))
		err := in.reload(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "line 1")
		resp, _ = get(t, web+"/")
		assert.Equal(t, "b", resp.Header.Get("X-Origin"))
	})

	client.CloseIdleConnections()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return")
	}
	assert.Contains(t, stdout.String(), "pingora: service web listening on https://"+vars["TLS"])
	// Every goroutine run started has ended (the origins' are still up).
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 5*time.Second, 20*time.Millisecond,
		"goroutines: before %d, now %d", before, runtime.NumGoroutine())
}

func TestRun_Flags(t *testing.T) {
	dir := t.TempDir()
	otlp := filepath.Join(dir, "otlp.yaml")
	require.NoError(t, os.WriteFile(otlp, []byte("services:\n  - name: web\n    listen: [127.0.0.1:0]\n    respond: {status: 204}\n    tracing: {otlp_endpoint: \"http://127.0.0.1:4318\"}\n"), 0o600))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"otlp without the otel build", []string{"pingora", "-t", "-c", otlp}, 0,
			`line 5: key "services.web.tracing.otlp_endpoint" ignored: needs the pingora binary built from umbrella/otel`},
		{"help", []string{"pingora", "-h"}, 0, "embedded demo configuration"},
		{"bad flag", []string{"pingora", "--nope"}, 2, "flag provided but not defined"},
		{"extra argument", []string{"pingora", "x"}, 2, `unexpected argument "x"`},
		{"test default", []string{"pingora", "-t"}, 0, "configuration test passed: embedded default configuration"},
		{"test missing file", []string{"pingora", "-t", "-c", filepath.Join(dir, "x.yaml")}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb syncBuffer
			code := run(context.Background(), tt.args, &out, &errb, nil)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, errb.String(), tt.want)
		})
	}
}
