package httpheader

import (
	"bytes"
	"io"
)

// RequestHeader is the head of an HTTP request: method, request target,
// version and the field lines (the embedded Header). It ports Pingora's
// RequestHeader.
//
// The request target is kept as raw bytes exactly as received or set, so it
// is written back unchanged (including bytes that are not valid UTF-8).
//
// The zero value is "GET / HTTP/1.1" with no fields. A RequestHeader must not
// be copied after first use (use Clone). The concurrency rules of Header
// apply to the whole request.
type RequestHeader struct {
	Header
	method  string
	target  arena
	version Version
	noEnd   bool // SendEndStream is false
}

// NewRequest returns a request with the given method and target and version
// HTTP/1.1. It returns an error if method is not a token or target is not
// a valid request target (see SetTarget).
func NewRequest(method, target string) (*RequestHeader, error) {
	r := new(RequestHeader)
	if err := r.SetMethod(method); err != nil {
		return nil, err
	}
	if err := r.SetTarget(target); err != nil {
		return nil, err
	}
	return r, nil
}

// Method returns the request method, "GET" if none was set.
func (r *RequestHeader) Method() string {
	if r.method == "" {
		return "GET"
	}
	return r.method
}

// SetMethod sets the method. Methods are case-sensitive and stored as given.
// It returns an error wrapping ErrInvalidMethod if method is not a token.
func (r *RequestHeader) SetMethod(method string) error {
	if !ValidName(method) {
		return errorf(ErrInvalidMethod, method)
	}
	r.method = method
	return nil
}

// SetMethodBytes is SetMethod for a parser: the standard methods (GET, HEAD,
// POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH) are stored without
// allocating; others are copied.
func (r *RequestHeader) SetMethodBytes(method []byte) error {
	if !ValidName(method) {
		return errorf(ErrInvalidMethod, method)
	}
	r.method = methodString(method)
	return nil
}

func methodString(m []byte) string {
	switch string(m) { // the compiler does not allocate for this switch
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "POST":
		return "POST"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "CONNECT":
		return "CONNECT"
	case "OPTIONS":
		return "OPTIONS"
	case "TRACE":
		return "TRACE"
	case "PATCH":
		return "PATCH"
	}
	return string(m)
}

var slash = []byte("/")

// RawTarget returns the request target exactly as stored ("/" if none was
// set). The slice aliases the request's storage: valid until the target is
// next set, not to be modified.
func (r *RequestHeader) RawTarget() []byte {
	if len(r.target.b) == 0 {
		return slash[:1:1]
	}
	return r.target.b[:len(r.target.b):len(r.target.b)]
}

// Target returns the request target as a string ("/" if none was set).
// It does not allocate; the string stays valid after later changes.
func (r *RequestHeader) Target() string {
	if len(r.target.b) == 0 {
		return "/"
	}
	return r.target.str(r.target.b)
}

// SetTarget sets the request target: origin-form ("/path?query"),
// absolute-form ("http://host/path"), authority-form ("host:port", for
// CONNECT) or asterisk-form ("*"). It is stored exactly as given. It returns
// an error wrapping ErrInvalidTarget, changing nothing, if target is empty or
// holds a space, a control byte or DEL. Bytes 0x80–0xFF are allowed. The
// target is not otherwise parsed.
func (r *RequestHeader) SetTarget(target string) error {
	if !validTarget(target) {
		return errorf(ErrInvalidTarget, target)
	}
	replace(&r.target, target)
	return nil
}

// SetRawTarget is SetTarget for bytes (copied), for parsers. It does not
// allocate once the request's target storage has grown.
func (r *RequestHeader) SetRawTarget(target []byte) error {
	if !validTarget(target) {
		return errorf(ErrInvalidTarget, target)
	}
	replace(&r.target, target)
	return nil
}

// pathSpan returns the bounds of the path in the raw target.
func (r *RequestHeader) pathSpan() (t []byte, start, end int) {
	t = r.RawTarget()
	switch {
	case t[0] == '/' || (len(t) == 1 && t[0] == '*'):
		start = 0
	case hasScheme(t):
		// absolute-form: skip "scheme://authority".
		i := bytes.Index(t, []byte("://")) + 3
		for start = i; start < len(t) && t[start] != '/' && t[start] != '?' && t[start] != '#'; start++ {
		}
	default:
		return t, 0, 0 // authority-form has no path
	}
	for end = start; end < len(t) && t[end] != '?' && t[end] != '#'; end++ {
	}
	return t, start, end
}

