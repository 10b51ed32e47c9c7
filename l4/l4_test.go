package l4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/l4"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew_Options(t *testing.T) {
	up := fixed("127.0.0.1:1")
	tests := []struct {
		name    string
		opts    l4.Options
		wantErr string
	}{
		{"no upstream", l4.Options{}, "l4: Options.Upstream is required"},
		{"negative peek timeout", l4.Options{Upstream: up, PeekTimeout: -1}, "l4: negative PeekTimeout -1ns"},
		{"negative max peek", l4.Options{Upstream: up, MaxPeek: -1}, "l4: negative MaxPeek -1"},
		{"defaults", l4.Options{Upstream: up}, ""},
		{"negative idle and retries", l4.Options{Upstream: up, IdleTimeout: -1, ConnectRetries: -1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := l4.New(tt.opts)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, p.Connector())
			require.False(t, p.Connector().Pooling())
			require.NoError(t, p.Close())
		})
	}
	require.ErrorIs(t, func() error { _, err := l4.New(l4.Options{}); return err }(), l4.ErrNoUpstream)
}

func TestProxy_Echo(t *testing.T) {
	be := newEcho(t)
	cl := newClosed()
	f := serve(t, l4.Options{Upstream: fixed(be.addr), OnClose: cl.hook})
	for _, size := range []int{1, 1000, 100 << 10} {
		t.Run(fmt.Sprintf("n=%d", size), func(t *testing.T) {
			c := dial(t, f.addr)
			msg := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
			for range 3 {
				_, err := c.Write(msg)
				require.NoError(t, err)
				got := make([]byte, size)
				_, err = io.ReadFull(c, got)
				require.NoError(t, err)
				require.Equal(t, msg, got)
			}
			require.NoError(t, c.CloseWrite())
			require.Empty(t, waitEOF(t, c))
			cc := cl.next(t)
			require.NoError(t, cc.err)
			assert.Equal(t, int64(3*size), cc.st.BytesFromClient)
			assert.Equal(t, int64(3*size), cc.st.BytesToClient)
			assert.Positive(t, cc.st.Connected)
			assert.GreaterOrEqual(t, cc.st.Duration, cc.st.Connected)
			assert.Equal(t, be.addr, cc.peer.Addr)
			assert.False(t, cc.info.TLS)
			assert.Equal(t, c.LocalAddr().String(), cc.info.ClientAddr.String())
			assert.Equal(t, f.addr, cc.info.LocalAddr.String())
		})
	}
}

// TestProxy_LargeSlowReader sends 8 MiB while the client reads slowly:
// the proxy must apply backpressure (bounded buffers) and lose nothing.
func TestProxy_LargeSlowReader(t *testing.T) {
	be := newEcho(t)
	f := serve(t, l4.Options{Upstream: fixed(be.addr)})
	c := dial(t, f.addr)
	const size = 8 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	want := sha256.Sum256(data)
	var wg sync.WaitGroup
	wg.Go(func() {
		for b := data; len(b) > 0; {
			n, err := c.Write(b[:min(len(b), 100_000)])
			if err != nil {
				t.Error(err)
				return
			}
			b = b[n:]
		}
		_ = c.CloseWrite()
	})
	h := sha256.New()
	buf := make([]byte, 16<<10)
	total := 0
	for reads := 0; ; reads++ {
		n, err := c.Read(buf)
		h.Write(buf[:n])
		total += n
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if reads%16 == 0 {
			time.Sleep(time.Millisecond) // a slow reader
		}
	}
	wg.Wait()
	require.Equal(t, size, total)
	require.Equal(t, want[:], h.Sum(nil))
}

