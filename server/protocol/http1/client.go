package http1

import (
	"io"
	"net"
	"sync/atomic"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
)

// ClientSession is the upstream side of an HTTP/1 connection: it writes a
// request to a server and reads the response. It ports Pingora's HTTP/1
// HttpSession for clients.
//
// An exchange is: WriteRequestHeader; Write (the request body) and
// FinishRequestBody; ReadResponseHeader until it returns a final (non-1xx)
// head, handing every 1xx to the caller to forward; Read (the response
// body); then Release, which returns the connection for reuse only if the
// exchange completed cleanly.
//
// Concurrency: the writing methods (Write, FinishRequestBody) may run on one
// goroutine while the reading ones (ReadResponseHeader, Read) run on
// another, so a response can be read while the request body is still being
// sent; Abort may be called from any goroutine at any time; every other
// method (Close and Release included) needs exclusive use, after both are
// done.
type ClientSession struct {
	conn net.Conn
	io   net.Conn // conn, or conn with raw system calls (ioConn)
	dl   deadlines
	opts Options
	rd   reader

	req      *httpheader.RequestHeader
	reqKA    bool
	respKA   bool // the final response allows keep-alive
	bw       bodyWriter
	wbuf     []byte
	resp     httpheader.ResponseHeader
	respFr   Framing
	final    bool
	body     bodyReader
	trailers httpheader.Header
	wbroken  bool // a write failed (touched only by the writing methods)
	rbroken  bool // a read failed (touched only by the reading methods)
	upgraded bool
	hijacked bool
	closed   bool
	aborted  atomic.Bool // Abort was called (from any goroutine)
}

// NewClientSession returns a session writing requests to conn. A nil opts
// means the zero Options (the defaults). The session owns conn: Release
// returns it or closes it.
func NewClientSession(conn net.Conn, opts *Options) *ClientSession {
	c := &ClientSession{conn: conn, io: ioConn(conn)}
	if opts != nil {
		c.opts = *opts
	}
	c.rd.conn = c.io
	c.dl.init(conn, false)
	c.rd.dl = &c.dl
	return c
}

// WriteRequestHeader writes the request head exactly as stored and sets up
// the request body framing (chunked if Transfer-Encoding is chunked, else
// Content-Length, else no body). req is kept until the response is read (it
// decides the response framing for HEAD, CONNECT and upgrades): do not
// change it before then. A head whose framing RequestBody rejects is not
// sent (an Internal error). Write errors have source Upstream.
func (c *ClientSession) WriteRequestHeader(req *httpheader.RequestHeader) error {
	if c.hijacked || c.closed {
		return ErrUpgraded
	}
	if c.req != nil {
		return ErrHeaderWritten
	}
	fr, err := RequestBody(req)
	if err != nil {
		return perr.Because(perr.InternalError, "http1: request framing", err).AsIn()
	}
	c.req, c.reqKA = req, RequestKeepAlive(req)
	c.final, c.upgraded = false, false
	c.wbuf = req.AppendWire(c.wbuf[:0])
	c.bw.reset(c.io, &c.dl, fr, perr.Upstream, c.opts.writeTimeout())
	if err := c.bw.writeRaw(c.wbuf); err != nil {
		c.wbroken = true
		return err
	}
	return nil
}

// Write writes request body bytes in the request's framing (one chunk per
// call for chunked).
func (c *ClientSession) Write(p []byte) (int, error) {
	if c.req == nil || c.hijacked {
		return 0, ErrHeaderWritten
	}
	n, err := c.bw.write(p)
	if err != nil {
		c.wbroken = true
	}
	return n, err
}

// FinishRequestBody ends the request body (see ServerSession.FinishResponse).
func (c *ClientSession) FinishRequestBody(trailers *httpheader.Header) error {
	if c.req == nil || c.hijacked {
		return ErrHeaderWritten
	}
	err := c.bw.finish(trailers, &c.wbuf)
	if err != nil {
		c.wbroken = true
	}
	return err
}

