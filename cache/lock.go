package cache

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// LockStatus is what a request waiting on a cache lock learns.
type LockStatus int

// Lock outcomes.
const (
	// LockDone: the writer finished; look the key up again.
	LockDone LockStatus = iota + 1
	// LockGiveUp: the writer will not cache the response; go to the
	// origin without caching (CacheLockGiveUp).
	LockGiveUp
	// LockTimeout: the wait timed out; go to the origin without caching
	// (CacheLockTimeout).
	LockTimeout
	// LockAgeTimeout: the writer held the lock for longer than
	// LockOptions.AgeTimeout; the lock is void and the next request for
	// the key becomes a new writer.
	LockAgeTimeout
	// LockDangling: the writer's WriteLock was garbage collected without
	// Release.
	LockDangling
	// LockCanceled: the waiter's context ended.
	LockCanceled
)

var lockStatusNames = [...]string{"", "Done", "GiveUp", "Timeout", "AgeTimeout", "Dangling", "Canceled"}

// String returns the status name.
func (s LockStatus) String() string {
	if s > 0 && int(s) < len(lockStatusNames) {
		return lockStatusNames[s]
	}
	return "LockStatus(?)"
}

// Lock defaults.
const (
	DefaultLockAgeTimeout  = 5 * time.Second
	DefaultLockWaitTimeout = 5 * time.Second
)

// lockShards is the number of independently locked shards (as in Pingora).
const lockShards = 16

// LockOptions configures a Lock. The zero value is ready to use.
type LockOptions struct {
	// AgeTimeout voids a write lock held this long, so that a writer that
	// hangs or forgets to release cannot block a key forever. If zero,
	// DefaultLockAgeTimeout.
	AgeTimeout time.Duration
	// WaitTimeout bounds how long a reader waits. If zero,
	// DefaultLockWaitTimeout.
	WaitTimeout time.Duration
}

// Lock is a cache lock table (Pingora's CacheLock): it lets one request
// per key (the writer) fetch a missing or stale object from the origin
// while the others for that key wait for it, to protect the origin from
// a stampede. It is safe for concurrent use.
type Lock struct {
	age, wait time.Duration
	shards    [lockShards]lockShard
}

type lockShard struct {
	mu      sync.Mutex
	entries map[Hash]*lockEntry
}

// lockEntry is one key's lock. status is written once, under the shard
// lock, before done is closed.
type lockEntry struct {
	done     chan struct{}
	status   LockStatus
	deadline time.Time // created + age timeout
}

// NewLock returns an empty lock table.
func NewLock(opts LockOptions) *Lock {
	l := &Lock{age: opts.AgeTimeout, wait: opts.WaitTimeout}
	if l.age <= 0 {
		l.age = DefaultLockAgeTimeout
	}
	if l.wait <= 0 {
		l.wait = DefaultLockWaitTimeout
	}
	for i := range l.shards {
		l.shards[i].entries = make(map[Hash]*lockEntry)
	}
	return l
}

// Acquire takes the lock for key. Exactly one of the results is non-nil:
// a WriteLock if no live writer holds the key (the caller fetches from
// the origin, then must Release), else a ReadLock to Wait on.
func (l *Lock) Acquire(key Hash) (*WriteLock, *ReadLock) {
	sh := &l.shards[key[0]%lockShards]
	now := time.Now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.entries[key]; ok {
		if now.Before(e.deadline) {
			return nil, &ReadLock{e: e, wait: l.wait}
		}
		e.finish(LockAgeTimeout) // void; wake its waiters
	}
	e := &lockEntry{done: make(chan struct{}), deadline: now.Add(l.age)}
	sh.entries[key] = e
	w := &WriteLock{l: l, key: key, e: e}
	w.cleanup = runtime.AddCleanup(w, func(a danglingLock) {
		a.l.release(a.key, a.e, LockDangling)
	}, danglingLock{l, key, e})
	return w, nil
}

// Len returns the number of keys with a lock entry (live or void but not
// yet replaced).
func (l *Lock) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.entries)
		sh.mu.Unlock()
	}
	return n
}

// release ends e, if it is still key's entry or has not finished.
func (l *Lock) release(key Hash, e *lockEntry, s LockStatus) {
	sh := &l.shards[key[0]%lockShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.entries[key] == e {
		delete(sh.entries, key)
	}
	e.finish(s)
}

// finish records the outcome once and wakes the waiters. The shard lock
// must be held.
func (e *lockEntry) finish(s LockStatus) {
	if e.status != 0 {
		return
	}
	e.status = s
	close(e.done)
}

type danglingLock struct {
	l   *Lock
	key Hash
	e   *lockEntry
}

// WriteLock is held by the one request fetching a key from the origin.
type WriteLock struct {
	l       *Lock
	key     Hash
	e       *lockEntry
	once    sync.Once
	cleanup runtime.Cleanup
}

// Release ends the lock with s, which should be LockDone (the object is
// stored: waiters look it up again) or LockGiveUp (it will not be:
// waiters go to the origin themselves). Only the first call has effect.
// A WriteLock that is never released voids itself after the age timeout,
// or when garbage collected.
func (w *WriteLock) Release(s LockStatus) {
	w.once.Do(func() {
		w.cleanup.Stop()
		w.l.release(w.key, w.e, s)
	})
}

// ReadLock is held by a request waiting for a writer.
type ReadLock struct {
	e    *lockEntry
	wait time.Duration
}

// Wait blocks until the writer releases, the lock's age or wait timeout
// passes, or ctx ends, and returns which. It starts no goroutine.
func (r *ReadLock) Wait(ctx context.Context) LockStatus {
	select {
	case <-r.e.done:
		return r.e.status
	default:
	}
	d, status := r.wait, LockTimeout
	if untilAge := time.Until(r.e.deadline); untilAge < d {
		d, status = untilAge, LockAgeTimeout
	}
	if d <= 0 {
		return status
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.e.done:
		return r.e.status
	case <-t.C:
		return status
	case <-ctx.Done():
		return LockCanceled
	}
}
