package http1

import (
	"bytes"

	"github.com/pingora-go/pingora/httpheader"
)

// tchar reports RFC 9110 §5.6.2 token characters.
var tchar = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] = true
		}
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// targetChar reports bytes allowed in a request target: anything above SP
// except DEL (obs-text is kept so raw non-UTF-8 paths survive).
func targetChar(c byte) bool { return c > ' ' && c != 0x7f }

// ParseRequest parses the request head at the start of buf into req (which
// it resets first) and returns the number of bytes the head took, its blank
// line included. It never reads past the head: what follows is the body or
// the next request.
//
// If buf holds only part of a head it returns ErrIncomplete (with n == 0),
// unless what is there already breaks a limit or a rule. Other errors are
// *perr.Error values of type perr.HTTPStatus(code), source Downstream, whose
// code is the status to answer with: 400 for bad syntax or framing, 414 for
// a request line over lim.MaxRequestLine, 431 for a head over
// lim.MaxHeaderBytes or lim.MaxHeaderCount, 501 for an unsupported transfer
// coding, 505 for an HTTP version other than 1.x. Their cause is an
// InvalidHTTPHeader error.
//
// The rules enforced are those of RFC 9112 and RFC 9110 listed in the
// package documentation; in short: CRLF line ends only, no bare CR, NUL or
// other control bytes, no obs-fold, no whitespace before a colon, a valid
// Host (exactly one in HTTP/1.1), and body framing that RequestBody accepts.
// Names keep their case and lines their order; values are stored without
// surrounding whitespace. A nil lim means the default limits.
//
// ParseRequest does not allocate once req's storage has grown, except for a
// method outside the nine standard ones.
func ParseRequest(buf []byte, req *httpheader.RequestHeader, lim *Limits) (n int, err error) {
	req.Reset()
	n, f := parseRequest(buf, req, lim)
	if f.status != 0 {
		return 0, requestError(f)
	}
	if n == 0 {
		return 0, ErrIncomplete
	}
	return n, nil
}

func parseRequest(buf []byte, req *httpheader.RequestHeader, lim *Limits) (int, fault) {
	maxLine, maxHead := lim.requestLine(), lim.headerBytes()
	// RFC 9112 §2.2: ignore empty lines before the request line.
	pos := 0
	for pos+1 < len(buf) && buf[pos] == '\r' && buf[pos+1] == '\n' && pos < maxLine {
		pos += 2
	}
	k := bytes.IndexByte(buf[pos:], '\n')
	if k < 0 {
		if len(buf)-pos > maxLine+1 {
			return 0, fault{414, "http1: request line too long"}
		}
		if len(buf) > maxHead {
			return 0, fault{431, "http1: request head too large"}
		}
		return 0, checkPartialLine(buf[pos:])
	}
	if k > maxLine+1 {
		return 0, fault{414, "http1: request line too long"}
	}
	if k == 0 || buf[pos+k-1] != '\r' {
		return 0, bad("http1: request line not ended by CRLF")
	}
	line := buf[pos : pos+k-1]

	// method SP request-target SP HTTP-version (RFC 9112 §3).
	m := 0
	for m < len(line) && tchar[line[m]] {
		m++
	}
	if m == 0 || m == len(line) || line[m] != ' ' {
		return 0, bad("http1: malformed request line")
	}
	t := m + 1
	for t < len(line) && targetChar(line[t]) {
		t++
	}
	if t == m+1 || t == len(line) || line[t] != ' ' {
		return 0, bad("http1: malformed request line")
	}
	ver := line[t+1:]
	v, err := httpheader.ParseVersion(ver)
	if err != nil {
		if len(ver) == 8 && bytes.HasPrefix(ver, []byte("HTTP/")) {
			return 0, bad("http1: malformed HTTP version")
		}
		return 0, bad("http1: malformed request line")
	}
	if v.Major != 1 {
		return 0, fault{505, "http1: HTTP version not supported"}
	}
	// The bytes were checked above, so these cannot fail.
	_ = req.SetMethodBytes(line[:m])
	_ = req.SetRawTarget(line[m+1 : t])
	_ = req.SetVersion(v)

	end, f := parseFields(buf, pos+k+1, &req.Header, maxHead, lim.headerCount())
	if f.status != 0 || end == 0 {
		if f.status == 0 && len(buf) > maxHead {
			return 0, fault{431, "http1: request head too large"}
		}
		return 0, f
	}
	if f := validateRequest(req); f.status != 0 {
		return 0, f
	}
	return end, fault{}
}

// checkPartialLine rejects a partial start line that already holds a byte
// no start line may hold, so garbage is refused without waiting for more.
func checkPartialLine(b []byte) fault {
	for _, c := range b {
		if c < ' ' && c != '\r' || c == 0x7f {
			return bad("http1: control byte in start line")
		}
	}
	if i := bytes.IndexByte(b, '\r'); i >= 0 && i != len(b)-1 {
		return bad("http1: bare CR in start line")
	}
	return incomplete
}

