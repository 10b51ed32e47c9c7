package http1

import (
	"net"
	"runtime"
	"time"

	"github.com/pingora-go/pingora/server/internal/deadline"
)

// TimeoutSetter is implemented by connections that set their own
// deadlines from a timeout, coarsely (server/connector's Conn does): a
// ClientSession uses it instead of SetReadDeadline(time.Now().Add(d)).
// The connection then keeps its deadlines coherent whoever sets them.
type TimeoutSetter interface {
	// SetReadTimeout makes reads starting now time out after at least d
	// (d <= 0: never).
	SetReadTimeout(d time.Duration) error
	// SetWriteTimeout is SetReadTimeout for writes.
	SetWriteTimeout(d time.Duration) error
}

// deadlines sets the deadlines of a session's connection. A ServerSession
// owns its connection's deadlines (nothing else sets them while it serves:
// see InterruptRead), so it keeps them coarsely itself; a ClientSession's
// connection may be set by others (a pool's idle watcher), so it keeps
// them coarsely only through the connection's own TimeoutSetter, and
// otherwise sets every deadline exactly.
type deadlines struct {
	conn net.Conn
	ts   TimeoutSetter // the connection's own, if any
	own  bool          // keep r and w here
	r, w deadline.Coarse
}

func (d *deadlines) init(conn net.Conn, own bool) {
	d.conn, d.own = conn, own
	d.ts, _ = conn.(TimeoutSetter)
	d.r.Forget()
	d.w.Forget()
}

func (d *deadlines) read(t time.Duration) {
	switch {
	case d.ts != nil:
		_ = d.ts.SetReadTimeout(t)
	case d.own:
		_ = d.r.Set(d.conn.SetReadDeadline, t)
	default:
		_ = d.conn.SetReadDeadline(exact(t))
	}
}

func (d *deadlines) write(t time.Duration) {
	switch {
	case d.ts != nil:
		_ = d.ts.SetWriteTimeout(t)
	case d.own:
		_ = d.w.Set(d.conn.SetWriteDeadline, t)
	default:
		_ = d.conn.SetWriteDeadline(exact(t))
	}
}

// clear removes both deadlines.
func (d *deadlines) clear() {
	d.r.Forget()
	d.w.Forget()
	_ = d.conn.SetDeadline(time.Time{})
}

// interruptRead makes a blocked or future read fail at once with a timeout
// (from any goroutine).
func (d *deadlines) interruptRead() {
	d.r.Forget()
	_ = d.conn.SetReadDeadline(aLongTimeAgo)
}

// aLongTimeAgo is a deadline in the past.
var aLongTimeAgo = time.Unix(1, 0)

func exact(t time.Duration) time.Time {
	if t <= 0 {
		return time.Time{}
	}
	return time.Now().Add(t)
}

// yieldBeforeWait lets other goroutines run before a read that is about to
// wait for the peer: the next request of a kept-alive connection, or the
// response to a request just written. Go's netpoller always tries the read
// first, so reading at once costs a read(2) that fails with EAGAIN (about
// half a microsecond), a park and a wake-up. Under load other connections'
// goroutines are ready to run; letting them go first usually gives the
// peer time to answer, so that the read finds its bytes: in tools/bench
// (64 connections, 100-byte bodies) this halved the proxy's read calls, from
// four per request to two, and cut its CPU per request by about a tenth.
// With nothing else to run it returns at once.
func yieldBeforeWait() { runtime.Gosched() }
