package proxy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingora-go/pingora/proxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// okOrigin is an HTTP/1 origin on raw TCP: after answering "ok" to a
// request it runs after (if not nil) on the connection, to misbehave.
func okOrigin(t *testing.T, after func(net.Conn)) (addr string, conns *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	conns = new(atomic.Int64)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
						return
					}
					if after != nil {
						after(c)
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), conns
}

// keepAliveClient sends GETs on one downstream connection.
type keepAliveClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialProxy(t *testing.T, addr string) *keepAliveClient {
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &keepAliveClient{t: t, c: c, br: bufio.NewReader(c)}
}

func (k *keepAliveClient) get(extra string) (int, string) {
	_, err := io.WriteString(k.c, "GET / HTTP/1.1\r\nHost: a\r\n"+extra+"\r\n")
	require.NoError(k.t, err)
	_ = k.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(k.br, nil)
	require.NoError(k.t, err)
	b, err := io.ReadAll(resp.Body)
	require.NoError(k.t, err)
	return resp.StatusCode, string(b)
}

func TestProxy_UpstreamConnectionParkedBetweenRequests(t *testing.T) {
	cases := []struct {
		name      string
		after     func(net.Conn) // origin behaviour after each response
		pause     time.Duration  // between requests
		wantConns int64
	}{
		{"back-to-back-share-one-connection", nil, 0, 1},
		{"idle-gap-still-reused", nil, 20 * time.Millisecond, 1},
		{"peer-closed-while-parked-is-not-reused", func(c net.Conn) { c.Close() }, 20 * time.Millisecond, 4},
		{"data-while-parked-is-not-reused", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL")
		}, 20 * time.Millisecond, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns := okOrigin(t, tc.after)
			hs, _ := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
			k := dialProxy(t, hs.Addr)
			for range 4 {
				st, body := k.get("")
				assert.Equal(t, 200, st)
				assert.Equal(t, "ok", body, "never a stale or unasked-for response")
				time.Sleep(tc.pause)
			}
			assert.Equal(t, tc.wantConns, conns.Load())
		})
	}
}

func TestProxy_ParkedConnectionGoesToPool(t *testing.T) {
	cases := []struct {
		name  string
		first func(t *testing.T, addr string)
	}{
		{"when-the-next-request-is-slow", func(t *testing.T, addr string) {
			k := dialProxy(t, addr) // stays open, idle
			st, _ := k.get("")
			require.Equal(t, 200, st)
			time.Sleep(300 * time.Millisecond)
		}},
		{"when-the-downstream-connection-closes", func(t *testing.T, addr string) {
			k := dialProxy(t, addr)
			st, _ := k.get("Connection: close\r\n")
			require.Equal(t, 200, st)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns := okOrigin(t, nil)
			hs, p := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{})
			tc.first(t, hs.Addr)
			assert.Eventually(t, func() bool { return p.Connector().Stats().Idle == 1 }, 3*time.Second, 5*time.Millisecond,
				"the parked connection is pooled")
			k := dialProxy(t, hs.Addr)
			st, body := k.get("")
			require.Equal(t, 200, st)
			require.Equal(t, "ok", body)
			assert.Equal(t, int64(1), conns.Load(), "another downstream connection reuses it")
		})
	}
}

// recorder is a slog.Handler keeping every record.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func TestProxy_ClientGoneLoggedAtDebug(t *testing.T) {
	started := make(chan struct{})
	srv, _ := origin(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		close(started)
		for range 200 {
			if _, err := w.Write(make([]byte, 64<<10)); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	logged := make(chan struct{}, 1)
	h := proxy.Hooks[struct{}]{
		UpstreamPeer: fixedPeer[struct{}](hostOf(srv)),
		Logging:      func(*proxy.Session, error, *struct{}) { logged <- struct{}{} },
	}
	rec := &recorder{}
	hs, _ := newProxy(t, h, proxy.Options{Logger: slog.New(rec)})
	conn, err := net.Dial("tcp", hs.Addr)
	require.NoError(t, err)
	_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	_, _ = conn.Read(make([]byte, 100))
	_ = conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
	select {
	case <-logged:
	case <-time.After(5 * time.Second):
		t.Fatal("no logging")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.recs, 1)
	r := rec.recs[0]
	assert.Equal(t, slog.LevelDebug, r.Level, "a client that went away is no error of the proxy")
	assert.Equal(t, "fail to proxy", r.Message)
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "status":
			assert.Equal(t, int64(499), a.Value.Int64())
		case "error":
			assert.NotContains(t, a.Value.String(), "peer:", "the peer is not part of a downstream error")
		}
		return true
	})
}

// h2cClient is an HTTP/2 client with prior knowledge over cleartext.
func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, n, a string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, n, a)
		}}}
}

// TestProxy_HTTP2StreamsShareParkedUpstreams: the streams of one HTTP/2
// downstream connection reuse each other's upstream HTTP/1 connections
// from the connection's slot (no pool round trip), never more connections
// than streams in flight, and never a stale or unasked-for response.
func TestProxy_HTTP2StreamsShareParkedUpstreams(t *testing.T) {
	cases := []struct {
		name     string
		after    func(net.Conn)
		pause    time.Duration
		maxConns int64
		poolHits bool // whether pool hits are allowed
	}{
		{"busy-streams-reuse-parked", nil, 0, 4, false},
		{"peer-closed-while-parked", func(c net.Conn) { c.Close() }, 20 * time.Millisecond, 4 * 10, false},
		{"data-while-parked", func(c net.Conn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL")
		}, 20 * time.Millisecond, 4 * 10, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, conns := okOrigin(t, tc.after)
			hs, p := newProxy(t, proxy.Hooks[struct{}]{UpstreamPeer: fixedPeer[struct{}](addr)}, proxy.Options{H2C: true})
			c := h2cClient()
			defer c.CloseIdleConnections()
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 10 {
						resp, err := c.Get("http://" + hs.Addr + "/")
						if !assert.NoError(t, err) {
							return
						}
						b, _ := io.ReadAll(resp.Body)
						resp.Body.Close()
						assert.Equal(t, 200, resp.StatusCode)
						assert.Equal(t, "ok", string(b), "never a stale or unasked-for response")
						time.Sleep(tc.pause)
					}
				}()
			}
			wg.Wait()
			assert.LessOrEqual(t, conns.Load(), tc.maxConns)
			assert.Zero(t, p.Connector().Stats().Hits, "streams took parked connections, not pooled ones")
		})
	}
}
