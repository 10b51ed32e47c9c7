// Package sketch is the TinyLFU frequency estimator of tinyufo: a count-min
// sketch of 8-bit saturating counters whose counts are halved periodically so
// that old popularity fades.
//
// A Sketch is not safe for concurrent use; tinyufo calls it with its write
// lock held.
package sketch

import "math"

// Sketch estimates how often a 64-bit key hash was counted recently.
type Sketch struct {
	counters []uint8 // depth rows of width counters, row-major
	width    uint64
	depth    int
	window   int // increments since the last aging
	limit    int // window size: counters are halved when window reaches it
}

// maxDepth caps the rows. Pingora uses ceil(log2 n) rows (17 at 100,000
// keys); past 4 the hit ratio does not move and every Put pays for each row.
const maxDepth = 4

// New returns a Sketch sized for about n distinct keys: width
// max(ceil(e·n), 16) as in Pingora, depth max(ceil(log2 n), 2) capped at 4,
// and counters halved every 32·n increments (Pingora: 8·n; the longer
// memory gains a few tenths of a point of hit ratio on zipf workloads).
func New(n int) *Sketch {
	if n < 1 {
		n = 1
	}
	width := max(int(math.Ceil(math.E*float64(n))), 16)
	depth := min(max(int(math.Ceil(math.Log2(float64(n)))), 2), maxDepth)
	return &Sketch{
		counters: make([]uint8, width*depth),
		width:    uint64(width),
		depth:    depth,
		limit:    32 * n,
	}
}

// Bytes reports the memory held by the counters.
func (s *Sketch) Bytes() int { return len(s.counters) }

// index returns the counter of row r for hash h.
func (s *Sketch) index(h uint64, r int) int {
	x := h + uint64(r+1)*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return r*int(s.width) + int(((x>>32)*s.width)>>32)
}

// Incr counts one occurrence of h and returns its new estimate. Every
// window-limit increments all counters are halved first.
func (s *Sketch) Incr(h uint64) uint8 {
	if s.window >= s.limit {
		s.window = 0
		s.age()
	}
	s.window++
	m := uint8(math.MaxUint8)
	for r := range s.depth {
		i := s.index(h, r)
		c := s.counters[i]
		if c < math.MaxUint8 {
			c++
			s.counters[i] = c
		}
		m = min(m, c)
	}
	return m
}

// Get returns the estimated count of h.
func (s *Sketch) Get(h uint64) uint8 {
	m := uint8(math.MaxUint8)
	for r := range s.depth {
		m = min(m, s.counters[s.index(h, r)])
	}
	return m
}

// age halves every counter.
func (s *Sketch) age() {
	for i, c := range s.counters {
		s.counters[i] = c >> 1
	}
}