// hasScheme reports whether t starts with `scheme "://"`.
func hasScheme(t []byte) bool {
	for i, c := range t {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return bytes.HasPrefix(t[i:], []byte("://"))
		default:
			return false
		}
	}
	return false
}

// Path returns the path of the request target, still percent-encoded:
// "/a/b" for "/a/b?x=1" and for "http://host/a/b?x=1", "/" for an
// absolute-form target with an empty path ("http://host"), "*" for "*" and
// "" for an authority-form target ("host:443"). It does not allocate.
func (r *RequestHeader) Path() string {
	t, start, end := r.pathSpan()
	if start == end {
		if hasScheme(t) {
			return "/"
		}
		return ""
	}
	if len(r.target.b) == 0 {
		return "/"
	}
	return r.target.str(t[start:end])
}

// Query returns the raw query of the request target, without the "?", or ""
// if there is none. It does not allocate.
func (r *RequestHeader) Query() string {
	t, _, end := r.pathSpan()
	if end >= len(t) || t[end] != '?' {
		return ""
	}
	q := t[end+1:]
	if i := bytes.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	return r.target.str(q)
}

// FileExtension returns the text after the last "." in the last segment of
// the path ("gz" for "/a/b.tar.gz?x"), or "" if there is none. It is
// Pingora's uri_file_extension, except that a "." in an earlier segment does
// not count ("/v1.2/file" has no extension).
func (r *RequestHeader) FileExtension() string {
	t, start, end := r.pathSpan()
	p := t[start:end]
	seg := p[bytes.LastIndexByte(p, '/')+1:]
	i := bytes.LastIndexByte(seg, '.')
	if i < 0 {
		return ""
	}
	return r.target.str(seg[i+1:])
}

// Version returns the request's version, HTTP/1.1 if none was set.
func (r *RequestHeader) Version() Version { return r.version.orDefault() }

// SetVersion sets the version. It returns an error wrapping
// ErrInvalidVersion if a part is above 9.
func (r *RequestHeader) SetVersion(v Version) error {
	if !v.valid() {
		return errorf(ErrInvalidVersion, v.String())
	}
	r.version = v
	return nil
}

// SetSendEndStream sets whether an HTTP/2 request ends its stream with the
// header (no body follows). If never set, true.
func (r *RequestHeader) SetSendEndStream(end bool) { r.noEnd = !end }

// SendEndStream returns the value set by SetSendEndStream. ok is false
// unless the version is HTTP/2, as in Pingora.
func (r *RequestHeader) SendEndStream() (end, ok bool) {
	if r.Version() != HTTP2 {
		return false, false
	}
	return !r.noEnd, true
}

// Reset makes r the zero request ("GET / HTTP/1.1", no fields), keeping its
// storage for reuse (see Header).
func (r *RequestHeader) Reset() {
	r.Header.Reset()
	r.method = ""
	r.target.reset()
	r.version = Version{}
	r.noEnd = false
}

// Clone returns a deep copy of r.
func (r *RequestHeader) Clone() *RequestHeader {
	c := &RequestHeader{method: r.method, version: r.version, noEnd: r.noEnd}
	r.Header.cloneInto(&c.Header)
	if len(r.target.b) > 0 {
		c.target.b = bytes.Clone(r.target.b)
	}
	return c
}

// AppendRequestLine appends "METHOD TARGET HTTP/x.y\r\n" to dst.
func (r *RequestHeader) AppendRequestLine(dst []byte) []byte {
	dst = append(dst, r.Method()...)
	dst = append(dst, ' ')
	dst = append(dst, r.RawTarget()...)
	dst = append(dst, ' ')
	dst = r.Version().appendTo(dst)
	return append(dst, '\r', '\n')
}

// AppendWire appends the whole request head in HTTP/1 wire form to dst: the
// request line, every field line exactly as stored and in order, and the
// blank line. The version is written as stored; a proxy downgrades an
// HTTP/2 request to HTTP/1.1 first. It does not allocate if dst has room.
func (r *RequestHeader) AppendWire(dst []byte) []byte {
	dst = r.AppendRequestLine(dst)
	dst = r.Header.AppendWire(dst)
	return append(dst, '\r', '\n')
}

// WireLen returns the number of bytes AppendWire appends.
func (r *RequestHeader) WireLen() int {
	return len(r.Method()) + len(r.RawTarget()) + 14 + r.Header.WireLen()
}

// WriteTo writes the request head as AppendWire does, in one Write. It
// implements io.WriterTo.
func (r *RequestHeader) WriteTo(w io.Writer) (int64, error) {
	return writeWith(w, r.AppendWire)
}
