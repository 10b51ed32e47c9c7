//go:build !linux

package rawsock

import "net"

// Conn is the socket as is: raw system calls are only made on Linux.
type Conn struct{ net.Conn }

// Wrap returns nil: outside Linux sockets keep Go's own Read and Write.
func Wrap(net.Conn) *Conn { return nil }

// Writev writes v with net.Buffers.
func (c *Conn) Writev(v [][]byte) (int64, error) {
	b := net.Buffers(v)
	return b.WriteTo(c.Conn)
}

// ForceForTest does nothing outside Linux.
func ForceForTest() (undo func()) { return func() {} }
