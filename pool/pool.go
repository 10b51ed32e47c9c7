package pool

import (
	"errors"
	"io"
	"sync"
	"time"
)

// DefaultSize is the number of idle connections a Pool holds when
// Options.Size is zero. It is Pingora's default upstream keep-alive pool size.
const DefaultSize = 128

var (
	// ErrClosed is returned by the Put methods after Close. The connection
	// passed in has been closed.
	ErrClosed = errors.New("pool: closed")
	// ErrNotWatchable is returned by PutWatched when the connection does not
	// implement Watchable. The connection passed in has been closed.
	ErrNotWatchable = errors.New("pool: connection has no Read and SetReadDeadline methods")
)

// Options configures a Pool. The zero value is ready to use.
type Options[C io.Closer] struct {
	// Size is the most idle connections the pool holds, counted over all
	// keys. When a Put would exceed it, the least recently put idle
	// connection is evicted and closed. If zero, DefaultSize (128).
	// Negative sizes are an error.
	Size int

	// OnEvict, if not nil, is called once for each idle connection the LRU
	// evicts to make room for a Put, after the pool has closed it. It runs
	// in the goroutine of that Put, without any pool lock held, so it may
	// call the pool; it should return quickly. It is not called for
	// connections removed by idle timeout, by their peer, by Drain or by
	// Close. If nil, evictions are only counted (Stats.Evictions).
	OnEvict func(key uint64, c C)
}

// Stats are a Pool's counters since New. Every field but Idle only grows.
type Stats struct {
	// Hits counts Gets that returned a connection.
	Hits uint64
	// Misses counts Gets that found no usable connection.
	Misses uint64
	// Evictions counts idle connections the LRU closed to make room.
	Evictions uint64
	// IdleClosed counts idle connections removed and closed because they
	// expired, their peer closed them or sent data, or their done signal
	// fired. It is Expired + PeerClosed + UnexpectedData.
	IdleClosed uint64
	// Expired counts idle connections closed by their idle timeout.
	Expired uint64
	// PeerClosed counts idle connections whose peer closed them (EOF or a
	// read error), or whose done channel (PutWithDone) was closed.
	PeerClosed uint64
	// UnexpectedData counts idle connections closed because their peer
	// sent data while they were idle (Pingora's
	// unexpected_data_connection_count).
	UnexpectedData uint64
	// Idle is the number of idle connections held now.
	Idle int
}

// Pool is a keyed pool of idle connections, bounded in total size by a
// global LRU. Create it with New; the zero Pool is not usable. All methods
// are safe for concurrent use.
//
// A Put always transfers ownership of the connection to the pool: the pool
// either holds it until a Get hands it back, or closes it (on eviction,
// idle timeout, peer activity, Drain, Close, or a failed Put). A
// connection must not be put again while it is idle in the pool.
type Pool[C io.Closer] struct {
	size    int
	onEvict func(key uint64, c C)
	epoch   time.Time // origin of now

	// wg counts watcher goroutines (PutWatched, PutWithDone) and idle
	// timers closing a connection. Add happens under mu while !closed, so
	// Close's Wait never races a new Add.
	wg sync.WaitGroup

	mu     sync.Mutex
	closed bool
	nodes  map[uint64]*node[C] // key → its idle connections; may hold empty nodes
	lru    entry[C]            // sentinel of the global LRU: lru.nextL is the newest
	free   *entry[C]           // recycled plain entries, linked through nextK
	freeW  *entry[C]           // recycled watched entries, linked through nextK
	stats  Stats               // Idle is the number of entries in lru
}

// node is the per-key slot: the key's idle connections, newest first.
type node[C io.Closer] struct {
	head, tail *entry[C]
	n          int
}

// entry kinds.
const (
	kindPlain   uint8 = iota // Put: idle timeout by timer only
	kindWatched              // PutWatched: watcher goroutine reading 1 byte
	kindDone                 // PutWithDone: goroutine waiting on a done channel
)

