//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package listener

import (
	"net"
	"os"
	"syscall"
)

// On these systems only the portable options exist; Config.resolve rejects
// the others before any of these functions could need them.
const (
	haveReusePort = false
	haveSockopts  = false
	haveLinuxTCP  = false
)

func control(*Config, string, syscall.RawConn) error { return nil }

func setListenerOptsRaw(net.Listener, *Config) error { return nil }

func relisten(net.Listener, int) error { return nil }

func isListening(net.Listener) (bool, error) { return true, nil }

// listenUnix binds with the standard library; the mode is set after listen.
func listenUnix(c *Config) (net.Listener, error) {
	ln, err := net.Listen("unix", c.Addr)
	if err != nil {
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // Listener.Close decides
	if !isAbstract(c.Addr) {
		if err := os.Chmod(c.Addr, c.UnixMode); err != nil {
			ln.Close()
			os.Remove(c.Addr)
			return nil, err
		}
	}
	return ln, nil
}

func setNotSentLowat(int, int) error { return nil } // rejected by Config.resolve
