package connector_test

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// blackHole returns a loopback address whose SYNs go unanswered: a socket
// listening with backlog 0 that never accepts. Once its accept queue is
// full (one or two connections), Linux drops further SYNs.
func blackHole(t *testing.T) string {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	require.NoError(t, syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	require.NoError(t, syscall.Listen(fd, 0))
	sa, err := syscall.Getsockname(fd)
	require.NoError(t, err)
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}

func TestConnector_ConnectTimeout(t *testing.T) {
	addr := blackHole(t)
	c := newConnector(t, connector.Options{})
	p := peer.New(addr, false, "")
	p.ConnectionTimeout = 150 * time.Millisecond
	// Fill the accept queue; the first connect that times out proves the
	// address is black-holed. Bounded: at most 8 × 150 ms.
	for range 8 {
		conn, _, err := c.Get(ctxT(t), p)
		if err == nil {
			defer conn.Close()
			continue
		}
		pe := requireErr(t, err, perr.ConnectTimedout, true)
		assert.Equal(t, perr.Upstream, pe.Source())
		assert.Contains(t, err.Error(), "connect "+addr)
		var ne net.Error
		assert.ErrorAs(t, err, &ne)
		return
	}
	t.Skip("the kernel accepted every connection; cannot black-hole a loopback address here")
}

func TestConnector_TotalConnectionTimeoutOnConnect(t *testing.T) {
	addr := blackHole(t)
	c := newConnector(t, connector.Options{})
	p := peer.New(addr, true, "a.example")
	p.TotalConnectionTimeout = 150 * time.Millisecond
	for range 8 {
		conn, _, err := c.Get(ctxT(t), p)
		if err == nil {
			defer conn.Close()
			continue
		}
		// Connected: the never-accepting listener stalls the handshake;
		// not connected: the SYN was dropped. Both hit the total timeout.
		requireErr(t, err, perr.ConnectTimedout, true)
		assert.Contains(t, err.Error(), "total-connection timeout")
		return
	}
	t.Fatal("no connect timed out")
}