// entry states; state only changes under Pool.mu.
const (
	stateFree  uint8 = iota // on the free list or not yet used
	stateIdle               // in the pool
	stateTaken              // removed by Get, which owns the connection
	stateGone               // removed and closed (or being closed) by the pool
)

// Reasons a watcher saw its connection end; stored in entry.reason.
const (
	reasonNone uint8 = iota
	reasonExpired
	reasonPeerClosed
	reasonData
)

// entry is one idle connection. Plain entries are recycled through
// Pool.free, and watched entries that Get took through Pool.freeW once
// their watcher ended; other entries with a goroutine are not, as the
// goroutine may still refer to them after they left the pool.
type entry[C io.Closer] struct {
	conn         C
	key          uint64
	node         *node[C]
	prevK, nextK *entry[C] // per-key list; nextK also links the free list
	prevL, nextL *entry[C] // global LRU list
	state        uint8
	kind         uint8
	reason       uint8 // set by the watcher before exited is closed

	deadline time.Duration // plain: when the idle timeout passes, on Pool.now's clock; 0 if none
	timer    *time.Timer   // plain: reused across recycles, never stopped; see expire
	timerAt  time.Duration // plain: when timer fires, on Pool.now's clock; 0 once expire ran

	w      Watchable       // watched: c as a Watchable
	done   <-chan struct{} // kindDone: the owner's closed signal
	stop   chan struct{}   // kindDone: closed when the entry leaves the pool
	exited chan struct{}   // kindDone: closed when the goroutine ends; watched: buffered, sent once per use
	watchF func()          // watched: the watcher, made once per entry so that starting it does not allocate
	buf    [1]byte         // watched: the watcher's read buffer
}

// New returns an empty Pool configured by opts. It fails only if
// opts.Size is negative.
func New[C io.Closer](opts Options[C]) (*Pool[C], error) {
	size := opts.Size
	switch {
	case size < 0:
		return nil, errors.New("pool: negative size")
	case size == 0:
		size = DefaultSize
	}
	p := &Pool[C]{
		size:    size,
		onEvict: opts.OnEvict,
		nodes:   make(map[uint64]*node[C]),
		epoch:   time.Now(),
	}
	p.lru.prevL, p.lru.nextL = &p.lru, &p.lru
	return p, nil
}

// now is the time since New on the monotonic clock: half the cost of
// time.Now, which also reads the wall clock.
func (p *Pool[C]) now() time.Duration { return time.Since(p.epoch) }

// Size returns the most idle connections the pool holds.
func (p *Pool[C]) Size() int { return p.size }

// Len returns the number of idle connections held now.
func (p *Pool[C]) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats.Idle
}

// Stats returns a snapshot of the pool's counters.
func (p *Pool[C]) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Put adds c as an idle connection under key, without watching its reads:
// it stays until a Get takes it, the LRU evicts it, or idleTimeout passes
// (idleTimeout <= 0: no timeout). Use it for connections that cannot be
// read while idle, or that are checked by the caller when they are taken.
// Put never blocks on I/O except to close a connection the LRU evicts.
//
// Put takes ownership of c. It returns ErrClosed, having closed c, if the
// pool is closed.
func (p *Pool[C]) Put(key uint64, c C, idleTimeout time.Duration) error {
	var deadline time.Duration // on p's clock; see now
	if idleTimeout > 0 {
		deadline = p.now() + idleTimeout
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return ErrClosed
	}
	victim := p.makeRoomLocked()
	e := p.free
	if e != nil {
		p.free = e.nextK
		e.nextK = nil
	} else {
		e = &entry[C]{}
	}
	e.conn, e.key, e.kind = c, key, kindPlain
	if deadline > 0 {
		e.deadline = deadline
		switch {
		case e.timer == nil:
			e.timer = time.AfterFunc(idleTimeout, func() { p.expire(e) })
			e.timerAt = deadline
		case e.timerAt == 0 || e.timerAt > deadline:
			e.timer.Reset(idleTimeout)
			e.timerAt = deadline
		}
		// Else the timer fires before deadline and expire re-arms it.
	}
	p.insertLocked(e)
	p.mu.Unlock()
	p.evicted(victim)
	return nil
}

