package proxy

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/pingora-go/pingora/server/protocol/http2"
)

// upstream is one exchange with an upstream peer, HTTP/1 or HTTP/2.
type upstream interface {
	isH2() bool
	writeHeader(req *httpheader.RequestHeader, end bool) error
	writeBody(b []byte) error
	finishBody(trailers *httpheader.Header) error
	// readHeader returns the next response header; HTTP/1 returns each
	// 1xx, HTTP/2 only the final one.
	readHeader() (*httpheader.ResponseHeader, error)
	// bodyless reports whether the final response has no body.
	bodyless() bool
	readBody(p []byte) (int, error)
	trailers() *httpheader.Header
	// release ends the exchange: clean puts the connection back for reuse
	// if its protocol allows it, else it is closed.
	release(clean bool)
	// abort stops the exchange at once from any goroutine: it only
	// interrupts blocked reads and writes; release must still be called
	// once both the request body and the response goroutines are done.
	abort()
}

// h1Upstream is an HTTP/1 exchange.
type h1Upstream struct {
	conns *connector.Connector
	peer  *peer.Peer
	cs    *http1.ClientSession
	conn  *connector.Conn
	slot  *upSlot // park conn here when done, not in the pool
	once  sync.Once
}

func (u *h1Upstream) isH2() bool { return false }
func (u *h1Upstream) writeHeader(req *httpheader.RequestHeader, end bool) error {
	if err := u.cs.WriteRequestHeader(req); err != nil {
		return err
	}
	if end {
		return u.cs.FinishRequestBody(nil)
	}
	return nil
}
func (u *h1Upstream) writeBody(b []byte) error { _, err := u.cs.Write(b); return err }
func (u *h1Upstream) finishBody(t *httpheader.Header) error {
	return u.cs.FinishRequestBody(t)
}
func (u *h1Upstream) readHeader() (*httpheader.ResponseHeader, error) {
	return u.cs.ReadResponseHeader()
}
func (u *h1Upstream) bodyless() bool {
	k := u.cs.ResponseFraming().Kind
	return k == http1.BodyNone || (k == http1.BodyLength && u.cs.ResponseFraming().Length == 0)
}
func (u *h1Upstream) readBody(p []byte) (int, error) { return u.cs.Read(p) }
func (u *h1Upstream) trailers() *httpheader.Header {
	if t := u.cs.ResponseTrailers(); t.Len() > 0 {
		return t
	}
	return nil
}
func (u *h1Upstream) release(clean bool) {
	u.once.Do(func() {
		switch {
		case clean && u.slot != nil:
			if u.cs.Recycle() {
				u.slot.park(u.peer, u.conn)
			}
		case clean:
			u.conns.ReleaseHTTP1(u.peer, u.cs)
		default:
			_ = u.cs.Close()
		}
	})
}

// abort closes the connection without touching the session's buffers: the
// response reader may be filling them on another goroutine (release, after
// both goroutines are done, gives them back).
func (u *h1Upstream) abort() { u.cs.Abort() }

// h2Upstream is an HTTP/2 stream. Its reads and writes are bounded like
// an HTTP/1 upstream's: the response head within the header timeout, each
// body read within the body timeout, each write (which may wait for flow
// control window) within the write timeout; the peer's ReadTimeout and
// WriteTimeout override them. On expiry the stream is reset and the call
// fails with ReadTimedout or WriteTimedout (504 before a response).
type h2Upstream struct {
	st   *http2.Stream
	resp *httpheader.ResponseHeader
	reqH *httpheader.RequestHeader

	headerTO, bodyTO, writeTO time.Duration
	// reads and writes may run on two goroutines; each attempt has its
	// own, so a late timer never touches the next attempt's stream
	rd, wr *streamWatch
}

// streamWatch resets a stream whose call outlasts its timeout. Its timer
// is made by the first arm (stop is a no-op before that).
type streamWatch struct {
	timer *time.Timer
	fired atomic.Bool
	d     time.Duration // of the call being watched
}

func (w *streamWatch) arm(st *http2.Stream, d time.Duration) {
	w.d = d
	w.fired.Store(false)
	if w.timer == nil {
		w.timer = time.AfterFunc(d, func() {
			w.fired.Store(true)
			_ = st.Close()
		})
		return
	}
	w.timer.Reset(d)
}

