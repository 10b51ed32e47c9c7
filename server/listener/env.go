package listener

import (
	"net"
	"time"
)

// sysEnv is the operating system as the listener sees it; tests replace it
// to inject accept failures and to record back-off waits.
type sysEnv struct {
	// accept accepts one socket from ln.
	accept func(ln net.Listener) (net.Conn, error)
	// sleep waits d and reports true, or reports false as soon as done is
	// closed.
	sleep func(d time.Duration, done <-chan struct{}) bool
}

var osEnv = &sysEnv{
	accept: func(ln net.Listener) (net.Conn, error) { return ln.Accept() },
	sleep:  sleepOrDone,
}

func sleepOrDone(d time.Duration, done <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-done:
		return false
	}
}
