package http2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
)

// ErrResponseDone is returned by Session writes after the response ended
// (a write with end set, trailers, or Abort).
var ErrResponseDone = errors.New("http2: response already ended")

// ErrNoResponseHeader is returned by Session body and trailer writes before
// WriteResponseHeader.
var ErrNoResponseHeader = errors.New("http2: response header not written")

// Session is one HTTP/2 stream from a client, as a Handler sees it: the
// request header and body, and the writer of the response. Its methods
// must be called from the handler's goroutine, except Abort and Context,
// which may be called from any goroutine.
type Session struct {
	w    http.ResponseWriter
	r    *http.Request
	rc   *http.ResponseController
	req  *httpheader.RequestHeader
	opts *ServerOptions

	headerWritten bool
	ended         bool
	bodyEOF       bool
	abort         atomic.Bool
	readExpired   atomic.Bool
	writeExpired  atomic.Bool

	readTimer, writeTimer *time.Timer

	bodyRead, bodySent int64
}

// Request returns the request header: method and :path as the request line,
// :authority as the first field "host", then the other fields with their
// HTTP/2 (lower-case) names, cookie crumbs joined with "; ". Fields of
// different names come in name order: x/net/http2 keeps no order between
// them. The version is HTTP/2. The handler may modify it.
func (s *Session) Request() *httpheader.RequestHeader { return s.req }

// Context is canceled when the client resets the stream or the connection
// ends.
func (s *Session) Context() context.Context { return s.r.Context() }

// RemoteAddr returns the client's address.
func (s *Session) RemoteAddr() string { return s.r.RemoteAddr }

// TLS returns the TLS state of the connection, or nil for h2c.
func (s *Session) TLS() *tls.ConnectionState { return s.r.TLS }

// ReadBody reads request body bytes into p. It returns io.EOF at the end
// of the body, after which RequestTrailers holds the trailers if any. Each
// read takes at most ServerOptions.ReadTimeout (then a *perr.Error of type
// ReadTimedout). Reading is what opens the client's flow-control window:
// a handler that stops reading stops the client (backpressure).
func (s *Session) ReadBody(p []byte) (int, error) {
	if s.bodyEOF {
		return 0, io.EOF
	}
	if d := s.opts.ReadTimeout; d > 0 {
		if s.readTimer == nil {
			s.readTimer = time.AfterFunc(d, func() {
				s.readExpired.Store(true)
				_ = s.rc.SetReadDeadline(time.Unix(1, 0))
			})
		} else {
			s.readTimer.Reset(d)
		}
	}
	n, err := s.r.Body.Read(p)
	if s.readTimer != nil {
		s.readTimer.Stop()
	}
	s.bodyRead += int64(n)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		s.bodyEOF = true
		return n, io.EOF
	case isTimeout(err) || s.readExpired.Load():
		return n, perr.Because(perr.ReadTimedout, "read h2 request body", err).AsDown()
	default:
		return n, perr.Because(perr.ReadError, "read h2 request body", err).AsDown()
	}
}

// Body returns the request body as an io.Reader over ReadBody.
func (s *Session) Body() io.Reader { return bodyReader{s} }

type bodyReader struct{ s *Session }

func (b bodyReader) Read(p []byte) (int, error) { return b.s.ReadBody(p) }

// RequestTrailers returns the request trailers once ReadBody returned
// io.EOF, else nil.
func (s *Session) RequestTrailers() *httpheader.Header {
	if !s.bodyEOF {
		return nil
	}
	return trailersFromHTTP(s.r.Trailer)
}

// BodyBytesRead returns the number of request body bytes read.
func (s *Session) BodyBytesRead() int64 { return s.bodyRead }

// BodyBytesSent returns the number of response body bytes written.
func (s *Session) BodyBytesSent() int64 { return s.bodySent }

// ResponseWritten reports whether a final response header was written.
func (s *Session) ResponseWritten() bool { return s.headerWritten }

