package connector_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// h2Env is an x/net/http2 server (TLS with the given ALPN protocols, or
// h2c when protos is nil) whose handler answers r.Proto, or waits for
// release on /block.
type h2Env struct {
	ln        *countingListener
	roots     []*x509.Certificate
	release   chan struct{}
	once      sync.Once
	inHandler atomic.Int32
}

// unblock lets /block requests finish.
func (e *h2Env) unblock() { e.once.Do(func() { close(e.release) }) }

func startH2(t *testing.T, protos []string) *h2Env {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e := &h2Env{ln: &countingListener{Listener: raw}, release: make(chan struct{})}
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/block" {
			e.inHandler.Add(1)
			<-e.release
		}
		_, _ = io.WriteString(w, r.Proto)
	})
	hs := &http.Server{ErrorLog: nil}
	done := make(chan struct{})
	if protos == nil {
		hs.Handler = h2c.NewHandler(h, &http2.Server{})
		go func() { defer close(done); _ = hs.Serve(e.ln) }()
	} else {
		ca := newCA(t)
		e.roots = []*x509.Certificate{ca.cert}
		hs.Handler = h
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "a.example")}, NextProtos: protos}
		hs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // no automatic h2
		for _, p := range protos {
			if p == "h2" {
				require.NoError(t, http2.ConfigureServer(hs, &http2.Server{}))
			}
		}
		go func() { defer close(done); _ = hs.ServeTLS(e.ln, "", "") }()
	}
	t.Cleanup(func() {
		e.unblock()
		_ = hs.Close()
		<-done
	})
	return e
}

func (e *h2Env) peer() *peer.Peer {
	if e.roots == nil {
		p := peer.New(e.ln.Addr().String(), false, "")
		p.ALPN = peer.ALPNH2
		return p
	}
	p := peer.New(e.ln.Addr().String(), true, "a.example")
	p.CA = e.roots
	p.ALPN = peer.ALPNH2H1
	return p
}

// roundTrip sends GET path on s and returns the response body.
func roundTrip(s *h2.Stream, path string) (string, error) {
	defer s.Close()
	req, err := httpheader.NewRequest("GET", path)
	if err != nil {
		return "", err
	}
	if err := req.Set("Host", "a.example"); err != nil {
		return "", err
	}
	if err := s.WriteRequestHeader(req, true); err != nil {
		return "", err
	}
	resp, err := s.ReadResponseHeader()
	if err != nil {
		return "", err
	}
	if resp.Status() != 200 {
		return "", errors.New("status " + itoa(resp.Status()))
	}
	b, err := io.ReadAll(readerFunc(s.ReadResponseBody))
	return string(b), err
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestConnector_HTTP2Stream(t *testing.T) {
	for _, mode := range []string{"tls", "h2c"} {
		t.Run(mode, func(t *testing.T) {
			var protos []string
			if mode == "tls" {
				protos = []string{"h2", "http/1.1"}
			}
			env := startH2(t, protos)
			c := newConnector(t, connector.Options{})
			p := env.peer()

			for i, want := range []bool{false, true} {
				s, reused, err := c.HTTP2Stream(ctxT(t), p)
				require.NoError(t, err)
				assert.Equal(t, want, reused, "stream %d", i)
				body, err := roundTrip(s, "/")
				require.NoError(t, err)
				assert.Equal(t, "HTTP/2.0", body)
			}

			// Two streams at once share the connection.
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for range 2 {
				wg.Go(func() {
					s, _, err := c.HTTP2Stream(ctxT(t), p)
					if err == nil {
						_, err = roundTrip(s, "/block")
					}
					errs <- err
				})
			}
			require.Eventually(t, func() bool { return env.inHandler.Load() == 2 }, 5*time.Second, 5*time.Millisecond)
			assert.Equal(t, int32(1), env.ln.n.Load(), "one connection carries every stream")
			env.unblock()
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
		})
	}
}

func TestConnector_HTTP2MaxH2Streams(t *testing.T) {
	env := startH2(t, []string{"h2"})
	c := newConnector(t, connector.Options{})
	p := env.peer()
	p.MaxH2Streams = 1
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if s, _, err := c.HTTP2Stream(ctxT(t), p); err == nil {
				_, _ = roundTrip(s, "/block")
			}
		})
	}
	require.Eventually(t, func() bool { return env.inHandler.Load() == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, int32(2), env.ln.n.Load(), "one stream per connection")
	env.unblock()
	wg.Wait()
}

func TestConnector_HTTP2FallsBackToHTTP1(t *testing.T) {
	env := startH2(t, []string{"http/1.1"})
	c := newConnector(t, connector.Options{})
	p := env.peer() // ALPNH2H1

	_, _, err := c.HTTP2Stream(ctxT(t), p)
	pe := requireErr(t, err, perr.H2Downgrade, true)
	assert.Equal(t, perr.Upstream, pe.Source())
	assert.Contains(t, err.Error(), `ALPN "http/1.1"`)

	// The HTTP/1 session gets the connection the h2 attempt made.
	s, reused, err := c.HTTP1Session(ctxT(t), p, nil)
	require.NoError(t, err)
	assert.True(t, reused)
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
	assert.Equal(t, "HTTP/1.1", string(body))
	c.ReleaseHTTP1(p, s)
	assert.Equal(t, int32(1), env.ln.n.Load())
}

func TestConnector_HTTP2NotOffered(t *testing.T) {
	env := startH2(t, []string{"h2", "http/1.1"})
	plain := startH2(t, nil)
	c := newConnector(t, connector.Options{})
	tests := []struct {
		name string
		p    func() *peer.Peer
	}{
		{"ALPN H1", func() *peer.Peer { p := env.peer(); p.ALPN = peer.ALPNH1; return p }},
		{"plaintext H2H1", func() *peer.Peer { p := plain.peer(); p.ALPN = peer.ALPNH2H1; return p }},
		{"after PreferH1", func() *peer.Peer { p := env.peer(); c.PreferH1(p); return p }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.HTTP2Stream(ctxT(t), tt.p())
			requireErr(t, err, perr.H2Downgrade, true)
		})
	}
	assert.Zero(t, env.ln.n.Load()+plain.ln.n.Load(), "nothing dialed")

	_, _, err := c.HTTP2Stream(ctxT(t), &peer.Peer{})
	requireErr(t, err, perr.InternalError, false)
}

func TestConnector_HTTP2Closed(t *testing.T) {
	env := startH2(t, nil)
	c, err := connector.New(connector.Options{})
	require.NoError(t, err)
	s, _, err := c.HTTP2Stream(ctxT(t), env.peer())
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_, err = roundTrip(s, "/")
	require.Error(t, err, "Close closes HTTP/2 connections")
	_, _, err = c.HTTP2Stream(ctxT(t), env.peer())
	requireErr(t, err, perr.ConnectionClosed, false)
}
