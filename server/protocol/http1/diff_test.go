package http1_test

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validRequests are well-formed requests, each followed by a second request
// so body boundaries are checked too.
var validRequests = []string{
	"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"GET /search?q=go+http&lang=en HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: text/html,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nCookie: a=1; b=2\r\n\r\n",
	"POST /api/v1/items HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"name\":\"x\"}\n",
	"PUT /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
	"POST /t HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: yes\r\n\r\n",
	"GET http://example.com/abs?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"DELETE /x HTTP/1.0\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	"GET /dup HTTP/1.1\r\nHost: h\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Empty:\r\nX-Spaces:   padded   \r\n\r\n",
	"PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
	"GET /caf%C3%A9 HTTP/1.1\r\nHost: h\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
}

// TestParseRequest_DifferentialNetHTTP checks that on valid input the parser
// agrees with net/http's http.ReadRequest on method, target, version,
// header lines (by canonical name, in order) and where the body ends.
func TestParseRequest_DifferentialNetHTTP(t *testing.T) {
	const next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
	for _, raw := range validRequests {
		t.Run(strings.Fields(raw)[0]+" "+strings.Fields(raw)[1], func(t *testing.T) {
			wire := raw + next

			// net/http
			br := bufio.NewReader(strings.NewReader(wire))
			hr, err := http.ReadRequest(br)
			require.NoError(t, err)
			wantBody, err := io.ReadAll(hr.Body)
			require.NoError(t, err)
			hr2, err := http.ReadRequest(br)
			require.NoError(t, err, "net/http: the next request must follow the body")
			assert.Equal(t, "/next", hr2.RequestURI)

			// http1
			var req httpheader.RequestHeader
			n, err := http1.ParseRequest([]byte(wire), &req, nil)
			require.NoError(t, err)
			fr, err := http1.RequestBody(&req)
			require.NoError(t, err)
			body, rest := readBody(t, fr, []byte(wire[n:]))

			assert.Equal(t, hr.Method, req.Method())
			assert.Equal(t, hr.RequestURI, string(req.RawTarget()))
			assert.Equal(t, hr.Proto, req.Version().String())
			assert.Equal(t, string(wantBody), string(body))
			assert.Equal(t, next, string(rest), "same body boundary")

			// Header lines: net/http moves Host out of the map and drops
			// Transfer-Encoding (kept in hr.TransferEncoding).
			got := http.Header{}
			for i := range req.Len() {
				name, value := req.Field(i)
				key := textproto.CanonicalMIMEHeaderKey(string(name))
				if key == "Host" || key == "Transfer-Encoding" {
					continue
				}
				if key == "Content-Length" && len(got[key]) > 0 {
					continue // net/http collapses identical duplicates; http1 keeps every line
				}
				got[key] = append(got[key], string(value))
			}
			assert.Equal(t, hr.Header, got)
			assert.Equal(t, hr.Host, req.Get("Host"))
		})
	}
}

var validResponses = []struct{ method, raw string }{
	{"GET", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"},
	{"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"},
	{"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"},
	{"GET", "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"},
	{"GET", "HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\n\r\n"},
	{"GET", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
	{"GET", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc"},
	{"GET", "HTTP/1.1 302 Found\r\nLocation: /x\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n"},
}

// TestParseResponse_DifferentialNetHTTP compares with http.ReadResponse.
func TestParseResponse_DifferentialNetHTTP(t *testing.T) {
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	for _, tc := range validResponses {
		t.Run(tc.method+" "+tc.raw[:12], func(t *testing.T) {
			wire := tc.raw + next
			hreq, _ := http.NewRequest(tc.method, "http://h/", nil)
			br := bufio.NewReader(strings.NewReader(wire))
			hr, err := http.ReadResponse(br, hreq)
			require.NoError(t, err)
			wantBody, err := io.ReadAll(hr.Body)
			require.NoError(t, err)
			_, err = http.ReadResponse(br, nil)
			require.NoError(t, err)

			var req httpheader.RequestHeader
			_, err = http1.ParseRequest([]byte(tc.method+" / HTTP/1.1\r\nHost: h\r\n\r\n"), &req, nil)
			require.NoError(t, err)
			var resp httpheader.ResponseHeader
			n, err := http1.ParseResponse([]byte(wire), &resp, nil)
			require.NoError(t, err)
			fr, err := http1.ResponseBody(&req, &resp)
			require.NoError(t, err)
			body, rest := readBody(t, fr, []byte(wire[n:]))

			assert.Equal(t, hr.StatusCode, resp.Status())
			assert.Equal(t, hr.Proto, resp.Version().String())
			assert.Equal(t, string(wantBody), string(body))
			assert.Equal(t, next, string(rest))
			got := http.Header{}
			for i := range resp.Len() {
				name, value := resp.Field(i)
				key := textproto.CanonicalMIMEHeaderKey(string(name))
				if key == "Transfer-Encoding" {
					continue
				}
				got[key] = append(got[key], string(value))
			}
			assert.Equal(t, hr.Header, got)
		})
	}
}

// readBody splits b into the body of framing fr and what follows.
func readBody(t *testing.T, fr http1.Framing, b []byte) (body, rest []byte) {
	t.Helper()
	switch fr.Kind {
	case http1.BodyNone:
		return nil, b
	case http1.BodyLength:
		require.LessOrEqual(t, fr.Length, int64(len(b)))
		return b[:fr.Length], b[fr.Length:]
	case http1.BodyChunked:
		var d http1.ChunkedDecoder
		var out bytes.Buffer
		for !d.Done() {
			n, data, err := d.Decode(b)
			require.NoError(t, err)
			out.Write(data)
			b = b[n:]
		}
		return out.Bytes(), b
	}
	t.Fatalf("unexpected framing %v", fr.Kind)
	return nil, nil
}
