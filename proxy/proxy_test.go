package proxy_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type reqCtx struct {
	tries int
	log   []string
}

// origin is a Go HTTP/1 origin counting its connections.
func origin(t testing.TB, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func hostOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func client() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}, Timeout: 10 * time.Second}
}

func TestNew_RequiresUpstreamPeer(t *testing.T) {
	_, err := proxy.New(proxy.Hooks[struct{}]{}, proxy.Options{})
	require.ErrorIs(t, err, proxy.ErrNoUpstreamPeer)
	_, err = proxy.New(proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}]("x:1")}, proxy.Options{MaxRetries: -1})
	require.Error(t, err)
}

func TestProxy_HTTP1Forwarding(t *testing.T) {
	var got http.Header
	var gotHost, gotURI string
	srv, conns := origin(t, func(w http.ResponseWriter, r *http.Request) {
		got, gotHost, gotURI = r.Header.Clone(), r.Host, r.RequestURI
		w.Header().Set("Connection", "X-Secret")
		w.Header().Set("X-Secret", "hop")
		w.Header().Set("Keep-Alive", "timeout=5")
		_, _ = io.WriteString(w, "hello "+r.URL.Path)
	})
	var phases []string
	var mu sync.Mutex
	rec := func(name string) { mu.Lock(); phases = append(phases, name); mu.Unlock() }
	h := proxy.Hooks[reqCtx]{
		EarlyRequestFilter: func(*proxy.Session, *reqCtx) error { rec("early"); return nil },
		RequestFilter:      func(*proxy.Session, *reqCtx) (bool, error) { rec("request"); return false, nil },
		ProxyUpstreamFilter: func(*proxy.Session, *reqCtx) (bool, error) {
			rec("proxy_upstream")
			return true, nil
		},
		UpstreamPeer: func(s *proxy.Session, c *reqCtx) (*peer.Peer, error) {
			rec("upstream_peer")
			return peer.New(hostOf(srv), false, ""), nil
		},
		ConnectedToUpstream: func(*proxy.Session, bool, *peer.Peer, *reqCtx) error { rec("connected"); return nil },
		UpstreamRequestFilter: func(s *proxy.Session, req *httpheader.RequestHeader, _ *reqCtx) error {
			rec("upstream_request")
			_ = req.Set("X-Added", "by-hook")
			return nil
		},
		UpstreamResponseFilter: func(*proxy.Session, *httpheader.ResponseHeader, *reqCtx) error {
			rec("upstream_response")
			return nil
		},
		ResponseFilter: func(_ *proxy.Session, resp *httpheader.ResponseHeader, _ *reqCtx) error {
			rec("response")
			_ = resp.Set("X-Resp", "1")
			return nil
		},
		Logging: func(s *proxy.Session, err error, _ *reqCtx) {
			rec(fmt.Sprintf("logging %d %v", s.Status(), err))
		},
	}
	hs, _ := newProxy(t, h, proxy.Options{Via: "pingora", XForwardedFor: true, XForwardedProto: true, Forwarded: true})

	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := 0; i < 3; i++ {
		_, err = fmt.Fprintf(conn, "GET /p%d HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Drop\r\nX-Drop: secret\r\nX-Forwarded-For: 10.0.0.1\r\nTE: trailers\r\n\r\n", i)
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, fmt.Sprintf("hello /p%d", i), string(body))
		assert.Empty(t, resp.Header.Get("X-Secret"), "field named in upstream Connection removed")
		assert.Empty(t, resp.Header.Get("Keep-Alive"))
		assert.Equal(t, "1", resp.Header.Get("X-Resp"))
		assert.Equal(t, "1.1 pingora", resp.Header.Get("Via"))
		assert.False(t, resp.Close)
	}
	assert.Equal(t, "example.com", gotHost)
	assert.Equal(t, "/p2", gotURI)
	assert.Empty(t, got.Get("X-Drop"), "field named in Connection removed")
	assert.Empty(t, got.Get("Te"))
	assert.Equal(t, "by-hook", got.Get("X-Added"))
	assert.Equal(t, "10.0.0.1, 127.0.0.1", got.Get("X-Forwarded-For"))
	assert.Equal(t, "http", got.Get("X-Forwarded-Proto"))
	assert.Equal(t, `for=127.0.0.1;proto=http;host="example.com"`, got.Get("Forwarded"))
	assert.Equal(t, "1.1 pingora", got.Get("Via"))
	assert.EqualValues(t, 1, conns.Load(), "upstream connection reused")
	mu.Lock()
	defer mu.Unlock()
	want := []string{"early", "request", "proxy_upstream", "upstream_peer", "connected", "upstream_request", "upstream_response", "response", "logging 200 <nil>"}
	assert.Equal(t, want, phases[:len(want)])
}

