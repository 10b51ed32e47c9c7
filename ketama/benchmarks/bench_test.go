package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"testing"

	"github.com/golang/groupcache/consistenthash"

	"github.com/pingora-go/pingora/ketama"
)

var sizes = []int{10, 100, 1000}

// servers returns n addresses, a mix of IPv4 and IPv6.
func servers(n int) []netip.AddrPort {
	out := make([]netip.AddrPort, n)
	for i := range out {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if i%4 == 3 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		}
		out[i] = netip.AddrPortFrom(a, 443)
	}
	return out
}

func newKetama(tb testing.TB, addrs []netip.AddrPort) *ketama.Continuum {
	buckets := make([]ketama.Bucket, len(addrs))
	for i, a := range addrs {
		buckets[i] = ketama.Bucket{Addr: a, Weight: 1}
	}
	c, err := ketama.New(buckets)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// newGroupcache builds groupcache's ring with the same 160 points per
// server and its default hash, CRC-32/IEEE.
func newGroupcache(addrs []netip.AddrPort) *consistenthash.Map {
	m := consistenthash.New(ketama.PointsPerWeight, nil)
	names := make([]string, len(addrs))
	for i, a := range addrs {
		names[i] = a.String()
	}
	m.Add(names...)
	return m
}

// keys returns request-URI-like keys, as bytes for ketama and as strings
// for groupcache (whose API takes strings), so neither pays a conversion.
func keys() ([][]byte, []string) {
	rng := rand.New(rand.NewPCG(1, 1))
	b := make([][]byte, 4096)
	s := make([]string, len(b))
	for i := range b {
		s[i] = fmt.Sprintf("/%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32())
		b[i] = []byte(s[i])
	}
	return b, s
}

// BenchmarkLookup: one key to one server.
func BenchmarkLookup(b *testing.B) {
	kb, ks := keys()
	for _, n := range sizes {
		addrs := servers(n)
		b.Run("lib=ketama/n="+strconv.Itoa(n), func(b *testing.B) {
			c := newKetama(b, addrs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Node(kb[i&(len(kb)-1)])
				i++
			}
		})
		b.Run("lib=groupcache/n="+strconv.Itoa(n), func(b *testing.B) {
			m := newGroupcache(addrs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Get(ks[i&(len(ks)-1)])
				i++
			}
		})
	}
}

// BenchmarkBuild: the whole ring from a server list.
func BenchmarkBuild(b *testing.B) {
	for _, n := range sizes {
		addrs := servers(n)
		b.Run("lib=ketama/n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newKetama(b, addrs)
			}
		})
		b.Run("lib=groupcache/n="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				newGroupcache(addrs)
			}
		})
	}
}

// BenchmarkSpread maps 100,000 keys onto n equal servers and reports the
// busiest and idlest server's load relative to a fair share (1.00 is
// perfect). The timed loop is a lookup, so the figures sit beside it.
func BenchmarkSpread(b *testing.B) {
	const total = 100000
	kb, ks := keys()
	for _, n := range sizes {
		addrs := servers(n)
		b.Run("lib=ketama/n="+strconv.Itoa(n), func(b *testing.B) {
			c := newKetama(b, addrs)
			count := map[string]int{}
			for i := range total {
				a, _ := c.Node([]byte("/spread/" + strconv.Itoa(i)))
				count[a.String()]++
			}
			i := 0
			for b.Loop() {
				c.Node(kb[i&(len(kb)-1)])
				i++
			}
			report(b, count, n, total)
		})
		b.Run("lib=groupcache/n="+strconv.Itoa(n), func(b *testing.B) {
			m := newGroupcache(addrs)
			count := map[string]int{}
			for i := range total {
				count[m.Get("/spread/"+strconv.Itoa(i))]++
			}
			i := 0
			for b.Loop() {
				m.Get(ks[i&(len(ks)-1)])
				i++
			}
			report(b, count, n, total)
		})
	}
}

func report(b *testing.B, count map[string]int, n, total int) {
	lo, hi := total, 0
	for _, v := range count {
		lo, hi = min(lo, v), max(hi, v)
	}
	if len(count) < n {
		lo = 0
	}
	fair := float64(total) / float64(n)
	b.ReportMetric(float64(hi)/fair, "max/fair")
	b.ReportMetric(float64(lo)/fair, "min/fair")
}