// TestProxy_HalfClose: the client half-closes, the upstream still answers
// afterwards, then its EOF reaches the client.
func TestProxy_HalfClose(t *testing.T) {
	be := newBackend(t, func(c net.Conn) {
		b, err := io.ReadAll(c) // until the client's EOF arrives through the proxy
		if err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
		_, _ = fmt.Fprintf(c, "got %d bytes: %s", len(b), b)
		_ = c.(*net.TCPConn).CloseWrite()
	})
	cl := newClosed()
	f := serve(t, l4.Options{Upstream: fixed(be.addr), OnClose: cl.hook})
	c := dial(t, f.addr)
	_, err := c.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	require.Equal(t, "got 5 bytes: hello", string(waitEOF(t, c)))
	cc := cl.next(t)
	require.NoError(t, cc.err)
	assert.Equal(t, int64(5), cc.st.BytesFromClient)
	assert.Equal(t, int64(18), cc.st.BytesToClient)
}

// TestProxy_UpstreamClosesFirst: the upstream half-closes first; the
// client can still send and gets EOF, then the upstream sees the rest.
func TestProxy_UpstreamClosesFirst(t *testing.T) {
	got := make(chan string, 1)
	be := newBackend(t, func(c net.Conn) {
		_, _ = c.Write([]byte("banner"))
		_ = c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		got <- string(b)
	})
	f := serve(t, l4.Options{Upstream: fixed(be.addr)})
	c := dial(t, f.addr)
	require.Equal(t, "banner", string(waitEOF(t, c)))
	_, err := c.Write([]byte("still talking"))
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	select {
	case s := <-got:
		require.Equal(t, "still talking", s)
	case <-time.After(10 * time.Second):
		t.Fatal("upstream got nothing")
	}
}

func TestProxy_IdleTimeout(t *testing.T) {
	be := newEcho(t)
	cl := newClosed()
	f := serve(t, l4.Options{Upstream: fixed(be.addr), IdleTimeout: 300 * time.Millisecond, OnClose: cl.hook})

	t.Run("idle tunnel closed", func(t *testing.T) {
		c := dial(t, f.addr)
		_, err := c.Write([]byte("x"))
		require.NoError(t, err)
		b := make([]byte, 1)
		_, err = io.ReadFull(c, b)
		require.NoError(t, err)
		require.Empty(t, waitEOF(t, c)) // nothing more: the idle timer closes it
		cc := cl.next(t)
		require.ErrorIs(t, cc.err, perr.ReadTimedout)
		assert.GreaterOrEqual(t, cc.st.Duration, 300*time.Millisecond)
	})

	t.Run("traffic keeps it open", func(t *testing.T) {
		c := dial(t, f.addr)
		b := make([]byte, 1)
		start := time.Now()
		for time.Since(start) < time.Second {
			_, err := c.Write([]byte("y"))
			require.NoError(t, err)
			_, err = io.ReadFull(c, b)
			require.NoError(t, err, "closed while traffic flowed")
			time.Sleep(50 * time.Millisecond)
		}
		require.NoError(t, c.CloseWrite())
		waitEOF(t, c)
		require.NoError(t, cl.next(t).err)
	})
}

func TestProxy_ConnectRetry(t *testing.T) {
	be := newEcho(t)
	dead := refusedAddr(t)
	var attempts []int
	var mu sync.Mutex
	f := serve(t, l4.Options{Upstream: func(_ context.Context, _ *l4.ConnInfo, attempt int) (*peer.Peer, error) {
		mu.Lock()
		attempts = append(attempts, attempt)
		mu.Unlock()
		if attempt == 0 {
			return peer.New(dead, false, ""), nil
		}
		return peer.New(be.addr, false, ""), nil
	}})
	c := dial(t, f.addr)
	_, err := c.Write([]byte("ping"))
	require.NoError(t, err)
	b := make([]byte, 4)
	_, err = io.ReadFull(c, b)
	require.NoError(t, err)
	require.Equal(t, "ping", string(b))
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int{0, 1}, attempts)
}

