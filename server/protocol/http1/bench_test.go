package http1_test

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
)

// browserRequest is what a desktop browser sends for a page.
var browserRequest = []byte("GET /products/shoes/index.html?color=blue&size=42 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://www.example.com/products/\r\n" +
	"Connection: keep-alive\r\n" +
	"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=1\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Priority: u=0, i\r\n" +
	"\r\n")

// originResponse is what an origin answers for it (head only).
var originResponse = []byte("HTTP/1.1 200 OK\r\n" +
	"Date: Tue, 01 Dec 2026 03:00:00 GMT\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Length: 14523\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: max-age=600\r\n" +
	"ETag: \"5f2b-61a9c3d2e4f80\"\r\n" +
	"Last-Modified: Mon, 30 Nov 2026 12:00:00 GMT\r\n" +
	"Vary: Accept-Encoding\r\n" +
	"Server: nginx\r\n" +
	"X-Frame-Options: SAMEORIGIN\r\n" +
	"Strict-Transport-Security: max-age=31536000\r\n" +
	"\r\n")

func BenchmarkParseRequest(b *testing.B) {
	b.Run("impl=http1", func(b *testing.B) {
		var req httpheader.RequestHeader
		b.SetBytes(int64(len(browserRequest)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := http1.ParseRequest(browserRequest, &req, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=nethttp", func(b *testing.B) {
		rd := bytes.NewReader(browserRequest)
		br := bufio.NewReader(rd)
		b.SetBytes(int64(len(browserRequest)))
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(browserRequest)
			br.Reset(rd)
			if _, err := http.ReadRequest(br); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParseResponse(b *testing.B) {
	b.Run("impl=http1", func(b *testing.B) {
		var resp httpheader.ResponseHeader
		b.SetBytes(int64(len(originResponse)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := http1.ParseResponse(originResponse, &resp, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=nethttp", func(b *testing.B) {
		rd := bytes.NewReader(originResponse)
		br := bufio.NewReader(rd)
		req, _ := http.NewRequest("GET", "http://www.example.com/", nil)
		b.SetBytes(int64(len(originResponse)))
		b.ReportAllocs()
		for b.Loop() {
			rd.Reset(originResponse)
			br.Reset(rd)
			if _, err := http.ReadResponse(br, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkParseRequest_Fields sweeps the number of header fields.
func BenchmarkParseRequest_Fields(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		var sb strings.Builder
		sb.WriteString("GET / HTTP/1.1\r\nHost: h\r\n")
		for i := range n {
			sb.WriteString("X-Field-" + strconv.Itoa(i) + ": some value here\r\n")
		}
		sb.WriteString("\r\n")
		raw := []byte(sb.String())
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			var req httpheader.RequestHeader
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := http1.ParseRequest(raw, &req, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkChunkedDecoder(b *testing.B) {
	for _, size := range []int{64, 4096} {
		var sb strings.Builder
		chunk := strings.Repeat("x", size)
		for range 16 {
			sb.WriteString(strconv.FormatInt(int64(size), 16) + "\r\n" + chunk + "\r\n")
		}
		sb.WriteString("0\r\n\r\n")
		raw := []byte(sb.String())
		b.Run("chunk="+strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			var d http1.ChunkedDecoder
			for b.Loop() {
				d.Reset()
				src := raw
				for !d.Done() {
					n, _, err := d.Decode(src)
					if err != nil {
						b.Fatal(err)
					}
					src = src[n:]
				}
			}
		})
	}
}

// loopConn is a net.Conn that serves the same request bytes forever and
// discards writes, to measure the session code without the kernel.
type loopConn struct {
	net.Conn // nil: only the methods below are used
	in       []byte
	off      int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := copy(p, c.in[c.off:])
	c.off = (c.off + n) % len(c.in)
	return n, nil
}
func (c *loopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }
func (c *loopConn) SetDeadline(time.Time) error      { return nil }
func (c *loopConn) Close() error                     { return nil }

// BenchmarkServerSession_Exchange is one keep-alive exchange: read a
// browser request, write a 200 with a small body, finish.
func BenchmarkServerSession_Exchange(b *testing.B) {
	s := http1.NewServerSession(&loopConn{in: browserRequest}, nil)
	resp, _ := httpheader.NewResponse(200)
	_ = resp.SetContentLength(5)
	body := []byte("hello")
	b.ReportAllocs()
	for b.Loop() {
		ok, err := s.ReadRequest()
		if !ok || err != nil {
			b.Fatal(ok, err)
		}
		if err := s.WriteResponseHeader(resp); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Write(body); err != nil {
			b.Fatal(err)
		}
		if err := s.FinishResponse(nil); err != nil {
			b.Fatal(err)
		}
		if !s.Finish() {
			b.Fatal("not reused")
		}
	}
}
