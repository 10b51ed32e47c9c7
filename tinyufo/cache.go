package tinyufo

import (
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/pingora-go/pingora/tinyufo/internal/fifo"
	"github.com/pingora-go/pingora/tinyufo/internal/sketch"
)

// maxUses caps an entry's use counter, so that the main queue finds a victim
// after at most maxUses passes.
const maxUses = 3

// The admission sketch is sized for sketchFactor × estimatedSize keys, and
// at least minSketchSize: a sketch that remembers more keys, for longer, than
// the cache holds decides admission better. Against Pingora's sizing (×1, no
// floor) it raises the hit ratio on 10,000 zipf keys by about a point at 50
// entries and by 0.1–0.4 points at 1,000–2,500, for about 44 bytes per
// entry (16 KiB at least).
const (
	sketchFactor  = 4
	minSketchSize = 1024
)

// Evicted is an entry that left the cache, or a newcomer that Put did not
// admit.
type Evicted[K comparable, V any] struct {
	Key    K
	Value  V
	Weight uint16
}

// entry is one version of a cached key. key and value never change once the
// entry is published in the table: Put on a present key publishes a new
// version and marks the old one dead. The first version of a key is its
// handle, the element its FIFO queues hold, and fwd points from it to the
// current version.
type entry[K comparable, V any] struct {
	key   K
	value V
	uses  atomic.Uint32 // reads and updates, saturating at maxUses

	// Guarded by Cache.mu.
	dead   bool // removed, evicted or replaced by a newer version
	weight uint16
	main   bool         // in the main queue, else in the small one
	handle *entry[K, V] // the first version (nil: this is it)
	fwd    *entry[K, V] // on a handle: the current version (nil: the handle)
}

// bumpUses adds one use, saturating at maxUses. A lost race loses the
// increment, which only makes the entry slightly less protected.
func (e *entry[K, V]) bumpUses() uint32 {
	u := e.uses.Load()
	if u < maxUses {
		u++
		e.uses.CompareAndSwap(u-1, u)
	}
	return u
}

// Cache is a TinyUFO cache of values of type V by keys of type K, bounded by
// the total weight of its entries. It is safe for concurrent use; the zero
// value is not usable: call New.
type Cache[K comparable, V any] struct {
	tab     atomic.Pointer[table[K, V]]
	seed    maphash.Seed
	intSeed [2]uint64 // for integer keys; intSeed[1] is odd
	// hasher replaces maphash in tests that need fixed hashes.
	hasher func(K) uint64

	mu          sync.Mutex // guards everything below, and every table write
	limit       int
	smallLimit  int
	smallWeight int
	mainWeight  int
	small       fifo.Queue[*entry[K, V]]
	main        fifo.Queue[*entry[K, V]]
	freq        *sketch.Sketch
	tomb        *entry[K, V]
}

// New returns a cache that holds entries of total weight at most weightLimit.
// estimatedSize is the number of entries it is expected to hold (with weight
// 1 per entry, weightLimit): it sizes the frequency sketch and the initial
// hash table. Values below 1 are taken as 1.
func New[K comparable, V any](weightLimit, estimatedSize int) *Cache[K, V] {
	weightLimit = max(weightLimit, 1)
	estimatedSize = max(estimatedSize, 1)
	c := &Cache[K, V]{
		seed:       maphash.MakeSeed(),
		intSeed:    [2]uint64{rand.Uint64(), rand.Uint64() | 1},
		limit:      weightLimit,
		smallLimit: weightLimit/20 + 1,
		freq:       sketch.New(max(sketchFactor*estimatedSize, minSketchSize)),
		tomb:       new(entry[K, V]),
	}
	c.tab.Store(newTable(estimatedSize, c.tomb))
	return c
}

// hash returns key's 64-bit hash under this cache's seed. Integers skip
// maphash.Comparable, which costs several times more than one seeded
// 128-bit multiply (wyhash's mixing step) on the Get path.
func (c *Cache[K, V]) hash(key K) uint64 {
	if c.hasher != nil {
		return c.hasher(key)
	}
	switch k := any(key).(type) {
	case uint64:
		return c.mixInt(k)
	case int:
		return c.mixInt(uint64(k))
	case int64:
		return c.mixInt(uint64(k))
	case uint:
		return c.mixInt(uint64(k))
	case uint32:
		return c.mixInt(uint64(k))
	case int32:
		return c.mixInt(uint64(k))
	case string:
		return maphash.String(c.seed, k)
	}
	return maphash.Comparable(c.seed, key)
}

