package http2

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"golang.org/x/net/http2"
)

// DefaultPeekTimeout bounds [PeekPreface] when it is given no deadline.
const DefaultPeekTimeout = 10 * time.Second

// ErrPeekTimeout is returned (wrapped) by [PeekPreface] when the client sent
// too little in time to tell HTTP/2 from HTTP/1.
var ErrPeekTimeout = errors.New("http2: timed out waiting for the first bytes")

// PeekPreface reads just enough of c to tell whether the client opened with
// the HTTP/2 client connection preface ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
// RFC 9113 §3.4) and returns a connection that replays the bytes read, so
// the caller hands it unchanged to the HTTP/2 server or to HTTP/1 parsing.
//
// It stops reading at the first byte that differs from the preface, so an
// HTTP/1 request costs a single read. The whole peek is bounded by deadline
// (if zero, now + [DefaultPeekTimeout]); a silent client yields an error
// wrapping [ErrPeekTimeout]. The read deadline of c is cleared before
// PeekPreface returns. On error the returned conn is still usable and
// replays whatever was read.
func PeekPreface(c net.Conn, deadline time.Time) (isH2 bool, rc net.Conn, err error) {
	if deadline.IsZero() {
		deadline = time.Now().Add(DefaultPeekTimeout)
	}
	if err := c.SetReadDeadline(deadline); err != nil {
		return false, c, err
	}
	defer c.SetReadDeadline(time.Time{})
	preface := []byte(http2.ClientPreface)
	buf := make([]byte, 0, len(preface))
	for len(buf) < len(preface) {
		n, rerr := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if !bytes.HasPrefix(preface, buf) {
			return false, newReplayConn(c, buf), nil
		}
		if rerr != nil {
			if isTimeout(rerr) {
				rerr = errors.Join(ErrPeekTimeout, rerr)
			} else if rerr == io.EOF && len(buf) > 0 {
				// A short prefix of the preface then EOF: not HTTP/2.
				return false, newReplayConn(c, buf), nil
			}
			return false, newReplayConn(c, buf), rerr
		}
	}
	return true, newReplayConn(c, buf), nil
}

// Replayed splits a connection returned by [PeekPreface] into the
// connection it wraps and the bytes it has yet to replay, for a caller
// that hands both to a parser able to start from buffered bytes (such as
// http1.NewServerSessionBuffered) and so reads and writes the connection
// itself, with no wrapper in between. Any other connection is returned as
// it is, with no bytes. The wrapper must not be used afterwards.
func Replayed(c net.Conn) (net.Conn, []byte) {
	if rc, ok := c.(*replayConn); ok {
		return rc.Conn, rc.buf
	}
	return c, nil
}

// replayConn returns buffered bytes before reading from the connection.
type replayConn struct {
	net.Conn
	buf []byte
}

func newReplayConn(c net.Conn, buf []byte) net.Conn {
	if len(buf) == 0 {
		return c
	}
	return &replayConn{Conn: c, buf: buf}
}

// Read returns the replayed bytes first.
func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the wrapped connection.
func (c *replayConn) NetConn() net.Conn { return c.Conn }

// CloseWrite half-closes the wrapped connection if it supports that.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("http2: connection does not support CloseWrite")
}
