package httpheader_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
)

// browserFields is a typical 12-line browser request header.
var browserFields = [][2]string{
	{"Host", "www.example.com"},
	{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
	{"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	{"Accept-Language", "en-US,en;q=0.5"},
	{"Accept-Encoding", "gzip, deflate, br, zstd"},
	{"Referer", "https://www.example.com/search?q=pingora"},
	{"Connection", "keep-alive"},
	{"Cookie", "session=7f3a9c2e1b; theme=dark; consent=yes"},
	{"Upgrade-Insecure-Requests", "1"},
	{"Sec-Fetch-Dest", "document"},
	{"Sec-Fetch-Mode", "navigate"},
	{"Cache-Control", "max-age=0"},
}

const browserTarget = "/articles/2026/pingora-go.html?ref=home&lang=en"

func browserRequest(t testing.TB) *httpheader.RequestHeader {
	t.Helper()
	req, err := httpheader.NewRequest("GET", browserTarget)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range browserFields {
		if _, err := req.Add(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	return req
}

func TestRequestHeader_Zero(t *testing.T) {
	var req httpheader.RequestHeader
	if req.Method() != "GET" || req.Target() != "/" || string(req.RawTarget()) != "/" || req.Version() != httpheader.HTTP11 {
		t.Fatalf("zero request = %s %s %s", req.Method(), req.Target(), req.Version())
	}
	if got := string(req.AppendWire(nil)); got != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("AppendWire = %q", got)
	}
	if req.Path() != "/" || req.Query() != "" || req.FileExtension() != "" {
		t.Fatalf("Path/Query/FileExtension = %q %q %q", req.Path(), req.Query(), req.FileExtension())
	}
}

func TestRequestHeader_Wire(t *testing.T) {
	req, err := httpheader.NewRequest("POST", "/api/v1/items?x=1")
	if err != nil {
		t.Fatal(err)
	}
	if err := req.SetVersion(httpheader.HTTP10); err != nil {
		t.Fatal(err)
	}
	for _, f := range [][2]string{{"host", "a.example"}, {"X-Request-ID", "9"}, {"content-length", "0"}} {
		if _, err := req.Add(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	want := "POST /api/v1/items?x=1 HTTP/1.0\r\nhost: a.example\r\nX-Request-ID: 9\r\ncontent-length: 0\r\n\r\n"
	if got := string(req.AppendWire(nil)); got != want {
		t.Fatalf("AppendWire = %q\nwant %q", got, want)
	}
	if req.WireLen() != len(want) {
		t.Fatalf("WireLen = %d, want %d", req.WireLen(), len(want))
	}
	var buf bytes.Buffer
	if n, err := req.WriteTo(&buf); err != nil || n != int64(len(want)) || buf.String() != want {
		t.Fatalf("WriteTo = %d, %v, %q", n, err, buf.String())
	}
	if got := string(req.AppendRequestLine(nil)); got != "POST /api/v1/items?x=1 HTTP/1.0\r\n" {
		t.Fatalf("AppendRequestLine = %q", got)
	}
}

func TestRequestHeader_Method(t *testing.T) {
	tests := []struct {
		method  string
		wantErr bool
	}{
		{"GET", false}, {"PATCH", false}, {"PROPFIND", false}, {"get", false},
		{"", true}, {"GE T", true}, {"GET\r\n", true}, {"(x)", true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			var req httpheader.RequestHeader
			err := req.SetMethod(tt.method)
			errB := req.SetMethodBytes([]byte(tt.method))
			if tt.wantErr {
				if !errors.Is(err, httpheader.ErrInvalidMethod) || !errors.Is(errB, httpheader.ErrInvalidMethod) {
					t.Fatalf("errors = %v, %v; want ErrInvalidMethod", err, errB)
				}
				if req.Method() != "GET" {
					t.Fatalf("Method changed to %q on error", req.Method())
				}
				return
			}
			if err != nil || errB != nil || req.Method() != tt.method {
				t.Fatalf("Method = %q, errors %v %v", req.Method(), err, errB)
			}
		})
	}
}

func TestRequestHeader_SetMethodBytesAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	var req httpheader.RequestHeader
	m := []byte("OPTIONS")
	if n := testing.AllocsPerRun(100, func() { _ = req.SetMethodBytes(m) }); n != 0 {
		t.Fatalf("SetMethodBytes(OPTIONS): %v allocs", n)
	}
}

func TestRequestHeader_Target(t *testing.T) {
	tests := []struct {
		target           string
		path, query, ext string
	}{
		{"/", "/", "", ""},
		{"/a/b.tar.gz?x=1&y=2", "/a/b.tar.gz", "x=1&y=2", "gz"},
		{"/v1.2/file", "/v1.2/file", "", ""},
		{"/dir.d/", "/dir.d/", "", ""},
		{"/a?", "/a", "", ""},
		{"/a?q#frag", "/a", "q", ""},
		{"/%7Euser/a%20b.txt", "/%7Euser/a%20b.txt", "", "txt"},
		{"http://example.com", "/", "", ""},
		{"http://example.com/p/x.js?v=3", "/p/x.js", "v=3", "js"},
		{"https://u@example.com:8443?only", "/", "only", ""},
		{"example.com:443", "", "", ""},
		{"*", "*", "", ""},
		{"/caf\xe9.html", "/caf\xe9.html", "", "html"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			var req httpheader.RequestHeader
			if err := req.SetTarget(tt.target); err != nil {
				t.Fatal(err)
			}
			if req.Target() != tt.target || string(req.RawTarget()) != tt.target {
				t.Fatalf("Target = %q, RawTarget = %q", req.Target(), req.RawTarget())
			}
			if req.Path() != tt.path || req.Query() != tt.query || req.FileExtension() != tt.ext {
				t.Fatalf("Path, Query, FileExtension = %q %q %q; want %q %q %q",
					req.Path(), req.Query(), req.FileExtension(), tt.path, tt.query, tt.ext)
			}
			var raw httpheader.RequestHeader
			if err := raw.SetRawTarget([]byte(tt.target)); err != nil || string(raw.RawTarget()) != tt.target {
				t.Fatalf("SetRawTarget: %v, %q", err, raw.RawTarget())
			}
		})
	}
}

func TestRequestHeader_TargetInvalid(t *testing.T) {
	for _, target := range []string{"", "/a b", "/a\r\n", "/a\x00", "/a\x7f", "/a\tb"} {
		t.Run(target, func(t *testing.T) {
			req, err := httpheader.NewRequest("GET", "/keep")
			if err != nil {
				t.Fatal(err)
			}
			if err := req.SetTarget(target); !errors.Is(err, httpheader.ErrInvalidTarget) {
				t.Fatalf("SetTarget error = %v", err)
			}
			if err := req.SetRawTarget([]byte(target)); !errors.Is(err, httpheader.ErrInvalidTarget) {
				t.Fatalf("SetRawTarget error = %v", err)
			}
			if req.Target() != "/keep" {
				t.Fatalf("target changed to %q", req.Target())
			}
		})
	}
	if _, err := httpheader.NewRequest("GET", "bad target"); !errors.Is(err, httpheader.ErrInvalidTarget) {
		t.Fatalf("NewRequest error = %v", err)
	}
	if _, err := httpheader.NewRequest("BAD METHOD", "/"); !errors.Is(err, httpheader.ErrInvalidMethod) {
		t.Fatalf("NewRequest error = %v", err)
	}
}

// A string from Target or Path stays valid after the target is replaced.
func TestRequestHeader_TargetStringsSurvive(t *testing.T) {
	var req httpheader.RequestHeader
	if err := req.SetTarget("/first?a=1"); err != nil {
		t.Fatal(err)
	}
	target, path, query := req.Target(), req.Path(), req.Query()
	for _, next := range []string{"/xxxxxxxxxx", "/y"} {
		if err := req.SetRawTarget([]byte(next)); err != nil {
			t.Fatal(err)
		}
		req.Reset()
	}
	if target != "/first?a=1" || path != "/first" || query != "a=1" {
		t.Fatalf("strings changed: %q %q %q", target, path, query)
	}
}

func TestRequestHeader_Version(t *testing.T) {
	var req httpheader.RequestHeader
	if err := req.SetVersion(httpheader.Version{Major: 10}); !errors.Is(err, httpheader.ErrInvalidVersion) ||
		err.Error() != `httpheader: invalid version "HTTP/10.0"` {
		t.Fatalf("SetVersion error = %v", err)
	}
	if _, ok := req.SendEndStream(); ok {
		t.Fatal("SendEndStream ok for HTTP/1.1")
	}
	if err := req.SetVersion(httpheader.HTTP2); err != nil {
		t.Fatal(err)
	}
	if end, ok := req.SendEndStream(); !ok || !end {
		t.Fatalf("SendEndStream = %v, %v; want true, true", end, ok)
	}
	req.SetSendEndStream(false)
	if end, ok := req.SendEndStream(); !ok || end {
		t.Fatalf("SendEndStream = %v, %v; want false, true", end, ok)
	}
	if got := string(req.AppendRequestLine(nil)); got != "GET / HTTP/2.0\r\n" {
		t.Fatalf("request line = %q", got)
	}
}

func TestRequestHeader_ResetAndClone(t *testing.T) {
	req := browserRequest(t)
	if err := req.SetVersion(httpheader.HTTP10); err != nil {
		t.Fatal(err)
	}
	c := req.Clone()
	want := string(req.AppendWire(nil))
	req.Reset()
	if got := string(req.AppendWire(nil)); got != "GET / HTTP/1.1\r\n\r\n" {
		t.Fatalf("after Reset: %q", got)
	}
	if got := string(c.AppendWire(nil)); got != want {
		t.Fatalf("clone = %q\nwant %q", got, want)
	}
	if !strings.HasPrefix(want, "GET "+browserTarget+" HTTP/1.0\r\nHost: www.example.com\r\n") {
		t.Fatalf("wire = %q", want)
	}
}
