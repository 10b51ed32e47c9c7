package pool

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Watchable is what PutWatched needs from a connection: the read half of a
// net.Conn. Every net.Conn, including *tls.Conn, implements it.
type Watchable interface {
	Read(b []byte) (n int, err error)
	SetReadDeadline(t time.Time) error
}

// aLongTimeAgo is a read deadline in the past: setting it makes a blocked
// Read return a timeout error at once without consuming any byte.
var aLongTimeAgo = time.Unix(1, 0)

// PutWatched adds c as an idle connection under key, like Put, and starts a
// watcher goroutine that blocks in a 1-byte Read of c under a read deadline
// of idleTimeout (idleTimeout <= 0: no deadline). If the Read returns, the
// connection is removed from the pool and closed, because the peer closed
// it, sent data no request asked for, or the idle timeout passed. Use it for
// HTTP/1 connections, whose reads nobody else owns while they are idle.
//
// Get stops the watcher by setting a read deadline in the past and waits for
// it to end before returning c, so no byte is consumed and no goroutine
// outlives the pick-up; it then clears the read deadline. Eviction, Drain
// and Close stop the watcher by closing c.
//
// The dynamic type of c must implement Watchable. PutWatched takes ownership
// of c: on error (ErrClosed, ErrNotWatchable, or SetReadDeadline's error) c
// has been closed.
func (p *Pool[C]) PutWatched(key uint64, c C, idleTimeout time.Duration) error {
	w, ok := any(c).(Watchable)
	if !ok {
		c.Close()
		return ErrNotWatchable
	}
	var deadline time.Time
	if idleTimeout > 0 {
		deadline = time.Now().Add(idleTimeout)
	}
	// Set before the entry is visible, so a Get's past deadline always wins.
	if err := w.SetReadDeadline(deadline); err != nil {
		c.Close()
		return fmt.Errorf("pool: watch idle connection: %w", err)
	}
	e := p.watchedEntry()
	e.conn, e.key, e.w = c, key, w
	if !p.putWithGoroutine(e) {
		c.Close()
		return ErrClosed
	}
	go e.watchF()
	return nil
}

// watchedEntry returns a recycled watched entry, or a new one.
func (p *Pool[C]) watchedEntry() *entry[C] {
	p.mu.Lock()
	e := p.freeW
	if e != nil {
		p.freeW = e.nextK
		e.nextK = nil
	}
	p.mu.Unlock()
	if e == nil {
		e = &entry[C]{kind: kindWatched, exited: make(chan struct{}, 1)}
		e.watchF = func() { p.watch(e) }
	}
	return e
}

// recycleWatchedLocked puts a watched entry whose watcher has ended, and
// that nothing else refers to, on the free list.
// p.mu must be held.
func (p *Pool[C]) recycleWatchedLocked(e *entry[C]) {
	var zero C
	e.conn, e.w = zero, nil
	e.state, e.reason = stateFree, reasonNone
	e.nextK = p.freeW
	p.freeW = e
}

// PutWithDone adds c as an idle connection under key for a connection whose
// reads are owned elsewhere, such as an HTTP/2 connection whose frames a
// driver goroutine reads. The pool does not read c; it removes and closes c
// when idleTimeout passes (idleTimeout <= 0: never) or when done is closed
// (the owner saw the connection end). Get skips an entry whose done is
// already closed. A nil done is never closed: PutWithDone is then Put.
//
// PutWithDone starts one goroutine per connection, ended by Get, eviction,
// Drain or Close. It takes ownership of c: on ErrClosed c has been closed.
func (p *Pool[C]) PutWithDone(key uint64, c C, idleTimeout time.Duration, done <-chan struct{}) error {
	if done == nil {
		return p.Put(key, c, idleTimeout)
	}
	e := &entry[C]{
		conn: c, key: key, kind: kindDone, done: done,
		stop: make(chan struct{}), exited: make(chan struct{}),
	}
	if !p.putWithGoroutine(e) {
		c.Close()
		return ErrClosed
	}
	go p.waitDone(e, idleTimeout)
	return nil
}

// putWithGoroutine inserts an entry whose goroutine the caller starts if it
// returns true; false means the pool is closed.
func (p *Pool[C]) putWithGoroutine(e *entry[C]) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	victim := p.makeRoomLocked()
	p.insertLocked(e)
	p.wg.Add(1)
	p.mu.Unlock()
	p.evicted(victim)
	return true
}

// watch is the goroutine of a PutWatched entry. It signals its end on
// e.exited (once; the channel is reused with the entry).
func (p *Pool[C]) watch(e *entry[C]) {
	defer p.wg.Done()
	defer func() { e.exited <- struct{}{} }()
	n, err := e.w.Read(e.buf[:])
	reason := reasonPeerClosed
	switch {
	case n > 0:
		reason = reasonData
	case isTimeout(err):
		reason = reasonExpired // or stopped by Get, which the state tells
	}
	p.mu.Lock()
	switch e.state {
	case stateTaken:
		// Get is waiting on exited; a timeout here is its own doing.
		if reason != reasonExpired {
			e.reason = reason
		}
		p.mu.Unlock()
	case stateIdle:
		p.unlinkLocked(e)
		e.state = stateGone
		p.countClosedLocked(reason)
		p.mu.Unlock()
		e.conn.Close()
	default:
		// Evicted, drained or closed: whoever did it closes the connection.
		p.mu.Unlock()
	}
}

// takeWatched finishes a Get of a watched entry already unlinked and marked
// taken: it stops the watcher and returns the connection if its peer did
// nothing meanwhile. Otherwise it closes the connection and returns false.
func (p *Pool[C]) takeWatched(e *entry[C]) (C, bool) {
	c := e.conn
	reason, closed := reasonNone, false
	if err := e.w.SetReadDeadline(aLongTimeAgo); err != nil {
		c.Close() // else the Read might never wake up
		reason, closed = reasonPeerClosed, true
	}
	<-e.exited
	if reason == reasonNone {
		reason = e.reason
	}
	if reason == reasonNone && e.w.SetReadDeadline(time.Time{}) != nil {
		reason = reasonPeerClosed
	}
	p.mu.Lock()
	p.recycleWatchedLocked(e) // its watcher has ended: nothing refers to it
	if reason == reasonNone {
		p.stats.Hits++
		p.mu.Unlock()
		return c, true
	}
	p.countClosedLocked(reason)
	p.mu.Unlock()
	if !closed {
		c.Close()
	}
	var zero C
	return zero, false
}

// waitDone is the goroutine of a PutWithDone entry.
func (p *Pool[C]) waitDone(e *entry[C], idleTimeout time.Duration) {
	defer p.wg.Done()
	defer close(e.exited)
	var timeout <-chan time.Time
	if idleTimeout > 0 {
		t := time.NewTimer(idleTimeout)
		defer t.Stop()
		timeout = t.C
	}
	reason := reasonPeerClosed
	select {
	case <-e.stop:
		return
	case <-e.done:
	case <-timeout:
		reason = reasonExpired
	}
	p.mu.Lock()
	if e.state != stateIdle {
		p.mu.Unlock()
		return
	}
	p.unlinkLocked(e)
	e.state = stateGone
	close(e.stop)
	p.countClosedLocked(reason)
	p.mu.Unlock()
	e.conn.Close()
}

// countClosedLocked counts an idle connection closed for reason.
// p.mu must be held.
func (p *Pool[C]) countClosedLocked(reason uint8) {
	p.stats.IdleClosed++
	switch reason {
	case reasonExpired:
		p.stats.Expired++
	case reasonData:
		p.stats.UnexpectedData++
	default:
		p.stats.PeerClosed++
	}
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
