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

// echoTarget answers each request with its target after reading its body.
func echoTarget(t *testing.T) func(s *http1.ServerSession) {
	return func(s *http1.ServerSession) {
		body, err := io.ReadAll(s)
		if err != nil {
			return
		}
		respond(t, s, string(s.Request().RawTarget())+":"+string(body))
	}
}

func TestServerSession_Pipelining(t *testing.T) {
	client, server := tcpPair(t)
	wait := serve(t, server, nil, echoTarget(t))
	// Three requests in one write, with bodies of each framing.
	_, err := client.Write([]byte(
		"GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" +
			"POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
			"POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n" +
			"GET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
	require.NoError(t, err)
	codes, bodies := readResponses(t, client, "GET")
	assert.Equal(t, []int{200, 200, 200, 200}, codes)
	assert.Equal(t, []string{"/1:", "/2:abc", "/3:xy", "/4:"}, bodies, "answered in order")
	assert.Equal(t, 4, wait())
}

func TestServerSession_KeepAlive(t *testing.T) {
	cases := []struct {
		name   string
		first  string
		served int
	}{
		{"RFC9112_9_3_HTTP11Persists", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 2},
		{"RFC9112_9_6_ConnectionClose", "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 1},
		{"RFC9112_9_3_HTTP10Closes", "GET /a HTTP/1.0\r\n\r\n", 1},
		{"RFC9112_9_3_HTTP10KeepAlive", "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			wait := serve(t, server, nil, echoTarget(t))
			_, err := client.Write([]byte(tc.first + "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
			require.NoError(t, err)
			codes, _ := readResponses(t, client, "GET")
			assert.Len(t, codes, tc.served)
			assert.Equal(t, tc.served, wait())
		})
	}
}

func TestServerSession_KeepAliveIdleTimeout(t *testing.T) {
	client, server := tcpPair(t)
	wait := serve(t, server, &http1.Options{KeepAliveTimeout: 100 * time.Millisecond}, echoTarget(t))
	_, err := client.Write([]byte("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"))
	require.NoError(t, err)
	codes, _ := readResponses(t, client, "GET") // returns at EOF: the idle conn was closed
	assert.Equal(t, []int{200}, codes)
	assert.Equal(t, 1, wait())
}

func TestServerSession_Slowloris(t *testing.T) {
	client, server := tcpPair(t)
	opts := &http1.Options{HeaderTimeout: 300 * time.Millisecond}
	wait := serve(t, server, opts, echoTarget(t))
	start := time.Now()
	// Trickle one byte every 20ms: each read succeeds, so a per-read
	// timeout would never fire; the whole-header deadline does.
	go func() {
		head := "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: " + strings.Repeat("a", 200) + "\r\n\r\n"
		for i := range len(head) {
			if _, err := client.Write([]byte{head[i]}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	codes, _ := readResponses(t, client, "GET")
	assert.Equal(t, []int{408}, codes)
	assert.Less(t, time.Since(start), 3*time.Second, "closed at the header deadline, not after the whole trickle")
	assert.Equal(t, 0, wait())
}

func TestServerSession_ErrorResponses(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want int
	}{
		{"400", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
		{"414", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
		{"431", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-A: "+strings.Repeat("b", 1000)+"\r\n", 66) + "\r\n", 431},
		{"431_count", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-A: b\r\n", 101) + "\r\n", 431},
		{"501", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
		{"505", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client, server := tcpPair(t)
			wait := serve(t, server, nil, echoTarget(t))
			go func() { _, _ = client.Write([]byte(tc.raw)) }()
			_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(client)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, resp.StatusCode)
			assert.True(t, resp.Close, "Connection: close")
			_, err = br.ReadByte()
			assert.ErrorIs(t, err, io.EOF, "connection closed after the error")
			client.Close()
			assert.Equal(t, 0, wait())
		})
	}
}

func TestServerSession_ReadRequestErrors(t *testing.T) {
	t.Run("closed_idle", func(t *testing.T) {
		client, server := tcpPair(t)
		s := http1.NewServerSession(server, nil)
		client.Close()
		ok, err := s.ReadRequest()
		assert.False(t, ok)
		assert.NoError(t, err)
	})
	t.Run("closed_mid_head", func(t *testing.T) {
		client, server := tcpPair(t)
		s := http1.NewServerSession(server, nil)
		_, _ = client.Write([]byte("GET / HTTP/1.1\r\nHo"))
		client.Close()
		ok, err := s.ReadRequest()
		assert.False(t, ok)
		assert.ErrorIs(t, err, perr.ConnectionClosed)
		assert.Equal(t, 0, perr.StatusCode(err), "nobody to answer")
	})
}

func TestServerSession_ExpectContinue(t *testing.T) {
	t.Run("sent_when_body_read", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, nil, echoTarget(t))
		_, err := client.Write([]byte("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"))
		require.NoError(t, err)
		br := bufio.NewReader(client)
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, "HTTP/1.1 100 Continue\r\n", line)
		_, _ = br.ReadString('\n')
		_, err = client.Write([]byte("hello"))
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		assert.Equal(t, "/up:hello", string(b))
		client.Close()
		assert.Equal(t, 1, wait())
	})
	t.Run("final_without_reading_closes", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			resp, _ := httpheader.NewResponse(417)
			_ = resp.SetContentLength(0)
			_ = s.WriteResponseHeader(resp)
			_ = s.FinishResponse(nil)
			assert.False(t, s.KeepAlive(), "the body may or may not follow: close")
		})
		_, err := client.Write([]byte("POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "POST")
		assert.Equal(t, []int{417}, codes, "no 100, then EOF")
		assert.Equal(t, 1, wait())
	})
	t.Run("RFC9110_10_1_1_IgnoredForHTTP10", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, nil, echoTarget(t))
		_, err := client.Write([]byte("POST /up HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok"))
		require.NoError(t, err)
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		all := readAllClose(client)
		assert.True(t, strings.HasPrefix(string(all), "HTTP/1.1 200 OK\r\n"), "no 100: %q", all)
		assert.Equal(t, 1, wait())
	})
}

func TestServerSession_Informational103(t *testing.T) {
	client, server := tcpPair(t)
	wait := serve(t, server, nil, func(s *http1.ServerSession) {
		hints, _ := httpheader.NewResponse(103)
		hints.Add("Link", "</style.css>; rel=preload; as=style")
		require.NoError(t, s.WriteResponseHeader(hints))
		require.NoError(t, s.WriteResponseHeader(hints), "several 1xx are allowed")
		respond(t, s, "page")
		resp, _ := httpheader.NewResponse(200)
		assert.ErrorIs(t, s.WriteResponseHeader(resp), http1.ErrHeaderWritten, "one final head")
	})
	_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
	require.NoError(t, err)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	all := readAllClose(client)
	hint := "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"
	assert.Equal(t, hint+hint+"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npage", string(all), "written exactly as stored")
	assert.Equal(t, 1, wait())
}

func TestServerSession_CVE_2025_4366(t *testing.T) {
	// The handler ignores the request body; the body holds what looks like
	// a request. It must be drained, never parsed as the next request.
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n"
	t.Run("drained_then_reused", func(t *testing.T) {
		client, server := tcpPair(t)
		var targets []string
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			targets = append(targets, string(s.Request().RawTarget()))
			respond(t, s, "ok")
		})
		_, err := client.Write([]byte("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: " + itoa(len(smuggled)) + "\r\n\r\n" + smuggled +
			"GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "GET")
		assert.Equal(t, []int{200, 200}, codes)
		assert.Equal(t, 2, wait())
		assert.Equal(t, []string{"/a", "/b"}, targets)
	})
	t.Run("chunked_drained", func(t *testing.T) {
		client, server := tcpPair(t)
		var targets []string
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			targets = append(targets, string(s.Request().RawTarget()))
			respond(t, s, "ok")
		})
		_, err := client.Write([]byte("POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strings.TrimPrefix(http1ChunkOf(smuggled), "") + "0\r\n\r\n" +
			"GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "GET")
		assert.Equal(t, []int{200, 200}, codes)
		assert.Equal(t, 2, wait())
		assert.Equal(t, []string{"/a", "/b"}, targets)
	})
	t.Run("too_long_to_drain_closes", func(t *testing.T) {
		client, server := tcpPair(t)
		var targets []string
		wait := serve(t, server, &http1.Options{MaxDrainBytes: 16}, func(s *http1.ServerSession) {
			targets = append(targets, string(s.Request().RawTarget()))
			respond(t, s, "ok")
		})
		go func() {
			_, _ = client.Write([]byte("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: " + itoa(len(smuggled)) + "\r\n\r\n" + smuggled))
		}()
		codes, _ := readResponses(t, client, "GET")
		assert.Equal(t, []int{200}, codes)
		assert.Equal(t, 1, wait())
		assert.Equal(t, []string{"/a"}, targets)
	})
}

func http1ChunkOf(s string) string {
	return strings.ToUpper(strings.TrimLeft(itoaHex(len(s)), "0")) + "\r\n" + s + "\r\n"
}

func itoaHex(n int) string {
	const digits = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 16 {
		b = append([]byte{digits[n%16]}, b...)
	}
	return string(b)
}

func TestServerSession_CVE_2026_2833(t *testing.T) {
	// An upgrade request the server refuses: the bytes after it are the
	// next request, never tunnel data.
	client, server := tcpPair(t)
	var targets []string
	wait := serve(t, server, nil, func(s *http1.ServerSession) {
		targets = append(targets, string(s.Request().RawTarget()))
		respond(t, s, "no upgrade")
	})
	_, err := client.Write([]byte("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n" +
		"GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
	require.NoError(t, err)
	codes, _ := readResponses(t, client, "GET")
	assert.Equal(t, []int{200, 200}, codes)
	assert.Equal(t, 2, wait())
	assert.Equal(t, []string{"/ws", "/next"}, targets)
}

func TestServerSession_UpgradeAfter101(t *testing.T) {
	client, server := tcpPair(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := http1.NewServerSession(server, nil)
		ok, err := s.ReadRequest()
		if !assert.True(t, ok) || !assert.NoError(t, err) {
			return
		}
		_, _, err = s.Hijack()
		assert.ErrorIs(t, err, http1.ErrHeaderWritten, "no hijack before 101")
		resp, _ := httpheader.NewResponse(101)
		resp.Add("Upgrade", "echo")
		resp.Add("Connection", "Upgrade")
		require.NoError(t, s.WriteResponseHeader(resp))
		assert.True(t, s.Upgraded())
		assert.False(t, s.Finish())
		conn, early, err := s.Hijack()
		require.NoError(t, err)
		assert.Equal(t, "early", string(early), "bytes sent with the request head")
		_, _ = conn.Write(append([]byte("echo:"), early...))
		conn.Close()
	}()
	_, err := client.Write([]byte("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly"))
	require.NoError(t, err)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	all := readAllClose(client)
	assert.Equal(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\necho:early", string(all))
	<-done
}

func TestServerSession_101WithoutUpgradeRequest(t *testing.T) {
	client, server := tcpPair(t)
	wait := serve(t, server, nil, func(s *http1.ServerSession) {
		resp, _ := httpheader.NewResponse(101)
		assert.Error(t, s.WriteResponseHeader(resp))
		assert.False(t, s.Upgraded())
		respond(t, s, "plain")
	})
	_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n"))
	require.NoError(t, err)
	_, bodies := readResponses(t, client, "GET")
	assert.Equal(t, []string{"plain"}, bodies)
	wait()
}

func TestServerSession_ChunkedResponseWithTrailers(t *testing.T) {
	client, server := tcpPair(t)
	wait := serve(t, server, nil, func(s *http1.ServerSession) {
		resp, _ := httpheader.NewResponse(200)
		resp.Add("Transfer-Encoding", "chunked")
		resp.Add("Trailer", "X-Sum")
		require.NoError(t, s.WriteResponseHeader(resp))
		_, err := s.Write([]byte("hello "))
		require.NoError(t, err)
		_, err = s.Write([]byte("world"))
		require.NoError(t, err)
		var tr httpheader.Header
		tr.Add("X-Sum", "42")
		require.NoError(t, s.FinishResponse(&tr))
	})
	_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
	require.NoError(t, err)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	all := readAllClose(client)
	assert.Equal(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\nX-Sum: 42\r\n\r\n", string(all))
	wait()
}

func TestServerSession_BodyRules(t *testing.T) {
	t.Run("head_response_has_no_body", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			resp, _ := httpheader.NewResponse(200)
			_ = resp.SetContentLength(100)
			require.NoError(t, s.WriteResponseHeader(resp))
			_, err := s.Write([]byte("x"))
			assert.ErrorIs(t, err, http1.ErrBodyNotAllowed)
			assert.NoError(t, s.FinishResponse(nil))
		})
		_, err := client.Write([]byte("HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"))
		require.NoError(t, err)
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		all := readAllClose(client)
		assert.Equal(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", string(all))
		wait()
	})
	t.Run("content_length_enforced", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			resp, _ := httpheader.NewResponse(200)
			_ = resp.SetContentLength(3)
			require.NoError(t, s.WriteResponseHeader(resp))
			_, err := s.Write([]byte("abcd"))
			assert.ErrorIs(t, err, http1.ErrBodyTooLong)
			_, err = s.Write([]byte("ab"))
			assert.NoError(t, err)
			assert.ErrorIs(t, s.FinishResponse(nil), perr.PrematureBodyEnd)
			assert.False(t, s.KeepAlive())
		})
		_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
		require.NoError(t, err)
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		_ = readAllClose(client)
		assert.Equal(t, 1, wait(), "closed after a short body")
	})
	t.Run("close_delimited_response_closes", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			resp, _ := httpheader.NewResponse(200)
			require.NoError(t, s.WriteResponseHeader(resp))
			_, _ = s.Write([]byte("until close"))
			_ = s.FinishResponse(nil)
		})
		_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"))
		require.NoError(t, err)
		_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
		all := readAllClose(client)
		assert.Equal(t, "HTTP/1.1 200 OK\r\n\r\nuntil close", string(all))
		assert.Equal(t, 1, wait())
	})
	t.Run("request_trailers", func(t *testing.T) {
		client, server := tcpPair(t)
		var trailer string
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			b, err := io.ReadAll(s)
			require.NoError(t, err)
			trailer = s.RequestTrailers().Get("X-T")
			respond(t, s, string(b))
		})
		_, err := client.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nX-T: v\r\n\r\n"))
		require.NoError(t, err)
		_, bodies := readResponses(t, client, "POST")
		assert.Equal(t, []string{"abc"}, bodies)
		wait()
		assert.Equal(t, "v", trailer)
	})
	t.Run("bad_chunk_is_400_source_downstream", func(t *testing.T) {
		client, server := tcpPair(t)
		var readErr error
		wait := serve(t, server, nil, func(s *http1.ServerSession) {
			_, readErr = io.ReadAll(s)
			_ = s.RespondError(perr.StatusCode(readErr))
		})
		_, err := client.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "POST")
		assert.Equal(t, []int{400}, codes)
		wait()
		assert.ErrorIs(t, readErr, perr.InvalidChunk)
	})
	t.Run("body_idle_timeout", func(t *testing.T) {
		client, server := tcpPair(t)
		var readErr error
		wait := serve(t, server, &http1.Options{BodyTimeout: 100 * time.Millisecond}, func(s *http1.ServerSession) {
			_, readErr = io.ReadAll(s)
			_ = s.RespondError(408)
		})
		_, err := client.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "POST")
		assert.Equal(t, []int{408}, codes)
		wait()
		assert.ErrorIs(t, readErr, perr.ReadTimedout)
	})
}

