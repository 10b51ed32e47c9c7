package listener_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
)

func TestListener_TLS(t *testing.T) {
	checkGoroutines(t)
	l := listenT(t, listener.Config{Addr: "127.0.0.1:0", TLS: tlsHandshaker(t)})

	clientc := make(chan *tls.Conn, 1)
	go func() {
		c, err := tlsDial(t, l.Addr().String())
		assert.NoError(t, err)
		clientc <- c
	}()
	c := acceptT(t, l)
	client := <-clientc
	require.NotNil(t, client)
	defer client.Close()

	assert.True(t, c.TLS)
	assert.Equal(t, "127.0.0.1:0", c.Key)
	assert.IsType(t, &net.TCPConn{}, c.Raw)
	tc, ok := c.Conn.(*tls.Conn)
	require.True(t, ok, "the Handshaker's conn is exposed, got %T", c.Conn)
	assert.Equal(t, "h2", tc.ConnectionState().NegotiatedProtocol)
	assert.Equal(t, client.LocalAddr().String(), c.RemoteAddr().String())
	roundTrip(t, client, c)
}

func TestListener_TLSAcceptReturnsHandshakerConn(t *testing.T) {
	l := listenT(t, listener.Config{Addr: "127.0.0.1:0", TLS: tlsHandshaker(t)})
	go func() {
		if c, err := tlsDial(t, l.Addr().String()); err == nil {
			io.Copy(io.Discard, c) // until the server closes
			c.Close()
		}
	}()
	c, err := l.Accept()
	require.NoError(t, err)
	defer c.Close()
	assert.IsType(t, &tls.Conn{}, c, "net/http finds TLS by asserting *tls.Conn")
}

// A client that connects and sends nothing must not hold up other clients.
func TestListener_TLSSilentClientDoesNotBlock(t *testing.T) {
	checkGoroutines(t)
	log := newErrorLog()
	l := listenT(t, listener.Config{
		Addr: "127.0.0.1:0", TLS: tlsHandshaker(t), HandshakeTimeout: 200 * time.Millisecond, OnError: log.add,
	})
	silent := dialT(t, "tcp", l.Addr().String())

	clientc := make(chan *tls.Conn, 1)
	go func() {
		c, err := tlsDial(t, l.Addr().String())
		assert.NoError(t, err)
		clientc <- c
	}()
	c := acceptT(t, l)
	client := <-clientc
	require.NotNil(t, client)
	defer client.Close()
	assert.Equal(t, client.LocalAddr().String(), c.RemoteAddr().String(), "the second client comes first")
	roundTrip(t, client, c)

	// The handshake timeout closes the silent one and reports it.
	require.NoError(t, silent.SetReadDeadline(time.Now().Add(waitTimeout)))
	_, err := silent.Read(make([]byte, 1))
	require.Error(t, err)
	var ne net.Error
	require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server closed it: %v", err)

	var he *listener.HandshakeError
	require.ErrorAs(t, log.next(t), &he)
	assert.True(t, he.TimedOut)
	assert.Equal(t, silent.LocalAddr().String(), he.Remote.String())
	assert.Contains(t, he.Error(), "listener: handshake with "+silent.LocalAddr().String()+" on 127.0.0.1:0 timed out")
}

func TestListener_TLSFailedHandshake(t *testing.T) {
	checkGoroutines(t)
	log := newErrorLog()
	l := listenT(t, listener.Config{Addr: "127.0.0.1:0", TLS: tlsHandshaker(t), OnError: log.add})

	bad := dialT(t, "tcp", l.Addr().String())
	_, err := bad.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	require.NoError(t, err)
	var he *listener.HandshakeError
	require.ErrorAs(t, log.next(t), &he)
	assert.False(t, he.TimedOut)
	assert.Contains(t, he.Error(), "first record does not look like a TLS handshake")

	// The failed handshake was not returned by Accept: the next conn is good.
	clientc := make(chan *tls.Conn, 1)
	go func() {
		c, err := tlsDial(t, l.Addr().String())
		assert.NoError(t, err)
		clientc <- c
	}()
	c := acceptT(t, l)
	client := <-clientc
	require.NotNil(t, client)
	defer client.Close()
	roundTrip(t, client, c)
}

