package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startNginx runs nginx in the foreground as an origin on a free loopback
// port, with its own prefix, and kills it (by PID) at cleanup. It skips
// the test when nginx is not installed.
func startNginx(t *testing.T) string {
	t.Helper()
	bin := "/usr/sbin/nginx"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("nginx not installed at /usr/sbin/nginx: skipping the nginx origin test")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "logs"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "html"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "html", "big"), bytes.Repeat([]byte("0123456789"), 100000), 0o644))
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
error_log %[1]s/logs/error.log;
pid %[1]s/logs/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/tmp_body;
  proxy_temp_path %[1]s/tmp_proxy;
  fastcgi_temp_path %[1]s/tmp_fcgi;
  uwsgi_temp_path %[1]s/tmp_uwsgi;
  scgi_temp_path %[1]s/tmp_scgi;
  server {
    listen %[2]s;
    root %[1]s/html;
    location = /hello { return 200 "hello from nginx"; }
    location = /echo-host { return 200 "$host|$http_x_forwarded_for"; }
    location = /post { client_body_buffer_size 1m; return 200 "$request_method $content_length"; }
  }
}
`, dir, addr)
	cf := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(cf, []byte(conf), 0o644))
	cmd := exec.Command(bin, "-p", dir, "-c", cf, "-e", filepath.Join(dir, "logs", "error.log"))
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("nginx did not start")
	return ""
}

func TestProxy_NginxOrigin(t *testing.T) {
	addr := startNginx(t)
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{XForwardedFor: true})
	c := client()
	for i := 0; i < 3; i++ {
		resp, err := c.Get("http://" + hs.Addr + "/hello")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "hello from nginx", string(b))
	}
	resp, err := c.Get("http://" + hs.Addr + "/big")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 1000000, len(b))
	assert.Equal(t, bytes.Repeat([]byte("0123456789"), 100000), b)

	req, _ := http.NewRequest("GET", "http://"+hs.Addr+"/echo-host", nil)
	req.Host = "site.example"
	resp, err = c.Do(req)
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "site.example|127.0.0.1", string(b))

	resp, err = c.Post("http://"+hs.Addr+"/post", "text/plain", strings.NewReader(strings.Repeat("p", 200000)))
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "POST 200000", string(b))

	resp, err = c.Get("http://" + hs.Addr + "/missing")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 404, resp.StatusCode)
}

func curlOrSkip(t *testing.T) string {
	p, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed: skipping the curl client test")
	}
	return p
}

func TestProxy_CurlClient(t *testing.T) {
	curl := curlOrSkip(t)
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{H2C: true})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"http1.1", []string{"--http1.1"}, "GET /a"},
		{"http1.0", []string{"--http1.0"}, "GET /a"},
		{"h2c prior knowledge", []string{"--http2-prior-knowledge"}, "GET /a"},
		{"post", []string{"--http1.1", "-d", "hello"}, "POST /a"},
		{"h2c post", []string{"--http2-prior-knowledge", "-d", "hello"}, "POST /a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-sS", "--max-time", "5"}, tc.args...)
			// One URL per run: curl 7.88 fails to reuse an h2c connection to
			// any Go HTTP/2 server (net/http's own included).
			args = append(args, "http://"+hs.Addr+"/a")
			out, err := exec.Command(curl, args...).CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Equal(t, tc.want, string(out))
		})
	}
}

func TestProxy_CurlHTTP2OverTLS(t *testing.T) {
	curl := curlOrSkip(t)
	tlsOrigin := h2Origin(t, true)
	p, err := proxy.New(proxy.Hooks[struct{}]{UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) {
		return originPeer(tlsOrigin, true), nil
	}}, proxy.Options{})
	require.NoError(t, err)
	hs := serve(t, p, tlsWrap(tlsOrigin.TLS.Certificates[0]))
	hs.cleanup = p.Cleanup
	out, err := exec.Command(curl, "-sS", "-k", "--max-time", "5", "--http2", "-d", "x=1",
		"-w", " %{http_version}", "https://"+hs.Addr+"/tls").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.True(t, strings.HasPrefix(string(out), "POST "), string(out))
	assert.True(t, strings.HasSuffix(string(out), "/tls|x=1 2"), string(out))
}
