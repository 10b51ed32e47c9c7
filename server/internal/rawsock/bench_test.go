package rawsock_test

import (
	"io"
	"net"
	"testing"

	"github.com/pingora-go/pingora/server/internal/rawsock"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(tb testing.TB) (client, server *net.TCPConn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		tb.Fatal("accept failed")
	}
	tb.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// BenchmarkPingPong writes size bytes one way and reads them back on the
// other end, then the same the other way: four socket calls per op, as
// a proxied request makes.
func BenchmarkPingPong(b *testing.B) {
	for _, size := range []int{100, 16 << 10} {
		for _, mode := range []string{"net", "raw"} {
			b.Run(mode+"/size="+itoa(size), func(b *testing.B) {
				c, s := tcpPair(b)
				var cw, sw net.Conn = c, s
				if mode == "raw" {
					cw, sw = rawsock.Wrap(c), rawsock.Wrap(s)
				}
				msg := make([]byte, size)
				buf := make([]byte, size)
				b.SetBytes(int64(2 * size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := cw.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(sw, buf); err != nil {
						b.Fatal(err)
					}
					if _, err := sw.Write(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(cw, buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func itoa(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return itoa(n>>10) + "k"
	}
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
