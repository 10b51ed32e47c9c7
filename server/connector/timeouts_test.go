package connector_test

import (
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/require"
)

// TestConn_Timeouts checks that the coarse SetReadTimeout still times a
// read out, never before its timeout, and that a deadline set directly
// (as a pool's idle watcher does) is never hidden by one kept from before.
func TestConn_Timeouts(t *testing.T) {
	const d = 80 * time.Millisecond
	cases := []struct {
		name  string
		setup func(c *connector.Conn)
	}{
		{"timeout", func(c *connector.Conn) { require.NoError(t, c.SetReadTimeout(d)) }},
		{"timeout-set-twice", func(c *connector.Conn) {
			require.NoError(t, c.SetReadTimeout(d))
			require.NoError(t, c.SetReadTimeout(d))
		}},
		{"after-deadline-cleared", func(c *connector.Conn) {
			require.NoError(t, c.SetReadTimeout(d))
			require.NoError(t, c.SetReadDeadline(time.Time{}))
			require.NoError(t, c.SetReadTimeout(d))
		}},
		{"after-both-cleared", func(c *connector.Conn) {
			require.NoError(t, c.SetReadTimeout(d))
			require.NoError(t, c.SetDeadline(time.Time{}))
			require.NoError(t, c.SetReadTimeout(d))
		}},
		{"shorter-after-longer", func(c *connector.Conn) {
			require.NoError(t, c.SetReadTimeout(time.Hour))
			require.NoError(t, c.SetReadTimeout(d))
		}},
	}
	// The peer reads and never answers.
	srv := startServer(t, "tcp", nil, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	cn := newConnector(t, connector.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, _, err := cn.Get(ctxT(t), peer.New(srv.addr, false, ""))
			require.NoError(t, err)
			defer conn.Close()
			// A hidden deadline would block the read: end it, and fail.
			stop := time.AfterFunc(3*time.Second, func() { conn.Close() })
			defer stop.Stop()
			start := time.Now()
			tc.setup(conn)
			_, err = conn.Read(make([]byte, 1))
			took := time.Since(start)
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			require.GreaterOrEqual(t, took, d, "never before the timeout")
			require.Less(t, took, 2*time.Second, "not hidden by an earlier deadline")
		})
	}
}

func TestConn_WriteTimeoutThenNone(t *testing.T) {
	srv := startServer(t, "tcp", nil, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	cn := newConnector(t, connector.Options{})
	conn, _, err := cn.Get(ctxT(t), peer.New(srv.addr, false, ""))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetWriteTimeout(time.Minute))
	require.NoError(t, conn.SetWriteTimeout(0)) // no deadline
	_, err = conn.Write([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadTimeout(-1))
	require.NoError(t, conn.SetReadTimeout(50*time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
}
