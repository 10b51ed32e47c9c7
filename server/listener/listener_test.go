package listener_test

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
)

func TestListen_TCP(t *testing.T) {
	tests := []struct {
		name, network, addr string
		v6                  bool
	}{
		{"tcp4", "tcp4", "127.0.0.1:0", false},
		{"tcp with v4 literal", "", "127.0.0.1:0", false},
		{"tcp6", "tcp6", "[::1]:0", true},
		{"tcp with v6 literal", "tcp", "[::1]:0", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.v6 && !hasIPv6() {
				t.Skip("no IPv6 loopback")
			}
			checkGoroutines(t)
			l := listenT(t, listener.Config{Network: tt.network, Addr: tt.addr})
			assert.Equal(t, tt.addr, l.Key())
			assert.Equal(t, cmp.Or(tt.network, "tcp"), l.Network())
			ta, ok := l.Addr().(*net.TCPAddr)
			require.True(t, ok, "Addr is %T", l.Addr())
			assert.NotZero(t, ta.Port)
			assert.Equal(t, tt.v6, ta.IP.To4() == nil)

			client := dialT(t, "tcp", l.Addr().String())
			c := acceptT(t, l)
			assert.False(t, c.TLS)
			assert.Equal(t, tt.addr, c.Key)
			assert.IsType(t, &net.TCPConn{}, c.Raw)
			assert.Same(t, c.Raw, c.Conn)
			assert.Equal(t, client.LocalAddr().String(), c.RemoteAddr().String())
			assert.Equal(t, l.Addr().String(), c.LocalAddr().String())
			assert.WithinDuration(t, time.Now(), c.Accepted, waitTimeout)
			roundTrip(t, client, c)
		})
	}
}

func TestListener_AcceptReturnsPlainConn(t *testing.T) {
	l := listenT(t, listener.Config{Addr: "127.0.0.1:0"})
	dialT(t, "tcp", l.Addr().String())
	c, err := l.Accept()
	require.NoError(t, err)
	defer c.Close()
	assert.IsType(t, &net.TCPConn{}, c, "Accept returns the socket itself, not a wrapper")
}

func TestListen_Unix(t *testing.T) {
	tests := []struct {
		name string
		mode fs.FileMode
		want fs.FileMode
	}{
		{"default mode", 0, 0o666},
		{"owner only", 0o600, 0o600},
		{"group", 0o660, 0o660},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			path := filepath.Join(t.TempDir(), "s.sock")
			l := listenT(t, listener.Config{Network: "unix", Addr: path, UnixMode: tt.mode})
			fi, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, fs.ModeSocket, fi.Mode().Type())
			assert.Equal(t, tt.want, fi.Mode().Perm())
			assert.Equal(t, path, l.Addr().String())

			client := dialT(t, "unix", path)
			c := acceptT(t, l)
			assert.IsType(t, &net.UnixConn{}, c.Raw)
			roundTrip(t, client, c)

			require.NoError(t, l.Close())
			_, err = os.Stat(path)
			assert.ErrorIs(t, err, fs.ErrNotExist, "Close removes the socket file")
		})
	}
}

func TestListener_CloseKeepsReplacedUnixPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l := listenT(t, listener.Config{Network: "unix", Addr: path})
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.WriteFile(path, []byte("someone else's"), 0o600))
	require.NoError(t, l.Close())
	_, err := os.Stat(path)
	assert.NoError(t, err, "Close removes only the file it bound")
}

