package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/listener"
	"github.com/pingora-go/pingora/server/peer"
)

// A minimal load-balancing proxy on loopback: requests alternate between
// two origins, a response header names the backend, and a failed connect
// moves on to the next backend.
func Example_loadBalancer() {
	var backends []*peer.Peer
	for _, name := range []string{"one", "two"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s served %s", name, r.URL.Path)
		}))
		defer srv.Close()
		backends = append(backends, peer.New(strings.TrimPrefix(srv.URL, "http://"), false, ""))
	}
	var next atomic.Uint64
	type ctx struct{ backend *peer.Peer }
	p, err := proxy.New(proxy.Hooks[ctx]{
		UpstreamPeer: func(s *proxy.Session, c *ctx) (*peer.Peer, error) {
			c.backend = backends[(next.Add(1)-1)%uint64(len(backends))]
			return c.backend, nil
		},
		ResponseFilter: func(s *proxy.Session, resp *httpheader.ResponseHeader, c *ctx) error {
			return resp.Set("X-Backend", c.backend.Addr)
		},
	}, proxy.Options{Via: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Cleanup()

	// Serve on loopback (a server.ListeningService does this in a program).
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	shutdown := make(chan struct{})
	defer close(shutdown)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.ServeConn(context.Background(), &listener.Conn{Conn: c, Raw: c, Accepted: time.Now()}, shutdown)
		}
	}()

	client := &http.Client{}
	for _, path := range []string{"/a", "/b", "/c"} {
		resp, err := client.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body), resp.Header.Get("Via"))
	}
	client.CloseIdleConnections()
	// Output:
	// 200 one served /a 1.1 example
	// 200 two served /b 1.1 example
	// 200 one served /c 1.1 example
}