// parseFields parses field lines from buf[pos:] up to and including the
// blank line into h, and returns the offset just past the blank line, or 0
// with a zero fault if more bytes are needed. maxHead bounds that offset.
func parseFields(buf []byte, pos int, h *httpheader.Header, maxHead, maxCount int) (int, fault) {
	count := 0
	for {
		name, value, next, f := parseFieldLine(buf, pos)
		switch {
		case f.status != 0:
			return 0, f
		case next == 0:
			return 0, incomplete
		case next > maxHead:
			return 0, fault{431, "http1: header section too large"}
		case name == nil:
			return next, fault{}
		}
		count++
		if count > maxCount {
			return 0, fault{431, "http1: too many header fields"}
		}
		h.AppendBytesUnchecked(name, value)
		pos = next
	}
}

// parseFieldLine parses the field line or blank line at buf[pos:]. It
// returns the offset just past it (0 if more bytes are needed) and, for a
// field line, its name and its value without surrounding whitespace; a nil
// name means the blank line.
func parseFieldLine(buf []byte, pos int) (name, value []byte, next int, f fault) {
	if pos >= len(buf) {
		return nil, nil, 0, incomplete
	}
	switch buf[pos] {
	case '\r':
		if pos+1 >= len(buf) {
			return nil, nil, 0, incomplete
		}
		if buf[pos+1] != '\n' {
			return nil, nil, 0, bad("http1: bare CR in header")
		}
		return nil, nil, pos + 2, fault{}
	case '\n':
		return nil, nil, 0, bad("http1: header line not ended by CRLF")
	case ' ', '\t':
		// RFC 9112 §5.2 (obs-fold) and §2.2 (whitespace after the start line).
		return nil, nil, 0, bad("http1: obs-fold or whitespace at start of header line")
	}
	i := pos
	for i < len(buf) && tchar[buf[i]] {
		i++
	}
	if i == len(buf) {
		return nil, nil, 0, incomplete
	}
	switch c := buf[i]; {
	case c == ':':
	case c == ' ' || c == '\t':
		// RFC 9112 §5.1, CVE-2019-16276.
		return nil, nil, 0, bad("http1: whitespace between header name and colon")
	default:
		return nil, nil, 0, bad("http1: invalid header name")
	}
	if i == pos {
		return nil, nil, 0, bad("http1: empty header name")
	}
	k := bytes.IndexByte(buf[i+1:], '\n')
	if k < 0 {
		return nil, nil, 0, incomplete
	}
	lf := i + 1 + k
	if buf[lf-1] != '\r' {
		return nil, nil, 0, bad("http1: header line not ended by CRLF")
	}
	v := buf[i+1 : lf-1]
	if !httpheader.ValidValue(v) {
		// NUL, bare CR and other controls (RFC 9110 §5.5).
		return nil, nil, 0, bad("http1: invalid byte in header value")
	}
	return buf[pos:i], trimOWS(v), lf + 1, fault{}
}

func trimOWS(v []byte) []byte {
	i, j := 0, len(v)
	for i < j && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	return v[i:j]
}

// ParseResponse parses the response head at the start of buf into resp
// (which it resets first) and returns the number of bytes the head took.
// Incomplete input gives ErrIncomplete. Other errors are *perr.Error values
// of type perr.InvalidHTTPHeader and source Upstream (a proxy answers 502).
// The field rules are those of ParseRequest; the status line is
// "HTTP/1.x" SP 3DIGIT [SP reason], the status in 100–999. A nil lim means
// the default limits.
//
// ParseResponse does not allocate once resp's storage has grown, except
// for a reason phrase other than the canonical one of its status.
func ParseResponse(buf []byte, resp *httpheader.ResponseHeader, lim *Limits) (n int, err error) {
	resp.Reset()
	n, f := parseResponse(buf, resp, lim)
	if f.status != 0 {
		return 0, responseError(f)
	}
	if n == 0 {
		return 0, ErrIncomplete
	}
	return n, nil
}

func parseResponse(buf []byte, resp *httpheader.ResponseHeader, lim *Limits) (int, fault) {
	maxHead := lim.headerBytes()
	k := bytes.IndexByte(buf, '\n')
	if k < 0 {
		if len(buf) > maxHead {
			return 0, fault{502, "http1: response head too large"}
		}
		return 0, checkPartialLine(buf)
	}
	if k > maxHead {
		return 0, fault{502, "http1: response head too large"}
	}
	if k == 0 || buf[k-1] != '\r' {
		return 0, bad("http1: status line not ended by CRLF")
	}
	line := buf[:k-1]
	if len(line) < 12 || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return 0, bad("http1: malformed status line")
	}
	v, err := httpheader.ParseVersion(line[:8])
	if err != nil || v.Major != 1 {
		return 0, bad("http1: malformed or unsupported version in status line")
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, bad("http1: malformed status code")
		}
		code = code*10 + int(c-'0')
	}
	if resp.SetStatus(code) != nil {
		return 0, bad("http1: status code out of range")
	}
	_ = resp.SetVersion(v)
	if len(line) > 12 {
		if resp.SetReasonBytes(line[13:]) != nil {
			return 0, bad("http1: invalid byte in reason phrase")
		}
	}
	end, f := parseFields(buf, k+1, &resp.Header, maxHead, lim.headerCount())
	if f.status != 0 || end == 0 {
		if f.status == 0 && len(buf) > maxHead {
			return 0, bad("http1: response head too large")
		}
		return 0, f
	}
	return end, fault{}
}
