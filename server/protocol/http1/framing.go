package http1

import (
	"bytes"
	"net/netip"

	"github.com/pingora-go/pingora/httpheader"
)

// BodyKind says how the end of a message body is found (RFC 9112 §6.3).
type BodyKind uint8

// The body kinds.
const (
	// BodyNone: the message has no body (a request without Content-Length
	// or Transfer-Encoding, Content-Length: 0, a response to HEAD, 1xx, 204
	// and 304).
	BodyNone BodyKind = iota
	// BodyLength: exactly Framing.Length bytes follow the head.
	BodyLength
	// BodyChunked: the chunked transfer coding (RFC 9112 §7.1).
	BodyChunked
	// BodyUntilClose: a response body that ends when the connection closes.
	BodyUntilClose
	// BodyTunnel: after a 101 to an upgrade request or a 2xx to CONNECT the
	// connection carries raw bytes in both directions until closed.
	BodyTunnel
)

var kindNames = [...]string{"none", "content-length", "chunked", "until-close", "tunnel"}

// String returns "none", "content-length", "chunked", "until-close" or
// "tunnel".
func (k BodyKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Framing is the body framing of one message.
type Framing struct {
	Kind   BodyKind // how the body ends
	Length int64    // the body length when Kind is BodyLength
}

// RequestBody returns the body framing of a request head (RFC 9112 §6.3):
// chunked if Transfer-Encoding is exactly chunked, else Content-Length, else
// no body (requests are never close-delimited). It rejects, with the status
// to answer (see ParseRequest for the error form):
//   - Transfer-Encoding in an HTTP/1.0 request (§6.1, CVE-2026-2835): 400;
//   - Transfer-Encoding together with Content-Length (§6.3(3)): 400;
//   - a Transfer-Encoding whose last coding is not chunked (§6.3(4)): 400;
//   - chunked applied more than once (§6.1): 400;
//   - any other transfer coding before chunked: 501 (not implemented);
//   - an invalid Content-Length, or several that differ (§6.3(5)): 400.
//
// Empty list elements are ignored (RFC 9110 §5.6.1.2), so ", chunked" is
// chunked and "5, 5" is 5. ParseRequest already applies it.
func RequestBody(req *httpheader.RequestHeader) (Framing, error) {
	fr, f := requestBody(req)
	if f.status != 0 {
		return Framing{}, requestError(f)
	}
	return fr, nil
}

func requestBody(req *httpheader.RequestHeader) (Framing, fault) {
	te, hasTE, hasCL := codings(&req.Header)
	if hasTE {
		switch {
		case req.Version() == httpheader.HTTP10:
			return Framing{}, bad("http1: transfer-encoding in an HTTP/1.0 request")
		case hasCL:
			return Framing{}, bad("http1: both transfer-encoding and content-length")
		case te.count == 0 || !te.lastChunked:
			return Framing{}, bad("http1: transfer-encoding does not end in chunked")
		case te.chunked > 1:
			return Framing{}, bad("http1: chunked applied more than once")
		case te.count > 1:
			return Framing{}, fault{501, "http1: unsupported transfer coding"}
		}
		return Framing{Kind: BodyChunked}, fault{}
	}
	if hasCL {
		n, ok := contentLength(&req.Header)
		if !ok {
			return Framing{}, bad("http1: invalid or differing content-length")
		}
		if n > 0 {
			return Framing{Kind: BodyLength, Length: n}, fault{}
		}
	}
	return Framing{}, fault{}
}

// ResponseBody returns the body framing of a response head to req (nil
// means a GET): none for 1xx other than 101, 204, 304 and any response to
// HEAD; a tunnel for a 101 to an upgrade request and for a 2xx to CONNECT;
// else chunked if Transfer-Encoding is exactly chunked, Content-Length if
// present, and otherwise until the connection closes.
//
// Errors are InvalidHTTPHeader, source Upstream (a proxy answers 502 and
// closes the upstream connection): a 101 to a request that asked for no
// upgrade; Transfer-Encoding in an HTTP/1.0 response; Transfer-Encoding
// with Content-Length; a Transfer-Encoding other than chunked (the codec
// decodes no other coding and must not pass one through); an invalid or
// differing Content-Length (RFC 9112 §6.3(5)).
func ResponseBody(req *httpheader.RequestHeader, resp *httpheader.ResponseHeader) (Framing, error) {
	fr, f := responseBody(req, resp)
	if f.status != 0 {
		return Framing{}, responseError(f)
	}
	return fr, nil
}

func responseBody(req *httpheader.RequestHeader, resp *httpheader.ResponseHeader) (Framing, fault) {
	method := "GET"
	if req != nil {
		method = req.Method()
	}
	switch st := resp.Status(); {
	case st == 101:
		if req == nil || !IsUpgradeRequest(req) {
			return Framing{}, bad("http1: 101 response to a request that asked for no upgrade")
		}
		return Framing{Kind: BodyTunnel}, fault{}
	case st < 200, st == 204, st == 304, method == "HEAD":
		return Framing{}, fault{}
	case method == "CONNECT" && st < 300:
		return Framing{Kind: BodyTunnel}, fault{}
	}
	te, hasTE, hasCL := codings(&resp.Header)
	if hasTE {
		switch {
		case resp.Version() == httpheader.HTTP10:
			return Framing{}, bad("http1: transfer-encoding in an HTTP/1.0 response")
		case hasCL:
			return Framing{}, bad("http1: both transfer-encoding and content-length")
		case te.count != 1 || !te.lastChunked:
			return Framing{}, bad("http1: unsupported transfer-encoding")
		}
		return Framing{Kind: BodyChunked}, fault{}
	}
	if hasCL {
		n, ok := contentLength(&resp.Header)
		if !ok {
			return Framing{}, bad("http1: invalid or differing content-length")
		}
		if n == 0 {
			return Framing{}, fault{}
		}
		return Framing{Kind: BodyLength, Length: n}, fault{}
	}
	return Framing{Kind: BodyUntilClose}, fault{}
}

// teList summarises the Transfer-Encoding lines of a head.
type teList struct {
	count       int  // codings named, empty elements skipped
	chunked     int  // how many of them are chunked
	lastChunked bool // the last one is chunked
}

// codings reads the Transfer-Encoding lines of h and reports whether h has
// any Transfer-Encoding and Content-Length line.
func codings(h *httpheader.Header) (te teList, hasTE, hasCL bool) {
	for i := range h.Len() {
		name, value := h.Field(i)
		switch {
		case equalFold(name, "content-length"):
			hasCL = true
		case equalFold(name, "transfer-encoding"):
			hasTE = true
			for len(value) > 0 {
				var elem []byte
				elem, value = nextElem(value)
				if len(elem) == 0 {
					continue
				}
				te.count++
				te.lastChunked = equalFold(elem, "chunked")
				if te.lastChunked {
					te.chunked++
				}
			}
		}
	}
	return te, hasTE, hasCL
}

// nextElem splits the first element off a comma-separated list, trimming
// whitespace around it.
func nextElem(list []byte) (elem, rest []byte) {
	if i := bytes.IndexByte(list, ','); i >= 0 {
		return trimOWS(list[:i]), list[i+1:]
	}
	return trimOWS(list), nil
}

// contentLength returns the Content-Length of h. Several lines or list
// elements are accepted when all are byte-for-byte the same 1*DIGIT value
// (RFC 9112 §6.3(5)); anything else, including an empty value or more than 18 digits,
// is invalid.
func contentLength(h *httpheader.Header) (int64, bool) {
	var first []byte
	n, seen := int64(-1), false
	for i := range h.Len() {
		name, value := h.Field(i)
		if !equalFold(name, "content-length") {
			continue
		}
		if len(value) == 0 {
			return 0, false
		}
		for len(value) > 0 {
			var elem []byte
			elem, value = nextElem(value)
			if seen {
				if !bytes.Equal(elem, first) {
					return 0, false // "5" and "05" differ too: no guessing
				}
				continue
			}
			v, ok := parseDecimal(elem)
			if !ok {
				return 0, false
			}
			n, seen, first = v, true, elem
		}
	}
	return n, seen
}

// parseDecimal parses 1*18DIGIT.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// validateRequest applies the rules on a whole request head: Host (RFC 9112
// §3.2), the target form for the method (§3.2.1–§3.2.4) and body framing.
func validateRequest(req *httpheader.RequestHeader) fault {
	hosts := 0
	for i := range req.Len() {
		name, value := req.Field(i)
		if equalFold(name, "host") {
			hosts++
			if !validHostHeader(value) {
				return bad("http1: invalid host header")
			}
		}
	}
	switch {
	case hosts > 1:
		return bad("http1: more than one host header")
	case hosts == 0 && req.Version() != httpheader.HTTP10:
		return bad("http1: missing host header")
	}
	target, method := req.RawTarget(), req.Method()
	switch {
	case method == "CONNECT":
		if !validAuthority(target) {
			return bad("http1: CONNECT needs an authority-form target")
		}
	case len(target) == 1 && target[0] == '*':
		if method != "OPTIONS" {
			return bad("http1: asterisk-form target only for OPTIONS")
		}
	case target[0] == '/':
	case isAbsolute(target):
	default:
		return bad("http1: invalid request target")
	}
	_, f := requestBody(req)
	return f
}

// hostChar reports the bytes of uri-host [":" port] (RFC 3986 reg-name,
// IP-literal and IPv4address characters).
var hostChar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] = true
		}
	}
	for _, c := range "-._~!$&'()*+,;=%:[]" {
		t[c] = true
	}
	return t
}()