func (c *Cache[K, V]) mixInt(k uint64) uint64 {
	hi, lo := bits.Mul64(k^c.intSeed[0], c.intSeed[1])
	return hi ^ lo
}

// Get returns the value cached for key. It takes no lock: concurrent Gets
// scale with cores. A hit counts as a use of the entry, which protects it
// from eviction; it does not count in the admission sketch.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	// Writers never change a published entry's key or value, and stop
	// writing to a table once they publish its replacement, so whatever
	// this probe finds is the state at some instant during the call.
	t := c.tab.Load()
	h := c.hash(key)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			break
		}
		if e != t.tomb && e.key == key {
			if e.uses.Load() < maxUses {
				e.bumpUses()
			}
			return e.value, true
		}
	}
	var zero V
	return zero, false
}

// Put caches value under key with the given weight (0 is taken as 1) and
// returns what left the cache to make room.
//
// A key already present gets the new value and weight and keeps its place in
// the queues. A new key is admitted only if it is at least as frequent, by
// the admission sketch, as the entry evicted for it when exactly one entry
// was: otherwise that entry stays and the newcomer itself is returned as
// evicted. An entry heavier than the whole limit is never stored: it is
// returned, with the key's previous entry if there was one.
func (c *Cache[K, V]) Put(key K, value V, weight uint16) []Evicted[K, V] {
	return c.put(key, value, weight, false)
}

// ForcePut is Put without the admission test: the newcomer is always stored
// (unless it is heavier than the whole limit). Pingora uses it where callers
// are waiting for the value to appear; under zipf workloads it costs about
// half a percentage point of hit ratio against Put.
func (c *Cache[K, V]) ForcePut(key K, value V, weight uint16) []Evicted[K, V] {
	return c.put(key, value, weight, true)
}