// Handshakers that ignore ctx still end: the listener sets raw's deadline.
func TestListener_HandshakerIgnoringContext(t *testing.T) {
	checkGoroutines(t)
	readAll := listener.HandshakerFunc(func(_ context.Context, raw net.Conn) (net.Conn, error) {
		_, err := io.ReadAll(raw) // blocks until the deadline or Close
		return nil, err
	})
	t.Run("deadline", func(t *testing.T) {
		log := newErrorLog()
		l := listenT(t, listener.Config{Addr: "127.0.0.1:0", TLS: readAll, HandshakeTimeout: 50 * time.Millisecond, OnError: log.add})
		dialT(t, "tcp", l.Addr().String())
		var he *listener.HandshakeError
		require.ErrorAs(t, log.next(t), &he)
		assert.True(t, he.TimedOut)
	})
	t.Run("close", func(t *testing.T) {
		log := newErrorLog()
		l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0", TLS: readAll, OnError: log.add})
		require.NoError(t, err)
		client := dialT(t, "tcp", l.Addr().String())
		_, err = client.Write([]byte("x")) // make sure the handshake is running
		require.NoError(t, err)
		time.Sleep(20 * time.Millisecond)
		done := make(chan struct{})
		go func() { l.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Fatal("Close waits for a handshake forever")
		}
		assert.Empty(t, log.all(), "handshakes cut by Close are not errors")
	})
}

func TestListener_HandshakerNilConn(t *testing.T) {
	log := newErrorLog()
	nilConn := listener.HandshakerFunc(func(context.Context, net.Conn) (net.Conn, error) { return nil, nil })
	l := listenT(t, listener.Config{Addr: "127.0.0.1:0", TLS: nilConn, OnError: log.add})
	dialT(t, "tcp", l.Addr().String())
	assert.ErrorContains(t, log.next(t), "nil conn")
}

// Many silent and good clients at once: every good one is accepted, every
// handshake goroutine ends with Close.
func TestListener_TLSConcurrentSafe(t *testing.T) {
	checkGoroutines(t)
	l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0", TLS: tlsHandshaker(t)})
	require.NoError(t, err)
	const silent, good = 8, 8
	for range silent {
		dialT(t, "tcp", l.Addr().String())
	}
	clients := make(chan *tls.Conn, good)
	for range good {
		go func() {
			c, err := tlsDial(t, l.Addr().String())
			assert.NoError(t, err)
			clients <- c
		}()
	}
	for range good {
		c, err := l.AcceptConn()
		require.NoError(t, err)
		c.Close()
	}
	for range good {
		if c := <-clients; c != nil {
			c.Close()
		}
	}
	require.NoError(t, l.Close())
}

func TestListener_TLSOverUnix(t *testing.T) {
	checkGoroutines(t)
	path := filepath.Join(t.TempDir(), "tls.sock")
	l := listenT(t, listener.Config{Network: "unix", Addr: path, TLS: tlsHandshaker(t)})
	_, pool := serverCert(t)
	clientc := make(chan *tls.Conn, 1)
	go func() {
		raw, err := net.DialTimeout("unix", path, waitTimeout)
		if !assert.NoError(t, err) {
			clientc <- nil
			return
		}
		c := tls.Client(raw, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if !assert.NoError(t, c.Handshake()) {
			raw.Close()
			c = nil
		}
		clientc <- c
	}()
	c := acceptT(t, l)
	client := <-clientc
	require.NotNil(t, client)
	defer client.Close()
	assert.True(t, c.TLS)
	assert.IsType(t, &net.UnixConn{}, c.Raw)
	assert.IsType(t, &tls.Conn{}, c.Conn)
	roundTrip(t, client, c)
}
