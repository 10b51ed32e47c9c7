package proxy_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/peer"
)

// benchOrigin is an allocation-free HTTP/1.1 origin answering every
// request with a fixed 5-byte body, so that allocations counted by the
// benchmark are the proxy's.
func benchOrigin(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				n := 0
				for {
					m, err := c.Read(buf[n:])
					if err != nil {
						return
					}
					n += m
					for {
						i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
						if i < 0 {
							break
						}
						if _, err := c.Write(resp); err != nil {
							return
						}
						n = copy(buf, buf[i+4:n])
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// benchClient sends GETs on one keep-alive connection and reads each
// response up to its "hello" body.
func runClient(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET /small HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		n := 0
		for !bytes.HasSuffix(buf[:n], []byte("hello")) {
			m, err := c.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
	}
}

// BenchmarkProxy_SmallGET is the hot path: one proxied small GET over
// loopback keep-alive connections (client→proxy and proxy→origin), beside
// net/http/httputil.ReverseProxy in the same run.
func BenchmarkProxy_SmallGET(b *testing.B) {
	origin := benchOrigin(b)
	b.Run("impl=pingora", func(b *testing.B) {
		pr := peer.New(origin, false, "")
		p, err := proxy.New(proxy.Hooks[struct{}]{
			UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
		}, proxy.Options{})
		if err != nil {
			b.Fatal(err)
		}
		hs := serve(b, p, nil)
		hs.cleanup = p.Cleanup
		runClient(b, hs.Addr)
	})
	b.Run("impl=httputil", func(b *testing.B) {
		u, _ := url.Parse("http://" + origin)
		rp := httputil.NewSingleHostReverseProxy(u)
		rp.ErrorLog = nil
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: rp, ErrorLog: nil}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Shutdown(context.Background())
		runClient(b, ln.Addr().String())
	})
}

// BenchmarkProxy_Body streams bodies of growing size through the proxy
// (memory stays flat: bodies are copied through fixed buffers).
func BenchmarkProxy_Body(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run("n="+itoa(size), func(b *testing.B) {
			body := bytes.Repeat([]byte("x"), size)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write(body)
			})}
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			pr := peer.New(ln.Addr().String(), false, "")
			p, _ := proxy.New(proxy.Hooks[struct{}]{
				UpstreamPeer: func(*proxy.Session, *struct{}) (*peer.Peer, error) { return pr, nil },
			}, proxy.Options{})
			hs := serve(b, p, nil)
			hs.cleanup = p.Cleanup
			c := &http.Client{}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get("http://" + hs.Addr + "/")
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

func itoa(n int) string {
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
