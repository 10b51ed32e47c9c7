package umbrella

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

// TestRun_ProxyProtocol: a listener with proxy_protocol takes the client
// address from the PROXY header (v1 and v2) and closes connections that
// do not start with one; the listener without it is unaffected.
func TestRun_ProxyProtocol(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("X-Forwarded-For"))
	}))
	t.Cleanup(origin.Close)
	behindLB, direct, untrusted := freePort(t), freePort(t), freePort(t)
	runInProcess(t, fmt.Sprintf(`services:
  - name: web
    listen:
      - {addr: %s, proxy_protocol: true}
      - %s
      - {addr: %s, proxy_protocol: true, proxy_protocol_from: [192.0.2.0/24, "2001:db8::1"]}
    upstream: app
    x_forwarded: true
upstreams:
  app:
    peers: [%s]
`, behindLB, direct, untrusted, origin.Listener.Addr()))

	request := "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
	v2 := []byte("\r\n\r\n\x00\r\nQUIT\n" + // signature
		"\x21\x11\x00\x0c" + // v2 PROXY, TCP over IPv4, 12 address bytes
		"\xcb\x00\x71\x05" + "\x7f\x00\x00\x01" + // 203.0.113.5 -> 127.0.0.1
		"\x30\x39\x00\x50") // 12345 -> 80
	cases := []struct {
		name     string
		addr     string
		preamble string
		want     string // X-Forwarded-For the origin saw; "" means the connection is refused
	}{
		{"v1", behindLB, "PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\n", "192.0.2.9"},
		{"v2", behindLB, string(v2), "203.0.113.5"},
		{"missing-header-closed", behindLB, "", ""},
		{"direct-listener-unaffected", direct, "", "127.0.0.1"},
		{"untrusted-source-closed", untrusted, "PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", tc.addr)
			require.NoError(t, err)
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			_, err = io.WriteString(c, tc.preamble+request)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if tc.want == "" {
				assert.Error(t, err, "no response without a PROXY header")
				return
			}
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, tc.want, string(body))
		})
	}
}

// TestRun_ProxyProtocolToUpstream: an upstream with proxy_protocol gets a
// PROXY header with the client's address on every connection (the address
// a PROXY header gave the listener, when there is one), and its health
// checks send one marked as the proxy's own.
func TestRun_ProxyProtocolToUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var checks []string // RemoteAddr of health checks: the real one, as LOCAL headers say
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			mu.Lock()
			checks = append(checks, r.RemoteAddr)
			mu.Unlock()
		}
		_, _ = io.WriteString(w, r.RemoteAddr)
	})}
	go func() { _ = origin.Serve(proxyHeaderListener{ln}) }()
	t.Cleanup(func() { _ = origin.Close() })

	behindLB, direct := freePort(t), freePort(t)
	runInProcess(t, fmt.Sprintf(`services:
  - name: web
    listen:
      - {addr: %s, proxy_protocol: true}
      - %s
    upstream: app
upstreams:
  app:
    peers: [%s]
    proxy_protocol: 2
    health_check: {type: http, path: /healthz, interval: 100ms}
`, behindLB, direct, ln.Addr()))

	ask := func(addr, preamble string) (string, string) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = io.WriteString(c, preamble+"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, 200, resp.StatusCode, "body: %s", body)
		return string(body), c.LocalAddr().String()
	}
	got, _ := ask(behindLB, "PROXY TCP4 192.0.2.9 127.0.0.1 5555 80\r\n")
	assert.Equal(t, "192.0.2.9:5555", got, "the listener's PROXY source is passed on")
	got, local := ask(direct, "")
	assert.Equal(t, local, got, "the client's own address")

	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(checks) > 0
	}, 5*time.Second, 20*time.Millisecond, "health checks pass through the PROXY listener")
	mu.Lock()
	host, _, _ := net.SplitHostPort(checks[0])
	mu.Unlock()
	assert.Equal(t, "127.0.0.1", host, "a LOCAL header: the real address")
}

// proxyHeaderListener requires a PROXY header on every connection.
type proxyHeaderListener struct{ net.Listener }

func (l proxyHeaderListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		pc, err := proxyproto.Read(c, proxyproto.Options{Timeout: 2 * time.Second})
		if err != nil {
			_ = c.Close()
			continue
		}
		return pc, nil
	}
}
