package http1_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countConn counts the writes to the connection it wraps.
type countConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func TestServerSession_BufferResponseHeader(t *testing.T) {
	large := strings.Repeat("x", 20000)
	head := func(t *testing.T, s *http1.ServerSession, code int, fields ...string) {
		resp, err := httpheader.NewResponse(code)
		require.NoError(t, err)
		for i := 0; i+1 < len(fields); i += 2 {
			resp.Add(fields[i], fields[i+1])
		}
		require.NoError(t, s.BufferResponseHeader(resp))
	}
	cases := []struct {
		name       string
		handle     func(t *testing.T, s *http1.ServerSession, c *countConn)
		wantWrites int32
		wantCodes  []int
		wantBody   string
	}{
		{"content-length", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 200, "Content-Length", "5")
			assert.Zero(t, c.writes.Load(), "the head waits for the body")
			_, err := s.Write([]byte("hello"))
			require.NoError(t, err)
			require.NoError(t, s.FinishResponse(nil))
		}, 1, []int{200}, "hello"},
		{"chunked", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 200, "Transfer-Encoding", "chunked")
			_, err := s.Write([]byte("hello"))
			require.NoError(t, err)
			require.NoError(t, s.FinishResponse(nil))
		}, 2, []int{200}, "hello"},
		{"chunked-empty", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 200, "Transfer-Encoding", "chunked")
			require.NoError(t, s.FinishResponse(nil))
		}, 1, []int{200}, ""},
		{"no-body", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 204)
			require.NoError(t, s.FinishResponse(nil))
		}, 1, []int{204}, ""},
		{"flush", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 200, "Content-Length", "5")
			require.NoError(t, s.Flush())
			assert.Equal(t, int32(1), c.writes.Load(), "Flush writes the head")
			require.NoError(t, s.Flush(), "nothing left to flush")
			_, err := s.Write([]byte("hello"))
			require.NoError(t, err)
			require.NoError(t, s.FinishResponse(nil))
		}, 2, []int{200}, "hello"},
		{"large-body", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 200, "Content-Length", itoa(len(large)))
			_, err := s.Write([]byte(large))
			require.NoError(t, err)
			require.NoError(t, s.FinishResponse(nil))
		}, 2, []int{200}, large}, // a vector: one writev on a TCP conn, two writes here
		{"informational-at-once", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 103, "Link", "</a>")
			assert.Equal(t, int32(1), c.writes.Load(), "a 1xx head is not held")
			head(t, s, 200, "Content-Length", "2")
			_, err := s.Write([]byte("ok"))
			require.NoError(t, err)
			require.NoError(t, s.FinishResponse(nil))
		}, 2, []int{103, 200}, "ok"},
		{"finish-writes-held-head", func(t *testing.T, s *http1.ServerSession, c *countConn) {
			head(t, s, 200, "Content-Length", "5")
			// the body never comes: Finish writes the head, then closes
		}, 1, []int{200}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			cc := &countConn{Conn: server}
			wait := serve(t, cc, nil, func(s *http1.ServerSession) { tc.handle(t, s, cc) })
			_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
			require.NoError(t, err)
			codes, bodies := readResponses(t, client, "GET")
			assert.Equal(t, 1, wait())
			assert.Equal(t, tc.wantCodes, codes)
			if len(bodies) > 0 {
				assert.Equal(t, tc.wantBody, bodies[len(bodies)-1])
			}
			assert.Equal(t, tc.wantWrites, cc.writes.Load())
		})
	}
}

func TestClientSession_RecycleAndBodyBuffered(t *testing.T) {
	client, server := tcpPair(t)
	wait := fakeUpstream(t, server, func(r *http.Request, body string) string {
		if r.URL.Path == "/chunked" {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
		}
		if r.URL.Path == "/close" {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	c := http1.NewClientSession(client, nil)
	assert.False(t, c.ResponseBodyBuffered(), "no response yet")

	exchange := func(path string) *httpheader.ResponseHeader {
		require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", path)))
		require.NoError(t, c.FinishRequestBody(nil))
		resp, err := c.ReadResponseHeader()
		require.NoError(t, err)
		return resp
	}
	resp := exchange("/")
	// A proxy rewrites the head it forwards (Connection: close for its
	// client): the upstream connection stays reusable.
	require.NoError(t, resp.Set("Connection", "close"))
	assert.True(t, c.ResponseBodyBuffered(), "a short Content-Length body arrives with its head")
	b, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
	assert.True(t, c.ResponseBodyBuffered(), "nothing left to read")
	require.True(t, c.Recycle(), "a clean exchange keeps the connection")

	exchange("/chunked")
	assert.False(t, c.ResponseBodyBuffered(), "only Content-Length bodies are known to be complete")
	b, err = io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
	require.True(t, c.Recycle())

	exchange("/close")
	_, _ = io.ReadAll(c)
	assert.False(t, c.Recycle(), "Connection: close: the connection is closed")
	_, err = client.Write([]byte("x"))
	assert.Error(t, err, "Recycle closed the connection")
	wait()
}
