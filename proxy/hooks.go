package proxy

import (
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/server/peer"
)

// Hooks are the phases of one proxied request, in call order (Pingora's
// ProxyHttp trait, SPEC §2.3). A nil phase uses the documented default.
// UpstreamPeer is the only required phase.
//
// C is the per-request context (Pingora's CTX): NewCtx creates it at the
// start of every request and every phase receives a pointer to it. The
// pointer is valid only until Logging returns; the proxy reuses the storage
// of C for the next request of the same downstream connection.
//
// A phase that returns an error ends the request through FailToProxy
// (unless its documentation says otherwise). Errors are best returned as
// *perr.Error so that their source and type choose the status (SPEC §2.5):
// a plain error counts as Internal (500).
//
// New phases are appended as fields: a minor version bump, never a break.
type Hooks[C any] struct {
	// NewCtx returns the context of a new request. Nil: the zero C.
	NewCtx func() C

	// OnConnectionReuse runs for a request on a kept-alive HTTP/1
	// connection whose previous request returned a non-nil value from
	// PersistConnectionContext; prev is that value. It runs before
	// EarlyRequestFilter. Nil: nothing.
	OnConnectionReuse func(s *Session, c *C, prev any)

	// EarlyRequestFilter is the first phase, before the downstream modules.
	// Nil: nothing. An error ends the request (FailToProxy).
	EarlyRequestFilter func(s *Session, c *C) error

	// RequestFilter may answer the request itself (s.WriteResponseHeader,
	// s.RespondError, ...) and return handled = true: the request then ends
	// with Logging, and the downstream connection is kept alive if the
	// response allows it. Nil: handled = false. An error ends the request
	// (FailToProxy).
	RequestFilter func(s *Session, c *C) (handled bool, err error)

	// ProxyUpstreamFilter decides whether to go upstream at all. Returning
	// false without having written a response sends a canned 502 (Server:
	// Pingora, Content-Length: 0, Cache-Control: private, no-store), and
	// the connection may be reused. Nil: true.
	ProxyUpstreamFilter func(s *Session, c *C) (proceed bool, err error)

	// UpstreamPeer picks the peer of each attempt; it runs again before
	// every retry, so it can pick another backend (count tries in C, or
	// see s.Attempts). Required. An error ends the request as is: its type
	// and source choose the status (a plain error: 500). A peer with
	// ProxyProtocol set and neither ProxySource nor ProxyDestination is
	// used as a copy carrying the downstream client's address and the
	// address it connected to (s.ClientAddr, s.ServerAddr), so its
	// connections announce, and are only reused for, this client.
	UpstreamPeer func(s *Session, c *C) (*peer.Peer, error)

	// FailToConnect runs when connecting to p failed; nothing was sent to
	// the upstream, so the request can safely go to another peer. Return
	// err (possibly changed): err.SetRetry(true) asks for another attempt,
	// which starts again at UpstreamPeer. Nil: err is returned unchanged,
	// so the connector's decision holds: connect and TLS handshake failures
	// are retryable (pingora-go, unlike Pingora, retries them by default),
	// a cancelled request or an invalid peer is not.
	FailToConnect func(s *Session, p *peer.Peer, c *C, err *perr.Error) *perr.Error

	// ConnectedToUpstream runs once a connection to p is ready, reused from
	// the pool or new. Nil: nothing. An error ends this attempt.
	ConnectedToUpstream func(s *Session, reused bool, p *peer.Peer, c *C) error

	// UpstreamRequestFilter may change the request sent upstream: a copy of
	// the downstream request (s.Request), already without hop-by-hop fields
	// and with the forwarding fields of Options added. Fields added here
	// are sent as set, hop-by-hop or not. Nil: nothing. An error ends this
	// attempt.
	UpstreamRequestFilter func(s *Session, req *httpheader.RequestHeader, c *C) error

	// RequestBodyFilter sees each chunk of the request body on its way
	// upstream and may replace *body (an empty non-final chunk is
	// dropped). eos is true for the last call, whose *body may be empty.
	// A filter that may change the body's length must say so before the
	// request header goes upstream (s.SetRequestBodyModified, e.g. in
	// UpstreamRequestFilter): Content-Length is then dropped and the body
	// sent chunked (HTTP/1) or unsized (HTTP/2). Chunks replayed from the
	// retry buffer on a retry pass through it again. *body points into a
	// buffer the proxy reuses: copy what must outlive the call. Nil: bodies
	// stream untouched. An error ends this attempt.
	RequestBodyFilter func(s *Session, body *[]byte, eos bool, c *C) error

	// UpstreamResponseFilter sees each response header from upstream
	// (1xx included) before anything else. Nil: nothing. An error ends this
	// attempt (ErrorWhileProxy).
	UpstreamResponseFilter func(s *Session, resp *httpheader.ResponseHeader, c *C) error

	// ResponseFilter may change the response header just before it is
	// sent downstream: hop-by-hop fields are already removed and
	// Connection set for this downstream connection. It also runs for 1xx
	// headers. Nil: nothing. An error ends the request.
	ResponseFilter func(s *Session, resp *httpheader.ResponseHeader, c *C) error

	// UpstreamResponseBodyFilter sees each response body chunk as read
	// from upstream (in a buffer the proxy reuses, like every body chunk a
	// filter sees). Returning d > 0 sleeps d before the chunk goes on
	// (throttling). Nil: nothing.
	UpstreamResponseBodyFilter func(s *Session, body *[]byte, eos bool, c *C) (time.Duration, error)

	// ResponseBodyFilter sees each response body chunk just before it is
	// written downstream and may replace *body. A filter that may change
	// the body's length must say so before the header is written
	// (s.SetResponseBodyModified, e.g. in ResponseFilter): Content-Length
	// is then dropped and the body sent chunked (HTTP/1.1), close-delimited
	// (HTTP/1.0) or unsized (HTTP/2). Returning d > 0 sleeps d after the
	// chunk is written. Nil: chunks are forwarded as read.
	ResponseBodyFilter func(s *Session, body *[]byte, eos bool, c *C) (time.Duration, error)

	// UpstreamResponseTrailerFilter sees the trailers from upstream. Nil:
	// nothing.
	UpstreamResponseTrailerFilter func(s *Session, trailers *httpheader.Header, c *C) error

	// ResponseTrailerFilter sees the trailers before they are sent
	// downstream. A non-nil body is written as a last body chunk instead
	// of the trailers. Nil: trailers are forwarded (HTTP/1: only if the
	// response is chunked).
	ResponseTrailerFilter func(s *Session, trailers *httpheader.Header, c *C) (body []byte, err error)

	// ErrorWhileProxy runs for an error of an attempt after the
	// connection to p was made; clientReused tells whether the downstream
	// connection had carried earlier requests. It returns the error that
	// decides the retry (err.Retry()). Nil: DefaultErrorWhileProxy.
	ErrorWhileProxy func(s *Session, p *peer.Peer, err *perr.Error, c *C, clientReused bool) *perr.Error

	// FailToProxy answers a request that failed for good. Nil:
	// DefaultFailToProxy (status from perr.StatusCode, SPEC §2.5;
	// connection not reused).
	FailToProxy func(s *Session, err error, c *C) Failure

	// SuppressErrorLog returns true to keep err out of the error log. Nil:
	// false.
	SuppressErrorLog func(s *Session, c *C, err error) bool

	// RequestSummary describes the request in error logs. Nil:
	// "METHOD PATH, Host: HOST".
	RequestSummary func(s *Session, c *C) string

	// Logging is the last phase of every request that reached NewCtx;
	// err is the error that ended it, if any. s.Status() is the status
	// sent downstream, 499 if the client went away before a response.
	// Nil: nothing.
	Logging func(s *Session, err error, c *C)

	// PersistConnectionContext runs after Logging when the HTTP/1
	// downstream connection will carry another request; a non-nil value is
	// handed to the next request's OnConnectionReuse. Nil: nil.
	PersistConnectionContext func(s *Session, c *C) any
}