func TestProxy_ConnectFailure(t *testing.T) {
	dead := refusedAddr(t)
	tests := []struct {
		name     string
		retries  int
		attempts int32
		upstream func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error)
		wantType perr.ErrorType
	}{
		{"refused, default retry", 0, 2, nil, perr.ConnectRefused},
		{"refused, 3 retries", 3, 4, nil, perr.ConnectRefused},
		{"refused, no retry", -1, 1, nil, perr.ConnectRefused},
		{"upstream error", 0, 1, func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
			return nil, errors.New("no backend for you")
		}, perr.InternalError},
		{"nil peer", 0, 1, func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) { return nil, nil }, perr.InternalError},
		{"upstream panics", 0, 1, func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) { panic("boom") }, perr.InternalError},
		{"invalid peer", 0, 1, func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
			return &peer.Peer{Addr: "no-port"}, nil
		}, perr.InternalError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			up := tt.upstream
			if up == nil {
				up = fixed(dead)
			}
			cl := newClosed()
			f := serve(t, l4.Options{
				ConnectRetries: tt.retries,
				OnClose:        cl.hook,
				Upstream: func(ctx context.Context, info *l4.ConnInfo, attempt int) (*peer.Peer, error) {
					calls.Add(1)
					return up(ctx, info, attempt)
				},
			})
			c := dial(t, f.addr)
			require.Empty(t, waitEOF(t, c))
			cc := cl.next(t)
			require.ErrorIs(t, cc.err, tt.wantType)
			var pe *perr.Error
			require.ErrorAs(t, cc.err, &pe)
			assert.Equal(t, tt.attempts, calls.Load())
			assert.Zero(t, cc.st.Connected)
		})
	}
}

// tlsBackend is a crypto/tls server for name that answers "hello from
// <name> via <alpn>" after the handshake.
func tlsBackend(t *testing.T, name string) (*backend, *x509.Certificate) {
	cert := selfSigned(t, name)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	be := newBackend(t, func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if err := tc.Handshake(); err != nil {
			return
		}
		st := tc.ConnectionState()
		_, _ = fmt.Fprintf(tc, "hello from %s via %s", st.ServerName, st.NegotiatedProtocol)
		_ = tc.CloseWrite()
		_, _ = io.Copy(io.Discard, tc)
	})
	return be, cert.Leaf
}

func TestProxy_TLSPassthroughSNI(t *testing.T) {
	beA, certA := tlsBackend(t, "a.example")
	beB, certB := tlsBackend(t, "b.example")
	roots := x509.NewCertPool()
	roots.AddCert(certA)
	roots.AddCert(certB)
	cl := newClosed()
	f := serve(t, l4.Options{
		PeekTLS: true,
		OnClose: cl.hook,
		Upstream: func(_ context.Context, info *l4.ConnInfo, _ int) (*peer.Peer, error) {
			switch info.SNI {
			case "a.example":
				return peer.New(beA.addr, false, ""), nil
			case "b.example":
				return peer.New(beB.addr, false, ""), nil
			}
			return nil, fmt.Errorf("unknown sni %q", info.SNI)
		},
	})
	tests := []struct {
		sni, want string
		alpn      []string
	}{
		{"a.example", "hello from a.example via h2", []string{"h2", "http/1.1"}},
		{"b.example", "hello from b.example via http/1.1", []string{"http/1.1"}},
		// Routing sees the name lower-cased; the upstream gets the bytes as sent.
		{"A.Example", "hello from A.Example via ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.sni, func(t *testing.T) {
			raw := dial(t, f.addr)
			c := tls.Client(raw, &tls.Config{ServerName: tt.sni, RootCAs: roots, NextProtos: tt.alpn})
			require.NoError(t, c.Handshake()) // verified end to end: the proxy never terminates TLS
			b, err := io.ReadAll(c)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b))
			require.NoError(t, c.Close())
			cc := cl.next(t)
			assert.True(t, cc.info.TLS)
			assert.Equal(t, strings.ToLower(tt.sni), cc.info.SNI)
			assert.Equal(t, tt.alpn, cc.info.ALPN)
			assert.Positive(t, cc.st.BytesFromClient)
		})
	}
}