// Get takes an idle connection put under key, the most recently put first,
// and reports whether there was one. A connection whose peer sent data or
// closed it, or whose done channel is closed, is closed and skipped, never
// returned. A connection put with PutWatched is returned with no read
// deadline and every byte its peer sent still unread.
func (p *Pool[C]) Get(key uint64) (C, bool) {
	for {
		p.mu.Lock()
		nd := p.nodes[key]
		if nd == nil || nd.head == nil {
			p.stats.Misses++
			p.mu.Unlock()
			var zero C
			return zero, false
		}
		e := nd.head
		p.unlinkLocked(e)
		e.state = stateTaken
		c := e.conn
		switch e.kind {
		case kindPlain:
			p.stats.Hits++
			p.recycleLocked(e)
			p.mu.Unlock()
			return c, true
		case kindDone:
			close(e.stop)
			select {
			case <-e.done:
				p.countClosedLocked(reasonPeerClosed)
				p.mu.Unlock()
				c.Close()
				continue
			default:
			}
			p.stats.Hits++
			p.mu.Unlock()
			return c, true
		}
		// kindWatched: stop the watcher's read, wait for it to finish, and
		// learn what the read saw.
		p.mu.Unlock()
		if c, ok := p.takeWatched(e); ok {
			return c, true
		}
	}
}

// Drain closes every idle connection and waits for their watchers to end.
// The pool stays usable. OnEvict is not called.
func (p *Pool[C]) Drain() {
	p.drain(false)
}

// Close closes every idle connection, waits for every watcher goroutine
// the pool started to end, and makes later Puts close their connection
// and return ErrClosed; Gets then miss. Close is idempotent. Connections
// already taken by Get are the caller's and are not touched.
func (p *Pool[C]) Close() {
	p.drain(true)
	p.wg.Wait()
	// Stop the idle timers of recycled entries so they do not keep the
	// pool reachable until they fire.
	p.mu.Lock()
	for e := p.free; e != nil; e = e.nextK {
		if e.timer != nil {
			e.timer.Stop()
			e.timerAt = 0
		}
	}
	p.mu.Unlock()
}

func (p *Pool[C]) drain(closing bool) {
	p.mu.Lock()
	if closing {
		p.closed = true
	}
	var gone []*entry[C]
	for e := p.lru.prevL; e != &p.lru; e = p.lru.prevL {
		p.unlinkLocked(e)
		e.state = stateGone
		if e.kind == kindDone {
			close(e.stop)
		}
		gone = append(gone, e)
	}
	clear(p.nodes)
	p.mu.Unlock()
	for _, e := range gone {
		e.conn.Close()
	}
	p.mu.Lock()
	for _, e := range gone {
		if e.kind == kindPlain {
			p.recycleLocked(e)
		}
	}
	p.mu.Unlock()
	for _, e := range gone {
		if e.exited != nil {
			<-e.exited
		}
	}
}

// makeRoomLocked evicts the least recently put entry if the pool is full,
// and returns it (nil if nothing was evicted). The caller closes it with
// evicted after unlocking.
// p.mu must be held.
func (p *Pool[C]) makeRoomLocked() *entry[C] {
	if p.stats.Idle < p.size {
		return nil
	}
	e := p.lru.prevL
	p.unlinkLocked(e)
	e.state = stateGone
	if e.kind == kindDone {
		close(e.stop)
	}
	p.stats.Evictions++
	return e
}