// validHost reports whether h is a plausible Host value: empty, or
// reg-name/IP characters with an optional port.
func validHost(h []byte) bool {
	for i, c := range h {
		if !hostChar[c] {
			return false
		}
		if c == '%' && !validHostPct(h[i:]) {
			return false
		}
	}
	return true
}

// validHostPct reports whether p, which starts with '%', starts with a
// pct-encoded byte allowed in a host: "%" HEXDIG HEXDIG (RFC 3986 §2.1),
// and, as net/url requires, either a non-ASCII byte (a UTF-8 name) or
// "%25": a host that escapes an ASCII character is refused, so the proxy
// and a Go origin never disagree about it.
func validHostPct(p []byte) bool {
	if len(p) < 3 || !isHex(p[1]) || !isHex(p[2]) {
		return false
	}
	return p[1] >= '8' || string(p[:3]) == "%25"
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// validHostHeader reports whether h is a valid Host field value (RFC 9112
// §3.2, RFC 3986 §3.2.2–3.2.3): empty, or uri-host [":" port] where
// uri-host is an IP-literal in brackets or a reg-name / IPv4address without
// ':' or brackets, and port is at most 5 digits (RFC's *DIGIT, bounded).
func validHostHeader(h []byte) bool {
	host, port := h, []byte(nil)
	if len(h) > 0 && h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 || !validIPLiteral(h[:end+1]) {
			return false
		}
		rest := h[end+1:]
		if len(rest) > 0 {
			if rest[0] != ':' {
				return false
			}
			port = rest[1:]
		}
		host = nil
	} else if i := bytes.IndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if len(host) == 0 {
			return false
		}
	}
	for i, c := range host {
		if !hostChar[c] || c == ':' || c == '[' || c == ']' || c == '%' && !validHostPct(host[i:]) {
			return false
		}
	}
	if len(port) > 5 {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validAuthority reports whether t is an authority-form target (RFC 9112
// §3.2.3): uri-host ":" port, with a non-empty host and 1 to 5 port digits.
func validAuthority(t []byte) bool {
	i := bytes.LastIndexByte(t, ':')
	if i <= 0 || i == len(t)-1 || len(t)-i-1 > 5 || !validHost(t[:i]) {
		return false
	}
	for _, c := range t[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	if t[0] == '[' {
		return validIPLiteral(t[:i])
	}
	return bytes.IndexByte(t[:i], ':') < 0 && bytes.IndexByte(t[:i], '[') < 0
}

// validIPLiteral reports whether b is "[" IPv6address "]" (RFC 3986
// §3.2.2), optionally with a zone as RFC 6874 writes it ("%25" zone).
// An empty or non-IPv6 literal ("[]", "[1.2.3.4]", "[example]") is
// refused, as net/url refuses it: the proxy and a Go origin must agree.
func validIPLiteral(b []byte) bool {
	if len(b) < 4 || b[0] != '[' || b[len(b)-1] != ']' {
		return false
	}
	addr := b[1 : len(b)-1]
	if i := bytes.Index(addr, []byte("%25")); i >= 0 {
		zone := addr[i+3:]
		if len(zone) == 0 {
			return false
		}
		for _, c := range zone {
			if !hostChar[c] || c == '%' || c == ':' || c == '[' || c == ']' {
				return false
			}
		}
		addr = addr[:i]
	}
	for _, c := range addr {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	ip, err := netip.ParseAddr(string(addr))
	return err == nil && ip.Is6() && ip.Zone() == ""
}

// isAbsolute reports whether t starts with scheme "://".
func isAbsolute(t []byte) bool {
	for i, c := range t {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return bytes.HasPrefix(t[i:], []byte("://"))
		default:
			return false
		}
	}
	return false
}

// connTokens reports the tokens of every Connection line of h.
func connTokens(h *httpheader.Header) (closeTok, keepAlive, upgrade bool) {
	for i := range h.Len() {
		name, value := h.Field(i)
		if !equalFold(name, "connection") {
			continue
		}
		for len(value) > 0 {
			var elem []byte
			elem, value = nextElem(value)
			switch {
			case equalFold(elem, "close"):
				closeTok = true
			case equalFold(elem, "keep-alive"):
				keepAlive = true
			case equalFold(elem, "upgrade"):
				upgrade = true
			}
		}
	}
	return
}

// RequestKeepAlive reports whether a request allows its connection to be
// reused: HTTP/1.1 unless Connection has close; HTTP/1.0 only with
// Connection: keep-alive and no close.
func RequestKeepAlive(req *httpheader.RequestHeader) bool {
	return keepAlive(req.Version(), &req.Header)
}

// ResponseKeepAlive reports whether a response allows its connection to be
// reused, by the rules of RequestKeepAlive. Body framing (a close-delimited
// body) is not considered here.
func ResponseKeepAlive(resp *httpheader.ResponseHeader) bool {
	return keepAlive(resp.Version(), &resp.Header)
}

func keepAlive(v httpheader.Version, h *httpheader.Header) bool {
	closeTok, ka, _ := connTokens(h)
	if closeTok {
		return false
	}
	return v != httpheader.HTTP10 || ka
}

// IsUpgradeRequest reports whether req asks to switch protocols (RFC 9110
// §7.8): HTTP/1.1, an Upgrade field and the upgrade token in Connection.
// HTTP/1.0 upgrade requests are ignored.
func IsUpgradeRequest(req *httpheader.RequestHeader) bool {
	if req.Version() == httpheader.HTTP10 || req.GetBytes("Upgrade") == nil {
		return false
	}
	_, _, up := connTokens(&req.Header)
	return up
}

// expectsContinue reports whether req carries Expect: 100-continue and is
// HTTP/1.1 (RFC 9110 §10.1.1: ignore it from HTTP/1.0).
func expectsContinue(req *httpheader.RequestHeader) bool {
	if req.Version() == httpheader.HTTP10 {
		return false
	}
	v := req.GetBytes("Expect")
	return v != nil && equalFold(v, "100-continue")
}

// equalFold reports whether b equals the lower-case ASCII string s, ignoring
// ASCII case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
