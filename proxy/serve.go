package proxy

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/protocol/http1"
	"github.com/pingora-go/pingora/server/protocol/http2"
)

// reqState is what one downstream connection (HTTP/1) or stream (HTTP/2)
// keeps between its requests: the Session, the context C, the upstream
// request and the last upstream client session, all reused (body copy
// buffers come from a pool while a body is copied).
type reqState[C any] struct {
	p   *Proxy[C]
	s   Session
	c   C
	req httpheader.RequestHeader // upstream request

	bodyCh chan error

	detached   bool // an HTTP/2 request body reader outlives the attempt
	hasBody    bool // the downstream request has a body
	bodyEOF    bool // the downstream body was read to its end
	bodyErr    error
	h1up       h1Upstream
	h2up       h2Upstream
	upgradeReq bool

	respChunk, reqChunk []byte // body chunks handed to the filters
	comp                compressor

	// the HTTP/1 client session of the last exchange and its connection,
	// reused when the pool hands the same connection back
	lastConn       *connector.Conn
	lastCS         *http1.ClientSession
	lastRT, lastWT time.Duration

	slot *upSlot // HTTP/1 downstream: the upstream connection parked between requests
}

func (p *Proxy[C]) newState(ctx context.Context, ci connInfo, shutdown <-chan struct{}) *reqState[C] {
	st := &reqState[C]{p: p}
	st.s.ctx = ctx
	st.s.shutdown = shutdown
	st.s.clientAddr, st.s.serverAddr, st.s.tlsState = ci.remote, ci.local, ci.tls
	st.s.timings.Accepted = ci.accepted
	st.s.retryLimit = p.opts.RetryBufferSize
	return st
}

// reset prepares the state for the next request.
func (st *reqState[C]) reset(requests int) {
	s := &st.s
	s.requests = requests
	s.resp, s.respStarted, s.respDone, s.status, s.respChunked = nil, false, false, 0, false
	s.respBytes = 0
	s.reqBytes.Store(0)
	s.keepAliveOff, s.reqModified, s.respModified = false, false, false
	s.compLevel, s.compSet = 0, false
	s.attempts, s.peer, s.upReused, s.reqSent, s.upBytes = 0, nil, false, false, 0
	s.retryBuf = s.retryBuf[:0]
	s.retryTrunc.Store(false)
	acc := s.timings.Accepted
	s.timings = Timings{Accepted: acc, RequestHeader: time.Now()}
	st.bodyEOF, st.bodyErr, st.detached = false, nil, false
}

// serveH1 serves an HTTP/1 downstream connection: requests one after the
// other while the connection stays reusable.
// peeked holds bytes already read from nc (by the h2c preface check).
func (p *Proxy[C]) serveH1(ctx context.Context, nc net.Conn, peeked []byte, ci connInfo, shutdown <-chan struct{}) {
	hs, err := http1.NewServerSessionBuffered(nc, &p.opts.Downstream, peeked)
	if err != nil { // not expected: the preface check reads 24 bytes at most
		_ = nc.Close()
		return
	}
	st := p.newState(ctx, ci, shutdown)
	st.s.h1 = hs
	defer func() {
		if st.slot != nil {
			st.slot.close()
		}
	}()

	// Close an idle keep-alive connection as soon as shutdown begins.
	var idle atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-shutdown:
			if idle.Load() {
				hs.InterruptRead()
			}
		case <-done:
		}
	}()

	var prev any
	for n := 0; ; n++ {
		if n > 0 && st.s.ShuttingDown() {
			_ = hs.Close()
			return
		}
		idle.Store(true)
		ok, err := hs.ReadRequest()
		idle.Store(false)
		if err != nil {
			// Unparsable request: answered before any hook (SPEC §2.2.1).
			if code := perr.StatusCode(err); code > 0 {
				_ = hs.RespondError(code)
			}
			_ = hs.Close()
			return
		}
		if !ok {
			_ = hs.Close()
			return
		}
		st.reset(n)
		st.s.req = hs.Request()
		st.hasBody = hs.RequestFraming().Kind != http1.BodyNone
		st.upgradeReq = http1.IsUpgradeRequest(st.s.req)
		reuse, next := p.handle(st, prev)
		prev = next
		if hs.Upgraded() {
			return // tunneled and closed by the exchange
		}
		if !reuse {
			st.s.SetKeepAlive(false)
		}
		if st.slot != nil && !st.s.KeepAlive() {
			// No next request here: the upstream connection is for others
			// now, not after the downstream close lingers.
			st.slot.flush()
		}
		if !hs.Finish() {
			return
		}
	}
}

// serveH2 serves an HTTP/2 downstream connection: each stream is one
// request on its own goroutine.
func (p *Proxy[C]) serveH2(ctx context.Context, nc net.Conn, ci connInfo, shutdown <-chan struct{}) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-shutdown:
			sctx, cancel := context.WithCancel(ctx)
			go func() {
				<-done
				cancel()
			}()
			_ = p.h2srv.Shutdown(sctx)
			cancel()
		case <-done:
		}
	}()
	slot := newUpSlot(p.conns, h2SlotSize)
	defer slot.close()
	_ = p.h2srv.ServeConn(ctx, nc, http2.HandlerFunc(func(hs *http2.Session) {
		st := p.h2State(hs.Context(), ci, shutdown)
		st.s.h2 = hs
		st.slot = slot
		st.reset(0)
		st.s.req = hs.Request()
		st.hasBody = h2HasBody(st.s.req)
		p.handle(st, nil)
		if st.s.respStarted && !st.s.respDone {
			hs.Abort() // an unfinished response must not look complete
		}
		p.putH2State(st)
	}))
}

