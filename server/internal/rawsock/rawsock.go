//go:build linux

package rawsock

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Conn is a TCP or Unix socket whose Read, Write and Writev are raw
// system calls. Every other method is the socket's own.
type Conn struct {
	net.Conn
	rc syscall.RawConn

	// One call at a time per direction: the state below is shared with
	// the callbacks, which rc.Read and rc.Write run under the socket's
	// own read or write lock, taken after these fields are set.
	rmu    sync.Mutex
	rbuf   []byte
	rn     int
	rerrno syscall.Errno
	readFn func(fd uintptr) bool

	wmu     sync.Mutex
	wbuf    []byte
	wvec    [][]byte
	woff    int
	wn      int
	werrno  syscall.Errno
	writeFn func(fd uintptr) bool
	iov     [maxIov]syscall.Iovec
	vecFn   func(fd uintptr) bool
}

// forced switches Wrap on in race builds (ForceForTest).
var forced atomic.Bool

// ForceForTest makes Wrap wrap sockets in race builds too, for tests of
// this package; it returns a function that undoes it. Outside race builds
// Wrap always wraps and this changes nothing.
func ForceForTest() (undo func()) {
	forced.Store(true)
	return func() { forced.Store(false) }
}

// maxIov is the most buffers one vectored write passes to the kernel;
// longer vectors take several calls.
const maxIov = 16

// Wrap returns c as a *Conn if it is a *net.TCPConn or *net.UnixConn, or
// a wrapper that names its socket through a Socket method (as
// connector.Conn does for plaintext connections: a wrapper must only
// name it when its Read and Write add nothing), and nil otherwise: TLS and
// other wrappers, a PROXY protocol conn replaying bytes for instance, keep
// their own Read and Write.
func Wrap(c net.Conn) *Conn {
	if raceEnabled && !forced.Load() {
		return nil
	}
	if sc, ok := c.(interface{ Socket() net.Conn }); ok {
		if c = sc.Socket(); c == nil {
			return nil
		}
	}
	var sc syscall.Conn
	switch t := c.(type) {
	case *net.TCPConn:
		sc = t
	case *net.UnixConn:
		sc = t
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	rw := &Conn{Conn: c, rc: rc}
	rw.readFn = rw.read
	rw.writeFn = rw.write
	rw.vecFn = rw.writev
	return rw
}

// Read reads like net.Conn.Read: io.EOF at the end of the stream, a
// *net.OpError otherwise.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	c.rbuf, c.rn, c.rerrno = b, 0, 0
	err := c.rc.Read(c.readFn)
	n, errno := c.rn, c.rerrno
	c.rbuf = nil
	c.rmu.Unlock()

	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case errno != 0:
		return 0, c.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// read is the read callback: false asks the poller to wait.
func (c *Conn) read(fd uintptr) bool {
	n, errno, again := sysCall(syscall.SYS_READ, fd, unsafe.Pointer(&c.rbuf[0]), len(c.rbuf))
	c.rn, c.rerrno = n, errno
	return !again
}

// sysCall makes one raw read(2), write(2) or writev(2) on fd, retrying
// EINTR; again reports EAGAIN: the poller must wait for the socket.
func sysCall(trap, fd uintptr, p unsafe.Pointer, n int) (done int, errno syscall.Errno, again bool) {
	for {
		r, _, e := syscall.RawSyscall(trap, fd, uintptr(p), uintptr(n))
		switch e {
		case 0:
			return int(r), 0, false
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, 0, true
		}
		return 0, e, false
	}
}

// Write writes all of b, waiting for the socket as often as needed, like
// net.Conn.Write.
func (c *Conn) Write(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	written := 0
	for written < len(b) {
		c.wbuf, c.wn, c.werrno = b[written:], 0, 0
		err := c.rc.Write(c.writeFn)
		written += c.wn
		c.wbuf = nil
		if err != nil {
			return written, c.opError("write", err)
		}
		if c.werrno != 0 {
			return written, c.opError("write", os.NewSyscallError("write", c.werrno))
		}
	}
	return written, nil
}

// write is the write callback: one write(2), false on EAGAIN.
func (c *Conn) write(fd uintptr) bool {
	n, errno, again := sysCall(syscall.SYS_WRITE, fd, unsafe.Pointer(&c.wbuf[0]), len(c.wbuf))
	c.wn, c.werrno = n, errno
	return !again
}

// Writev writes the buffers of v in order with vectored writes and
// returns the bytes written, like net.Buffers.WriteTo on a socket; v is
// not modified.
func (c *Conn) Writev(v [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var total int64
	off := 0 // bytes of v[0] already written
	for len(v) > 0 {
		if off == len(v[0]) {
			v, off = v[1:], 0
			continue
		}
		c.wvec, c.woff, c.wn, c.werrno = v, off, 0, 0
		err := c.rc.Write(c.vecFn)
		n := c.wn
		c.wvec = nil
		total += int64(n)
		if err != nil {
			return total, c.opError("writev", err)
		}
		if c.werrno != 0 {
			return total, c.opError("writev", os.NewSyscallError("writev", c.werrno))
		}
		for n > 0 {
			if left := len(v[0]) - off; n < left {
				off += n
				break
			} else {
				n -= left
				v, off = v[1:], 0
			}
		}
	}
	return total, nil
}

// writev is the vectored write callback: one writev(2) of up to maxIov
// buffers (the first from c.woff), false on EAGAIN.
func (c *Conn) writev(fd uintptr) bool {
	k := 0
	for i, b := range c.wvec {
		if i == 0 {
			b = b[c.woff:]
		}
		if len(b) == 0 {
			continue
		}
		if k == maxIov {
			break
		}
		c.iov[k].Base = &b[0]
		c.iov[k].SetLen(len(b))
		k++
	}
	n, errno, again := sysCall(syscall.SYS_WRITEV, fd, unsafe.Pointer(&c.iov[0]), k)
	clear(c.iov[:k]) // drop the references to the caller's buffers
	c.wn, c.werrno = n, errno
	return !again
}

// opError shapes err as net.Conn's methods do: a *net.OpError naming the
// operation and both addresses. An error from the poller (a deadline, a
// closed connection) comes as an *net.OpError of syscall.RawConn ("raw-read",
// "raw-write"): only its operation is renamed.
func (c *Conn) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		cp := *oe
		cp.Op = op
		return &cp
	}
	return &net.OpError{Op: op, Net: c.LocalAddr().Network(), Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
