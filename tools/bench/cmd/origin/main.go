// Command origin is the upstream of the proxy benchmark: a small HTTP/1.1
// server on raw sockets that answers every request with 200 and a body of
// the size its path names, so that the origin costs as little CPU as
// possible and the proxy under test is what the benchmark measures.
//
//	origin -addr 127.0.0.1:8000
//	curl http://127.0.0.1:8000/65536   # 64 KiB body of 'x'
//
// GET /N answers N bytes (0 ≤ N ≤ 64 MiB); any other path answers -size
// bytes. Responses are built once per size and written with one Write.
// Keep-alive and pipelining are supported; a request body announced by
// Content-Length is read and dropped; "Connection: close" closes after the
// response; anything unparsable gets 400 and a close. The bound address
// is printed on stdout ("listening on ADDR") once the socket listens.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
)

const (
	maxBody   = 64 << 20 // largest body a path may ask for
	maxHeader = 64 << 10 // largest request header block
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "listen address (port 0: any free port)")
	size := flag.Int("size", 100, "body size in bytes for paths that are not /N")
	flag.Parse()
	if *size < 0 || *size > maxBody {
		log.Fatalf("origin: -size %d out of range [0, %d]", *size, maxBody)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("origin: %v", err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()
	o := &origin{def: *size}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatalf("origin: %v", err)
		}
		go o.serve(c)
	}
}

type origin struct {
	def   int
	resps sync.Map // int -> []byte, a whole response
}

var badRequest = []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

// response returns the complete response with an n-byte body.
func (o *origin) response(n int) []byte {
	if r, ok := o.resps.Load(n); ok {
		return r.([]byte)
	}
	hdr := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + strconv.Itoa(n) + "\r\n\r\n"
	r := make([]byte, len(hdr)+n)
	copy(r, hdr)
	for i := len(hdr); i < len(r); i++ {
		r[i] = 'x'
	}
	v, _ := o.resps.LoadOrStore(n, r)
	return v.([]byte)
}

// serve answers the requests of one connection in order.
func (o *origin) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 4096)
	n := 0
	for {
		end := bytes.Index(buf[:n], []byte("\r\n\r\n"))
		if end < 0 {
			if n == len(buf) {
				if len(buf) >= maxHeader {
					c.Write(badRequest)
					return
				}
				buf = append(buf, make([]byte, len(buf))...)
			}
			m, err := c.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
			continue
		}
		req, err := parse(buf[:end+2])
		if err != nil {
			c.Write(badRequest)
			return
		}
		size := o.def
		if req.size >= 0 {
			size = req.size
		}
		if _, err := c.Write(o.response(size)); err != nil {
			return
		}
		// Drop the request body: first what is buffered, then the rest.
		rest := buf[end+4 : n]
		skip := min(req.bodyLen, int64(len(rest)))
		n = copy(buf, rest[skip:])
		if left := req.bodyLen - skip; left > 0 {
			if _, err := io.CopyN(io.Discard, c, left); err != nil {
				return
			}
		}
		if req.close {
			return
		}
	}
}

// request is what the origin needs of a request header.
type request struct {
	size    int   // body size asked for by the path, -1 if none
	bodyLen int64 // request Content-Length
	close   bool  // Connection: close, or HTTP/1.0 without keep-alive
}

var errBadRequest = errors.New("origin: bad request")

// parse reads the request line and the fields of one header block (each
// line ending in CRLF).
func parse(h []byte) (request, error) {
	r := request{size: -1}
	line, h, ok := bytes.Cut(h, []byte("\r\n"))
	if !ok {
		return r, errBadRequest
	}
	parts := bytes.Fields(line)
	if len(parts) != 3 || !bytes.HasPrefix(parts[2], []byte("HTTP/1.")) {
		return r, errBadRequest
	}
	http10 := string(parts[2]) == "HTTP/1.0"
	keepAlive := false
	if p := parts[1]; len(p) > 1 && p[0] == '/' {
		if v, err := strconv.Atoi(string(p[1:])); err == nil && v >= 0 && v <= maxBody {
			r.size = v
		}
	}
	for len(h) > 0 {
		line, h, _ = bytes.Cut(h, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return r, errBadRequest
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			v, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || v < 0 {
				return r, errBadRequest
			}
			r.bodyLen = v
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return r, errBadRequest // chunked request bodies are not needed here
		case bytes.EqualFold(name, []byte("Connection")):
			r.close = r.close || bytes.EqualFold(value, []byte("close"))
			keepAlive = keepAlive || bytes.EqualFold(value, []byte("keep-alive"))
		}
	}
	if http10 && !keepAlive {
		r.close = true
	}
	return r, nil
}
