package tinyufo_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pingora-go/pingora/tinyufo"
)

// zipfKeys returns m keys in [0, n) drawn with exponent 1.01.
func zipfKeys(n, m int) []uint64 {
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.01, 1, uint64(n-1))
	keys := make([]uint64, m)
	for i := range keys {
		keys[i] = z.Uint64()
	}
	return keys
}

var sizes = []int{1_000, 10_000, 100_000}

// BenchmarkCache_Get reads from all Ps at once a full cache with zipf keys;
// sync.Map is the baseline.
func BenchmarkCache_Get(b *testing.B) {
	for _, n := range sizes {
		keys := zipfKeys(n, 1<<16)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			c := tinyufo.New[uint64, uint64](n, n)
			for k := range uint64(n) {
				c.ForcePut(k, k, 1)
			}
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := seq.Add(1) * 7919
				for pb.Next() {
					c.Get(keys[i&(1<<16-1)])
					i++
				}
			})
		})
		b.Run(fmt.Sprintf("syncmap/n=%d", n), func(b *testing.B) {
			var m sync.Map
			for k := range uint64(n) {
				m.Store(k, k)
			}
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := seq.Add(1) * 7919
				for pb.Next() {
					m.Load(keys[i&(1<<16-1)])
					i++
				}
			})
		})
	}
}

// BenchmarkCache_Put measures get-then-put-on-miss on one goroutine with a
// cache holding a tenth of the keys: the eviction path.
func BenchmarkCache_Put(b *testing.B) {
	for _, n := range sizes {
		keys := zipfKeys(10*n, 1<<16)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			c := tinyufo.New[uint64, uint64](n, n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := keys[i&(1<<16-1)]
				if _, ok := c.Get(k); !ok {
					c.Put(k, k, 1)
				}
				i++
			}
		})
	}
}

// BenchmarkCache_Mixed runs 90% Gets and 10% Puts of present keys from all
// Ps at once.
func BenchmarkCache_Mixed(b *testing.B) {
	const n = 10_000
	keys := zipfKeys(n, 1<<16)
	c := tinyufo.New[uint64, uint64](n, n)
	for k := range uint64(n) {
		c.ForcePut(k, k, 1)
	}
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := seq.Add(1) * 7919
		for pb.Next() {
			k := keys[i&(1<<16-1)]
			if i%10 == 0 {
				c.Put(k, k, 1)
			} else {
				c.Get(k)
			}
			i++
		}
	})
}