// Failure is what FailToProxy decided (Pingora's FailToProxy).
type Failure struct {
	// Status is the status sent downstream with s.RespondError; 0 sends
	// nothing (the client is gone, or the hook answered itself).
	Status int
	// ReuseDownstream keeps the downstream connection alive. It is
	// honoured only for errors before the proxy phase and only if the
	// response allows keep-alive.
	ReuseDownstream bool
}

// DefaultFailToProxy is the FailToProxy used when the hook is nil: it
// answers perr.StatusCode(err) (SPEC §2.5: an HTTPStatus type gives its
// code; Upstream 502, or 504 for timeouts; Downstream 0 for a client that
// went away, else 400; Internal or unset 500) with s.RespondError, unless
// a response was already started.
func DefaultFailToProxy(s *Session, err error) Failure {
	code := perr.StatusCode(err)
	if code > 0 && !s.ResponseWritten() {
		_ = s.RespondError(code)
	}
	return Failure{Status: code}
}

// DefaultErrorWhileProxy is the ErrorWhileProxy used when the hook is nil.
// It adds the peer to the context of an error that is not the downstream
// client's (a client that went away has nothing to do with the peer), and
// resolves a "reused only"
// retry decision (an upstream connection that failed before any response
// byte) stricter than Pingora: the request is retried only if the failed
// upstream connection came from the pool (s.UpstreamReused), and either
// nothing of the request had been written to it, or the method is
// idempotent (RFC 9110 §9.2.2) and the whole request body is held in the
// retry buffer (s.RetryBufferTruncated is false). Any other retry decision
// is kept.
func DefaultErrorWhileProxy(s *Session, p *peer.Peer, err *perr.Error) *perr.Error {
	if p != nil && err.Source() != perr.Downstream {
		err = err.MoreContext("peer: " + p.String())
	}
	if err.RetryType() == perr.RetryReusedOnly {
		ok := s.UpstreamReused() && (!s.RequestSent() || (s.Idempotent() && !s.RetryBufferTruncated()))
		err.SetRetry(ok)
	}
	return err
}