func TestProxy_ConnectionNamesProxyField(t *testing.T) {
	// CVE-2021-33197: a client must not be able to remove the fields the
	// proxy adds by naming them in Connection.
	var xff string
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) { xff = r.Header.Get("X-Forwarded-For") })
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{XForwardedFor: true})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "127.0.0.1", xff)
}

func TestProxy_StreamingBodies(t *testing.T) {
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Trailer", "X-Sum")
		n, _ := io.Copy(w, r.Body)
		w.Header().Set("X-Sum", fmt.Sprint(n))
	})
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](hostOf(srv))}, proxy.Options{})
	for _, size := range []int{0, 1, 100 << 10, 3 << 20} {
		t.Run(fmt.Sprintf("n=%d", size), func(t *testing.T) {
			data := make([]byte, size)
			_, _ = rand.Read(data)
			for _, chunked := range []bool{false, true} {
				var body io.Reader = bytes.NewReader(data)
				if chunked {
					body = io.MultiReader(body) // unknown length: chunked
				}
				req, _ := http.NewRequest("POST", "http://"+hs.Addr+"/echo", body)
				resp, err := client().Do(req)
				require.NoError(t, err)
				got, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, 200, resp.StatusCode)
				require.Equal(t, len(data), len(got))
				require.True(t, bytes.Equal(data, got), "body of %d bytes (chunked %v)", size, chunked)
				assert.Equal(t, fmt.Sprint(size), resp.Trailer.Get("X-Sum"))
			}
		})
	}
}

func TestProxy_BodyFilters(t *testing.T) {
	var upstreamBody string
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		upstreamBody = string(b)
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "abcde")
	})
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}](hostOf(srv)),
		UpstreamRequestFilter: func(s *proxy.Session, _ *httpheader.RequestHeader, _ *struct{}) error {
			s.SetRequestBodyModified()
			return nil
		},
		RequestBodyFilter: func(_ *proxy.Session, body *[]byte, eos bool, _ *struct{}) error {
			*body = bytes.ToUpper(*body)
			if eos {
				*body = append(*body, "!"...)
			}
			return nil
		},
		ResponseFilter: func(s *proxy.Session, _ *httpheader.ResponseHeader, _ *struct{}) error {
			s.SetResponseBodyModified()
			return nil
		},
		ResponseBodyFilter: func(_ *proxy.Session, body *[]byte, eos bool, _ *struct{}) (time.Duration, error) {
			*body = bytes.Repeat(*body, 2)
			return 0, nil
		},
	}
	hs, _ := newProxy(t, h, proxy.Options{})
	resp, err := client().Post("http://"+hs.Addr+"/", "text/plain", strings.NewReader("hello"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "HELLO!", upstreamBody)
	assert.Equal(t, "abcdeabcde", string(body))
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
}

func TestProxy_RequestFilterAnswers(t *testing.T) {
	var upstream atomic.Int64
	srv, _ := origin(t, func(http.ResponseWriter, *http.Request) { upstream.Add(1) })
	var logged atomic.Int64
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}](hostOf(srv)),
		RequestFilter: func(s *proxy.Session, _ *struct{}) (bool, error) {
			if s.Request().Path() == "/deny" {
				return true, s.RespondErrorWithBody(403, []byte("no"))
			}
			if s.Request().Path() == "/err" {
				return false, perr.Explain(perr.HTTPStatus(429), "slow down")
			}
			return false, nil
		},
		ProxyUpstreamFilter: func(s *proxy.Session, _ *struct{}) (bool, error) {
			return s.Request().Path() != "/skip", nil
		},
		Logging: func(s *proxy.Session, _ error, _ *struct{}) { logged.Add(int64(s.Status())) },
	}
	hs, _ := newProxy(t, h, proxy.Options{})
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{{"/deny", 403, "no"}, {"/err", 429, ""}, {"/skip", 502, ""}, {"/ok", 200, ""}} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := client().Get("http://" + hs.Addr + tc.path)
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.body, string(b))
		})
	}
	assert.EqualValues(t, 1, upstream.Load())
	// Logging runs after the response went out: wait for the last one.
	assert.Eventually(t, func() bool { return logged.Load() == 403+429+502+200 }, 5*time.Second, 5*time.Millisecond)
}

