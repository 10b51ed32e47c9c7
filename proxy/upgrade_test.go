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

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawOrigin answers every connection with fn.
func rawOrigin(t *testing.T, fn func(c net.Conn, br *bufio.Reader)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fn(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxy_WebSocketUpgrade(t *testing.T) {
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		if req.Header.Get("Upgrade") != "websocket" || !strings.EqualFold(req.Header.Get("Connection"), "upgrade") {
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_, _ = fmt.Fprintf(c, "body=%d;", len(body))
		// echo the tunneled bytes
		_, _ = io.Copy(c, br)
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	body := strings.Repeat("x", 5120)
	_, _ = fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, 101, resp.StatusCode)
	assert.Equal(t, "websocket", resp.Header.Get("Upgrade"))
	_, _ = io.WriteString(conn, "hello")
	got := make([]byte, len("body=5120;hello"))
	_, err = io.ReadFull(br, got)
	require.NoError(t, err)
	assert.Equal(t, "body=5120;hello", string(got))
}

func TestProxy_UpgradeRefusedIsNotTunneled(t *testing.T) {
	// CVE-2026-2833: bytes after a refused upgrade are the next request.
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
		}
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /first HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(conn)
	for _, want := range []string{"/first", "/second"} {
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		assert.Equal(t, want, string(b))
	}
}

func TestProxy_EarlyHints(t *testing.T) {
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n123456")
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /103 HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1 103 Early Hints\r\n", line)
	var sawLink bool
	for {
		l, err := br.ReadString('\n')
		require.NoError(t, err)
		if l == "\r\n" {
			break
		}
		sawLink = sawLink || strings.HasPrefix(l, "Link:")
	}
	assert.True(t, sawLink)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "123456", string(b))
}

func TestProxy_OriginDiesAfter103(t *testing.T) {
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n")
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
	resp, err := client().Get("http://" + hs.Addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 502, resp.StatusCode)
}

func TestProxy_Expect100Continue(t *testing.T) {
	var sawExpect string
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		sawExpect = r.Header.Get("Expect")
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(b)
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
	_, _ = br.ReadString('\n')
	_, _ = io.WriteString(conn, "data")
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "data", string(b))
	assert.Empty(t, sawExpect)
}

func TestProxy_RetryStalePooledConnection(t *testing.T) {
	// The origin closes each connection after one response without
	// saying so: the second request finds a dead pooled connection and
	// must be retried (GET, nothing received).
	var n int
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		n++
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
		// read the next request, then drop it
		_, _ = http.ReadRequest(br)
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
	c := client()
	for _, path := range []string{"/a", "/b", "/c"} {
		resp, err := c.Get("http://" + hs.Addr + path)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, path, string(b))
	}
	// A POST is not replayed after it was written.
	resp, err := c.Post("http://"+hs.Addr+"/post", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 502, resp.StatusCode)
}

func TestProxy_KeepAliveIdleTimeout(t *testing.T) {
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))},
		proxy.Options{Downstream: http1Options(150 * time.Millisecond)})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := 0; i < 2; i++ {
		_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "idle connection closed by the proxy")
}

func TestProxy_HookOptsInToReplay(t *testing.T) {
	// Same stale-connection origin; a hook opts in to replaying a POST whose
	// body is still in the retry buffer.
	var bodies []string
	addr := rawOrigin(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		bodies = append(bodies, string(b))
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
		if req2, err := http.ReadRequest(br); err == nil {
			_, _ = io.ReadAll(req2.Body) // take the next request, then drop it
		}
	})
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}](addr),
		ErrorWhileProxy: func(s *proxy.Session, p *peer.Peer, e *perr.Error, _ *struct{}, _ bool) *perr.Error {
			if e.RetryType() == perr.RetryReusedOnly {
				return e.SetRetry(s.UpstreamReused() && !s.RetryBufferTruncated())
			}
			return e
		},
	}
	hs, _ := newProxy(t, h, proxy.Options{})
	c := client()
	for _, b := range []string{"one", "two"} {
		resp, err := c.Post("http://"+hs.Addr+"/", "text/plain", strings.NewReader(b))
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, b, string(got))
	}
}
