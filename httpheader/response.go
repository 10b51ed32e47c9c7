package httpheader

import (
	"io"
	"net/http"
	"strconv"
)

// ResponseHeader is the head of an HTTP response: status, reason phrase,
// version and the field lines (the embedded Header). It ports Pingora's
// ResponseHeader.
//
// The zero value is "HTTP/1.1 200 OK" with no fields. A ResponseHeader must
// not be copied after first use (use Clone). The concurrency rules of Header
// apply to the whole response.
type ResponseHeader struct {
	Header
	status    int
	reason    string
	hasReason bool // reason is a custom phrase
	version   Version
}

// NewResponse returns a response with the given status and version
// HTTP/1.1. It returns an error wrapping ErrInvalidStatus if status is not
// in 100–999.
func NewResponse(status int) (*ResponseHeader, error) {
	r := new(ResponseHeader)
	if err := r.SetStatus(status); err != nil {
		return nil, err
	}
	return r, nil
}

// Status returns the status code, 200 if none was set.
func (r *ResponseHeader) Status() int {
	if r.status == 0 {
		return 200
	}
	return r.status
}

// SetStatus sets the status code. It returns an error wrapping
// ErrInvalidStatus if status is not in 100–999. A custom reason phrase is
// kept (as in Pingora); call ClearReason to go back to the canonical one.
func (r *ResponseHeader) SetStatus(status int) error {
	if status < 100 || status > 999 {
		return errorf(ErrInvalidStatus, strconv.Itoa(status))
	}
	r.status = status
	return nil
}

// Reason returns the reason phrase: the custom one if set, else the
// canonical phrase for the status (net/http's StatusText), which is "" for
// unknown codes.
func (r *ResponseHeader) Reason() string {
	if r.hasReason {
		return r.reason
	}
	return http.StatusText(r.Status())
}

// SetReason sets a custom reason phrase, stored as given (it may be empty, so
// that "HTTP/1.1 200 " is written back unchanged). Setting the canonical
// phrase of the current status clears the custom one. It returns an error
// wrapping ErrInvalidReason if reason holds a control byte other than HTAB.
func (r *ResponseHeader) SetReason(reason string) error {
	if !ValidValue(reason) {
		return errorf(ErrInvalidReason, reason)
	}
	if reason != "" && reason == http.StatusText(r.Status()) {
		r.ClearReason()
		return nil
	}
	r.reason, r.hasReason = reason, true
	return nil
}

// SetReasonBytes is SetReason for a parser. It allocates only for a phrase
// that is not the canonical one.
func (r *ResponseHeader) SetReasonBytes(reason []byte) error {
	if !ValidValue(reason) {
		return errorf(ErrInvalidReason, reason)
	}
	if len(reason) > 0 && string(reason) == http.StatusText(r.Status()) {
		r.ClearReason()
		return nil
	}
	r.reason, r.hasReason = string(reason), true
	return nil
}

// ClearReason drops a custom reason phrase: the canonical one is used.
func (r *ResponseHeader) ClearReason() { r.reason, r.hasReason = "", false }

// Version returns the response's version, HTTP/1.1 if none was set.
func (r *ResponseHeader) Version() Version { return r.version.orDefault() }

// SetVersion sets the version. It returns an error wrapping
// ErrInvalidVersion if a part is above 9.
func (r *ResponseHeader) SetVersion(v Version) error {
	if !v.valid() {
		return errorf(ErrInvalidVersion, v.String())
	}
	r.version = v
	return nil
}

// SetContentLength sets the Content-Length field to n (in place if it
// exists; see Set). It returns an error wrapping ErrInvalidValue if n is
// negative. It does not allocate once the header's storage has grown.
func (r *ResponseHeader) SetContentLength(n int64) error {
	if n < 0 {
		return errorf(ErrInvalidValue, strconv.FormatInt(n, 10))
	}
	var buf [20]byte
	return setLine(&r.Header, "Content-Length", strconv.AppendInt(buf[:0], n, 10))
}

// Reset makes r the zero response ("HTTP/1.1 200 OK", no fields), keeping
// its storage for reuse (see Header).
func (r *ResponseHeader) Reset() {
	r.Header.Reset()
	r.status = 0
	r.ClearReason()
	r.version = Version{}
}

// Clone returns a deep copy of r.
func (r *ResponseHeader) Clone() *ResponseHeader {
	c := &ResponseHeader{status: r.status, reason: r.reason, hasReason: r.hasReason, version: r.version}
	r.Header.cloneInto(&c.Header)
	return c
}

// AppendStatusLine appends "HTTP/x.y CODE REASON\r\n" to dst.
func (r *ResponseHeader) AppendStatusLine(dst []byte) []byte {
	dst = r.Version().appendTo(dst)
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, int64(r.Status()), 10)
	dst = append(dst, ' ')
	dst = append(dst, r.Reason()...)
	return append(dst, '\r', '\n')
}

// AppendWire appends the whole response head in HTTP/1 wire form to dst: the
// status line, every field line exactly as stored and in order, and the
// blank line. It does not allocate if dst has room.
func (r *ResponseHeader) AppendWire(dst []byte) []byte {
	dst = r.AppendStatusLine(dst)
	dst = r.Header.AppendWire(dst)
	return append(dst, '\r', '\n')
}

// WireLen returns the number of bytes AppendWire appends.
func (r *ResponseHeader) WireLen() int {
	return 8 + 1 + 3 + 1 + len(r.Reason()) + 2 + r.Header.WireLen() + 2
}

// WriteTo writes the response head as AppendWire does, in one Write. It
// implements io.WriterTo.
func (r *ResponseHeader) WriteTo(w io.Writer) (int64, error) {
	return writeWith(w, r.AppendWire)
}
