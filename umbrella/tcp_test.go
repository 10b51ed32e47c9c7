package umbrella

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

// lineServer accepts connections and, for each line read, answers
// "NAME: line"; wrap (may be nil) wraps each accepted connection (TLS).
func lineServer(t *testing.T, name string, wrap func(net.Conn) net.Conn) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if wrap != nil {
					c = wrap(c)
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := fmt.Fprintf(c, "%s: %s\n", name, sc.Text()); err != nil {
						return
					}
				}
				// The client half-closed: one more line proves the other
				// direction still works.
				_, _ = fmt.Fprintf(c, "%s: bye\n", name)
			})
		}
	})
	return ln.Addr().String()
}

// tlsServerWrap returns a wrap for lineServer that serves TLS with a
// certificate of ca for names.
func tlsServerWrap(t *testing.T, ca *tlstest.CA, names ...string) func(net.Conn) net.Conn {
	certPEM, keyPEM := tlstest.PEM(t, ca.Server(t, tlstest.ECDSAP256, names...))
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	return func(c net.Conn) net.Conn { return tls.Server(c, cfg) }
}

// talkLines writes each line to c and returns the line read back for it.
func talkLines(t *testing.T, c net.Conn, lines ...string) []string {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	br := bufio.NewReader(c)
	var got []string
	for _, l := range lines {
		_, err := io.WriteString(c, l+"\n")
		require.NoError(t, err)
		s, err := br.ReadString('\n')
		require.NoError(t, err)
		got = append(got, strings.TrimSuffix(s, "\n"))
	}
	return got
}

// TestRun_TCPService: a protocol: tcp service tunnels bytes both ways and
// passes a half-close on; with sni routes it sends TLS connections, never
// terminated, to the upstream their server name picks.
func TestRun_TCPService(t *testing.T) {
	ca := tlstest.NewCA(t, "tcp test ca")
	tlsWrap := func(names ...string) func(net.Conn) net.Conn { return tlsServerWrap(t, ca, names...) }
	plain := lineServer(t, "plain", nil)
	siteA := lineServer(t, "a", tlsWrap("a.example"))
	siteB := lineServer(t, "b", tlsWrap("b.example", "*.b.example"))
	fallback := lineServer(t, "fallback", nil)

	tcpAddr, sniAddr, failAddr, deadAddr := freePort(t), freePort(t), freePort(t), freePort(t)
	dead := freePort(t) // nothing listens here
	runInProcess(t, fmt.Sprintf(`services:
  - name: failover
    protocol: tcp
    listen: [%s]
    upstream: flaky
  - name: nowhere
    protocol: tcp
    listen: [%s]
    upstream: down
  - name: raw
    protocol: tcp
    listen: [%s]
    upstream: plain
    idle_timeout: 5s
  - name: passthrough
    protocol: tcp
    listen: [%s]
    routes:
      - {sni: a.example, upstream: a}
      - {sni: "*.b.example", upstream: b}
      - {sni: b.example, upstream: b}
      - {upstream: fallback}
upstreams:
  plain: {peers: [%s]}
  a: {peers: [%s]}
  b: {peers: [%s]}
  fallback: {peers: [%s]}
  flaky: {peers: [%s, %s], retries: 1}
  down: {peers: [%s], retries: 0}
`, failAddr, deadAddr, tcpAddr, sniAddr, plain, siteA, siteB, fallback, dead, plain, dead))

	talk := talkLines

	t.Run("tcp tunnel and half-close", func(t *testing.T) {
		c, err := net.Dial("tcp", tcpAddr)
		require.NoError(t, err)
		defer c.Close()
		assert.Equal(t, []string{"plain: one", "plain: two"}, talk(t, c, "one", "two"))
		require.NoError(t, c.(*net.TCPConn).CloseWrite())
		rest, err := io.ReadAll(c)
		require.NoError(t, err)
		assert.Equal(t, "plain: bye\n", string(rest), "the upstream saw EOF and still answered")
	})

	t.Run("a refused backend is retried on the other", func(t *testing.T) {
		for i := range 4 { // round robin starts on either backend
			c, err := net.Dial("tcp", failAddr)
			require.NoError(t, err)
			assert.Equal(t, []string{fmt.Sprintf("plain: try %d", i)}, talk(t, c, fmt.Sprintf("try %d", i)))
			c.Close()
		}
	})
	t.Run("no backend: the client is closed", func(t *testing.T) {
		c, err := net.Dial("tcp", deadAddr)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
		n, err := c.Read(make([]byte, 1))
		assert.Equal(t, 0, n)
		require.Error(t, err)
		var ne net.Error
		assert.False(t, errors.As(err, &ne) && ne.Timeout(), "closed by the proxy, not left open: %v", err)
	})

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	for _, tc := range []struct{ sni, want string }{
		{"a.example", "a"},
		{"b.example", "b"},
		{"api.b.example", "b"},
	} {
		t.Run("sni "+tc.sni, func(t *testing.T) {
			c, err := tls.Dial("tcp", sniAddr, &tls.Config{ServerName: tc.sni, RootCAs: roots})
			require.NoError(t, err, "the upstream's certificate, verified end to end")
			defer c.Close()
			assert.Equal(t, []string{tc.want + ": hello"}, talk(t, c, "hello"))
		})
	}
	t.Run("no sni match falls back, plaintext too", func(t *testing.T) {
		c, err := net.Dial("tcp", sniAddr)
		require.NoError(t, err)
		defer c.Close()
		assert.Equal(t, []string{"fallback: plain text"}, talk(t, c, "plain text"))
	})
}

