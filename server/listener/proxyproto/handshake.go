package proxyproto

import (
	"context"
	"fmt"
	"net"
	"time"
)

// NextHandshaker is what runs after the header, typically the server side
// of TLS. It has the method set of listener.Handshaker, which this package
// does not import, so the listener may import this one.
type NextHandshaker interface {
	Handshake(ctx context.Context, raw net.Conn) (net.Conn, error)
}

// Handshaker reads the PROXY header of each connection a listener accepts,
// then runs the next handshaker (TLS), if any, over the returned [Conn]. It
// is a listener.Handshaker: set it as listener.Config.TLS so headers are
// read off the accept loop under Config.HandshakeTimeout. It is safe for
// concurrent use.
type Handshaker struct {
	opts Options
	next NextHandshaker
}

// NewHandshaker returns a Handshaker that reads headers as opts says and
// then hands the connection to next; next may be nil for plaintext
// listeners. It fails only on invalid Options.
func NewHandshaker(opts Options, next NextHandshaker) (*Handshaker, error) {
	o, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	return &Handshaker{opts: o, next: next}, nil
}

// aLongTimeAgo is a deadline in the past, to make a blocked read return.
var aLongTimeAgo = time.Unix(1, 0)

// Handshake reads raw's header within Options.Timeout or before ctx ends,
// whichever is first, restores raw's read deadline to ctx's deadline (or
// none), and runs the next Handshaker. The returned conn is a *Conn, or what
// the next Handshaker made of one. On error raw is left open for the caller
// to close.
func (h *Handshaker) Handshake(ctx context.Context, raw net.Conn) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	outer, _ := ctx.Deadline()
	deadline := outer
	if h.opts.Timeout > 0 {
		if own := time.Now().Add(h.opts.Timeout); deadline.IsZero() || own.Before(deadline) {
			deadline = own
		}
	}
	if err := raw.SetReadDeadline(deadline); err != nil {
		return nil, fmt.Errorf("proxyproto: set read deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = raw.SetReadDeadline(aLongTimeAgo) })
	pc, err := readHeader(raw, h.opts)
	if !stop() {
		// ctx ended: the AfterFunc may have spoiled raw's deadline.
		return nil, fmt.Errorf("proxyproto: read header: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	if err := raw.SetReadDeadline(outer); err != nil {
		return nil, fmt.Errorf("proxyproto: restore read deadline: %w", err)
	}
	if h.next == nil {
		return pc, nil
	}
	return h.next.Handshake(ctx, pc)
}
