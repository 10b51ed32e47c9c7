package timeout

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Resolution is the granularity of every Manager: deadlines are rounded up
// to the next multiple of it, counted from the Manager's creation, and the
// timers that round to the same multiple share one notification.
const Resolution = 10 * time.Millisecond

const (
	wheelBits = 9 // 512 slots of 10 ms: one turn of the wheel is 5.12 s
	wheelSize = 1 << wheelBits
	wheelMask = wheelSize - 1

	// pruneTicks is how often (1 s) the ticker drops buckets that only
	// canceled contexts were waiting on; it also caps the ticker's sleep.
	pruneTicks = int64(time.Second / Resolution)

	maxStripes = 16
)

// closed is returned for deadlines that have already passed.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// A Manager coalesces timers into buckets of [Resolution]: all timers whose
// deadline rounds up to the same multiple of Resolution, counted from the
// Manager's creation, share one bucket and are notified together by one
// background goroutine. Creating a timer costs a clock read and, in the
// common case that its bucket exists already, two atomic loads; canceling
// one is free (After) or one short critical section (contexts).
//
// Timers never fire before their deadline and fire up to one Resolution
// after it, plus scheduling delay.
//
// The background goroutine starts with the first pending timer and exits
// once none is pending; a Manager needs no Close. A timer is pending until
// its bucket fires, except that a context canceled early stops counting at
// once and its bucket, if no one else waits on it, is dropped within about a
// second. A channel from [Manager.After] counts until its deadline, since
// the Manager cannot know whether anyone still waits on it.
//
// The zero Manager is not usable; call [NewManager]. Most programs use the
// package-level functions, which share one Manager. A Manager is safe for
// concurrent use.
type Manager struct {
	start   time.Time
	stripes uint32 // per-bucket context lists; a power of two

	slots [wheelSize]slot

	pending  atomic.Int64 // buckets not yet fired or retired
	running  atomic.Bool  // a ticker goroutine is (or is about to be) running
	nextWake atomic.Int64 // tick the ticker sleeps until; MaxInt64 when awake or stopped
	wake     chan struct{}

	// Owned by the ticker goroutine; passed from one to the next through
	// the running flag.
	processed int64 // every tick ≤ processed has been handled
	lastPrune int64
	due       []*bucket
}

// slot is one position of the timing wheel: the pending buckets whose tick
// is congruent to the slot's index modulo wheelSize.
type slot struct {
	mu      sync.Mutex
	buckets []*bucket
	through int64                  // every tick ≤ through in this slot has fired; mu
	hot     atomic.Pointer[bucket] // the bucket last found or made here
	n       atomic.Int32           // len(buckets), for readers without mu
	_       [12]byte               // one slot per 64-byte cache line
}

// Bucket states.
const (
	bucketLive    int32 = iota // only contexts may be waiting
	bucketShared               // After handed out ch: it must fire
	bucketFired                // ch is (being) closed
	bucketRetired              // dropped unfired: nobody waited; look again
)

// bucket is the shared notifier of every timer that rounds to tick.
type bucket struct {
	tick    int64
	ch      chan struct{} // closed when the bucket fires
	state   atomic.Int32
	stripes []stripe // the contexts waiting, spread to avoid one hot lock
}

// Stripe states.
const (
	stripeOpen int8 = iota
	stripeFired
	stripeRetired
)

type stripe struct {
	mu    sync.Mutex
	state int8
	ctxs  []*timerCtx // each knows its index here (timerCtx.idx)
}

// NewManager returns a Manager whose clock starts now. It starts no
// goroutine until a timer is created.
func NewManager() *Manager {
	n := uint32(1)
	for n < uint32(runtime.GOMAXPROCS(0)) && n < maxStripes {
		n <<= 1
	}
	m := &Manager{start: time.Now(), stripes: n, wake: make(chan struct{}, 1)}
	m.nextWake.Store(math.MaxInt64)
	return m
}

