package proxy

import (
	"bytes"
	"net"
	"strconv"

	"github.com/pingora-go/pingora/httpheader"
)

// hopByHop reports whether name is a connection-specific field that a
// proxy removes (RFC 9110 §7.6.1; RFC 9113 §8.2.2).
func hopByHop(name []byte) bool {
	switch len(name) {
	case 2:
		return equalFold(name, "te")
	case 7:
		return equalFold(name, "upgrade")
	case 10:
		return equalFold(name, "connection") || equalFold(name, "keep-alive")
	case 16:
		return equalFold(name, "proxy-connection")
	case 17:
		return equalFold(name, "transfer-encoding")
	}
	return false
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
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

// connectionNames collects the field names listed in the Connection
// fields of h into dst (RFC 9110 §7.6.1), skipping the tokens that name no
// field to remove beyond the standard hop-by-hop ones.
func connectionNames(h *httpheader.Header, dst [][]byte) [][]byte {
	for v := range h.ValuesBytes("Connection") {
		for len(v) > 0 {
			var tok []byte
			if i := bytes.IndexByte(v, ','); i >= 0 {
				tok, v = v[:i], v[i+1:]
			} else {
				tok, v = v, nil
			}
			tok = bytes.TrimSpace(tok)
			if len(tok) == 0 || hopByHop(tok) {
				continue
			}
			dst = append(dst, tok)
		}
	}
	return dst
}

func listed(names [][]byte, name []byte) bool {
	for _, n := range names {
		if bytes.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// stripHopByHop removes the hop-by-hop fields of h, those named in its
// Connection fields first. keepUpgrade keeps Upgrade (and sets
// Connection: upgrade) for a request that asks to switch protocols.
func stripHopByHop(h *httpheader.Header, keepUpgrade bool) {
	var arr [8][]byte
	names := connectionNames(h, arr[:0])
	// Names in names point into h's storage: copy before deleting.
	var arrS [8]string
	owned := arrS[:0]
	for _, n := range names {
		owned = append(owned, string(n))
	}
	for _, n := range owned {
		for h.Del(n) {
		}
	}
	for _, n := range hopNames {
		if keepUpgrade && n == "Upgrade" {
			continue
		}
		for h.Del(n) {
		}
	}
	if keepUpgrade && h.Has("Upgrade") {
		_ = h.SetBytes("Connection", upgradeTok)
	}
}

var (
	hopNames    = [...]string{"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Transfer-Encoding", "Upgrade"}
	upgradeTok  = []byte("upgrade")
	trailersTok = []byte("trailers")
	hostName    = []byte("Host")
)

// buildUpstreamRequest fills st.req from the downstream request: method,
// target in origin form, HTTP/1.1 (or 2), every field but the hop-by-hop
// ones (and those named in Connection), Host per RFC 9112 §3.2, and the
// forwarding fields of Options.
func (p *Proxy[C]) buildUpstreamRequest(st *reqState[C], h2 bool) {
	s := &st.s
	src := s.req
	dst := &st.req
	dst.Reset()
	_ = dst.SetMethod(src.Method())
	target := src.RawTarget()
	var authority []byte
	if len(target) > 0 && target[0] != '/' && target[0] != '*' && src.Method() != "CONNECT" {
		// absolute-form: the authority replaces Host (RFC 9112 §3.2.2).
		if i := bytes.Index(target, []byte("://")); i > 0 {
			rest := target[i+3:]
			j := bytes.IndexAny(rest, "/?")
			if j < 0 {
				authority, target = rest, []byte("/")
			} else {
				authority, target = rest[:j], rest[j:]
			}
		}
	}
	_ = dst.SetRawTarget(target)
	if h2 {
		_ = dst.SetVersion(httpheader.HTTP2)
	} else {
		_ = dst.SetVersion(httpheader.HTTP11)
	}
	var arr [8][]byte
	names := connectionNames(&src.Header, arr[:0])
	keepUpgrade := st.upgradeReq && !h2
	hasHost := false
	mf := maxForwardsMethod(src.Method())
	var mfBuf [20]byte
	for name, value := range src.AllBytes() {
		if hopByHop(name) && !(keepUpgrade && equalFold(name, "upgrade")) {
			// HTTP/2 keeps "TE: trailers" (RFC 9113 §8.2.2): gRPC needs it.
			if !(h2 && equalFold(name, "te") && bytes.Contains(bytes.ToLower(value), []byte("trailers"))) {
				continue
			}
			value = trailersTok
		}
		if len(names) > 0 && listed(names, name) {
			continue
		}
		if equalFold(name, "expect") {
			continue // 100-continue is answered here, not upstream
		}
		if mf && equalFold(name, "max-forwards") {
			if n, ok := parseDecimal(value); ok && n > 0 {
				value = strconv.AppendUint(mfBuf[:0], n-1, 10)
			}
		}
		if equalFold(name, "host") {
			if hasHost {
				continue
			}
			hasHost = true
			if authority != nil {
				value = authority
			}
		}
		_ = dst.AppendBytes(name, value)
	}
	if !hasHost {
		switch {
		case authority != nil:
			_ = dst.AppendBytes(hostName, authority)
		case s.peer != nil:
			_ = dst.Set("Host", s.peer.Addr)
		}
	}
	if keepUpgrade {
		_ = dst.SetBytes("Connection", upgradeTok)
	}
	o := &p.opts
	if o.XForwardedFor || o.Forwarded {
		ip := clientIP(s.clientAddr)
		if o.XForwardedFor && ip != "" {
			if prev := dst.Get("X-Forwarded-For"); prev != "" {
				_ = dst.Set("X-Forwarded-For", prev+", "+ip)
			} else {
				_ = dst.Set("X-Forwarded-For", ip)
			}
		}
		if o.Forwarded {
			el := "proto=" + s.scheme()
			if ip != "" {
				if bytes.IndexByte([]byte(ip), ':') >= 0 {
					el = "for=\"[" + ip + "]\";" + el
				} else {
					el = "for=" + ip + ";" + el
				}
			}
			if host := src.Get("Host"); host != "" {
				el += ";host=\"" + host + "\""
			}
			if prev := dst.Get("Forwarded"); prev != "" {
				_ = dst.Set("Forwarded", prev+", "+el)
			} else {
				_ = dst.Set("Forwarded", el)
			}
		}
	}
	if o.XForwardedProto {
		_ = dst.Set("X-Forwarded-Proto", s.scheme())
	}
	if p.via != "" {
		_, _ = dst.Add("Via", p.viaFor(src.Version()))
	}
}

// scheme is the downstream scheme: https over TLS, else http.
func (s *Session) scheme() string {
	if s.tlsState != nil {
		return "https"
	}
	return "http"
}

func clientIP(a net.Addr) string {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.String()
	case nil:
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return host
}

// viaFor returns the Via value for a message of version v.
func (p *Proxy[C]) viaFor(v httpheader.Version) string {
	switch v {
	case httpheader.HTTP2:
		return p.via2
	case httpheader.HTTP10:
		return p.via10
	}
	return p.via
}

// maxForwardsMethod reports whether Max-Forwards applies to method: only
// OPTIONS and TRACE (RFC 9110 §7.6.2).
func maxForwardsMethod(method string) bool { return method == "OPTIONS" || method == "TRACE" }

// parseDecimal parses 1*19DIGIT, as a Max-Forwards value (RFC 9110
// §7.6.2) or a Content-Length is written. Anything else (empty, a sign, a
// list, out of range) is invalid: a Max-Forwards field is then treated as
// absent.
func parseDecimal(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// maxForwardsZero reports whether req is an OPTIONS or TRACE request the
// proxy must answer itself: one carrying a valid Max-Forwards of 0.
func maxForwardsZero(req *httpheader.RequestHeader) bool {
	if !maxForwardsMethod(req.Method()) {
		return false
	}
	for v := range req.ValuesBytes("Max-Forwards") {
		if n, ok := parseDecimal(v); ok {
			return n == 0
		}
	}
	return false
}

// allowedMethods is the Allow field of the proxy's own answers to
// Max-Forwards: 0 (TRACE is not supported).
const allowedMethods = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"

// answerMaxForwards answers an OPTIONS or TRACE request with Max-Forwards:
// 0 as its final recipient (RFC 9110 §7.6.2): OPTIONS gets 200 with an
// Allow field and no content; TRACE gets 405 (the proxy does not reflect
// requests: that would echo credentials, cross-site tracing).
func (p *Proxy[C]) answerMaxForwards(s *Session) error {
	r := &s.errResp
	r.Reset()
	if s.req.Method() == "OPTIONS" {
		_ = r.SetStatus(200)
	} else {
		_ = r.SetStatus(405)
	}
	_ = r.Set("Server", "Pingora")
	_ = r.Set("Allow", allowedMethods)
	_ = r.Set("Content-Length", "0")
	_ = r.Set("Cache-Control", "private, no-store")
	return s.WriteResponseHeader(r, true)
}
