package tinyufo

import (
	"fmt"

	"github.com/pingora-go/pingora/tinyufo/internal/fifo"
)

type queueView[K comparable, V any] struct{ q *fifo.Queue[*entry[K, V]] }

// Queue names what PeekQueue reports.
const (
	QueueNone  = "none"
	QueueSmall = "small"
	QueueMain  = "main"
)

// NewWithHasher is New with a fixed hash function, for deterministic traces.
func NewWithHasher[K comparable, V any](weightLimit, estimatedSize int, hash func(K) uint64) *Cache[K, V] {
	c := New[K, V](weightLimit, estimatedSize)
	c.hasher = hash
	return c
}

// PeekQueue reports which queue holds key.
func (c *Cache[K, V]) PeekQueue(key K) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	i := t.find(c.hash(key), key)
	if i < 0 {
		return QueueNone
	}
	if t.slots[i].Load().main {
		return QueueMain
	}
	return QueueSmall
}

// Uses returns key's use counter, or -1 if it is absent.
func (c *Cache[K, V]) Uses(key K) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	i := t.find(c.hash(key), key)
	if i < 0 {
		return -1
	}
	return int(t.slots[i].Load().uses.Load())
}

// QueueLen returns the number of elements, tombstones included, in both
// queues.
func (c *Cache[K, V]) QueueLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.small.Len() + c.main.Len()
}

// CheckInvariants verifies the weight totals against the table, that every
// live entry sits exactly once in the queue its flag names, and that the
// total is within the limit.
func (c *Cache[K, V]) CheckInvariants() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	small, main, live := 0, 0, 0
	for i := range t.slots {
		e := t.slots[i].Load()
		if e == nil || e == t.tomb {
			continue
		}
		live++
		if e.dead {
			return fmt.Errorf("dead entry %v in the table", e.key)
		}
		if t.find(c.hash(e.key), e.key) != i {
			return fmt.Errorf("entry %v not found at its slot", e.key)
		}
		if e.main {
			main += int(e.weight)
		} else {
			small += int(e.weight)
		}
	}
	if live != t.live {
		return fmt.Errorf("live = %d, counted %d", t.live, live)
	}
	if small != c.smallWeight || main != c.mainWeight {
		return fmt.Errorf("weights small %d main %d, counted %d %d", c.smallWeight, c.mainWeight, small, main)
	}
	if small+main > c.limit {
		return fmt.Errorf("weight %d over limit %d", small+main, c.limit)
	}
	seen := map[*entry[K, V]]bool{}
	for q, isMain := range map[*queueView[K, V]]bool{{&c.small}: false, {&c.main}: true} {
		for range q.q.Len() {
			h, _ := q.q.Pop()
			q.q.Push(h)
			e := current(h)
			if e.dead {
				continue
			}
			if seen[e] {
				return fmt.Errorf("entry %v queued twice", e.key)
			}
			seen[e] = true
			if e.main != isMain {
				return fmt.Errorf("entry %v in the wrong queue", e.key)
			}
		}
	}
	if len(seen) != live {
		return fmt.Errorf("%d live entries, %d queued", live, len(seen))
	}
	return nil
}
