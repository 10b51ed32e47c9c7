package l4_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/pingora-go/pingora/l4"
)

func BenchmarkParseClientHello(b *testing.B) {
	rec := captureHello(b, &tls.Config{ServerName: "www.example.com", NextProtos: []string{"h2", "http/1.1"}})
	for _, bc := range []struct {
		name string
		in   []byte
	}{
		{"crypto-tls", rec},
		{"split-records", refragment(rec, 256)},
		{"no-sni", hello(alpnExt("h2"))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, _, err := l4.ParseClientHello(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProxy_Throughput echoes messages through the proxy over
// loopback; "direct" is the same without the proxy, the ceiling.
func BenchmarkProxy_Throughput(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, via := range []string{"proxy", "direct"} {
			b.Run(fmt.Sprintf("size=%dKiB/%s", size>>10, via), func(b *testing.B) {
				be := newEcho(b)
				addr := be.addr
				if via == "proxy" {
					addr = serve(b, l4.Options{Upstream: fixed(be.addr)}).addr
				}
				c := dial(b, addr)
				msg := make([]byte, size)
				got := make([]byte, size)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for b.Loop() {
					if _, err := c.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(c, got); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkProxy_Connection is one short connection per op: connect
// through the proxy, one byte each way, close.
func BenchmarkProxy_Connection(b *testing.B) {
	for _, peek := range []bool{false, true} {
		b.Run(fmt.Sprintf("peek=%v", peek), func(b *testing.B) {
			be := newEcho(b)
			f := serve(b, l4.Options{Upstream: fixed(be.addr), PeekTLS: peek})
			one := make([]byte, 1)
			b.ReportAllocs()
			for b.Loop() {
				c, err := net.Dial("tcp", f.addr)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Write(one); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
