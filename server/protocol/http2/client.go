package http2

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
	"golang.org/x/net/http2"
)

// Client defaults. Each is also stated on its ClientOptions field.
const (
	DefaultClientWindow        = 8 << 20
	DefaultClientMaxReadFrame  = 64 << 10
	DefaultClientMaxHeaderList = 64 << 10
	DefaultHandshakeTimeout    = 10 * time.Second
	DefaultPingTimeout         = 5 * time.Second
)

// ClientOptions configures a Client. The zero value is ready to use.
type ClientOptions struct {
	// MaxStreamsPerConn caps the streams one connection carries at once,
	// below the peer's SETTINGS_MAX_CONCURRENT_STREAMS (Pingora's
	// max_h2_streams). If zero, the peer's limit alone decides.
	MaxStreamsPerConn int
	// StreamWindow is the flow-control window of each response body: how
	// much the peer may send before the reader reads. If zero, 8 MiB.
	StreamWindow int32
	// ConnWindow is the connection's flow-control window. If zero, 8 MiB.
	ConnWindow int32
	// MaxReadFrameSize is SETTINGS_MAX_FRAME_SIZE. If zero, 64 KiB.
	MaxReadFrameSize uint32
	// MaxHeaderListSize bounds a response's header list (RFC 9113 §6.5.2
	// counting). If zero, 64 KiB.
	MaxHeaderListSize uint32
	// HandshakeTimeout bounds sending the preface and receiving the peer's
	// SETTINGS on a new connection. If zero, 10s.
	HandshakeTimeout time.Duration
	// PingInterval sends a PING on every connection this often (the first
	// one interval after the handshake); no answer within PingTimeout
	// closes the connection and fails its streams with PingTimedout. If
	// zero, no pings.
	PingInterval time.Duration
	// PingTimeout. If zero, 5s.
	PingTimeout time.Duration
	// IdleTimeout closes a connection that carried no stream for this
	// long. If zero, connections stay open until the peer closes them.
	IdleTimeout time.Duration
}

// DialFunc opens a new connection to a peer, including TLS when the peer
// uses it; a plain connection is used as h2c with prior knowledge. A TLS
// connection (one with a ConnectionState method) whose ALPN did not
// negotiate "h2" fails NewStream with a retryable H2Downgrade.
type DialFunc func(ctx context.Context) (net.Conn, error)

// Client multiplexes HTTP/2 streams to upstream peers (Pingora's h2
// connector and client session). For each peer key it keeps a small set of
// connections: a new stream goes to a connection with a free stream slot,
// and a connection is dialed only when every one is full (the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS, capped by MaxStreamsPerConn) or
// draining after GOAWAY. Dials for one key are serialized, so a burst of
// streams opens as few connections as the limits allow. Safe for
// concurrent use.
type Client struct {
	opts ClientOptions
	t    *http2.Transport

	mu     sync.Mutex
	sets   map[string]*connSet
	closed bool
}

// NewClient returns a Client. It validates opts and fills defaults; opts is
// not modified.
func NewClient(opts ClientOptions) (*Client, error) {
	o := opts
	if o.MaxStreamsPerConn < 0 {
		return nil, fmt.Errorf("http2: MaxStreamsPerConn %d is negative", o.MaxStreamsPerConn)
	}
	if o.StreamWindow == 0 {
		o.StreamWindow = DefaultClientWindow
	}
	if o.ConnWindow == 0 {
		o.ConnWindow = DefaultClientWindow
	}
	if o.StreamWindow < 0 || o.ConnWindow < 0 {
		return nil, perr.Explain(perr.H2Error, "h2 windows must be within 1..2^31-1")
	}
	if o.MaxReadFrameSize == 0 {
		o.MaxReadFrameSize = DefaultClientMaxReadFrame
	}
	if o.MaxHeaderListSize == 0 {
		o.MaxHeaderListSize = DefaultClientMaxHeaderList
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = DefaultPingTimeout
	}
	t1 := &http.Transport{HTTP2: &http.HTTP2Config{
		MaxReceiveBufferPerStream:     int(o.StreamWindow),
		MaxReceiveBufferPerConnection: int(o.ConnWindow),
		MaxReadFrameSize:              int(o.MaxReadFrameSize),
		StrictMaxConcurrentRequests:   true,
	}}
	t, err := http2.ConfigureTransports(t1)
	if err != nil {
		return nil, fmt.Errorf("http2: configure transport: %w", err)
	}
	t.AllowHTTP = true
	t.DisableCompression = true // a proxy forwards bodies as they are
	t.MaxHeaderListSize = o.MaxHeaderListSize
	t.MaxReadFrameSize = o.MaxReadFrameSize
	t.StrictMaxConcurrentStreams = true // we place streams; x/net waits if its count lags
	t.IdleConnTimeout = o.IdleTimeout
	return &Client{opts: o, t: t, sets: make(map[string]*connSet)}, nil
}

