package hardening

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/proxy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/http2"
)

// TestCVE_2025_4366_BodyNotDrainedBeforeReuse: a request answered by a
// hook without reading its body must not leave the body on the connection
// to be parsed as the next request (Pingora's CVE-2025-4366).
func TestCVE_2025_4366_BodyNotDrainedBeforeReuse(t *testing.T) {
	e := newEnv(t, nil, func(c *config) {
		c.hooks.RequestFilter = func(s *proxy.Session, _ *struct{}) (bool, error) {
			if s.Request().Path() != "/deny" {
				return false, nil
			}
			return true, s.RespondError(403)
		}
	})
	for _, tc := range []struct{ name, framing, body string }{
		{"content-length", "Content-Length: " + itoa(len(smuggled)) + "\r\n", smuggled},
		{"chunked", "Transfer-Encoding: chunked\r\n", strings.ToLower(itoa16(len(smuggled))) + "\r\n" + smuggled + "\r\n0\r\n\r\n"},
		{"big-content-length", "Content-Length: 1000000\r\n", strings.Repeat(smuggled, 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			rc := e.dial()
			rc.send("POST /deny HTTP/1.1\r\nHost: a\r\n" + tc.framing + "\r\n" + tc.body + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
			resp, _, err := rc.response("POST")
			require.NoError(t, err)
			assert.Equal(t, 403, resp.StatusCode)
			if resp2, _, err := rc.response("GET"); err == nil {
				assert.Equal(t, 200, resp2.StatusCode, "the next response must be /next's")
			}
			for _, r := range e.origin.Requests() {
				assert.NotEqual(t, "/smuggled", r.Target, "the undrained body was parsed as a request")
			}
		})
	}
}

func itoa16(n int) string {
	const hex = "0123456789abcdef"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 16 {
		b = append([]byte{hex[n%16]}, b...)
	}
	return string(b)
}

// TestCVE_2026_2833_BytesForwardedBefore101: bytes after an upgrade request
// are not tunneled before the origin's 101; after a 101 they are.
func TestCVE_2026_2833_BytesForwardedBefore101(t *testing.T) {
	t.Run("refused", TestUpgrade_BytesAfterRefusedUpgrade)
	t.Run("switched", func(t *testing.T) {
		gotEarly := make(chan []byte, 1)
		e := newEnv(t, func(oc *originConn) {
			if _, err := oc.nextHead(); err != nil {
				return
			}
			// whatever is buffered before the 101 arrived too early
			_ = oc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
			early := make([]byte, 256)
			n, _ := oc.br.Read(early)
			gotEarly <- early[:n]
			oc.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			_ = oc.SetReadDeadline(time.Now().Add(ioWait))
			buf := make([]byte, 5)
			if _, err := oc.br.Read(buf); err == nil {
				oc.write("echo:" + string(buf))
			}
			oc.sleep(200 * time.Millisecond)
		})
		rc := e.dial()
		rc.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nEARLY")
		resp, _, _ := rc.response("GET")
		require.NotNil(t, resp)
		assert.Equal(t, 101, resp.StatusCode)
		select {
		case early := <-gotEarly:
			assert.Empty(t, string(early), "no byte may be tunneled before the 101")
		case <-time.After(ioWait):
			t.Fatal("the origin never saw the upgrade request")
		}
		rc.send("hello")
		buf := make([]byte, 10)
		_ = rc.c.SetReadDeadline(time.Now().Add(ioWait))
		n, _ := rc.br.Read(buf)
		// the early bytes were either held back until the 101 or dropped,
		// never sent before it; the tunnel works after it
		assert.Contains(t, []string{"echo:EARLY", "echo:hello"}, string(buf[:n]))
	})
}

// TestCVE_2026_2835_HTTP10TransferEncoding: HTTP/1.0 with
// Transfer-Encoding is faulty framing (400, close) and so are multiple TE
// values (RFC 9112 §6.1).
func TestCVE_2026_2835_HTTP10TransferEncoding(t *testing.T) {
	runRejects(t, []rejectCase{
		{"http10-te", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400, ""},
		{"http10-te-cl", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled, 400, ""},
		{"multiple-te-lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400, ""},
		{"multiple-te-values", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n" + smuggled, 501, ""},
	})
}

// TestCVE_2026_2836_CacheKeyWithoutHost documents that pingora-go has no
// HTTP cache: it checks that requests differing only in Host are never
// answered from one another (each reaches the origin with its own Host),
// then skips.
func TestCVE_2026_2836_CacheKeyWithoutHost(t *testing.T) {
	e := newEnv(t, func(oc *originConn) {
		for {
			r, err := oc.next()
			if err != nil {
				return
			}
			oc.write("HTTP/1.1 200 OK\r\nCache-Control: public, max-age=600\r\nContent-Length: " + itoa(len(r.Host)) + "\r\n\r\n" + r.Host)
		}
	})
	for _, host := range []string{"a.example", "b.example"} {
		rc := e.dial()
		rc.send("GET /same HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
		_, body, err := rc.response("GET")
		require.NoError(t, err)
		assert.Equal(t, host, string(body))
	}
	assert.Len(t, e.origin.Requests(), 2)
	t.Skip("no HTTP cache in pingora-go yet (SPEC §2.7–2.8 not ported): the cache key must include Host when one is added")
}

// TestCVE_2023_44487_RapidReset: HEADERS then RST_STREAM, repeated, ends
// in GOAWAY(ENHANCE_YOUR_CALM) and a close.
func TestCVE_2023_44487_RapidReset(t *testing.T) {
	e := newEnv(t, func(oc *originConn) {
		for {
			if _, err := oc.next(); err != nil {
				return
			}
			oc.sleep(50 * time.Millisecond)
			oc.write(okResp)
		}
	})
	h := e.dialH2()
	h.noAck = true
	go func() {
		for i := range 5000 {
			id := uint32(1 + 2*i)
			if h.request(id, true, reqFields("/")...) != nil || h.fr.WriteRSTStream(id, http2.ErrCodeCancel) != nil {
				return
			}
		}
	}()
	o := h.untilEnd(2 * ioWait)
	require.True(t, o.closed || o.goaway != nil, "rapid reset must end the connection")
	if o.goaway != nil {
		assert.Equal(t, http2.ErrCodeEnhanceYourCalm, *o.goaway)
	}
	assert.Less(t, len(e.origin.Requests()), 1000, "most reset streams must never reach the origin")
}

// TestCVE_2023_45288_ContinuationFlood: endless CONTINUATION frames of one
// header block end the connection after at most 16, nothing upstream.
func TestCVE_2023_45288_ContinuationFlood(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		name string
		frag func(h *h2Conn, i int) []byte
	}{
		{"tiny-fragments", func(h *h2Conn, i int) []byte { return []byte{0x40, 1, 'x', 1, 'y'} }},
		{"big-fragments", func(h *h2Conn, i int) []byte { return h.block("x-c", strings.Repeat("c", 8000)) }},
		{"empty-fragments", func(h *h2Conn, i int) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := e.dialH2()
			h.noAck = true
			require.NoError(t, h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(reqFields("/")...), EndStream: true}))
			go func() {
				for i := range 10000 {
					if h.fr.WriteContinuation(1, false, tc.frag(h, i)) != nil {
						return
					}
				}
			}()
			o := h.untilEnd(ioWait)
			require.True(t, o.closed || o.goaway != nil, "the flood must end the connection")
		})
	}
	assert.Empty(t, e.origin.Raw(), "nothing may go upstream")
}