// since returns the time elapsed since m's start. It reads only the
// monotonic clock, which costs about half of time.Now.
func (m *Manager) since() int64 { return int64(time.Since(m.start)) }

// after returns the deadline d from now, as time since m's start.
func (m *Manager) after(d time.Duration) int64 {
	now := m.since()
	if int64(d) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(d)
}

// tickOf returns the bucket of a deadline at time at since m's start: at
// divided by Resolution and rounded up. A deadline on a multiple stays.
func tickOf(at int64) int64 {
	if at <= 0 {
		return 0
	}
	tick := at / int64(Resolution)
	if at%int64(Resolution) != 0 {
		tick++
	}
	return tick
}

// nowTick returns the last tick boundary that has passed.
func (m *Manager) nowTick() int64 {
	return max(m.since()/int64(Resolution), 0)
}

// bucket returns the unfired bucket for tick, making it if needed, or nil
// when tick has already fired. The result may have fired or been retired
// since; callers check its state.
func (m *Manager) bucket(tick int64) *bucket {
	s := &m.slots[tick&wheelMask]
	if b := s.hot.Load(); b != nil && b.tick == tick {
		return b
	}
	s.mu.Lock()
	if tick <= s.through {
		s.mu.Unlock()
		return nil
	}
	for _, b := range s.buckets {
		if b.tick == tick {
			s.hot.Store(b)
			s.mu.Unlock()
			return b
		}
	}
	b := &bucket{tick: tick, ch: make(chan struct{}), stripes: make([]stripe, m.stripes)}
	s.buckets = append(s.buckets, b)
	s.n.Add(1)
	s.hot.Store(b)
	m.pending.Add(1)
	s.mu.Unlock()
	if tick < m.nextWake.Load() {
		m.kick()
	}
	return b
}

