package hardening

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const smuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"

// rejectCase is a request the proxy must answer with status and close,
// without sending anything upstream.
type rejectCase struct {
	name   string
	req    string
	status int
	bug    string // a known defect: the case is skipped with this message
}

func runRejects(t *testing.T, cases []rejectCase) {
	t.Helper()
	e := newEnv(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bug != "" {
				knownBug(t, tc.bug)
			}
			e.t = t
			before := e.origin.Conns()
			rc := e.dial()
			rc.send(tc.req)
			assert.Equal(t, tc.status, rc.status(), "status")
			assert.True(t, rc.closed(), "connection must be closed")
			assert.NotContains(t, string(e.origin.Raw()), "smuggled", "smuggled request reached the origin")
			assert.Equal(t, before, e.origin.Conns(), "nothing may go upstream")
		})
	}
}

// TestSmuggling_CLTE covers both framing fields in one request, in both
// orders: 400 and close, nothing upstream (RFC 9112 §6.1, §6.3).
func TestSmuggling_CLTE(t *testing.T) {
	runRejects(t, []rejectCase{
		{"CL.TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, 400, ""},
		{"TE.CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + smuggled, 400, ""},
		{"TE.CL-zero", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n30\r\n" + smuggled + "\r\n0\r\n\r\n", 400, ""},
	})
}

// TestSmuggling_ContentLength covers invalid and differing Content-Length
// values: 400 and close (RFC 9112 §6.3(5)).
func TestSmuggling_ContentLength(t *testing.T) {
	var cases []rejectCase
	for _, cl := range []string{"-1", "+5", "0x5", "5 5", "5,6", "", "5.0", "99999999999999999999999", "1e3", "\x0b5"} {
		cases = append(cases, rejectCase{"CL=" + strings.ToValidUTF8(cl, "?"), "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + cl + "\r\n\r\n" + smuggled, 400, ""})
	}
	cases = append(cases,
		rejectCase{"duplicate-differing", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" + smuggled, 400, ""},
	)
	runRejects(t, cases)
}

// TestSmuggling_ContentLengthIdenticalDuplicates: identical values may be
// collapsed (RFC 9112 §6.3(5)); the origin gets exactly the 5-byte body and
// the next request stays a separate request.
func TestSmuggling_ContentLengthIdenticalDuplicates(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	for range 2 {
		resp, _, err := rc.response("POST")
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
	}
	reqs := e.origin.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "hello", string(reqs[0].Body))
	assert.Equal(t, "/b", reqs[1].Target)
}

// TestSmuggling_TransferEncodingObfuscation: any Transfer-Encoding that is
// not exactly a final "chunked" is refused, before anything goes upstream.
func TestSmuggling_TransferEncodingObfuscation(t *testing.T) {
	body := "0\r\n\r\n" + smuggled
	var cases []rejectCase
	for _, te := range []struct {
		name, value string
		status      int
	}{
		{"chunked-identity", "chunked, identity", 400},
		{"identity", "identity", 400},
		{"xchunked", "xchunked", 400},
		{"chunkedx", "chunkedx", 400},
		{"chunked-VT", "chunked\x0b", 400},
		{"chunked-NUL", "chunked\x00", 400},
		{"chunked-twice", "chunked, chunked", 400},
		{"quoted", `"chunked"`, 400},
		{"gzip-chunked", "gzip, chunked", 501},
	} {
		cases = append(cases, rejectCase{te.name, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te.value + "\r\n\r\n" + body, te.status, ""})
	}
	cases = append(cases,
		rejectCase{"two-fields", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n" + body, 400, ""},
		rejectCase{"obs-fold-name", "POST / HTTP/1.1\r\nHost: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n" + body, 400, ""},
		rejectCase{"space-before-colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n" + body, 400, ""},
		rejectCase{"tab-in-name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer\tEncoding: chunked\r\n\r\n" + body, 400, ""},
	)
	runRejects(t, cases)
}

// TestSmuggling_TransferEncodingAccepted: forms RFC 9110 allows (OWS,
// case, empty list elements) are accepted and forwarded as a correctly
// framed body; the next pipelined request stays a request of its own.
func TestSmuggling_TransferEncodingAccepted(t *testing.T) {
	for _, te := range []string{" chunked", "chunked ", "CHUNKED", "Chunked"} {
		t.Run(strings.TrimSpace(te), func(t *testing.T) {
			e := newEnv(t, nil)
			rc := e.dial()
			rc.send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:" + te + "\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n")
			for range 2 {
				resp, _, err := rc.response("POST")
				require.NoError(t, err)
				require.Equal(t, 200, resp.StatusCode)
			}
			reqs := e.origin.Requests()
			require.Len(t, reqs, 2)
			assert.Equal(t, "hello", string(reqs[0].Body))
			assert.Equal(t, "/b", reqs[1].Target)
		})
	}
}

// TestSmuggling_ChunkSizeAbuse: overflowing, signed, non-hex and oversized
// chunk lines end the exchange; the smuggled request after them never
// reaches the origin as a request, and the client connection closes.
func TestSmuggling_ChunkSizeAbuse(t *testing.T) {
	for _, tc := range []struct{ name, chunks string }{
		{"overflow", "fffffffffffffffffff1\r\nhello\r\n0\r\n\r\n"},
		{"overflow-to-small", "10000000000000005\r\nhello\r\n0\r\n\r\n"},
		{"negative", "-5\r\nhello\r\n0\r\n\r\n"},
		{"plus", "+5\r\nhello\r\n0\r\n\r\n"},
		{"0x-prefix", "0x5\r\nhello\r\n0\r\n\r\n"},
		{"space-inside", "5 5\r\nhello\r\n0\r\n\r\n"},
		{"empty-size", "\r\nhello\r\n0\r\n\r\n"},
		{"data-longer-than-size", "3\r\nhello\r\n0\r\n\r\n"},
		{"huge-extension", "5;" + strings.Repeat("x", 8<<10) + "\r\nhello\r\n0\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			rc := e.dial()
			rc.send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + tc.chunks + smuggled)
			if st := rc.status(); st != 0 {
				assert.GreaterOrEqual(t, st, 400, "an error status or nothing")
			}
			assert.True(t, rc.closed(), "connection must be closed")
			for _, r := range e.origin.Requests() {
				assert.NotEqual(t, "/smuggled", r.Target, "smuggled request reached the origin")
			}
		})
	}
}

// TestSmuggling_ChunkExtensionsAllowed: a short chunk extension is ignored
// (RFC 9112 §7.1.1) and not forwarded.
func TestSmuggling_ChunkExtensionsAllowed(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n")
	resp, _, err := rc.response("POST")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	reqs := e.origin.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "hello", string(reqs[0].Body))
}

// TestHeaders_Limits: request line over 8 KiB → 414, header section over
// 64 KiB or more than 100 fields → 431, all with a close.
func TestHeaders_Limits(t *testing.T) {
	many := strings.Builder{}
	for i := range 101 {
		many.WriteString("X-F" + strings.Repeat("a", i%7) + ": v\r\n")
	}
	runRejects(t, []rejectCase{
		{"request-line", "GET /" + strings.Repeat("a", 9<<10) + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, ""},
		{"one-huge-field", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 70<<10) + "\r\n\r\n", 431, ""},
		{"section", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-Many: "+strings.Repeat("c", 1000)+"\r\n", 66) + "\r\n", 431, ""},
		{"too-many-fields", "GET / HTTP/1.1\r\nHost: a\r\n" + many.String() + "\r\n", 431, ""},
	})
}

// TestHeaders_NearLimitsAccepted: a 7 KiB request line and 90 fields pass.
func TestHeaders_NearLimitsAccepted(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("GET /" + strings.Repeat("a", 7<<10) + " HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-F: v\r\n", 90) + "\r\n")
	resp, _, err := rc.response("GET")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

// TestSyntax_InvalidRequestLineAndFields: no autocorrection, 400 (505 for
// an unknown major version), close (RFC 9112 §2.2, §3, §5; RFC 9110 §5.5).
func TestSyntax_InvalidRequestLineAndFields(t *testing.T) {
	runRejects(t, []rejectCase{
		{"method-space", "G ET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"method-paren", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"method-tab", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"two-spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"version-lower", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"version-garbage", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400, ""},
		{"version-2", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, ""},
		{"version-3", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505, ""},
		{"version-missing", "GET /\r\nHost: a\r\n\r\n", 400, ""},
		{"target-space", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"target-relative", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"target-star-get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"target-authority-get", "GET a.example:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"target-ctl", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, ""},
		{"bare-LF-line", "GET / HTTP/1.1\nHost: a\n\n", 400, ""},
		{"bare-CR", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400, ""},
		{"NUL-value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400, ""},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, ""},
		{"whitespace-after-start-line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, ""},
		{"empty-name", "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400, ""},
		{"no-colon", "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, ""},
	})
}

// TestHost_Rules: HTTP/1.1 needs exactly one valid Host (RFC 9112 §3.2).
func TestHost_Rules(t *testing.T) {
	runRejects(t, []rejectCase{
		{"missing", "GET / HTTP/1.1\r\n\r\n", 400, ""},
		{"duplicate", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, ""},
		{"duplicate-same", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, ""},
		{"space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, ""},
		{"slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, ""},
		{"userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, ""},
		{"bad-port", "GET / HTTP/1.1\r\nHost: a:x\r\n\r\n", 400, ""},
		{"two-colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400, ""},
		{"comma-list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, ""},
	})
}

// TestHost_AbsoluteFormWins: with an absolute-form target the proxy uses
// the target's authority as Host and sends origin-form (RFC 9112 §3.2.2);
// an HTTP/1.0 request without Host is accepted.
func TestHost_AbsoluteFormWins(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("GET http://good.example/x?q=1 HTTP/1.1\r\nHost: evil.example\r\n\r\n")
	resp, _, err := rc.response("GET")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)

	rc2 := e.dial()
	rc2.send("GET /old HTTP/1.0\r\n\r\n")
	resp, _, err = rc2.response("GET")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)

	reqs := e.origin.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "good.example", reqs[0].Host)
	assert.Equal(t, "/x?q=1", reqs[0].Target)
	assert.NotContains(t, string(e.origin.Raw()), "evil.example")
	assert.NotEmpty(t, reqs[1].Host, "a Host is generated for HTTP/1.0")
}

// TestHopByHop_Stripping: request and response hop-by-hop fields, and the
// fields Connection names, do not cross the proxy (RFC 9110 §7.6.1).
func TestHopByHop_Stripping(t *testing.T) {
	e := newEnv(t, respondAll("HTTP/1.1 200 OK\r\nConnection: X-Internal, keep-alive\r\nX-Internal: secret\r\n"+
		"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nUpgrade: foo\r\nContent-Length: 2\r\n\r\nok"))
	rc := e.dial()
	rc.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Secret, keep-alive\r\nX-Secret: 1\r\nKeep-Alive: 300\r\n" +
		"Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\n")
	resp, body, err := rc.response("GET")
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "ok", string(body))
	for _, h := range []string{"X-Internal", "Keep-Alive", "Proxy-Connection", "Upgrade"} {
		assert.Empty(t, resp.Header.Get(h), "response field %s must be stripped", h)
	}
	reqs := e.origin.Requests()
	require.Len(t, reqs, 1)
	for _, h := range []string{"X-Secret", "Keep-Alive", "Proxy-Connection", "Te", "Upgrade"} {
		assert.Empty(t, reqs[0].Header.Get(h), "request field %s must be stripped", h)
	}
	assert.Equal(t, "yes", reqs[0].Header.Get("X-Kept"))
	assert.Contains(t, reqs[0].Header.Get("Via"), "hardening", "Via is added (RFC 9110 §7.6.3)")
}

// TestSlow_Headers: a slowloris client that trickles header bytes gets 408
// and a close within the whole-header deadline; a silent one is closed.
func TestSlow_Headers(t *testing.T) {
	e := newEnv(t, nil)
	t.Run("trickle", func(t *testing.T) {
		e.t = t
		rc := e.dial()
		start := time.Now()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			rc.send("GET / HTTP/1.1\r\nHost: a\r\n")
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := rc.c.Write([]byte("X-" + string(rune('a'+i%26)) + ": 1\r\n")); err != nil {
					return
				}
			}
		}()
		assert.Equal(t, 408, rc.status())
		assert.True(t, rc.closed())
		assert.Less(t, time.Since(start), dsHeaderTimeout+time.Second, "the deadline covers the whole header")
	})
	t.Run("silent", func(t *testing.T) {
		e.t = t
		rc := e.dial()
		assert.True(t, rc.closed())
	})
	assert.Zero(t, e.origin.Conns())
}

// TestSlow_Body: a client that stops sending its announced body loses the
// connection after the body idle timeout; the upstream connection is not
// pooled (the next request opens a new origin connection).
func TestSlow_Body(t *testing.T) {
	e := newEnv(t, func(oc *originConn) {
		for {
			if _, err := oc.next(); err != nil {
				return
			}
			oc.write(okResp)
		}
	})
	rc := e.dial()
	start := time.Now()
	rc.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
	assert.True(t, rc.closed(), "a stalled body closes the connection")
	assert.Less(t, time.Since(start), dsBodyTimeout+2*time.Second)
	for _, r := range e.origin.Requests() {
		assert.NotEqual(t, 100, len(r.Body), "the origin must not see a complete body")
	}
	// the partly-sent upstream connection is never reused
	rc2 := e.dial()
	rc2.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, _, err := rc2.response("GET")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2, e.origin.Conns(), "a dirty upstream connection must not be reused")
}

// TestUpgrade_BytesAfterRefusedUpgrade: bytes sent after an upgrade request
// that the origin refuses are parsed as the next HTTP request, never
// tunneled raw (RFC 9110 §7.8); see also TestCVE_2026_2833.
func TestUpgrade_BytesAfterRefusedUpgrade(t *testing.T) {
	e := newEnv(t, respondAll("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
	rc := e.dial()
	rc.send("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" + smuggled)
	resp, _, err := rc.response("GET")
	require.NoError(t, err)
	assert.Equal(t, 403, resp.StatusCode)
	// the follow-up is either answered as a request of its own or dropped with the connection
	if resp2, _, err := rc.response("GET"); err == nil {
		assert.Equal(t, 403, resp2.StatusCode)
	}
	for _, r := range e.origin.Requests() {
		assert.Contains(t, r.Header.Get("Via"), "hardening", "every request the origin sees went through the proxy's parser: %s", r.Target)
	}
	assert.NotContains(t, string(e.origin.Raw()), "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", "raw bytes tunneled before a 101")
}

// TestUpgrade_HTTP10Ignored: Upgrade in an HTTP/1.0 request is not an
// upgrade (RFC 9110 §7.8): the origin never sees Upgrade.
func TestUpgrade_HTTP10Ignored(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	resp, _, err := rc.response("GET")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	reqs := e.origin.Requests()
	require.Len(t, reqs, 1)
	assert.Empty(t, reqs[0].Header.Get("Upgrade"))
}

// TestPipelining_Order: pipelined responses come back in request order
// (RFC 9112 §9.3.2).
func TestPipelining_Order(t *testing.T) {
	e := newEnv(t, func(oc *originConn) {
		for {
			r, err := oc.next()
			if err != nil {
				return
			}
			oc.write("HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(r.Target)) + "\r\n\r\n" + r.Target)
		}
	})
	rc := e.dial()
	rc.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /22 HTTP/1.1\r\nHost: a\r\n\r\nGET /333 HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"/1", "/22", "/333"} {
		_, body, err := rc.response("GET")
		require.NoError(t, err)
		assert.Equal(t, want, string(body))
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// knownBug skips the case with "BUG: msg", unless HARDENING_RUN_BUGS is
// set: then the case runs, to reproduce the defect or check its fix.
func knownBug(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("HARDENING_RUN_BUGS") == "" {
		t.Skip("BUG: " + msg + " (set HARDENING_RUN_BUGS=1 to run)")
	}
}
