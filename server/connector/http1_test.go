package connector_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

func TestConnector_HTTP1Session(t *testing.T) {
	ca := newCA(t)
	cert := ca.issue(t, "a.example")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tln := tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.TLS.NegotiatedProtocol)
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(tln) }()
	t.Cleanup(func() { _ = hs.Close(); <-done })

	c := newConnector(t, connector.Options{})
	p := peer.New(ln.Addr().String(), true, "a.example")
	p.CA = []*x509.Certificate{ca.cert}
	p.ALPN = peer.ALPNH2H1 // HTTP1Session still offers only http/1.1

	for i, wantReused := range []bool{false, true} {
		s, reused, err := c.HTTP1Session(ctxT(t), p, nil)
		require.NoError(t, err)
		assert.Equal(t, wantReused, reused, "round %d", i)
		req, err := httpheader.NewRequest("GET", "/")
		require.NoError(t, err)
		require.NoError(t, req.Set("Host", "a.example"))
		require.NoError(t, s.WriteRequestHeader(req))
		require.NoError(t, s.FinishRequestBody(nil))
		resp, err := s.ReadResponseHeader()
		require.NoError(t, err)
		assert.Equal(t, 200, resp.Status())
		body, err := io.ReadAll(s)
		require.NoError(t, err)
		assert.Equal(t, "HTTP/1.1 http/1.1", string(body))
		c.ReleaseHTTP1(p, s)
	}
	assert.Equal(t, 1, c.Stats().Idle)
}

func TestConnector_HTTP1SessionPlainH2Peer(t *testing.T) {
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close(); <-done })

	c := newConnector(t, connector.Options{})
	p := peer.New(ln.Addr().String(), false, "")
	p.ALPN = peer.ALPNH2 // h2c for Get; HTTP1Session speaks HTTP/1.1 anyway
	p.ReadTimeout = time.Second
	s, reused, err := c.HTTP1Session(ctxT(t), p, nil)
	require.NoError(t, err)
	assert.False(t, reused)
	req, err := httpheader.NewRequest("GET", "/")
	require.NoError(t, err)
	require.NoError(t, req.Set("Host", "x"))
	require.NoError(t, s.WriteRequestHeader(req))
	require.NoError(t, s.FinishRequestBody(nil))
	resp, err := s.ReadResponseHeader()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	body, err := io.ReadAll(s)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1", string(body))
	c.ReleaseHTTP1(p, s)

	conn, reused, err := c.Get(ctxT(t), p)
	require.NoError(t, err)
	assert.True(t, reused)
	assert.Equal(t, 1, conn.HTTPVersion(), "the pooled conn speaks HTTP/1.1")
	conn.Close()
}
