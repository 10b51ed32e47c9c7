package http2

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/httpheader"
	"golang.org/x/net/http2"
)

// ErrRequestStarted is returned by Stream.WriteRequestHeader when called twice.
var ErrRequestStarted = errors.New("http2: request header already written")

// ErrRequestNotStarted is returned by Stream methods that need the request
// header first.
var ErrRequestNotStarted = errors.New("http2: request header not written")

// Stream is one request to an upstream peer on a multiplexed connection
// (Pingora's Http2Session). Write the request header, then the body and
// trailers if any, while (or after) reading the response. Writing the body
// and reading the response may happen on two goroutines; otherwise a
// Stream's methods must not be called concurrently, except Close.
//
// Errors are *perr.Error values with source Upstream, classified as Pingora
// does: the peer's HTTP_1_1_REQUIRED is H2Downgrade (retry); a GOAWAY with
// PROTOCOL_ERROR is InvalidH2 (retry); GOAWAY NO_ERROR, REFUSED_STREAM and a
// stream above the GOAWAY's last stream id are H2Error (retry: the peer did
// not process it); an I/O error is ReadError (retry only if the connection
// was reused); a lost PING is PingTimedout; anything else is H2Error with no
// retry.
type Stream struct {
	client *Client
	set    *connSet
	uc     *upConn
	reused bool
	ctx    context.Context
	cancel context.CancelFunc

	req       *http.Request
	pw        *io.PipeWriter
	trailers  http.Header // request trailers, handed to x/net at body EOF
	bodyEnded bool
	started   bool // request header written
	lazy      bool // no body: RoundTrip runs in ReadResponseHeader
	resCh     chan roundTripResult

	res     *http.Response
	resErr  error
	gotResp bool
	respEOF bool

	closeOnce sync.Once
	mu        sync.Mutex // guards pw, res, resCh and gotResp against Close
}

type roundTripResult struct {
	res *http.Response
	err error
}

func (c *Client) newStream(set *connSet, uc *upConn) *Stream {
	ctx, cancel := context.WithCancel(context.Background())
	return &Stream{
		client: c, set: set, uc: uc,
		reused: uc.used.Add(1) > 1,
		ctx:    ctx, cancel: cancel,
	}
}

// Reused reports whether the stream's connection carried streams before
// this one (retry decisions depend on it).
func (s *Stream) Reused() bool { return s.reused }

// WriteRequestHeader sends req. Names go out in lower case; Host becomes
// :authority (or the authority of an absolute-form target); the
// connection-specific fields are dropped and TE kept only as "trailers".
// With end set the request has no body; its HEADERS frame is then sent by
// ReadResponseHeader at the latest. The peer's stream limit may make the
// request wait, without bound unless Close is called, for a free slot on
// the connection.
func (s *Stream) WriteRequestHeader(req *httpheader.RequestHeader, end bool) error {
	if s.started {
		return ErrRequestStarted
	}
	hr, err := upstreamRequest(req, s.uc.scheme)
	if err != nil {
		return perr.Because(perr.InvalidHTTPHeader, "convert h2 request", err).AsUp()
	}
	if _, ok := hr.Header["User-Agent"]; !ok {
		hr.Header["User-Agent"] = nil // x/net would add its own
	}
	hr = hr.WithContext(s.ctx)
	s.started = true
	if end {
		hr.ContentLength = 0
		s.req = hr
		s.lazy = true
		return nil
	}
	pr, pw := io.Pipe()
	s.mu.Lock()
	s.pw = pw
	hr.Body = &requestBody{pr: pr, s: s}
	// x/net sends whatever hr.Trailer holds at body EOF, and announces its
	// keys now in a "trailer" field: move the declared names there.
	hr.Trailer = http.Header{}
	for _, v := range hr.Header["Trailer"] {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				hr.Trailer[http.CanonicalHeaderKey(name)] = nil
			}
		}
	}
	delete(hr.Header, "Trailer")
	s.req = hr
	s.resCh = make(chan roundTripResult, 1)
	s.mu.Unlock()
	go func() {
		res, err := s.uc.cc.RoundTrip(hr)
		s.resCh <- roundTripResult{res, err}
	}()
	return nil
}

