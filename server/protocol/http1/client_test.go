package http1_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeUpstream answers each request read from conn with the raw bytes
// reply returns for it, in a goroutine; wait blocks until it ended.
func fakeUpstream(t *testing.T, conn net.Conn, reply func(r *http.Request, body string) string) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		br := bufio.NewReader(conn)
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(r.Body)
			out := reply(r, string(b))
			if out == "" {
				return
			}
			if _, err := conn.Write([]byte(out)); err != nil {
				return
			}
		}
	}()
	return func() { <-done }
}

func newReq(t *testing.T, method, target string, fields ...string) *httpheader.RequestHeader {
	req, err := httpheader.NewRequest(method, target)
	require.NoError(t, err)
	req.Add("Host", "upstream")
	for i := 0; i+1 < len(fields); i += 2 {
		req.Add(fields[i], fields[i+1])
	}
	return req
}

// roundTrip runs one exchange on c and returns the final head and body.
func roundTrip(t *testing.T, c *http1.ClientSession, req *httpheader.RequestHeader, body string) (*httpheader.ResponseHeader, string) {
	t.Helper()
	require.NoError(t, c.WriteRequestHeader(req))
	if body != "" {
		_, err := c.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, c.FinishRequestBody(nil))
	resp, err := c.ReadResponseHeader()
	require.NoError(t, err)
	for resp.Status() < 200 {
		resp, err = c.ReadResponseHeader()
		require.NoError(t, err)
	}
	b, err := io.ReadAll(c)
	require.NoError(t, err)
	return resp, string(b)
}

func TestClientSession_ReuseAfterCleanExchange(t *testing.T) {
	client, server := tcpPair(t)
	wait := fakeUpstream(t, server, func(r *http.Request, body string) string {
		out := r.URL.Path + ":" + body
		return "HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(out)) + "\r\nX-Case-Kept: 1\r\n\r\n" + out
	})
	c := http1.NewClientSession(client, nil)
	resp, body := roundTrip(t, c, newReq(t, "POST", "/one", "Content-Length", "3"), "abc")
	assert.Equal(t, "/one:abc", body)
	name, _ := resp.Field(1)
	assert.Equal(t, "X-Case-Kept", string(name))
	assert.True(t, c.Reusable())
	conn, ok := c.Release()
	require.True(t, ok)
	require.Same(t, client, conn)

	// The same session carries the next exchange, chunked this time.
	_, body = roundTrip(t, c, newReq(t, "PUT", "/two", "Transfer-Encoding", "chunked"), "chunky")
	assert.Equal(t, "/two:chunky", body)
	_, ok = c.Release()
	assert.True(t, ok)
	c.Close()
	wait()
}

func TestClientSession_ResponseFramings(t *testing.T) {
	cases := []struct {
		name     string
		method   string
		reply    string
		body     string
		reusable bool
		trailer  string
	}{
		{"content_length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", true, ""},
		{"chunked_trailers", "GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", "ok", true, "1"},
		{"until_close", "GET", "HTTP/1.1 200 OK\r\n\r\nall of it", "all of it", false, ""},
		{"head", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", "", true, ""},
		{"no_content", "GET", "HTTP/1.1 204 No Content\r\n\r\n", "", true, ""},
		{"response_close", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", "ok", false, ""},
		{"http10", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", false, ""},
		{"http10_keepalive", "GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok", "ok", true, ""},
		{"over_read", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", "ok", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			wait := fakeUpstream(t, server, func(*http.Request, string) string { return tc.reply })
			c := http1.NewClientSession(client, nil)
			if tc.name == "until_close" {
				go func() { time.Sleep(50 * time.Millisecond); server.Close() }()
			}
			if tc.name == "over_read" {
				// Make sure the extra bytes are buffered with the response.
				defer wait()
			}
			_, body := roundTrip(t, c, newReq(t, tc.method, "/"), "")
			assert.Equal(t, tc.body, body)
			assert.Equal(t, tc.trailer, c.ResponseTrailers().Get("X-T"))
			assert.Equal(t, tc.reusable, c.Reusable())
			_, ok := c.Release()
			assert.Equal(t, tc.reusable, ok)
			c.Close()
			if tc.name != "over_read" {
				wait()
			}
		})
	}
}

func TestClientSession_InvalidResponseIsUpstreamError(t *testing.T) {
	for name, reply := range map[string]string{
		"RFC9112_6_3_5_DifferingContentLength": "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
		"RFC9112_6_3_3_CLAndTE":                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"RFC9112_5_1_SpaceBeforeColon":         "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx",
		"RFC9112_4_Garbage":                    "SSH-2.0-OpenSSH\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			client, server := tcpPair(t)
			wait := fakeUpstream(t, server, func(*http.Request, string) string { return reply })
			c := http1.NewClientSession(client, nil)
			require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
			_, err := c.ReadResponseHeader()
			require.Error(t, err)
			var pe *perr.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, perr.Upstream, pe.Source())
			assert.Equal(t, 502, perr.StatusCode(err))
			assert.False(t, c.Reusable())
			c.Close()
			wait()
		})
	}
}

