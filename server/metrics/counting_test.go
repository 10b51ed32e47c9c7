package metrics_test

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/metrics"
)

// echoApp echoes until the client closes or a shutdown begins.
type echoApp struct{}

func (echoApp) ServeConn(ctx context.Context, c *listener.Conn, shutdown <-chan struct{}) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(c, c)
	}()
	select {
	case <-done:
	case <-shutdown:
		c.Close()
		<-done
	}
}

func TestCountingApp_CountsRealConnections(t *testing.T) {
	checkGoroutines(t)
	m, err := metrics.New(metrics.Options{NoRuntimeCollectors: true})
	require.NoError(t, err)
	rs := startServer(t, server.NewListeningService("echo", metrics.CountingApp(echoApp{}, m, "echo")))
	accepted := func() float64 { return value(t, m.Gatherer(), "pingora_connections_accepted_total", "service", "echo") }
	active := func() float64 { return value(t, m.Gatherer(), "pingora_connections_active", "service", "echo") }

	var conns []io.ReadWriteCloser
	for range 3 {
		c := dial(t, rs.addr(0))
		_, err := c.Write([]byte("x"))
		require.NoError(t, err)
		_, err = io.ReadFull(c, make([]byte, 1)) // served: counted
		require.NoError(t, err)
		conns = append(conns, c)
	}
	assert.Equal(t, 3.0, accepted())
	assert.Equal(t, 3.0, active())

	conns[0].Close()
	conns[1].Close()
	eventually(t, 1, active)
	assert.Equal(t, 3.0, accepted())

	rs.stop(t) // the shutdown ends the last connection
	assert.Equal(t, 0.0, active())
	assert.Equal(t, 3.0, accepted())
}

type checkCleanApp struct {
	echoApp
	cleaned bool
}

func (a *checkCleanApp) Check() error { return errors.New("bad cert") }
func (a *checkCleanApp) Cleanup()     { a.cleaned = true }

func TestCountingApp_ForwardsCheckAndCleanup(t *testing.T) {
	inner := &checkCleanApp{}
	app := metrics.CountingApp(inner, nil, "x")
	require.Implements(t, (*server.Checker)(nil), app)
	require.Implements(t, (*server.Cleaner)(nil), app)
	assert.EqualError(t, app.(server.Checker).Check(), "bad cert")
	app.(server.Cleaner).Cleanup()
	assert.True(t, inner.cleaned)

	plain := metrics.CountingApp(echoApp{}, nil, "x")
	assert.NoError(t, plain.(server.Checker).Check())
	assert.NotPanics(t, plain.(server.Cleaner).Cleanup)
}
