package umbrella

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestExample_Gateway runs examples/gateway/gateway.yaml on free ports.
func TestExample_Gateway(t *testing.T) {
	data, err := os.ReadFile("examples/gateway/gateway.yaml")
	require.NoError(t, err)
	_, warns, err := ParseConfig(data)
	require.NoError(t, err)
	assert.Empty(t, warns)

	cfg := string(data)
	ports := map[string]string{}
	for _, p := range []string{"6200", "6201", "6202", "6203"} {
		ports[p] = freePort(t)
		cfg = strings.ReplaceAll(cfg, "127.0.0.1:"+p, ports[p])
	}
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	p := start(t, "-c", path)
	gw := "http://" + ports["6200"]

	resp, body := get(t, gw+"/v1/users", "X-Api-Key", "alice")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "{\"api\": \"v1\"}\n", body)
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Empty(t, resp.Header.Get("Server"))
	resp, body = get(t, gw+"/v2/users", "X-Api-Key", "alice")
	assert.Equal(t, "{\"api\": \"v2\"}\n", body)
	resp, _ = get(t, gw+"/nope", "X-Api-Key", "alice")
	assert.Equal(t, 404, resp.StatusCode)

	codes := map[int]int{}
	for range 8 {
		resp, _ := get(t, gw+"/v1/", "X-Api-Key", "bob")
		codes[resp.StatusCode]++
	}
	assert.Positive(t, codes[429], "codes: %v", codes)
	assert.LessOrEqual(t, codes[200], 5, "codes: %v", codes)
	assert.NoError(t, p.stop(t, syscall.SIGTERM))
}

// runInProcess runs cfg (a YAML text) with run and returns the instance;
// the server stops at the end of the test.
func runInProcess(t *testing.T, cfg string) *instance {
	t.Helper()
	dir := t.TempDir()
	cfg = "upgrade_sock: " + dir + "/upgrade.sock\n" + cfg
	path := filepath.Join(dir, "pingora.yaml")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *instance, 1)
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"pingora", "-c", path}, &stdout, &stderr, func(in *instance) { started <- in })
	}()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, 0, <-done, "stderr: %s", stderr.String())
	})
	select {
	case in := <-started:
		return in
	case code := <-done:
		done <- code
		t.Fatalf("run returned %d: %s", code, stderr.String())
		return nil
	}
}

// exampleConfig reads an example and replaces addresses.
func exampleConfig(t *testing.T, name string, repl map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	require.NoError(t, err)
	_, warns, err := ParseConfig(data)
	require.NoError(t, err)
	assert.Empty(t, warns)
	s := string(data)
	for k, v := range repl {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

// wsOrigin answers a WebSocket upgrade with 101 and echoes the tunnel,
// prefixed with its name.
func wsOrigin(t *testing.T, name string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		buf := make([]byte, 256)
		for {
			n, err := rw.Read(buf)
			if err != nil {
				return
			}
			fmt.Fprintf(rw, "%s:%s", name, buf[:n])
			rw.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestExample_WebSocket(t *testing.T) {
	a, b := wsOrigin(t, "a"), wsOrigin(t, "b")
	listen := freePort(t)
	cfg := exampleConfig(t, "examples/websocket/websocket.yaml", map[string]string{
		"127.0.0.1:6300": listen, "127.0.0.1:8081": a.Listener.Addr().String(), "127.0.0.1:8082": b.Listener.Addr().String(),
	})
	in := runInProcess(t, cfg)

	conn, err := net.DialTimeout("tcp", listen, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	fmt.Fprintf(conn, "GET /ws/chat HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, 101, resp.StatusCode)
	echo := func(msg string) string {
		_, err := conn.Write([]byte(msg))
		require.NoError(t, err)
		buf := make([]byte, 64)
		n, err := br.Read(buf)
		require.NoError(t, err)
		return string(buf[:n])
	}
	got := echo("hello")
	name, _, _ := strings.Cut(got, ":")
	assert.Contains(t, []string{"a", "b"}, name)
	assert.Equal(t, name+":hello", got)

	// A reload does not touch the open tunnel.
	require.NoError(t, in.reload(context.Background()))
	assert.Equal(t, name+":still here", echo("still here"))
}

func TestExample_GRPC(t *testing.T) {
	// A gRPC-shaped origin: HTTP/2 cleartext, grpc-status in a trailer.
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 || r.Header.Get("Content-Type") != "application/grpc" {
			http.Error(w, "want gRPC over HTTP/2", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = w.Write(body) // echo the message
		// Flush as gRPC servers stream: the response has no Content-Length.
		// (With a Content-Length, the proxy's HTTP/2 upstream drops the
		// trailers: reported to the proxy module.)
		_ = http.NewResponseController(w).Flush()
		w.Header().Set("Grpc-Status", "0")
	}))
	origin.Config.Protocols = new(http.Protocols)
	origin.Config.Protocols.SetUnencryptedHTTP2(true)
	origin.Start()
	t.Cleanup(origin.Close)

	listen := freePort(t)
	cfg := exampleConfig(t, "examples/grpc/grpc.yaml", map[string]string{
		"127.0.0.1:6400": listen, "127.0.0.1:50051": origin.Listener.Addr().String(), "127.0.0.1:50052": origin.Listener.Addr().String(),
	})
	runInProcess(t, cfg)

	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	msg := []byte{0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'} // one length-prefixed message
	req, err := http.NewRequest("POST", "http://"+listen+"/helloworld.Greeter/SayHello", bytes.NewReader(msg))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.Equal(t, msg, body)
	assert.Equal(t, "0", resp.Trailer.Get("Grpc-Status"), "the trailer passes through")
}