// done stops the watch; it turns err into a timeout error if the timer
// fired (the stream was reset because the call took too long).
func (w *streamWatch) done(err error, typ perr.ErrorType, what string) error {
	w.stop()
	if !w.fired.Load() {
		return err
	}
	return perr.Create(typ, perr.Upstream, "proxy: HTTP/2 upstream "+what+" took longer than "+w.d.String(), err)
}

func (w *streamWatch) stop() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (u *h2Upstream) isH2() bool { return true }
func (u *h2Upstream) writeHeader(req *httpheader.RequestHeader, end bool) error {
	u.reqH = req
	u.wr.arm(u.st, u.writeTO)
	return u.wr.done(u.st.WriteRequestHeader(req, end), perr.WriteTimedout, "request head write")
}
func (u *h2Upstream) writeBody(b []byte) error {
	u.wr.arm(u.st, u.writeTO)
	return u.wr.done(u.st.WriteRequestBody(b, false), perr.WriteTimedout, "request body write")
}
func (u *h2Upstream) finishBody(t *httpheader.Header) error {
	u.wr.arm(u.st, u.writeTO)
	if t != nil && t.Len() > 0 {
		return u.wr.done(u.st.WriteRequestTrailers(t), perr.WriteTimedout, "request trailers write")
	}
	return u.wr.done(u.st.WriteRequestBody(nil, true), perr.WriteTimedout, "request body write")
}
func (u *h2Upstream) readHeader() (*httpheader.ResponseHeader, error) {
	u.rd.arm(u.st, u.headerTO)
	r, err := u.st.ReadResponseHeader()
	if err = u.rd.done(err, perr.ReadTimedout, "response head"); err != nil {
		return nil, err
	}
	u.resp = r
	return r, nil
}
func (u *h2Upstream) bodyless() bool {
	st := u.resp.Status()
	// A gRPC status in the header is a trailers-only response: its
	// HEADERS frame ended the stream (x/net/http2 does not tell).
	return u.reqH.Method() == "HEAD" || st == 204 || st == 304 ||
		string(u.resp.GetBytes("content-length")) == "0" || u.resp.Has("grpc-status")
}
func (u *h2Upstream) readBody(p []byte) (int, error) {
	u.rd.arm(u.st, u.bodyTO)
	n, err := u.st.ReadResponseBody(p)
	return n, u.rd.done(err, perr.ReadTimedout, "response body read")
}
func (u *h2Upstream) trailers() *httpheader.Header {
	if t := u.st.ResponseTrailers(); t != nil && t.Len() > 0 {
		return t
	}
	return nil
}
func (u *h2Upstream) release(bool) {
	u.rd.stop()
	u.wr.stop()
	_ = u.st.Close()
}

// abort may run while another goroutine reads or writes the stream, so it
// leaves the watches alone (a watch firing later closes a closed stream).
func (u *h2Upstream) abort() { _ = u.st.Close() }

// asError returns err as a *perr.Error, wrapping a plain error as Internal.
func asError(err error) *perr.Error {
	var e *perr.Error
	if errors.As(err, &e) {
		return e
	}
	return perr.Because(perr.InternalError, "proxy", err).AsIn()
}

// attempt is one try at the upstream (Pingora's proxy_to_upstream).
func (p *Proxy[C]) attempt(st *reqState[C]) error {
	s, c, h := &st.s, &st.c, &p.hooks
	s.peer, s.upReused, s.reqSent, s.upBytes = nil, false, false, 0
	pr, err := h.UpstreamPeer(s, c)
	if err != nil {
		return err
	}
	if pr == nil {
		return perr.Explain(perr.InternalError, "proxy: UpstreamPeer returned no peer").AsIn()
	}
	pr = pr.ForClient(s.clientAddr, s.serverAddr) // PROXY protocol peers announce this client
	s.peer = pr
	up, err := p.connect(st, pr)
	if err != nil {
		e := asError(err)
		if e.Source() != perr.Internal {
			e = e.AsUp()
		}
		if h.FailToConnect != nil {
			e = h.FailToConnect(s, pr, c, e)
		}
		return e
	}
	s.timings.UpstreamConnected = s.now()
	if h.ConnectedToUpstream != nil {
		if err := h.ConnectedToUpstream(s, s.upReused, pr, c); err != nil {
			up.release(true) // nothing was written: still reusable
			return err
		}
	}
	err = p.exchange(st, up)
	if err == nil {
		return nil
	}
	e := asError(err)
	if up.isH2() && (errors.Is(e, perr.H2Downgrade) || errors.Is(e, perr.InvalidH2)) {
		if pr.ALPN.MinHTTPVersion() <= 1 {
			p.conns.PreferH1(pr)
		} else {
			e.SetRetry(false)
		}
	}
	if h.ErrorWhileProxy != nil {
		e = h.ErrorWhileProxy(s, pr, e, c, s.requests > 0)
	} else {
		e = DefaultErrorWhileProxy(s, pr, e)
	}
	return e
}

