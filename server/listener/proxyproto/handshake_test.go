package proxyproto_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/listener/proxyproto"
)

var _ listener.Handshaker = (*proxyproto.Handshaker)(nil)

// TestHandshaker_Listener runs the Handshaker as a listener's TLS step: a
// client with a header is accepted with the header's address, a client
// without one is reported to OnError and never accepted.
func TestHandshaker_Listener(t *testing.T) {
	hs, err := proxyproto.NewHandshaker(proxyproto.Options{}, nil)
	require.NoError(t, err)
	var mu sync.Mutex
	var errs []error
	l, err := listener.Listen(context.Background(), listener.Config{
		Addr: "127.0.0.1:0", TLS: hs, HandshakeTimeout: 5 * time.Second,
		OnError: func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
	})
	require.NoError(t, err)
	defer l.Close()

	var wg sync.WaitGroup
	defer wg.Wait()
	send := func(msg string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", l.Addr().String())
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			_, _ = c.Write([]byte(msg))
			_, _ = io.Copy(io.Discard, c) // until the server closes
		}()
	}
	send(request) // no header: rejected
	send("PROXY TCP4 192.0.2.1 192.0.2.2 1234 80\r\n" + request)

	c, err := l.AcceptConn()
	require.NoError(t, err)
	assert.Equal(t, "192.0.2.1:1234", c.RemoteAddr().String())
	assert.Equal(t, "192.0.2.2:80", c.LocalAddr().String())
	pc, ok := c.Conn.(*proxyproto.Conn)
	require.True(t, ok)
	assert.Equal(t, c.Raw, pc.NetConn())
	got := make([]byte, len(request))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	assert.Equal(t, request, string(got))
	require.NoError(t, c.Close())

	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(errs) == 1 }, 5*time.Second, 5*time.Millisecond)
	mu.Lock()
	assert.ErrorIs(t, errs[0], proxyproto.ErrNoProxyHeader)
	mu.Unlock()
}

// TestHandshaker_Next checks the next Handshaker gets the wrapped conn,
// with the deadline the listener set, and its result is returned.
func TestHandshaker_Next(t *testing.T) {
	outer := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), outer)
	defer cancel()
	var seen net.Conn
	next := listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		seen = raw
		return tls.Server(raw, &tls.Config{}), nil
	})
	hs, err := proxyproto.NewHandshaker(proxyproto.Options{Timeout: time.Second}, next)
	require.NoError(t, err)
	m := newMemConn([]byte("PROXY TCP6 ::1 ::2 1 2\r\n"), 0)
	c, err := hs.Handshake(ctx, m)
	require.NoError(t, err)
	tc, ok := c.(*tls.Conn)
	require.True(t, ok)
	assert.Equal(t, "[::1]:1", tc.RemoteAddr().String())
	assert.IsType(t, &proxyproto.Conn{}, seen)
	require.Len(t, m.deadlines, 2)
	assert.True(t, m.deadlines[0].Before(outer), "own timeout is shorter")
	assert.Equal(t, outer, m.deadlines[1], "listener's deadline restored")

	// Errors from next come back as they are.
	boom := errors.New("boom")
	hs, err = proxyproto.NewHandshaker(proxyproto.Options{}, listener.HandshakerFunc(func(context.Context, net.Conn) (net.Conn, error) { return nil, boom }))
	require.NoError(t, err)
	_, err = hs.Handshake(ctx, newMemConn([]byte("PROXY UNKNOWN\r\n"), 0))
	require.ErrorIs(t, err, boom)
}

// TestHandshaker_Cancel checks a handshake blocked on a silent client
// returns when ctx is cancelled, long before Options.Timeout.
func TestHandshaker_Cancel(t *testing.T) {
	hs, err := proxyproto.NewHandshaker(proxyproto.Options{Timeout: time.Minute}, nil)
	require.NoError(t, err)
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := hs.Handshake(ctx, server)
		done <- err
	}()
	_, _ = client.Write([]byte("PROXY "))
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Handshake did not return after cancel")
	}

	_, err = hs.Handshake(ctx, server)
	require.ErrorIs(t, err, context.Canceled, "ctx already done")
}

// TestHandshaker_Timeout checks the ctx deadline bounds the read when it is
// shorter than Options.Timeout.
func TestHandshaker_Timeout(t *testing.T) {
	hs, err := proxyproto.NewHandshaker(proxyproto.Options{Timeout: time.Minute}, nil)
	require.NoError(t, err)
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = hs.Handshake(ctx, server)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded), "%v", err)
}

// TestHandshaker_ConcurrentSafe accepts many clients at once through a
// listener and checks each connection carries its own header's address.
func TestHandshaker_ConcurrentSafe(t *testing.T) {
	hs, err := proxyproto.NewHandshaker(proxyproto.Options{}, nil)
	require.NoError(t, err)
	l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0", TLS: hs})
	require.NoError(t, err)
	defer l.Close()

	const clients = 32
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", l.Addr().String())
			if !assert.NoError(t, err) {
				return
			}
			defer c.Close()
			h := proxyproto.Header{Command: proxyproto.Proxy,
				Source: &net.TCPAddr{IP: net.IPv4(192, 0, 2, byte(i)), Port: 1000 + i}, Destination: tcp("192.0.2.255:80")}
			var b []byte
			if i%2 == 0 {
				b, err = h.AppendV1(nil)
			} else {
				b, err = h.AppendV2(nil)
			}
			if !assert.NoError(t, err) {
				return
			}
			_, _ = c.Write(append(b, h.Source.String()+"\n"...))
			_, _ = io.Copy(io.Discard, c)
		}()
	}
	for range clients {
		c, err := l.AcceptConn()
		require.NoError(t, err)
		line := make([]byte, 0, 32)
		one := make([]byte, 1)
		for {
			_, err := c.Read(one)
			require.NoError(t, err)
			if one[0] == '\n' {
				break
			}
			line = append(line, one[0])
		}
		assert.Equal(t, string(line), c.RemoteAddr().String())
		require.NoError(t, c.Close())
	}
}
