package proxy

import (
	"sync"
	"syscall"
	"time"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// slotHold is the longest an upstream connection stays parked in a
// downstream connection's slot before it goes to the pool (shorter if the
// peer's IdleTimeout is).
const slotHold = 100 * time.Millisecond

// monoBase anchors monoNow, a monotonic clock read once (time.Now reads
// two clocks).
var monoBase = time.Now()

func monoNow() time.Duration { return time.Since(monoBase) }

// upSlot parks the plaintext HTTP/1 upstream connection of a downstream
// HTTP/1 connection's last request for its next request, so that a client
// sending requests back to back reuses it without a round trip through the
// pool (whose watcher goroutine costs two goroutine switches and several
// deadline changes per request). A parked connection is checked just
// before reuse, without blocking: one whose peer closed it or sent
// anything meanwhile is closed, never reused (as the pool's watcher would).
// The check is one recvfrom (about half a microsecond) and is kept even
// for requests that would be replayed on a dead connection: bytes a buggy
// origin sends after the end of a response (a Content-Length too small)
// would otherwise be read as the next response. The connection goes to
// the pool when the next request is slow to come (slotHold), asks for
// another peer, or when the downstream connection ends.
type upSlot struct {
	conns *connector.Connector

	mu       sync.Mutex // guards the fields up to timer: the timer takes them too
	conn     *connector.Conn
	peer     *peer.Peer
	key      peer.Key
	parkedAt time.Duration // monoNow at park
	hold     time.Duration // how long conn may stay parked
	armed    bool          // the timer will fire
	timer    *time.Timer

	// touched only by the downstream connection's goroutine
	raw     syscall.RawConn // of rawOf
	rawOf   *connector.Conn
	probe   probe
	probeFn func(fd uintptr) bool
}

func newUpSlot(conns *connector.Connector) *upSlot {
	sl := &upSlot{conns: conns}
	sl.probeFn = sl.probe.peek
	return sl
}

// usable reports whether conn to pr may be parked here.
func (sl *upSlot) usable(pr *peer.Peer, conn *connector.Conn) bool {
	if !canProbe || conn.TLS() || pr.IdleTimeout < 0 || !sl.conns.Pooling() {
		return false
	}
	if sl.rawOf == conn {
		return sl.raw != nil
	}
	sl.raw, sl.rawOf = nil, conn
	if sc, ok := conn.Conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			sl.raw = raw
		}
	}
	return sl.raw != nil
}

// park keeps conn, whose exchange ended cleanly and whose client session
// was recycled, for the next request. The timer is armed once and
// re-armed by itself while connections keep coming back (see expire), so
// that a busy connection does not reset a timer per request.
func (sl *upSlot) park(pr *peer.Peer, conn *connector.Conn) {
	hold := slotHold
	if pr.IdleTimeout > 0 && pr.IdleTimeout < hold {
		hold = pr.IdleTimeout
	}
	now := monoNow()
	sl.mu.Lock()
	old, oldPeer := sl.conn, sl.peer
	sl.conn, sl.peer, sl.key, sl.parkedAt, sl.hold = conn, pr, pr.Key(), now, hold
	if !sl.armed {
		sl.armed = true
		if sl.timer == nil {
			sl.timer = time.AfterFunc(hold, sl.expire)
		} else {
			sl.timer.Reset(hold)
		}
	}
	sl.mu.Unlock()
	if old != nil { // not expected: a request holds one connection at a time
		sl.toPool(oldPeer, old)
	}
}

// take returns the parked connection if it was made for a peer with pr's
// Key and is still idle and open; else nil (a parked connection for another
// peer goes to the pool, a dead one is closed).
func (sl *upSlot) take(pr *peer.Peer) *connector.Conn {
	sl.mu.Lock()
	conn, old, key := sl.conn, sl.peer, sl.key
	sl.conn, sl.peer = nil, nil
	sl.mu.Unlock()
	if conn == nil {
		return nil
	}
	if key != pr.Key() {
		sl.toPool(old, conn)
		return nil
	}
	if conn != sl.rawOf || !sl.probe.idle(sl.raw, sl.probeFn) {
		conn.Close()
		return nil
	}
	return conn
}

// expire runs on the timer's goroutine: it moves a connection parked
// longer than its hold to the pool, or re-arms the timer for the rest of
// the hold of one parked since.
func (sl *upSlot) expire() {
	sl.mu.Lock()
	if sl.conn == nil {
		sl.armed = false
		sl.mu.Unlock()
		return
	}
	if left := sl.parkedAt + sl.hold - monoNow(); left > 0 {
		sl.timer.Reset(left)
		sl.mu.Unlock()
		return
	}
	conn, pr := sl.conn, sl.peer
	sl.conn, sl.peer, sl.armed = nil, nil, false
	sl.mu.Unlock()
	sl.toPool(pr, conn)
}

// flush moves a parked connection to the pool now.
func (sl *upSlot) flush() {
	sl.mu.Lock()
	conn, pr := sl.conn, sl.peer
	sl.conn, sl.peer = nil, nil
	sl.mu.Unlock()
	if conn != nil {
		sl.toPool(pr, conn)
	}
}

// close ends the slot when its downstream connection ends.
func (sl *upSlot) close() {
	sl.mu.Lock()
	if sl.timer != nil {
		sl.timer.Stop()
	}
	sl.armed = false
	sl.mu.Unlock()
	sl.flush()
}

func (sl *upSlot) toPool(pr *peer.Peer, conn *connector.Conn) {
	_ = conn.SetDeadline(time.Time{})
	sl.conns.Release(pr, conn, true)
}
