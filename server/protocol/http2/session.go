package http2

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"sync"
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
	w    streamWriter
	r    *http.Request
	req  httpheader.RequestHeader // one allocation with the Session
	opts *ServerOptions

	headerWritten bool
	headPending   bool // a final head x/net/http2 has not been told to send
	ended         bool
	bodyEOF       bool
	abort         atomic.Bool
	readExpired   atomic.Bool
	writeExpired  atomic.Bool

	// Timeouts (see watchdog): when the current read or write began, on
	// wd's clock, or 0.
	wd                    *watchdog
	wdPrev, wdNext        *Session
	readSince, writeSince atomic.Int64

	// mu orders Abort against the end of the handler, after which the
	// ResponseWriter belongs to x/net/http2 again.
	mu       sync.Mutex
	finished bool

	bodyRead, bodySent int64

	headVals [8]string // backing array of the final head's values
}

// streamWriter is what x/net/http2's ResponseWriter offers; calling it
// directly saves the http.ResponseController each stream would allocate.
type streamWriter interface {
	http.ResponseWriter
	FlushError() error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// controllerWriter adapts a ResponseWriter without those methods.
type controllerWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
}

func (c controllerWriter) FlushError() error                  { return c.rc.Flush() }
func (c controllerWriter) SetReadDeadline(t time.Time) error  { return c.rc.SetReadDeadline(t) }
func (c controllerWriter) SetWriteDeadline(t time.Time) error { return c.rc.SetWriteDeadline(t) }

// Request returns the request header: method and :path as the request line,
// :authority as the first field "host", then the other fields with their
// HTTP/2 (lower-case) names, cookie crumbs joined with "; ". Fields of
// different names come in name order: x/net/http2 keeps no order between
// them. The version is HTTP/2. The handler may modify it.
func (s *Session) Request() *httpheader.RequestHeader { return &s.req }

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
	if s.wd != nil && s.wd.readTimeout > 0 {
		s.readSince.Store(s.wd.now())
	}
	n, err := s.r.Body.Read(p)
	if s.wd != nil {
		s.readSince.Store(0)
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
	if err := s.writeHead(resp, end); err != nil || end || !s.headerWritten {
		return err
	}
	return s.flush()
}

// BufferResponseHeader is WriteResponseHeader(resp, false) for a head that
// may wait a moment: a final head is kept and sent in the same flush as the
// first body bytes (WriteBody), the trailers (WriteTrailers), or at Flush
// or the handler's return, whichever comes first; a small response then
// costs the client connection one write instead of two. Its checks and
// effects on the Session are those of WriteResponseHeader, at once; write
// errors are reported by the call that writes. A 1xx head is sent at once.
//
// Use it when the body (or the end of the response) follows without
// waiting, and call Flush before waiting for anything, so that the client
// does not wait for the head meanwhile.
func (s *Session) BufferResponseHeader(resp *httpheader.ResponseHeader) error {
	return s.writeHead(resp, false)
}

// Flush sends what the Session holds: a head kept by BufferResponseHeader.
// Body bytes are sent by WriteBody itself. It is a no-op when nothing is
// held.
func (s *Session) Flush() error {
	if !s.headPending || s.abort.Load() {
		return nil
	}
	s.headPending = false
	return s.flush()
}

// writeHead is WriteResponseHeader without the flush.
func (s *Session) writeHead(resp *httpheader.ResponseHeader, end bool) error {
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
	// x/net/http2 copies the map at WriteHeader; the values may live in
	// the Session (a final head is written once).
	setHTTPFieldsIn(h, &resp.Header, false, s.headVals[:])
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // no sniffing
	}
	if _, ok := h["Date"]; !ok {
		h["Date"] = nil
	}
	if !end {
		if _, ok := h["Content-Length"]; !ok {
			// x/net/http2 adds the length of a body written whole before
			// the head goes out; the head is sent as written instead,
			// whether or not it waited for the body.
			h["Content-Length"] = nil
		}
		s.headPending = true
	}
	s.w.WriteHeader(status)
	s.headerWritten = true
	if end {
		s.ended = true
	}
	return nil
}

// WriteBody writes response body bytes and sends them at once (with a head
// kept by BufferResponseHeader). With end set, the body is complete: what
// x/net/http2 still buffers of it (up to 4 KiB) goes out with the end of
// the stream when the handler returns, in one flush. Each write takes at most
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
	s.headPending = false // the head goes out with these bytes
	s.armWrite()
	n, err := s.w.Write(data)
	if err == nil && !end {
		err = s.w.FlushError()
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
// called from any goroutine; once the handler has returned it does nothing.
func (s *Session) Abort() {
	if s.abort.Swap(true) {
		return
	}
	s.mu.Lock()
	if !s.finished {
		_ = s.w.SetWriteDeadline(time.Unix(1, 0)) // resets the stream at once
	}
	s.mu.Unlock()
}

func (s *Session) aborted() bool { return s.abort.Load() }

func (s *Session) flush() error {
	s.armWrite()
	err := s.w.FlushError()
	s.disarmWrite()
	return s.writeErr(err)
}

func (s *Session) armWrite() {
	if s.wd != nil && s.wd.writeTimeout > 0 {
		s.writeSince.Store(s.wd.now())
	}
}

func (s *Session) disarmWrite() {
	if s.wd != nil {
		s.writeSince.Store(0)
	}
}

// expireRead and expireWrite end the read or write that began at since,
// if it is still the one in progress. The watchdog calls them, holding its
// lock, while s is registered (so its ResponseWriter is valid).
func (s *Session) expireRead(since int64) {
	if s.readSince.CompareAndSwap(since, 0) {
		s.readExpired.Store(true)
		_ = s.w.SetReadDeadline(time.Unix(1, 0))
	}
}

func (s *Session) expireWrite(since int64) {
	if s.writeSince.CompareAndSwap(since, 0) {
		s.writeExpired.Store(true)
		_ = s.w.SetWriteDeadline(time.Unix(1, 0))
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
