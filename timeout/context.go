package timeout

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The errors a context ends with, as pointers for timerCtx.err.
var (
	errCanceled = &context.Canceled
	errDeadline = &context.DeadlineExceeded
)

// timerCtx is the context.Context of WithDeadline and WithTimeout. It is
// lazy: until someone calls Done or AfterFunc, it holds no timer and does
// not watch its parent; Err consults the clock and the parent instead. Done
// registers it in its bucket, and the bucket's firing cancels it. It is
// kept within 96 bytes because one is allocated per call.
type timerCtx struct {
	parent context.Context
	m      *Manager
	at     int64 // deadline as time since m's start

	err    atomic.Pointer[error] // set once, under mu
	donech chan struct{}         // written once under mu, before armed is set
	armed  atomic.Bool           // Done or AfterFunc was called: donech is set

	noTimer bool // the parent's deadline comes first: no timer of its own
	own     bool // ended by its own deadline; mu

	mu    sync.Mutex
	st    *stripe   // where it waits in its bucket, once armed; mu
	idx   int       // its index in st.ctxs; guarded by st.mu, not mu
	extra *ctxExtra // needed only for a cancelable parent or AfterFunc; mu
}

type ctxExtra struct {
	stopParent func() bool // stops watching the parent
	afters     []*afterFunc
}

type afterFunc struct{ f func() }

var _ context.Context = (*timerCtx)(nil)

// newCtx returns a context of parent ending at, as time since m's start;
// now is the current time since m's start.
func (m *Manager) newCtx(parent context.Context, at, now int64) *timerCtx {
	if parent == nil {
		panic("timeout: cannot create context from nil parent")
	}
	c := &timerCtx{parent: parent, m: m, at: at}
	if cur, ok := parent.Deadline(); ok && int64(cur.Sub(m.start)) < at {
		c.noTimer = true // the parent ends first; as context.WithDeadline
		return c
	}
	if at <= now {
		c.cancel(errDeadline, true)
	}
	return c
}

// withTimeout returns a context of parent ending d from now.
func (m *Manager) withTimeout(parent context.Context, d time.Duration) *timerCtx {
	now := m.since()
	at := now + int64(d)
	if d > 0 && at < now {
		at = math.MaxInt64 // overflow
	}
	return m.newCtx(parent, at, now)
}

// WithDeadline returns a copy of parent that is done when d passes (served
// by m, so up to one Resolution late), when the returned cancel function is
// called, or when parent is done, whichever happens first. It behaves as
// [context.WithDeadline] does — Err is [context.DeadlineExceeded] after the
// deadline and [context.Canceled] after cancel; Deadline reports d, or the
// parent's deadline if earlier; values come from parent — except that Done
// may close up to one Resolution after d. Err is exact: it reports
// DeadlineExceeded as soon as d has passed, and Done is closed then too.
//
// Calling cancel releases the context's resources; call it as soon as the
// work it bounds is done. It panics if parent is nil, as the context
// package does.
func (m *Manager) WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	c := m.newCtx(parent, int64(d.Sub(m.start)), m.since())
	return c, func() { c.cancel(errCanceled, false) }
}

// WithTimeout returns m.WithDeadline(parent, time.Now().Add(d)).
func (m *Manager) WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c := m.withTimeout(parent, d)
	return c, func() { c.cancel(errCanceled, false) }
}

func (c *timerCtx) Deadline() (time.Time, bool) {
	if c.noTimer {
		return c.parent.Deadline()
	}
	// m.start carries a monotonic reading, so the deadline does too.
	return c.m.start.Add(time.Duration(c.at)), true
}

func (c *timerCtx) Value(key any) any { return c.parent.Value(key) }

func (c *timerCtx) Done() <-chan struct{} {
	if c.armed.Load() {
		return c.donech
	}
	if c.err.Load() != nil {
		return closed // ended before anyone asked for Done
	}
	return c.arm()
}

func (c *timerCtx) Err() error {
	if p := c.err.Load(); p != nil {
		return *p
	}
	if err := c.parent.Err(); err != nil {
		c.cancel(&err, false)
	} else if !c.noTimer && c.m.since() >= c.at {
		c.cancel(errDeadline, true)
	} else {
		return nil
	}
	return *c.err.Load()
}

