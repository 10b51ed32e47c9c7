package balancer_test

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"testing"

	"github.com/pingora-go/pingora/balancer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRoundRobin_Smooth(t *testing.T) {
	tests := []struct {
		name    string
		weights []uint32
		want    string // one cycle, backends named a, b, c… in address order
	}{
		{"nginx 5 1 1", []uint32{5, 1, 1}, "aabacaa"},
		{"equal", []uint32{1, 1, 1}, "abc"},
		{"common divisor", []uint32{10, 20}, "bab"},
		{"4 2 1", []uint32{4, 2, 1}, "abacaba"},
		{"zero is one", []uint32{0, 1}, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := addrs(len(tt.weights), tt.weights...)
			lb, _ := newLB(t, balancer.Options{}, bs...)
			var got []byte
			for range 2 * len(tt.want) {
				b, ok := lb.Select(nil)
				require.True(t, ok)
				got = append(got, 'a'+b.Addr.Addr().As4()[3])
			}
			assert.Equal(t, tt.want+tt.want, string(got))
		})
	}
}

// TestAlgorithms_Distribution checks that every algorithm gives each
// backend a share of the picks proportional to its weight.
func TestAlgorithms_Distribution(t *testing.T) {
	weights := []uint32{1, 2, 3, 4}
	const total = 10
	tests := []struct {
		name    string
		alg     balancer.Algorithm
		picks   int
		acquire bool    // count in flight and never release: the load-aware algorithms
		tol     float64 // allowed relative error of each share
	}{
		{"RoundRobin", balancer.RoundRobin, 1000, false, 0},
		{"Random", balancer.Random, 100000, false, 0.05},
		{"FNVHash", balancer.FNVHash, 100000, false, 0.05},
		{"Ketama", balancer.Ketama, 100000, false, 0.15},
		{"LeastConnections", balancer.LeastConnections, 1000, true, 0.01},
		{"PowerOfTwoChoices", balancer.PowerOfTwoChoices, 10000, true, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, _ := newLB(t, balancer.Options{Algorithm: tt.alg}, addrs(len(weights), weights...)...)
			counts := map[netip.AddrPort]int{}
			key := make([]byte, 0, 16)
			for i := range tt.picks {
				key = strconv.AppendInt(key[:0], int64(i), 10)
				var b *balancer.Backend
				var ok bool
				if tt.acquire {
					b, ok = lb.Acquire(key)
				} else {
					b, ok = lb.Select(key)
				}
				require.True(t, ok)
				counts[b.Addr]++
			}
			for _, b := range lb.Backends() {
				want := float64(tt.picks) * float64(b.Weight) / total
				got := float64(counts[b.Addr])
				assert.LessOrEqual(t, math.Abs(got-want), want*tt.tol+1, "backend %v weight %d: %v picks, want %v", b.Addr, b.Weight, got, want)
				if tt.acquire {
					h, ok := lb.Health(b)
					require.True(t, ok)
					assert.Equal(t, int64(counts[b.Addr]), h.InFlight)
				}
			}
		})
	}
}

// TestHashes_Stable checks that the hashing algorithms give a key the same
// backend every time, and that Ketama moves only the keys of a removed
// backend.
func TestHashes_Stable(t *testing.T) {
	for _, alg := range []balancer.Algorithm{balancer.FNVHash, balancer.Ketama} {
		lb, _ := newLB(t, balancer.Options{Algorithm: alg}, addrs(10)...)
		for i := range 1000 {
			k := []byte("/path/" + strconv.Itoa(i))
			b, ok := lb.Select(k)
			require.True(t, ok)
			b2, _ := lb.Select(k)
			require.Equal(t, b.Addr, b2.Addr)
		}
	}

	lb, st := newLB(t, balancer.Options{Algorithm: balancer.Ketama}, addrs(10)...)
	before := map[string]netip.AddrPort{}
	for i := range 2000 {
		k := "/k/" + strconv.Itoa(i)
		b, _ := lb.Select([]byte(k))
		before[k] = b.Addr
	}
	gone := addrs(10)[3]
	require.Equal(t, 1, st.Remove(gone))
	require.NoError(t, lb.Update(t.Context()))
	moved := 0
	for k, was := range before {
		b, ok := lb.Select([]byte(k))
		require.True(t, ok)
		if was != gone.Addr {
			assert.Equal(t, was, b.Addr, "key %s moved off a surviving backend", k)
		} else {
			moved++
		}
	}
	assert.Positive(t, moved)
}

