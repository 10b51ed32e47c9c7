package tinyufo_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/tinyufo"
)

// identity hashes keep the traces below independent of maphash's seed.
func identity(k int) uint64 { return uint64(k) }

// full5 returns Pingora's trace fixture: limit 5 holding 1 (weight 1), 2 and
// 3 (weight 2 each), all in the small queue.
func full5(t *testing.T) *tinyufo.Cache[int, int] {
	t.Helper()
	c := tinyufo.NewWithHasher[int, int](5, 5, identity)
	for _, kw := range [][2]int{{1, 1}, {2, 2}, {3, 2}} {
		require.Empty(t, c.Put(kw[0], kw[0], uint16(kw[1])))
	}
	for k := 1; k <= 3; k++ {
		require.Equal(t, tinyufo.QueueSmall, c.PeekQueue(k))
	}
	require.Equal(t, 5, c.Weight())
	return c
}

func queues(c *tinyufo.Cache[int, int], keys ...int) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = c.PeekQueue(k)
	}
	return out
}

func values(ev []tinyufo.Evicted[int, int]) []int {
	out := make([]int, len(ev))
	for i, e := range ev {
		out[i] = e.Value
	}
	return out
}

const (
	none  = tinyufo.QueueNone
	small = tinyufo.QueueSmall
	main  = tinyufo.QueueMain
)

// The traces are Pingora's tinyufo unit tests (SPEC §7.3).
func TestCache_Traces(t *testing.T) {
	t.Run("evict from small", func(t *testing.T) {
		c := full5(t)
		ev := c.Put(4, 4, 3)
		assert.Equal(t, []int{1, 2}, values(ev))
		assert.Equal(t, []string{none, none, small, small}, queues(c, 1, 2, 3, 4))
	})
	t.Run("promote from small to main", func(t *testing.T) {
		c := full5(t)
		c.Get(1)
		c.Get(1) // two uses: promoted at the next eviction
		assert.Equal(t, []string{small, small, small}, queues(c, 1, 2, 3))
		ev := c.Put(4, 4, 2)
		require.Len(t, ev, 1)
		assert.Equal(t, uint16(2), ev[0].Weight)
		assert.Equal(t, main, c.PeekQueue(1))
		assert.Equal(t, none, c.PeekQueue(ev[0].Key))
		for _, k := range []int{2, 3, 4} {
			if k != ev[0].Key {
				assert.Equal(t, small, c.PeekQueue(k), "key %d", k)
			}
		}
	})
	t.Run("reentry", func(t *testing.T) {
		c := full5(t)
		assert.Equal(t, []int{1}, values(c.Put(4, 4, 1)))
		assert.Equal(t, []string{none, small, small, small}, queues(c, 1, 2, 3, 4))
		assert.Equal(t, []int{2}, values(c.Put(1, 1, 1)))
		assert.Equal(t, []string{small, none, small, small}, queues(c, 1, 2, 3, 4))
	})
	t.Run("admission rejects the less frequent newcomer", func(t *testing.T) {
		c := full5(t)
		for _, kw := range [][2]int{{1, 1}, {2, 2}, {3, 2}} {
			require.Empty(t, c.Put(kw[0], kw[0], uint16(kw[1]))) // frequency 2 each
		}
		ev := c.Put(4, 4, 1)
		require.Len(t, ev, 1)
		assert.Equal(t, tinyufo.Evicted[int, int]{Key: 4, Value: 4, Weight: 1}, ev[0])
		assert.Equal(t, []string{small, small, small, none}, queues(c, 1, 2, 3, 4))
		v, ok := c.Get(1)
		assert.True(t, ok)
		assert.Equal(t, 1, v)
	})
	t.Run("force put skips admission", func(t *testing.T) {
		c := full5(t)
		for _, kw := range [][2]int{{1, 1}, {2, 2}, {3, 2}} {
			c.Put(kw[0], kw[0], uint16(kw[1]))
		}
		assert.Equal(t, []int{1}, values(c.ForcePut(4, 4, 1)))
		assert.Equal(t, []string{none, small, small, small}, queues(c, 1, 2, 3, 4))
	})
	t.Run("evict from main", func(t *testing.T) {
		c := full5(t)
		for k := 1; k <= 3; k++ {
			c.Get(k)
			c.Get(k)
		}
		assert.Equal(t, []int{1}, values(c.Put(4, 4, 1)))
		assert.Equal(t, []string{none, main, main, small}, queues(c, 1, 2, 3, 4))
		assert.Equal(t, []int{4}, values(c.Put(1, 1, 1)))
		assert.Equal(t, []string{small, main, main, none}, queues(c, 1, 2, 3, 4))
	})
	t.Run("remove", func(t *testing.T) {
		c := full5(t)
		for _, k := range []int{1, 3} {
			v, ok := c.Remove(k)
			assert.True(t, ok)
			assert.Equal(t, k, v)
			_, ok = c.Get(k)
			assert.False(t, ok)
		}
		_, ok := c.Remove(1)
		assert.False(t, ok)
		assert.Equal(t, 2, c.Weight())
		for k := 5; k <= 7; k++ {
			c.Put(k, k, 2)
			assert.LessOrEqual(t, c.Weight(), 5)
			require.NoError(t, c.CheckInvariants())
		}
		for _, k := range []int{1, 3} {
			_, ok := c.Get(k)
			assert.False(t, ok)
		}
	})
}

