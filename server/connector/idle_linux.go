package connector

import (
	"syscall"
	"unsafe"
)

// canCheckIdle: CheckIdle works on this platform.
const canCheckIdle = true

// peek looks at the socket without blocking and without consuming; run by
// RawConn.Read, it always reports done.
func (pr *idleProbe) peek(fd uintptr) bool {
	pr.n, _, pr.errno = syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&pr.buf[0])), 1,
		syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
	return true
}
