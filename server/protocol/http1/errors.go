package http1

import (
	"errors"

	perr "github.com/pingora-go/pingora/errors"
)

// ErrIncomplete is returned by ParseRequest, ParseResponse and
// ChunkedDecoder.Decode when the bytes given hold only the start of what
// they parse: read more and call again with the longer buffer.
var ErrIncomplete = errors.New("http1: incomplete message")

// Errors of the sessions' body writers.
var (
	// ErrBodyNotAllowed is returned when body bytes are written for a message
	// that has none (a response to HEAD, a 204 or 304, a 1xx).
	ErrBodyNotAllowed = errors.New("http1: message does not allow a body")
	// ErrBodyTooLong is returned when more body bytes are written than the
	// Content-Length declared.
	ErrBodyTooLong = errors.New("http1: body longer than its content-length")
	// ErrHeaderWritten is returned when a final response (or request) head is
	// written twice, or body bytes before any head.
	ErrHeaderWritten = errors.New("http1: head already written or not yet written")
	// ErrUpgraded is returned when the HTTP methods of a session are used
	// after the connection was handed over (Hijack).
	ErrUpgraded = errors.New("http1: connection was upgraded")
)

// A fault is a parse failure found by the side-neutral parsing code: the
// status a server answers with (0: incomplete) and a message.
type fault struct {
	status int
	msg    string
}

var incomplete = fault{}

func bad(msg string) fault { return fault{400, msg} }

// requestError makes the error returned for a bad request: its type is
// perr.HTTPStatus(status), its source Downstream, its cause an
// InvalidHTTPHeader error so errors.Is(err, perr.InvalidHTTPHeader) holds.
func requestError(f fault) error {
	return perr.Create(perr.HTTPStatus(f.status), perr.Downstream, f.msg, perr.NewDown(perr.InvalidHTTPHeader))
}

// responseError makes the error returned for a bad response from upstream:
// InvalidHTTPHeader, source Upstream (answered 502).
func responseError(f fault) error {
	return perr.Create(perr.InvalidHTTPHeader, perr.Upstream, f.msg, nil)
}

// chunkError is the error of the chunked decoder; sessions set its source.
func chunkError(msg string) *perr.Error {
	return perr.Explain(perr.InvalidChunk, msg)
}