func TestProxy_PlainOnPeekPort(t *testing.T) {
	be := newEcho(t)
	banner := newBackend(t, func(c net.Conn) {
		_, _ = c.Write([]byte("220 ready\r\n"))
		_, _ = io.Copy(c, c)
	})
	cl := newClosed()
	f := serve(t, l4.Options{
		PeekTLS:     true,
		PeekTimeout: 200 * time.Millisecond,
		OnClose:     cl.hook,
		Upstream: func(_ context.Context, info *l4.ConnInfo, _ int) (*peer.Peer, error) {
			if info.TLS {
				return nil, errors.New("unexpected tls")
			}
			return peer.New(be.addr, false, ""), nil
		},
	})
	fb := serve(t, l4.Options{PeekTLS: true, PeekTimeout: 200 * time.Millisecond, Upstream: fixed(banner.addr), OnClose: cl.hook})

	t.Run("client speaks first", func(t *testing.T) {
		c := dial(t, f.addr)
		_, err := c.Write([]byte("EHLO x\r\n"))
		require.NoError(t, err)
		b := make([]byte, 8)
		_, err = io.ReadFull(c, b)
		require.NoError(t, err)
		require.Equal(t, "EHLO x\r\n", string(b))
		require.NoError(t, c.CloseWrite())
		waitEOF(t, c)
		cc := cl.next(t)
		require.NoError(t, cc.err)
		assert.False(t, cc.info.TLS)
	})
	t.Run("first byte 0x16 but not tls", func(t *testing.T) {
		c := dial(t, f.addr)
		_, err := c.Write([]byte{0x16, 'x', 'y'})
		require.NoError(t, err)
		b := make([]byte, 3)
		_, err = io.ReadFull(c, b)
		require.NoError(t, err)
		require.NoError(t, c.CloseWrite())
		waitEOF(t, c)
		require.NoError(t, cl.next(t).err)
	})
	t.Run("server speaks first", func(t *testing.T) {
		c := dial(t, fb.addr)
		b := make([]byte, 11)
		_, err := io.ReadFull(c, b) // after PeekTimeout of silence
		require.NoError(t, err)
		require.Equal(t, "220 ready\r\n", string(b))
		_, err = c.Write([]byte("QUIT"))
		require.NoError(t, err)
		_, err = io.ReadFull(c, b[:4])
		require.NoError(t, err)
		require.Equal(t, "QUIT", string(b[:4]))
		require.NoError(t, c.Close())
		cc := cl.next(t)
		assert.False(t, cc.info.TLS)
		assert.GreaterOrEqual(t, cc.st.Connected, 200*time.Millisecond)
	})
}

// TestProxy_PeekRejects: a ClientHello that is bad, too long or cut off
// closes the connection without calling Upstream.
func TestProxy_PeekRejects(t *testing.T) {
	real := captureHello(t, &tls.Config{ServerName: "a.example"})
	tests := []struct {
		name    string
		send    []byte
		eof     bool // half-close after sending
		maxPeek int
		wantErr []error
	}{
		{"malformed", hello(sniExt("bad_name.example")), false, 0, []error{perr.ReadError, l4.ErrMalformedClientHello}},
		{"too large", real, false, 64, []error{perr.ReadError, l4.ErrClientHelloTooLarge}},
		{"cut off by timeout", real[:40], false, 0, []error{perr.ReadTimedout}},
		{"cut off by eof", real[:40], true, 0, []error{perr.ConnectionClosed, io.ErrUnexpectedEOF}},
		{"nothing then eof", nil, true, 0, []error{perr.ConnectionClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			cl := newClosed()
			f := serve(t, l4.Options{
				PeekTLS: true, PeekTimeout: 300 * time.Millisecond, MaxPeek: tt.maxPeek, OnClose: cl.hook,
				Upstream: func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
					calls.Add(1)
					return nil, errors.New("must not be called")
				},
			})
			c := dial(t, f.addr)
			_, err := c.Write(tt.send)
			require.NoError(t, err)
			if tt.eof {
				require.NoError(t, c.CloseWrite())
			}
			waitEOF(t, c)
			cc := cl.next(t)
			for _, want := range tt.wantErr {
				require.ErrorIs(t, cc.err, want)
			}
			assert.Zero(t, calls.Load())
			assert.Nil(t, cc.peer)
		})
	}
}

