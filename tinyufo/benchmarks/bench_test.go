package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Yiling-J/theine-go"
	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"
	"github.com/stretchr/testify/assert"

	"github.com/pingora-go/pingora/tinyufo"
)

// kv is the interface the throughput benchmarks drive.
type kv struct {
	get   func(uint64) (uint64, bool)
	set   func(uint64, uint64)
	close func()
}

// peers builds each cache with room for n entries.
var peers = []struct {
	name string
	new  func(n int) kv
}{
	{"tinyufo", func(n int) kv {
		c := tinyufo.New[uint64, uint64](n, n)
		return kv{c.Get, func(k, v uint64) { c.Put(k, v, 1) }, func() {}}
	}},
	{"lru", func(n int) kv {
		c, _ := lru.New[uint64, uint64](n)
		return kv{c.Get, func(k, v uint64) { c.Add(k, v) }, func() {}}
	}},
	{"otter", func(n int) kv {
		c := otter.Must(&otter.Options[uint64, uint64]{MaximumSize: n})
		return kv{c.GetIfPresent, func(k, v uint64) { c.Set(k, v) }, func() { c.StopAllGoroutines() }}
	}},
	{"ristretto", func(n int) kv {
		c, err := ristretto.NewCache(&ristretto.Config[uint64, uint64]{
			NumCounters: int64(10 * n), MaxCost: int64(n), BufferItems: 64, IgnoreInternalCost: true,
		})
		if err != nil {
			panic(err)
		}
		return kv{c.Get, func(k, v uint64) { c.Set(k, v, 1); c.Wait() }, c.Close}
	}},
	{"theine", func(n int) kv {
		c, err := theine.NewBuilder[uint64, uint64](int64(n)).Build()
		if err != nil {
			panic(err)
		}
		return kv{c.Get, func(k, v uint64) { c.Set(k, v, 1) }, c.Close}
	}},
}

const (
	benchItems = 10_000
	keyMask    = 1<<16 - 1
)

// benchKeys are zipf(1.01) draws over benchItems keys.
var benchKeys = func() []uint64 {
	z := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.01, 1, benchItems-1)
	keys := make([]uint64, keyMask+1)
	for i := range keys {
		keys[i] = z.Uint64()
	}
	return keys
}()

func filled(new func(int) kv) kv {
	c := new(benchItems)
	for k := range uint64(benchItems) {
		c.set(k, k)
	}
	return c
}

// BenchmarkRead: every P reads zipf keys from a cache that holds them all.
func BenchmarkRead(b *testing.B) {
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			c := filled(p.new)
			defer c.close()
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := seq.Add(1) * 7919
				for pb.Next() {
					c.get(benchKeys[i&keyMask])
					i++
				}
			})
		})
	}
}

// BenchmarkReadWrite: every P does 90% reads and 10% writes of zipf keys.
func BenchmarkReadWrite(b *testing.B) {
	for _, p := range peers {
		b.Run(p.name, func(b *testing.B) {
			c := filled(p.new)
			defer c.close()
			var seq atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := seq.Add(1) * 7919
				for pb.Next() {
					k := benchKeys[i&keyMask]
					if i%10 == 0 {
						c.set(k, i)
					} else {
						c.get(k)
					}
					i++
				}
			})
		})
	}
}

// pingoraBytes is TinyUFO's memory per cache size (SPEC §7.4).
var pingoraBytes = map[int]int{100: 37_337, 1_000: 236_053, 10_000: 2_290_635}

// heapBytes returns the live heap after a full collection.
func heapBytes() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestMemoryPerEntry prints bytes per entry of each cache filled with n
// zero-sized values, and checks that tinyufo uses less than Pingora's.
func TestMemoryPerEntry(t *testing.T) {
	for _, n := range []int{100, 1_000, 10_000, 100_000} {
		line := fmt.Sprintf("n=%d", n)
		for _, p := range peers {
			if testing.Short() && p.name != "tinyufo" {
				continue
			}
			reps := max(1, 100_000/n) // amortize the measurement noise
			caches := make([]kv, reps)
			time.Sleep(10 * time.Millisecond) // let closed caches' goroutines end
			heapBytes()
			before := heapBytes()
			for r := range caches {
				c := p.new(n)
				for k := range uint64(n) {
					c.set(k, k)
				}
				caches[r] = c
			}
			time.Sleep(time.Millisecond) // let async caches settle
			per := (float64(heapBytes()) - float64(before)) / float64(reps*n)
			for _, c := range caches {
				c.close()
			}
			line += fmt.Sprintf("  %s %.0f B", p.name, per)
			if p.name == "tinyufo" && pingoraBytes[n] > 0 {
				ping := float64(pingoraBytes[n]) / float64(n)
				line += fmt.Sprintf(" (pingora %.0f B)", ping)
				assert.Less(t, per, ping, "n=%d", n)
			}
		}
		t.Log(line)
	}
}
