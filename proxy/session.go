package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/pingora-go/pingora/server/protocol/http2"
)

// Session is one downstream request as the hooks see it (Pingora's
// Session): the request, the response as it will be or was sent, facts
// about the connection, and controls to answer early or to close.
//
// A Session is valid only during the phases of its request: the proxy
// reuses it for the next request of the same connection. Its methods are
// meant for the goroutine running the hooks; a request whose body is sent
// upstream while the response is read runs RequestBodyFilter on a second
// goroutine, which must only touch the body it is given and C.
type Session struct {
	ctx      context.Context
	shutdown <-chan struct{}

	h1  *http1.ServerSession // HTTP/1 downstream, else nil
	h2  *http2.Session       // HTTP/2 downstream, else nil
	req *httpheader.RequestHeader

	clientAddr, serverAddr net.Addr
	tlsState               *tls.ConnectionState
	requests               int // requests served on this connection before this one

	resp        *httpheader.ResponseHeader // last header written downstream
	respStarted bool                       // a final header was written
	respDone    bool                       // the response was finished
	status      int
	respChunked bool
	respBytes   int64
	reqBytes    atomic.Int64 // also counted by the request body goroutine

	keepAliveOff bool
	reqModified  bool
	respModified bool

	// upstream facts of the current attempt
	attempts   int
	peer       *peer.Peer
	upReused   bool
	reqSent    bool
	upBytes    int64
	retryBuf   []byte
	retryTrunc atomic.Bool
	retryLimit int

	compLevel int
	compSet   bool

	timings Timings
	errResp httpheader.ResponseHeader // scratch for canned answers
}

// now is the current time for Timings: the request's start plus the
// monotonic time since, one clock read where time.Now takes two.
func (s *Session) now() time.Time {
	t := s.timings.RequestHeader
	return t.Add(time.Since(t))
}

// Timings are the moments of a request's life. A zero time means the
// moment has not come (yet).
type Timings struct {
	// Accepted is when the downstream connection was accepted.
	Accepted time.Time
	// RequestHeader is when the request header was read.
	RequestHeader time.Time
	// UpstreamConnected is when the last attempt got its connection.
	UpstreamConnected time.Time
	// UpstreamResponseHeader is when the final response header arrived
	// from upstream.
	UpstreamResponseHeader time.Time
	// Done is when the response was finished (before Logging).
	Done time.Time
}

// Context returns the request's context: canceled when the server stops
// waiting for the connection (fast shutdown, end of the grace period) or,
// for HTTP/2, when the client resets the stream.
func (s *Session) Context() context.Context { return s.ctx }

// Request returns the downstream request header. Phases may modify it
// before UpstreamPeer; the upstream request is a copy made after
// ProxyUpstreamFilter.
func (s *Session) Request() *httpheader.RequestHeader { return s.req }

// IsHTTP2 reports whether the downstream connection speaks HTTP/2.
func (s *Session) IsHTTP2() bool { return s.h2 != nil }

// ClientAddr returns the client's address, or nil if unknown.
func (s *Session) ClientAddr() net.Addr { return s.clientAddr }

// ServerAddr returns the local address the client connected to, or nil.
func (s *Session) ServerAddr() net.Addr { return s.serverAddr }

// TLS returns the downstream TLS connection state, or nil for cleartext.
func (s *Session) TLS() *tls.ConnectionState { return s.tlsState }

// Requests returns how many requests the downstream connection carried
// before this one (0 for the first; always 0 for HTTP/2).
func (s *Session) Requests() int { return s.requests }

// Timings returns the moments of the request's life so far.
func (s *Session) Timings() Timings { return s.timings }

// ShuttingDown reports whether a graceful shutdown has begun: the
// downstream connection will close after this request.
func (s *Session) ShuttingDown() bool {
	select {
	case <-s.shutdown:
		return true
	default:
		return false
	}
}

// KeepAlive reports whether the downstream HTTP/1 connection is, so far,
// going to carry another request. Always false for HTTP/2.
func (s *Session) KeepAlive() bool {
	return s.h1 != nil && !s.keepAliveOff && s.h1.KeepAlive()
}

// SetKeepAlive(false) closes the downstream HTTP/1 connection after this
// request. SetKeepAlive(true) cannot override the client or the response
// framing. No effect on HTTP/2.
func (s *Session) SetKeepAlive(on bool) {
	if !on {
		s.keepAliveOff = true
		if s.h1 != nil {
			s.h1.SetKeepAlive(false)
		}
	}
}

// Attempts returns how many upstream attempts were started, the current
// one included.
func (s *Session) Attempts() int { return s.attempts }

// Peer returns the peer of the current (or last) attempt, or nil.
func (s *Session) Peer() *peer.Peer { return s.peer }

