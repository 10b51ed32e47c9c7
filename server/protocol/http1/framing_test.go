package http1_test

import (
	"testing"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustReq(t *testing.T, raw string) *httpheader.RequestHeader {
	t.Helper()
	var req httpheader.RequestHeader
	_, err := http1.ParseRequest([]byte(raw), &req, nil)
	require.NoError(t, err)
	return &req
}

func mustResp(t *testing.T, raw string) *httpheader.ResponseHeader {
	t.Helper()
	var resp httpheader.ResponseHeader
	_, err := http1.ParseResponse([]byte(raw), &resp, nil)
	require.NoError(t, err)
	return &resp
}

func TestRequestBody(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want http1.Framing
	}{
		{"RFC9112_6_3_7_NoFramingMeansNoBody", "POST / HTTP/1.1\r\nHost: h\r\n\r\n", http1.Framing{}},
		{"RFC9112_6_3_6_ContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n", http1.Framing{Kind: http1.BodyLength, Length: 12}},
		{"RFC9112_6_3_6_ContentLengthZero", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", http1.Framing{}},
		{"RFC9112_6_3_3_Chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", http1.Framing{Kind: http1.BodyChunked}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fr, err := http1.RequestBody(mustReq(t, tc.raw))
			require.NoError(t, err)
			assert.Equal(t, tc.want, fr)
		})
	}
}

func TestRequestBody_RejectsHandBuiltHeads(t *testing.T) {
	// RequestBody applies the rules to heads not made by ParseRequest too.
	req, err := httpheader.NewRequest("POST", "/")
	require.NoError(t, err)
	req.Add("Content-Length", "3")
	req.Add("Transfer-Encoding", "chunked")
	_, err = http1.RequestBody(req)
	assert.Equal(t, 400, perr.StatusCode(err))
}

func TestResponseBody(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	head := "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"
	connect := "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"
	upgrade := "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	cases := []struct {
		name string
		req  string
		resp string
		want http1.Framing
		bad  bool
	}{
		{"RFC9112_6_3_1_HEAD", head, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", http1.Framing{}, false},
		{"RFC9112_6_3_1_204", get, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", http1.Framing{}, false},
		{"RFC9112_6_3_1_304", get, "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", http1.Framing{}, false},
		{"RFC9112_6_3_1_1xx", get, "HTTP/1.1 103 Early Hints\r\n\r\n", http1.Framing{}, false},
		{"RFC9112_6_3_2_CONNECT2xx", connect, "HTTP/1.1 200 OK\r\n\r\n", http1.Framing{Kind: http1.BodyTunnel}, false},
		{"RFC9112_6_3_2_CONNECTRefused", connect, "HTTP/1.1 403 Forbidden\r\nContent-Length: 1\r\n\r\n", http1.Framing{Kind: http1.BodyLength, Length: 1}, false},
		{"RFC9110_7_8_101Upgrade", upgrade, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", http1.Framing{Kind: http1.BodyTunnel}, false},
		{"RFC9110_7_8_101WithoutUpgradeRequest", get, "HTTP/1.1 101 Switching Protocols\r\n\r\n", http1.Framing{}, true},
		{"RFC9112_6_3_3_Chunked", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", http1.Framing{Kind: http1.BodyChunked}, false},
		{"RFC9112_6_3_3_CLAndTE", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", http1.Framing{}, true},
		{"RFC9112_6_1_TEInHTTP10", get, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", http1.Framing{}, true},
		{"RFC9112_6_3_4_OtherCoding", get, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", http1.Framing{}, true},
		{"RFC9112_6_3_5_DifferingContentLength", get, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n", http1.Framing{}, true},
		{"RFC9112_6_3_5_InvalidContentLength", get, "HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n", http1.Framing{}, true},
		{"RFC9112_6_3_6_ContentLength", get, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", http1.Framing{Kind: http1.BodyLength, Length: 5}, false},
		{"RFC9112_6_3_8_UntilClose", get, "HTTP/1.1 200 OK\r\n\r\n", http1.Framing{Kind: http1.BodyUntilClose}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fr, err := http1.ResponseBody(mustReq(t, tc.req), mustResp(t, tc.resp))
			if tc.bad {
				require.Error(t, err)
				assert.Equal(t, 502, perr.StatusCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, fr)
		})
	}
}

func TestKeepAlive(t *testing.T) {
	cases := []struct {
		name string
		head string
		want bool
	}{
		{"RFC9112_9_3_HTTP11Default", "HTTP/1.1", true},
		{"RFC9112_9_3_HTTP11Close", "HTTP/1.1\r\nConnection: close", false},
		{"RFC9112_9_3_HTTP11CloseInList", "HTTP/1.1\r\nConnection: keep-alive, CLOSE", false},
		{"RFC9112_9_3_HTTP10Default", "HTTP/1.0", false},
		{"RFC9112_9_3_HTTP10KeepAlive", "HTTP/1.0\r\nConnection: Keep-Alive", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := mustReq(t, "GET / "+tc.head+"\r\nHost: h\r\n\r\n")
			assert.Equal(t, tc.want, http1.RequestKeepAlive(req))
			resp := mustResp(t, tc.head[:8]+" 200 OK"+tc.head[8:]+"\r\n\r\n")
			assert.Equal(t, tc.want, http1.ResponseKeepAlive(resp))
		})
	}
}

func TestIsUpgradeRequest(t *testing.T) {
	assert.True(t, http1.IsUpgradeRequest(mustReq(t, "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")))
	assert.False(t, http1.IsUpgradeRequest(mustReq(t, "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n")), "needs Connection: upgrade")
	assert.False(t, http1.IsUpgradeRequest(mustReq(t, "GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")), "ignored in HTTP/1.0")
}

func TestBodyKind_String(t *testing.T) {
	assert.Equal(t, "chunked", http1.BodyChunked.String())
	assert.Equal(t, "unknown", http1.BodyKind(99).String())
}
