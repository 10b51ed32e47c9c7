package connector_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	xhttp2 "golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// echoServer serves an echo on a loopback port until the returned func is
// called.
func echoServer() (addr string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String(), func() { ln.Close(); <-done }
}

func ExampleConnector_Get() {
	addr, stop := echoServer()
	defer stop()
	conns, err := connector.New(connector.Options{})
	if err != nil {
		panic(err)
	}
	defer conns.Close()

	p := peer.New(addr, false, "")
	for range 2 {
		conn, reused, err := conns.Get(context.Background(), p)
		if err != nil {
			panic(err)
		}
		fmt.Println("reused:", reused, "HTTP version:", conn.HTTPVersion())
		conns.Release(p, conn, true) // the exchange ended cleanly
	}
	// Output:
	// reused: false HTTP version: 1
	// reused: true HTTP version: 1
}

func ExampleConnector_Dial_refused() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nobody listens there now

	conns, _ := connector.New(connector.Options{})
	defer conns.Close()
	_, err := conns.Dial(context.Background(), peer.New(addr, false, ""))
	pe, _ := errors.AsType[*perr.Error](err)
	fmt.Println(pe.Type(), pe.Source(), "retry:", pe.Retry())
	// Output: ConnectRefused Upstream retry: true
}

func ExampleConnector_HTTP2Stream() {
	// An h2c server (HTTP/2 with prior knowledge) on loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	hs := &http.Server{Handler: h2c.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello over "+r.Proto)
	}), &xhttp2.Server{})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	conns, err := connector.New(connector.Options{})
	if err != nil {
		panic(err)
	}
	defer conns.Close()
	p := peer.New(ln.Addr().String(), false, "")
	p.ALPN = peer.ALPNH2 // plaintext + H2: h2c

	for range 2 {
		s, reused, err := conns.HTTP2Stream(context.Background(), p)
		if err != nil {
			panic(err) // errors.Is(err, perr.H2Downgrade): use HTTP1Session
		}
		req, _ := httpheader.NewRequest("GET", "/")
		_ = req.Set("Host", "example.com")
		_ = s.WriteRequestHeader(req, true)
		resp, err := s.ReadResponseHeader()
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(readerFunc(s.ReadResponseBody))
		s.Close()
		fmt.Println(resp.Status(), string(body), "reused:", reused)
	}
	// Output:
	// 200 hello over HTTP/2.0 reused: false
	// 200 hello over HTTP/2.0 reused: true
}