func TestListen_UnixStaleSocket(t *testing.T) {
	dir := t.TempDir()

	t.Run("stale socket is removed", func(t *testing.T) {
		path := filepath.Join(dir, "stale.sock")
		old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		require.NoError(t, err)
		old.SetUnlinkOnClose(false)
		require.NoError(t, old.Close()) // a crashed process leaves the file
		_, err = os.Stat(path)
		require.NoError(t, err)

		l := listenT(t, listener.Config{Network: "unix", Addr: path})
		client := dialT(t, "unix", path)
		roundTrip(t, client, acceptT(t, l))
	})

	t.Run("live socket is not stolen", func(t *testing.T) {
		path := filepath.Join(dir, "live.sock")
		live, err := net.Listen("unix", path)
		require.NoError(t, err)
		defer live.Close()

		_, err = listener.Listen(context.Background(), listener.Config{Network: "unix", Addr: path})
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.EADDRINUSE)

		// The live listener still owns the path. It first sees the empty
		// connection Listen made to find out that it is alive.
		probe, err := live.Accept()
		require.NoError(t, err)
		probe.Close()
		client := dialT(t, "unix", path)
		c, err := live.Accept()
		require.NoError(t, err)
		defer c.Close()
		roundTrip(t, client, c)
	})

	t.Run("regular file is left alone", func(t *testing.T) {
		path := filepath.Join(dir, "file")
		require.NoError(t, os.WriteFile(path, []byte("data"), 0o600))
		_, err := listener.Listen(context.Background(), listener.Config{Network: "unix", Addr: path})
		require.ErrorContains(t, err, "not a socket")
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "data", string(b))
	})
}

func TestListen_ReusePort(t *testing.T) {
	checkGoroutines(t)
	a := listenT(t, listener.Config{Addr: "127.0.0.1:0", ReusePort: true})
	addr := a.Addr().String()

	_, err := listener.Listen(context.Background(), listener.Config{Addr: addr})
	require.ErrorIs(t, err, syscall.EADDRINUSE, "without ReusePort the port is taken")

	b := listenT(t, listener.Config{Addr: addr, ReusePort: true})
	assert.Equal(t, addr, b.Addr().String())

	// With a closed, b alone takes every new connection.
	require.NoError(t, a.Close())
	client := dialT(t, "tcp", addr)
	roundTrip(t, client, acceptT(t, b))
}

func TestListen_BindRetries(t *testing.T) {
	t.Run("port freed while waiting", func(t *testing.T) {
		holder, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := holder.Addr().String()
		var waits []time.Duration
		sleep := func(d time.Duration, _ <-chan struct{}) bool {
			waits = append(waits, d)
			holder.Close() // the old process lets go
			return true
		}
		l, err := listener.ListenEnv(context.Background(), listener.Config{Addr: addr, BindRetries: 3, BindRetryDelay: time.Minute}, nil, sleep)
		require.NoError(t, err)
		defer l.Close()
		assert.Equal(t, []time.Duration{time.Minute}, waits)
		assert.Equal(t, addr, l.Addr().String())
	})

	t.Run("gives up after the retries", func(t *testing.T) {
		holder := listenT(t, listener.Config{Addr: "127.0.0.1:0"})
		var waits int
		sleep := func(time.Duration, <-chan struct{}) bool { waits++; return true }
		log := newErrorLog()
		addr := holder.Addr().String()
		_, err := listener.ListenEnv(context.Background(), listener.Config{Addr: addr, BindRetries: 2, OnError: log.add}, nil, sleep)
		require.ErrorIs(t, err, syscall.EADDRINUSE)
		assert.Equal(t, 2, waits)
		reported := log.all()
		require.Len(t, reported, 2, "each retry is reported")
		assert.ErrorIs(t, reported[0], syscall.EADDRINUSE)
		assert.Contains(t, reported[0].Error(), "listener: listen tcp "+addr+": ")
		assert.Contains(t, reported[0].Error(), "(retrying in 1s)")
	})

	t.Run("context ends the wait", func(t *testing.T) {
		holder := listenT(t, listener.Config{Addr: "127.0.0.1:0"})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := listener.Listen(ctx, listener.Config{Addr: holder.Addr().String(), BindRetries: 30})
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, syscall.EADDRINUSE)
	})
}

