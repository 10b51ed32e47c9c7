package http1

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
)

// ServerSession is the downstream side of an HTTP/1 connection: it reads
// requests from a client and writes the responses, one exchange after the
// other. It ports Pingora's HTTP/1 ServerSession.
//
// An exchange is: ReadRequest; optionally Read (the request body);
// WriteResponseHeader (any number of 1xx first); Write (the response body);
// FinishResponse; then Finish, which says whether the connection can carry
// the next request. Pipelined requests are answered in order because an
// exchange ends before the next request is parsed; bytes read past a request
// stay buffered for the next one.
//
// Concurrency: Read may run on one goroutine while WriteResponseHeader,
// Write and FinishResponse run on another (full-duplex proxying); every
// other method needs exclusive use of the session, and in particular both
// goroutines must be done before Finish.
type ServerSession struct {
	conn net.Conn
	io   net.Conn // conn, or conn with raw system calls (ioConn)
	dl   deadlines
	opts Options
	rd   reader

	req       httpheader.RequestHeader
	reqFr     Framing
	body      bodyReader
	trailers  httpheader.Header
	hasReq    bool
	requests  int
	keepAlive bool // the connection may carry another request
	expect100 bool // Expect: 100-continue not yet answered
	upgradeRq bool

	final    bool // a final response head was written
	status   int
	bw       bodyWriter
	upgraded bool
	hijacked bool
	closed   bool
	wbuf     []byte

	// wmu serialises writes to conn, so that the 100 Continue sent by Read
	// never interleaves with a head written by another goroutine. It
	// guards status, final, expect100 and keepAlive while both directions
	// may be active.
	wmu sync.Mutex
}

// NewServerSession returns a session reading requests from conn. A nil
// opts means the zero Options (the defaults). The session owns conn from
// now on: Finish or Close close it.
func NewServerSession(conn net.Conn, opts *Options) *ServerSession {
	s := &ServerSession{conn: conn, io: ioConn(conn)}
	if opts != nil {
		s.opts = *opts
	}
	s.rd.conn = s.io
	s.dl.init(conn, true)
	s.rd.dl = &s.dl
	return s
}

// NewServerSessionBuffered is NewServerSession for a connection whose
// first bytes were already read from it, by a protocol sniffer for
// instance (see http2.PeekPreface and http2.Replayed): the session parses
// buffered before reading conn. buffered may be at most 16 KiB; it is
// copied.
func NewServerSessionBuffered(conn net.Conn, opts *Options, buffered []byte) (*ServerSession, error) {
	if len(buffered) > minBuffer {
		return nil, errors.New("http1: more than 16 KiB of buffered bytes")
	}
	s := NewServerSession(conn, opts)
	if len(buffered) > 0 {
		s.rd.buf = smallBufs.Get().(*[]byte)
		s.rd.w = copy(*s.rd.buf, buffered)
	}
	return s, nil
}

// ReadRequest reads the next request head. It returns false with a nil
// error when the client closed the connection or sent nothing before the
// keep-alive timeout (before a first request: the header timeout); the
// caller then just drops the session.
//
// An error means no request can be served on this connection. A parse error
// has type perr.HTTPStatus(code) (see ParseRequest); a whole-header timeout
// after some bytes arrived has type perr.HTTPStatus(408) with a
// ReadTimedout cause. For those, answer with RespondError(perr.StatusCode(err)),
// which closes the connection. Other errors are I/O errors of source
// Downstream (perr.StatusCode gives 0: send nothing); Close the session.
//
// If the previous exchange was not finished, ReadRequest finishes it first
// (see Finish).
func (s *ServerSession) ReadRequest() (bool, error) {
	if s.hijacked || s.closed {
		return false, ErrUpgraded
	}
	if s.hasReq {
		if !s.Finish() {
			return false, nil
		}
	}
	s.final, s.status, s.upgraded = false, 0, false
	lim := &s.opts.Limits
	hto := s.opts.headerTimeout()
	if s.requests > 0 && len(s.rd.buffered()) == 0 {
		// Idle keep-alive: wait for the first byte, then give the head its
		// own deadline.
		s.dl.read(s.opts.keepAliveTimeout())
		yieldBeforeWait()
		if n, err := s.rd.fill(); err != nil && n == 0 {
			s.rd.release()
			return false, nil
		}
	}
	n, got, err := s.rd.readHead(func(b []byte) (int, error) {
		return ParseRequest(b, &s.req, lim)
	}, lim.requestLine(), lim.headerBytes(), func() {
		s.dl.read(hto)
	})
	if err != nil {
		s.keepAlive = false
		if _, ok := err.(*perr.Error); ok {
			return false, err
		}
		switch {
		case !got:
			return false, nil
		case isTimeout(err):
			return false, perr.Create(perr.HTTPStatus(408), perr.Downstream,
				"http1: request head not received within "+hto.String(), perr.Because(perr.ReadTimedout, "", err).AsDown())
		case err == io.ErrShortBuffer:
			return false, requestError(fault{431, "http1: request head too large"})
		}
		return false, ioError(err, perr.Downstream, "http1: read request head")
	}
	s.rd.consume(n)
	s.requests++
	s.hasReq = true
	s.reqFr, _ = RequestBody(&s.req) // ParseRequest validated it
	s.trailers.Reset()
	s.body.reset(&s.rd, s.reqFr, perr.Downstream, s.opts.bodyTimeout(), lim, &s.trailers)
	if max := s.opts.MaxRequestBody; max > 0 {
		s.body.max = max
		if s.reqFr.Kind == BodyLength && s.reqFr.Length > max {
			s.keepAlive = false
			return false, requestError(fault{413, "http1: request body too large"})
		}
	}
	s.keepAlive = RequestKeepAlive(&s.req)
	s.expect100 = expectsContinue(&s.req) && s.reqFr.Kind != BodyNone
	s.upgradeRq = IsUpgradeRequest(&s.req)
	s.bw = bodyWriter{}
	return true, nil
}

