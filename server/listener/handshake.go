package listener

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Handshaker turns an accepted socket into the connection the server talks
// over, typically by running the server side of a TLS handshake. It is the
// listener's only view of TLS, so any backend fits (crypto/tls, tlsbackend);
// wrap a function with [HandshakerFunc].
//
// Handshake is called on a goroutine per connection and from many at once.
// It must return when ctx is done or raw's deadline passes (the listener
// sets both from Config.HandshakeTimeout and cancels ctx on Close). On
// error the listener closes raw; on success the returned conn owns raw.
type Handshaker interface {
	Handshake(ctx context.Context, raw net.Conn) (net.Conn, error)
}

// HandshakerFunc adapts a function to a [Handshaker].
type HandshakerFunc func(ctx context.Context, raw net.Conn) (net.Conn, error)

// Handshake calls f(ctx, raw).
func (f HandshakerFunc) Handshake(ctx context.Context, raw net.Conn) (net.Conn, error) {
	return f(ctx, raw)
}

var _ Handshaker = HandshakerFunc(nil)

// HandshakeError is a failed handshake, reported to Config.OnError. The
// connection has been closed.
type HandshakeError struct {
	// Key is the Key of the listener.
	Key string
	// Remote is the client's address.
	Remote net.Addr
	// TimedOut is set when the handshake ran out of Config.HandshakeTimeout.
	TimedOut bool
	// Err is what the Handshaker (or the listener, for a nil conn) returned.
	Err error
}

// Error reports the client, the listener and the cause, e.g.
// "listener: handshake with 127.0.0.1:40000 on :443 timed out: …".
func (e *HandshakeError) Error() string {
	msg := fmt.Sprintf("listener: handshake with %v on %s", e.Remote, e.Key)
	if e.TimedOut {
		msg += " timed out"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

var errNilConn = errors.New("handshaker returned a nil conn")

// aLongTimeAgo is a deadline in the past, to make blocked I/O return now.
var aLongTimeAgo = time.Unix(1, 0)

// acceptLoop accepts sockets for a TLS listener (or one with a Preamble)
// and hands each to its own handshake goroutine, so a silent client never
// holds up the next accept.
func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	for {
		raw, err := l.acceptRaw()
		if err != nil {
			l.loopErr = err
			close(l.loopDone)
			return
		}
		l.wg.Add(1)
		go l.handshake(raw, time.Now())
	}
}

// handshake runs the Preamble and the TLS Handshaker on raw and offers the
// result to Accept.
func (l *Listener) handshake(raw net.Conn, accepted time.Time) {
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.HandshakeTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	_ = raw.SetDeadline(deadline)
	// Close interrupts handshakers that watch only raw, not ctx.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(aLongTimeAgo) })

	c, err := raw, error(nil)
	if l.cfg.Preamble != nil {
		c, err = l.cfg.Preamble.Handshake(ctx, raw)
		if err == nil && c == nil {
			err = errNilConn
		}
	}
	if err == nil && l.cfg.TLS != nil {
		c, err = l.cfg.TLS.Handshake(ctx, c)
		if err == nil && c == nil {
			err = errNilConn
		}
	}
	if !stop() && err == nil {
		// ctx ended as the handshake finished: the AfterFunc may have
		// spoiled raw's deadline, so the conn cannot be trusted.
		c.Close()
		err = ctx.Err()
	}
	if err != nil {
		// Report first, so the error is known by the time the client
		// sees the connection close.
		if l.ctx.Err() == nil {
			l.report(&HandshakeError{
				Key: l.cfg.Addr, Remote: raw.RemoteAddr(),
				// The raw deadline may fire before ctx's timer does.
				TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded) || !time.Now().Before(deadline),
				Err:      err,
			})
		}
		raw.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	select {
	case l.ready <- Conn{Conn: c, Raw: raw, TLS: l.cfg.TLS != nil, Accepted: accepted, Key: l.cfg.Addr}:
	case <-l.ctx.Done():
		c.Close()
	}
}

// acceptTLS waits for the next finished handshake.
func (l *Listener) acceptTLS() (Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.loopDone:
		return Conn{}, l.loopErr
	case <-l.ctx.Done():
		return Conn{}, l.errClosed
	}
}
