package connector_test

import (
	"crypto/x509"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
)

func TestBackendTLS_CachesClients(t *testing.T) {
	env := newTLSEnv(t, []string{"a.example", "b.example", "a-b.example"}, nil, nil)
	tc, err := connector.NewBackendTLS(gotls.New())
	require.NoError(t, err)
	c := newConnector(t, connector.Options{TLS: tc, PoolSize: -1})
	get := func(p *peer.Peer) {
		t.Helper()
		conn, _, err := c.Get(ctxT(t), p)
		require.NoError(t, err)
		echo(t, conn, "x")
		conn.Close()
	}
	p := peer.New(env.srv.addr, true, "a.example")
	p.CA = env.roots
	get(p)
	p.SNI = "b.example" // same CA, flags and names: same client
	get(p)
	assert.Equal(t, 1, tc.Clients())
	p.SNI = "a_b.example" // needs the '-' variant as an alternative name
	get(p)
	assert.Equal(t, 2, tc.Clients())
	p2 := peer.New(env.srv.addr, true, "a.example")
	p2.CA = append([]*x509.Certificate(nil), env.roots...) // another CA slice
	get(p2)
	assert.Equal(t, 3, tc.Clients())

	// The cache is bounded.
	for range connector.DefaultTLSClients + 5 {
		p := peer.New(env.srv.addr, true, "a.example")
		p.CA = append([]*x509.Certificate(nil), env.roots...)
		get(p)
	}
	assert.Equal(t, connector.DefaultTLSClients, tc.Clients())

	// Handshakes still work after Close.
	require.NoError(t, tc.Close())
	assert.Zero(t, tc.Clients())
	get(p)
	assert.Zero(t, tc.Clients())

	_, err = connector.NewBackendTLS(nil)
	assert.Error(t, err)
}

func TestBackendTLS_ConcurrentSafe(t *testing.T) {
	env := newTLSEnv(t, []string{"a.example"}, nil, nil)
	tc, err := connector.NewBackendTLS(gotls.New())
	require.NoError(t, err)
	c := newConnector(t, connector.Options{TLS: tc, PoolSize: -1})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			p := peer.New(env.srv.addr, true, "a.example")
			p.CA = env.roots
			if i%2 == 1 {
				p.CA = append([]*x509.Certificate(nil), env.roots...)
			}
			conn, _, err := c.Get(ctxT(t), p)
			if err == nil {
				conn.Close()
			}
			errs <- err
			if i == 3 {
				_ = tc.Close()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
