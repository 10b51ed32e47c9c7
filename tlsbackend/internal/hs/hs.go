// Package hs holds the handshake machinery the backends share: the deadline
// guard and error shaping.
package hs

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/pingora-go/pingora/tlsbackend"
)

// Guard bounds one handshake: it sets raw's deadline to the earlier of the
// context deadline and now+timeout, and moves it into the past when ctx is
// cancelled so blocked I/O returns.
type Guard struct {
	ctx     context.Context
	raw     net.Conn
	limit   time.Duration
	stop    func() bool
	backend string
	side    string
}

var past = time.Unix(1, 0)

// Arm starts guarding a handshake on raw.
func Arm(ctx context.Context, raw net.Conn, timeout time.Duration, backend, side string) *Guard {
	g := &Guard{ctx: ctx, raw: raw, limit: timeout, backend: backend, side: side}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
		g.limit = time.Until(d)
	}
	raw.SetDeadline(deadline)
	g.stop = context.AfterFunc(ctx, func() { raw.SetDeadline(past) })
	return g
}

// Done ends the guard. With err nil and the context still live it clears
// raw's deadline and returns nil. Otherwise it closes raw and returns a
// *tlsbackend.HandshakeError saying why the handshake failed.
func (g *Guard) Done(err error) error {
	stopped := g.stop()
	if err == nil && stopped {
		g.raw.SetDeadline(time.Time{})
		return nil
	}
	g.raw.Close()
	he := &tlsbackend.HandshakeError{Backend: g.backend, Side: g.side, Peer: addr(g.raw), Err: err}
	switch {
	case !stopped && errors.Is(g.ctx.Err(), context.DeadlineExceeded):
		he.TimedOut, he.Limit, he.Err = true, g.limit, context.DeadlineExceeded
	case !stopped:
		he.Err = context.Cause(g.ctx)
	case isTimeout(err):
		he.TimedOut, he.Limit = true, g.limit
	}
	return he
}

// Fail closes raw and wraps err without a running guard (setup errors).
func Fail(raw net.Conn, backend, side string, err error) error {
	raw.Close()
	return &tlsbackend.HandshakeError{Backend: backend, Side: side, Peer: addr(raw), Err: err}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func addr(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil {
		return a.String()
	}
	return "unknown peer"
}
