package listener

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

const haveLinuxTCP = true

// setFastOpen enables TCP Fast Open with a queue of n pending requests.
func setFastOpen(s, n int) error {
	return os.NewSyscallError("setsockopt TCP_FASTOPEN", unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_FASTOPEN, n))
}

// setUserTimeout sets TCP_USER_TIMEOUT, in milliseconds.
func setUserTimeout(s int, d time.Duration) error {
	ms := int(min(d.Milliseconds(), 1<<31-1))
	return os.NewSyscallError("setsockopt TCP_USER_TIMEOUT", unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, max(ms, 1)))
}

// setNotSentLowat sets TCP_NOTSENT_LOWAT, in bytes.
func setNotSentLowat(s, n int) error {
	return os.NewSyscallError("setsockopt TCP_NOTSENT_LOWAT", unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n))
}
