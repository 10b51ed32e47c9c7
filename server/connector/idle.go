package connector

import (
	"syscall"
)

// idleProbe is what CheckIdle needs, made once per connection so that a
// check allocates nothing.
type idleProbe struct {
	raw   syscall.RawConn
	fn    func(fd uintptr) bool // pr.peek
	buf   [1]byte
	n     uintptr
	errno syscall.Errno
}

// CanCheckIdle reports whether CheckIdle can tell anything about c: c is
// a plaintext TCP or Unix connection, on Linux. (Over TLS a server may
// legitimately send records, such as session tickets, while the
// connection is idle, so a peek proves nothing there.)
func (c *Conn) CanCheckIdle() bool {
	if !canCheckIdle || c.tls {
		return false
	}
	if c.probe == nil {
		pr := &idleProbe{}
		if sc, ok := c.Conn.(syscall.Conn); ok {
			if raw, err := sc.SyscallConn(); err == nil {
				pr.raw = raw
				pr.fn = pr.peek
			}
		}
		c.probe = pr
	}
	return c.probe.raw != nil
}

// CheckIdle reports whether an idle connection is still open with nothing
// to read: the peer neither closed it nor sent anything no request asked
// for. It never blocks or consumes a byte (one recvfrom with MSG_PEEK |
// MSG_DONTWAIT, about half a microsecond). It reports false when
// CanCheckIdle does. Call it only while nothing else reads c, before
// reusing a connection kept outside the pool (the pool's watcher does the
// same job for pooled ones).
func (c *Conn) CheckIdle() bool {
	if !c.CanCheckIdle() {
		return false
	}
	pr := c.probe
	pr.n, pr.errno = 0, 0
	if err := pr.raw.Read(pr.fn); err != nil {
		return false
	}
	return pr.errno == syscall.EAGAIN
}