// requestBody is the request body x/net/http2 reads: the pipe fed by
// WriteRequestBody, plus the trailers installed just before EOF.
type requestBody struct {
	pr *io.PipeReader
	s  *Stream
}

func (b *requestBody) Read(p []byte) (int, error) {
	n, err := b.pr.Read(p)
	if err == io.EOF {
		// Written before the pipe closed, so no race.
		for k, v := range b.s.trailers {
			b.s.req.Trailer[k] = v
		}
	}
	return n, err
}

func (b *requestBody) Close() error { return b.pr.Close() }

// WriteRequestBody sends request body bytes. It returns once x/net/http2
// took them, which the peer's flow-control window paces (backpressure).
// With end set the body is complete.
func (s *Stream) WriteRequestBody(data []byte, end bool) error {
	if !s.started {
		return ErrRequestNotStarted
	}
	if s.pw == nil || s.bodyEnded {
		return perr.Explain(perr.H2Error, "h2 request already ended").AsUp()
	}
	if len(data) > 0 {
		if _, err := s.pw.Write(data); err != nil {
			return s.bodyWriteErr(err)
		}
	}
	if end {
		_ = s.pw.Close()
		s.bodyEnded = true
	}
	return nil
}

// WriteRequestTrailers sends t as the request trailers and ends the request.
func (s *Stream) WriteRequestTrailers(t *httpheader.Header) error {
	if !s.started {
		return ErrRequestNotStarted
	}
	if s.pw == nil || s.bodyEnded {
		return perr.Explain(perr.H2Error, "h2 request already ended").AsUp()
	}
	s.trailers = make(http.Header, t.Len())
	setHTTPFields(s.trailers, t, false)
	_ = s.pw.Close()
	s.bodyEnded = true
	return nil
}

func (s *Stream) bodyWriteErr(err error) error {
	// The body pipe closes when the stream ended early; report why.
	if s.uc.pingLost.Load() {
		return s.classify(err)
	}
	return perr.Because(perr.WriteError, "write h2 request body", err).AsUp().
		SetRetryType(perr.RetryReusedOnly).DecideReuse(s.reused)
}

// ReadResponseHeader waits for and returns the final response header
// (1xx responses are not reported). Field names are lower case, in name
// order; the version is HTTP/2.
func (s *Stream) ReadResponseHeader() (*httpheader.ResponseHeader, error) {
	if !s.started {
		return nil, ErrRequestNotStarted
	}
	s.mu.Lock()
	first := !s.gotResp
	s.gotResp = true
	s.mu.Unlock()
	if first {
		var r roundTripResult
		if s.lazy {
			r.res, r.err = s.uc.cc.RoundTrip(s.req)
		} else {
			r = <-s.resCh
		}
		s.mu.Lock()
		s.res, s.resErr = r.res, r.err
		closed := s.ctx.Err() != nil
		s.mu.Unlock()
		if r.err != nil {
			s.resErr = s.classify(r.err)
		} else if closed {
			// Close ran while the response was on its way.
			_ = r.res.Body.Close()
		}
	}
	if s.resErr != nil {
		return nil, s.resErr
	}
	resp, err := responseHeaderFromHTTP(s.res)
	if err != nil {
		return nil, perr.Because(perr.InvalidHTTPHeader, "convert h2 response", err).AsUp()
	}
	return resp, nil
}

// ReadResponseBody reads response body bytes into p, returning io.EOF at
// the end, after which ResponseTrailers holds the trailers if any. Reading
// is what opens the peer's flow-control window: a slow reader slows the
// peer, and at most ClientOptions.StreamWindow bytes wait unread.
func (s *Stream) ReadResponseBody(p []byte) (int, error) {
	if s.res == nil {
		if _, err := s.ReadResponseHeader(); err != nil {
			return 0, err
		}
	}
	if s.respEOF {
		return 0, io.EOF
	}
	n, err := s.res.Body.Read(p)
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		s.respEOF = true
		return n, io.EOF
	default:
		return n, s.classify(err)
	}
}

// ResponseTrailers returns the response trailers once ReadResponseBody
// returned io.EOF, else nil.
func (s *Stream) ResponseTrailers() *httpheader.Header {
	if !s.respEOF {
		return nil
	}
	return trailersFromHTTP(s.res.Trailer)
}