// WriteResponseHeader sends resp: its status and fields, each name in lower
// case, without the connection-specific fields HTTP/2 forbids (Connection,
// Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade). Nothing else is
// added: no Date, no sniffed Content-Type. A 1xx status (except 101, which
// HTTP/2 lacks) is sent as an informational response and may be followed
// by more headers. With end set, the response has no body and ends when the
// handler returns.
func (s *Session) WriteResponseHeader(resp *httpheader.ResponseHeader, end bool) error {
	if s.ended || s.abort.Load() {
		return ErrResponseDone
	}
	if s.headerWritten {
		return perr.Explain(perr.InternalError, "h2 response header already written")
	}
	status := resp.Status()
	if status == http.StatusSwitchingProtocols {
		return perr.Explain(perr.H2Error, "h2 has no 101 switching protocols")
	}
	h := s.w.Header()
	if status < 200 {
		setHTTPFields(h, &resp.Header, false)
		s.w.WriteHeader(status)
		clear(h)
		return nil
	}
	setHTTPFields(h, &resp.Header, false)
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no sniffing
	}
	if _, ok := h["Date"]; !ok {
		h["Date"] = nil
	}
	s.w.WriteHeader(status)
	s.headerWritten = true
	if end {
		s.ended = true
		return nil
	}
	return s.flush()
}

// WriteBody writes response body bytes and sends them at once. With end
// set, the body is complete. Each write takes at most
// ServerOptions.WriteTimeout, which bounds a client that keeps its
// flow-control window closed; after that the stream is reset and a
// *perr.Error of type WriteTimedout returned.
func (s *Session) WriteBody(data []byte, end bool) error {
	if s.ended || s.abort.Load() {
		return ErrResponseDone
	}
	if !s.headerWritten {
		return ErrNoResponseHeader
	}
	if end {
		s.ended = true
	}
	if len(data) == 0 {
		return nil
	}
	s.armWrite()
	n, err := s.w.Write(data)
	if err == nil && !end {
		err = s.rc.Flush()
	}
	s.disarmWrite()
	s.bodySent += int64(n)
	return s.writeErr(err)
}

// WriteTrailers sends t as the response trailers and ends the response.
// Names are sent in lower case; connection-specific fields are dropped.
func (s *Session) WriteTrailers(t *httpheader.Header) error {
	if s.ended || s.abort.Load() {
		return ErrResponseDone
	}
	if !s.headerWritten {
		return ErrNoResponseHeader
	}
	s.ended = true
	h := s.w.Header()
	for name, value := range t.All() {
		if hopByHop(name) {
			continue
		}
		k := http.TrailerPrefix + http.CanonicalHeaderKey(name)
		h[k] = append(h[k], value)
	}
	return nil
}

// Abort resets the stream with RST_STREAM(INTERNAL_ERROR) now; the client
// sees the response fail. Later writes return ErrResponseDone. It may be
// called from any goroutine.
func (s *Session) Abort() {
	if s.abort.Swap(true) {
		return
	}
	_ = s.rc.SetWriteDeadline(time.Unix(1, 0)) // resets the stream at once
}

func (s *Session) aborted() bool { return s.abort.Load() }

func (s *Session) flush() error {
	s.armWrite()
	err := s.rc.Flush()
	s.disarmWrite()
	return s.writeErr(err)
}

func (s *Session) armWrite() {
	if d := s.opts.WriteTimeout; d > 0 {
		if s.writeTimer == nil {
			s.writeTimer = time.AfterFunc(d, func() {
				s.writeExpired.Store(true)
				_ = s.rc.SetWriteDeadline(time.Unix(1, 0))
			})
		} else {
			s.writeTimer.Reset(d)
		}
	}
}

func (s *Session) disarmWrite() {
	if s.writeTimer != nil {
		s.writeTimer.Stop()
	}
}

func (s *Session) writeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case isTimeout(err) || s.writeExpired.Load():
		return perr.Because(perr.WriteTimedout, "write h2 response", err).AsDown()
	default:
		return perr.Because(perr.WriteError, "write h2 response", err).AsDown()
	}
}

func (s *Session) stopTimers() {
	if s.readTimer != nil {
		s.readTimer.Stop()
	}
	if s.writeTimer != nil {
		s.writeTimer.Stop()
	}
}
