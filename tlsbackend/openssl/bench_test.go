//go:build openssl && cgo

package openssl_test

import (
	"fmt"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/gotls"
	"github.com/pingora-go/pingora/tlsbackend/openssl"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

// pairs are the client→server combinations measured; gotls→gotls is the
// baseline in the same run.
func pairs(b *testing.B) []struct {
	name     string
	cli, srv tlsbackend.Backend
} {
	o, err := openssl.New()
	if err != nil {
		b.Fatal(err)
	}
	g := gotls.New()
	return []struct {
		name     string
		cli, srv tlsbackend.Backend
	}{
		{"openssl-openssl", o, o},
		{"gotls-openssl", g, o},
		{"openssl-gotls", o, g},
		{"gotls-gotls", g, g},
	}
}

// BenchmarkBackend_Handshake is one TLS 1.3 handshake, both ends in this
// process, over a new loopback connection; names are client-server.
func BenchmarkBackend_Handshake(b *testing.B) {
	for _, p := range pairs(b) {
		for _, kt := range []tlstest.KeyType{tlstest.ECDSAP256, tlstest.RSA2048} {
			b.Run(p.name+"/"+kt.String(), func(b *testing.B) { tlstest.BenchmarkHandshake(b, p.srv, p.cli, kt) })
		}
	}
}

// BenchmarkBackend_Throughput streams size-byte writes over one connection.
func BenchmarkBackend_Throughput(b *testing.B) {
	for _, p := range pairs(b) {
		for _, size := range []int{4 << 10, 64 << 10} {
			b.Run(fmt.Sprintf("%s/size=%dKiB", p.name, size>>10), func(b *testing.B) {
				tlstest.BenchmarkThroughput(b, p.srv, p.cli, size)
			})
		}
	}
}