func TestCache_Put(t *testing.T) {
	tests := []struct {
		name    string
		run     func(c *tinyufo.Cache[int, int]) []tinyufo.Evicted[int, int]
		evicted []tinyufo.Evicted[int, int]
		weight  int
		get     map[int]int // key → value; -1: absent
	}{
		{
			name: "update keeps the queue and changes value and weight",
			run: func(c *tinyufo.Cache[int, int]) []tinyufo.Evicted[int, int] {
				c.Put(1, 10, 1)
				return c.Put(1, 11, 3)
			},
			weight: 3,
			get:    map[int]int{1: 11},
		},
		{
			name: "update that grows past the limit evicts others",
			run: func(c *tinyufo.Cache[int, int]) []tinyufo.Evicted[int, int] {
				c.Put(1, 10, 1)
				c.Put(2, 20, 2)
				c.Put(3, 30, 2)
				return c.Put(3, 31, 4)
			},
			evicted: []tinyufo.Evicted[int, int]{{Key: 1, Value: 10, Weight: 1}, {Key: 2, Value: 20, Weight: 2}},
			weight:  4,
			get:     map[int]int{1: -1, 2: -1, 3: 31},
		},
		{
			name: "heavier than the limit is never stored",
			run: func(c *tinyufo.Cache[int, int]) []tinyufo.Evicted[int, int] {
				c.Put(2, 20, 1)
				return c.Put(1, 10, 6)
			},
			evicted: []tinyufo.Evicted[int, int]{{Key: 1, Value: 10, Weight: 6}},
			weight:  1,
			get:     map[int]int{1: -1, 2: 20},
		},
		{
			name: "update heavier than the limit drops old and new",
			run: func(c *tinyufo.Cache[int, int]) []tinyufo.Evicted[int, int] {
				c.Put(1, 10, 1)
				return c.Put(1, 11, 9)
			},
			evicted: []tinyufo.Evicted[int, int]{{Key: 1, Value: 10, Weight: 1}, {Key: 1, Value: 11, Weight: 9}},
			get:     map[int]int{1: -1},
		},
		{
			name: "weight zero counts as one",
			run: func(c *tinyufo.Cache[int, int]) []tinyufo.Evicted[int, int] {
				return c.Put(1, 10, 0)
			},
			weight: 1,
			get:    map[int]int{1: 10},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tinyufo.NewWithHasher[int, int](5, 5, identity)
			assert.Equal(t, tt.evicted, tt.run(c))
			assert.Equal(t, tt.weight, c.Weight())
			for k, want := range tt.get {
				v, ok := c.Get(k)
				if want < 0 {
					assert.False(t, ok, "key %d", k)
				} else {
					assert.True(t, ok, "key %d", k)
					assert.Equal(t, want, v)
				}
			}
			require.NoError(t, c.CheckInvariants())
		})
	}
}

