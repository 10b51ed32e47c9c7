package httpheader_test

import (
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/pingora-go/pingora/httpheader"
)

// show prints wire bytes one line per line, with the CRLFs visible.
func show(wire []byte) {
	fmt.Print(strings.ReplaceAll(string(wire), "\r\n", "\\r\\n\n"))
}

// Build a request whose header names keep the case they were given, look one
// up case-insensitively, and write the request in HTTP/1 wire form.
func ExampleRequestHeader_AppendWire() {
	req, err := httpheader.NewRequest("GET", "/search?q=pingora")
	if err != nil {
		log.Fatal(err)
	}
	req.Add("Host", "example.com")
	req.Add("x-request-id", "a1b2")
	req.Add("Accept", "text/html")

	fmt.Println(req.Get("X-Request-ID"))
	show(req.AppendWire(nil))
	// Output:
	// a1b2
	// GET /search?q=pingora HTTP/1.1\r\n
	// Host: example.com\r\n
	// x-request-id: a1b2\r\n
	// Accept: text/html\r\n
	// \r\n
}

// Set replaces a field in place: the line keeps its position, takes the new
// name's case, and later lines with the same name go.
func ExampleHeader_Set() {
	resp, err := httpheader.NewResponse(200)
	if err != nil {
		log.Fatal(err)
	}
	resp.Add("server", "upstream")
	resp.Add("cache-control", "no-cache")
	resp.Add("Cache-Control", "private")
	resp.Add("Date", "Tue, 01 Dec 2026 03:00:00 GMT")

	if err := resp.Set("Cache-Control", "max-age=60"); err != nil {
		log.Fatal(err)
	}
	show(resp.AppendWire(nil))
	// Output:
	// HTTP/1.1 200 OK\r\n
	// server: upstream\r\n
	// Cache-Control: max-age=60\r\n
	// Date: Tue, 01 Dec 2026 03:00:00 GMT\r\n
	// \r\n
}

// Add keeps duplicate lines, such as several Set-Cookie, in order.
func ExampleHeader_Add() {
	var h httpheader.Header
	existed, _ := h.Add("Set-Cookie", "a=1")
	fmt.Println(existed)
	existed, _ = h.Add("set-cookie", "b=2")
	fmt.Println(existed)
	for v := range h.Values("SET-COOKIE") {
		fmt.Println(v)
	}
	_, err := h.Add("X-Bad", "evil\r\nInjected: yes")
	fmt.Println(err)
	// Output:
	// false
	// true
	// a=1
	// b=2
	// httpheader: invalid field value "evil\r\nInjected: yes"
}

// Converting to net/http canonicalises names and moves Host to
// Request.Host.
func ExampleRequestHeader_ToHTTPRequest() {
	req, err := httpheader.NewRequest("POST", "/api/items?id=7")
	if err != nil {
		log.Fatal(err)
	}
	req.Add("host", "api.example.com")
	req.Add("x-trace-id", "t-1")
	req.Add("Content-Length", "0")

	r, err := req.ToHTTPRequest()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Method, r.URL.Path, r.URL.RawQuery, r.Host)
	fmt.Println(r.Header.Get("X-Trace-Id"), r.Header["X-Trace-Id"], len(r.Header))

	back, err := httpheader.FromHTTPRequest(r)
	if err != nil {
		log.Fatal(err)
	}
	show(back.AppendWire(nil))
	// Output:
	// POST /api/items id=7 api.example.com
	// t-1 [t-1] 2
	// POST /api/items?id=7 HTTP/1.1\r\n
	// Host: api.example.com\r\n
	// Content-Length: 0\r\n
	// X-Trace-Id: t-1\r\n
	// \r\n
}

// A parser fills a reusable request from its read buffer through the byte
// entry points; after warm-up this allocates nothing.
func ExampleHeader_AppendBytes() {
	var req httpheader.RequestHeader
	buf := []byte("GET /a HTTP/1.1\r\nHOST: x\r\n\r\n") // stand-in for a read buffer
	_ = req.SetMethodBytes(buf[0:3])
	_ = req.SetRawTarget(buf[4:6])
	if err := req.AppendBytes(buf[17:21], buf[23:24]); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %s %q\n", req.Method(), req.RawTarget(), req.GetBytes("host"))
	fmt.Println(string(req.AppendWire(nil)) == string(buf))
	// Output:
	// GET /a "x"
	// true
}

// FromHTTPHeader adds lines in sorted name order: net/http kept no order.
func ExampleFromHTTPHeader() {
	h, err := httpheader.FromHTTPHeader(http.Header{"X-B": {"2"}, "X-A": {"1", "3"}})
	if err != nil {
		log.Fatal(err)
	}
	for name, value := range h.All() {
		fmt.Println(name, value)
	}
	// Output:
	// X-A 1
	// X-A 3
	// X-B 2
}
