package http1_test

import (
	"errors"
	"strings"
	"testing"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseReq parses a whole request head and returns the header, the bytes
// consumed and the status a server would answer (0 if the head is valid).
func parseReq(t *testing.T, raw string) (*httpheader.RequestHeader, int, int) {
	t.Helper()
	var req httpheader.RequestHeader
	n, err := http1.ParseRequest([]byte(raw), &req, nil)
	if err != nil {
		require.NotErrorIs(t, err, http1.ErrIncomplete, "head should be complete")
		return &req, 0, perr.StatusCode(err)
	}
	return &req, n, 0
}

func TestParseRequest_Valid(t *testing.T) {
	raw := "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Request-ID:  42 \r\nx-dup: 1\r\nX-Dup: 2\r\n\r\nBODY"
	req, n, st := parseReq(t, raw)
	require.Zero(t, st)
	assert.Equal(t, len(raw)-4, n)
	assert.Equal(t, "GET", req.Method())
	assert.Equal(t, "/a/b?x=1", string(req.RawTarget()))
	assert.Equal(t, httpheader.HTTP11, req.Version())
	require.Equal(t, 4, req.Len())
	name, value := req.Field(1)
	assert.Equal(t, "X-Request-ID", string(name), "case kept")
	assert.Equal(t, "42", string(value), "OWS trimmed")
	name, _ = req.Field(2)
	assert.Equal(t, "x-dup", string(name))
	assert.Equal(t, 2, req.Count("X-DUP"))
	wire := req.AppendWire(nil)
	assert.Equal(t, "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Request-ID: 42\r\nx-dup: 1\r\nX-Dup: 2\r\n\r\n", string(wire))
}

func TestParseRequest_Incomplete(t *testing.T) {
	raw := "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"
	var req httpheader.RequestHeader
	for i := range len(raw) {
		n, err := http1.ParseRequest([]byte(raw[:i]), &req, nil)
		require.ErrorIs(t, err, http1.ErrIncomplete, "prefix %d", i)
		require.Zero(t, n)
	}
	n, err := http1.ParseRequest([]byte(raw), &req, nil)
	require.NoError(t, err)
	assert.Equal(t, len(raw), n)
}

func TestParseRequest_ErrorForm(t *testing.T) {
	var req httpheader.RequestHeader
	_, err := http1.ParseRequest([]byte("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), &req, nil)
	require.Error(t, err)
	var pe *perr.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, perr.Downstream, pe.Source())
	assert.Equal(t, 400, perr.StatusCode(err))
	assert.ErrorIs(t, err, perr.InvalidHTTPHeader)
	assert.Contains(t, err.Error(), "http1: ")
}

// ruleCases are the request rules, one per RFC section; want is the status.
var ruleCases = []struct {
	name string
	raw  string
	want int
}{
	{"RFC9112_2_2_BareLFInRequestLine", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400},
	{"RFC9112_2_2_BareLFInField", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400},
	{"RFC9112_2_2_BareCRInField", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400},
	{"RFC9112_2_2_BareCRLineEnd", "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", 400},
	{"RFC9112_2_2_WhitespaceAfterStartLine", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400},
	{"RFC9112_2_2_LeadingEmptyLinesIgnored", "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 0},
	{"RFC9112_3_DoubleSpace", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_TrailingSpace", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_TabSeparator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_NoVersion", "GET /\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_BadMethod", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_LowerCaseVersion", "GET / http/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_ControlInTarget", "GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_2_3_Version2", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
	{"RFC9112_2_3_Version09", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
	{"RFC9112_2_3_Version10", "GET / HTTP/1.0\r\n\r\n", 0},
	{"RFC9112_3_RequestLineTooLong", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
	{"RFC9112_3_2_MissingHost", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400},
	{"RFC9112_3_2_TwoHosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	{"RFC9112_3_2_TwoHostsHTTP10", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400},
	{"RFC9112_3_2_InvalidHost", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
	{"RFC9112_3_2_InvalidHostSlash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
	{"RFC9112_3_2_HostWithPortAndIPv6", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 0},
	{"RFC9112_3_2_EmptyHost", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0},
	{"RFC9112_3_2_HostNonDigitPort", "GET / HTTP/1.1\r\nHost: a:x\r\n\r\n", 400},
	{"RFC9112_3_2_HostTwoPorts", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400},
	{"RFC9112_3_2_HostPortTooLong", "GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400},
	{"RFC9112_3_2_HostBareIPv6", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", 400},
	{"RFC9112_3_2_HostBadIPLiteral", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", 400},
	{"RFC9112_3_2_HostIPLiteralJunk", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400},
	{"RFC9112_3_2_HostWithPort", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 0},
	{"RFC9112_3_2_HostEmptyPort", "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n", 0},
	{"RFC9112_3_2_2_AbsoluteForm", "GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n", 0},
	{"RFC9112_3_2_3_AuthorityForm", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0},
	{"RFC9112_3_2_3_AuthorityFormOnlyForCONNECT", "GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_2_3_CONNECTNeedsAuthority", "CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_2_3_CONNECTEmptyHost", "CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_2_3_CONNECTBadPort", "CONNECT h:A HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_3_2_3_CONNECTNoPort", "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC3986_2_1_CONNECTBadPctEncoding", "CONNECT %0:0 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC3986_2_1_CONNECTEscapedASCII", "CONNECT ex%41mple.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC3986_2_1_CONNECTPctEncodedUTF8", "CONNECT ex%C3%A9mple.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 0},
	{"RFC3986_2_1_HostBadPctEncoding", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400},
	{"RFC9112_3_2_3_CONNECTIPv6", "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", 0},
	{"RFC3986_3_2_2_CONNECTEmptyIPLiteral", "CONNECT []:00 HTTP/1.0\r\n\r\n", 400},
	{"RFC3986_3_2_2_CONNECTIPv4InBrackets", "CONNECT [127.0.0.1]:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC3986_3_2_2_CONNECTNameInBrackets", "CONNECT [example]:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC6874_CONNECTIPv6Zone", "CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\nHost: h\r\n\r\n", 0},
	{"RFC6874_CONNECTEmptyZone", "CONNECT [fe80::1%25]:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC3986_3_2_2_HostEmptyIPLiteral", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400},
	{"RFC3986_3_2_2_HostIPv4InBrackets", "GET / HTTP/1.1\r\nHost: [127.0.0.1]:80\r\n\r\n", 400},
	{"RFC9112_3_2_4_Asterisk", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0},
	{"RFC9112_3_2_4_AsteriskOnlyForOPTIONS", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	{"RFC9112_5_1_WhitespaceBeforeColon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
	{"RFC9112_5_1_TabBeforeColon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400},
	{"RFC9112_5_1_EmptyName", "GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400},
	{"RFC9112_5_1_NoColon", "GET / HTTP/1.1\r\nHost: h\r\nX-Foo\r\n\r\n", 400},
	{"RFC9112_5_2_ObsFold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400},
	{"RFC9112_5_2_ObsFoldTab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400},
	{"RFC9110_5_5_NULInValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", 400},
	{"RFC9110_5_5_DELInValue", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", 400},
	{"RFC9110_5_5_ObsTextAllowed", "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n", 0},
	{"RFC9110_5_5_EmptyValue", "GET / HTTP/1.1\r\nHost: h\r\nX:\r\n\r\n", 0},
	{"RFC9110_5_4_TooManyFields", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X: y\r\n", 100) + "\r\n", 431},
	{"RFC9110_5_4_HeaderTooLarge", "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 70000) + "\r\n\r\n", 431},
	{"RFC9112_6_1_TEInHTTP10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	{"RFC9112_6_1_ChunkedTwice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400},
	{"RFC9112_6_1_ChunkedTwiceTwoLines", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	{"RFC9112_6_1_UnsupportedCoding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
	{"RFC9112_6_3_3_ContentLengthAndTE", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	{"RFC9112_6_3_4_TENotEndingInChunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
	{"RFC9112_6_3_4_TEIdentity", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", 400},
	{"RFC9112_6_3_4_TEEmpty", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 400},
	{"RFC9112_6_3_4_TEChunkedSuffix", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n", 400},
	{"RFC9110_5_6_1_2_EmptyListElements", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n", 0},
	{"RFC9112_6_3_5_DifferingContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
	{"RFC9112_6_3_5_DifferingContentLengthList", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400},
	{"RFC9112_6_3_5_IdenticalContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5, 5\r\n\r\n", 0},
	{"RFC9112_6_3_5_NegativeContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
	{"RFC9112_6_3_5_PlusContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", 400},
	{"RFC9112_6_3_5_HexContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", 400},
	{"RFC9112_6_3_5_EmptyContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400},
	{"RFC9112_6_3_5_OverflowContentLength", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
}

func TestParseRequest_Rules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, st := parseReq(t, tc.raw)
			assert.Equal(t, tc.want, st)
		})
	}
}

// The named tests below are the rules the issue singles out; each checks the
// status through the public API.

func TestParseRequest_RFC9112_6_3_5_DifferingContentLength(t *testing.T) {
	_, _, st := parseReq(t, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
	assert.Equal(t, 400, st)
}

func TestParseRequest_RFC9112_6_3_3_ContentLengthWithTransferEncoding(t *testing.T) {
	_, _, st := parseReq(t, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")
	assert.Equal(t, 400, st)
}

func TestParseRequest_RFC9112_5_2_ObsFold(t *testing.T) {
	_, _, st := parseReq(t, "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  continued\r\n\r\n")
	assert.Equal(t, 400, st)
}

func TestParseRequest_CVE_2019_16276(t *testing.T) {
	// "Transfer-Encoding : chunked" must not be read as a framing header by
	// one hop and ignored by the next.
	_, _, st := parseReq(t, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n")
	assert.Equal(t, 400, st)
}

func TestParseRequest_CVE_2026_2835(t *testing.T) {
	for name, raw := range map[string]string{
		"http10_te":        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		"http10_te_and_cl": "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
		"multiple_te":      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, st := parseReq(t, raw)
			assert.Equal(t, 400, st)
		})
	}
}

func TestParseRequest_Limits(t *testing.T) {
	lim := &http1.Limits{MaxRequestLine: 32, MaxHeaderBytes: 128, MaxHeaderCount: 2}
	cases := []struct {
		name string
		raw  string
		want int
	}{
		{"ok", "GET / HTTP/1.1\r\nHost: h\r\nA: b\r\n\r\n", 0},
		{"line", "GET /" + strings.Repeat("a", 40) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
		{"line_incomplete", "GET /" + strings.Repeat("a", 40), 414},
		{"count", "GET / HTTP/1.1\r\nHost: h\r\nA: b\r\nC: d\r\n\r\n", 431},
		{"bytes", "GET / HTTP/1.1\r\nHost: h\r\nA: " + strings.Repeat("b", 120) + "\r\n\r\n", 431},
		{"bytes_incomplete", "GET / HTTP/1.1\r\nHost: h\r\nA: " + strings.Repeat("b", 200), 431},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var req httpheader.RequestHeader
			_, err := http1.ParseRequest([]byte(tc.raw), &req, lim)
			assert.Equal(t, tc.want, perr.StatusCode(err))
		})
	}
}

func TestParseRequest_GarbageRejectedEarly(t *testing.T) {
	// A TLS ClientHello sent to a plain port is refused without waiting.
	var req httpheader.RequestHeader
	_, err := http1.ParseRequest([]byte("\x16\x03\x01\x02\x00\x01\x00"), &req, nil)
	assert.Equal(t, 400, perr.StatusCode(err))
}

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		ok     bool
		status int
		reason string
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", true, 200, "OK"},
		{"custom_reason", "HTTP/1.1 200 Fine Thanks\r\n\r\n", true, 200, "Fine Thanks"},
		{"empty_reason", "HTTP/1.1 404 \r\n\r\n", true, 404, ""},
		{"no_reason", "HTTP/1.0 204\r\n\r\n", true, 204, "No Content"},
		{"early_hints", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", true, 103, "Early Hints"},
		{"RFC9112_4_BadVersion", "HTTP/2.0 200 OK\r\n\r\n", false, 0, ""},
		{"RFC9112_4_TwoDigitStatus", "HTTP/1.1 20 OK\r\n\r\n", false, 0, ""},
		{"RFC9112_4_StatusBelow100", "HTTP/1.1 099 X\r\n\r\n", false, 0, ""},
		{"RFC9112_4_NoSpace", "HTTP/1.1 200OK\r\n\r\n", false, 0, ""},
		{"RFC9112_5_1_WhitespaceBeforeColon", "HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\n", false, 0, ""},
		{"RFC9112_5_2_ObsFold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", false, 0, ""},
		{"RFC9112_2_2_BareLF", "HTTP/1.1 200 OK\nX: a\n\n", false, 0, ""},
		{"RFC9110_5_5_NUL", "HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n", false, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var resp httpheader.ResponseHeader
			n, err := http1.ParseResponse([]byte(tc.raw+"body"), &resp, nil)
			if !tc.ok {
				require.Error(t, err)
				assert.Equal(t, 502, perr.StatusCode(err))
				assert.ErrorIs(t, err, perr.InvalidHTTPHeader)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, len(tc.raw), n)
			assert.Equal(t, tc.status, resp.Status())
			assert.Equal(t, tc.reason, resp.Reason())
		})
	}
}

func TestParseResponse_Incomplete(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
	var resp httpheader.ResponseHeader
	for i := range len(raw) {
		_, err := http1.ParseResponse([]byte(raw[:i]), &resp, nil)
		require.True(t, errors.Is(err, http1.ErrIncomplete), "prefix %d: %v", i, err)
	}
}
