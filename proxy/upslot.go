package proxy

import (
	"sync"
	"time"

	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// slotHold is the longest an upstream connection stays parked in a
// downstream connection's slot before it goes to the pool (shorter if the
// peer's IdleTimeout is).
const slotHold = 100 * time.Millisecond

// h2SlotSize is how many upstream connections an HTTP/2 downstream
// connection parks for its streams; more go to the pool.
const h2SlotSize = 32

// monoBase anchors monoNow, a monotonic clock read once (time.Now reads
// two clocks).
var monoBase = time.Now()

func monoNow() time.Duration { return time.Since(monoBase) }

// upSlot parks the plaintext HTTP/1 upstream connections of a downstream
// connection's finished requests for its next ones: one for an HTTP/1
// downstream connection (its requests come one at a time), up to
// h2SlotSize for an HTTP/2 one (its streams run at once). A request then
// reuses a connection without a round trip through the pool, whose watcher
// goroutine costs two goroutine switches and several deadline changes per
// request. A parked connection is checked just before reuse, without
// blocking (connector.Conn.CheckIdle): one whose peer closed it or sent
// anything meanwhile is closed, never reused (as the pool's watcher would).
// The check is kept even for requests that would be replayed on a dead
// connection: bytes a buggy origin sends after the end of a response (a
// Content-Length too small) would otherwise be read as the next response.
// A connection goes to the pool when it has been parked for slotHold, when
// the slot is full, and when the downstream connection ends; in a slot of
// one, also when a request asks for another peer.
type upSlot struct {
	conns *connector.Connector
	size  int

	mu     sync.Mutex
	parked []slotEntry // oldest first
	armed  bool        // the timer will fire
	closed bool
	timer  *time.Timer
}

type slotEntry struct {
	conn     *connector.Conn
	peer     *peer.Peer
	key      peer.Key
	parkedAt time.Duration // monoNow at park
	hold     time.Duration // how long it may stay parked
}

func newUpSlot(conns *connector.Connector, size int) *upSlot {
	return &upSlot{conns: conns, size: size, parked: make([]slotEntry, 0, size)}
}

// usable reports whether conn to pr may be parked here.
func (sl *upSlot) usable(pr *peer.Peer, conn *connector.Conn) bool {
	return pr.IdleTimeout >= 0 && sl.conns.Pooling() && conn.CanCheckIdle()
}

// park keeps conn, whose exchange ended cleanly and whose client session
// was recycled, for a next request. The timer is armed once and re-armed
// by itself while connections keep coming back (see expire), so that a
// busy downstream connection does not reset a timer per request.
func (sl *upSlot) park(pr *peer.Peer, conn *connector.Conn) {
	hold := slotHold
	if pr.IdleTimeout > 0 && pr.IdleTimeout < hold {
		hold = pr.IdleTimeout
	}
	e := slotEntry{conn: conn, peer: pr, key: pr.Key(), parkedAt: monoNow(), hold: hold}
	var out slotEntry
	sl.mu.Lock()
	switch {
	case sl.closed:
		out = e
	case len(sl.parked) == sl.size:
		out = sl.parked[0]
		copy(sl.parked, sl.parked[1:])
		sl.parked[len(sl.parked)-1] = e
	default:
		sl.parked = append(sl.parked, e)
	}
	if !sl.closed && !sl.armed {
		sl.armed = true
		if sl.timer == nil {
			sl.timer = time.AfterFunc(hold, sl.expire)
		} else {
			sl.timer.Reset(hold)
		}
	}
	done := sl.closed
	sl.mu.Unlock()
	if out.conn != nil {
		sl.toPool(out, done)
	}
}

// take returns the most recently parked connection made for a peer with
// pr's Key if it is still idle and open, else nil (a dead one is closed).
func (sl *upSlot) take(pr *peer.Peer) *connector.Conn {
	key := pr.Key()
	var got, other slotEntry
	sl.mu.Lock()
	for i := len(sl.parked) - 1; i >= 0; i-- {
		if sl.parked[i].key == key {
			got = sl.parked[i]
			sl.remove(i)
			break
		}
	}
	if got.conn == nil && sl.size == 1 && len(sl.parked) == 1 {
		// An HTTP/1 client moved to another peer: let others have it.
		other = sl.parked[0]
		sl.remove(0)
	}
	sl.mu.Unlock()
	if other.conn != nil {
		sl.toPool(other, false)
	}
	if got.conn == nil {
		return nil
	}
	if !got.conn.CheckIdle() {
		got.conn.Close()
		return nil
	}
	return got.conn
}

// remove drops entry i, keeping the order. sl.mu must be held.
func (sl *upSlot) remove(i int) {
	copy(sl.parked[i:], sl.parked[i+1:])
	sl.parked[len(sl.parked)-1] = slotEntry{}
	sl.parked = sl.parked[:len(sl.parked)-1]
}

// expire runs on the timer's goroutine: it moves the connections parked
// longer than their hold to the pool and re-arms the timer for the next
// one due.
func (sl *upSlot) expire() {
	var out []slotEntry
	now := monoNow()
	sl.mu.Lock()
	next := time.Duration(-1)
	kept := sl.parked[:0]
	for _, e := range sl.parked {
		if left := e.parkedAt + e.hold - now; left > 0 {
			kept = append(kept, e)
			if next < 0 || left < next {
				next = left
			}
		} else {
			out = append(out, e)
		}
	}
	clear(sl.parked[len(kept):])
	sl.parked = kept
	if next > 0 && !sl.closed {
		sl.timer.Reset(next)
	} else {
		sl.armed = false
	}
	sl.mu.Unlock()
	for _, e := range out {
		sl.toPool(e, false)
	}
}

// flush moves every parked connection to the pool now, because the
// downstream connection sends no more requests.
func (sl *upSlot) flush() {
	sl.mu.Lock()
	out := append([]slotEntry(nil), sl.parked...)
	clear(sl.parked)
	sl.parked = sl.parked[:0]
	sl.mu.Unlock()
	for _, e := range out {
		sl.toPool(e, true)
	}
}

// close ends the slot when its downstream connection ends: what is
// parked goes to the pool, and so does whatever a stream still parks.
func (sl *upSlot) close() {
	sl.mu.Lock()
	sl.closed = true
	if sl.timer != nil {
		sl.timer.Stop()
	}
	sl.armed = false
	sl.mu.Unlock()
	sl.flush()
}

// toPool releases a parked connection to the pool. done says the
// downstream connection sends no more requests: a connection whose PROXY
// protocol header announced its client is then closed, as no one else
// may use it (HAProxy closes such "private" connections with their
// session too).
func (sl *upSlot) toPool(e slotEntry, done bool) {
	if done && e.peer.ProxyProtocol != 0 && e.peer.ProxySource.IsValid() {
		_ = e.conn.Close()
		return
	}
	_ = e.conn.SetDeadline(time.Time{})
	sl.conns.Release(e.peer, e.conn, true)
}
