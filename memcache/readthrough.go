package memcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrLookup marks errors returned by a Lookup or MultiLookup: RTCache wraps
// them as "memcache: lookup error: <cause>", and errors.Is finds both
// ErrLookup and the cause. Errors are never cached.
var ErrLookup = errors.New("memcache: lookup error")

// Lookup loads a value on a cache miss. The returned ttl says how long to
// cache the value: zero means the ttl given to RTCache.Get, a negative ttl
// means do not cache it, and NoTTL means it never expires.
type Lookup[K comparable, V any] interface {
	Lookup(ctx context.Context, key K) (value V, ttl time.Duration, err error)
}

// LookupFunc adapts a function to Lookup.
type LookupFunc[K comparable, V any] func(ctx context.Context, key K) (V, time.Duration, error)

// Lookup calls f.
func (f LookupFunc[K, V]) Lookup(ctx context.Context, key K) (V, time.Duration, error) {
	return f(ctx, key)
}

// Loaded is one value returned by a MultiLookup, with its ttl as in Lookup.
type Loaded[V any] struct {
	Value V
	TTL   time.Duration
}

// MultiLookup loads many values in one call: exactly one Loaded per key, in
// the order of keys.
type MultiLookup[K comparable, V any] interface {
	MultiLookup(ctx context.Context, keys []K) ([]Loaded[V], error)
}

// MultiLookupFunc adapts a function to MultiLookup.
type MultiLookupFunc[K comparable, V any] func(ctx context.Context, keys []K) ([]Loaded[V], error)

// MultiLookup calls f.
func (f MultiLookupFunc[K, V]) MultiLookup(ctx context.Context, keys []K) ([]Loaded[V], error) {
	return f(ctx, keys)
}

// RTOptions configures an RTCache. The zero value is ready to use.
type RTOptions[K comparable, V any] struct {
	// LockAge is how long a lookup in flight makes other callers of the same
	// key wait for it. Past that age the lock is ignored: callers do their
	// own lookup and do not cache its result. If zero, a lock never ages.
	LockAge time.Duration
	// LockTimeout bounds how long a caller waits for another caller's
	// lookup; then it does its own lookup and does not cache the result.
	// If zero, callers wait until the lookup ends or their context does.
	LockTimeout time.Duration
	// MultiLookup loads the misses of MultiGet in one call. If nil,
	// MultiGet loads them one by one through Get.
	MultiLookup MultiLookup[K, V]
}

// lock is a lookup in flight; done closes when it ends.
type lock struct {
	done    chan struct{}
	started time.Time
}

// RTCache is a read-through cache: on a miss it loads the value with its
// Lookup and caches it. Concurrent misses of one key share one lookup (the
// others wait, then read its result: LockHit), so a cold popular key does
// not stampede the backend. It is safe for concurrent use; the zero value is
// not usable: call NewRT.
type RTCache[K comparable, V any] struct {
	mem    *MemoryCache[K, V]
	lookup Lookup[K, V]
	opts   RTOptions[K, V]

	mu    sync.Mutex
	locks map[K]*lock

	refreshes sync.WaitGroup // background refreshes of GetStaleWhileUpdate
}

// NewRT returns an RTCache of about size entries that loads misses with
// lookup.
func NewRT[K comparable, V any](size int, lookup Lookup[K, V], opts RTOptions[K, V]) *RTCache[K, V] {
	return &RTCache[K, V]{
		mem:    New[K, V](size),
		lookup: lookup,
		opts:   opts,
		locks:  make(map[K]*lock),
	}
}

// Memory returns the cache behind c, to read, fill or invalidate directly.
func (c *RTCache[K, V]) Memory() *MemoryCache[K, V] { return c.mem }

