package benchmarks

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/stretchr/testify/assert"

	"github.com/pingora-go/pingora/memcache"
)

const items = 10_000

// loader is the backend both caches read through.
func lookup(_ context.Context, k int) (int, error) { return k * 2, nil }

type readThrough struct {
	get   func(ctx context.Context, k int) (int, error)
	close func()
}

var peers = []struct {
	name string
	new  func(size int, load func(context.Context, int) (int, error)) readThrough
}{
	{"memcache", func(size int, load func(context.Context, int) (int, error)) readThrough {
		c := memcache.NewRT(size, memcache.LookupFunc[int, int](
			func(ctx context.Context, k int) (int, time.Duration, error) {
				v, err := load(ctx, k)
				return v, 0, err
			}), memcache.RTOptions[int, int]{})
		return readThrough{func(ctx context.Context, k int) (int, error) {
			v, _, err := c.Get(ctx, k, time.Hour)
			return v, err
		}, func() {}}
	}},
	{"otter", func(size int, load func(context.Context, int) (int, error)) readThrough {
		c := otter.Must(&otter.Options[int, int]{MaximumSize: size, ExpiryCalculator: otter.ExpiryWriting[int, int](time.Hour)})
		l := otter.LoaderFunc[int, int](load)
		return readThrough{func(ctx context.Context, k int) (int, error) {
			return c.Get(ctx, k, l)
		}, func() { c.StopAllGoroutines() }}
	}},
}

// BenchmarkHit: all Ps read keys that are cached.
func BenchmarkHit(b *testing.B) {
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			c := p.new(items, lookup)
			defer c.close()
			ctx := context.Background()
			for k := range items {
				c.get(ctx, k)
			}
			var seq atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1)) * 7919
				for pb.Next() {
					c.get(ctx, i%items)
					i++
				}
			})
		})
	}
}

// BenchmarkMiss: every Get loads a key never seen, evicting another.
func BenchmarkMiss(b *testing.B) {
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			c := p.new(1000, lookup)
			defer c.close()
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.get(ctx, i)
				i++
			}
		})
	}
}

// BenchmarkStampede: 100 goroutines ask for the same cold key at once; the
// backend takes 10µs. Reports lookups per round beside ns per round.
func BenchmarkStampede(b *testing.B) {
	const callers = 100
	for _, p := range peers {
		b.Run(fmt.Sprintf("%s/callers=%d", p.name, callers), func(b *testing.B) {
			var lookups atomic.Int64
			c := p.new(1000, func(ctx context.Context, k int) (int, error) {
				lookups.Add(1)
				time.Sleep(10 * time.Microsecond)
				return k, nil
			})
			defer c.close()
			ctx := context.Background()
			b.ReportAllocs()
			round := 0
			for b.Loop() {
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() { c.get(ctx, round) })
				}
				wg.Wait()
				round++
			}
			b.ReportMetric(float64(lookups.Load())/float64(round), "lookups/round")
		})
	}
}

// TestPeersAgree checks that both caches return the backend's values.
func TestPeersAgree(t *testing.T) {
	for _, p := range peers {
		c := p.new(100, lookup)
		for k := range 300 {
			v, err := c.get(t.Context(), k%150)
			assert.NoError(t, err)
			assert.Equal(t, 2*(k%150), v, p.name)
		}
		c.close()
	}
}
