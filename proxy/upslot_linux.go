package proxy

import (
	"syscall"
	"unsafe"
)

// canProbe: a parked connection can be checked without blocking.
const canProbe = true

// probe peeks at a socket without blocking and without consuming.
type probe struct {
	buf   [1]byte
	n     uintptr
	errno syscall.Errno
}

func (pb *probe) peek(fd uintptr) bool {
	pb.n, _, pb.errno = syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&pb.buf[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return true
}

// idle reports whether the connection is open with nothing to read: the
// peer neither closed it (a read would give EOF) nor sent anything.
func (pb *probe) idle(raw syscall.RawConn, fn func(uintptr) bool) bool {
	pb.n, pb.errno = 0, 0
	if err := raw.Read(fn); err != nil {
		return false
	}
	return pb.errno == syscall.EAGAIN
}
