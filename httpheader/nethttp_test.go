package httpheader_test

import (
	"bufio"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

func TestFromHTTPHeader(t *testing.T) {
	hh := http.Header{
		"X-B":          {"2"},
		"Content-Type": {"text/plain"},
		"Set-Cookie":   {"a=1", " b=2 "},
	}
	h, err := httpheader.FromHTTPHeader(hh)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, h, "Content-Type: text/plain", "Set-Cookie: a=1", "Set-Cookie: b=2", "X-B: 2")

	for _, bad := range []http.Header{{"Bad Name": {"v"}}, {"X": {"a\r\nb"}}} {
		if _, err := httpheader.FromHTTPHeader(bad); err == nil {
			t.Errorf("FromHTTPHeader(%v) = nil error", bad)
		}
	}
}

func TestHeader_ToHTTPHeader(t *testing.T) {
	h := mustHeader(t, "x-request-id: 1", "SET-COOKIE: a", "Host: h", "set-cookie: b")
	got := h.ToHTTPHeader()
	want := http.Header{"X-Request-Id": {"1"}, "Set-Cookie": {"a", "b"}, "Host": {"h"}}
	if len(got) != len(want) {
		t.Fatalf("ToHTTPHeader = %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Fatalf("ToHTTPHeader[%q] = %q, want %q", k, got[k], v)
		}
	}
}

// A request read by net/http's server-side reader converts with its raw
// target, version, Host and framing restored.
func TestFromHTTPRequest_Server(t *testing.T) {
	raw := "POST /up%20load?x=1 HTTP/1.1\r\nHost: example.com\r\nx-trace: t1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req, err := httpheader.FromHTTPRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	want := "POST /up%20load?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Trace: t1\r\nTransfer-Encoding: chunked\r\n\r\n"
	if got := string(req.AppendWire(nil)); got != want {
		t.Fatalf("AppendWire = %q\nwant %q", got, want)
	}
}

func TestFromHTTPRequest_Client(t *testing.T) {
	r, err := http.NewRequest("PUT", "http://example.com:8080/a/b?c=d", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "text/plain")
	req, err := httpheader.FromHTTPRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	want := "PUT /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
	if got := string(req.AppendWire(nil)); got != want {
		t.Fatalf("AppendWire = %q\nwant %q", got, want)
	}

	connect := &http.Request{Method: "CONNECT", URL: &url.URL{Host: "db.internal:5432"}, Header: http.Header{}}
	req, err = httpheader.FromHTTPRequest(connect)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(req.AppendWire(nil)); got != "CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n" {
		t.Fatalf("CONNECT = %q", got)
	}

	bad := &http.Request{Method: "GET", URL: &url.URL{Path: "/"}, Header: http.Header{"X": {"a\nb"}}}
	if _, err := httpheader.FromHTTPRequest(bad); !errors.Is(err, httpheader.ErrInvalidValue) {
		t.Fatalf("bad header error = %v", err)
	}
	badProto := &http.Request{Method: "GET", URL: &url.URL{Path: "/"}, ProtoMajor: 11}
	if _, err := httpheader.FromHTTPRequest(badProto); !errors.Is(err, httpheader.ErrInvalidVersion) {
		t.Fatalf("bad proto error = %v", err)
	}
}

func TestRequestHeader_ToHTTPRequest(t *testing.T) {
	req, err := httpheader.NewRequest("POST", "/submit?id=3")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range [][2]string{{"host", "example.org"}, {"content-length", "12"}, {"x-a", "1"}, {"X-A", "2"}} {
		if _, err := req.Add(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	r, err := req.ToHTTPRequest()
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != "POST" || r.RequestURI != "/submit?id=3" || r.URL.Path != "/submit" || r.URL.RawQuery != "id=3" ||
		r.Host != "example.org" || r.ContentLength != 12 || r.Proto != "HTTP/1.1" || r.ProtoMajor != 1 || r.ProtoMinor != 1 {
		t.Fatalf("ToHTTPRequest = %+v", r)
	}
	if r.Header.Get("Host") != "" || !slices.Equal(r.Header["X-A"], []string{"1", "2"}) {
		t.Fatalf("Header = %v", r.Header)
	}

	connect, err := httpheader.NewRequest("CONNECT", "example.com:443")
	if err != nil {
		t.Fatal(err)
	}
	r, err = connect.ToHTTPRequest()
	if err != nil || r.Host != "example.com:443" || r.URL.Host != "example.com:443" {
		t.Fatalf("CONNECT ToHTTPRequest = %+v, %v", r, err)
	}

	chunked, err := httpheader.NewRequest("POST", "http://h.example/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chunked.Add("Transfer-Encoding", "chunked"); err != nil {
		t.Fatal(err)
	}
	r, err = chunked.ToHTTPRequest()
	if err != nil || r.ContentLength != -1 || r.Host != "h.example" {
		t.Fatalf("chunked ToHTTPRequest = %+v, %v", r, err)
	}

	bad, err := httpheader.NewRequest("GET", "%zz")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.ToHTTPRequest(); !errors.Is(err, httpheader.ErrInvalidTarget) {
		t.Fatalf("bad target error = %v", err)
	}
}

func TestFromHTTPResponse(t *testing.T) {
	raw := "HTTP/1.0 200 Everything Fine\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok"
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := httpheader.FromHTTPResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.0 200 Everything Fine\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"
	if got := string(r.AppendWire(nil)); got != want {
		t.Fatalf("AppendWire = %q\nwant %q", got, want)
	}

	chunked := "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	resp, err = http.ReadResponse(bufio.NewReader(strings.NewReader(chunked)), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err = httpheader.FromHTTPResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.AppendWire(nil)); got != "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n" {
		t.Fatalf("chunked AppendWire = %q", got)
	}

	noContent := &http.Response{StatusCode: 204, Status: "204 No Content", Header: http.Header{}}
	r, err = httpheader.FromHTTPResponse(noContent)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.AppendWire(nil)); got != "HTTP/1.1 204 No Content\r\n\r\n" {
		t.Fatalf("204 AppendWire = %q", got)
	}
	if _, err := httpheader.FromHTTPResponse(&http.Response{StatusCode: 42}); !errors.Is(err, httpheader.ErrInvalidStatus) {
		t.Fatalf("bad status error = %v", err)
	}
}

func TestResponseHeader_ToHTTPResponse(t *testing.T) {
	r, err := httpheader.NewResponse(503)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add("retry-after", "30"); err != nil {
		t.Fatal(err)
	}
	resp := r.ToHTTPResponse()
	if resp.StatusCode != 503 || resp.Status != "503 Service Unavailable" || resp.ContentLength != -1 ||
		resp.Header.Get("Retry-After") != "30" || resp.Proto != "HTTP/1.1" {
		t.Fatalf("ToHTTPResponse = %+v", resp)
	}
	if err := r.SetReason("Busy"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetContentLength(0); err != nil {
		t.Fatal(err)
	}
	resp = r.ToHTTPResponse()
	if resp.Status != "503 Busy" || resp.ContentLength != 0 {
		t.Fatalf("ToHTTPResponse = %+v", resp)
	}
	// Round trip through net/http keeps the status line and the values.
	back, err := httpheader.FromHTTPResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(back.AppendWire(nil)); got != "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nRetry-After: 30\r\n\r\n" {
		t.Fatalf("round trip = %q", got)
	}
}
