package memcache

import (
	"math"
	"time"

	"github.com/pingora-go/pingora/tinyufo"
)

// NoTTL, given as a TTL, caches a value that never expires.
const NoTTL = time.Duration(math.MaxInt64)

// item is a cached value and the Unix nanosecond at which it expires
// (never, if zero).
type item[V any] struct {
	value  V
	expire int64
}

// expiredAt reports whether it has expired at now, in Unix nanoseconds.
func (it item[V]) expiredAt(now int64) bool { return it.expire != 0 && it.expire <= now }

// MemoryCache is a TinyUFO cache whose entries expire. It is safe for
// concurrent use; the zero value is not usable: call New.
type MemoryCache[K comparable, V any] struct {
	c *tinyufo.Cache[K, item[V]]
	// The clock is start's wall time plus the monotonic time since: one
	// clock read instead of time.Now's two, and immune to wall-clock steps.
	start      time.Time
	startNanos int64
}

// New returns a MemoryCache that holds about size entries (at least 1).
func New[K comparable, V any](size int) *MemoryCache[K, V] {
	now := time.Now()
	return &MemoryCache[K, V]{c: tinyufo.New[K, item[V]](size, size), start: now, startNanos: now.UnixNano()}
}

// now returns the current time in Unix nanoseconds.
func (m *MemoryCache[K, V]) now() int64 {
	return m.startNanos + int64(time.Since(m.start))
}

// Get returns the value cached for key and Hit, or the zero V and Miss if
// it is absent, or Expired if its TTL has passed.
func (m *MemoryCache[K, V]) Get(key K) (V, Status) { return m.get(key, 0) }

// GetAt is Get with the current time given.
func (m *MemoryCache[K, V]) GetAt(key K, now time.Time) (V, Status) {
	return m.get(key, now.UnixNano())
}

func (m *MemoryCache[K, V]) get(key K, now int64) (V, Status) {
	var zero V
	it, ok := m.c.Get(key)
	if !ok {
		return zero, Miss
	}
	if it.expire != 0 {
		if now == 0 { // read the clock only for values that can expire
			now = m.now()
		}
		if it.expiredAt(now) {
			return zero, Expired
		}
	}
	return it.value, Hit
}

// GetStale is Get, except that an expired value is returned too, with
// status Stale and how long ago it expired.
func (m *MemoryCache[K, V]) GetStale(key K) (V, Status, time.Duration) {
	return m.getStale(key, 0)
}

// GetStaleAt is GetStale with the current time given.
func (m *MemoryCache[K, V]) GetStaleAt(key K, now time.Time) (V, Status, time.Duration) {
	return m.getStale(key, now.UnixNano())
}

func (m *MemoryCache[K, V]) getStale(key K, now int64) (V, Status, time.Duration) {
	it, ok := m.c.Get(key)
	if !ok {
		var zero V
		return zero, Miss, 0
	}
	if it.expire == 0 {
		return it.value, Hit, 0
	}
	if now == 0 {
		now = m.now()
	}
	if it.expiredAt(now) {
		return it.value, Stale, time.Duration(now - it.expire)
	}
	return it.value, Hit, 0
}

// Put caches value under key for ttl: NoTTL never expires, and a ttl of
// zero or less stores nothing. The cache's admission policy may turn a new
// key away in favour of a more popular one.
func (m *MemoryCache[K, V]) Put(key K, value V, ttl time.Duration) {
	if it, ok := newItem(value, ttl, m.now()); ok {
		m.c.Put(key, it, 1)
	}
}

// PutAt is Put with the current time given.
func (m *MemoryCache[K, V]) PutAt(key K, value V, ttl time.Duration, now time.Time) {
	if it, ok := newItem(value, ttl, now.UnixNano()); ok {
		m.c.Put(key, it, 1)
	}
}

// forcePut is Put that skips admission, for values callers wait for.
func (m *MemoryCache[K, V]) forcePut(key K, value V, ttl time.Duration) {
	if it, ok := newItem(value, ttl, m.now()); ok {
		m.c.ForcePut(key, it, 1)
	}
}

func newItem[V any](value V, ttl time.Duration, now int64) (item[V], bool) {
	if ttl <= 0 {
		return item[V]{}, false
	}
	it := item[V]{value: value}
	if ttl != NoTTL {
		it.expire = now + int64(ttl)
		if it.expire < now { // overflow: as good as never
			it.expire = 0
		}
	}
	return it, true
}

// Remove deletes key.
func (m *MemoryCache[K, V]) Remove(key K) { m.c.Remove(key) }

// MultiGet is Get for each of keys, in order.
func (m *MemoryCache[K, V]) MultiGet(keys []K) ([]V, []Status) {
	values, statuses, _ := m.multiGet(keys, false)
	return values, statuses
}

// MultiGetWithMiss is MultiGet that also returns the keys not served fresh
// (Miss or Expired), in order.
func (m *MemoryCache[K, V]) MultiGetWithMiss(keys []K) ([]V, []Status, []K) {
	return m.multiGet(keys, true)
}

func (m *MemoryCache[K, V]) multiGet(keys []K, withMiss bool) ([]V, []Status, []K) {
	values := make([]V, len(keys))
	statuses := make([]Status, len(keys))
	var missed []K
	for i, k := range keys {
		values[i], statuses[i] = m.get(k, 0)
		if withMiss && statuses[i] != Hit {
			missed = append(missed, k)
		}
	}
	return values, statuses, missed
}

// Len returns the number of cached entries, expired ones included.
func (m *MemoryCache[K, V]) Len() int { return m.c.Len() }
