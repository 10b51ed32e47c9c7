package l4_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/pingora-go/pingora/l4"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
)

// A TCP proxy in front of an upstream that answers in upper case, with an
// access log through OnClose.
func Example() {
	up, _ := net.Listen("tcp", "127.0.0.1:0")
	defer up.Close()
	go func() {
		c, err := up.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		_, _ = c.Write([]byte(strings.ToUpper(string(b))))
	}()

	logged := make(chan string, 1)
	p, err := l4.New(l4.Options{
		Upstream: func(ctx context.Context, info *l4.ConnInfo, attempt int) (*peer.Peer, error) {
			return peer.New(up.Addr().String(), false, ""), nil
		},
		OnClose: func(info *l4.ConnInfo, pr *peer.Peer, st l4.Stats, err error) {
			logged <- fmt.Sprintf("%d bytes in, %d bytes out, error %v", st.BytesFromClient, st.BytesToClient, err)
		},
	})
	if err != nil {
		panic(err)
	}
	defer p.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, _ := listener.Listen(ctx, listener.Config{Addr: "127.0.0.1:0"})
	defer ln.Close()
	go func() {
		for {
			c, err := ln.AcceptConn()
			if err != nil {
				return
			}
			go p.ServeConn(ctx, c, nil) // normally the server does this
		}
	}()

	c, _ := net.Dial("tcp", ln.Addr().String())
	defer c.Close()
	_, _ = c.Write([]byte("hello, upstream"))
	_ = c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c)
	fmt.Println(string(b))
	fmt.Println(<-logged)
	// Output:
	// HELLO, UPSTREAM
	// 15 bytes in, 15 bytes out, error <nil>
}

// ParseClientHello reads the server name and ALPN protocols a TLS client
// sends, without terminating TLS.
func ExampleParseClientHello() {
	a, b := net.Pipe()
	go func() {
		_ = tls.Client(a, &tls.Config{ServerName: "API.example.com", NextProtos: []string{"h2", "http/1.1"}}).Handshake()
		a.Close()
	}()
	defer b.Close()

	buf := make([]byte, 0, 16<<10)
	for {
		n, err := b.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		sni, alpn, perr := l4.ParseClientHello(buf)
		if perr == l4.ErrNeedMore && err == nil {
			continue
		}
		fmt.Println(sni, alpn, perr)
		return
	}
	// Output: api.example.com [h2 http/1.1] <nil>
}
