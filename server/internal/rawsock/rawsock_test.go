//go:build linux

package rawsock_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/internal/rawsock"
)

// socket wraps a net.Conn, naming its socket as connector.Conn does.
type socket struct {
	net.Conn
	plain bool
}

func (s socket) Socket() net.Conn {
	if !s.plain {
		return nil
	}
	return s.Conn
}

func TestWrap(t *testing.T) {
	c, s := tcpPair(t)
	assert.NotNil(t, rawsock.Wrap(c), "TCP")
	assert.NotNil(t, rawsock.Wrap(socket{s, true}), "a wrapper naming its socket")
	assert.Nil(t, rawsock.Wrap(socket{s, false}), "a wrapper without a plain socket")
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	assert.Nil(t, rawsock.Wrap(p1), "not a socket")
	assert.Nil(t, rawsock.Wrap(struct{ net.Conn }{c}), "an unknown wrapper")
}

func TestConn_ReadWrite(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			a, b := pair(t, network)
			ra, rb := rawsock.Wrap(a), rawsock.Wrap(b)
			require.NotNil(t, ra)
			require.NotNil(t, rb)

			n, err := ra.Write([]byte("hello"))
			require.NoError(t, err)
			assert.Equal(t, 5, n)
			buf := make([]byte, 16)
			n, err = io.ReadAtLeast(rb, buf, 5)
			require.NoError(t, err)
			assert.Equal(t, "hello", string(buf[:n]))

			n, err = ra.Read(nil)
			assert.Equal(t, 0, n)
			assert.NoError(t, err, "an empty read returns at once")

			// A write much larger than the socket buffers completes while
			// the other side reads slowly: partial writes and waits.
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
			done := make(chan error, 1)
			go func() {
				_, err := ra.Write(big)
				done <- err
			}()
			got := make([]byte, 0, len(big))
			chunk := make([]byte, 7000)
			for len(got) < len(big) {
				n, err := rb.Read(chunk)
				require.NoError(t, err)
				got = append(got, chunk[:n]...)
			}
			require.NoError(t, <-done)
			assert.True(t, bytes.Equal(big, got))

			// The end of the stream is io.EOF.
			require.NoError(t, a.Close())
			n, err = rb.Read(buf)
			assert.Equal(t, 0, n)
			assert.Equal(t, io.EOF, err)
		})
	}
}

func TestConn_Writev(t *testing.T) {
	a, b := tcpPair(t)
	ra := rawsock.Wrap(a)
	big := bytes.Repeat([]byte("x"), 3<<20)
	var v [][]byte
	want := []byte{}
	for i := range 40 { // more buffers than one writev passes, some empty
		var p []byte
		switch i % 4 {
		case 0:
			p = []byte("head")
		case 1:
			p = nil
		case 2:
			p = big[:1<<16+i]
		case 3:
			p = []byte{byte(i)}
		}
		v = append(v, p)
		want = append(want, p...)
	}
	v = append(v, big) // one buffer far beyond the socket buffer
	want = append(want, big...)
	orig := append([][]byte(nil), v...)

	done := make(chan struct{})
	var got []byte
	go func() {
		defer close(done)
		got, _ = io.ReadAll(io.LimitReader(b, int64(len(want))))
	}()
	n, err := ra.Writev(v)
	require.NoError(t, err)
	<-done
	assert.EqualValues(t, len(want), n)
	assert.True(t, bytes.Equal(want, got), "bytes arrive in order")
	for i := range v {
		assert.Equal(t, len(orig[i]), len(v[i]), "v[%d] not modified", i)
	}
}

func TestConn_Errors(t *testing.T) {
	t.Run("read deadline", func(t *testing.T) {
		a, _ := tcpPair(t)
		ra := rawsock.Wrap(a)
		require.NoError(t, a.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
		_, err := ra.Read(make([]byte, 8))
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var ne net.Error
		require.True(t, errors.As(err, &ne))
		assert.True(t, ne.Timeout())
		var oe *net.OpError
		require.True(t, errors.As(err, &oe))
		assert.Equal(t, "read", oe.Op)
	})
	t.Run("write deadline", func(t *testing.T) {
		a, _ := tcpPair(t) // nobody reads the other end
		ra := rawsock.Wrap(a)
		require.NoError(t, a.SetWriteDeadline(time.Now().Add(50*time.Millisecond)))
		n, err := ra.Write(make([]byte, 64<<20))
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		assert.Less(t, n, 64<<20, "a short count with the error")
		var oe *net.OpError
		require.True(t, errors.As(err, &oe))
		assert.Equal(t, "write", oe.Op)
	})
	t.Run("closed", func(t *testing.T) {
		a, _ := tcpPair(t)
		ra := rawsock.Wrap(a)
		require.NoError(t, a.Close())
		_, err := ra.Read(make([]byte, 8))
		assert.ErrorIs(t, err, net.ErrClosed)
		_, err = ra.Write([]byte("x"))
		assert.ErrorIs(t, err, net.ErrClosed)
		_, err = ra.Writev([][]byte{[]byte("x")})
		assert.ErrorIs(t, err, net.ErrClosed)
	})
	t.Run("reset by peer", func(t *testing.T) {
		a, b := tcpPair(t)
		ra := rawsock.Wrap(a)
		require.NoError(t, b.SetLinger(0))
		require.NoError(t, b.Close()) // RST
		time.Sleep(20 * time.Millisecond)
		_, err := ra.Read(make([]byte, 8))
		require.Error(t, err)
		var oe *net.OpError
		require.True(t, errors.As(err, &oe), "%T %v", err, err)
		assert.Equal(t, "read", oe.Op)
		assert.Contains(t, err.Error(), "connection reset by peer")
	})
	t.Run("interrupted by a past deadline", func(t *testing.T) {
		a, _ := tcpPair(t)
		ra := rawsock.Wrap(a)
		errc := make(chan error, 1)
		go func() {
			_, err := ra.Read(make([]byte, 8))
			errc <- err
		}()
		time.Sleep(20 * time.Millisecond)
		require.NoError(t, a.SetReadDeadline(time.Unix(1, 0)))
		select {
		case err := <-errc:
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		case <-time.After(5 * time.Second):
			t.Fatal("a blocked read was not woken by its deadline")
		}
	})
}

// One reader and one writer at a time per direction, both directions at
// once: the state of each direction is its own (run with -race).
func TestConn_Concurrent(t *testing.T) {
	a, b := tcpPair(t)
	ra, rb := rawsock.Wrap(a), rawsock.Wrap(b)
	const n = 2000
	var wg sync.WaitGroup
	echo := func(r, w *rawsock.Conn) {
		defer wg.Done()
		buf := make([]byte, 64)
		for range n {
			if _, err := io.ReadFull(r, buf); err != nil {
				t.Error(err)
				return
			}
			if _, err := w.Write(buf); err != nil {
				t.Error(err)
				return
			}
		}
	}
	wg.Add(1)
	go echo(rb, rb)
	msg := bytes.Repeat([]byte("m"), 64)
	got := make([]byte, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range n {
			if _, err := io.ReadFull(ra, got); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range n {
		_, err := ra.Write(msg)
		require.NoError(t, err)
	}
	wg.Wait()
}

func pair(t *testing.T, network string) (net.Conn, net.Conn) {
	if network == "tcp" {
		c, s := tcpPair(t)
		return c, s
	}
	path := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", path)
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("unix", path)
	require.NoError(t, err)
	s := <-accepted
	require.NotNil(t, s)
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestMain(m *testing.M) {
	undo := rawsock.ForceForTest()
	code := m.Run()
	undo()
	os.Exit(code)
}