func TestServerSession_WriteTimeout(t *testing.T) {
	client, server := net.Pipe() // synchronous: a write blocks until read
	defer client.Close()
	done := make(chan error, 1)
	go func() {
		s := http1.NewServerSession(server, &http1.Options{WriteTimeout: 100 * time.Millisecond})
		defer s.Close()
		if ok, err := s.ReadRequest(); !ok {
			done <- err
			return
		}
		resp, _ := httpheader.NewResponse(200)
		done <- s.WriteResponseHeader(resp) // the client never reads
	}()
	_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	require.NoError(t, err)
	select {
	case err := <-done:
		assert.ErrorIs(t, err, perr.WriteTimedout)
	case <-time.After(5 * time.Second):
		t.Fatal("write did not time out")
	}
}

func TestServerSession_ChunkedToHTTP10Refused(t *testing.T) {
	client, server := tcpPair(t)
	var werr error
	wait := serve(t, server, nil, func(s *http1.ServerSession) {
		resp, _ := httpheader.NewResponse(200)
		resp.Add("Transfer-Encoding", "chunked")
		werr = s.WriteResponseHeader(resp)
		_ = s.RespondError(500)
	})
	_, err := client.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	require.NoError(t, err)
	codes, _ := readResponses(t, client, "GET")
	assert.Equal(t, []int{500}, codes)
	wait()
	assert.ErrorIs(t, werr, perr.InternalError)
}

