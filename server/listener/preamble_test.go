package listener_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server/listener"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// namedConn reports the address a preamble announced.
type namedConn struct {
	net.Conn
	r      io.Reader
	remote string
}

func (c *namedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *namedConn) RemoteAddr() net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", c.remote)
	return a
}

// linePreamble reads one "FROM host:port\n" line, like a PROXY header.
func linePreamble() listener.Handshaker {
	return listener.HandshakerFunc(func(ctx context.Context, raw net.Conn) (net.Conn, error) {
		// One byte at a time: nothing after the line may be consumed.
		var line []byte
		b := make([]byte, 1)
		for len(line) < 64 {
			if _, err := raw.Read(b); err != nil {
				return nil, err
			}
			if b[0] == '\n' {
				addr, ok := strings.CutPrefix(string(line), "FROM ")
				if !ok {
					return nil, errors.New("no FROM line")
				}
				return &namedConn{Conn: raw, r: raw, remote: addr}, nil
			}
			line = append(line, b[0])
		}
		return nil, errors.New("line too long")
	})
}

func TestListener_Preamble(t *testing.T) {
	for _, withTLS := range []bool{false, true} {
		name := "plaintext"
		if withTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			checkGoroutines(t)
			cfg := listener.Config{Addr: "127.0.0.1:0", Preamble: linePreamble()}
			if withTLS {
				cfg.TLS = tlsHandshaker(t)
			}
			l := listenT(t, cfg)
			go func() {
				c, err := net.Dial("tcp", l.Addr().String())
				if !assert.NoError(t, err) {
					return
				}
				defer c.Close()
				_, _ = io.WriteString(c, "FROM 192.0.2.7:4242\n")
				var rw io.ReadWriter = c
				if withTLS {
					_, pool := serverCert(t)
					tc := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
					if !assert.NoError(t, tc.Handshake()) {
						return
					}
					rw = tc
				}
				_, _ = io.WriteString(rw, "hello\n")
				_, _ = io.Copy(io.Discard, c) // until the server closes
			}()
			c := acceptT(t, l)
			defer c.Close()
			assert.Equal(t, withTLS, c.TLS)
			assert.Equal(t, "192.0.2.7:4242", c.RemoteAddr().String(), "the preamble's address")
			line, err := bufio.NewReader(c).ReadString('\n')
			require.NoError(t, err)
			assert.Equal(t, "hello\n", line, "bytes after the preamble reach the reader")
		})
	}
}

func TestListener_PreambleFailsAlone(t *testing.T) {
	checkGoroutines(t)
	log := newErrorLog()
	l := listenT(t, listener.Config{
		Addr: "127.0.0.1:0", Preamble: linePreamble(), HandshakeTimeout: 200 * time.Millisecond, OnError: log.add,
	})
	bad := dialT(t, "tcp", l.Addr().String())
	_, err := io.WriteString(bad, "GET / HTTP/1.1\r\n")
	require.NoError(t, err)
	var he *listener.HandshakeError
	require.ErrorAs(t, log.next(t), &he)
	assert.Contains(t, he.Error(), "no FROM line")

	silent := dialT(t, "tcp", l.Addr().String())
	require.ErrorAs(t, log.next(t), &he)
	assert.True(t, he.TimedOut, "a silent client is closed at the handshake timeout")
	_ = silent

	// Neither was returned by Accept; a good client still is.
	go func() {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			_, _ = io.WriteString(c, "FROM 198.51.100.1:1\nx")
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c := acceptT(t, l)
	defer c.Close()
	assert.Equal(t, "198.51.100.1:1", c.RemoteAddr().String())
}