// TestCVE_2025_8671_MadeYouReset: frames that make the server reset
// streams (WINDOW_UPDATE 0 on a stream, DATA on a closed stream), repeated,
// end in GOAWAY(ENHANCE_YOUR_CALM) and a close.
func TestCVE_2025_8671_MadeYouReset(t *testing.T) {
	for _, tc := range []struct {
		name    string
		provoke func(h *h2Conn, id uint32) error
	}{
		{"window-update-zero", func(h *h2Conn, id uint32) error { return h.fr.WriteWindowUpdate(id, 0) }},
		{"data-after-end-stream", func(h *h2Conn, id uint32) error { return h.fr.WriteData(id, true, []byte("x")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(oc *originConn) {
				for {
					if _, err := oc.next(); err != nil {
						return
					}
					oc.sleep(50 * time.Millisecond)
					oc.write(okResp)
				}
			})
			h := e.dialH2()
			h.noAck = true
			go func() {
				for i := range 5000 {
					id := uint32(1 + 2*i)
					if h.request(id, true, reqFields("/")...) != nil || tc.provoke(h, id) != nil {
						return
					}
				}
			}()
			o := h.untilEnd(2 * ioWait)
			require.True(t, o.closed || o.goaway != nil, "provoked resets must end the connection")
			if o.goaway != nil {
				assert.Contains(t, []http2.ErrCode{http2.ErrCodeEnhanceYourCalm, http2.ErrCodeProtocol, http2.ErrCodeStreamClosed}, *o.goaway)
			}
			assert.Less(t, len(e.origin.Requests()), 1000)
		})
	}
}

