package memcache_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingora-go/pingora/memcache"
)

// BenchmarkMemoryCache_Get reads fresh entries from all Ps.
func BenchmarkMemoryCache_Get(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			m := memcache.New[int, int](n)
			for k := range n {
				m.Put(k, k, time.Hour)
			}
			var seq atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1)) * 7919
				for pb.Next() {
					m.Get(i % n)
					i++
				}
			})
		})
	}
}

// BenchmarkRTCache_Get reads through an RTCache whose keys are all cached
// after the first pass.
func BenchmarkRTCache_Get(b *testing.B) {
	const n = 10_000
	c := memcache.NewRT(n, memcache.LookupFunc[int, int](
		func(_ context.Context, k int) (int, time.Duration, error) { return k, 0, nil },
	), memcache.RTOptions[int, int]{})
	ctx := context.Background()
	var seq atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seq.Add(1)) * 7919
		for pb.Next() {
			c.Get(ctx, i%n, time.Hour)
			i++
		}
	})
}

// BenchmarkRTCache_Miss measures the lookup path: every Get misses.
func BenchmarkRTCache_Miss(b *testing.B) {
	c := memcache.NewRT(1000, memcache.LookupFunc[int, int](
		func(_ context.Context, k int) (int, time.Duration, error) { return k, -1, nil }, // not cached
	), memcache.RTOptions[int, int]{})
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Get(ctx, i, time.Hour)
		i++
	}
}
