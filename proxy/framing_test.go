package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exchangeRaw sends raw request bytes to addr and returns everything read
// until the proxy closes the connection or 2 s pass.
func exchangeRaw(t *testing.T, addr, req string) string {
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.WriteString(conn, req)
	b, _ := io.ReadAll(conn)
	return string(b)
}

func TestProxy_ResponseFraming(t *testing.T) {
	var seenHost, seenURI string
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		seenHost, seenURI = r.Host, r.RequestURI
		switch r.URL.Path {
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.Header().Set("ETag", `"x"`)
			w.WriteHeader(304)
		case "/stream":
			w.(http.Flusher).Flush() // chunked from the origin
			_, _ = io.WriteString(w, "streamed")
		default:
			w.Header().Set("Content-Length", "4")
			_, _ = io.WriteString(w, "body")
		}
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{})
	tests := []struct {
		name, req string
		want      []string // substrings of the raw response
		not       []string
	}{
		{"HEAD keeps length", "HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 200 OK\r\n", "Content-Length: 4\r\n"}, []string{"body"}},
		{"204", "GET /204 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 204 No Content\r\n"}, []string{"Transfer-Encoding", "Content-Length"}},
		{"304", "GET /304 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 304 Not Modified\r\n", "Etag: \"x\""}, []string{"Transfer-Encoding"}},
		{"chunked to 1.1", "GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			[]string{"Transfer-Encoding: chunked\r\n", "8\r\nstreamed\r\n0\r\n\r\n", "Connection: close\r\n"}, nil},
		{"close-delimited to 1.0", "GET /stream HTTP/1.0\r\nHost: a\r\n\r\n",
			[]string{"HTTP/1.1 200 OK\r\n", "Connection: close\r\n", "\r\n\r\nstreamed"}, []string{"chunked"}},
		{"1.0 keep-alive", "GET /x HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\nGET /x HTTP/1.0\r\nHost: a\r\n\r\n",
			[]string{"Connection: keep-alive\r\n", "body"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := exchangeRaw(t, hs.Addr, tc.req)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, got, n)
			}
		})
	}
	t.Run("absolute-form target", func(t *testing.T) {
		got := exchangeRaw(t, hs.Addr, "GET http://real.example:8080/p?q=1 HTTP/1.1\r\nHost: ignored.example\r\nConnection: close\r\n\r\n")
		assert.Contains(t, got, "200 OK")
		assert.Equal(t, "real.example:8080", seenHost)
		assert.Equal(t, "/p?q=1", seenURI)
	})
	t.Run("1.0 without host", func(t *testing.T) {
		got := exchangeRaw(t, hs.Addr, "GET /x HTTP/1.0\r\n\r\n")
		assert.Contains(t, got, "body")
		assert.Equal(t, hostOf(srv), seenHost)
	})
}

func TestProxy_UpstreamPrematureEnd(t *testing.T) {
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	_, err = io.ReadAll(resp.Body)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a truncated body must not look complete")
}

func TestProxy_ShutdownClosesIdle(t *testing.T) {
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	_, _ = io.ReadAll(resp.Body)
	done := make(chan struct{})
	go func() { hs.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(1500 * time.Millisecond):
		t.Fatal("an idle keep-alive connection delayed shutdown")
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = br.ReadByte()
	assert.Error(t, err)
}

func TestProxy_PersistConnectionContext(t *testing.T) {
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {})
	var seen []any
	h := proxy.Hooks[int]{
		NewCtx:                   func() int { return 7 },
		UpstreamPeer:             fixedPeer[int](hostOf(srv)),
		OnConnectionReuse:        func(_ *proxy.Session, _ *int, prev any) { seen = append(seen, prev) },
		PersistConnectionContext: func(s *proxy.Session, c *int) any { return fmt.Sprint(*c, "#", s.Requests()) },
	}
	hs, _ := newProxy(t, h, proxy.Options{})
	got := exchangeRaw(t, hs.Addr, strings.Repeat("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 2)+"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	assert.Equal(t, 3, strings.Count(got, "200 OK"))
	assert.Equal(t, []any{"7#0", "7#1"}, seen)
}
