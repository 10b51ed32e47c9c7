package proxy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// h2Origin is a Go origin speaking HTTP/2 over TLS (and HTTP/1.1), or h2c
// and HTTP/1.1 in cleartext.
func h2Origin(t *testing.T, useTLS bool) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("X-Proto", r.Proto)
		w.Header().Set("Trailer", "X-Len")
		b, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, "%s %s %s|%s", r.Method, r.Host, r.URL.RequestURI(), b)
		w.Header().Set("X-Len", fmt.Sprint(len(b)))
	}))
	if useTLS {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

func originPeer(srv *httptest.Server, h2 bool) *peer.Peer {
	addr := srv.Listener.Addr().String()
	if srv.TLS == nil {
		p := peer.New(addr, false, "")
		if h2 {
			p.ALPN = peer.ALPNH2
		}
		return p
	}
	p := peer.New(addr, true, "example.com")
	p.CA = []*x509.Certificate{srv.Certificate()}
	if h2 {
		p.ALPN = peer.ALPNH2H1
	}
	return p
}

// tlsWrap serves TLS downstream with the origin's test certificate.
func tlsWrap(cert tls.Certificate) func(net.Conn) (net.Conn, bool) {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	return func(c net.Conn) (net.Conn, bool) {
		tc := tls.Server(c, cfg)
		_ = tc.Handshake()
		return tc, true
	}
}

func TestProxy_HTTP2Combinations(t *testing.T) {
	tlsOrigin := h2Origin(t, true)
	cert := tlsOrigin.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(tlsOrigin.Certificate())

	for _, down := range []string{"h1", "h2-tls", "h2c"} {
		for _, up := range []string{"h1", "h2-tls", "h2c"} {
			t.Run(down+"->"+up, func(t *testing.T) {
				var pr *peer.Peer
				wantProto := "HTTP/1.1"
				switch up {
				case "h1":
					pr = originPeer(h2Origin(t, false), false)
				case "h2-tls":
					pr = originPeer(tlsOrigin, true)
					wantProto = "HTTP/2.0"
				case "h2c":
					pr = originPeer(h2Origin(t, false), true)
					wantProto = "HTTP/2.0"
				}
				p, err := proxy.New(proxy.Hooks[struct{}]{
					UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
				}, proxy.Options{H2C: true})
				require.NoError(t, err)
				var wrap func(net.Conn) (net.Conn, bool)
				if down == "h2-tls" {
					wrap = tlsWrap(cert)
				}
				hs := serve(t, p, wrap)
				hs.cleanup = p.Cleanup

				var c *http.Client
				url := "http://" + hs.Addr
				switch down {
				case "h1":
					c = client()
				case "h2-tls":
					url = "https://" + hs.Addr
					c = &http.Client{Transport: &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"}}}
				case "h2c":
					c = &http.Client{Transport: &http2.Transport{AllowHTTP: true,
						DialTLSContext: func(ctx context.Context, n, a string, _ *tls.Config) (net.Conn, error) {
							return (&net.Dialer{}).DialContext(ctx, n, a)
						}}}
				}
				defer c.CloseIdleConnections()
				for i := 0; i < 3; i++ {
					resp, err := c.Post(url+"/x?q=1", "text/plain", strings.NewReader(strings.Repeat("b", 70000)))
					require.NoError(t, err)
					body, err := io.ReadAll(resp.Body)
					require.NoError(t, err)
					resp.Body.Close()
					require.Equal(t, 200, resp.StatusCode, string(body))
					assert.Equal(t, wantProto, resp.Header.Get("X-Proto"))
					assert.True(t, strings.HasPrefix(string(body), "POST "), string(body[:min(len(body), 80)]))
					assert.Contains(t, string(body[:80]), " /x?q=1|bbb")
					assert.Len(t, body, len("POST ")+len(strings.SplitN(string(body), " ", 3)[1])+len(" /x?q=1|")+70000)
					assert.Equal(t, "70000", resp.Trailer.Get("X-Len"))
					if down != "h1" {
						assert.Equal(t, 2, resp.ProtoMajor)
					}

					resp, err = c.Get(url + "/get")
					require.NoError(t, err)
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
					assert.True(t, strings.HasPrefix(string(body), "GET "), string(body))
				}
			})
		}
	}
}

// TestProxy_HTTP2TrailersAfterContentLength: an HTTP/2 upstream may send
// trailers after a body whose length it announced; a downstream HTTP/2
// client must still get them (the stream may not end with the last DATA).
func TestProxy_HTTP2TrailersAfterContentLength(t *testing.T) {
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.Header().Set("Trailer", "Grpc-Status")
		_, _ = io.WriteString(w, "hello")
		w.Header().Set("Grpc-Status", "0")
	}))
	origin.Config.Protocols = new(http.Protocols)
	origin.Config.Protocols.SetUnencryptedHTTP2(true)
	origin.Start()
	t.Cleanup(origin.Close)
	pr := originPeer(origin, true)

	p, err := proxy.New(proxy.Hooks[struct{}]{
		UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
	}, proxy.Options{H2C: true})
	require.NoError(t, err)
	hs := serve(t, p, nil)
	hs.cleanup = p.Cleanup

	c := &http.Client{Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, n, a string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, a)
		}}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("http://" + hs.Addr + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "hello", string(body))
	assert.Equal(t, "0", resp.Trailer.Get("Grpc-Status"))
}
