package listener_test

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/pingora-go/pingora/server/listener"
)

// sockopt reads an int socket option of c.
func sockopt(t *testing.T, c syscall.Conn, level, opt int) int {
	t.Helper()
	rc, err := c.SyscallConn()
	require.NoError(t, err)
	var v int
	var gerr error
	require.NoError(t, rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }))
	require.NoError(t, gerr)
	return v
}

func TestListen_SocketOptions(t *testing.T) {
	tests := []struct {
		name  string
		cfg   listener.Config
		level int
		opt   int
		want  int
	}{
		{"TCP_NODELAY on by default", listener.Config{}, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1},
		{"Nagle clears TCP_NODELAY", listener.Config{Nagle: true}, unix.IPPROTO_TCP, unix.TCP_NODELAY, 0},
		{"keep-alive on by default", listener.Config{}, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{"NoKeepAlive", listener.Config{NoKeepAlive: true}, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0},
		{"KeepAlive idle", listener.Config{KeepAlive: net.KeepAliveConfig{Enable: true, Idle: 42 * time.Second}}, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 42},
		{"KeepAlive count", listener.Config{KeepAlive: net.KeepAliveConfig{Enable: true, Count: 3}}, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 3},
		{"UserTimeout", listener.Config{UserTimeout: 7 * time.Second}, unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, 7000},
		{"NotSentLowat", listener.Config{NotSentLowat: 16 << 10}, unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, 16 << 10},
	}
	for _, tt := range tests {
		for _, adopted := range []bool{false, true} {
			name := tt.name
			if adopted {
				name += "/inherited"
			}
			t.Run(name, func(t *testing.T) {
				cfg := tt.cfg
				cfg.Addr = "127.0.0.1:0"
				l := listenT(t, cfg)
				if adopted {
					f, err := l.File()
					require.NoError(t, err)
					defer f.Close()
					cfg.Addr = l.Addr().String()
					require.NoError(t, l.Close())
					l, err = listener.FileListener(f, cfg)
					require.NoError(t, err)
					defer l.Close()
				}
				dialT(t, "tcp", l.Addr().String())
				c := acceptT(t, l)
				assert.Equal(t, tt.want, sockopt(t, c.Raw.(*net.TCPConn), tt.level, tt.opt))
			})
		}
	}
}

func TestListen_ListenerOptions(t *testing.T) {
	t.Run("buffers are inherited by accepted sockets", func(t *testing.T) {
		l := listenT(t, listener.Config{Addr: "127.0.0.1:0", SendBuffer: 64 << 10, RecvBuffer: 128 << 10})
		dialT(t, "tcp", l.Addr().String())
		c := acceptT(t, l).Raw.(*net.TCPConn)
		// Linux doubles the value for its bookkeeping.
		assert.Equal(t, 2*64<<10, sockopt(t, c, unix.SOL_SOCKET, unix.SO_SNDBUF))
		assert.Equal(t, 2*128<<10, sockopt(t, c, unix.SOL_SOCKET, unix.SO_RCVBUF))
	})
	t.Run("ReusePort", func(t *testing.T) {
		l := listenT(t, listener.Config{Addr: "127.0.0.1:0", ReusePort: true})
		f, err := l.File()
		require.NoError(t, err)
		defer f.Close()
		fc, err := net.FileListener(f)
		require.NoError(t, err)
		defer fc.Close()
		assert.Equal(t, 1, sockopt(t, fc.(*net.TCPListener), unix.SOL_SOCKET, unix.SO_REUSEPORT))
	})
	t.Run("FastOpen", func(t *testing.T) {
		l := listenT(t, listener.Config{Addr: "127.0.0.1:0", FastOpen: 16})
		f, err := l.File()
		require.NoError(t, err)
		defer f.Close()
		fc, err := net.FileListener(f)
		require.NoError(t, err)
		defer fc.Close()
		assert.Equal(t, 16, sockopt(t, fc.(*net.TCPListener), unix.IPPROTO_TCP, unix.TCP_FASTOPEN))
	})
	t.Run("IPv6Only", func(t *testing.T) {
		if !hasIPv6() {
			t.Skip("no IPv6 loopback")
		}
		for _, want := range []int{0, 1} {
			l := listenT(t, listener.Config{Addr: "[::]:0", IPv6Only: want == 1})
			f, err := l.File()
			require.NoError(t, err)
			fc, err := net.FileListener(f)
			f.Close()
			require.NoError(t, err)
			assert.Equal(t, want, sockopt(t, fc.(*net.TCPListener), unix.IPPROTO_IPV6, unix.IPV6_V6ONLY))
			fc.Close()
		}
	})
	t.Run("Backlog", func(t *testing.T) {
		// The queue length is not readable back; a small one must still
		// accept.
		l := listenT(t, listener.Config{Addr: "127.0.0.1:0", Backlog: 4})
		dialT(t, "tcp", l.Addr().String())
		acceptT(t, l)
	})
}

func TestListen_UnixAbstract(t *testing.T) {
	name := "@pingora-go-listener-test-" + t.Name()
	l := listenT(t, listener.Config{Network: "unix", Addr: name})
	roundTrip(t, dialT(t, "unix", name), acceptT(t, l))
}