func TestServerSession_FinishIsIdempotent(t *testing.T) {
	client, server := tcpPair(t)
	s := http1.NewServerSession(server, nil)
	_, err := client.Write([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"))
	require.NoError(t, err)
	ok, err := s.ReadRequest()
	require.True(t, ok)
	require.NoError(t, err)
	respond(t, s, "x")
	assert.True(t, s.Finish())
	assert.True(t, s.Finish())
	ok, err = s.ReadRequest()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "/2", string(s.Request().RawTarget()))
	assert.Equal(t, 2, s.Requests())
	require.NoError(t, s.Close())
}

func TestServerSession_RequestBodyLimit(t *testing.T) {
	opts := &http1.Options{MaxRequestBody: 4}
	t.Run("content_length", func(t *testing.T) {
		client, server := tcpPair(t)
		wait := serve(t, server, opts, echoTarget(t))
		_, err := client.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "POST")
		assert.Equal(t, []int{413}, codes)
		assert.Equal(t, 0, wait())
	})
	t.Run("chunked", func(t *testing.T) {
		client, server := tcpPair(t)
		var readErr error
		wait := serve(t, server, opts, func(s *http1.ServerSession) {
			_, readErr = io.ReadAll(s)
			_ = s.RespondError(perr.StatusCode(readErr))
		})
		_, err := client.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n123\r\n3\r\n456\r\n0\r\n\r\n"))
		require.NoError(t, err)
		codes, _ := readResponses(t, client, "POST")
		assert.Equal(t, []int{413}, codes)
		wait()
		assert.Equal(t, 413, perr.StatusCode(readErr))
	})
}