// ReadResponseHeader reads the next response head. A 1xx head other than
// 101 (100 Continue, 103 Early Hints) is returned as is, with no body: a
// proxy forwards it and calls ReadResponseHeader again. A final head sets
// up the response body, read with Read. The head is owned by the session:
// valid until the next call.
//
// The whole head must arrive within Options.HeaderTimeout (else a
// ReadTimedout error). A malformed head or framing is an InvalidHTTPHeader
// error; I/O errors are ReadError or ConnectionClosed, with retry type
// perr.RetryReusedOnly if no byte of the response had arrived; all have
// source Upstream, so perr.StatusCode maps them to 502 or 504. Such a
// connection is never reused.
func (c *ClientSession) ReadResponseHeader() (*httpheader.ResponseHeader, error) {
	if c.hijacked || c.closed {
		return nil, ErrUpgraded
	}
	if c.req == nil || c.final {
		return nil, ErrHeaderWritten
	}
	lim := &c.opts.Limits
	c.dl.read(c.opts.headerTimeout())
	if len(c.rd.buffered()) == 0 {
		yieldBeforeWait()
	}
	n, got, err := c.rd.readHead(func(b []byte) (int, error) {
		return ParseResponse(b, &c.resp, lim)
	}, lim.headerBytes(), lim.headerBytes(), nil)
	if err != nil {
		c.rbroken = true
		if _, ok := err.(*perr.Error); ok {
			return nil, err
		}
		if err == io.ErrShortBuffer {
			return nil, responseError(fault{502, "http1: response head too large"})
		}
		e := ioError(err, perr.Upstream, "http1: read response head").(*perr.Error)
		if !got && e.Type() != perr.ReadTimedout {
			// Closed or reset before any response byte: a pooled
			// connection may simply have gone stale (Pingora's ReusedOnly).
			e.SetRetryType(perr.RetryReusedOnly)
		}
		return nil, e
	}
	c.rd.consume(n)
	fr, err := ResponseBody(c.req, &c.resp)
	if err != nil {
		c.rbroken = true
		return nil, err
	}
	st := c.resp.Status()
	if st < 200 && st != 101 {
		return &c.resp, nil
	}
	c.final, c.respFr = true, fr
	// decided now: a proxy may rewrite Connection in the head it forwards
	c.respKA = ResponseKeepAlive(&c.resp)
	c.trailers.Reset()
	c.body.reset(&c.rd, fr, perr.Upstream, c.opts.bodyTimeout(), lim, &c.trailers)
	if fr.Kind == BodyTunnel {
		c.upgraded = true
	}
	return &c.resp, nil
}

// Response returns the last response head read.
func (c *ClientSession) Response() *httpheader.ResponseHeader { return &c.resp }

// ResponseFraming returns the framing of the final response's body.
func (c *ClientSession) ResponseFraming() Framing { return c.respFr }

// ResponseTrailers returns the trailer fields of a chunked response body,
// filled once the body was read to its end.
func (c *ClientSession) ResponseTrailers() *httpheader.Header { return &c.trailers }

// Read reads the response body, never past its end, returning io.EOF at
// the end. Each wait is bounded by Options.BodyTimeout. Errors have source
// Upstream: InvalidChunk, PrematureBodyEnd, ReadTimedout, ReadError.
func (c *ClientSession) Read(p []byte) (int, error) {
	if !c.final || c.upgraded {
		return 0, ErrHeaderWritten
	}
	n, err := c.body.Read(p)
	if err != nil && err != io.EOF {
		c.rbroken = true
	}
	return n, err
}

// ResponseBodyDone reports whether the response body was read to its end.
func (c *ClientSession) ResponseBodyDone() bool { return c.final && c.body.done }