func (c *Cache[K, V]) put(key K, value V, weight uint16, force bool) []Evicted[K, V] {
	weight = max(weight, 1)
	h := c.hash(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	fNew := c.freq.Incr(h)
	t := c.tab.Load()
	if i := t.find(h, key); i >= 0 {
		old := t.slots[i].Load()
		if int(weight) > c.limit {
			c.unlink(t, i, old)
			return []Evicted[K, V]{
				{Key: key, Value: old.value, Weight: old.weight},
				{Key: key, Value: value, Weight: weight},
			}
		}
		c.replace(t, i, old, value, weight)
		return c.collect(c.evictToLimit(0))
	}
	if int(weight) > c.limit {
		return []Evicted[K, V]{{Key: key, Value: value, Weight: weight}}
	}
	victims := c.evictToLimit(weight)
	if !force && len(victims) == 1 && c.freq.Get(c.hash(victims[0].key)) > fNew {
		// TinyLFU: the victim is more popular; it stays, as a fresh small
		// entry, and the newcomer is the one turned away.
		v := victims[0]
		c.insert(v.key, v.value, v.weight)
		return []Evicted[K, V]{{Key: key, Value: value, Weight: weight}}
	}
	c.insert(key, value, weight)
	return c.collect(victims)
}

// collect turns victims into the Evicted list returned to callers.
func (c *Cache[K, V]) collect(victims []*entry[K, V]) []Evicted[K, V] {
	if len(victims) == 0 {
		return nil
	}
	out := make([]Evicted[K, V], len(victims))
	for i, e := range victims {
		out[i] = Evicted[K, V]{Key: e.key, Value: e.value, Weight: e.weight}
	}
	return out
}

// insert adds a new entry at the tail of the small queue. c.mu must be held.
func (c *Cache[K, V]) insert(key K, value V, weight uint16) {
	e := &entry[K, V]{key: key, value: value, weight: weight}
	t := c.tab.Load()
	if t.insert(c.hash(key), e) {
		c.rebuild(t)
	}
	c.smallWeight += int(weight)
	c.small.Push(e)
}

// replace publishes a new version of the entry in slot i. c.mu must be held.
func (c *Cache[K, V]) replace(t *table[K, V], i int, old *entry[K, V], value V, weight uint16) {
	e := &entry[K, V]{key: old.key, value: value, weight: weight, main: old.main}
	e.uses.Store(old.bumpUses())
	e.handle = old.handle
	if e.handle == nil {
		e.handle = old
	}
	e.handle.fwd = e
	if old.main {
		c.mainWeight += int(weight) - int(old.weight)
	} else {
		c.smallWeight += int(weight) - int(old.weight)
	}
	t.slots[i].Store(e)
	old.dead = true
}

// unlink deletes the entry in slot i and takes its weight off its queue; its
// queue element becomes a tombstone. c.mu must be held.
func (c *Cache[K, V]) unlink(t *table[K, V], i int, e *entry[K, V]) {
	t.remove(i)
	e.dead = true
	if e.main {
		c.mainWeight -= int(e.weight)
	} else {
		c.smallWeight -= int(e.weight)
	}
	// Tombstones leave the queues only when popped: sweep them out when
	// they are most of the queues, so that Put/Remove cycles on a cache that
	// never fills do not grow the queues without bound.
	if n := c.small.Len() + c.main.Len(); n > 64 && n > 2*t.live {
		c.sweep()
	}
}

// rebuild replaces t by a table with room for its live entries, dropping its
// tombstones. Readers still on t see its entries until they finish.
// c.mu must be held.
func (c *Cache[K, V]) rebuild(t *table[K, V]) {
	nt := newTable(t.live+t.live/2+1, c.tomb)
	for i := range t.slots {
		if e := t.slots[i].Load(); e != nil && e != t.tomb {
			nt.insert(c.hash(e.key), e)
		}
	}
	c.tab.Store(nt)
}

// sweep drops tombstones from both queues. c.mu must be held.
func (c *Cache[K, V]) sweep() {
	keep := func(h *entry[K, V]) (*entry[K, V], bool) {
		return h, !current(h).dead
	}
	c.small.Filter(keep)
	c.main.Filter(keep)
}

// current returns the live version of the entry whose handle is h.
func current[K comparable, V any](h *entry[K, V]) *entry[K, V] {
	if h.fwd != nil {
		return h.fwd
	}
	return h
}

// evictToLimit evicts until extra more weight fits under the limit and
// returns the evicted entries. c.mu must be held.
func (c *Cache[K, V]) evictToLimit(extra uint16) []*entry[K, V] {
	var out []*entry[K, V]
	for c.smallWeight+c.mainWeight+int(extra) > c.limit {
		e := c.evictOne()
		if e == nil {
			break
		}
		out = append(out, e)
	}
	return out
}

// evictOne evicts one entry: from the small queue when it holds at least its
// share of the weight, else (or if the small queue only promoted) from the
// main queue. c.mu must be held.
func (c *Cache[K, V]) evictOne() *entry[K, V] {
	if c.smallWeight >= c.smallLimit {
		if e := c.evictSmall(); e != nil {
			return e
		}
	}
	return c.evictMain()
}

// evictSmall pops the small queue, promoting entries used more than once to
// the main queue, until it finds one to evict. c.mu must be held.
func (c *Cache[K, V]) evictSmall() *entry[K, V] {
	for {
		h, ok := c.small.Pop()
		if !ok {
			return nil
		}
		e := current(h)
		if e.dead {
			continue
		}
		c.smallWeight -= int(e.weight)
		if e.uses.Load() > 1 {
			e.main = true
			c.mainWeight += int(e.weight)
			c.main.Push(h)
			continue
		}
		c.drop(e)
		return e
	}
}

// evictMain pops the main queue, giving entries with uses left another pass
// at the tail, until it finds one to evict. c.mu must be held.
func (c *Cache[K, V]) evictMain() *entry[K, V] {
	for {
		h, ok := c.main.Pop()
		if !ok {
			return nil
		}
		e := current(h)
		if e.dead {
			continue
		}
		if decrUses(e) {
			c.main.Push(h)
			continue
		}
		c.mainWeight -= int(e.weight)
		c.drop(e)
		return e
	}
}

// decrUses takes one use off e and reports whether it had any.
func decrUses[K comparable, V any](e *entry[K, V]) bool {
	for {
		u := e.uses.Load()
		if u == 0 {
			return false
		}
		if e.uses.CompareAndSwap(u, u-1) {
			return true
		}
	}
}

// drop deletes an evicted entry, already off its queue, from the table.
// c.mu must be held.
func (c *Cache[K, V]) drop(e *entry[K, V]) {
	t := c.tab.Load()
	if i := t.find(c.hash(e.key), e.key); i >= 0 {
		t.remove(i)
	}
	e.dead = true
}

// Remove deletes key and returns its value, if it was cached.
func (c *Cache[K, V]) Remove(key K) (V, bool) {
	h := c.hash(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	i := t.find(h, key)
	if i < 0 {
		var zero V
		return zero, false
	}
	e := t.slots[i].Load()
	c.unlink(t, i, e)
	return e.value, true
}

// Len returns the number of cached entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tab.Load().live
}

// Weight returns the total weight of the cached entries, which never exceeds
// the weight limit given to New.
func (c *Cache[K, V]) Weight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.smallWeight + c.mainWeight
}
