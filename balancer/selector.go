package balancer

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"

	"github.com/pingora-go/pingora/ketama"
)

// Selector picks backends for keys from one fixed set of backends: the
// slice its [Algorithm] was given. The load balancer builds a new Selector
// whenever discovery changes the set, and calls Next from many goroutines
// at once, so Next must be safe for concurrent use and should neither lock
// nor allocate.
type Selector interface {
	// Next returns the step-th candidate for key as an index into the
	// backends the Selector was built from, or -1 if it has none. Step 0 is
	// the first choice; later steps are the fallbacks tried when earlier
	// candidates are not ready, and may repeat. state is 0 at step 0 and
	// after that the value Next returned at the previous step, so the
	// Selector can carry its position (a ring index, a hash seed) without
	// allocating. Next must not keep key.
	Next(key []byte, step int, state uint64) (index int, next uint64)
}

// Algorithm builds a [Selector] for a set of backends, sorted as described
// on [Backend] and without duplicates. The Selector may keep the slice and
// the *Backend values (they do not change) but must not modify them. When
// discovery changes only Ext values, the load balancer keeps the Selector
// and maps the indices it returns to Backends carrying the new values.
// The load balancer calls it on every change of the set; an error keeps
// the previous set in use.
//
// RoundRobin, Random, FNVHash, Ketama, LeastConnections and
// PowerOfTwoChoices are Algorithms.
type Algorithm func(backends []*Backend) (Selector, error)

var (
	_ Algorithm = RoundRobin
	_ Algorithm = Random
	_ Algorithm = FNVHash
	_ Algorithm = Ketama
	_ Algorithm = LeastConnections
	_ Algorithm = PowerOfTwoChoices
)

// maxRRSequence bounds the length of the smooth round-robin cycle (one
// int32 per entry). Larger total weights are scaled down to fit.
const maxRRSequence = 1 << 18

// maxNginxWork bounds the work of computing the cycle exactly as nginx does
// (cycle length × backends); beyond it an equivalent smooth order is
// computed with a heap.
const maxNginxWork = 1 << 24

// RoundRobin is smooth weighted round robin, as nginx does it: over one
// cycle of the total weight each backend is picked Weight times, spread
// out (weights 5,1,1 give a a b a c a a). The cycle is computed when the
// set changes and walked with one shared atomic counter, so picking takes
// no lock. The key is ignored. Fallback steps start at a random backend and
// go through the list in order, so n steps reach every backend.
//
// Weights are first divided by their greatest common divisor. If they
// still add up to more than 262144, they are scaled down to fit (keeping
// each at least 1), which approximates the ratios.
func RoundRobin(backends []*Backend) (Selector, error) {
	s := &roundRobin{n: len(backends)}
	if len(backends) > 0 {
		s.seq = smoothSequence(weightsOf(backends))
	}
	return s, nil
}

type roundRobin struct {
	n   int
	seq []int32
	_   [64]byte // keep the hot counter off the line holding seq
	ctr atomic.Uint64
	_   [56]byte
}

func (s *roundRobin) Next(_ []byte, step int, state uint64) (int, uint64) {
	if s.n == 0 {
		return -1, 0
	}
	if step == 0 {
		c := s.ctr.Add(1) - 1
		return int(s.seq[c%uint64(len(s.seq))]), 0
	}
	return fallback(s.n, step, state)
}

// fallback is the later steps of most selectors: step 1 starts at a
// random backend, and each further step moves to the next backend in
// order, so n consecutive steps visit all n backends.
func fallback(n, step int, state uint64) (int, uint64) {
	if step == 1 {
		state = rand.Uint64() | 1<<63 // never 0, so a zero state is "unset"
	}
	return int((state + uint64(step-1)) % uint64(n)), state
}

