package hardening

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestH2_DowngradeInjection: HTTP/2 pseudo-header and field values that
// would inject lines into the HTTP/1 request sent upstream (CR, LF, NUL,
// spaces in :path/:method/:authority) are refused; no injected line ever
// reaches the origin.
func TestH2_DowngradeInjection(t *testing.T) {
	e := newEnv(t, nil)
	inj := "\r\nx-injected: 1"
	cases := []struct {
		name string
		kv   []string
	}{
		{"path-space-version", []string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", "/ HTTP/1.1" + inj}},
		{"path-space", []string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", "/a b"}},
		{"path-LF", []string{":method", "GET", ":scheme", "http", ":authority", "a", ":path", "/a\nx-injected: 1"}},
		{"method-space", []string{":method", "GET /x HTTP/1.1" + inj, ":scheme", "http", ":authority", "a", ":path", "/"}},
		{"authority-CRLF", []string{":method", "GET", ":scheme", "http", ":authority", "a" + inj, ":path", "/"}},
		{"authority-space", []string{":method", "GET", ":scheme", "http", ":authority", "a b", ":path", "/"}},
		{"value-CRLF", reqFields("/", "x-a", "1"+inj)},
		{"name-CRLF", reqFields("/", "x-a"+inj, "1")},
		{"name-colon", reqFields("/", "x-a:b", "1")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			h := e.dialH2()
			require.NoError(t, h.request(1, true, tc.kv...))
			o := h.read(ioWait, streamDone(1))
			assert.True(t, o.rejected(1), "must be refused: %+v", o)
		})
	}
	assert.NotContains(t, strings.ToLower(string(e.origin.Raw())), "x-injected", "a line was injected upstream")
}

// TestH2_HostDiffersFromAuthority: the authority is what routing and the
// upstream Host use (RFC 9110 §7.2, RFC 9113 §8.3.1): a conflicting Host
// field is either refused or loses to :authority.
func TestH2_HostDiffersFromAuthority(t *testing.T) {
	e := newEnv(t, nil)
	h := e.dialH2()
	require.NoError(t, h.request(1, true, reqFields("/", "host", "evil.example")...))
	o := h.read(ioWait, streamDone(1))
	if o.rejected(1) {
		assert.Empty(t, e.origin.Raw())
		return
	}
	require.Equal(t, "200", o.status[1])
	reqs := e.origin.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "a", reqs[0].Host, "the upstream Host must be the :authority")
	assert.NotContains(t, string(e.origin.Raw()), "evil.example")
}

// TestConnectionClose_StopsPipeline: nothing after a request with
// Connection: close is processed.
func TestConnectionClose_StopsPipeline(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("GET /first HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" + smuggled)
	resp, _, err := rc.response("GET")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.True(t, rc.closed())
	time.Sleep(50 * time.Millisecond)
	for _, r := range e.origin.Requests() {
		assert.NotEqual(t, "/smuggled", r.Target)
	}
}

// TestConnect_Refused: CONNECT is 405 unless Options.AllowConnect, before
// any hook or upstream (tunnels are opt-in).
func TestConnect_Refused(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("CONNECT internal.example:22 HTTP/1.1\r\nHost: internal.example:22\r\n\r\nSSH-2.0-evil\r\n")
	assert.Equal(t, 405, rc.status())
	assert.Empty(t, e.origin.Raw())
}

// TestExpect_HTTP10Ignored and the 1xx path: an HTTP/1.0 request's Expect
// is ignored (no 100), and the origin never sees Expect.
func TestExpect_HTTP10Ignored(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("POST / HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello")
	resp, _, err := rc.response("POST")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode, "no 100 Continue for HTTP/1.0")
	reqs := e.origin.Requests()
	require.Len(t, reqs, 1)
	assert.Empty(t, reqs[0].Header.Get("Expect"))
	assert.Equal(t, "hello", string(reqs[0].Body))
}

// TestInformational_Forwarded: 1xx responses from the origin are forwarded
// before the final response (RFC 9110 §15.2).
func TestInformational_Forwarded(t *testing.T) {
	e := newEnv(t, respondAll("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"+okResp))
	rc := e.dial()
	rc.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	_ = rc.c.SetReadDeadline(time.Now().Add(ioWait))
	line, err := rc.br.ReadString('\n')
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(line, "HTTP/1.1 103"), "first line %q", line)
}

// TestMaxForwards: a proxy MUST NOT forward a TRACE or OPTIONS request
// with Max-Forwards: 0 (it answers itself) and MUST decrement the value
// otherwise (RFC 9110 §7.6.2). Other methods, and invalid values, are
// forwarded unchanged.
func TestMaxForwards(t *testing.T) {
	e := newEnv(t, nil)
	rc := e.dial()
	rc.send("OPTIONS * HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n" +
		"OPTIONS /x HTTP/1.1\r\nHost: a\r\nMax-Forwards: 5\r\n\r\n" +
		"TRACE /t HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n" +
		"GET /g HTTP/1.1\r\nHost: a\r\nMax-Forwards: 0\r\n\r\n" +
		"OPTIONS /bad HTTP/1.1\r\nHost: a\r\nMax-Forwards: -1\r\n\r\n")
	for i, want := range []struct {
		method string
		status int
	}{{"OPTIONS", 200}, {"OPTIONS", 200}, {"TRACE", 405}, {"GET", 200}, {"OPTIONS", 200}} {
		resp, _, err := rc.response(want.method)
		require.NoError(t, err, "response %d", i)
		require.NotNil(t, resp)
		assert.Equal(t, want.status, resp.StatusCode, "response %d", i)
		if i == 0 || i == 2 {
			assert.NotEmpty(t, resp.Header.Get("Allow"), "response %d", i)
		}
	}
	got := map[string]string{}
	for _, r := range e.origin.Requests() {
		got[r.Method+" "+r.Target] = r.Header.Get("Max-Forwards")
	}
	assert.Equal(t, map[string]string{"OPTIONS /x": "4", "GET /g": "0", "OPTIONS /bad": "-1"}, got)
}