func TestCache_UsesSaturate(t *testing.T) {
	c := tinyufo.New[string, int](10, 10)
	c.Put("a", 1, 1)
	assert.Equal(t, 0, c.Uses("a"))
	c.Get("a")
	assert.Equal(t, 1, c.Uses("a"))
	for range 10 {
		c.Get("a")
	}
	assert.Equal(t, 3, c.Uses("a"))
	c.Put("a", 2, 1)
	assert.Equal(t, 3, c.Uses("a"))
}

// TestCache_Model replays random operations against a map: the cache must
// hold exactly what Put stored minus what it reported evicted, and never more
// weight than its limit.
func TestCache_Model(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 0))
			limit := 1 + r.IntN(40)
			c := tinyufo.New[int, int](limit, limit)
			model := map[int]int{}
			const keys = 64
			for op := range 5000 {
				k := r.IntN(keys)
				switch n := r.IntN(10); {
				case n < 4:
					v, ok := c.Get(k)
					mv, mok := model[k]
					require.Equal(t, mok, ok, "op %d get %d", op, k)
					require.Equal(t, mv, v)
				case n < 9:
					w := uint16(1 + r.IntN(4))
					if r.IntN(50) == 0 {
						w = uint16(limit + 1)
					}
					var ev []tinyufo.Evicted[int, int]
					if n == 8 {
						ev = c.ForcePut(k, op, w)
					} else {
						ev = c.Put(k, op, w)
					}
					model[k] = op
					for _, e := range ev {
						if mv, ok := model[e.Key]; ok && mv == e.Value {
							delete(model, e.Key)
						}
					}
				default:
					v, ok := c.Remove(k)
					mv, mok := model[k]
					require.Equal(t, mok, ok, "op %d remove %d", op, k)
					require.Equal(t, mv, v)
					delete(model, k)
				}
				require.LessOrEqual(t, c.Weight(), limit)
				if op%97 == 0 {
					require.NoError(t, c.CheckInvariants(), "op %d", op)
				}
			}
			require.Equal(t, len(model), c.Len())
			require.NoError(t, c.CheckInvariants())
		})
	}
}

// TestCache_RemoveBoundsQueues checks that tombstones left by Remove do not
// pile up in a cache that never fills.
func TestCache_RemoveBoundsQueues(t *testing.T) {
	c := tinyufo.New[int, int](1000, 1000)
	for i := range 100_000 {
		c.Put(i, i, 1)
		c.Remove(i)
	}
	assert.Equal(t, 0, c.Len())
	assert.LessOrEqual(t, c.QueueLen(), 200)
	require.NoError(t, c.CheckInvariants())
}

// TestCache_Grow fills a cache far beyond its estimated size, so that its
// table is rebuilt while other goroutines read.
func TestCache_Grow(t *testing.T) {
	c := tinyufo.New[int, int](10_000, 4)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for k := range 100 {
					if v, ok := c.Get(k); ok && v != k {
						t.Errorf("Get(%d) = %d", k, v)
						return
					}
				}
			}
		})
	}
	for k := range 10_000 {
		require.Empty(t, c.ForcePut(k, k, 1))
	}
	close(stop)
	wg.Wait()
	for k := range 10_000 {
		v, ok := c.Get(k)
		require.True(t, ok, "key %d", k)
		require.Equal(t, k, v)
	}
	require.NoError(t, c.CheckInvariants())
}

func TestCache_ConcurrentSafe(t *testing.T) {
	const limit = 100
	c := tinyufo.New[int, int](limit, limit)
	workers := 2 * runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range 5000 {
				k := r.IntN(300)
				switch r.IntN(10) {
				case 0:
					c.Remove(k)
				case 1, 2:
					c.Put(k, k, uint16(1+r.IntN(3)))
				case 3:
					c.ForcePut(k, k, 1)
				default:
					if v, ok := c.Get(k); ok && v != k {
						t.Errorf("Get(%d) = %d", k, v)
					}
				}
				if c.Weight() > limit {
					t.Errorf("weight %d over %d", c.Weight(), limit)
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, c.CheckInvariants())
}

func TestNew_Clamps(t *testing.T) {
	c := tinyufo.New[int, int](0, -1)
	assert.Empty(t, c.Put(1, 1, 1))
	assert.Len(t, c.Put(2, 2, 2), 1) // heavier than the limit of 1
	v, ok := c.Get(1)
	assert.True(t, ok)
	assert.Equal(t, 1, v)
}