// Reusable reports whether the connection can carry another request now:
// the request body was completely written (CVE-2024-24791: a request sent
// with Expect: 100-continue whose body was never sent leaves the server
// waiting for it), the final response was read to its end, no error
// happened, no bytes arrived beyond the response, the framing was not
// close-delimited or an upgrade, and neither the request nor the response
// (by version and Connection, as read: later changes to the head returned
// by ReadResponseHeader do not count) ruled out keep-alive.
func (c *ClientSession) Reusable() bool {
	return c.req != nil && !c.aborted.Load() && !c.wbroken && !c.rbroken && !c.upgraded && !c.hijacked && !c.closed &&
		c.bw.done && c.final && c.body.done && c.body.err == nil &&
		c.respFr.Kind != BodyUntilClose && len(c.rd.buffered()) == 0 &&
		c.reqKA && c.respKA
}

// Release ends the exchange. If the connection is reusable (after draining
// at most Options.MaxDrainBytes of an unread response body) it returns conn
// with deadlines cleared and true, and the session may be used for the next
// request; otherwise it closes conn and returns nil and false.
func (c *ClientSession) Release() (net.Conn, bool) {
	if !c.Recycle() {
		return nil, false
	}
	c.dl.clear()
	return c.conn, true
}

// Recycle ends the exchange like Release but keeps the connection in the
// session: if it is reusable it reports true and the session is ready for
// the next WriteRequestHeader on the same connection (deadlines are left
// as they are: every read and write sets its own); otherwise it closes
// the connection and reports false. It lets a caller that keeps the
// session for its next request skip a round trip through a pool.
func (c *ClientSession) Recycle() bool {
	if c.hijacked || c.closed {
		return false
	}
	if c.final && !c.body.done && !c.rbroken && c.respFr.Kind != BodyUntilClose && !c.upgraded {
		c.body.drain(c.opts.maxDrain())
	}
	if !c.Reusable() {
		_ = c.Close()
		return false
	}
	c.req, c.final = nil, false
	c.rd.release()
	return true
}

// ResponseBodyBuffered reports whether the next Read of the response body
// returns without waiting for the network: bytes of a Content-Length body
// are already buffered (they came with the head), or the body is
// complete. It is false for other framings.
func (c *ClientSession) ResponseBodyBuffered() bool {
	if !c.final || c.upgraded || c.body.err != nil {
		return false
	}
	if c.body.done {
		return true
	}
	return c.body.kind == BodyLength && len(c.rd.buffered()) > 0
}

// Upgraded reports whether the response switched protocols (101 to an
// upgrade request, 2xx to CONNECT): call Hijack.
func (c *ClientSession) Upgraded() bool { return c.upgraded }

// Hijack hands over the connection after an upgrade: the conn, with
// deadlines cleared, and a copy of the bytes read past the response head.
// The session is unusable afterwards.
func (c *ClientSession) Hijack() (net.Conn, []byte, error) {
	if !c.upgraded || c.hijacked {
		return nil, nil, ErrHeaderWritten
	}
	c.hijacked = true
	c.dl.clear()
	return c.conn, c.rd.take(), nil
}

// Abort interrupts the exchange from any goroutine: it closes the
// connection, so that a read or write blocked on another goroutine returns
// an error, and makes the session not reusable. Unlike Close it leaves the
// read buffer alone (another goroutine may be filling it): call Close, or
// Release, once the reading and writing goroutines have returned, to give
// the buffer back. It is safe to call more than once.
func (c *ClientSession) Abort() {
	c.aborted.Store(true)
	_ = c.conn.Close()
}

// Close closes the connection and releases the read buffer. It needs
// exclusive use of the session (see Abort to interrupt it from another
// goroutine). It is safe to call more than once.
func (c *ClientSession) Close() error {
	if c.closed || c.hijacked {
		return nil
	}
	c.closed = true
	c.rd.r = c.rd.w
	c.rd.release()
	if c.aborted.Load() {
		return nil // Abort closed conn
	}
	return c.conn.Close()
}