// h2State returns the state for a new HTTP/2 stream: a finished stream's,
// so that its headers and upstream client session are not allocated per
// stream.
func (p *Proxy[C]) h2State(ctx context.Context, ci connInfo, shutdown <-chan struct{}) *reqState[C] {
	st, _ := p.h2states.Get().(*reqState[C])
	if st == nil {
		return p.newState(ctx, ci, shutdown)
	}
	s := &st.s
	s.ctx, s.shutdown = ctx, shutdown
	s.clientAddr, s.serverAddr, s.tlsState = ci.remote, ci.local, ci.tls
	s.timings.Accepted = ci.accepted
	s.retryLimit = p.opts.RetryBufferSize
	return st
}

// putH2State keeps a finished stream's state for another stream, unless
// a body goroutine may still use it (detached). What refers to the stream
// or its connection is dropped, so the pool holds no more than buffers.
func (p *Proxy[C]) putH2State(st *reqState[C]) {
	if st.detached {
		return
	}
	s := &st.s
	s.ctx, s.shutdown, s.h2, s.req, s.resp, s.peer = nil, nil, nil, nil, nil, nil
	s.clientAddr, s.serverAddr, s.tlsState = nil, nil, nil
	var zero C
	st.c = zero
	st.req.Reset()
	st.h2up = h2Upstream{}
	// lastConn and lastCS stay: a stream given the same upstream
	// connection again reuses its client session and buffers.
	st.slot = nil
	st.respChunk, st.reqChunk = nil, nil
	p.h2states.Put(st)
}

// h2HasBody guesses whether an HTTP/2 request carries a body: x/net/http2
// hides END_STREAM, so a request without Content-Length is taken to have
// one unless its method normally has none.
func h2HasBody(req *httpheader.RequestHeader) bool {
	if cl := req.GetBytes("content-length"); cl != nil {
		return !(len(cl) == 1 && cl[0] == '0')
	}
	switch req.Method() {
	case "GET", "HEAD", "DELETE", "OPTIONS", "TRACE":
		return false
	}
	return true
}

// handle runs the phases of one request (SPEC §2.2) and reports whether
// the downstream connection may carry another request, and the context
// to persist for it.
func (p *Proxy[C]) handle(st *reqState[C], prev any) (reuse bool, persist any) {
	s := &st.s
	h := &p.hooks
	if !p.opts.AllowConnect && s.req.Method() == "CONNECT" {
		_ = s.RespondError(405)
		return false, nil
	}
	if s.ShuttingDown() {
		s.SetKeepAlive(false)
	}
	if h.NewCtx != nil {
		st.c = h.NewCtx()
	} else {
		var zero C
		st.c = zero
	}
	c := &st.c
	if prev != nil && h.OnConnectionReuse != nil {
		h.OnConnectionReuse(s, c, prev)
	}

	var err error
	handled, pre := false, true
	if h.EarlyRequestFilter != nil {
		err = h.EarlyRequestFilter(s, c)
	}
	if err == nil && h.RequestFilter != nil {
		handled, err = h.RequestFilter(s, c)
	}
	if err == nil && !handled {
		proceed := true
		if h.ProxyUpstreamFilter != nil {
			proceed, err = h.ProxyUpstreamFilter(s, c)
		}
		if err == nil && !proceed {
			handled = true
			if !s.respStarted {
				err = p.canned502(s)
			}
		}
	}
	if err == nil && !handled && maxForwardsZero(s.req) {
		// RFC 9110 §7.6.2: the last hop answers; never forwarded.
		handled = true
		err = p.answerMaxForwards(s)
	}
	if err == nil && !handled {
		pre = false
		err = p.proxyLoop(st)
	}
	if err != nil {
		var f Failure
		if h.FailToProxy != nil {
			f = h.FailToProxy(s, err, c)
		} else {
			f = DefaultFailToProxy(s, err)
		}
		if !(pre && f.ReuseDownstream) {
			s.SetKeepAlive(false)
		}
		code := f.Status
		if isClientGone(err) {
			if !s.respDone {
				s.status = 499
			}
			if code == 0 {
				code = 499
			}
		}
		p.logError(s, c, "fail to proxy", err, code)
	}
	s.timings.Done = s.now()
	if h.Logging != nil {
		h.Logging(s, err, c)
	}
	reuse = s.h1 != nil && s.respDone && s.KeepAlive()
	if reuse && h.PersistConnectionContext != nil {
		persist = h.PersistConnectionContext(s, c)
	}
	return reuse, persist
}

// canned502 is the answer when ProxyUpstreamFilter declines.
func (p *Proxy[C]) canned502(s *Session) error {
	r := &s.errResp
	r.Reset()
	_ = r.SetStatus(502)
	_ = r.Set("Server", "Pingora")
	_ = r.Set("Content-Length", "0")
	_ = r.Set("Cache-Control", "private, no-store")
	return s.WriteResponseHeader(r, true)
}

// proxyLoop runs attempts until one succeeds, an error is not retryable,
// or Options.MaxRetries attempts were made (SPEC §2.2.10, §2.4).
func (p *Proxy[C]) proxyLoop(st *reqState[C]) error {
	s := &st.s
	var err error
	for s.attempts < p.opts.MaxRetries {
		s.attempts++
		err = p.attempt(st)
		if err == nil {
			return nil
		}
		var e *perr.Error
		if !errors.As(err, &e) || !e.Retry() {
			return err
		}
		if s.respStarted || st.detached || st.bodyErr != nil || (s.retryTrunc.Load() && s.reqBytes.Load() > 0) {
			return err // nothing can be replayed
		}
		p.log.Warn("fail to proxy", "error", err, "tries", s.attempts, "retry", true)
	}
	return err
}
