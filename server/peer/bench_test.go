package peer_test

import (
	"testing"

	"github.com/pingora-go/pingora/server/peer"
)

var sinkHash uint64

func BenchmarkPeer_ReuseHash(b *testing.B) {
	for _, bc := range []struct {
		name string
		p    *peer.Peer
	}{
		{"plain", peer.New("127.0.0.1:80", false, "")},
		{"tls", peer.New("10.0.0.1:443", true, "api.example.com")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkHash = bc.p.ReuseHash()
			}
		})
	}
}
