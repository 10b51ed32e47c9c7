package connector_test

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConn_CheckIdle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CheckIdle peeks with recvfrom on Linux only")
	}
	cases := []struct {
		name string
		peer func(c net.Conn) // what the peer does with its end
		want bool
	}{
		{"idle", func(net.Conn) {}, true},
		{"peer-sent-data", func(c net.Conn) { _, _ = c.Write([]byte("x")) }, false},
		{"peer-closed", func(c net.Conn) { c.Close() }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ends := make(chan net.Conn, 1)
			srv := startServer(t, "tcp", nil, func(c net.Conn) {
				ends <- c
				time.Sleep(300 * time.Millisecond) // keep the end open unless the case closes it
			})
			cn := newConnector(t, connector.Options{})
			conn, _, err := cn.Get(ctxT(t), peer.New(srv.addr, false, ""))
			require.NoError(t, err)
			defer conn.Close()
			require.True(t, conn.CanCheckIdle())
			tc.peer(<-ends)
			if tc.want {
				assert.True(t, conn.CheckIdle())
				assert.True(t, conn.CheckIdle(), "checking consumes nothing")
				return
			}
			assert.Eventually(t, func() bool { return !conn.CheckIdle() }, 2*time.Second, 5*time.Millisecond)
			if tc.name == "peer-sent-data" {
				b := make([]byte, 1)
				_, err := conn.Read(b)
				require.NoError(t, err)
				assert.Equal(t, "x", string(b), "the peeked byte is still there")
			}
		})
	}
}

func TestConn_CheckIdleNotOverTLS(t *testing.T) {
	p := newTLSEnvB(t)
	cn := newConnector(t, connector.Options{})
	conn, _, err := cn.Get(ctxT(t), p)
	require.NoError(t, err)
	defer conn.Close()
	assert.False(t, conn.CanCheckIdle())
	assert.False(t, conn.CheckIdle())
}
