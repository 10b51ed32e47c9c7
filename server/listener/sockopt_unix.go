//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package listener

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	haveReusePort = true
	haveSockopts  = true
)

// control sets c's options on a TCP socket before bind.
func control(c *Config, network string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		s := int(fd)
		if c.ReusePort {
			if serr = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
				serr = os.NewSyscallError("setsockopt SO_REUSEPORT", serr)
				return
			}
		}
		if c.IPv6Only && network == "tcp6" {
			if serr = unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); serr != nil {
				serr = os.NewSyscallError("setsockopt IPV6_V6ONLY", serr)
				return
			}
		}
		if c.FastOpen > 0 {
			if serr = setFastOpen(s, c.FastOpen); serr != nil {
				return
			}
		}
		serr = setListenerOpts(s, c)
	})
	return errors.Join(err, serr)
}

// setListenerOpts sets the options accepted sockets inherit from the
// listening one.
func setListenerOpts(s int, c *Config) error {
	if c.SendBuffer > 0 {
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_SNDBUF, c.SendBuffer); err != nil {
			return os.NewSyscallError("setsockopt SO_SNDBUF", err)
		}
	}
	if c.RecvBuffer > 0 {
		if err := unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_RCVBUF, c.RecvBuffer); err != nil {
			return os.NewSyscallError("setsockopt SO_RCVBUF", err)
		}
	}
	if c.NotSentLowat > 0 {
		// Checks the option on the listening socket; accepted sockets do
		// not inherit it, tune sets it on each.
		if err := setNotSentLowat(s, c.NotSentLowat); err != nil {
			return err
		}
	}
	if c.UserTimeout > 0 {
		return setUserTimeout(s, c.UserTimeout)
	}
	return nil
}

// withFD runs f on ln's descriptor.
func withFD(ln net.Listener, f func(s int) error) error {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return fmt.Errorf("%T has no descriptor", ln)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// setListenerOptsRaw sets the inheritable options on an inherited socket.
func setListenerOptsRaw(ln net.Listener, c *Config) error {
	return withFD(ln, func(s int) error { return setListenerOpts(s, c) })
}

// relisten calls listen(2) again to set the accept queue length.
func relisten(ln net.Listener, backlog int) error {
	return withFD(ln, func(s int) error {
		return os.NewSyscallError("listen", unix.Listen(s, backlog))
	})
}

// isListening reports whether ln's socket is in the listening state.
func isListening(ln net.Listener) (bool, error) {
	var v int
	err := withFD(ln, func(s int) error {
		var err error
		v, err = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_ACCEPTCONN)
		return os.NewSyscallError("getsockopt SO_ACCEPTCONN", err)
	})
	return v != 0, err
}

// listenUnix binds a Unix stream socket at c.Addr, sets its file mode and
// then listens, so no client can connect under a looser mode.
func listenUnix(c *Config) (net.Listener, error) {
	path := c.Addr
	if max := len(unix.RawSockaddrUnix{}.Path) - 1; len(path) > max {
		return nil, fmt.Errorf("unix socket path is %d bytes, the system allows %d", len(path), max)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	syscall.ForkLock.RLock()
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(s)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	f := os.NewFile(uintptr(s), path)
	defer f.Close() // net.FileListener has its own copy
	if err := setListenerOpts(s, c); err != nil {
		return nil, err
	}
	if err := unix.Bind(s, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, os.NewSyscallError("bind", err)
	}
	if !isAbstract(path) {
		if err := os.Chmod(path, c.UnixMode); err != nil {
			os.Remove(path)
			return nil, err
		}
	}
	backlog := c.Backlog
	if backlog == 0 {
		backlog = 65535 // the kernel caps it at its maximum
	}
	if err := unix.Listen(s, backlog); err != nil {
		if !isAbstract(path) {
			os.Remove(path)
		}
		return nil, os.NewSyscallError("listen", err)
	}
	ln, err := net.FileListener(f)
	if err != nil && !isAbstract(path) {
		os.Remove(path)
	}
	return ln, err
}

// removeStale removes a Unix socket file that nothing listens on. A socket
// with a live listener gives an error matching syscall.EADDRINUSE; a file
// that is not a socket is an error and is left alone.
func removeStale(path string) error {
	if isAbstract(path) {
		return nil
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		conn.Close()
		return fmt.Errorf("a live listener holds %s: %w", path, syscall.EADDRINUSE)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// EAGAIN (a full accept queue) and timeouts mean someone listens;
		// EACCES means we may not tell. Neither is ours to remove.
		return fmt.Errorf("cannot tell whether %s is stale: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