// UpstreamReused reports whether the current attempt's upstream connection
// came from the pool (HTTP/2: carried streams before).
func (s *Session) UpstreamReused() bool { return s.upReused }

// RequestSent reports whether any part of the request (its header) was
// written to the current attempt's upstream connection.
func (s *Session) RequestSent() bool { return s.reqSent }

// RetryBufferTruncated reports whether the request body outgrew the retry
// buffer (Options.RetryBufferSize), so it cannot be replayed.
func (s *Session) RetryBufferTruncated() bool { return s.retryTrunc.Load() }

// Idempotent reports whether the request method is idempotent (RFC 9110
// §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE).
func (s *Session) Idempotent() bool {
	switch s.req.Method() {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}

// UpstreamBodyBytes returns the response body bytes received from
// upstream in the current attempt.
func (s *Session) UpstreamBodyBytes() int64 { return s.upBytes }

// RequestBodyBytes returns the request body bytes read from the client.
func (s *Session) RequestBodyBytes() int64 { return s.reqBytes.Load() }

// ResponseBodyBytes returns the response body bytes written downstream.
func (s *Session) ResponseBodyBytes() int64 { return s.respBytes }

// SetRequestBodyModified announces that RequestBodyFilter may change the
// request body's length: the upstream request is then sent without
// Content-Length. Call it before the upstream request header is written
// (at the latest in UpstreamRequestFilter).
func (s *Session) SetRequestBodyModified() { s.reqModified = true }

// SetResponseBodyModified announces that ResponseBodyFilter may change the
// response body's length: the response is then sent without
// Content-Length. Call it before the response header is written (at the
// latest in ResponseFilter).
func (s *Session) SetResponseBodyModified() { s.respModified = true }

// Response returns the last response header written downstream (a 1xx or
// the final one), or nil before any. Do not modify it.
func (s *Session) Response() *httpheader.ResponseHeader { return s.resp }

// ResponseWritten reports whether a final response header was written
// downstream.
func (s *Session) ResponseWritten() bool { return s.respStarted }

// Status returns the status of the final response sent downstream, 0 if
// none was. After a request failed because the client went away, it is
// 499 (nginx's "client closed request"), for logging.
func (s *Session) Status() int { return s.status }

// ReadRequestBody reads the request body (for phases that answer
// themselves, before the proxy phase). It returns io.EOF at the end. For
// HTTP/1 with Expect: 100-continue the first call sends the 100.
func (s *Session) ReadRequestBody(p []byte) (int, error) {
	var n int
	var err error
	if s.h1 != nil {
		n, err = s.h1.Read(p)
	} else {
		n, err = s.h2.ReadBody(p)
	}
	s.reqBytes.Add(int64(n))
	return n, err
}

// WriteResponseHeader sends resp downstream. 1xx headers may come first,
// any number. end means the response has no body. For HTTP/1 the proxy
// completes the framing: without Content-Length or Transfer-Encoding a
// body is sent chunked (HTTP/1.1 clients) or close-delimited (HTTP/1.0),
// and an end without body gets Content-Length: 0 where a body is allowed;
// Connection: close is added when the connection will not be kept alive.
// resp is kept (Response) and may be modified by the proxy.
func (s *Session) WriteResponseHeader(resp *httpheader.ResponseHeader, end bool) error {
	return s.writeResponseHeader(resp, end, false)
}

// writeResponseHeader is WriteResponseHeader; hold lets an HTTP/1 session
// keep the head until the first body bytes (see
// http1.ServerSession.BufferResponseHeader): the caller knows the body
// follows at once, and calls flushHeader before any wait.
func (s *Session) writeResponseHeader(resp *httpheader.ResponseHeader, end, hold bool) error {
	st := resp.Status()
	if s.h2 != nil {
		if s.respModified && st >= 200 {
			resp.Del("Content-Length")
		}
		var err error
		if hold && !end {
			err = s.h2.BufferResponseHeader(resp)
		} else {
			err = s.h2.WriteResponseHeader(resp, end)
		}
		if err != nil {
			return err
		}
	} else {
		if st >= 200 {
			s.prepareH1Response(resp, end)
		}
		write := s.h1.WriteResponseHeader
		if hold && !end {
			write = s.h1.BufferResponseHeader
		}
		if err := write(resp); err != nil {
			return err
		}
		if end && st >= 200 && st != 101 && !s.h1.Upgraded() {
			if err := s.h1.FinishResponse(nil); err != nil {
				return err
			}
		}
	}
	s.resp = resp
	if st >= 200 || st == 101 {
		s.respStarted = true
		s.status = st
		if end {
			s.respDone = true
		}
	}
	return nil
}

// flushHeader writes a response head kept by writeResponseHeader.
func (s *Session) flushHeader() error {
	if s.h2 != nil {
		return s.h2.Flush()
	}
	return s.h1.Flush()
}

// prepareH1Response fixes the framing and Connection of a final HTTP/1
// response header about to be written.
func (s *Session) prepareH1Response(resp *httpheader.ResponseHeader, end bool) {
	st := resp.Status()
	head := s.req.Method() == "HEAD"
	bodyless := st == 204 || st == 304 || st == 101 || (st >= 100 && st < 200)
	s.respChunked = false
	if s.respModified && !bodyless && !head {
		resp.Del("Content-Length")
	}
	if !bodyless {
		hasCL := resp.Has("Content-Length")
		hasTE := resp.Has("Transfer-Encoding")
		switch {
		case hasTE:
			s.respChunked = true
		case hasCL:
		case end && !head:
			_ = resp.SetBytes("Content-Length", zero)
		case head:
		case s.req.Version() == httpheader.HTTP10:
			s.SetKeepAlive(false) // close-delimited
		default:
			_ = resp.SetBytes("Transfer-Encoding", chunked)
			s.respChunked = true
		}
	} else {
		resp.Del("Content-Length")
		resp.Del("Transfer-Encoding")
	}
	if st == 101 {
		return
	}
	resp.Del("Connection")
	if s.ShuttingDown() {
		s.SetKeepAlive(false)
	}
	if !s.KeepAlive() {
		_ = resp.SetBytes("Connection", closeTok)
	} else if s.req.Version() == httpheader.HTTP10 {
		_ = resp.SetBytes("Connection", keepAliveTok)
	}
	if resp.Version() != httpheader.HTTP11 {
		_ = resp.SetVersion(httpheader.HTTP11)
	}
}

var (
	zero         = []byte("0")
	chunked      = []byte("chunked")
	closeTok     = []byte("close")
	keepAliveTok = []byte("keep-alive")
)

// WriteResponseBody sends response body bytes after WriteResponseHeader;
// end finishes the response (for HTTP/1 chunked: the last chunk, without
// trailers).
func (s *Session) WriteResponseBody(data []byte, end bool) error {
	if !s.respStarted {
		return perr.Explain(perr.InternalError, "proxy: response body before its header").AsIn()
	}
	if s.respDone {
		if len(data) == 0 {
			return nil
		}
		return perr.Explain(perr.InternalError, "proxy: response already finished").AsIn()
	}
	if s.h2 != nil {
		if err := s.h2.WriteBody(data, end); err != nil {
			return err
		}
	} else {
		if len(data) > 0 {
			if _, err := s.h1.Write(data); err != nil {
				return err
			}
		}
		if end {
			if err := s.h1.FinishResponse(nil); err != nil {
				return err
			}
		}
	}
	s.respBytes += int64(len(data))
	if end {
		s.respDone = true
	}
	return nil
}

// WriteResponseTrailers ends the response with trailers t (HTTP/2 always;
// HTTP/1 only for a chunked response, else they are dropped).
func (s *Session) WriteResponseTrailers(t *httpheader.Header) error {
	if !s.respStarted || s.respDone {
		return perr.Explain(perr.InternalError, "proxy: no response to end with trailers").AsIn()
	}
	s.respDone = true
	if s.h2 != nil {
		return s.h2.WriteTrailers(t)
	}
	if !s.respChunked {
		t = nil
	}
	return s.h1.FinishResponse(t)
}

// RespondError answers with a short error response: status, Server:
// Pingora, Content-Length: 0, Cache-Control: private, no-store, and (HTTP/1)
// Connection: close. It does nothing if a final response was already
// started.
func (s *Session) RespondError(status int) error {
	return s.RespondErrorWithBody(status, nil)
}

// RespondErrorWithBody is RespondError with a body.
func (s *Session) RespondErrorWithBody(status int, body []byte) error {
	if s.respStarted {
		return nil
	}
	if s.h1 != nil && len(body) == 0 {
		s.SetKeepAlive(false)
		err := s.h1.RespondError(status)
		s.respStarted, s.respDone, s.status = true, true, status
		return err
	}
	r := &s.errResp
	r.Reset()
	if err := r.SetStatus(status); err != nil {
		return perr.Because(perr.InternalError, "proxy: respond error", err).AsIn()
	}
	_ = r.Set("Server", "Pingora")
	_ = r.SetContentLength(int64(len(body)))
	_ = r.Set("Cache-Control", "private, no-store")
	s.SetKeepAlive(false)
	if err := s.WriteResponseHeader(r, len(body) == 0); err != nil {
		return err
	}
	if len(body) > 0 {
		return s.WriteResponseBody(body, true)
	}
	return nil
}

// RequestSummary returns "METHOD PATH, Host: HOST", the default summary
// in error logs.
func (s *Session) RequestSummary() string {
	return s.req.Method() + " " + s.req.Path() + ", Host: " + s.req.Get("Host")
}