func TestClientSession_BadChunkIsUpstreamError(t *testing.T) {
	client, server := tcpPair(t)
	wait := fakeUpstream(t, server, func(*http.Request, string) string {
		return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
	})
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
	_, err := c.ReadResponseHeader()
	require.NoError(t, err)
	_, err = io.ReadAll(c)
	assert.ErrorIs(t, err, perr.InvalidChunk)
	assert.Equal(t, 502, perr.StatusCode(err))
	_, ok := c.Release()
	assert.False(t, ok)
	wait()
}

func TestClientSession_Informational(t *testing.T) {
	// 1xx heads are handed to the caller (a proxy forwards 103), then the
	// final head.
	client, server := tcpPair(t)
	wait := fakeUpstream(t, server, func(*http.Request, string) string {
		return "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n123456"
	})
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/103")))
	var links []string
	resp, err := c.ReadResponseHeader()
	for err == nil && resp.Status() == 103 {
		links = append(links, resp.Get("Link"))
		resp, err = c.ReadResponseHeader()
	}
	require.NoError(t, err)
	assert.Equal(t, []string{"</a.css>; rel=preload", "</b.js>; rel=preload"}, links)
	assert.Equal(t, 200, resp.Status())
	b, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "123456", string(b))
	_, ok := c.Release()
	assert.True(t, ok)
	c.Close()
	wait()
}

func TestClientSession_CVE_2024_24791(t *testing.T) {
	// The request asks for 100-continue; the upstream answers with a final
	// status at once. The body was never sent, so the connection must not
	// go back to the pool: the upstream may still read it as a body, or the
	// next request as one.
	client, server := tcpPair(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(server)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		_, _ = server.Write([]byte("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n"))
		_, _ = io.Copy(io.Discard, br)
	}()
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "PUT", "/big", "Expect", "100-continue", "Content-Length", "100")))
	resp, err := c.ReadResponseHeader()
	require.NoError(t, err)
	assert.Equal(t, 417, resp.Status())
	_, err = io.ReadAll(c)
	require.NoError(t, err)
	assert.False(t, c.Reusable(), "request body not sent")
	_, ok := c.Release()
	assert.False(t, ok)
	<-done
}

func TestClientSession_ExpectContinue(t *testing.T) {
	// With a 100 the body is sent and the connection stays reusable.
	client, server := tcpPair(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := http1.NewServerSession(server, nil)
		defer s.Close()
		if ok, _ := s.ReadRequest(); !ok {
			return
		}
		b, _ := io.ReadAll(s) // sends the 100
		respond(t, s, string(b))
		s.Finish()
	}()
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "PUT", "/up", "Expect", "100-continue", "Content-Length", "5")))
	resp, err := c.ReadResponseHeader()
	require.NoError(t, err)
	require.Equal(t, 100, resp.Status())
	_, err = c.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, c.FinishRequestBody(nil))
	resp, err = c.ReadResponseHeader()
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status())
	b, _ := io.ReadAll(c)
	assert.Equal(t, "hello", string(b))
	assert.True(t, c.Reusable())
	c.Close()
	<-done
}

