package ketama_test

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/pingora-go/pingora/ketama"
)

var benchSizes = []int{10, 100, 1000}

// benchBuckets returns n servers of weight 1 (160 points each), a mix of
// IPv4 and IPv6 as a real upstream list might be.
func benchBuckets(n int) []ketama.Bucket {
	buckets := make([]ketama.Bucket, n)
	for i := range buckets {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if i%4 == 3 {
			a = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(i >> 8), 15: byte(i)})
		}
		buckets[i] = ketama.Bucket{Addr: netip.AddrPortFrom(a, 443), Weight: 1}
	}
	return buckets
}

// benchKeys returns request-URI-like keys: "/" and 40 hex digits, the shape
// of Pingora's nginx trace.
func benchKeys() [][]byte {
	rng := rand.New(rand.NewPCG(1, 1))
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "/%016x%016x%08x", rng.Uint64(), rng.Uint64(), rng.Uint32())
	}
	return keys
}

func BenchmarkContinuum_Node(b *testing.B) {
	keys := benchKeys()
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			c := mustNew(b, benchBuckets(n)...)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Node(keys[i&(len(keys)-1)])
				i++
			}
		})
	}
}

// BenchmarkBaseline_BinarySearch is the plain lookup New's table replaces:
// CRC-32 and slices.BinarySearch over every point's hash.
func BenchmarkBaseline_BinarySearch(b *testing.B) {
	keys := benchKeys()
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			c := mustNew(b, benchBuckets(n)...)
			var hashes []uint32
			var addrs []netip.AddrPort
			for h, a := range c.All() {
				hashes = append(hashes, h)
				addrs = append(addrs, a)
			}
			b.ReportAllocs()
			i := 0
			var sink netip.AddrPort
			for b.Loop() {
				j, _ := slices.BinarySearch(hashes, crc32.ChecksumIEEE(keys[i&(len(keys)-1)]))
				if j == len(hashes) {
					j = 0
				}
				sink = addrs[j]
				i++
			}
			_ = sink
		})
	}
}

func BenchmarkContinuum_DistinctNodes(b *testing.B) {
	keys := benchKeys()
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n)+"/first3", func(b *testing.B) {
			c := mustNew(b, benchBuckets(n)...)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := 0
				for range c.DistinctNodes(keys[i&(len(keys)-1)]) {
					if k++; k == 3 {
						break
					}
				}
				i++
			}
		})
	}
}

func BenchmarkContinuum_NodeIter(b *testing.B) {
	keys := benchKeys()
	c := mustNew(b, benchBuckets(100)...)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := 0
		for range c.NodeIter(keys[i&(len(keys)-1)]) {
			if k++; k == 3 {
				break
			}
		}
		i++
	}
}

func BenchmarkNew(b *testing.B) {
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			buckets := benchBuckets(n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ketama.New(buckets); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*ketama.PointsPerWeight), "ns/point")
		})
	}
}

// BenchmarkContinuum_Spread maps 100,000 keys onto n equal servers and
// reports the busiest and idlest server's share relative to a fair share
// (1.00 is perfect); the timed loop is the lookup itself.
func BenchmarkContinuum_Spread(b *testing.B) {
	keys := benchKeys()
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			c := mustNew(b, benchBuckets(n)...)
			maxShare, minShare := spread(c, n, 100000)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Node(keys[i&(len(keys)-1)])
				i++
			}
			b.ReportMetric(maxShare, "max/fair")
			b.ReportMetric(minShare, "min/fair")
		})
	}
}

// spread returns the largest and smallest number of keys any of n servers
// got, each divided by keys/n.
func spread(c *ketama.Continuum, n, keys int) (maxShare, minShare float64) {
	count := map[netip.AddrPort]int{}
	var key []byte
	for i := range keys {
		key = strconv.AppendInt(append(key[:0], "/spread/"...), int64(i), 10)
		a, _ := c.Node(key)
		count[a]++
	}
	lo, hi := keys, 0
	for _, v := range count {
		lo, hi = min(lo, v), max(hi, v)
	}
	if len(count) < n {
		lo = 0
	}
	fair := float64(keys) / float64(n)
	return float64(hi) / fair, float64(lo) / fair
}
