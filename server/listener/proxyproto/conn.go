package proxyproto

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// Conn is a connection whose PROXY header has been read. RemoteAddr and
// LocalAddr report the header's source and destination; everything else
// goes to the underlying connection.
//
// Like a net.Conn, a Conn may be read and written from different
// goroutines at once; Reads must not run concurrently with each other.
type Conn struct {
	conn   net.Conn
	header *Header
	// replay holds bytes read while looking for a header that turned out
	// to be the client's data (Options.Optional); Read returns them first.
	replay []byte
}

var (
	_ net.Conn                        = (*Conn)(nil)
	_ syscall.Conn                    = (*Conn)(nil)
	_ io.ReaderFrom                   = (*Conn)(nil)
	_ io.WriterTo                     = (*Conn)(nil)
	_ interface{ CloseWrite() error } = (*Conn)(nil)
)

// Header returns the header read, or nil if the connection had none
// (Options.Optional).
func (c *Conn) Header() *Header { return c.header }

// NetConn returns the underlying connection. Reading from it skips the
// bytes that [Conn.Buffered] reports.
func (c *Conn) NetConn() net.Conn { return c.conn }

// Buffered returns how many bytes of the client's data Conn holds for its
// next Reads: bytes read to look for a header that was not there. It is
// zero whenever a header was read.
func (c *Conn) Buffered() int { return len(c.replay) }

// Read reads the client's data, after the header.
func (c *Conn) Read(b []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		if len(c.replay) == 0 {
			c.replay = nil
		}
		return n, nil
	}
	return c.conn.Read(b)
}

// Write writes to the underlying connection.
func (c *Conn) Write(b []byte) (int, error) { return c.conn.Write(b) }

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.conn.Close() }

// RemoteAddr returns the header's source address, or the underlying
// connection's remote address if the header has none (LOCAL, UNKNOWN,
// UNSPEC) or there was no header.
func (c *Conn) RemoteAddr() net.Addr {
	if c.header != nil && c.header.Source != nil {
		return c.header.Source
	}
	return c.conn.RemoteAddr()
}

// LocalAddr returns the header's destination address, or the underlying
// connection's local address if the header has none or there was no
// header.
func (c *Conn) LocalAddr() net.Addr {
	if c.header != nil && c.header.Destination != nil {
		return c.header.Destination
	}
	return c.conn.LocalAddr()
}

// SetDeadline sets the underlying connection's deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the underlying connection's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the underlying connection's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

// errUnsupported is returned by the optional methods the underlying
// connection lacks.
var errUnsupported = errors.New("proxyproto: not supported by the underlying connection")

// CloseWrite shuts down the writing side, as *net.TCPConn and
// *net.UnixConn do, if the underlying connection can.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errUnsupported
}

// SyscallConn returns the underlying connection's raw connection, if it is
// a syscall.Conn (a *net.TCPConn or *net.UnixConn).
func (c *Conn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errUnsupported
}

// ReadFrom writes r's data to the connection, using the underlying
// connection's ReadFrom (splice, sendfile) when it has one.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.conn}, r)
}

// WriteTo writes the client's data to w, using the underlying connection's
// WriteTo (splice) for what follows the buffered bytes.
func (c *Conn) WriteTo(w io.Writer) (int64, error) {
	var n int64
	if len(c.replay) > 0 {
		k, err := w.Write(c.replay)
		n += int64(k)
		c.replay = c.replay[k:]
		if err != nil {
			return n, err
		}
		c.replay = nil
	}
	var k int64
	var err error
	if wt, ok := c.conn.(io.WriterTo); ok {
		k, err = wt.WriteTo(w)
	} else {
		k, err = io.Copy(w, struct{ io.Reader }{c.conn})
	}
	return n + k, err
}
