package balancer_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/pingora-go/pingora/balancer"
)

var benchSizes = []int{10, 100, 1000}

// benchKeys returns request-path-like keys.
func benchKeys() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "/api/%016x", rng.Uint64())
	}
	return keys
}

// BenchmarkLoadBalancer_Select is Select on one goroutine, every algorithm,
// backends of weights 1, 2 and 3.
func BenchmarkLoadBalancer_Select(b *testing.B) {
	keys := benchKeys()
	for _, a := range algorithms {
		for _, n := range benchSizes {
			b.Run(a.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				lb, _ := newLB(b, balancer.Options{Algorithm: a.alg}, addrs(n, 1, 2, 3)...)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if _, ok := lb.Select(keys[i&(len(keys)-1)]); !ok {
						b.Fatal("no backend")
					}
					i++
				}
			})
		}
	}
}

// BenchmarkLoadBalancer_SelectParallel is Select from GOMAXPROCS
// goroutines at once: the hot path shares only the atomic snapshot
// pointer (and round robin's counter).
func BenchmarkLoadBalancer_SelectParallel(b *testing.B) {
	keys := benchKeys()
	for _, a := range algorithms {
		for _, n := range benchSizes {
			b.Run(a.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				lb, _ := newLB(b, balancer.Options{Algorithm: a.alg}, addrs(n, 1, 2, 3)...)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					i := rand.IntN(len(keys))
					for pb.Next() {
						if _, ok := lb.Select(keys[i&(len(keys)-1)]); !ok {
							b.Error("no backend")
							return
						}
						i++
					}
				})
			})
		}
	}
}

// BenchmarkLoadBalancer_AcquireReleaseParallel is the least-loaded
// algorithms as a proxy uses them: Acquire, then Release.
func BenchmarkLoadBalancer_AcquireReleaseParallel(b *testing.B) {
	for _, a := range algorithms[4:] {
		for _, n := range benchSizes {
			b.Run(a.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				lb, _ := newLB(b, balancer.Options{Algorithm: a.alg}, addrs(n, 1, 2, 3)...)
				b.ReportAllocs()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						be, ok := lb.Acquire(nil)
						if !ok {
							b.Error("no backend")
							return
						}
						lb.Release(be)
					}
				})
			})
		}
	}
}

// BenchmarkLoadBalancer_SelectUnhealthy measures the skipping: half of the
// backends are disabled.
func BenchmarkLoadBalancer_SelectUnhealthy(b *testing.B) {
	keys := benchKeys()
	for _, a := range algorithms {
		b.Run(a.name+"/n=100", func(b *testing.B) {
			bs := addrs(100, 1, 2, 3)
			lb, _ := newLB(b, balancer.Options{Algorithm: a.alg}, bs...)
			for _, be := range bs[:50] {
				lb.SetEnabled(be, false)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				lb.Select(keys[i&(len(keys)-1)])
				i++
			}
		})
	}
}

// BenchmarkBaseline_MutexSmoothRoundRobin is nginx's smooth weighted round
// robin done the direct way, under a mutex: what RoundRobin's precomputed
// cycle and atomic counter replace.
func BenchmarkBaseline_MutexSmoothRoundRobin(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			var mu sync.Mutex
			ws := make([]int64, n)
			cur := make([]int64, n)
			var total int64
			for i := range ws {
				ws[i] = int64(i%3 + 1)
				total += ws[i]
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					mu.Lock()
					best := 0
					for i, w := range ws {
						cur[i] += w
						if cur[i] > cur[best] {
							best = i
						}
					}
					cur[best] -= total
					mu.Unlock()
				}
			})
		})
	}
}

// BenchmarkLoadBalancer_Update is a rebuild after discovery changed the
// set: sort, carry state over, build the selector.
func BenchmarkLoadBalancer_Update(b *testing.B) {
	for _, a := range algorithms {
		for _, n := range benchSizes {
			b.Run(a.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				all := addrs(n+1, 1, 2, 3)
				lb, st := newLB(b, balancer.Options{Algorithm: a.alg}, all...)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					st.Set(all[i%2 : n+i%2]...)
					if err := lb.Update(b.Context()); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}
