package main

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		head    string
		want    request
		wantErr bool
	}{
		{"size from path", "GET /65536 HTTP/1.1\r\nHost: a\r\n", request{size: 65536}, false},
		{"default size", "GET /index.html HTTP/1.1\r\n", request{size: -1}, false},
		{"too large", "GET /999999999999 HTTP/1.1\r\n", request{size: -1}, false},
		{"negative", "GET /-1 HTTP/1.1\r\n", request{size: -1}, false},
		{"body", "POST /1 HTTP/1.1\r\ncontent-length: 42\r\n", request{size: 1, bodyLen: 42}, false},
		{"close", "GET /1 HTTP/1.1\r\nConnection: close\r\n", request{size: 1, close: true}, false},
		{"http/1.0", "GET /1 HTTP/1.0\r\n", request{size: 1, close: true}, false},
		{"http/1.0 keep-alive", "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n", request{size: 1}, false},
		{"bad length", "POST /1 HTTP/1.1\r\nContent-Length: -4\r\n", request{}, true},
		{"chunked", "POST /1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n", request{}, true},
		{"field without colon", "GET /1 HTTP/1.1\r\nHost\r\n", request{}, true},
		{"bad request line", "GET /1\r\n", request{}, true},
		{"not http", "GET /1 SPDY/3\r\n", request{}, true},
		{"no line end", "GET /1 HTTP/1.1", request{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse([]byte(tt.head))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parse(%q) = %+v, want an error", tt.head, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parse(%q) = %+v, %v; want %+v", tt.head, got, err, tt.want)
			}
		})
	}
}

func TestOrigin_Response(t *testing.T) {
	o := &origin{def: 3}
	const want = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nxxx"
	if got := string(o.response(3)); got != want {
		t.Fatalf("response(3) = %q, want %q", got, want)
	}
	if &o.response(3)[0] != &o.response(3)[0] {
		t.Fatal("response(3) is built again, want it cached")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("GET /100 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"))
	f.Add([]byte("GET / HTTP/1.0\r\nConnection: keep-alive\r\n"))
	f.Fuzz(func(t *testing.T, h []byte) {
		r, err := parse(h)
		if err == nil && (r.size < -1 || r.size > maxBody || r.bodyLen < 0) {
			t.Fatalf("parse(%q) = %+v", h, r)
		}
	})
}