// Close ends the stream: if the exchange is unfinished it is canceled
// (RST_STREAM(CANCEL)), which also unblocks a WriteRequestBody or read in
// progress. It frees the stream's slot on the connection. It is safe to call
// more than once and from any goroutine.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel() // aborts a RoundTrip still waiting for the response
		s.mu.Lock()
		pw, res, resCh, pending := s.pw, s.res, s.resCh, !s.gotResp
		s.mu.Unlock()
		if pw != nil {
			_ = pw.CloseWithError(context.Canceled)
		}
		if res != nil {
			// After the response header x/net/http2 watches the body, not
			// the context: closing it resets the stream.
			_ = res.Body.Close()
		}
		if resCh != nil && pending {
			go func() { // collect the RoundTrip nobody will read
				if r := <-resCh; r.res != nil {
					_ = r.res.Body.Close()
				}
			}()
		}
		s.set.release(s.uc)
	})
	return nil
}

// x/net/http2 reports these unexported errors for requests it never sent
// (or the peer never processed); it retries them itself in its Transport.
const (
	errTextGotGoAway = "http2: Transport received Server's graceful shutdown GOAWAY"
	errTextUnusable  = "http2: client conn not usable"
)

// classify turns an x/net/http2 error into a Pingora-typed upstream error.
func (s *Stream) classify(err error) error {
	up := func(t perr.ErrorType, ctx string, retry perr.RetryType) error {
		return perr.Because(t, ctx, err).AsUp().SetRetryType(retry.DecideReuse(s.reused))
	}
	if s.uc.pingLost.Load() {
		return up(perr.PingTimedout, "h2 ping timed out", perr.RetryNo)
	}
	var se http2.StreamError
	if errors.As(err, &se) {
		switch se.Code {
		case http2.ErrCodeHTTP11Required:
			return up(perr.H2Downgrade, "h2 peer requires HTTP/1.1", perr.RetryYes)
		case http2.ErrCodeRefusedStream:
			return up(perr.H2Error, "h2 stream refused", perr.RetryYes)
		}
		return up(perr.H2Error, "h2 stream reset", perr.RetryNo)
	}
	var ge http2.GoAwayError
	if errors.As(err, &ge) {
		switch ge.ErrCode {
		case http2.ErrCodeHTTP11Required:
			return up(perr.H2Downgrade, "h2 peer requires HTTP/1.1", perr.RetryYes)
		case http2.ErrCodeProtocol:
			return up(perr.InvalidH2, "h2 goaway protocol error", perr.RetryYes)
		case http2.ErrCodeNo:
			return up(perr.H2Error, "h2 goaway", perr.RetryYes)
		}
		return up(perr.H2Error, "h2 goaway", perr.RetryNo)
	}
	var ce http2.ConnectionError
	if errors.As(err, &ce) {
		if http2.ErrCode(ce) == http2.ErrCodeProtocol {
			return up(perr.InvalidH2, "h2 protocol error", perr.RetryYes)
		}
		return up(perr.H2Error, "h2 connection error", perr.RetryNo)
	}
	switch msg := err.Error(); {
	case strings.Contains(msg, errTextGotGoAway):
		return up(perr.H2Error, "h2 stream above goaway last stream id", perr.RetryYes)
	case strings.Contains(msg, errTextUnusable):
		return up(perr.H2Error, "h2 connection not usable", perr.RetryYes)
	}
	if errors.Is(err, context.Canceled) && s.ctx.Err() != nil {
		return up(perr.H2Error, "h2 stream closed", perr.RetryNo)
	}
	if isIOError(err) {
		return up(perr.ReadError, "h2 connection", perr.RetryReusedOnly)
	}
	return up(perr.H2Error, "h2 stream", perr.RetryNo)
}

// isIOError reports whether err is an I/O failure of the connection.
func isIOError(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isTimeout(err) {
		return true
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection reset") || strings.Contains(msg, "broken pipe") ||
		strings.Contains(msg, "use of closed network connection") || strings.Contains(msg, "client connection lost") ||
		strings.Contains(msg, "client conn is closed")
}