// arm makes the context observable: it joins its bucket and watches its
// parent. It returns the Done channel.
func (c *timerCtx) arm() chan struct{} {
	c.mu.Lock()
	if c.armed.Load() {
		c.mu.Unlock() // armed meanwhile
		return c.donech
	}
	if c.err.Load() != nil {
		c.mu.Unlock() // ended meanwhile
		return closed
	}
	d := make(chan struct{})
	c.donech = d
	c.armed.Store(true)
	var fail *error
	own := false
	pd := c.parent.Done()
	select {
	case <-pd: // a nil pd never ends
		err := c.parent.Err()
		fail = &err
	default:
		if !c.noTimer && !c.join() {
			fail, own = errDeadline, true // its bucket has fired
		} else if pd != nil {
			c.more().stopParent = context.AfterFunc(c.parent, c.parentDone)
		}
	}
	c.mu.Unlock()
	if fail != nil {
		c.cancel(fail, own)
	}
	return d
}

// more returns c.extra, making it. c.mu must be held.
func (c *timerCtx) more() *ctxExtra {
	if c.extra == nil {
		c.extra = new(ctxExtra)
	}
	return c.extra
}

func (c *timerCtx) parentDone() {
	err := c.parent.Err()
	c.cancel(&err, false)
}

// join adds c to its bucket; false if the bucket has fired. c.mu must be
// held.
func (c *timerCtx) join() bool {
	tick := tickOf(c.at)
	for {
		b := c.m.bucket(tick)
		if b == nil {
			return false
		}
		st := c.m.stripeFor(b)
		st.mu.Lock()
		switch st.state {
		case stripeOpen:
			c.idx = len(st.ctxs)
			st.ctxs = append(st.ctxs, c)
			st.mu.Unlock()
			c.st = st
			return true
		case stripeFired:
			st.mu.Unlock()
			return false
		}
		st.mu.Unlock() // retired: the bucket left the wheel; find its successor
	}
}

// leave removes c from st unless st has fired.
func (st *stripe) leave(c *timerCtx) {
	st.mu.Lock()
	if st.state == stripeOpen {
		last := len(st.ctxs) - 1
		moved := st.ctxs[last]
		st.ctxs[c.idx] = moved
		moved.idx = c.idx
		st.ctxs[last] = nil
		st.ctxs = st.ctxs[:last]
	}
	st.mu.Unlock()
}

// cancel ends c with *err, once; own says its deadline passed.
func (c *timerCtx) cancel(err *error, own bool) {
	c.mu.Lock()
	if c.err.Load() != nil {
		c.mu.Unlock()
		return
	}
	c.err.Store(err)
	c.own = own
	if c.armed.Load() {
		close(c.donech) // else Done returns the shared closed channel from now on
	}
	st, extra := c.st, c.extra
	c.st, c.extra = nil, nil
	c.mu.Unlock()
	if st != nil {
		st.leave(c)
	}
	if extra != nil {
		if extra.stopParent != nil {
			extra.stopParent()
		}
		for _, a := range extra.afters {
			go a.f()
		}
	}
}

// expiredOwn reports whether c ended because its own deadline passed.
func (c *timerCtx) expiredOwn() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.own
}

// AfterFunc arranges to call f in its own goroutine once c is done, as
// [context.AfterFunc] does; the context package calls it when a context is
// derived from c, instead of starting a goroutine to watch c. Calling stop
// prevents f from running and returns true, unless f has been started
// already or stopped before.
func (c *timerCtx) AfterFunc(f func()) (stop func() bool) {
	c.Done() // f must run when the deadline passes or the parent ends
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err.Load() != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	x := c.more()
	x.afters = append(x.afters, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.extra != x { // ended: c.extra was taken
			return false
		}
		i := slices.Index(x.afters, a)
		if i < 0 {
			return false
		}
		x.afters = slices.Delete(x.afters, i, i+1)
		return true
	}
}

// String describes the context as the context package does its own.
func (c *timerCtx) String() string {
	parent := fmt.Sprintf("%T", c.parent)
	if s, ok := c.parent.(fmt.Stringer); ok {
		parent = s.String()
	}
	if c.noTimer {
		return parent + ".timeout.WithCancel"
	}
	d, _ := c.Deadline()
	return fmt.Sprintf("%s.timeout.WithDeadline(%s [%s])", parent, d, time.Until(d))
}
