package benchmarks

import (
	"flag"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
)

var full = flag.Bool("full", false, "run the full hit-ratio table: 10,000 keys, 5,000,000 samples per exponent")

// pingora is TinyUFO's published hit ratio on 10,000 keys at zipf 1.0
// (SPEC §7.4, the README row), by cache size.
var pingora = map[float64]float64{0.005: 0.4526, 0.01: 0.5235, 0.05: 0.6889, 0.1: 0.7598, 0.25: 0.8534}

// TestHitRatio checks that tinyufo beats LRU by a wide margin and matches
// or beats otter (bounded to its size) on a short zipf 1.0 trace. With -full it prints
// Pingora's whole table instead (several minutes).
func TestHitRatio(t *testing.T) {
	if *full {
		Table(os.Stdout, 10_000, 5_000_000, Policies)
		return
	}
	keys := NewZipf(10_000, 1.0, 7).Keys(300_000)
	for _, f := range []float64{0.01, 0.1} {
		size := int(f * 10_000)
		ours := HitRatio(Policies[0], size, keys)
		lru := HitRatio(Policies[1], size, keys)
		otter := HitRatio(Policies[2], size, keys)
		t.Logf("size %.3f: tinyufo %.2f%% lru %.2f%% otter %.2f%% (pingora %.2f%% at 5M samples)",
			f, 100*ours, 100*lru, 100*otter, 100*pingora[f])
		assert.Greater(t, ours, lru+0.05, "size %v", f)
		// otter's own randomness moves it by a few tenths of a point.
		assert.Greater(t, ours, otter-0.005, "size %v", f)
	}
}

func TestZipf(t *testing.T) {
	const n, m = 1000, 200_000
	for _, s := range []float64{0.9, 1.0, 1.5} {
		counts := make([]int, n)
		for _, k := range NewZipf(n, s, 1).Keys(m) {
			counts[k]++
		}
		// P(key 0) / P(key 9) = 10^s.
		ratio := float64(counts[0]) / float64(counts[9])
		assert.InEpsilon(t, math.Pow(10, s), ratio, 0.15, "s=%v", s)
	}
}