func TestProxy_ProxyProtocolV2(t *testing.T) {
	type seen struct{ src, dst string }
	got := make(chan seen, 1)
	be := newBackend(t, func(c net.Conn) {
		pc, err := proxyproto.Read(c, proxyproto.Options{DisableV1: true})
		if err != nil {
			t.Error(err)
			return
		}
		h := pc.Header()
		got <- seen{h.Source.String(), h.Destination.String()}
		echo(c)
	})
	cl := newClosed()
	f := serve(t, l4.Options{
		OnClose: cl.hook,
		Upstream: func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
			return &peer.Peer{Addr: be.addr, ProxyProtocol: 2}, nil
		},
	})
	c := dial(t, f.addr)
	_, err := c.Write([]byte("data"))
	require.NoError(t, err)
	b := make([]byte, 4)
	_, err = io.ReadFull(c, b)
	require.NoError(t, err)
	require.Equal(t, "data", string(b)) // the header is not echoed: it went only to the upstream
	select {
	case s := <-got:
		assert.Equal(t, c.LocalAddr().String(), s.src)
		assert.Equal(t, f.addr, s.dst)
	case <-time.After(10 * time.Second):
		t.Fatal("no PROXY header")
	}
	require.NoError(t, c.CloseWrite())
	waitEOF(t, c)
	cc := cl.next(t)
	assert.Equal(t, c.LocalAddr().String(), cc.peer.ProxySource.String())
}

func TestProxy_ShutdownAndCancel(t *testing.T) {
	be := newEcho(t)
	cl := newClosed()
	f := serve(t, l4.Options{Upstream: fixed(be.addr), OnClose: cl.hook})
	roundTrip := func(c net.Conn, s string) error {
		if _, err := c.Write([]byte(s)); err != nil {
			return err
		}
		b := make([]byte, len(s))
		_, err := io.ReadFull(c, b)
		return err
	}
	c1 := dial(t, f.addr)
	c2 := dial(t, f.addr)
	require.NoError(t, roundTrip(c1, "one"))
	require.NoError(t, roundTrip(c2, "two"))

	// A graceful shutdown leaves tunnels running.
	close(f.shutdown)
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, roundTrip(c1, "still"))
	require.NoError(t, roundTrip(c2, "here"))

	// Cancelling the context closes both sides of every tunnel at once.
	f.cancel()
	require.Empty(t, waitEOF(t, c1))
	require.Empty(t, waitEOF(t, c2))
	for range 2 {
		cc := cl.next(t)
		require.ErrorIs(t, cc.err, perr.ConnectionClosed)
		require.ErrorIs(t, cc.err, context.Canceled)
	}
}

func TestProxy_CancelWhilePeeking(t *testing.T) {
	cl := newClosed()
	f := serve(t, l4.Options{PeekTLS: true, PeekTimeout: time.Minute, Upstream: fixed("127.0.0.1:1"), OnClose: cl.hook})
	c := dial(t, f.addr)
	_, err := c.Write([]byte{22, 3, 1}) // a ClientHello that never completes
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	f.cancel()
	waitEOF(t, c)
	require.ErrorIs(t, cl.next(t).err, perr.ConnectionClosed)
}

func TestProxy_OnClosePanics(t *testing.T) {
	be := newEcho(t)
	var calls atomic.Int32
	f := serve(t, l4.Options{Upstream: fixed(be.addr), OnClose: func(*l4.ConnInfo, *peer.Peer, l4.Stats, error) {
		calls.Add(1)
		panic("access log broke")
	}})
	for range 2 {
		c := dial(t, f.addr)
		require.NoError(t, c.CloseWrite())
		waitEOF(t, c)
	}
	f.stop()
	require.Equal(t, int32(2), calls.Load())
}

