package listener

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// Accept back-off bounds, as in net/http's Server.Serve.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

// AcceptError is an error from accepting a socket. With Retry > 0 it is
// temporary (such as EMFILE, too many open files) and is reported to
// Config.OnError while Accept waits Retry and tries again; with Retry zero
// Accept returned it and the listener cannot accept any more.
type AcceptError struct {
	// Key is the Key of the listener.
	Key string
	// Retry is the back-off before the next try; zero if none.
	Retry time.Duration
	// Err is the error from the socket.
	Err error
}

// Error reports the listener, the cause and the back-off, e.g.
// "listener: accept on :80: accept4: too many open files (retrying in 5ms)".
func (e *AcceptError) Error() string {
	msg := fmt.Sprintf("listener: accept on %s: %v", e.Key, e.Err)
	if e.Retry > 0 {
		msg += fmt.Sprintf(" (retrying in %v)", e.Retry)
	}
	return msg
}

// Unwrap returns Err.
func (e *AcceptError) Unwrap() error { return e.Err }

// nextDelay doubles the back-off from minAcceptDelay up to maxAcceptDelay.
func nextDelay(d time.Duration) time.Duration {
	if d == 0 {
		return minAcceptDelay
	}
	return min(2*d, maxAcceptDelay)
}

// temporary reports whether an accept error passes: the process or system
// is out of descriptors or memory, or the kernel reported a network error
// of the pending connection, which accept(2) says to treat like EAGAIN.
func temporary(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
			syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN,
			syscall.EPROTO, syscall.ENOPROTOOPT, syscall.EOPNOTSUPP, syscall.EPERM,
			syscall.ENETDOWN, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH,
			syscall.ETIMEDOUT:
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
