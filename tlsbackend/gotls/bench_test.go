package gotls_test

import (
	"fmt"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend/gotls"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

// BenchmarkBackend_Handshake is one TLS 1.3 handshake, both ends in this
// process, over a new loopback connection.
func BenchmarkBackend_Handshake(b *testing.B) {
	for _, kt := range []tlstest.KeyType{tlstest.ECDSAP256, tlstest.RSA2048} {
		b.Run(kt.String(), func(b *testing.B) { tlstest.BenchmarkHandshake(b, gotls.New(), gotls.New(), kt) })
	}
}

// BenchmarkBackend_Throughput streams size-byte writes over one connection.
func BenchmarkBackend_Throughput(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			tlstest.BenchmarkThroughput(b, gotls.New(), gotls.New(), size)
		})
	}
}