// TestProxy_ConcurrentSafe runs many tunnels at once.
func TestProxy_ConcurrentSafe(t *testing.T) {
	be := newEcho(t)
	f := serve(t, l4.Options{Upstream: fixed(be.addr), PeekTLS: true})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			c, err := net.Dial("tcp", f.addr)
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			msg := bytes.Repeat([]byte{byte('a' + i)}, 50_000)
			go func() { _, _ = c.Write(msg); _ = c.(*net.TCPConn).CloseWrite() }()
			b, err := io.ReadAll(c)
			assert.NoError(t, err)
			assert.Equal(t, msg, b)
		})
	}
	wg.Wait()
}

// TestProxy_ConnectFailureLogged: the last failed attempt is logged at
// Warn with the peer and the error.
func TestProxy_ConnectFailureLogged(t *testing.T) {
	dead := refusedAddr(t)
	var buf syncBuffer
	cl := newClosed()
	f := serve(t, l4.Options{
		Upstream: fixed(dead), ConnectRetries: -1, OnClose: cl.hook,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	c := dial(t, f.addr)
	waitEOF(t, c)
	cl.next(t)
	out := buf.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "connect to upstream failed")
	assert.Contains(t, out, dead)
	assert.Contains(t, out, "ConnectRefused")
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProxy_IdleEitherWay: bytes in one direction only keep a tunnel
// open; once they stop, the idle timeout closes it.
func TestProxy_IdleEitherWay(t *testing.T) {
	be := newBackend(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	cl := newClosed()
	f := serve(t, l4.Options{Upstream: fixed(be.addr), IdleTimeout: 300 * time.Millisecond, OnClose: cl.hook})
	c := dial(t, f.addr)
	start := time.Now()
	var last time.Duration
	for last < time.Second {
		_, err := c.Write([]byte("z"))
		require.NoError(t, err, "closed while the client was sending")
		last = time.Since(start)
		time.Sleep(50 * time.Millisecond)
	}
	require.Empty(t, waitEOF(t, c))
	cc := cl.next(t)
	require.ErrorIs(t, cc.err, perr.ReadTimedout)
	// Idle counts from the last byte (minus slack for when accept was
	// stamped).
	assert.GreaterOrEqual(t, cc.st.Duration, last+300*time.Millisecond-100*time.Millisecond)
}

// TestProxy_TLSListener: behind a TLS-terminating listener the proxy
// copies plaintext; PeekTLS is ignored and routing reads the listener's
// TLS state through ConnInfo.Conn.
func TestProxy_TLSListener(t *testing.T) {
	be := newEcho(t)
	cert := selfSigned(t, "front.example")
	srvCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	hs := listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		tc := tls.Server(raw, srvCfg)
		return tc, tc.HandshakeContext(ctx)
	})
	var seenSNI atomic.Value
	cl := newClosed()
	f := serveOn(t, listener.Config{Addr: "127.0.0.1:0", TLS: hs}, l4.Options{
		PeekTLS: true,
		OnClose: cl.hook,
		Upstream: func(_ context.Context, info *l4.ConnInfo, _ int) (*peer.Peer, error) {
			if cs, ok := info.Conn.Conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
				seenSNI.Store(cs.ConnectionState().ServerName)
			}
			return peer.New(be.addr, false, ""), nil
		},
	})
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	c := tls.Client(dial(t, f.addr), &tls.Config{ServerName: "front.example", RootCAs: roots})
	_, err := c.Write([]byte("plain inside"))
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	b, err := io.ReadAll(c)
	require.NoError(t, err)
	require.Equal(t, "plain inside", string(b))
	cc := cl.next(t)
	require.NoError(t, cc.err)
	assert.False(t, cc.info.TLS) // no ClientHello was peeked: the listener terminated TLS
	assert.True(t, cc.info.Conn.TLS)
	assert.Equal(t, "front.example", seenSNI.Load())
}