// TestCVE_2024_24791_ExpectContinuePoisonsPool: an origin that answers a
// request carrying a body before reading it must not leave that body to be
// read as the start of the next request on the pooled connection; Expect is
// never forwarded.
func TestCVE_2024_24791_ExpectContinuePoisonsPool(t *testing.T) {
	e := newEnv(t, func(oc *originConn) {
		for {
			r, err := oc.nextHead()
			if err != nil {
				return
			}
			if r.URL.Path == "/upload" {
				// answer first, then drain the announced body before
				// reading the next request, as a keep-alive server must:
				// if the proxy reused the connection without sending the
				// body, the next request would be eaten as this body
				oc.write("HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					return
				}
				continue
			}
			_, _ = io.Copy(io.Discard, r.Body)
			oc.write(okResp)
		}
	})
	rc := e.dial()
	rc.send("POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: " + itoa(len(smuggled)) + "\r\n\r\n")
	resp, _, err := rc.response("POST")
	require.NoError(t, err)
	if resp.StatusCode == 100 {
		rc.send(smuggled)
		resp, _, err = rc.response("POST")
		require.NoError(t, err)
	}
	assert.Equal(t, 417, resp.StatusCode)
	_ = rc.c.Close()
	for range 3 {
		st, body, _ := e.get("/next")
		assert.Equal(t, 200, st)
		assert.Equal(t, "ok", body)
	}
	for _, r := range e.origin.Requests() {
		assert.NotEqual(t, "/smuggled", r.Target, "the body was read as a request on a pooled connection")
		assert.Empty(t, r.Header.Get("Expect"), "Expect must not be forwarded")
	}
}

// TestCVE_2021_33197_ConnectionRemovesProxyHeaders: a client naming the
// proxy's own forwarding fields in Connection cannot strip them.
func TestCVE_2021_33197_ConnectionRemovesProxyHeaders(t *testing.T) {
	e := newEnv(t, nil, func(c *config) {
		c.opts.XForwardedFor = true
		c.opts.Forwarded = true
		c.hooks.UpstreamRequestFilter = func(_ *proxy.Session, req *httpheader.RequestHeader, _ *struct{}) error {
			return req.Set("X-Auth-Checked", "yes")
		}
	})
	rc := e.dial()
	rc.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For, Forwarded, Via, X-Auth-Checked, close\r\n\r\n")
	resp, _, err := rc.response("GET")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	reqs := e.origin.Requests()
	require.Len(t, reqs, 1)
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "Via", "X-Auth-Checked"} {
		assert.NotEmpty(t, reqs[0].Header.Get(h), "%s added by the proxy must survive", h)
	}
}

// TestCVE_2025_22871_BareLFInChunkSize: a chunk line ending in a bare LF
// is invalid (400/close); the smuggled request never reaches the origin.
func TestCVE_2025_22871_BareLFInChunkSize(t *testing.T) {
	for _, chunks := range []string{
		"5\nhello\r\n0\r\n\r\n",
		"5\r\nhello\r\n0\n\r\n",
		"5;ext\nhello\r\n0\r\n\r\n",
		"5\r\nhello\n0\r\n\r\n",
	} {
		e := newEnv(t, nil)
		rc := e.dial()
		rc.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + smuggled)
		if st := rc.status(); st != 0 {
			assert.GreaterOrEqual(t, st, 400)
		}
		assert.True(t, rc.closed())
		for _, r := range e.origin.Requests() {
			assert.NotEqual(t, "/smuggled", r.Target)
		}
		assert.False(t, bytes.Contains(e.origin.Raw(), []byte("/smuggled")), "the bytes after the bad chunk line must not be forwarded")
	}
}

// TestCVE_2019_16276_SpaceBeforeColon: whitespace between a field name and
// its colon is 400 (RFC 9112 §5.1).
func TestCVE_2019_16276_SpaceBeforeColon(t *testing.T) {
	runRejects(t, []rejectCase{
		{"content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", 400, ""},
		{"transfer-encoding", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, ""},
		{"host-tab", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, ""},
		{"other", "GET / HTTP/1.1\r\nHost: a\r\nX-Foo : 1\r\n\r\n", 400, ""},
	})
}

// TestHTTP2Bomb_2026_UnboundedHeaderListAndStreams: header lists over the
// 64 KiB limit (through CONTINUATION, within the frame-count limit) and
// streams over the concurrency limit are refused with bounded memory.
func TestHTTP2Bomb_2026_UnboundedHeaderListAndStreams(t *testing.T) {
	t.Run("header-list", func(t *testing.T) {
		e := newEnv(t, nil)
		h := e.dialH2()
		require.NoError(t, h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: h.block(reqFields("/")...), EndStream: true}))
		for i := range 10 {
			frag := h.block("x-h"+itoa(i), strings.Repeat("h", 12000))
			require.NoError(t, h.fr.WriteContinuation(1, i == 9, frag))
		}
		o := h.read(ioWait, streamDone(1))
		assert.True(t, o.rejected(1), "a 120 KB header list must be refused: %+v", o)
		assert.Empty(t, e.origin.Raw())
	})
	t.Run("hpack-indexed", TestH2_HPACKBomb)
	t.Run("streams", TestH2_StreamLimit)
}