// connSet is the connections of one peer key.
type connSet struct {
	mu    sync.Mutex
	conns []*upConn
	max   int           // StreamOptions.MaxStreamsPerConn of the last NewStreamWith; under mu
	dial  chan struct{} // one token: dials are serialized
}

// upConn is one upstream connection.
type upConn struct {
	cc       *http2.ClientConn
	scheme   string
	active   int // streams of ours open on it; under connSet.mu
	used     atomic.Int64
	pingLost atomic.Bool
	done     chan struct{}
	doneOnce sync.Once
}

func (uc *upConn) stop() { uc.doneOnce.Do(func() { close(uc.done) }) }

// capacity returns how many streams uc may carry; 0 when it takes none.
// limit, if positive, caps it instead of ClientOptions.MaxStreamsPerConn.
func (c *Client) capacity(uc *upConn, limit int) int {
	st := uc.cc.State()
	if st.Closed || st.Closing || !uc.cc.CanTakeNewRequest() {
		return 0
	}
	n := int(st.MaxConcurrentStreams)
	m := c.opts.MaxStreamsPerConn
	if limit > 0 {
		m = limit
	}
	if m > 0 && m < n {
		n = m
	}
	return n
}

// reserve takes a stream slot on a connection of the set that is neither
// full nor draining after GOAWAY, dropping closed connections.
func (c *Client) reserve(set *connSet) *upConn {
	set.mu.Lock()
	defer set.mu.Unlock()
	live := set.conns[:0]
	var got *upConn
	for _, uc := range set.conns {
		if uc.cc.State().Closed {
			uc.stop()
			continue
		}
		live = append(live, uc) // draining ones stay until closed, for Close
		n := c.capacity(uc, set.max)
		if got == nil && uc.active < n {
			uc.active++
			got = uc
		}
	}
	clear(set.conns[len(live):])
	set.conns = live
	return got
}

func (c *Client) set(key string) (*connSet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, perr.Explain(perr.ConnectionClosed, "h2 client is closed").AsUp()
	}
	s, ok := c.sets[key]
	if !ok {
		s = &connSet{dial: make(chan struct{}, 1)}
		c.sets[key] = s
	}
	return s, nil
}

// NewStream opens a stream to the peer identified by key: on a connection
// of that key with a free stream slot, else on a new connection from dial.
// key must cover everything that makes two connections non-interchangeable
// (address, TLS server name, client certificate, ...). The caller must Close
// the stream.
func (c *Client) NewStream(ctx context.Context, key string, dial DialFunc) (*Stream, error) {
	return c.NewStreamWith(ctx, key, StreamOptions{}, dial)
}

// StreamOptions are the per-peer settings of NewStreamWith. The zero value
// means the ClientOptions.
type StreamOptions struct {
	// MaxStreamsPerConn, if positive, caps the streams each connection of
	// the key carries at once, instead of ClientOptions.MaxStreamsPerConn
	// (Pingora's per-peer max_h2_streams). The peer's
	// SETTINGS_MAX_CONCURRENT_STREAMS still applies. Calls for one key
	// should pass the same value; the latest one is used.
	MaxStreamsPerConn int
}

