package listener_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/listener"
)

// An upgrade in one test process: the old Table's files become the new
// Table's inheritance, and the new listeners serve on the same sockets.
func TestTable_Upgrade(t *testing.T) {
	checkGoroutines(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.sock")
	port := listenT(t, listener.Config{Addr: "127.0.0.1:0"})
	tcpAddr := port.Addr().String()
	require.NoError(t, port.Close()) // a free port to configure literally
	cfgs := []listener.Config{
		{Addr: tcpAddr},
		{Network: "unix", Addr: path},
	}

	old := listener.NewTable(nil)
	var oldLs []*listener.Listener
	for _, cfg := range cfgs {
		l, err := old.Listen(ctx, cfg)
		require.NoError(t, err)
		oldLs = append(oldLs, l)
	}
	_, err := old.Listen(ctx, cfgs[0])
	require.ErrorContains(t, err, "already listening in this process")

	// A client connects before the handover; it must be served by the new
	// process from the same accept queue.
	early := dialT(t, "tcp", tcpAddr)

	keys, files, err := old.Files()
	require.NoError(t, err)
	assert.Equal(t, []string{path, tcpAddr}, keys, "sorted by key")
	inherited := map[string]*os.File{}
	for i, k := range keys {
		inherited[k] = files[i]
	}
	stray, err := net.Listen("tcp", "127.0.0.1:0") // a socket no config claims
	require.NoError(t, err)
	strayFile, err := stray.(*net.TCPListener).File()
	require.NoError(t, err)
	strayAddr := stray.Addr().String()
	require.NoError(t, stray.Close())
	inherited[strayAddr] = strayFile

	// The old process stops accepting.
	for _, l := range oldLs {
		require.NoError(t, l.Close())
	}
	_, files2, err := old.Files()
	require.NoError(t, err)
	assert.Empty(t, files2, "closed listeners leave the table")

	next := listener.NewTable(inherited)
	var newLs []*listener.Listener
	for _, cfg := range cfgs {
		l, err := next.Listen(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		newLs = append(newLs, l)
	}
	assert.Equal(t, tcpAddr, newLs[0].Addr().String())
	assert.Equal(t, []string{strayAddr}, next.CloseInherited())
	_, err = strayFile.Stat()
	assert.Error(t, err, "unclaimed inherited files are closed")

	roundTrip(t, early, acceptT(t, newLs[0]))
	roundTrip(t, dialT(t, "unix", path), acceptT(t, newLs[1]))
}

func TestTable_InheritedMismatchFails(t *testing.T) {
	l := listenT(t, listener.Config{Addr: "127.0.0.1:0"})
	f, err := l.File()
	require.NoError(t, err)
	tbl := listener.NewTable(map[string]*os.File{"/run/x.sock": f})
	_, err = tbl.Listen(context.Background(), listener.Config{Network: "unix", Addr: "/run/x.sock"})
	require.ErrorContains(t, err, "not unix")
	_, err = f.Stat()
	assert.Error(t, err, "the inherited file was consumed")
	assert.Empty(t, tbl.CloseInherited())
}

func TestTable_ListenAfterClose(t *testing.T) {
	tbl := listener.NewTable(nil)
	cfg := listener.Config{Addr: "127.0.0.1:0"}
	l, err := tbl.Listen(context.Background(), cfg)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	l, err = tbl.Listen(context.Background(), cfg)
	require.NoError(t, err, "a closed listener frees its key")
	require.NoError(t, l.Close())
}