// kick starts the ticker, or wakes it so that it sees a new earliest bucket.
func (m *Manager) kick() {
	if m.running.CompareAndSwap(false, true) {
		go m.run()
		return
	}
	select {
	case m.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// run is the ticker goroutine: it fires due buckets, then sleeps until the
// next one is due (at most a second, to prune), and exits when no bucket is
// pending.
func (m *Manager) run() {
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for {
		// While awake, every new bucket kicks: the wake-up is buffered, so
		// a bucket made after the scan below still ends the sleep.
		m.nextWake.Store(math.MaxInt64)
		now := m.nowTick()
		m.advance(now)
		if now-m.lastPrune >= pruneTicks {
			m.prune(now)
			m.lastPrune = now
		}
		if m.pending.Load() == 0 {
			m.running.Store(false)
			// A bucket made after the check above may have seen running
			// still true and only sent a wake-up: take the job back.
			if m.pending.Load() == 0 || !m.running.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		next := min(m.nextDue(now), now+pruneTicks)
		m.nextWake.Store(next)
		if d := time.Until(m.start.Add(time.Duration(next) * Resolution)); d > 0 {
			tm.Reset(d)
			select {
			case <-tm.C:
			case <-m.wake:
			}
		}
	}
}

// advance fires every bucket whose tick is ≤ now.
func (m *Manager) advance(now int64) {
	if now <= m.processed {
		return
	}
	from := m.processed + 1
	if now-from >= wheelSize {
		from = now - wheelSize + 1 // one full turn visits every slot
	}
	due := m.due[:0]
	for t := from; t <= now; t++ {
		s := &m.slots[t&wheelMask]
		s.mu.Lock()
		s.through = now
		for i := 0; i < len(s.buckets); {
			b := s.buckets[i]
			if b.tick > now {
				i++
				continue
			}
			due = append(due, b)
			s.removeAt(i)
		}
		s.mu.Unlock()
	}
	m.processed = now
	for _, b := range due {
		m.fire(b)
	}
	clear(due)
	m.due = due[:0]
}

// removeAt drops s.buckets[i]. s.mu must be held.
func (s *slot) removeAt(i int) {
	b := s.buckets[i]
	last := len(s.buckets) - 1
	s.buckets[i] = s.buckets[last]
	s.buckets[last] = nil
	s.buckets = s.buckets[:last]
	s.n.Add(-1)
	s.hot.CompareAndSwap(b, nil)
}

// fire closes b's channel and expires the contexts waiting on it.
func (m *Manager) fire(b *bucket) {
	b.state.Store(bucketFired)
	close(b.ch)
	for i := range b.stripes {
		st := &b.stripes[i]
		st.mu.Lock()
		st.state = stripeFired
		ctxs := st.ctxs
		st.ctxs = nil
		st.mu.Unlock()
		for _, c := range ctxs {
			c.cancel(errDeadline, true)
		}
	}
	m.pending.Add(-1)
}

// prune retires the buckets that nobody can be waiting on: no context in
// them and their channel never handed out.
func (m *Manager) prune(now int64) {
	for i := range m.slots {
		s := &m.slots[i]
		if s.n.Load() == 0 {
			continue
		}
		s.mu.Lock()
		for j := 0; j < len(s.buckets); {
			b := s.buckets[j]
			// Clear hot first, so that a caller who finds b retired and
			// looks again cannot find b again.
			s.hot.CompareAndSwap(b, nil)
			if b.tick > now && b.retire() {
				s.removeAt(j)
				m.pending.Add(-1)
				continue
			}
			j++
		}
		s.mu.Unlock()
	}
}

// retire marks b retired if it is live and no context waits on it.
func (b *bucket) retire() bool {
	if b.state.Load() != bucketLive {
		return false
	}
	for i := range b.stripes {
		b.stripes[i].mu.Lock()
	}
	ok := true
	for i := range b.stripes {
		if len(b.stripes[i].ctxs) > 0 {
			ok = false
			break
		}
	}
	ok = ok && b.state.CompareAndSwap(bucketLive, bucketRetired)
	for i := range b.stripes {
		if ok {
			b.stripes[i].state = stripeRetired
		}
		b.stripes[i].mu.Unlock()
	}
	return ok
}

// nextDue returns the earliest pending tick after now, or MaxInt64.
func (m *Manager) nextDue(now int64) int64 {
	best := int64(math.MaxInt64)
	for t := now + 1; t <= now+wheelSize && t < best; t++ {
		s := &m.slots[t&wheelMask]
		if s.n.Load() == 0 {
			continue
		}
		s.mu.Lock()
		for _, b := range s.buckets {
			best = min(best, b.tick)
		}
		s.mu.Unlock()
	}
	return best
}

// After returns a channel that is closed once d has passed: no earlier, and
// at most one Resolution (plus scheduling delay) later. Every call whose
// deadline rounds to the same Resolution boundary gets the same channel.
// There is nothing to stop: a caller that loses interest just stops
// receiving, and the channel costs nothing per caller. A d ≤ 0 gives a
// closed channel.
func (m *Manager) After(d time.Duration) <-chan struct{} {
	if d <= 0 {
		return closed
	}
	tick := tickOf(m.after(d))
	for {
		b := m.bucket(tick)
		if b == nil {
			return closed
		}
		if b.share() {
			return b.ch
		}
	}
}

// share marks b's channel as handed out; false if b was retired.
func (b *bucket) share() bool {
	for {
		switch s := b.state.Load(); s {
		case bucketShared, bucketFired:
			return true
		case bucketRetired:
			return false
		default:
			if b.state.CompareAndSwap(bucketLive, bucketShared) {
				return true
			}
		}
	}
}

// Sleep pauses the calling goroutine for at least d, and at most about one
// Resolution more. A d ≤ 0 returns at once.
func (m *Manager) Sleep(d time.Duration) {
	<-m.After(d)
}

// stripeFor picks the stripe of b a new context joins.
func (m *Manager) stripeFor(b *bucket) *stripe {
	return &b.stripes[rand.Uint32()&(m.stripes-1)]
}