func TestParseConfig_TCPErrors(t *testing.T) {
	const ups = "upstreams:\n  u: {peers: [127.0.0.1:9000]}\n"
	tests := []struct {
		name, yaml string
		want       string
	}{
		{"h2c on tcp", "services:\n  - {listen: [127.0.0.1:1], protocol: tcp, upstream: u, h2c: true}\n" + ups,
			"services[0].h2c: not for protocol: tcp"},
		{"respond on tcp", "services:\n  - {listen: [127.0.0.1:1], protocol: tcp, respond: {body: x}}\n" + ups,
			"services[0].routes[0].respond: not for protocol: tcp"},
		{"host route on tcp", "services:\n  - listen: [127.0.0.1:1]\n    protocol: tcp\n    routes: [{host: a.example, upstream: u}]\n" + ups,
			"protocol: tcp routes match sni only"},
		{"sni on http", "services:\n  - listen: [127.0.0.1:1]\n    routes: [{sni: a.example, upstream: u}]\n" + ups,
			"services[0].routes[0].sni: only for protocol: tcp"},
		{"idle_timeout on http", "services:\n  - {listen: [127.0.0.1:1], upstream: u, idle_timeout: 5s}\n" + ups,
			"services[0].idle_timeout: only for protocol: tcp"},
		{"unknown protocol", "services:\n  - {listen: [127.0.0.1:1], upstream: u, protocol: udp}\n" + ups,
			`services[0].protocol: "udp" is not http or tcp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseConfig([]byte(tt.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	c, _, err := ParseConfig([]byte("services:\n  - {listen: [127.0.0.1:1], protocol: tcp, upstream: u}\n" + ups))
	require.NoError(t, err)
	assert.Equal(t, DefaultTCPIdleTimeout, c.Services[0].IdleTimeout)
	assert.Equal(t, "tcp", c.Services[0].Protocol)
}

// TestExample_Passthrough runs examples/passthrough/passthrough.yaml on
// free ports with real TLS backends behind it.
func TestExample_Passthrough(t *testing.T) {
	ca := tlstest.NewCA(t, "passthrough ca")
	backends := map[string]string{
		"7443": lineServer(t, "api", tlsServerWrap(t, ca, "api.example.com")),
		"7444": lineServer(t, "web-1", tlsServerWrap(t, ca, "*.example.com")),
		"7445": lineServer(t, "web-2", tlsServerWrap(t, ca, "*.example.com")),
		"7432": lineServer(t, "db", nil),
	}
	repl := map[string]string{"127.0.0.1:6443": freePort(t), "127.0.0.1:6432": freePort(t)}
	for port, addr := range backends {
		repl["127.0.0.1:"+port] = addr
	}
	runInProcess(t, exampleConfig(t, "examples/passthrough/passthrough.yaml", repl))

	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	dial := func(sni string) []string {
		c, err := tls.Dial("tcp", repl["127.0.0.1:6443"], &tls.Config{ServerName: sni, RootCAs: roots})
		require.NoError(t, err, "the backend's own certificate, verified through the proxy")
		defer c.Close()
		return talkLines(t, c, "hi")
	}
	assert.Equal(t, []string{"api: hi"}, dial("api.example.com"))
	web := dial("www.example.com")[0]
	assert.Contains(t, []string{"web-1: hi", "web-2: hi"}, web)
	assert.Equal(t, []string{web}, dial("shop.example.com"), "hash selection: the same client IP, the same backend")

	c, err := net.Dial("tcp", repl["127.0.0.1:6432"])
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, []string{"db: select 1"}, talkLines(t, c, "select 1"))
}
