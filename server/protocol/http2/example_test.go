package http2_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/pingora-go/pingora/httpheader"
	h2 "github.com/pingora-go/pingora/server/protocol/http2"
)

// A Server answering over h2c and a Client multiplexing requests to it.
func Example() {
	srv, err := h2.NewServer(h2.ServerOptions{})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(ctx, conn, h2.HandlerFunc(func(s *h2.Session) {
				resp, _ := httpheader.NewResponse(200)
				_, _ = resp.Add("Content-Type", "text/plain")
				_ = s.WriteResponseHeader(resp, false)
				_ = s.WriteBody([]byte("hello "+s.Request().Path()), true)
			}))
		}
	}()

	client, err := h2.NewClient(h2.ClientOptions{})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
	s, err := client.NewStream(ctx, "127.0.0.1/h2c", dial)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	req, _ := httpheader.NewRequest("GET", "/world")
	_, _ = req.Add("Host", "example.com")
	if err := s.WriteRequestHeader(req, true); err != nil {
		panic(err)
	}
	resp, err := s.ReadResponseHeader()
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(bodyOf(s))
	fmt.Println(resp.Status(), resp.Get("content-type"), string(body))
	// Output: 200 text/plain hello /world
}

type streamBody struct{ s *h2.Stream }

func (b streamBody) Read(p []byte) (int, error) { return b.s.ReadResponseBody(p) }

func bodyOf(s *h2.Stream) io.Reader { return streamBody{s} }

// PeekPreface routes a connection on a port that serves HTTP/1 and h2c.
func ExamplePeekPreface() {
	client, server := net.Pipe()
	go func() {
		_, _ = client.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
		_ = client.Close()
	}()
	isH2, conn, err := h2.PeekPreface(server, deadlineFar)
	if err != nil {
		panic(err)
	}
	line := make([]byte, 14)
	_, _ = io.ReadFull(conn, line) // the peeked bytes are replayed
	fmt.Println(isH2, string(line))
	// Output: false GET / HTTP/1.1
}

// A proxy-style handler: the head waits for the body, which follows at
// once, so head and body leave in one write; before waiting on anything
// slow, Flush sends the head.
func ExampleSession_BufferResponseHeader() {
	srv, err := h2.NewServer(h2.ServerOptions{})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.ServeConn(ctx, conn, h2.HandlerFunc(func(s *h2.Session) {
				resp, _ := httpheader.NewResponse(200)
				_, _ = resp.Add("Content-Length", "5")
				if err := s.BufferResponseHeader(resp); err != nil {
					return
				}
				// (Before a slow upstream read: _ = s.Flush().)
				_ = s.WriteBody([]byte("hello"), true)
			}))
		}
	}()

	client, err := h2.NewClient(h2.ClientOptions{})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	s, err := client.NewStream(ctx, "example", func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	req, _ := httpheader.NewRequest("GET", "/")
	_, _ = req.Add("Host", "example.com")
	if err := s.WriteRequestHeader(req, true); err != nil {
		panic(err)
	}
	resp, err := s.ReadResponseHeader()
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(bodyOf(s))
	fmt.Println(resp.Status(), resp.Get("content-length"), string(body))
	// Output: 200 5 hello
}
