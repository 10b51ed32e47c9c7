package connector_test

import (
	"context"
	"testing"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// BenchmarkConnector_GetRelease measures the pool-hit path: Get of an idle
// watched connection and Release back to the pool (which starts its idle
// watcher again), for n peers held idle at once.
func BenchmarkConnector_GetRelease(b *testing.B) {
	srv := startServer(b, "tcp", nil, nil)
	for _, n := range []int{1, 16} {
		b.Run("peers="+itoa(n), func(b *testing.B) {
			c := newConnector(b, connector.Options{})
			peers := make([]*peer.Peer, n)
			for i := range peers {
				peers[i] = peer.New(srv.addr, false, "")
				peers[i].GroupKey = uint64(i)
				conn, _, err := c.Get(context.Background(), peers[i])
				if err != nil {
					b.Fatal(err)
				}
				c.Release(peers[i], conn, true)
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := peers[i%n]
				i++
				conn, reused, err := c.Get(ctx, p)
				if err != nil || !reused {
					b.Fatalf("reused %v, err %v", reused, err)
				}
				c.Release(p, conn, true)
			}
		})
	}
}

// BenchmarkConnector_Dial is the miss path over loopback, for scale:
// TCP connect and close, and TCP plus a TLS 1.3 handshake.
func BenchmarkConnector_Dial(b *testing.B) {
	env := newTLSEnvB(b)
	plain := startServer(b, "tcp", nil, nil)
	for _, bc := range []struct {
		name string
		p    *peer.Peer
	}{
		{"tcp", peer.New(plain.addr, false, "")},
		{"tls", env},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := newConnector(b, connector.Options{PoolSize: -1})
			b.ReportAllocs()
			for b.Loop() {
				conn, err := c.Dial(context.Background(), bc.p)
				if err != nil {
					b.Fatal(err)
				}
				conn.Close()
			}
		})
	}
}

// BenchmarkConnector_Get is the pool-hit Get alone; Release runs with the
// timer stopped.
func BenchmarkConnector_Get(b *testing.B) {
	srv := startServer(b, "tcp", nil, nil)
	c := newConnector(b, connector.Options{})
	p := peer.New(srv.addr, false, "")
	conn, _, err := c.Get(context.Background(), p)
	if err != nil {
		b.Fatal(err)
	}
	c.Release(p, conn, true)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		conn, reused, err := c.Get(ctx, p)
		if err != nil || !reused {
			b.Fatalf("reused %v, err %v", reused, err)
		}
		b.StopTimer()
		c.Release(p, conn, true)
		b.StartTimer()
	}
}
