package tlstest

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/pingora-go/pingora/tlsbackend"
)

// Pair returns the two ends of a fresh loopback TCP connection. Both are
// closed when the test ends.
func Pair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("tlstest: listen: %v", err)
	}
	defer ln.Close()
	return pairOn(tb, ln)
}

// Listener hands out loopback connection pairs from one listening socket,
// for benchmarks that make many connections.
type Listener struct {
	ln net.Listener
}

// NewListener listens on 127.0.0.1; it is closed when the test ends.
func NewListener(tb testing.TB) *Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("tlstest: listen: %v", err)
	}
	tb.Cleanup(func() { ln.Close() })
	return &Listener{ln: ln}
}

// Pair returns a new connected pair; the caller closes both.
func (l *Listener) Pair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	c, err := net.Dial("tcp", l.ln.Addr().String())
	if err != nil {
		tb.Fatalf("tlstest: dial: %v", err)
	}
	s, err := l.ln.Accept()
	if err != nil {
		c.Close()
		tb.Fatalf("tlstest: accept: %v", err)
	}
	return c, s
}

func pairOn(tb testing.TB, ln net.Listener) (net.Conn, net.Conn) {
	tb.Helper()
	c, s := (&Listener{ln: ln}).Pair(tb)
	tb.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// Result is one side of a handshake.
type Result struct {
	// Conn is the established connection, nil on failure.
	Conn tlsbackend.Conn
	// Err is the handshake error, nil on success.
	Err error
}

// Handshake runs a server and a client handshake against each other over a
// fresh loopback pair and returns both results. Established conns are
// closed when the test ends.
func Handshake(tb testing.TB, srv tlsbackend.ServerTLS, cli tlsbackend.ClientTLS, serverName string, alpn []string) (client, server Result) {
	tb.Helper()
	craw, sraw := Pair(tb)
	return HandshakeOver(tb, craw, sraw, srv, cli, serverName, alpn)
}

// HandshakeOver is Handshake over a given pair of raw connections.
func HandshakeOver(tb testing.TB, craw, sraw net.Conn, srv tlsbackend.ServerTLS, cli tlsbackend.ClientTLS, serverName string, alpn []string) (client, server Result) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan Result, 1)
	go func() {
		c, err := srv.Handshake(ctx, sraw)
		if err != nil {
			// A failed server handshake closes sraw, so a client still
			// waiting for the server sees EOF rather than hanging.
			done <- Result{Err: err}
			return
		}
		done <- Result{Conn: c}
	}()
	c, err := cli.Handshake(ctx, craw, serverName, alpn)
	if err != nil {
		craw.Close() // unblock the server if it waits for us
	}
	client = Result{Conn: c, Err: err}
	server = <-done
	for _, r := range []Result{client, server} {
		if r.Conn != nil {
			tb.Cleanup(func() { r.Conn.Close() })
		}
	}
	return client, server
}

// CheckGoroutines fails the test if, when it ends, more goroutines run than
// at the call (after waiting up to 5 s for them to finish).
func CheckGoroutines(tb testing.TB) {
	tb.Helper()
	before := runtime.NumGoroutine()
	tb.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<16)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("tlstest: %d goroutines leaked:\n%s", n-before, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