// evicted closes an entry returned by makeRoomLocked and reports it to
// OnEvict. p.mu must not be held.
func (p *Pool[C]) evicted(e *entry[C]) {
	if e == nil {
		return
	}
	c, key := e.conn, e.key
	c.Close() // a watcher blocked in Read wakes up, sees stateGone and exits
	if e.kind == kindPlain {
		p.mu.Lock()
		p.recycleLocked(e)
		p.mu.Unlock()
	}
	if p.onEvict != nil {
		p.onEvict(key, c)
	}
}

// insertLocked links a prepared entry at the head of its key's list and of
// the LRU. The caller has made room.
// p.mu must be held.
func (p *Pool[C]) insertLocked(e *entry[C]) {
	nd := p.nodes[e.key]
	if nd == nil {
		if len(p.nodes) >= 2*p.size+64 {
			p.sweepLocked()
		}
		nd = &node[C]{}
		p.nodes[e.key] = nd
	}
	e.state = stateIdle
	e.node = nd
	e.prevK, e.nextK = nil, nd.head
	if nd.head != nil {
		nd.head.prevK = e
	} else {
		nd.tail = e
	}
	nd.head = e
	nd.n++

	e.prevL, e.nextL = &p.lru, p.lru.nextL
	p.lru.nextL.prevL = e
	p.lru.nextL = e
	p.stats.Idle++
}

// sweepLocked drops the nodes of keys with no idle connection. Empty nodes
// are kept until then so a key cycling between zero and one connection
// costs no allocation; at most 2*size+64 nodes exist, so the sweep is
// amortized O(1).
// p.mu must be held.
func (p *Pool[C]) sweepLocked() {
	for k, nd := range p.nodes {
		if nd.n == 0 {
			delete(p.nodes, k)
		}
	}
}

// unlinkLocked removes an idle entry from its key's list and the LRU and
// stops its idle timer. The caller sets its new state.
// p.mu must be held.
func (p *Pool[C]) unlinkLocked(e *entry[C]) {
	nd := e.node
	if e.prevK != nil {
		e.prevK.nextK = e.nextK
	} else {
		nd.head = e.nextK
	}
	if e.nextK != nil {
		e.nextK.prevK = e.prevK
	} else {
		nd.tail = e.prevK
	}
	nd.n--
	e.prevK, e.nextK, e.node = nil, nil, nil

	e.prevL.nextL = e.nextL
	e.nextL.prevL = e.prevL
	e.prevL, e.nextL = nil, nil
	p.stats.Idle--

	e.deadline = 0 // a pending timer finds no deadline and stops
}

// recycleLocked puts a plain entry that left the pool on the free list.
// p.mu must be held.
func (p *Pool[C]) recycleLocked(e *entry[C]) {
	var zero C
	e.conn = zero
	e.state = stateFree
	e.nextK = p.free
	p.free = e
}

// expire is the idle timer of a plain entry. To keep timer work off the
// hit path, a timer is never stopped when its entry leaves the pool and is
// reset by Put only if it would fire after the new deadline. So a call may
// be early or stale: it closes the connection only if the entry is idle
// and its deadline has passed, re-arms the timer if the deadline is still
// ahead, and otherwise records that no timer is pending (timerAt zero).
// Invariant, under p.mu: an idle entry with a deadline has a timer pending
// at or before it, or a call of expire about to take the lock.
func (p *Pool[C]) expire(e *entry[C]) {
	p.mu.Lock()
	if e.state != stateIdle || e.deadline == 0 {
		e.timerAt = 0
		p.mu.Unlock()
		return
	}
	if d := e.deadline - p.now(); d > 0 {
		e.timer.Reset(d)
		e.timerAt = e.deadline
		p.mu.Unlock()
		return
	}
	e.timerAt = 0
	c := e.conn
	p.unlinkLocked(e)
	e.state = stateGone
	p.countClosedLocked(reasonExpired)
	p.wg.Add(1) // so Close waits for this close; p is not closed, e was idle
	p.mu.Unlock()
	c.Close()
	p.mu.Lock()
	p.recycleLocked(e)
	p.mu.Unlock()
	p.wg.Done()
}