// NewStreamWith is NewStream with per-peer settings.
func (c *Client) NewStreamWith(ctx context.Context, key string, so StreamOptions, dial DialFunc) (*Stream, error) {
	if so.MaxStreamsPerConn < 0 {
		return nil, perr.Create(perr.InternalError, perr.Internal, "h2 stream options",
			errors.New("http2: negative MaxStreamsPerConn"))
	}
	set, err := c.set(key)
	if err != nil {
		return nil, err
	}
	set.mu.Lock()
	set.max = so.MaxStreamsPerConn
	set.mu.Unlock()
	if uc := c.reserve(set); uc != nil {
		return c.newStream(set, uc), nil
	}
	select {
	case set.dial <- struct{}{}:
	case <-ctx.Done():
		return nil, perr.Because(perr.ConnectTimedout, "wait to dial h2 "+key, ctx.Err()).AsUp()
	}
	defer func() { <-set.dial }()
	// Another dial may have finished while this one waited.
	if uc := c.reserve(set); uc != nil {
		return c.newStream(set, uc), nil
	}
	conn, err := dial(ctx)
	if err != nil {
		var pe *perr.Error
		if errors.As(err, &pe) {
			return nil, err
		}
		return nil, perr.Because(perr.ConnectError, "dial h2 "+key, err).AsUp()
	}
	uc, err := c.handshake(ctx, conn)
	if err != nil {
		return nil, err
	}
	set.mu.Lock()
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		set.mu.Unlock()
		uc.stop()
		_ = uc.cc.Close()
		return nil, perr.Explain(perr.ConnectionClosed, "h2 client is closed").AsUp()
	}
	set.conns = append(set.conns, uc)
	uc.active++
	set.mu.Unlock()
	return c.newStream(set, uc), nil
}

// handshake starts HTTP/2 on conn and waits for the peer's SETTINGS, so
// its SETTINGS_MAX_CONCURRENT_STREAMS is known before streams are placed.
// The PING acknowledgement proves the SETTINGS (the peer's first frame)
// were processed.
func (c *Client) handshake(ctx context.Context, conn net.Conn) (*upConn, error) {
	fail := func(err error) (*upConn, error) {
		_ = conn.Close()
		t := perr.HandshakeError
		if isTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
			t = perr.ConnectTimedout
		}
		return nil, perr.Because(t, "h2 handshake", err).AsUp()
	}
	deadline := time.Now().Add(c.opts.HandshakeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	scheme := "http"
	if cs, ok := conn.(connectionStater); ok {
		scheme = "https"
		if hs, ok := conn.(interface{ HandshakeContext(context.Context) error }); ok {
			if err := hs.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, perr.Because(perr.TLSHandshakeFailure, "h2 tls handshake", err).AsUp()
			}
		}
		if p := cs.ConnectionState().NegotiatedProtocol; p != "h2" {
			_ = conn.Close()
			return nil, perr.Explain(perr.H2Downgrade, "peer did not negotiate h2 (ALPN "+strconv.Quote(p)+")").
				AsUp().SetRetry(true)
		}
	}
	cc, err := c.t.NewClientConn(conn)
	if err != nil {
		return fail(err)
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	err = cc.Ping(hctx)
	cancel()
	if err != nil {
		_ = cc.Close()
		return fail(err)
	}
	_ = conn.SetDeadline(time.Time{})
	uc := &upConn{cc: cc, scheme: scheme, done: make(chan struct{})}
	if c.opts.PingInterval > 0 {
		go c.keepalive(uc)
	}
	return uc, nil
}

// keepalive pings uc every PingInterval until it closes. A missing answer
// closes the connection and marks it, so its streams fail with PingTimedout.
func (c *Client) keepalive(uc *upConn) {
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-uc.done:
			return
		case <-t.C:
		}
		if uc.cc.State().Closed {
			uc.stop()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.PingTimeout)
		err := uc.cc.Ping(ctx)
		cancel()
		if err != nil {
			if !uc.cc.State().Closed || errors.Is(err, context.DeadlineExceeded) {
				uc.pingLost.Store(true)
			}
			_ = uc.cc.Close()
			uc.stop()
			return
		}
	}
}

// Conns returns the number of connections the client holds for key,
// including draining ones that still carry streams of this client.
func (c *Client) Conns(key string) int {
	c.mu.Lock()
	set := c.sets[key]
	c.mu.Unlock()
	if set == nil {
		return 0
	}
	set.mu.Lock()
	defer set.mu.Unlock()
	n := 0
	for _, uc := range set.conns {
		if !uc.cc.State().Closed {
			n++
		}
	}
	return n
}

// Close closes every connection at once, failing their streams, and makes
// NewStream fail.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	sets := c.sets
	c.sets = make(map[string]*connSet)
	c.mu.Unlock()
	for _, set := range sets {
		set.mu.Lock()
		for _, uc := range set.conns {
			uc.stop()
			_ = uc.cc.Close()
		}
		set.conns = nil
		set.mu.Unlock()
	}
	return nil
}

// release gives back the stream slot of uc.
func (set *connSet) release(uc *upConn) {
	set.mu.Lock()
	uc.active--
	set.mu.Unlock()
}