func TestListener_File(t *testing.T) {
	t.Run("tcp", func(t *testing.T) {
		checkGoroutines(t)
		cfg := listener.Config{Addr: "127.0.0.1:0"}
		old := listenT(t, cfg)
		f, err := old.File()
		require.NoError(t, err)
		require.NoError(t, old.Close()) // the old process goes away; the socket stays

		cfg.Addr = old.Addr().String()
		l, err := listener.FileListener(f, cfg)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		defer l.Close()
		assert.Equal(t, old.Addr().String(), l.Addr().String())

		client := dialT(t, "tcp", cfg.Addr)
		roundTrip(t, client, acceptT(t, l))
	})

	t.Run("unix", func(t *testing.T) {
		checkGoroutines(t)
		path := filepath.Join(t.TempDir(), "s.sock")
		cfg := listener.Config{Network: "unix", Addr: path, UnixMode: 0o600}
		old := listenT(t, cfg)
		f, err := old.File()
		require.NoError(t, err)
		defer f.Close()
		require.NoError(t, old.Close())
		_, err = os.Stat(path)
		require.NoError(t, err, "a handed-over socket's file must stay")

		cfg.UnixMode = 0o660 // the new process's config wins
		l, err := listener.FileListener(f, cfg)
		require.NoError(t, err)
		defer l.Close()
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, fs.FileMode(0o660), fi.Mode().Perm())

		client := dialT(t, "unix", path)
		roundTrip(t, client, acceptT(t, l))
	})
}

func TestFileListener_Mismatch(t *testing.T) {
	tcp := listenT(t, listener.Config{Addr: "127.0.0.1:0"})
	tcpFile, err := tcp.File()
	require.NoError(t, err)
	defer tcpFile.Close()
	path := filepath.Join(t.TempDir(), "s.sock")
	uds := listenT(t, listener.Config{Network: "unix", Addr: path})
	udsFile, err := uds.File()
	require.NoError(t, err)
	defer udsFile.Close()
	conn := dialT(t, "tcp", tcp.Addr().String())
	connFile, err := conn.(*net.TCPConn).File()
	require.NoError(t, err)
	defer connFile.Close()

	tests := []struct {
		name string
		f    *os.File
		cfg  listener.Config
		want string
	}{
		{"tcp socket as unix", tcpFile, listener.Config{Network: "unix", Addr: path}, "not unix"},
		{"unix socket as tcp", udsFile, listener.Config{Addr: "127.0.0.1:1"}, "not tcp"},
		{"other port", tcpFile, listener.Config{Addr: "127.0.0.1:1"}, "bound to"},
		{"other path", udsFile, listener.Config{Network: "unix", Addr: path + "x"}, "bound to"},
		{"connected socket", connFile, listener.Config{Addr: "127.0.0.1:0"}, "does not listen"},
		{"bad config", tcpFile, listener.Config{}, "empty address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := listener.FileListener(tt.f, tt.cfg)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestConfig_Invalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  listener.Config
		want string
	}{
		{"empty address", listener.Config{}, "empty address"},
		{"unknown network", listener.Config{Network: "udp", Addr: ":0"}, "unsupported network"},
		{"negative handshake timeout", listener.Config{Addr: ":0", HandshakeTimeout: -1}, "negative HandshakeTimeout"},
		{"negative backlog", listener.Config{Addr: ":0", Backlog: -1}, "negative"},
		{"unix mode on tcp", listener.Config{Addr: ":0", UnixMode: 0o600}, "UnixMode applies to unix"},
		{"unix mode not permissions", listener.Config{Network: "unix", Addr: "/x", UnixMode: fs.ModeDir | 0o600}, "other than permissions"},
		{"reuseport on unix", listener.Config{Network: "unix", Addr: "/x", ReusePort: true}, "ReusePort applies to tcp"},
		{"keepalive on unix", listener.Config{Network: "unix", Addr: "/x", NoKeepAlive: true}, "NoKeepAlive applies to tcp"},
		{"bad tcp address", listener.Config{Addr: "127.0.0.1"}, "missing port"},
		{"unix path too long", listener.Config{Network: "unix", Addr: "/tmp/" + strings.Repeat("x", 200)}, "the system allows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := listener.Listen(context.Background(), tt.cfg)
			require.ErrorContains(t, err, tt.want)
			assert.Regexp(t, `^listener: `, err.Error())
		})
	}
}