func TestServerSession_RFC9112_9_6_GracefulClose(t *testing.T) {
	// The server refuses a large body without reading it. The client keeps
	// sending; an abrupt close would reset the connection and could destroy
	// the 413 before the client reads it.
	client, server := tcpPair(t)
	wait := serve(t, server, &http1.Options{MaxRequestBody: 10}, echoTarget(t))
	go func() {
		_, _ = client.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4194304\r\n\r\n"))
		chunk := make([]byte, 64<<10)
		for range 64 {
			if _, err := client.Write(chunk); err != nil {
				return
			}
		}
	}()
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(client), nil)
	require.NoError(t, err)
	assert.Equal(t, 413, resp.StatusCode)
	client.Close()
	wait()
}

func TestServerSession_HeadInPieces(t *testing.T) {
	client, server := tcpPair(t)
	wait := serve(t, server, nil, echoTarget(t))
	raw := "GET /pieces HTTP/1.1\r\nHost: h\r\nX-Long: " + strings.Repeat("v", 20000) + "\r\nConnection: close\r\n\r\n"
	go func() {
		for i := 0; i < len(raw); i += 997 {
			if _, err := client.Write([]byte(raw[i:min(i+997, len(raw))])); err != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, bodies := readResponses(t, client, "GET")
	assert.Equal(t, []string{"/pieces:"}, bodies, "a 20 KB head in pieces, moved to the large buffer")
	assert.Equal(t, 1, wait())
}