// TestProxy_TLSToUpstream: a TLS peer makes the proxy originate TLS; the
// upstream's close_notify reaches the client as EOF.
func TestProxy_TLSToUpstream(t *testing.T) {
	be, cert := tlsBackend(t, "a.example")
	cl := newClosed()
	f := serve(t, l4.Options{OnClose: cl.hook, Upstream: func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
		return &peer.Peer{Addr: be.addr, TLS: true, SNI: "a.example", CA: []*x509.Certificate{cert}}, nil
	}})
	c := dial(t, f.addr)
	require.Equal(t, "hello from a.example via http/1.1", string(waitEOF(t, c)))
	require.NoError(t, c.Close())
	require.NoError(t, cl.next(t).err)
}

func TestProxy_UnixUpstream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
		_ = c.(*net.UnixConn).CloseWrite()
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	f := serve(t, l4.Options{Upstream: func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) {
		return peer.NewUnix(path, false, ""), nil
	}})
	c := dial(t, f.addr)
	_, err = c.Write([]byte("over unix"))
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	require.Equal(t, "over unix", string(waitEOF(t, c)))
}

// TestProxy_UpstreamReset: a reset from the upstream ends the tunnel
// with a ReadError from the upstream, logged at Debug.
func TestProxy_UpstreamReset(t *testing.T) {
	be := newBackend(t, func(c net.Conn) {
		_, _ = io.ReadFull(c, make([]byte, 1))
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close() // RST
	})
	var buf syncBuffer
	cl := newClosed()
	f := serve(t, l4.Options{
		Upstream: fixed(be.addr), OnClose: cl.hook,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	c := dial(t, f.addr)
	_, err := c.Write([]byte("x"))
	require.NoError(t, err)
	waitEOF(t, c)
	cc := cl.next(t)
	require.ErrorIs(t, cc.err, perr.ReadError)
	var pe *perr.Error
	require.ErrorAs(t, cc.err, &pe)
	assert.Equal(t, perr.Upstream, pe.Source())
	assert.Contains(t, buf.String(), "l4: connection ended")
	assert.Contains(t, buf.String(), be.addr)
}

func TestNew_SharedConnector(t *testing.T) {
	conns, err := connector.New(connector.Options{})
	require.NoError(t, err)
	defer conns.Close()
	p, err := l4.New(l4.Options{Upstream: fixed("127.0.0.1:1"), Connector: conns})
	require.NoError(t, err)
	require.Same(t, conns, p.Connector())
	require.True(t, p.Connector().Pooling()) // used as given
	require.NoError(t, p.Close())
}

// TestProxy_PeekedBytesReplayed: the peeked ClientHello reaches the
// upstream byte for byte, before what follows it, for MaxPeek below and
// above the copy buffer size.
func TestProxy_PeekedBytesReplayed(t *testing.T) {
	rec := refragment(captureHello(t, &tls.Config{ServerName: "replay.example", NextProtos: []string{"h2"}}), 100)
	for _, maxPeek := range []int{0, 64 << 10} {
		t.Run(fmt.Sprintf("max=%d", maxPeek), func(t *testing.T) {
			be := newEcho(t)
			cl := newClosed()
			f := serve(t, l4.Options{PeekTLS: true, MaxPeek: maxPeek, Upstream: fixed(be.addr), OnClose: cl.hook})
			c := dial(t, f.addr)
			send := append(bytes.Clone(rec), "after the hello"...)
			_, err := c.Write(send)
			require.NoError(t, err)
			require.NoError(t, c.CloseWrite())
			require.Equal(t, send, waitEOF(t, c))
			cc := cl.next(t)
			require.NoError(t, cc.err)
			assert.True(t, cc.info.TLS)
			assert.Equal(t, "replay.example", cc.info.SNI)
			assert.Equal(t, []string{"h2"}, cc.info.ALPN)
			assert.Equal(t, int64(len(send)), cc.st.BytesFromClient)
		})
	}
}
