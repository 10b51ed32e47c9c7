package httpheader_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

// The browser-request workload, the same for every implementation: build the
// 12-line request of browserFields, look up five names (four hits, one
// miss), delete one, and write the head in HTTP/1 wire form into a reused
// buffer.
var (
	lookups = []string{"host", "user-agent", "cookie", "accept-encoding"}
	miss    = "authorization"
	deleted = "Upgrade-Insecure-Requests"
)

var sink int

func BenchmarkBrowserRequest(b *testing.B) {
	// Ours, string API, one RequestHeader reused across requests (as a
	// connection does). Get hands out strings, so each Reset starts a fresh
	// buffer: 1 allocation per request.
	b.Run("impl=httpheader", func(b *testing.B) {
		b.ReportAllocs()
		var req httpheader.RequestHeader
		out := make([]byte, 0, 1024)
		for b.Loop() {
			req.Reset()
			_ = req.SetMethod("GET")
			_ = req.SetTarget(browserTarget)
			for _, f := range browserFields {
				_, _ = req.Add(f[0], f[1])
			}
			for _, name := range lookups {
				sink += len(req.Get(name))
			}
			if req.Has(miss) {
				sink++
			}
			req.Del(deleted)
			out = req.AppendWire(out[:0])
		}
		sink += len(out)
	})
	// Ours, the parser's path: byte-slice entry points and GetBytes. No
	// string is handed out, so nothing is allocated after warm-up.
	b.Run("impl=httpheader-bytes", func(b *testing.B) {
		b.ReportAllocs()
		var req httpheader.RequestHeader
		method, target := []byte("GET"), []byte(browserTarget)
		fields := make([][2][]byte, len(browserFields))
		for i, f := range browserFields {
			fields[i] = [2][]byte{[]byte(f[0]), []byte(f[1])}
		}
		out := make([]byte, 0, 1024)
		for b.Loop() {
			req.Reset()
			_ = req.SetMethodBytes(method)
			_ = req.SetRawTarget(target)
			for _, f := range fields {
				_ = req.AppendBytes(f[0], f[1])
			}
			for _, name := range lookups {
				sink += len(req.GetBytes(name))
			}
			if req.Has(miss) {
				sink++
			}
			req.Del(deleted)
			out = req.AppendWire(out[:0])
		}
		sink += len(out)
	})
	// Ours with a new RequestHeader per request.
	b.Run("impl=httpheader-fresh", func(b *testing.B) {
		b.ReportAllocs()
		out := make([]byte, 0, 1024)
		for b.Loop() {
			req, _ := httpheader.NewRequest("GET", browserTarget)
			for _, f := range browserFields {
				_, _ = req.Add(f[0], f[1])
			}
			for _, name := range lookups {
				sink += len(req.Get(name))
			}
			if req.Has(miss) {
				sink++
			}
			req.Del(deleted)
			out = req.AppendWire(out[:0])
		}
		sink += len(out)
	})
	// net/http with one map reused (cleared) across requests: its best case.
	b.Run("impl=net-http", func(b *testing.B) {
		b.ReportAllocs()
		h := make(http.Header, 16)
		var out bytes.Buffer
		for b.Loop() {
			clear(h)
			netHTTPWork(h, &out)
		}
		sink += out.Len()
	})
	// net/http with a new map per request, as its server does.
	b.Run("impl=net-http-fresh", func(b *testing.B) {
		b.ReportAllocs()
		var out bytes.Buffer
		for b.Loop() {
			netHTTPWork(make(http.Header), &out)
		}
		sink += out.Len()
	})
}

func netHTTPWork(h http.Header, out *bytes.Buffer) {
	for _, f := range browserFields {
		h.Add(f[0], f[1])
	}
	for _, name := range lookups {
		sink += len(h.Get(name))
	}
	if _, ok := h[http.CanonicalHeaderKey(miss)]; ok {
		sink++
	}
	h.Del(deleted)
	out.Reset()
	out.WriteString("GET ")
	out.WriteString(browserTarget)
	out.WriteString(" HTTP/1.1\r\n")
	_ = h.Write(out)
	out.WriteString("\r\n")
}

