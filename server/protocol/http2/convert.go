package http2

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pingora-go/pingora/httpheader"
)

// commonLower maps the canonical form of common header names to the
// lower-case form HTTP/2 sends, so converting them does not allocate.
var commonLower = func() map[string]string {
	names := []string{
		"accept", "accept-charset", "accept-encoding", "accept-language", "accept-ranges",
		"access-control-allow-origin", "age", "authorization", "cache-control", "content-disposition",
		"content-encoding", "content-language", "content-length", "content-location", "content-range",
		"content-type", "cookie", "date", "etag", "expect", "expires", "from", "host", "if-match",
		"if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "link",
		"location", "max-forwards", "origin", "proxy-authenticate", "proxy-authorization", "range",
		"referer", "refresh", "retry-after", "server", "set-cookie", "strict-transport-security",
		"te", "trailer", "user-agent", "vary", "via", "www-authenticate", "x-forwarded-for",
		"x-forwarded-proto", "x-forwarded-host", "x-request-id", "grpc-status", "grpc-message",
		"grpc-encoding", "grpc-accept-encoding", "grpc-timeout",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[http.CanonicalHeaderKey(n)] = n
	}
	return m
}()

// lowerName returns the HTTP/2 (lower-case) form of a header name.
func lowerName(k string) string {
	if v, ok := commonLower[k]; ok {
		return v
	}
	return strings.ToLower(k)
}

// hopByHop reports whether name is a connection-specific field that HTTP/2
// forbids (RFC 9113 §8.2.2). name may be in any case.
func hopByHop(name string) bool {
	switch len(name) {
	case 7:
		return strings.EqualFold(name, "upgrade")
	case 10:
		return strings.EqualFold(name, "connection") || strings.EqualFold(name, "keep-alive")
	case 16:
		return strings.EqualFold(name, "proxy-connection")
	case 17:
		return strings.EqualFold(name, "transfer-encoding")
	}
	return false
}

// sortedKeys appends the keys of h to dst in a stable order. HTTP/2 through
// x/net/http2 loses the order between fields of different names; sorting at
// least makes the result deterministic.
func sortedKeys(dst []string, h http.Header) []string {
	for k := range h {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// requestHeaderFromHTTP fills req, a zero RequestHeader, from a request
// x/net/http2 decoded: method and :path become the request line,
// :authority the first field "host", every other field keeps its
// (lower-case) HTTP/2 name, and cookie crumbs are re-joined with "; " (RFC
// 9113 §8.2.3).
func requestHeaderFromHTTP(req *httpheader.RequestHeader, r *http.Request) error {
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	if err := req.SetMethod(r.Method); err != nil {
		return err
	}
	if err := req.SetTarget(target); err != nil {
		return err
	}
	_ = req.SetVersion(httpheader.HTTP2)
	if r.Host != "" {
		if _, err := req.Add("host", r.Host); err != nil {
			return err
		}
	}
	return appendFields(&req.Header, r.Header, true)
}

// appendFields adds the fields of h to dst in sorted name order, lower-cased,
// skipping Host. With joinCookies, several cookie values become one line.
func appendFields(dst *httpheader.Header, h http.Header, joinCookies bool) error {
	// Up to 8 keys without allocating; a larger array would cost more in
	// stack growth of the handler goroutine than the allocation it saves.
	var arr [8]string
	for _, k := range sortedKeys(arr[:0], h) {
		if k == "Host" {
			continue
		}
		name := lowerName(k)
		vs := h[k]
		if joinCookies && name == "cookie" && len(vs) > 1 {
			if _, err := dst.Add(name, strings.Join(vs, "; ")); err != nil {
				return err
			}
			continue
		}
		for _, v := range vs {
			if _, err := dst.Add(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// setHTTPFields fills dst from src, dropping connection-specific fields.
// Keys are canonicalised because x/net/http2 looks some of them up that way;
// it writes every name in lower case on the wire.
func setHTTPFields(dst http.Header, src *httpheader.Header, skipHost bool) {
	setHTTPFieldsIn(dst, src, skipHost, nil)
}

// setHTTPFieldsIn is setHTTPFields with the values of new keys in one
// backing array (one allocation, not one per field): scratch if it is large
// enough, which must then stay unused while dst refers to it.
func setHTTPFieldsIn(dst http.Header, src *httpheader.Header, skipHost bool, scratch []string) {
	vals := scratch[:0]
	if cap(vals) < src.Len() {
		vals = make([]string, 0, src.Len())
	}
	for name, value := range src.All() {
		if hopByHop(name) || (skipHost && strings.EqualFold(name, "host")) {
			continue
		}
		k := http.CanonicalHeaderKey(name)
		if old, ok := dst[k]; ok {
			dst[k] = append(old, value) // a repeated name: copies, capacity is exact
			continue
		}
		vals = append(vals, value)
		dst[k] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
}

// trailersFromHTTP converts received trailers.
func trailersFromHTTP(h http.Header) *httpheader.Header {
	if len(h) == 0 {
		return nil
	}
	t := new(httpheader.Header)
	if err := appendFields(t, h, false); err != nil {
		return nil
	}
	return t
}

// upstreamRequest converts req into the *http.Request x/net/http2's
// ClientConn sends: :authority from the host field (or the authority of an
// absolute-form target), :path from the target, no connection-specific
// fields, and TE only when it is "trailers".
func upstreamRequest(req *httpheader.RequestHeader, scheme string) (*http.Request, error) {
	target := req.Target()
	host := req.Get("host")
	u := &url.URL{Scheme: scheme}
	switch {
	case strings.HasPrefix(target, "/"):
		path, query, hasQuery := strings.Cut(target, "?")
		u.Opaque = path
		if strings.HasPrefix(path, "//") {
			// url.URL would prefix such an opaque path with the scheme.
			u.Opaque = ""
			u.Path = path
		}
		u.RawQuery = query
		u.ForceQuery = hasQuery && query == ""
	case target == "*" || req.Method() == http.MethodConnect:
		u.Opaque = target
	default: // absolute-form
		pu, err := url.Parse(target)
		if err != nil || pu.Host == "" {
			return nil, fmt.Errorf("http2: invalid request target %q", target)
		}
		if host == "" {
			host = pu.Host
		}
		u.Opaque = pu.EscapedPath()
		if u.Opaque == "" {
			u.Opaque = "/"
		}
		u.RawQuery = pu.RawQuery
	}
	if host == "" {
		return nil, fmt.Errorf("http2: request has no host")
	}
	u.Host = host
	r := &http.Request{
		Method:     req.Method(),
		URL:        u,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Host:       host,
		Header:     make(http.Header, req.Len()),
	}
	setHTTPFields(r.Header, &req.Header, true)
	if te, ok := r.Header["Te"]; ok {
		if slices.ContainsFunc(te, func(v string) bool { return strings.Contains(strings.ToLower(v), "trailers") }) {
			r.Header["Te"] = []string{"trailers"}
		} else {
			delete(r.Header, "Te")
		}
	}
	r.ContentLength = -1
	if cl := r.Header.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("http2: invalid content-length %q", cl)
		}
		r.ContentLength = n
	}
	return r, nil
}

// responseHeaderFromHTTP converts a response x/net/http2 decoded.
func responseHeaderFromHTTP(res *http.Response) (*httpheader.ResponseHeader, error) {
	resp, err := httpheader.NewResponse(res.StatusCode)
	if err != nil {
		return nil, err
	}
	_ = resp.SetVersion(httpheader.HTTP2)
	resp.ClearReason()
	if err := appendFields(&resp.Header, res.Header, false); err != nil {
		return nil, err
	}
	return resp, nil
}