// connect gets an HTTP/1 session or an HTTP/2 stream to pr, as its ALPN
// and the TLS negotiation decide.
func (p *Proxy[C]) connect(st *reqState[C], pr *peer.Peer) (upstream, error) {
	s := &st.s
	ctx := s.ctx
	wantH2 := pr.ALPN == peer.ALPNH2 || (pr.TLS && pr.ALPN == peer.ALPNH2H1)
	if !wantH2 {
		reused := true
		var conn *connector.Conn
		if st.slot != nil {
			conn = st.slot.take(pr)
		}
		if conn == nil {
			var err error
			if conn, reused, err = p.conns.Get(ctx, pr); err != nil {
				return nil, err
			}
		}
		s.upReused = reused
		return st.h1Upstream(pr, conn), nil
	}
	key := strconv.FormatUint(pr.ReuseHash(), 16)
	dial := func(ctx context.Context) (net.Conn, error) {
		c, err := p.conns.Dial(ctx, pr)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	if pr.ALPN == peer.ALPNH2H1 && p.h2cli.Conns(key) == 0 {
		// Let ALPN decide: HTTP/1 connections are pooled by the connector.
		conn, reused, err := p.conns.Get(ctx, pr)
		if err != nil {
			return nil, err
		}
		if conn.HTTPVersion() != 2 {
			s.upReused = reused
			return st.h1Upstream(pr, conn), nil
		}
		first := conn
		dial = func(ctx context.Context) (net.Conn, error) {
			if c := first; c != nil {
				first = nil
				return c, nil
			}
			c, err := p.conns.Dial(ctx, pr)
			if err != nil {
				return nil, err
			}
			return c, nil
		}
		defer func() {
			if first != nil {
				_ = first.Close()
			}
		}()
	}
	stream, err := p.h2cli.NewStream(ctx, key, dial)
	if err != nil {
		return nil, err
	}
	s.upReused = stream.Reused()
	o := &p.opts.Upstream
	st.h2up = h2Upstream{st: stream,
		headerTO: orDefault(pr.ReadTimeout, orDefault(o.HeaderTimeout, http1.DefaultHeaderTimeout)),
		bodyTO:   orDefault(pr.ReadTimeout, orDefault(o.BodyTimeout, http1.DefaultBodyTimeout)),
		writeTO:  orDefault(pr.WriteTimeout, orDefault(o.WriteTimeout, http1.DefaultWriteTimeout)),
		rd:       new(streamWatch),
		wr:       new(streamWatch),
	}
	return &st.h2up, nil
}

// h1Upstream sets up the HTTP/1 exchange on conn to pr. A downstream
// connection parks a plaintext upstream connection for its next request
// (see upSlot) rather than pooling it at once.
func (st *reqState[C]) h1Upstream(pr *peer.Peer, conn *connector.Conn) *h1Upstream {
	p := st.p
	st.h1up = h1Upstream{conns: p.conns, peer: pr, cs: st.clientSession(conn, pr), conn: conn}
	if !p.closed.Load() {
		if st.slot == nil && st.s.h1 != nil {
			st.slot = newUpSlot(p.conns, 1)
		}
		if st.slot != nil && st.slot.usable(pr, conn) {
			st.h1up.slot = st.slot
		}
	}
	return &st.h1up
}

// clientSession returns an HTTP/1 client session on conn: the one of the
// previous exchange if conn is the same pooled connection (so its buffers
// and header storage are reused), else a new one with pr's timeouts.
func (st *reqState[C]) clientSession(conn *connector.Conn, pr *peer.Peer) *http1.ClientSession {
	if st.lastConn == conn && st.lastCS != nil && st.lastRT == pr.ReadTimeout && st.lastWT == pr.WriteTimeout {
		return st.lastCS
	}
	o := st.p.opts.Upstream
	if pr.ReadTimeout > 0 {
		o.HeaderTimeout, o.BodyTimeout = pr.ReadTimeout, pr.ReadTimeout
	}
	if pr.WriteTimeout > 0 {
		o.WriteTimeout = pr.WriteTimeout
	}
	cs := http1.NewClientSession(conn, &o)
	st.lastConn, st.lastCS, st.lastRT, st.lastWT = conn, cs, pr.ReadTimeout, pr.WriteTimeout
	return cs
}

// exchange sends the request and forwards the response of one attempt.
func (p *Proxy[C]) exchange(st *reqState[C], up upstream) error {
	s, c, h := &st.s, &st.c, &p.hooks
	req := &st.req
	p.buildUpstreamRequest(st, up.isH2())
	if h.UpstreamRequestFilter != nil {
		if err := h.UpstreamRequestFilter(s, req, c); err != nil {
			up.release(!up.isH2()) // nothing written
			return err
		}
	}
	hasBody := st.hasBody
	if hasBody && (s.reqModified || !req.Has("Content-Length")) {
		req.Del("Content-Length")
		if !up.isH2() && !req.Has("Transfer-Encoding") {
			_ = req.SetBytes("Transfer-Encoding", chunked)
		}
	}
	if err := up.writeHeader(req, !hasBody); err != nil {
		up.release(false)
		return err
	}
	s.reqSent = true

	if !hasBody {
		err := p.forwardResponse(st, up)
		up.release(err == nil)
		return err
	}
	if st.bodyCh == nil {
		st.bodyCh = make(chan error, 1)
	}
	go func() { st.bodyCh <- p.sendBody(st, up) }()
	err := p.forwardResponse(st, up)
	if err != nil {
		up.abort()
	}
	var berr error
	select {
	case berr = <-st.bodyCh:
	default:
		// The body goroutine may be just finishing (the upstream answered
		// as soon as it had read the body): give it a moment.
		t := time.NewTimer(bodyGrace)
		select {
		case berr = <-st.bodyCh:
			t.Stop()
			goto collected
		case <-t.C:
		}
		// The response is done (or failed) while the request body is still
		// coming: stop reading it; the connection cannot be reused.
		up.abort()
		s.SetKeepAlive(false)
		if s.h2 != nil {
			// The HTTP/2 body reader ends when the handler returns; the
			// request cannot be replayed. The upstream is not released:
			// the body goroutine may still be using it (abort closed its
			// connection; its buffers are left to the garbage collector).
			st.detached = true
			return err
		}
		s.h1.InterruptRead()
		berr = <-st.bodyCh
		s.retryTrunc.Store(true)
	}
collected:
	if berr != nil {
		st.bodyErr = berr
		if err != nil {
			if e := asError(berr); e.Source() == perr.Downstream {
				up.release(false)
				return berr // the client went away first
			}
		}
		if err == nil && !st.bodyEOF {
			up.release(false)
			return nil
		}
	}
	up.release(err == nil && berr == nil)
	return err
}

// bodyGrace is how long a finished response waits for the request body
// to finish before the rest of it is abandoned (and the downstream
// connection closed).
const bodyGrace = time.Second

// sendBody copies the downstream request body upstream, through the retry
// buffer and RequestBodyFilter. It runs on its own goroutine.
func (p *Proxy[C]) sendBody(st *reqState[C], up upstream) error {
	s, c, h := &st.s, &st.c, &p.hooks
	if len(s.retryBuf) > 0 && s.attempts > 1 {
		st.reqChunk = s.retryBuf
		if h.RequestBodyFilter != nil {
			if err := h.RequestBodyFilter(s, &st.reqChunk, st.bodyEOF, c); err != nil {
				return err
			}
		}
		if chunk := st.reqChunk; len(chunk) > 0 {
			if err := up.writeBody(chunk); err != nil {
				return err
			}
		}
	}
	if st.bodyEOF {
		return up.finishBody(p.requestTrailers(s))
	}
	bp := p.bodyBuf()
	defer p.putBodyBuf(bp)
	buf := *bp
	for {
		n, rerr := s.readBody(buf)
		s.reqBytes.Add(int64(n))
		if n > 0 && !s.retryTrunc.Load() {
			if len(s.retryBuf)+n <= s.retryLimit {
				s.retryBuf = append(s.retryBuf, buf[:n]...)
			} else {
				s.retryTrunc.Store(true)
			}
		}
		eos := rerr == io.EOF
		if rerr != nil && !eos {
			up.abort() // unblock the response reader
			return rerr
		}
		if eos {
			st.bodyEOF = true
		}
		st.reqChunk = buf[:n]
		if h.RequestBodyFilter != nil {
			if err := h.RequestBodyFilter(s, &st.reqChunk, eos, c); err != nil {
				up.abort()
				return err
			}
		}
		if chunk := st.reqChunk; len(chunk) > 0 {
			if err := up.writeBody(chunk); err != nil {
				return err
			}
		}
		if eos {
			return up.finishBody(p.requestTrailers(s))
		}
	}
}

// readBody reads the downstream request body.
func (s *Session) readBody(p []byte) (int, error) {
	if s.h1 != nil {
		return s.h1.Read(p)
	}
	return s.h2.ReadBody(p)
}

func (p *Proxy[C]) requestTrailers(s *Session) *httpheader.Header {
	if s.h1 != nil {
		if t := s.h1.RequestTrailers(); t.Len() > 0 {
			return t
		}
		return nil
	}
	return s.h2.RequestTrailers()
}

// forwardResponse reads the upstream response and writes it downstream
// through the response phases.
func (p *Proxy[C]) forwardResponse(st *reqState[C], up upstream) error {
	s, c, h := &st.s, &st.c, &p.hooks
	var resp *httpheader.ResponseHeader
	for {
		r, err := up.readHeader()
		if err != nil {
			return err
		}
		resp = r
		code := r.Status()
		if code >= 200 || code == 101 {
			break
		}
		// 1xx: forward (100 Continue is answered by the downstream session
		// itself, and HTTP/1.0 clients get none).
		stripHopByHop(&r.Header, false)
		if h.UpstreamResponseFilter != nil {
			if err := h.UpstreamResponseFilter(s, r, c); err != nil {
				return err
			}
		}
		if code == 100 || (s.h1 != nil && s.req.Version() == httpheader.HTTP10) {
			continue
		}
		if h.ResponseFilter != nil {
			if err := h.ResponseFilter(s, r, c); err != nil {
				return err
			}
		}
		if err := s.WriteResponseHeader(r, false); err != nil {
			return err
		}
	}
	s.timings.UpstreamResponseHeader = s.now()
	code := resp.Status()
	if code == 101 {
		return p.tunnel(st, up, resp)
	}
	stripHopByHop(&resp.Header, false)
	if p.via != "" {
		_, _ = resp.Add("Via", p.viaFor(resp.Version()))
	}
	if h.UpstreamResponseFilter != nil {
		if err := h.UpstreamResponseFilter(s, resp, c); err != nil {
			return err
		}
	}
	if h.ResponseFilter != nil {
		if err := h.ResponseFilter(s, resp, c); err != nil {
			return err
		}
	}
	end := up.bodyless()
	if o := &p.opts.Compression; o.Level > 0 || o.Decompress || s.compSet {
		st.comp.prepare(o, s, resp)
		if st.comp.active() {
			defer st.comp.done()
		}
	}
	// Body bytes already buffered from an HTTP/1 upstream go out in the
	// same write as the head (all of a small body).
	hold := false
	if u, ok := up.(*h1Upstream); ok && !end {
		hold = u.cs.ResponseBodyBuffered()
	}
	if err := s.writeResponseHeader(resp, end, hold); err != nil {
		return err
	}
	if end {
		return nil
	}
	bp := p.bodyBuf()
	defer p.putBodyBuf(bp)
	buf := *bp
	// remaining counts down a known length, so that the last chunk carries
	// the end of the response (one HTTP/2 DATA frame with END_STREAM).
	// Only an HTTP/1 upstream's Content-Length proves nothing follows the
	// body: HTTP/2 may send trailers after the last DATA frame even then
	// (gRPC does), and ending the stream early would drop them.
	remaining := int64(-1)
	if _, h1 := up.(*h1Upstream); h1 && !s.respModified {
		if cl := resp.GetBytes("Content-Length"); cl != nil {
			remaining = parseLength(cl)
		}
	}
	for {
		n, rerr := up.readBody(buf)
		s.upBytes += int64(n)
		eos := rerr == io.EOF
		if rerr != nil && !eos {
			return rerr
		}
		st.respChunk = buf[:n]
		if h.UpstreamResponseBodyFilter != nil {
			d, err := h.UpstreamResponseBodyFilter(s, &st.respChunk, eos, c)
			if err != nil {
				return err
			}
			if err := s.sleep(d); err != nil {
				return err
			}
		}
		var delay time.Duration
		if h.ResponseBodyFilter != nil {
			d, err := h.ResponseBodyFilter(s, &st.respChunk, eos, c)
			if err != nil {
				return err
			}
			delay = d
		}
		if st.comp.active() {
			out, err := st.comp.transform(st.respChunk, eos)
			if err != nil {
				return err
			}
			st.respChunk = out
		}
		if chunk := st.respChunk; len(chunk) > 0 {
			last := false
			if remaining >= 0 {
				remaining -= int64(len(chunk))
				last = remaining == 0 && s.h2 != nil
			}
			if err := s.WriteResponseBody(chunk, last); err != nil {
				return err
			}
		}
		if err := s.sleep(delay); err != nil {
			return err
		}
		if hold {
			// The first chunk carried the head, unless the filters or the
			// compressor held it all back: the head must not wait for the
			// next read.
			hold = false
			if err := s.flushHeader(); err != nil {
				return err
			}
		}
		if eos {
			break
		}
	}
	if t := up.trailers(); t != nil {
		if h.UpstreamResponseTrailerFilter != nil {
			if err := h.UpstreamResponseTrailerFilter(s, t, c); err != nil {
				return err
			}
		}
		if h.ResponseTrailerFilter != nil {
			body, err := h.ResponseTrailerFilter(s, t, c)
			if err != nil {
				return err
			}
			if body != nil {
				return s.WriteResponseBody(body, true)
			}
		}
		if s.respDone {
			return nil // ended with the last chunk of a known length
		}
		return s.WriteResponseTrailers(t)
	}
	return s.WriteResponseBody(nil, true)
}

// parseLength parses a Content-Length value, -1 if invalid.
func parseLength(b []byte) int64 {
	n, ok := parseDecimal(b)
	if !ok || n > math.MaxInt64 {
		return -1
	}
	return int64(n)
}

// sleep waits d (a body filter's delay), writing a held response head
// first.
func (s *Session) sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if err := s.flushHeader(); err != nil {
		return err
	}
	sleep(s.ctx, d)
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// tunnel forwards a 101 and then copies bytes both ways until either side
// closes (SPEC §2.2b). Only HTTP/1 on both sides can switch protocols.
func (p *Proxy[C]) tunnel(st *reqState[C], up upstream, resp *httpheader.ResponseHeader) error {
	s, c, h := &st.s, &st.c, &p.hooks
	u, ok := up.(*h1Upstream)
	if !ok || s.h1 == nil || !st.upgradeReq {
		return perr.Explain(perr.InvalidHTTPHeader, "proxy: 101 response to a request that is not an upgrade").AsUp()
	}
	// The request body declared before the upgrade must be through first.
	if st.hasBody {
		if err := <-st.bodyCh; err != nil {
			return err
		}
		st.bodyCh <- nil // exchange reads it again
	}
	if h.UpstreamResponseFilter != nil {
		if err := h.UpstreamResponseFilter(s, resp, c); err != nil {
			return err
		}
	}
	if h.ResponseFilter != nil {
		if err := h.ResponseFilter(s, resp, c); err != nil {
			return err
		}
	}
	if err := s.WriteResponseHeader(resp, false); err != nil {
		return err
	}
	dc, dbuf, err := s.h1.Hijack()
	if err != nil {
		return perr.Because(perr.InternalError, "proxy: hijack downstream", err).AsIn()
	}
	uc, ubuf, err := u.cs.Hijack()
	if err != nil {
		_ = dc.Close()
		return perr.Because(perr.InternalError, "proxy: hijack upstream", err).AsIn()
	}
	u.once.Do(func() {}) // the session is gone; nothing to release
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if len(dbuf) > 0 {
			if _, err := uc.Write(dbuf); err != nil {
				_ = uc.Close()
				_ = dc.Close()
				return
			}
		}
		n, _ := io.Copy(uc, dc)
		s.reqBytes.Add(n)
		closeWrite(uc)
	}()
	if len(ubuf) > 0 {
		_, _ = dc.Write(ubuf)
	}
	n, _ := io.Copy(dc, uc)
	s.upBytes += n
	s.respBytes += n
	closeWrite(dc)
	wg.Wait()
	_ = uc.Close()
	_ = dc.Close()
	s.respDone = true
	return nil
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
}

// orDefault is d, or def if d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