// TestFNVHash_MatchesPingora pins FNVHash to Pingora's choice: the index
// FNV-1a(key) mod total weight in the list where each backend appears
// weight times, backends in address order.
func TestFNVHash_MatchesPingora(t *testing.T) {
	bs := addrs(3, 8, 1, 1) // Pingora's doc example: weighted list [0×8, 1, 2]
	lb, _ := newLB(t, balancer.Options{Algorithm: balancer.FNVHash}, bs...)
	expanded := []int{0, 0, 0, 0, 0, 0, 0, 0, 1, 2}
	for i := range 500 {
		key := []byte("key" + strconv.Itoa(i))
		h := uint64(0xcbf29ce484222325)
		for _, c := range key {
			h ^= uint64(c)
			h *= 0x100000001b3
		}
		want := bs[expanded[h%uint64(len(expanded))]].Addr
		b, ok := lb.Select(key)
		require.True(t, ok)
		require.Equal(t, want, b.Addr, "key %s", key)
	}
}

// TestSelect_SkipsNotReady checks that with one ready backend out of n
// (n below MaxIterations) every algorithm finds it for every key.
func TestSelect_SkipsNotReady(t *testing.T) {
	for _, a := range algorithms {
		sizes := []int{2, 10, 200}
		if a.name == "Ketama" { // the ring walk covers nearby points, not all servers
			sizes = []int{2, 10}
		}
		for _, n := range sizes {
			t.Run(fmt.Sprintf("%s/n=%d", a.name, n), func(t *testing.T) {
				bs := addrs(n)
				lb, _ := newLB(t, balancer.Options{Algorithm: a.alg}, bs...)
				keep := bs[n/2]
				for _, b := range bs {
					if b != keep {
						require.True(t, lb.SetEnabled(b, false))
					}
				}
				for i := range 200 {
					b, ok := lb.Select([]byte(strconv.Itoa(i)))
					require.True(t, ok)
					require.Equal(t, keep.Addr, b.Addr)
				}
				require.True(t, lb.SetEnabled(keep, false))
				_, ok := lb.Select([]byte("x"))
				require.False(t, ok)
			})
		}
	}
}

// TestRoundRobin_LargeWeights covers the cycle computed by stride
// scheduling and the scaling of huge weights: shares stay proportional.
func TestRoundRobin_LargeWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights []uint32
		tol     float64
	}{
		{"stride", []uint32{1000, 3000, 999, 7}, 0},
		{"scaled", []uint32{4_000_000_000, 1_000_000_000, 3}, 0.001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 300
			bs := addrs(n, tt.weights...)
			lb, _ := newLB(t, balancer.Options{}, bs...)
			var total float64
			for _, b := range bs {
				total += float64(b.Weight)
			}
			counts := map[netip.AddrPort]int{}
			const picks = 400_000
			for range picks {
				b, _ := lb.Select(nil)
				counts[b.Addr]++
			}
			for _, b := range bs[:len(tt.weights)] {
				want := picks * float64(b.Weight) / total
				assert.InDelta(t, want, counts[b.Addr], want*tt.tol+2, "weight %d", b.Weight)
			}
		})
	}
}

// TestKetama_UnixIgnored checks that Unix socket backends are never on the
// ring.
func TestKetama_UnixIgnored(t *testing.T) {
	bs := []balancer.Backend{{Unix: "/tmp/a.sock"}, addrs(1)[0]}
	lb, _ := newLB(t, balancer.Options{Algorithm: balancer.Ketama}, bs...)
	for i := range 100 {
		b, ok := lb.Select([]byte(strconv.Itoa(i)))
		require.True(t, ok)
		require.Empty(t, b.Unix)
	}
	lb, _ = newLB(t, balancer.Options{Algorithm: balancer.Ketama}, bs[0])
	_, ok := lb.Select([]byte("k"))
	require.False(t, ok)
}

// TestLeastConnections_Release checks that finished requests free their
// backend again.
func TestLeastConnections_Release(t *testing.T) {
	lb, _ := newLB(t, balancer.Options{Algorithm: balancer.LeastConnections}, addrs(2)...)
	a, _ := lb.Acquire(nil)
	b, _ := lb.Acquire(nil)
	require.NotEqual(t, a.Addr, b.Addr)
	lb.Release(a)
	c, _ := lb.Acquire(nil)
	require.Equal(t, a.Addr, c.Addr, "the released backend is the least loaded")
	user := balancer.Backend{Addr: b.Addr} // a user-built copy finds the state too
	lb.Release(&user)
	h, _ := lb.Health(*b)
	require.Zero(t, h.InFlight)
}
