package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
	"github.com/pingora-go/pingora/server/peer"
)

// proxyListener reads a PROXY header on every accepted connection; a
// connection without one is closed.
type proxyListener struct{ net.Listener }

func (l proxyListener) Accept() (net.Conn, error) {
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

// proxyOrigin is an HTTP origin behind the PROXY protocol that answers
// with the client address its header announced.
func proxyOrigin(t *testing.T) (addr string, opened, closed *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	opened, closed = new(atomic.Int64), new(atomic.Int64)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, r.RemoteAddr)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				opened.Add(1)
			case http.StateClosed, http.StateHijacked:
				closed.Add(1)
			}
		},
	}
	go func() { _ = srv.Serve(proxyListener{ln}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), opened, closed
}

// get sends a keep-alive GET on c and returns the body.
func get(t *testing.T, c net.Conn, br *bufio.Reader) string {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")
	require.NoError(t, err)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	return string(body)
}

func TestProxy_ProxyProtocolToUpstream(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			addr, opened, closed := proxyOrigin(t)
			hs, _ := newProxy(t, proxy.Hooks[struct{}]{
				UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) {
					return &peer.Peer{Addr: addr, ProxyProtocol: version}, nil
				},
			}, proxy.Options{})

			a, err := net.Dial("tcp", hs.Addr)
			require.NoError(t, err)
			defer a.Close()
			ra := bufio.NewReader(a)
			assert.Equal(t, a.LocalAddr().String(), get(t, a, ra))
			assert.Equal(t, a.LocalAddr().String(), get(t, a, ra), "second request, same client")
			assert.EqualValues(t, 1, opened.Load(), "the client's upstream connection is reused")

			b, err := net.Dial("tcp", hs.Addr)
			require.NoError(t, err)
			defer b.Close()
			assert.Equal(t, b.LocalAddr().String(), get(t, b, bufio.NewReader(b)))
			assert.EqualValues(t, 2, opened.Load(), "another client never gets the first one's connection")

			// The first client leaves: its upstream connection, useless to
			// anyone else, is closed rather than pooled.
			require.NoError(t, a.Close())
			require.Eventually(t, func() bool { return closed.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
			assert.Equal(t, b.LocalAddr().String(), get(t, b, bufio.NewReader(b)))
			assert.EqualValues(t, 2, opened.Load())
		})
	}
}

// A hook that sets the addresses itself (e.g. from a trusted header) has
// them sent as they are.
func TestProxy_ProxyProtocolAddressesFromHook(t *testing.T) {
	addr, _, _ := proxyOrigin(t)
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{
		UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) {
			return &peer.Peer{Addr: addr, ProxyProtocol: 2,
				ProxySource:      netip.MustParseAddrPort("192.0.2.7:40000"),
				ProxyDestination: netip.MustParseAddrPort("198.51.100.1:443")}, nil
		},
	}, proxy.Options{})
	c, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "192.0.2.7:40000", get(t, c, bufio.NewReader(c)))
}
