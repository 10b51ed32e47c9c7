package benchmarks

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/pingora-go/pingora/limits"
)

// keySet returns n distinct keys like "appid-12345", n a power of two, in
// an order that spreads them over memory. Keys are built up front: writing
// a key just before hashing it would measure a store-forwarding stall.
func keySet(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte("appid-" + strconv.Itoa((i*7919)%n))
	}
	return keys
}

var keyCounts = []int{1 << 10, 1 << 20}

// mutexCounter is Pingora's "naive counter": a map under one mutex. Counts
// are boxed so that only a new key allocates (its string and box): an
// assignment m[string(key)] would allocate the string every time.
type mutexCounter struct {
	mu sync.Mutex
	m  map[string]*int64
}

func (c *mutexCounter) incr(key []byte, v int64) int64 {
	c.mu.Lock()
	p := c.m[string(key)] // the lookup does not allocate
	if p == nil {
		p = new(int64)
		c.m[string(key)] = p
	}
	*p += v
	n := *p
	c.mu.Unlock()
	return n
}

// Counting: one increment per key, Estimator (3 hashes × 1024 slots, as in
// Pingora's benchmark) against the mutex map.
func BenchmarkIncr(b *testing.B) {
	for _, n := range keyCounts {
		b.Run(fmt.Sprintf("impl=estimator/n=%d", n), func(b *testing.B) {
			e, err := limits.NewEstimator(3, 1024)
			if err != nil {
				b.Fatal(err)
			}
			keys := keySet(n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				e.IncrBytes(keys[i&(n-1)], 1)
				i++
			}
		})
		b.Run(fmt.Sprintf("impl=mutexmap/n=%d", n), func(b *testing.B) {
			c := &mutexCounter{m: map[string]*int64{}}
			keys := keySet(n)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.incr(keys[i&(n-1)], 1)
				i++
			}
		})
	}
}

func BenchmarkIncrParallel(b *testing.B) {
	for _, n := range keyCounts {
		b.Run(fmt.Sprintf("impl=estimator/n=%d", n), func(b *testing.B) {
			e, err := limits.NewEstimator(3, 1024)
			if err != nil {
				b.Fatal(err)
			}
			keys := keySet(n)
			b.ReportAllocs()
			b.ResetTimer() // RunParallel does not reset it as b.Loop does
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					e.IncrBytes(keys[i&(n-1)], 1)
					i++
				}
			})
		})
		b.Run(fmt.Sprintf("impl=mutexmap/n=%d", n), func(b *testing.B) {
			c := &mutexCounter{m: map[string]*int64{}}
			keys := keySet(n)
			b.ReportAllocs()
			b.ResetTimer() // RunParallel does not reset it as b.Loop does
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					c.incr(keys[i&(n-1)], 1)
					i++
				}
			})
		})
	}
}

// limiterMap is the usual x/time/rate per-key limiter: a token bucket per key
// in a map under a mutex.
type limiterMap struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
	r  rate.Limit
	b  int
}

func (l *limiterMap) allow(key string) bool {
	l.mu.Lock()
	lim, ok := l.m[key]
	if !ok {
		lim = rate.NewLimiter(l.r, l.b)
		l.m[key] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// Rate limiting: the decision "may this key's request go on?" for 1024 keys,
// limit 100/s. limits.Rate counts with Observe; x/time/rate keeps a token
// bucket per key (and one shared bucket, as a floor: no per-key lookup).
func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "appid-" + strconv.Itoa(i)
	}
	const limit = 100
	b.Run("impl=limits.Rate", func(b *testing.B) {
		r, err := limits.NewRate(time.Second, limits.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			_ = r.Observe(keys[i&1023], 1) <= limit
			i++
		}
	})
	b.Run("impl=x-time-rate-map", func(b *testing.B) {
		l := &limiterMap{m: map[string]*rate.Limiter{}, r: limit, b: limit}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l.allow(keys[i&1023])
			i++
		}
	})
	b.Run("impl=x-time-rate-single", func(b *testing.B) {
		lim := rate.NewLimiter(limit, limit)
		b.ReportAllocs()
		for b.Loop() {
			lim.Allow()
		}
	})
}

func BenchmarkAllowParallel(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "appid-" + strconv.Itoa(i)
	}
	const limit = 100
	b.Run("impl=limits.Rate", func(b *testing.B) {
		r, err := limits.NewRate(time.Second, limits.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer() // RunParallel does not reset it as b.Loop does
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_ = r.Observe(keys[i&1023], 1) <= limit
				i++
			}
		})
	})
	b.Run("impl=x-time-rate-map", func(b *testing.B) {
		l := &limiterMap{m: map[string]*rate.Limiter{}, r: limit, b: limit}
		b.ReportAllocs()
		b.ResetTimer() // RunParallel does not reset it as b.Loop does
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				l.allow(keys[i&1023])
				i++
			}
		})
	})
	b.Run("impl=x-time-rate-single", func(b *testing.B) {
		lim := rate.NewLimiter(limit, limit)
		b.ReportAllocs()
		b.ResetTimer() // RunParallel does not reset it as b.Loop does
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				lim.Allow()
			}
		})
	})
}