// fieldsN returns a header of n lines whose last line is "Content-Length".
func fieldsN(b *testing.B, n int) (*httpheader.Header, http.Header) {
	h, hh := new(httpheader.Header), http.Header{}
	for i := 0; i < n-1; i++ {
		name := "X-Custom-Header-" + strconv.Itoa(i)
		if _, err := h.Add(name, "value"); err != nil {
			b.Fatal(err)
		}
		hh.Add(name, "value")
	}
	if _, err := h.Add("Content-Length", "1234"); err != nil {
		b.Fatal(err)
	}
	hh.Add("Content-Length", "1234")
	return h, hh
}

// Get of a well-known name on the last line (worst case for a linear scan)
// and of a missing name, against net/http's map.
func BenchmarkHeader_Get(b *testing.B) {
	for _, n := range []int{4, 16, 64} {
		h, hh := fieldsN(b, n)
		b.Run(fmt.Sprintf("impl=httpheader/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink += len(h.Get("content-length"))
			}
		})
		b.Run(fmt.Sprintf("impl=httpheader-miss/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink += len(h.Get("content-type"))
			}
		})
		b.Run(fmt.Sprintf("impl=net-http/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sink += len(hh.Get("content-length"))
			}
		})
	}
}

// Add of twelve well-known lines into a reused header.
func BenchmarkHeader_Add(b *testing.B) {
	b.Run("impl=httpheader", func(b *testing.B) {
		b.ReportAllocs()
		var h httpheader.Header
		for b.Loop() {
			h.Reset()
			for _, f := range browserFields {
				_, _ = h.Add(f[0], f[1])
			}
		}
	})
	b.Run("impl=net-http", func(b *testing.B) {
		b.ReportAllocs()
		h := make(http.Header, 16)
		for b.Loop() {
			clear(h)
			for _, f := range browserFields {
				h.Add(f[0], f[1])
			}
		}
	})
}

// Set of an existing line (in place).
func BenchmarkHeader_Set(b *testing.B) {
	h, hh := fieldsN(b, 12)
	b.Run("impl=httpheader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = h.Set("Content-Length", "5678")
		}
	})
	b.Run("impl=net-http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hh.Set("Content-Length", "5678")
		}
	})
}

// AppendWire of n lines, after an edit (so lines are not contiguous) and
// fresh (the buffer is the wire form).
func BenchmarkHeader_AppendWire(b *testing.B) {
	for _, n := range []int{12, 64} {
		h, hh := fieldsN(b, n)
		out := make([]byte, 0, 64*n)
		b.Run(fmt.Sprintf("impl=httpheader/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out = h.AppendWire(out[:0])
			}
		})
		edited := h.Clone()
		_ = edited.Set("X-Custom-Header-1", "changed")
		b.Run(fmt.Sprintf("impl=httpheader-edited/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out = edited.AppendWire(out[:0])
			}
		})
		var buf bytes.Buffer
		b.Run(fmt.Sprintf("impl=net-http/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				_ = hh.Write(&buf)
			}
		})
	}
}

func BenchmarkRequestHeader_Clone(b *testing.B) {
	req := browserRequest(b)
	r := &http.Request{Header: req.ToHTTPHeader()}
	b.Run("impl=httpheader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink += req.Clone().Len()
		}
	})
	b.Run("impl=net-http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink += len(r.Header.Clone())
		}
	})
}

func BenchmarkFromHTTPRequest(b *testing.B) {
	r, err := browserRequest(b).ToHTTPRequest()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req, err := httpheader.FromHTTPRequest(r)
		if err != nil {
			b.Fatal(err)
		}
		sink += req.Len()
	}
}

func BenchmarkRequestHeader_ToHTTPRequest(b *testing.B) {
	req := browserRequest(b)
	b.ReportAllocs()
	for b.Loop() {
		r, err := req.ToHTTPRequest()
		if err != nil {
			b.Fatal(err)
		}
		sink += len(r.Header)
	}
}