func TestListener_CloseUnblocksAccept(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "tls"}[tls]
		t.Run(name, func(t *testing.T) {
			checkGoroutines(t)
			cfg := listener.Config{Addr: "127.0.0.1:0"}
			if tls {
				cfg.TLS = tlsHandshaker(t)
			}
			l, err := listener.Listen(context.Background(), cfg)
			require.NoError(t, err)
			errc := make(chan error, 2)
			for range 2 {
				go func() {
					_, err := l.Accept()
					errc <- err
				}()
			}
			time.Sleep(10 * time.Millisecond) // let them block (not required for correctness)
			require.NoError(t, l.Close())
			for range 2 {
				select {
				case err := <-errc:
					require.ErrorIs(t, err, net.ErrClosed)
					assert.Contains(t, err.Error(), "listener: accept on 127.0.0.1:0")
				case <-time.After(waitTimeout):
					t.Fatal("Accept still blocked after Close")
				}
			}
			_, err = l.AcceptConn()
			require.ErrorIs(t, err, net.ErrClosed, "Accept after Close")
			require.NoError(t, l.Close(), "second Close")
			_, err = net.DialTimeout("tcp", l.Addr().String(), waitTimeout)
			require.Error(t, err, "the port no longer listens")
		})
	}
}

func TestListener_AcceptBackoff(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	var fails int // accept fails while fails > 0
	accept := func(ln net.Listener) (net.Conn, error) {
		if fails > 0 {
			fails--
			return nil, emfile
		}
		return ln.Accept()
	}
	var waits []time.Duration
	sleep := func(d time.Duration, _ <-chan struct{}) bool {
		waits = append(waits, d)
		return true
	}
	log := newErrorLog()
	l, err := listener.ListenEnv(context.Background(), listener.Config{Addr: "127.0.0.1:0", OnError: log.add}, accept, sleep)
	require.NoError(t, err)
	defer l.Close()

	ms := time.Millisecond
	fails = 10
	dialT(t, "tcp", l.Addr().String())
	c, err := l.Accept()
	require.NoError(t, err, "temporary errors are not returned")
	c.Close()
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}
	assert.Equal(t, want, waits)
	reported := log.all()
	require.Len(t, reported, 10)
	for i, err := range reported {
		var ae *listener.AcceptError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, want[i], ae.Retry)
		assert.Equal(t, "127.0.0.1:0", ae.Key)
		assert.ErrorIs(t, err, syscall.EMFILE)
	}
	assert.Contains(t, reported[0].Error(), "too many open files (retrying in 5ms)")

	// A success resets the back-off.
	waits, fails = nil, 2
	dialT(t, "tcp", l.Addr().String())
	c, err = l.Accept()
	require.NoError(t, err)
	c.Close()
	assert.Equal(t, []time.Duration{5 * ms, 10 * ms}, waits)
}

func TestListener_AcceptPermanentError(t *testing.T) {
	boom := errors.New("boom")
	accept := func(net.Listener) (net.Conn, error) { return nil, boom }
	l, err := listener.ListenEnv(context.Background(), listener.Config{Addr: "127.0.0.1:0"}, accept, nil)
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Accept()
	var ae *listener.AcceptError
	require.ErrorAs(t, err, &ae)
	assert.Zero(t, ae.Retry)
	assert.ErrorIs(t, err, boom)
}

func TestListener_CloseEndsBackoff(t *testing.T) {
	checkGoroutines(t)
	accept := func(net.Listener) (net.Conn, error) {
		return nil, os.NewSyscallError("accept4", syscall.ENFILE)
	}
	log := newErrorLog()
	l, err := listener.ListenEnv(context.Background(), listener.Config{Addr: "127.0.0.1:0", OnError: log.add}, accept, nil)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	log.next(t) // Accept is now backing off (real sleep)
	require.NoError(t, l.Close())
	select {
	case err := <-errc:
		require.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(waitTimeout):
		t.Fatal("Close did not end the back-off")
	}
}

func TestNextDelay(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, 5 * time.Millisecond},
		{5 * time.Millisecond, 10 * time.Millisecond},
		{600 * time.Millisecond, time.Second},
		{time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.in.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, listener.NextDelay(tt.in))
		})
	}
}