func weightsOf(backends []*Backend) []uint64 {
	ws := make([]uint64, len(backends))
	for i, b := range backends {
		ws[i] = uint64(max(b.Weight, 1))
	}
	return ws
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// smoothSequence returns one cycle of nginx's smooth weighted round robin
// over weights ws (all >= 1).
func smoothSequence(ws []uint64) []int32 {
	g := ws[0]
	for _, w := range ws[1:] {
		g = gcd(g, w)
	}
	var total uint64
	for i := range ws {
		ws[i] /= g
		total += ws[i]
	}
	if total > maxRRSequence {
		// Scale down; each weight keeps at least 1, so the result may
		// exceed the cap by up to len(ws), which is bounded by the caller.
		scaled := uint64(0)
		for i, w := range ws {
			ws[i] = max(1, w*maxRRSequence/total) // w < 2^32: no overflow
			scaled += ws[i]
		}
		total = scaled
	}
	seq := make([]int32, 0, total)
	if total*uint64(len(ws)) <= maxNginxWork {
		// nginx's ngx_http_upstream_get_peer: add every weight to its
		// current weight, pick the largest (first on ties), subtract the
		// total from it.
		cur := make([]int64, len(ws))
		for range total {
			best := 0
			for i, w := range ws {
				cur[i] += int64(w)
				if cur[i] > cur[best] {
					best = i
				}
			}
			cur[best] -= int64(total)
			seq = append(seq, int32(best))
		}
		return seq
	}
	// Stride scheduling: backend i's k-th pick is due at (k+½)/w_i; take
	// picks in order of due time, lower index first on ties. Same counts
	// and the same smoothness as nginx's order, in O(total·log n).
	h := make(strideHeap, len(ws))
	for i, w := range ws {
		h[i] = strideItem{i: int32(i), w: w}
	}
	heap.Init(&h)
	for range total {
		it := &h[0]
		seq = append(seq, it.i)
		it.k++
		if it.k == it.w {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	return seq
}

type strideItem struct {
	i    int32
	k, w uint64
}

type strideHeap []strideItem

func (h strideHeap) Len() int { return len(h) }
func (h strideHeap) Less(a, b int) bool {
	// (2ka+1)/wa < (2kb+1)/wb, cross-multiplied.
	x, y := (2*h[a].k+1)*h[b].w, (2*h[b].k+1)*h[a].w
	if x != y {
		return x < y
	}
	return h[a].i < h[b].i
}
func (h strideHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *strideHeap) Push(x any)   { *h = append(*h, x.(strideItem)) }
func (h *strideHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// cumulative holds prefix sums of weights for weighted picks: the backend
// owning point x in [0, total) is the first i with cum[i] > x. This is the
// same choice as Pingora's expanded list (each index repeated weight times)
// without building it.
type cumulative struct {
	cum   []uint64
	total uint64
}

func newCumulative(backends []*Backend) cumulative {
	c := cumulative{cum: make([]uint64, len(backends))}
	for i, w := range weightsOf(backends) {
		c.total += w
		c.cum[i] = c.total
	}
	return c
}

func (c *cumulative) find(x uint64) int {
	lo, hi := 0, len(c.cum)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// Random is weighted random: each backend is picked with probability
// Weight/total. Fallback steps start at a random backend and go through the
// list in order.
func Random(backends []*Backend) (Selector, error) {
	return &random{cumulative: newCumulative(backends)}, nil
}

type random struct{ cumulative }

func (s *random) Next(_ []byte, step int, state uint64) (int, uint64) {
	if len(s.cum) == 0 {
		return -1, 0
	}
	if step == 0 {
		return s.find(rand.Uint64N(s.total)), 0
	}
	return fallback(len(s.cum), step, state)
}

// FNV-1a, 64-bit.
const (
	fnvOffset uint64 = 0xcbf29ce484222325
	fnvPrime  uint64 = 0x100000001b3
)

func fnv1a(h uint64, p []byte) uint64 {
	for _, c := range p {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// FNVHash picks by the 64-bit FNV-1a hash of the key, weighted: the same
// key gets the same backend while the set is unchanged, the same one
// Pingora's FNVHash picks for the same backends. When the set changes most
// keys move (use Ketama to keep them). Fallback steps start at a backend
// chosen by hashing the hash, as Pingora does, then go through the list in
// order, so they too depend only on the key.
func FNVHash(backends []*Backend) (Selector, error) {
	return &fnvHash{cumulative: newCumulative(backends)}, nil
}

type fnvHash struct{ cumulative }

func (s *fnvHash) Next(key []byte, step int, state uint64) (int, uint64) {
	if len(s.cum) == 0 {
		return -1, 0
	}
	if step == 0 {
		h := fnv1a(fnvOffset, key)
		return s.find(h % s.total), h
	}
	if step == 1 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], state)
		state = fnv1a(fnvOffset, b[:]) | 1<<63
	}
	return int((state + uint64(step-1)) % uint64(len(s.cum))), state
}

// Ketama is consistent hashing with the ketama module: nginx's
// "hash $key consistent" ring with Weight×160 points per backend. When a
// backend joins or leaves, only the keys on its points move. Fallback steps
// walk the ring onwards from the key's point, skipping points of the
// backend just returned: the order nginx tries servers in. Unix socket
// backends are not on the ring and are never picked.
func Ketama(backends []*Backend) (Selector, error) {
	s := &ketamaSel{index: make(map[netip.AddrPort]int32)}
	var buckets []ketama.Bucket
	for i, b := range backends {
		if b.Unix != "" {
			continue
		}
		if _, dup := s.index[b.Addr]; !dup {
			s.index[b.Addr] = int32(i)
		}
		buckets = append(buckets, ketama.Bucket{Addr: b.Addr, Weight: max(b.Weight, 1)})
	}
	if len(buckets) == 0 {
		return s, nil
	}
	ring, err := ketama.New(buckets)
	if err != nil {
		return nil, err
	}
	s.ring = ring
	s.hashes = make([]uint32, 0, ring.Len())
	s.nodes = make([]int32, 0, ring.Len())
	for h, addr := range ring.All() {
		s.hashes = append(s.hashes, h)
		s.nodes = append(s.nodes, s.index[addr])
	}
	return s, nil
}

// ketamaSel answers the first choice with the ring's own indexed lookup,
// and keeps the ring's points in hash order, with the index of the backend
// owning each, so fallback steps can walk on from the key's point.
type ketamaSel struct {
	ring   *ketama.Continuum
	index  map[netip.AddrPort]int32 // address → first backend with it
	hashes []uint32
	nodes  []int32
}

// Next keeps in state the ring position of the last candidate plus one;
// 0 means not yet known (the first choice does not need it).
func (s *ketamaSel) Next(key []byte, step int, state uint64) (int, uint64) {
	n := len(s.hashes)
	if n == 0 {
		return -1, 0
	}
	if step == 0 {
		addr, _ := s.ring.Node(key)
		return int(s.index[addr]), 0
	}
	var i int
	if state == 0 {
		i = s.search(crc32.ChecksumIEEE(key))
	} else {
		i = int(state - 1)
	}
	prev := s.nodes[i]
	for range n {
		if i++; i == n {
			i = 0
		}
		if s.nodes[i] != prev {
			break
		}
	}
	return int(s.nodes[i]), uint64(i) + 1
}

// search returns the position of the first point at or after h, wrapping.
func (s *ketamaSel) search(h uint32) int {
	lo, hi := 0, len(s.hashes)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.hashes[m] >= h {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(s.hashes) {
		lo = 0
	}
	return lo
}

// LeastConnections picks the ready backend with the fewest requests in
// flight relative to its weight (in-flight/Weight), counting requests
// through [LoadBalancer.Acquire] and [LoadBalancer.Release]; Select alone
// does not count. Ties go to the first found from a random start, so idle
// backends share the load. Each pick reads every backend's counter: O(n).
// Fallback steps start at a random backend and go through the list in
// order.
func LeastConnections(backends []*Backend) (Selector, error) {
	return &leastConn{backends: backends}, nil
}

type leastConn struct{ backends []*Backend }

func (s *leastConn) Next(_ []byte, step int, state uint64) (int, uint64) {
	n := len(s.backends)
	if n == 0 {
		return -1, 0
	}
	if step > 0 {
		return fallback(n, step, state)
	}
	start := rand.IntN(n)
	best := -1
	var bestLoad int64
	var bestW uint32
	for j := range n {
		i := start + j
		if i >= n {
			i -= n
		}
		b := s.backends[i]
		if !b.Ready() {
			continue
		}
		load, w := b.InFlight(), max(b.Weight, 1)
		if best < 0 || load*int64(bestW) < bestLoad*int64(w) {
			best, bestLoad, bestW = i, load, w
		}
	}
	if best < 0 {
		best = start
	}
	return best, 0
}

// PowerOfTwoChoices draws two backends at random, weighted, and picks the
// one with fewer requests in flight relative to its weight, preferring a
// ready one: nearly the balance of LeastConnections at O(1) cost. It counts
// requests like LeastConnections. Fallback steps start at a random backend
// and go through the list in order.
func PowerOfTwoChoices(backends []*Backend) (Selector, error) {
	return &p2c{backends: backends, cumulative: newCumulative(backends)}, nil
}

type p2c struct {
	backends []*Backend
	cumulative
}

func (s *p2c) Next(_ []byte, step int, state uint64) (int, uint64) {
	n := len(s.backends)
	if n == 0 {
		return -1, 0
	}
	if step > 0 {
		return fallback(n, step, state)
	}
	i := s.find(rand.Uint64N(s.total))
	if n == 1 {
		return i, 0
	}
	j := s.find(rand.Uint64N(s.total))
	if j == i { // a heavy backend drew twice: compare with any other
		j = (i + 1 + rand.IntN(n-1)) % n
	}
	a, b := s.backends[i], s.backends[j]
	switch ra, rb := a.Ready(), b.Ready(); {
	case ra && !rb:
		return i, 0
	case rb && !ra:
		return j, 0
	}
	if b.InFlight()*int64(max(a.Weight, 1)) < a.InFlight()*int64(max(b.Weight, 1)) {
		return j, 0
	}
	return i, 0
}

// errNoSelector reports an Algorithm that returned neither a Selector nor
// an error.
var errNoSelector = errors.New("balancer: algorithm returned a nil selector")
