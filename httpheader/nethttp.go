package httpheader

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Conversions to and from net/http.
//
// net/http → httpheader is lossy: http.Header is a map keyed by canonical
// names ("X-Custom-Id"), so the original case and the order of lines with
// different names are already gone. Lines are added in sorted name order
// (each name's values in their order), so the result is deterministic.
//
// httpheader → net/http is lossy too: names are canonicalised, and the
// relative order of lines with different names is lost. The Host field is
// moved to Request.Host, as net/http does.

// FromHTTPHeader returns a Header holding every line of hh, names as the
// map's keys and names sorted. It returns an error if a key is not a token
// or a value holds a control byte; values are trimmed as by Add.
func FromHTTPHeader(hh http.Header) (*Header, error) {
	h := new(Header)
	if err := h.addHTTPHeader(hh); err != nil {
		return nil, err
	}
	return h, nil
}

// addHTTPHeader adds every line of hh in sorted name order.
func (h *Header) addHTTPHeader(hh http.Header) error {
	keys := make([]string, 0, len(hh))
	for k := range hh {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range hh[k] {
			v = trimOWS(v)
			if err := check(k, v); err != nil {
				return err
			}
			if err := appendLine(h, k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// ToHTTPHeader returns the lines as an http.Header: names canonicalised
// (http.CanonicalHeaderKey), each name's values in wire order. It includes
// every line, Host too. The strings share the header's storage (see Header).
func (h *Header) ToHTTPHeader() http.Header {
	hh := make(http.Header, len(h.fields))
	for i := range h.fields {
		name, value := h.Field(i)
		// Shared strings: CanonicalHeaderKey copies only names that are
		// not canonical already, and values are not copied at all.
		k := http.CanonicalHeaderKey(h.a.str(name))
		hh[k] = append(hh[k], h.a.str(value))
	}
	return hh
}

// FromHTTPRequest converts the head of r. The method, the target and the
// version come from r.Method ("" means GET), r.RequestURI if set (a server
// request: the target exactly as received) else r.URL.RequestURI() (or
// r.URL.Host for CONNECT), and r.ProtoMajor/ProtoMinor (0.0 means
// HTTP/1.1). A Host line comes first, from r.Host or else r.URL.Host, unless
// r.Header has one. Then come r.Header's lines in sorted name order (see the
// package note on lossiness), then Transfer-Encoding from
// r.TransferEncoding, or Content-Length from a positive r.ContentLength,
// when r.Header lacks them (net/http moves them out of the map).
func FromHTTPRequest(r *http.Request) (*RequestHeader, error) {
	req := new(RequestHeader)
	if r.Method != "" {
		if err := req.SetMethod(r.Method); err != nil {
			return nil, err
		}
	}
	target := r.RequestURI
	if target == "" && r.URL != nil {
		if r.Method == http.MethodConnect && r.URL.Path == "" && r.URL.Host != "" {
			target = r.URL.Host
		} else {
			target = r.URL.RequestURI()
		}
	}
	if target != "" {
		if err := req.SetTarget(target); err != nil {
			return nil, err
		}
	}
	if r.ProtoMajor != 0 || r.ProtoMinor != 0 {
		if err := req.SetVersion(protoVersion(r.ProtoMajor, r.ProtoMinor)); err != nil {
			return nil, err
		}
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	if host != "" && r.Header.Get("Host") == "" {
		if _, err := req.Add("Host", host); err != nil {
			return nil, err
		}
	}
	if err := req.addHTTPHeader(r.Header); err != nil {
		return nil, err
	}
	if err := req.addFraming(r.TransferEncoding, r.ContentLength, 1); err != nil {
		return nil, err
	}
	return req, nil
}

// protoVersion maps net/http's ProtoMajor/ProtoMinor, which may be out of
// range, to a Version that SetVersion then validates.
func protoVersion(major, minor int) Version {
	if major < 0 || major > 9 || minor < 0 || minor > 9 {
		return Version{255, 255}
	}
	return Version{uint8(major), uint8(minor)}
}

// addFraming restores the framing fields net/http keeps outside its map:
// Transfer-Encoding from te, else Content-Length if contentLength >= least.
func (h *Header) addFraming(te []string, contentLength, least int64) error {
	if len(te) > 0 && !h.Has("Transfer-Encoding") {
		_, err := h.Add("Transfer-Encoding", strings.Join(te, ", "))
		return err
	}
	if contentLength >= least && !h.Has("Content-Length") && !h.Has("Transfer-Encoding") {
		_, err := h.Add("Content-Length", strconv.FormatInt(contentLength, 10))
		return err
	}
	return nil
}

// ToHTTPRequest returns r as net/http's server side sees a request (as an
// http.Handler receives it): Method, RequestURI (the raw target), URL
// parsed from it, Proto, Header (canonical names, without Host), Host from
// the Host line (or the target's authority), ContentLength from
// Content-Length (-1 with Transfer-Encoding, else 0) and Body http.NoBody.
// To send it with an http.Client, clear RequestURI and make URL absolute.
// It returns an error if the target does not parse as a URL.
func (r *RequestHeader) ToHTTPRequest() (*http.Request, error) {
	target := r.Target()
	var u *url.URL
	var err error
	if r.Method() == http.MethodConnect && !strings.HasPrefix(target, "/") && !hasScheme(r.RawTarget()) {
		u = &url.URL{Host: target}
	} else if u, err = url.ParseRequestURI(target); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTarget, err)
	}
	v := r.Version()
	hh := r.ToHTTPHeader()
	host := hh.Get("Host")
	delete(hh, "Host")
	if host == "" {
		host = u.Host
	}
	req := &http.Request{
		Method:     r.Method(),
		URL:        u,
		Proto:      v.String(),
		ProtoMajor: int(v.Major),
		ProtoMinor: int(v.Minor),
		Header:     hh,
		Body:       http.NoBody,
		Host:       host,
		RequestURI: target,
	}
	req.ContentLength = contentLength(&r.Header)
	return req, nil
}

// contentLength returns the body length the fields declare: -1 for
// Transfer-Encoding or an unparsable Content-Length, 0 for none.
func contentLength(h *Header) int64 {
	if h.Has("Transfer-Encoding") {
		return -1
	}
	cl := h.GetBytes("Content-Length")
	if cl == nil {
		return 0
	}
	n, err := strconv.ParseInt(string(cl), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// FromHTTPResponse converts the head of resp: status from resp.StatusCode,
// a custom reason phrase from resp.Status if it differs from the canonical
// one, version from ProtoMajor/ProtoMinor (0.0 means HTTP/1.1), resp.Header
// in sorted name order, then Transfer-Encoding from resp.TransferEncoding or
// Content-Length from a non-negative resp.ContentLength (except for 1xx, 204
// and 304) when resp.Header lacks them. resp.Body is not touched.
func FromHTTPResponse(resp *http.Response) (*ResponseHeader, error) {
	r := new(ResponseHeader)
	if err := r.SetStatus(resp.StatusCode); err != nil {
		return nil, err
	}
	code := strconv.Itoa(resp.StatusCode)
	if reason, ok := strings.CutPrefix(resp.Status, code); ok && (reason == "" || reason[0] == ' ') {
		if reason != "" && reason[1:] != http.StatusText(resp.StatusCode) {
			if err := r.SetReason(reason[1:]); err != nil {
				return nil, err
			}
		}
	}
	if resp.ProtoMajor != 0 || resp.ProtoMinor != 0 {
		if err := r.SetVersion(protoVersion(resp.ProtoMajor, resp.ProtoMinor)); err != nil {
			return nil, err
		}
	}
	if err := r.addHTTPHeader(resp.Header); err != nil {
		return nil, err
	}
	cl := resp.ContentLength
	if resp.StatusCode < 200 || resp.StatusCode == 204 || resp.StatusCode == 304 {
		cl = -1 // these never carry a Content-Length (RFC 9110 §8.6)
	}
	if err := r.addFraming(resp.TransferEncoding, cl, 0); err != nil {
		return nil, err
	}
	return r, nil
}

// ToHTTPResponse returns r as an http.Response: Status ("404 Not Found"),
// StatusCode, Proto, Header (canonical names), ContentLength from
// Content-Length (-1 if absent or with Transfer-Encoding) and Body
// http.NoBody.
func (r *ResponseHeader) ToHTTPResponse() *http.Response {
	v := r.Version()
	status := strconv.Itoa(r.Status())
	if reason := r.Reason(); reason != "" {
		status += " " + reason
	}
	resp := &http.Response{
		Status:     status,
		StatusCode: r.Status(),
		Proto:      v.String(),
		ProtoMajor: int(v.Major),
		ProtoMinor: int(v.Minor),
		Header:     r.ToHTTPHeader(),
		Body:       http.NoBody,
	}
	resp.ContentLength = contentLength(&r.Header)
	if !r.Has("Content-Length") {
		resp.ContentLength = -1
	}
	return resp
}
