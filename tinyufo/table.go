package tinyufo

import "sync/atomic"

// table is an open-addressing hash table with linear probing whose slots are
// atomic pointers: Get reads it without a lock while writers, holding the
// cache's write lock, store into slots and replace the whole table when it
// must grow. A removed slot holds the table's tombstone so that probes go on
// past it.
type table[K comparable, V any] struct {
	slots []atomic.Pointer[entry[K, V]]
	mask  uint64
	tomb  *entry[K, V]
	used  int // slots that are not nil (live entries and tombstones)
	live  int // slots that hold a live entry
}

func newTable[K comparable, V any](capacity int, tomb *entry[K, V]) *table[K, V] {
	size := 8
	for size < 2*capacity {
		size *= 2
	}
	return &table[K, V]{
		slots: make([]atomic.Pointer[entry[K, V]], size),
		mask:  uint64(size - 1),
		tomb:  tomb,
	}
}

// find returns the slot that holds key, or -1.
func (t *table[K, V]) find(h uint64, key K) int {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return -1
		}
		if e != t.tomb && e.key == key {
			return int(i)
		}
	}
}

// insert stores e, whose key is not in t, and reports whether the table is
// now too full and must be rebuilt. The write lock must be held.
func (t *table[K, V]) insert(h uint64, e *entry[K, V]) (full bool) {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i].Load()
		if s == nil || s == t.tomb {
			if s == nil {
				t.used++
			}
			t.live++
			t.slots[i].Store(e)
			return 2*t.used > len(t.slots)
		}
	}
}

// remove tombstones slot i. The write lock must be held.
func (t *table[K, V]) remove(i int) {
	t.slots[i].Store(t.tomb)
	t.live--
}