// Request returns the current request head. It stays valid, and may be
// modified, until the next ReadRequest.
func (s *ServerSession) Request() *httpheader.RequestHeader { return &s.req }

// RequestFraming returns the framing of the current request's body.
func (s *ServerSession) RequestFraming() Framing { return s.reqFr }

// RequestTrailers returns the trailer fields of a chunked request body,
// filled once the body was read to its end.
func (s *ServerSession) RequestTrailers() *httpheader.Header { return &s.trailers }

// Read reads the request body. It returns io.EOF at the end of the body, and
// never reads past it. On the first call for a request with Expect:
// 100-continue (HTTP/1.1), before any response was written, it first sends
// "HTTP/1.1 100 Continue". Each wait for body bytes is bounded by
// BodyTimeout. Errors have source Downstream.
func (s *ServerSession) Read(p []byte) (int, error) {
	if s.hijacked {
		return 0, ErrUpgraded
	}
	if !s.hasReq {
		return 0, io.EOF
	}
	if err := s.sendContinue(); err != nil {
		return 0, err
	}
	return s.body.Read(p)
}

var continueLine = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// sendContinue writes the 100 Continue a pending Expect asks for, unless a
// response head was written already.
func (s *ServerSession) sendContinue() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.expect100 {
		return nil
	}
	s.expect100 = false
	if s.status != 0 {
		return nil
	}
	s.dl.write(s.opts.writeTimeout())
	if _, err := s.io.Write(continueLine); err != nil {
		s.keepAlive = false
		return writeError(err, perr.Downstream)
	}
	return nil
}

// RequestBodyDone reports whether the request body was read to its end.
func (s *ServerSession) RequestBodyDone() bool { return s.body.done }

// DrainRequestBody reads and discards the rest of the request body, at most
// Options.MaxDrainBytes of it. It reports whether the body was completed;
// if not, the connection will not be reused.
func (s *ServerSession) DrainRequestBody() bool {
	if s.body.done {
		return true
	}
	if s.expect100 {
		// The client may be waiting for a 100 before it sends the body:
		// do not wait for a body that may never come.
		s.keepAlive = false
		return false
	}
	ok := s.body.drain(s.opts.maxDrain())
	if !ok {
		s.keepAlive = false
	}
	return ok
}

// KeepAlive reports whether the connection is, so far, going to carry
// another request after this exchange: the request allowed it (version,
// Connection) and nothing since has ruled it out. A proxy uses it to set
// the Connection field of the response before writing it.
func (s *ServerSession) KeepAlive() bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.keepAlive
}

// SetKeepAlive(false) makes the connection close after this exchange.
// SetKeepAlive(true) cannot override the client's or the framing's choice.
func (s *ServerSession) SetKeepAlive(on bool) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !on {
		s.keepAlive = false
	}
}

