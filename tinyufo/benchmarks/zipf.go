// Package benchmarks compares tinyufo with other Go caches: hit ratio on zipf
// workloads (cmd/hitratio and TestHitRatio), throughput and memory
// (bench_test.go). It is a separate module so that tinyufo itself needs no
// third-party code.
package benchmarks

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Zipf draws keys 0..n-1 with P(k) ∝ 1/(k+1)^s for any s > 0, by inverting
// the cumulative distribution (math/rand's Zipf needs s > 1). Not safe for
// concurrent use.
type Zipf struct {
	cdf []float64
	rng *rand.Rand
}

// NewZipf returns a generator over n keys with exponent s, seeded with seed.
func NewZipf(n int, s float64, seed uint64) *Zipf {
	cdf := make([]float64, n)
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	return &Zipf{cdf: cdf, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Next returns the next key.
func (z *Zipf) Next() uint64 {
	u := z.rng.Float64()
	k := sort.SearchFloat64s(z.cdf, u)
	if k == len(z.cdf) {
		k--
	}
	return uint64(k)
}

// Keys returns m keys drawn from z.
func (z *Zipf) Keys(m int) []uint64 {
	keys := make([]uint64, m)
	for i := range keys {
		keys[i] = z.Next()
	}
	return keys
}
