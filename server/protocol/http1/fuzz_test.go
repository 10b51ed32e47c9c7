package http1_test

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"testing"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
)

// FuzzParseRequest checks that the parser never panics, returns a proper
// error or a head that re-parses to the same thing, and that every request
// it accepts net/http accepts too (it is the stricter of the two).
func FuzzParseRequest(f *testing.F) {
	for _, raw := range validRequests {
		f.Add([]byte(raw))
	}
	for _, tc := range ruleCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var req httpheader.RequestHeader
		n, err := http1.ParseRequest(in, &req, nil)
		if err != nil {
			if errors.Is(err, http1.ErrIncomplete) {
				return
			}
			var pe *perr.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error not a *perr.Error: %v", err)
			}
			if st := perr.StatusCode(err); st < 400 || st > 505 {
				t.Fatalf("status %d for %q", st, in)
			}
			return
		}
		if n <= 0 || n > len(in) {
			t.Fatalf("n = %d of %d", n, len(in))
		}
		if _, err := http1.RequestBody(&req); err != nil {
			t.Fatalf("accepted head with bad framing: %v", err)
		}
		// The stored head written back parses to the same wire form.
		wire := req.AppendWire(nil)
		var again httpheader.RequestHeader
		m, err := http1.ParseRequest(wire, &again, nil)
		if err != nil || m != len(wire) || !bytes.Equal(again.AppendWire(nil), wire) {
			t.Fatalf("round trip: %v, %q vs %q", err, wire, again.AppendWire(nil))
		}
		// net/http must accept what we accept (we are stricter), except for
		// what RFC 9112 and 9110 allow and net/http does not: empty lines
		// before the request line (§2.2), Content-Length as a list of
		// identical values (§6.3(5)) and empty list elements in
		// Transfer-Encoding (RFC 9110 §5.6.1.2).
		head := bytes.TrimLeft(in[:n], "\r\n")
		for v := range req.ValuesBytes("Content-Length") {
			if bytes.IndexByte(v, ',') >= 0 {
				return
			}
		}
		if _, err := url.ParseRequestURI(string(req.RawTarget())); err != nil && req.Method() != "CONNECT" {
			return // the codec keeps targets raw; net/http parses them as URLs
		}
		for v := range req.ValuesBytes("Transfer-Encoding") {
			if !bytes.EqualFold(v, []byte("chunked")) {
				return
			}
		}
		if _, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head))); err != nil {
			t.Fatalf("accepted what net/http rejects (%v): %q", err, head)
		}
	})
}

// FuzzParseResponse checks the response parser never panics and that what
// it accepts round-trips.
func FuzzParseResponse(f *testing.F) {
	for _, tc := range validResponses {
		f.Add([]byte(tc.raw))
	}
	f.Add([]byte("HTTP/1.1 200\r\nX: y\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var resp httpheader.ResponseHeader
		n, err := http1.ParseResponse(in, &resp, nil)
		if err != nil {
			if !errors.Is(err, http1.ErrIncomplete) && perr.StatusCode(err) != 502 {
				t.Fatalf("status %d", perr.StatusCode(err))
			}
			return
		}
		if n <= 0 || n > len(in) {
			t.Fatalf("n = %d of %d", n, len(in))
		}
		_, _ = http1.ResponseBody(nil, &resp)
		wire := resp.AppendWire(nil)
		var again httpheader.ResponseHeader
		if m, err := http1.ParseResponse(wire, &again, nil); err != nil || m != len(wire) {
			t.Fatalf("round trip: %v, %q", err, wire)
		}
	})
}

// FuzzChunkedDecoder checks the decoder never panics, never returns more
// data than it consumed, and decodes the same whether fed whole or byte by
// byte.
func FuzzChunkedDecoder(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\n\r\n"), uint8(1))
	f.Add([]byte("3;ext=1\r\nabc\r\n0\r\nX: y\r\n\r\nrest"), uint8(2))
	f.Add([]byte("ffffffffffffffff\r\n"), uint8(3))
	f.Add([]byte("3\nabc\r\n0\r\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		var whole http1.ChunkedDecoder
		body1, rest1, err1 := decodeAll(&whole, string(in), len(in)+1)
		var split http1.ChunkedDecoder
		body2, rest2, err2 := decodeAll(&split, string(in), int(step%16)+1)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole: %v, split by %d: %v", err1, step%16+1, err2)
		}
		if err1 == nil && (body1 != body2 || rest1 != rest2) {
			t.Fatalf("different results: %q/%q vs %q/%q", body1, rest1, body2, rest2)
		}
		if err1 == nil && len(body1)+len(rest1) > len(in) {
			t.Fatalf("more output than input")
		}
	})
}