func TestProxy_ConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	ln.Close()
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "alive") })

	t.Run("retry on next peer", func(t *testing.T) {
		var failed atomic.Int64
		h := proxy.Hooks[reqCtx]{
			UpstreamPeer: func(s *proxy.Session, c *reqCtx) (*peer.Peer, error) {
				c.tries++
				if c.tries == 1 {
					return peer.New(dead, false, ""), nil
				}
				return peer.New(hostOf(srv), false, ""), nil
			},
			FailToConnect: func(_ *proxy.Session, _ *peer.Peer, _ *reqCtx, e *perr.Error) *perr.Error {
				failed.Add(1)
				return e
			},
		}
		hs, _ := newProxy(t, h, proxy.Options{})
		resp, err := client().Post("http://"+hs.Addr+"/", "text/plain", strings.NewReader("body"))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "alive", string(b))
		assert.EqualValues(t, 1, failed.Load())
	})
	t.Run("attempts capped", func(t *testing.T) {
		var tries atomic.Int64
		h := proxy.Hooks[reqCtx]{
			UpstreamPeer: func(*proxy.Session, *reqCtx) (*peer.Peer, error) {
				tries.Add(1)
				return peer.New(dead, false, ""), nil
			},
		}
		hs, _ := newProxy(t, h, proxy.Options{MaxRetries: 3})
		resp, err := client().Get("http://" + hs.Addr + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 502, resp.StatusCode)
		assert.EqualValues(t, 3, tries.Load())
	})
	t.Run("hook declines retry", func(t *testing.T) {
		var tries atomic.Int64
		h := proxy.Hooks[reqCtx]{
			UpstreamPeer: func(*proxy.Session, *reqCtx) (*peer.Peer, error) {
				tries.Add(1)
				return peer.New(dead, false, ""), nil
			},
			FailToConnect: func(_ *proxy.Session, _ *peer.Peer, _ *reqCtx, e *perr.Error) *perr.Error {
				return e.SetRetry(false)
			},
		}
		hs, _ := newProxy(t, h, proxy.Options{})
		resp, err := client().Get("http://" + hs.Addr + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 502, resp.StatusCode)
		assert.EqualValues(t, 1, tries.Load())
	})
	t.Run("peer error is 500", func(t *testing.T) {
		h := proxy.Hooks[reqCtx]{
			UpstreamPeer: func(*proxy.Session, *reqCtx) (*peer.Peer, error) { return nil, errors.New("no backend") },
		}
		hs, _ := newProxy(t, h, proxy.Options{})
		resp, err := client().Get("http://" + hs.Addr + "/")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 500, resp.StatusCode)
	})
}

func TestProxy_UpstreamTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) {
			p := peer.New(hostOf(srv), false, "")
			p.ReadTimeout = 200 * time.Millisecond
			return p, nil
		},
	}
	hs, _ := newProxy(t, h, proxy.Options{})
	resp, err := client().Get("http://" + hs.Addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 504, resp.StatusCode)
}

func TestProxy_BrokenUpstreamIs502(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent Length: 3\r\n\r\n")
			c.Close()
		}
	}()
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](ln.Addr().String())}, proxy.Options{})
	resp, err := client().Get("http://" + hs.Addr + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 502, resp.StatusCode)
}

func TestProxy_ClientGoneIs499(t *testing.T) {
	started := make(chan struct{})
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		close(started)
		for i := 0; i < 200; i++ {
			if _, err := w.Write(make([]byte, 64<<10)); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	status := make(chan int, 1)
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}](hostOf(srv)),
		Logging:      func(s *proxy.Session, _ error, _ *struct{}) { status <- s.Status() },
	}
	hs, _ := newProxy(t, h, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	_, _ = conn.Read(make([]byte, 100))
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
	select {
	case s := <-status:
		assert.Equal(t, 499, s)
	case <-time.After(5 * time.Second):
		t.Fatal("no logging")
	}
}

func TestProxy_ConnectMethod(t *testing.T) {
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}]("127.0.0.1:1")}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_, _ = io.WriteString(conn, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, 405, resp.StatusCode)
}

func TestProxy_BadRequestNoHooks(t *testing.T) {
	var called atomic.Bool
	hs, _ := newProxy(t, proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}]("127.0.0.1:1"),
		NewCtx:       func() struct{} { called.Store(true); return struct{}{} },
	}, proxy.Options{})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost : x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	assert.Equal(t, 400, resp.StatusCode)
	assert.False(t, called.Load())
}
