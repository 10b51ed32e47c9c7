//go:build unix

package upgrade

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listeners opens n TCP listeners on loopback and returns them with
// duplicates of their sockets and their addresses as keys.
func listeners(t testing.TB, n int) ([]net.Listener, []string, []*os.File) {
	t.Helper()
	var lns []net.Listener
	var keys []string
	var files []*os.File
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		f, err := ln.(*net.TCPListener).File()
		require.NoError(t, err)
		lns = append(lns, ln)
		keys = append(keys, ln.Addr().String())
		files = append(files, f)
	}
	t.Cleanup(func() {
		for i := range lns {
			lns[i].Close()
			files[i].Close()
		}
	})
	return lns, keys, files
}

func TestSendReceive(t *testing.T) {
	for _, n := range []int{1, 3, 64} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "u.sock")
			lns, keys, files := listeners(t, n)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			got := make(chan *Received, 1)
			errc := make(chan error, 1)
			go func() {
				r, err := Receive(ctx, sock)
				errc <- err
				got <- r
			}()
			h, err := Send(ctx, sock, keys, files)
			require.NoError(t, err)
			require.NoError(t, <-errc)
			r := <-got
			require.Len(t, r.Files, n)
			_, err = os.Stat(sock)
			assert.ErrorIs(t, err, os.ErrNotExist, "Receive removes the socket file")

			// Each received socket is the listener of the same address:
			// a connection to it can be accepted through the received file.
			for i, k := range keys {
				f := r.Files[k]
				require.NotNil(t, f, k)
				ln, err := net.FileListener(f)
				require.NoError(t, err)
				f.Close()
				assert.Equal(t, lns[i].Addr().String(), ln.Addr().String())
				lns[i].Close() // only the received copy accepts now
				c, err := net.Dial("tcp", k)
				require.NoError(t, err)
				ac, err := ln.Accept()
				require.NoError(t, err)
				ac.Close()
				c.Close()
				ln.Close()
			}
			require.NoError(t, r.Ack())
			require.NoError(t, h.Wait(ctx))
		})
	}
}

func TestSend_WaitsForReceiver(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "u.sock")
	_, keys, files := listeners(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent := make(chan error, 1)
	go func() {
		h, err := Send(ctx, sock, keys, files)
		if err == nil {
			err = h.Wait(ctx)
		}
		sent <- err
	}()
	time.Sleep(3 * RetryInterval) // the sender retries meanwhile
	r, err := Receive(ctx, sock)
	require.NoError(t, err)
	for _, f := range r.Files {
		f.Close()
	}
	require.NoError(t, r.Ack())
	require.NoError(t, <-sent)
}

func TestHandoff_WaitNoAck(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "u.sock")
	_, keys, files := listeners(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		r, err := Receive(ctx, sock)
		if err == nil {
			for _, f := range r.Files {
				f.Close()
			}
			r.Close() // failed to start
		}
	}()
	h, err := Send(ctx, sock, keys, files)
	require.NoError(t, err)
	assert.ErrorIs(t, h.Wait(ctx), ErrNoAck)
}

func TestHandoff_WaitTimeout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "u.sock")
	_, keys, files := listeners(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recv := make(chan *Received, 1)
	go func() {
		r, _ := Receive(ctx, sock)
		recv <- r
	}()
	h, err := Send(ctx, sock, keys, files)
	require.NoError(t, err)
	wctx, wcancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer wcancel()
	assert.ErrorIs(t, h.Wait(wctx), context.DeadlineExceeded)
	r := <-recv
	require.NotNil(t, r)
	for _, f := range r.Files {
		f.Close()
	}
	r.Close()
}

func TestSend_NoReceiver(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "u.sock")
	_, keys, files := listeners(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*RetryInterval)
	defer cancel()
	_, err := Send(ctx, sock, keys, files)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, os.ErrNotExist, "the last connect error is kept")
	assert.Contains(t, err.Error(), "no new process is listening")
}

func TestReceive_NoSender(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "u.sock")
	require.NoError(t, os.WriteFile(sock, nil, 0o600)) // stale file
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Receive(ctx, sock)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = os.Stat(sock)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestSend_BadInput(t *testing.T) {
	_, keys, files := listeners(t, 2)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		keys  []string
		files []*os.File
		msg   string
	}{
		{"count mismatch", keys[:1], files, "1 keys for 2 files"},
		{"none", nil, nil, "no files"},
		{"space in key", []string{"a b", keys[1]}, files, "white space"},
		{"empty key", []string{"", keys[1]}, files, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Send(ctx, "/nonexistent/u.sock", tc.keys, tc.files)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestReceive_Malformed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		msg     string
	}{
		{"more keys than files", "a b", "2 keys with 1 files"},
		{"duplicate", "a a", "received twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "u.sock")
			_, _, files := listeners(t, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			go func() {
				c, err := dial(ctx, sock)
				if err != nil {
					return
				}
				defer c.Close()
				rc, _ := files[0].SyscallConn()
				var fd int
				rc.Control(func(u uintptr) { fd = int(u) })
				fds := []int{fd}
				if strings.Count(tc.payload, " ") == 1 && tc.name == "duplicate" {
					fds = append(fds, fd)
				}
				c.WriteMsgUnix([]byte(tc.payload), rightsOf(fds), nil)
				c.CloseWrite()
				var b [1]byte
				c.Read(b[:])
			}()
			_, err := Receive(ctx, sock)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestDecode(t *testing.T) {
	keys, err := decode([]byte(" a \n b\t"), 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, keys)
	_, err = decode(nil, 1)
	assert.Error(t, err)
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "0.0.0.0:80", "a b c", "a  a", "\x00 \xff", "/tmp/x.sock 127.0.0.1:443"} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, payload []byte, n int) {
		if n < 0 || n > MaxFiles {
			return
		}
		keys, err := decode(payload, n)
		if err != nil {
			return
		}
		if len(keys) != n {
			t.Fatalf("%d keys for %d files", len(keys), n)
		}
		if n == 0 {
			return // nothing to send: encode refuses
		}
		p, err := encode(keys, n)
		if err != nil {
			t.Fatalf("decoded keys %q do not encode: %v", keys, err)
		}
		if want := strings.Join(strings.Fields(string(payload)), " "); string(p) != want {
			t.Fatalf("round trip %q -> %q, want %q", payload, p, want)
		}
	})
}