func TestClientSession_Upgrade(t *testing.T) {
	client, server := tcpPair(t)
	wait := fakeUpstream(t, server, func(*http.Request, string) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframe"
	})
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/ws", "Connection", "Upgrade", "Upgrade", "websocket")))
	resp, err := c.ReadResponseHeader()
	require.NoError(t, err)
	assert.Equal(t, 101, resp.Status())
	assert.True(t, c.Upgraded())
	assert.False(t, c.Reusable())
	conn, early, err := c.Hijack()
	require.NoError(t, err)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest := make([]byte, len("frame")-len(early))
	_, err = io.ReadFull(conn, rest)
	require.NoError(t, err)
	assert.Equal(t, "frame", string(early)+string(rest))
	conn.Close()
	wait()
}

func TestClientSession_101WithoutUpgradeRequest(t *testing.T) {
	client, server := tcpPair(t)
	wait := fakeUpstream(t, server, func(*http.Request, string) string {
		return "HTTP/1.1 101 Switching Protocols\r\n\r\n"
	})
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
	_, err := c.ReadResponseHeader()
	assert.Equal(t, 502, perr.StatusCode(err))
	c.Close()
	wait()
}

func TestClientSession_Timeouts(t *testing.T) {
	t.Run("header", func(t *testing.T) {
		client, server := tcpPair(t)
		c := http1.NewClientSession(client, &http1.Options{HeaderTimeout: 100 * time.Millisecond})
		require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
		_, _ = server.Write([]byte("HTTP/1.1 200 OK\r\n"))
		_, err := c.ReadResponseHeader()
		assert.ErrorIs(t, err, perr.ReadTimedout)
		assert.Equal(t, 504, perr.StatusCode(err))
		c.Close()
	})
	t.Run("body", func(t *testing.T) {
		client, server := tcpPair(t)
		c := http1.NewClientSession(client, &http1.Options{BodyTimeout: 100 * time.Millisecond})
		require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
		_, _ = server.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
		_, err := c.ReadResponseHeader()
		require.NoError(t, err)
		_, err = io.ReadAll(c)
		assert.ErrorIs(t, err, perr.ReadTimedout)
		_, ok := c.Release()
		assert.False(t, ok)
	})
	t.Run("premature_end", func(t *testing.T) {
		client, server := tcpPair(t)
		c := http1.NewClientSession(client, nil)
		require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
		_, err := http.ReadRequest(bufio.NewReader(server)) // read it: closing with unread bytes resets
		require.NoError(t, err)
		_, _ = server.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
		server.Close()
		_, err = c.ReadResponseHeader()
		require.NoError(t, err)
		_, err = io.ReadAll(c)
		assert.ErrorIs(t, err, perr.PrematureBodyEnd)
	})
}

func TestClientSession_RejectsBadRequestFraming(t *testing.T) {
	client, _ := tcpPair(t)
	c := http1.NewClientSession(client, nil)
	req := newReq(t, "POST", "/", "Content-Length", "1", "Transfer-Encoding", "chunked")
	err := c.WriteRequestHeader(req)
	assert.ErrorIs(t, err, perr.InternalError)
	assert.True(t, strings.Contains(err.Error(), "framing"))
}

func TestClientSession_StaleConnectionRetryReusedOnly(t *testing.T) {
	client, server := tcpPair(t)
	c := http1.NewClientSession(client, nil)
	require.NoError(t, c.WriteRequestHeader(newReq(t, "GET", "/")))
	_, err := http.ReadRequest(bufio.NewReader(server))
	require.NoError(t, err)
	server.Close() // the upstream closed the idle connection
	_, err = c.ReadResponseHeader()
	require.ErrorIs(t, err, perr.ConnectionClosed)
	var pe *perr.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, perr.RetryReusedOnly, pe.RetryType())
	assert.Equal(t, perr.RetryYes, pe.RetryType().DecideReuse(true))
}