// WriteResponseHeader writes a response head exactly as stored (names,
// case, order; nothing is added). A 1xx head (100, 103, ...) may be written
// any number of times before the final one; a 101 is allowed only for an
// upgrade request (IsUpgradeRequest) and switches the session to upgraded
// mode: use Hijack next. A second final head is refused with
// ErrHeaderWritten.
//
// A head ResponseBody rejects, or a chunked response to an HTTP/1.0
// request (send it close-delimited instead), is refused with an Internal
// error and nothing is written.
//
// The response's framing follows ResponseBody (for this request); a
// close-delimited body, a 101, a 2xx to CONNECT and Connection: close in the
// response all stop the connection from being reused, as does an unread
// request body with Expect: 100-continue not answered by a 100.
func (s *ServerSession) WriteResponseHeader(resp *httpheader.ResponseHeader) error {
	return s.writeHead(resp, false)
}

// BufferResponseHeader is WriteResponseHeader for a head that may wait a
// moment: a final head other than a 101 (or a 2xx to CONNECT) is kept in
// the session and written together with the first body bytes (Write), the
// end of the body (FinishResponse), or at Flush, Finish or Close, whichever
// comes first, so that a small response goes out in one write. Its checks
// and effects on the session are those of WriteResponseHeader, at once;
// write errors are reported by the call that writes. A 1xx head is written
// at once.
//
// Use it when the body (or the end of the response) is known to follow
// without waiting, and call Flush before waiting for anything.
func (s *ServerSession) BufferResponseHeader(resp *httpheader.ResponseHeader) error {
	return s.writeHead(resp, true)
}

// Flush writes a head kept by BufferResponseHeader, if any.
func (s *ServerSession) Flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if err := s.bw.flush(); err != nil {
		s.keepAlive = false
		return err
	}
	return nil
}

func (s *ServerSession) writeHead(resp *httpheader.ResponseHeader, hold bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.hijacked {
		return ErrUpgraded
	}
	if s.final || !s.hasReq {
		return ErrHeaderWritten
	}
	st := resp.Status()
	if st == 101 && !s.upgradeRq {
		return perr.Explain(perr.InternalError, "http1: 101 response to a request that is not an upgrade").AsIn()
	}
	fr, err := ResponseBody(&s.req, resp)
	if err != nil {
		return perr.Because(perr.InternalError, "http1: response framing", err).AsIn()
	}
	if fr.Kind == BodyChunked && s.req.Version() == httpheader.HTTP10 {
		return perr.Explain(perr.InternalError, "http1: chunked response to an HTTP/1.0 request").AsIn()
	}
	s.wbuf = resp.AppendWire(s.wbuf[:0])
	s.bw.reset(s.io, &s.dl, fr, perr.Downstream, s.opts.writeTimeout())
	if hold && st >= 200 && fr.Kind != BodyTunnel {
		s.bw.hold(&s.wbuf)
	} else if err := s.bw.writeRaw(s.wbuf); err != nil {
		s.keepAlive = false
		return err
	}
	s.status = st
	if st < 200 && st != 101 {
		if st == 100 {
			s.expect100 = false // forwarded or written by the caller
		}
		return nil
	}
	s.final = true
	switch {
	case fr.Kind == BodyTunnel:
		s.upgraded = true
		s.keepAlive = false
	case fr.Kind == BodyUntilClose, !ResponseKeepAlive(resp):
		s.keepAlive = false
	}
	if s.expect100 {
		// A final answer before the body was ever read and without a 100:
		// the client may or may not send the body, so the connection
		// cannot be reused.
		s.expect100 = false
		s.keepAlive = false
	}
	return nil
}

// Write writes response body bytes in the framing of the response head:
// as is for Content-Length (more than declared is ErrBodyTooLong) and
// close-delimited bodies, as one chunk per call for chunked. A body for a
// response that has none (HEAD, 204, 304) is ErrBodyNotAllowed.
func (s *ServerSession) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.hijacked {
		return 0, ErrUpgraded
	}
	if !s.final || s.upgraded {
		return 0, ErrHeaderWritten
	}
	n, err := s.bw.write(p)
	if err != nil {
		s.keepAlive = false
	}
	return n, err
}

// FinishResponse ends the response body: for chunked, it writes the last
// chunk, then trailers (if not nil, exactly as stored) and the final CRLF;
// for Content-Length it checks that the whole body was written (else a
// PrematureBodyEnd error, and the connection will close).
func (s *ServerSession) FinishResponse(trailers *httpheader.Header) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.final || s.upgraded {
		return ErrHeaderWritten
	}
	err := s.bw.finish(trailers, &s.wbuf)
	if err != nil {
		s.keepAlive = false
	}
	return err
}

