// Package deadline sets connection deadlines coarsely, so that a
// connection that moves a small message every few microseconds does not
// pay for a new deadline on every read and write.
//
// Setting a deadline on a net.Conn costs a clock read for time.Now (two:
// wall and monotonic), one more for the conversion to a duration, one in
// the runtime, and a change to the runtime's timer heap under the poll
// descriptor's lock: about as much as the rest of a small HTTP/1 exchange's
// user-space work. A Coarse keeps the deadline it set last and sets a new
// one only when the kept one falls outside [now+d, now+d+d/8]: a timeout d
// then fires between d and 9/8·d after the operation began, never early.
// A proxy's timeouts are seconds to minutes, so the slack is well within
// what a user of nginx or Pingora expects (Pingora's own timers are coarse
// too).
package deadline

import (
	"sync/atomic"
	"time"
)

// base anchors the monotonic clock the package reads: time.Since(base) is
// one clock read, time.Now two.
var base = time.Now()

// Now is the package's monotonic clock, in nanoseconds since an arbitrary
// start.
func Now() int64 { return int64(time.Since(base)) }

// none is the kept value when no deadline is set.
const none = -1

// Coarse keeps the deadline last set in one direction (read or write) of
// one connection. The zero value knows nothing and sets the next deadline
// it is asked for. It is safe for concurrent use: Forget from another
// goroutine (before it interrupts the connection) makes the next Set
// really set.
type Coarse struct {
	at atomic.Int64 // nanoseconds on Now's clock; 0 unknown, none no deadline
}

// Set makes sure an operation starting now times out after d, within the
// slack above: it calls set (the connection's SetReadDeadline or
// SetWriteDeadline) only when the kept deadline does not do. d <= 0 means
// no deadline.
func (c *Coarse) Set(set func(time.Time) error, d time.Duration) error {
	if d <= 0 {
		if c.at.Load() == none {
			return nil
		}
		c.at.Store(none)
		return set(time.Time{})
	}
	want := Now() + int64(d)
	if at := c.at.Load(); at >= want && at-want <= int64(d)>>3 {
		return nil
	}
	at := want + int64(d)>>3
	c.at.Store(at)
	// base.Add keeps base's monotonic reading, so the conversion back to
	// a duration in the runtime reads the monotonic clock only.
	return set(base.Add(time.Duration(at)))
}

// Forget drops the kept deadline: call it whenever the connection's
// deadline is set other than through Set.
func (c *Coarse) Forget() { c.at.Store(0) }
