package listener_test

import (
	"context"
	"net"
	"testing"

	"github.com/pingora-go/pingora/server/listener"
)

// benchAccept dials and accepts one loopback connection per iteration and
// closes both ends. accept is the listener under test.
func benchAccept(b *testing.B, addr string, accept func() (net.Conn, error)) {
	b.ReportAllocs()
	for b.Loop() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		s, err := accept()
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		c.Close()
	}
}

func BenchmarkListener_Accept(b *testing.B) {
	b.Run("impl=net.Listener", func(b *testing.B) { // baseline
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		benchAccept(b, l.Addr().String(), l.Accept)
	})
	b.Run("impl=Accept", func(b *testing.B) {
		l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		benchAccept(b, l.Addr().String(), l.Accept)
	})
	b.Run("impl=AcceptConn", func(b *testing.B) {
		l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0"})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		benchAccept(b, l.Addr().String(), func() (net.Conn, error) { return l.AcceptConn() })
	})
	b.Run("impl=AcceptConn/handshaker=noop", func(b *testing.B) {
		// The cost of the handshake goroutine and hand-off, without crypto.
		noop := listener.HandshakerFunc(func(_ context.Context, raw net.Conn) (net.Conn, error) { return raw, nil })
		l, err := listener.Listen(context.Background(), listener.Config{Addr: "127.0.0.1:0", TLS: noop})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		benchAccept(b, l.Addr().String(), func() (net.Conn, error) { return l.AcceptConn() })
	})
}