// Get returns the cached value of key (Hit) or loads it (Miss or Expired,
// the state the cache was in). ttl is how long to cache a loaded value
// whose lookup returns a zero ttl.
//
// If another caller is loading the same key, Get waits for it, within
// RTOptions.LockTimeout and ctx, and returns what it cached (LockHit); if
// that lookup failed, Get does its own. A Get whose ctx ends while it waits
// returns ctx's error. Lookup errors are wrapped in ErrLookup and never
// cached.
func (c *RTCache[K, V]) Get(ctx context.Context, key K, ttl time.Duration) (V, Status, error) {
	v, st := c.mem.Get(key)
	if st == Hit {
		return v, Hit, nil
	}
	c.mu.Lock()
	l, held := c.locks[key]
	now := time.Now()
	if !held {
		// A lookup may have filled the key since we looked: the lock it
		// held is gone, but its value is visible now that we hold c.mu.
		if v, got := c.mem.Get(key); got == Hit {
			c.mu.Unlock()
			return v, Hit, nil
		}
		l = &lock{done: make(chan struct{}), started: now}
		c.locks[key] = l
		c.mu.Unlock()
		v, err := c.load(ctx, key, ttl, true, l)
		return v, st, err
	}
	c.mu.Unlock()
	if c.opts.LockAge > 0 && now.Sub(l.started) >= c.opts.LockAge {
		v, err := c.load(ctx, key, ttl, false, nil)
		return v, st, err
	}
	var timeout <-chan time.Time
	if c.opts.LockTimeout > 0 {
		t := time.NewTimer(c.opts.LockTimeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-l.done:
	case <-timeout:
		v, err := c.load(ctx, key, ttl, false, nil)
		return v, st, err
	case <-ctx.Done():
		var zero V
		return zero, st, context.Cause(ctx)
	}
	if v, got := c.mem.Get(key); got == Hit {
		return v, LockHit, nil
	}
	// The lookup we waited for failed (or cached nothing): our own, cached.
	v, err := c.load(ctx, key, ttl, true, nil)
	return v, st, err
}

// load runs the lookup for key and, if store, caches its result. If l is
// not nil it is this caller's lock, released when the lookup ends, panics
// included.
func (c *RTCache[K, V]) load(ctx context.Context, key K, ttl time.Duration, store bool, l *lock) (V, error) {
	if l != nil {
		defer func() {
			c.mu.Lock()
			if c.locks[key] == l {
				delete(c.locks, key)
			}
			c.mu.Unlock()
			close(l.done)
		}()
	}
	v, vttl, err := c.lookup.Lookup(ctx, key)
	if err != nil {
		var zero V
		return zero, fmt.Errorf("%w: %w", ErrLookup, err)
	}
	if store {
		c.mem.forcePut(key, v, pickTTL(vttl, ttl))
	}
	return v, nil
}

// pickTTL applies a lookup's ttl over Get's default.
func pickTTL(lookup, dflt time.Duration) time.Duration {
	if lookup == 0 {
		return dflt
	}
	return lookup
}

// GetStale returns key's cached value, even expired, if it expired at most
// staleTTL ago (status Hit or Stale); otherwise it is Get.
func (c *RTCache[K, V]) GetStale(ctx context.Context, key K, ttl, staleTTL time.Duration) (V, Status, error) {
	if v, st, stale := c.mem.GetStale(key); st == Hit || st == Stale && stale <= staleTTL {
		return v, st, nil
	}
	return c.Get(ctx, key, ttl)
}

// GetStaleWhileUpdate is GetStale that, when it returns a Stale value,
// refreshes the key in the background with Get (unless a lookup of the key
// is already in flight). The refresh keeps ctx's values but not its
// cancellation.
func (c *RTCache[K, V]) GetStaleWhileUpdate(ctx context.Context, key K, ttl, staleTTL time.Duration) (V, Status, error) {
	v, st, err := c.GetStale(ctx, key, ttl, staleTTL)
	if st != Stale {
		return v, st, err
	}
	c.mu.Lock()
	_, busy := c.locks[key]
	c.mu.Unlock()
	if !busy {
		bg := context.WithoutCancel(ctx)
		c.refreshes.Go(func() { _, _, _ = c.Get(bg, key, ttl) }) // the next reader sees the outcome
	}
	return v, st, err
}

// MultiGet returns the values of keys in order: cached ones as Hit, the
// others loaded, with status Miss or Expired, by one call of
// RTOptions.MultiLookup (or by Get per key if it is nil). MultiGet takes no
// per-key locks. If loading fails, MultiGet returns only the error.
func (c *RTCache[K, V]) MultiGet(ctx context.Context, keys []K, ttl time.Duration) ([]V, []Status, error) {
	values, statuses := c.mem.MultiGet(keys)
	var missed []int
	for i, st := range statuses {
		if st != Hit {
			missed = append(missed, i)
		}
	}
	if len(missed) == 0 {
		return values, statuses, nil
	}
	if c.opts.MultiLookup == nil {
		for _, i := range missed {
			v, st, err := c.Get(ctx, keys[i], ttl)
			if err != nil {
				return nil, nil, err
			}
			values[i] = v
			if st == LockHit {
				statuses[i] = LockHit
			}
		}
		return values, statuses, nil
	}
	mk := make([]K, len(missed))
	for j, i := range missed {
		mk[j] = keys[i]
	}
	loaded, err := c.opts.MultiLookup.MultiLookup(ctx, mk)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLookup, err)
	}
	if len(loaded) != len(mk) {
		return nil, nil, fmt.Errorf("%w: multi lookup returned %d values for %d keys", ErrLookup, len(loaded), len(mk))
	}
	for j, i := range missed {
		values[i] = loaded[j].Value
		c.mem.forcePut(keys[i], loaded[j].Value, pickTTL(loaded[j].TTL, ttl))
	}
	return values, statuses, nil
}