// RespondError writes a short error response with the given status:
// Content-Length: 0, Cache-Control: private, no-store and Connection:
// close, and marks the connection to close. It writes nothing if a final
// response head was already written. Use it with the status of a
// ReadRequest error (perr.StatusCode).
func (s *ServerSession) RespondError(status int) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.keepAlive = false
	if s.final || s.hijacked || s.closed || status < 200 || status > 999 {
		return nil
	}
	s.final = true
	b := append(s.wbuf[:0], "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, statusText(status)...)
	b = append(b, "\r\nServer: Pingora\r\nContent-Length: 0\r\nCache-Control: private, no-store\r\nConnection: close\r\n\r\n"...)
	s.wbuf = b
	s.bw.reset(s.io, &s.dl, Framing{}, perr.Downstream, s.opts.writeTimeout())
	return s.bw.writeRaw(b)
}

// Finish ends the exchange and reports whether the connection stays open
// for the next ReadRequest. It is reusable when keep-alive still holds (see
// KeepAlive), a final response was written and finished, and the request
// body was read to its end, draining at most Options.MaxDrainBytes of it
// (CVE-2025-4366: an unread body must never be parsed as the next request).
// Otherwise Finish closes the connection. After an upgrade Finish does
// nothing and returns false (use Hijack).
func (s *ServerSession) Finish() bool {
	if s.hijacked || s.closed {
		return false
	}
	if !s.hasReq {
		return true // already finished, or no request yet
	}
	if s.bw.held && s.bw.flush() != nil {
		s.keepAlive = false
	}
	reuse := s.keepAlive && s.hasReq && s.final && s.bw.done && !s.upgraded
	if reuse {
		reuse = s.DrainRequestBody() && s.body.err == nil
	}
	s.hasReq = false
	if s.upgraded {
		return false
	}
	if !reuse {
		_ = s.Close()
		return false
	}
	s.rd.release()
	return true
}

// Upgraded reports whether a 101 (or 2xx to CONNECT) was written, so the
// connection now carries another protocol: call Hijack.
func (s *ServerSession) Upgraded() bool { return s.upgraded }

// Hijack hands over the connection after a 101 (or a 2xx to CONNECT): it
// returns the conn, with deadlines cleared, and a copy of the bytes already
// read and not yet consumed: any unread part of a request body declared
// before the upgrade (read it with Read first to keep them apart), then
// the first bytes of the new protocol. The session is unusable afterwards. Before
// an upgrade it returns ErrHeaderWritten: bytes after a refused upgrade are
// the next request (CVE-2026-2833).
func (s *ServerSession) Hijack() (net.Conn, []byte, error) {
	if !s.upgraded || s.hijacked {
		return nil, nil, ErrHeaderWritten
	}
	s.hijacked = true
	s.dl.clear()
	return s.conn, s.rd.take(), nil
}

// InterruptRead makes a read of the connection blocked in another
// goroutine (waiting for the next request, or in a request body read) fail
// at once with a timeout, and every later read too until the session sets
// a new deadline itself. It may be called from any goroutine. The session
// keeps its connection's deadlines coarsely (a timeout fires between its
// value and 9/8 of it), so code that must interrupt a read calls this
// rather than setting the connection's deadline directly.
func (s *ServerSession) InterruptRead() { s.dl.interruptRead() }

// Close closes the connection and returns the buffers to their pools. It
// is safe to call more than once.
//
// If a response was written, Close first closes the write side (when the
// conn supports CloseWrite, as TCP and TLS connections do) and reads and
// discards what the client still sends, for at most half a second and
// 256 KiB: closing a socket with unread bytes makes the kernel send a reset,
// which can destroy the response the client has not yet read (RFC 9112
// §9.6).
func (s *ServerSession) Close() error {
	if s.closed || s.hijacked {
		return nil
	}
	s.closed = true
	if s.bw.held {
		_ = s.bw.flush()
	}
	s.rd.r = s.rd.w
	s.rd.release()
	if cw, ok := s.conn.(interface{ CloseWrite() error }); ok && s.final {
		if cw.CloseWrite() == nil {
			s.dl.r.Forget()
			_ = s.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
			_, _ = io.CopyN(io.Discard, s.conn, lingerBytes)
		}
	}
	return s.conn.Close()
}

// Bounds of the lingering close.
const (
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 256 << 10
)

// Requests returns how many requests were read on this connection.
func (s *ServerSession) Requests() int { return s.requests }

func statusText(code int) string {
	r, _ := httpheader.NewResponse(code)
	if r == nil {
		return ""
	}
	return r.Reason()
}
