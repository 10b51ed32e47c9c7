package http2

import (
	"sync"
	"time"
)

// watchdog bounds the body reads and writes of one connection's streams
// (ServerOptions.ReadTimeout and WriteTimeout) with a single timer. A
// timer per stream, re-armed on every read and write, costs two allocations
// per stream and a timer-heap update per call; here a call only stores its
// start time in its Session, and the timer, kept armed while the connection
// has streams, fires no later than the earliest deadline of a call in
// progress, so each call is bounded exactly as a timer of its own would
// bound it. With no call in progress it fires once per timeout at most.
type watchdog struct {
	readTimeout, writeTimeout time.Duration // 0: unbounded
	minTimeout                time.Duration // the smaller enabled one
	base                      time.Time     // the origin of Session.*Since, monotonic

	mu      sync.Mutex
	head    *Session // the open streams, linked by wdPrev/wdNext
	timer   *time.Timer
	armed   bool
	stopped bool
}

// newWatchdog returns nil when neither timeout is enabled.
func newWatchdog(read, write time.Duration) *watchdog {
	if read <= 0 && write <= 0 {
		return nil
	}
	m := read
	if m <= 0 || (write > 0 && write < m) {
		m = write
	}
	return &watchdog{readTimeout: max(read, 0), writeTimeout: max(write, 0), minTimeout: m, base: time.Now()}
}

// now is the watchdog's clock, in nanoseconds since base; never 0, which
// marks "no call in progress".
func (w *watchdog) now() int64 { return int64(time.Since(w.base)) + 1 }

// add starts watching s.
func (w *watchdog) add(s *Session) {
	w.mu.Lock()
	s.wdNext = w.head
	if w.head != nil {
		w.head.wdPrev = s
	}
	w.head = s
	if !w.armed && !w.stopped {
		w.armed = true
		if w.timer == nil {
			w.timer = time.AfterFunc(w.minTimeout, w.fire)
		} else {
			w.timer.Reset(w.minTimeout)
		}
	}
	w.mu.Unlock()
}

// remove stops watching s. Once it returns, the watchdog no longer touches
// s (its ResponseWriter is then x/net/http2's again).
func (w *watchdog) remove(s *Session) {
	w.mu.Lock()
	if s.wdPrev != nil {
		s.wdPrev.wdNext = s.wdNext
	} else if w.head == s {
		w.head = s.wdNext
	}
	if s.wdNext != nil {
		s.wdNext.wdPrev = s.wdPrev
	}
	s.wdPrev, s.wdNext = nil, nil
	w.mu.Unlock()
}

// stop ends the watchdog with its connection.
func (w *watchdog) stop() {
	w.mu.Lock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
}

// fire expires the calls past their deadline and re-arms the timer for the
// earliest deadline left (or one timeout from now: a call starting later
// ends later than that).
func (w *watchdog) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	now := w.now()
	next := now + int64(w.minTimeout)
	check := func(since int64, d time.Duration, expire func(since int64)) {
		if since == 0 || d <= 0 {
			return
		}
		if end := since + int64(d); end <= now {
			expire(since)
		} else {
			next = min(next, end)
		}
	}
	for s := w.head; s != nil; s = s.wdNext {
		check(s.readSince.Load(), w.readTimeout, s.expireRead)
		check(s.writeSince.Load(), w.writeTimeout, s.expireWrite)
	}
	if w.head == nil {
		w.armed = false
		return
	}
	w.timer.Reset(time.Duration(max(next-now, int64(time.Millisecond))))
}
