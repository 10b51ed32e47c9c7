package http2_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"golang.org/x/net/http2"

	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

var benchBody = make([]byte, 1024)

// benchHandler answers every request with a 1 KiB body.
var benchHandler = h2.HandlerFunc(func(s *h2.Session) {
	if err := s.WriteResponseHeader(mustResponse(200, "content-length", "1024"), false); err != nil {
		return
	}
	_ = s.WriteBody(benchBody, true)
})

var benchNetHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "1024")
	_, _ = w.Write(benchBody)
})

// clientRoundTrip is one GET through a Client.
func clientRoundTrip(b *testing.B, c *h2.Client, d *dialer, buf []byte) {
	s, err := c.NewStream(context.Background(), "bench", d.dial)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.WriteRequestHeader(mustRequest("GET", "/", "host", "bench"), true); err != nil {
		b.Fatal(err)
	}
	if _, err := s.ReadResponseHeader(); err != nil {
		b.Fatal(err)
	}
	for {
		_, err := s.ReadResponseBody(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = s.Close()
}

// transportRoundTrip is one GET through x/net/http2's Transport.
func transportRoundTrip(b *testing.B, tr *http2.Transport, url string, buf []byte) {
	req, _ := http.NewRequest("GET", url, nil)
	res, err := tr.RoundTrip(req)
	if err != nil {
		b.Fatal(err)
	}
	for {
		_, err := res.Body.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	_ = res.Body.Close()
}

// BenchmarkRoundTrip runs sequential GETs with a 1 KiB response over one
// loopback h2c connection, for each pairing of this package's Client and
// Server with x/net/http2's Transport and Server.
func BenchmarkRoundTrip(b *testing.B) {
	ours := startServer(b, h2.ServerOptions{}, benchHandler)
	theirs := startPeer(b, &http2.Server{}, benchNetHandler)
	buf := make([]byte, 32<<10)
	b.Run("client=pingora/server=pingora", func(b *testing.B) {
		c := newClient(b, h2.ClientOptions{})
		d := &dialer{addr: ours.addr}
		b.ReportAllocs()
		for b.Loop() {
			clientRoundTrip(b, c, d, buf)
		}
	})
	b.Run("client=pingora/server=xnet", func(b *testing.B) {
		c := newClient(b, h2.ClientOptions{})
		d := &dialer{addr: theirs}
		b.ReportAllocs()
		for b.Loop() {
			clientRoundTrip(b, c, d, buf)
		}
	})
	b.Run("client=xnet/server=pingora", func(b *testing.B) {
		tr := h2cTransport(b)
		b.ReportAllocs()
		for b.Loop() {
			transportRoundTrip(b, tr, "http://"+ours.addr+"/", buf)
		}
	})
	b.Run("client=xnet/server=xnet", func(b *testing.B) {
		tr := h2cTransport(b)
		b.ReportAllocs()
		for b.Loop() {
			transportRoundTrip(b, tr, "http://"+theirs+"/", buf)
		}
	})
}

// BenchmarkRoundTripParallel runs concurrent GETs multiplexed on one
// connection (the server allows 100 streams), ours beside x/net/http2's.
func BenchmarkRoundTripParallel(b *testing.B) {
	ours := startServer(b, h2.ServerOptions{}, benchHandler)
	theirs := startPeer(b, &http2.Server{MaxConcurrentStreams: 100}, benchNetHandler)
	b.Run("client=pingora/server=pingora", func(b *testing.B) {
		c := newClient(b, h2.ClientOptions{})
		d := &dialer{addr: ours.addr}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 32<<10)
			for pb.Next() {
				clientRoundTrip(b, c, d, buf)
			}
		})
		b.ReportMetric(float64(d.dials.Load()), "conns")
	})
	b.Run("client=xnet/server=xnet", func(b *testing.B) {
		tr := h2cTransport(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			buf := make([]byte, 32<<10)
			for pb.Next() {
				transportRoundTrip(b, tr, "http://"+theirs+"/", buf)
			}
		})
	})
}

// BenchmarkPeekPreface measures telling h2c from HTTP/1 on a new connection.
func BenchmarkPeekPreface(b *testing.B) {
	for _, tc := range []struct{ name, data string }{
		{"proto=h2", http2.ClientPreface},
		{"proto=http1", "GET / HTTP/1.1\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := &memConn{data: []byte(tc.data)}
				if _, _, err := h2.PeekPreface(c, deadlineFar); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
