package tlsbackend_test

import (
	"fmt"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

// BenchmarkCertStore_Get is the per-handshake SNI lookup.
func BenchmarkCertStore_Get(b *testing.B) {
	ca := tlstest.NewCA(b, "root")
	for _, n := range []int{1, 100} {
		certs := make([]*tlsbackend.Certificate, n)
		for i := range certs {
			certs[i] = ca.Server(b, tlstest.ECDSAP256, fmt.Sprintf("host%d.example.com", i), fmt.Sprintf("*.zone%d.example.com", i))
		}
		store, err := tlsbackend.NewCertStore(certs...)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("n=%d/exact", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				store.Get("host0.example.com")
			}
		})
		b.Run(fmt.Sprintf("n=%d/wildcard", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				store.Get("www.zone0.example.com")
			}
		})
		b.Run(fmt.Sprintf("n=%d/miss", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				store.Get("Nope.Example.Org.")
			}
		})
	}
}
