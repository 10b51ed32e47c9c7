package ketama_test

import (
	"cmp"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/ketama"
)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func mustNew(t testing.TB, buckets ...ketama.Bucket) *ketama.Continuum {
	t.Helper()
	c, err := ketama.New(buckets)
	require.NoError(t, err)
	return c
}

func node(t testing.TB, c *ketama.Continuum, key string) netip.AddrPort {
	t.Helper()
	a, ok := c.Node([]byte(key))
	require.True(t, ok)
	return a
}

func take(seq func(func(netip.AddrPort) bool), n int) []netip.AddrPort {
	var out []netip.AddrPort
	for a := range seq {
		if len(out) == n {
			break
		}
		out = append(out, a)
	}
	return out
}

// forgeKey returns prefix followed by 32 letters from d–g chosen so the
// key's CRC-32 is exactly want. CRC-32 is affine over GF(2), so flipping
// bit 0 or 1 of a letter XORs a fixed delta into the checksum; Gaussian
// elimination over those 64 deltas picks the flips that reach want.
func forgeKey(t testing.TB, prefix string, want uint32) []byte {
	t.Helper()
	const letters = 32
	msg := []byte(prefix)
	for range letters {
		msg = append(msg, 'd')
	}
	c0 := crc32.ChecksumIEEE(msg)
	type vec struct {
		delta uint32
		flips uint64
	}
	var basis [32]vec
	for j := range 2 * letters {
		m := slices.Clone(msg)
		m[len(prefix)+j/2] ^= 1 << (j % 2)
		v := vec{crc32.ChecksumIEEE(m) ^ c0, 1 << j}
		for b := 31; b >= 0 && v.delta != 0; b-- {
			if v.delta>>b&1 == 0 {
				continue
			}
			if basis[b].delta == 0 {
				basis[b] = v
				break
			}
			v.delta ^= basis[b].delta
			v.flips ^= basis[b].flips
		}
	}
	need, flips := want^c0, uint64(0)
	for b := 31; b >= 0; b-- {
		if need>>b&1 == 1 {
			require.NotZero(t, basis[b].delta, "forgeKey: rank deficient")
			need ^= basis[b].delta
			flips ^= basis[b].flips
		}
	}
	for j := range 2 * letters {
		if flips>>j&1 == 1 {
			msg[len(prefix)+j/2] ^= 1 << (j % 2)
		}
	}
	require.Equal(t, want, crc32.ChecksumIEEE(msg))
	return msg
}

// refRing is a deliberately naive model of nginx's algorithm, written from
// its description: every point of every server, a stable sort by hash,
// dedup keeping the first, and a linear scan for lookups.
type refRing struct {
	hashes []uint32
	addrs  []netip.AddrPort
}

func newRef(buckets []ketama.Bucket) refRing {
	type pt struct {
		h uint32
		a netip.AddrPort
	}
	var pts []pt
	for _, b := range buckets {
		name := b.Addr.String()
		i := len(name) - 1
		for name[i] != ':' {
			i--
		}
		base := name[:i] + "\x00" + name[i+1:]
		var prev uint32
		for range int(b.Weight) * ketama.PointsPerWeight {
			le := []byte{byte(prev), byte(prev >> 8), byte(prev >> 16), byte(prev >> 24)}
			prev = crc32.ChecksumIEEE(append([]byte(base), le...))
			pts = append(pts, pt{prev, b.Addr})
		}
	}
	slices.SortStableFunc(pts, func(x, y pt) int { return cmp.Compare(x.h, y.h) })
	var r refRing
	for i, p := range pts {
		if i > 0 && p.h == pts[i-1].h {
			continue
		}
		r.hashes = append(r.hashes, p.h)
		r.addrs = append(r.addrs, p.a)
	}
	return r
}

func (r refRing) node(key []byte) netip.AddrPort {
	h := crc32.ChecksumIEEE(key)
	for i, p := range r.hashes {
		if p >= h {
			return r.addrs[i]
		}
	}
	return r.addrs[0]
}

func randomBuckets(rng *rand.Rand, n int, maxWeight uint32) []ketama.Bucket {
	buckets := make([]ketama.Bucket, n)
	for i := range buckets {
		var a netip.Addr
		if rng.IntN(3) == 0 {
			var b [16]byte
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			a = netip.AddrFrom16(b)
		} else {
			a = netip.AddrFrom4([4]byte{10, byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		}
		buckets[i] = ketama.Bucket{
			Addr:   netip.AddrPortFrom(a, uint16(rng.Uint32())),
			Weight: 1 + rng.Uint32N(maxWeight),
		}
	}
	return buckets
}

func TestNew_Errors(t *testing.T) {
	v4 := ap("127.0.0.1:80")
	tests := []struct {
		name    string
		buckets []ketama.Bucket
		want    error
		msg     string
	}{
		{"nil", nil, ketama.ErrNoBuckets, "ketama: no buckets"},
		{"empty", []ketama.Bucket{}, ketama.ErrNoBuckets, "ketama: no buckets"},
		{"zero weight", []ketama.Bucket{{v4, 1}, {ap("[::1]:80"), 0}}, ketama.ErrZeroWeight,
			"ketama: bucket 1 ([::1]:80): zero weight"},
		{"zero addr", []ketama.Bucket{{netip.AddrPort{}, 1}}, ketama.ErrInvalidAddr,
			"ketama: bucket 0 (invalid AddrPort): invalid address"},
		{"huge weight", []ketama.Bucket{{v4, ^uint32(0)}}, ketama.ErrTooManyPoints, "ketama: too many points"},
		{"weights add up too far", []ketama.Bucket{
			{v4, ketama.MaxPoints / ketama.PointsPerWeight}, {ap("127.0.0.2:80"), 1},
		}, ketama.ErrTooManyPoints, "ketama: too many points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ketama.New(tt.buckets)
			require.ErrorIs(t, err, tt.want)
			require.EqualError(t, err, tt.msg)
			require.Nil(t, c)
			var be *ketama.BucketError
			if errors.As(err, &be) {
				assert.Equal(t, tt.buckets[be.Index], be.Bucket)
			}
		})
	}
}

// TestContinuum_Node holds the vectors Pingora's own tests pin down (all
// IPv4, where Pingora and nginx agree) and SPEC §6's doc example.
func TestContinuum_Node(t *testing.T) {
	b := func(s string, w uint32) ketama.Bucket { return ketama.Bucket{Addr: ap(s), Weight: w} }
	tests := []struct {
		name    string
		buckets []ketama.Bucket
		keys    map[string]string
	}{
		{
			name:    "doc example",
			buckets: []ketama.Bucket{b("127.0.0.1:12345", 1), b("127.0.0.2:12345", 2), b("127.0.0.3:12345", 3)},
			keys: map[string]string{
				"some_key":    "127.0.0.3:12345",
				"another_key": "127.0.0.3:12345",
				"last_key":    "127.0.0.2:12345",
			},
		},
		{
			name:    "nginx sample",
			buckets: []ketama.Bucket{b("127.0.0.1:7777", 1), b("127.0.0.1:7778", 1)},
			keys: map[string]string{
				"/some/path":        "127.0.0.1:7778",
				"/some/longer/path": "127.0.0.1:7777",
				"/sad/zaidoon":      "127.0.0.1:7778",
				"/g":                "127.0.0.1:7777",
				"/pingora/team/is/cool/and/this/is/a/long/uri": "127.0.0.1:7778",
				"/i/am/not/confident/in/this/code":             "127.0.0.1:7777",
			},
		},
		{
			name:    "single server",
			buckets: []ketama.Bucket{b("[2001:db8::1]:443", 1)},
			keys:    map[string]string{"": "[2001:db8::1]:443", "x": "[2001:db8::1]:443"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, tt.buckets...)
			for k, want := range tt.keys {
				assert.Equal(t, ap(want), node(t, c, k), "key %q", k)
			}
		})
	}
}

// TestContinuum_AddServer is Pingora's consistency test: adding an 11th
// server leaves keys that stay on old servers where they were.
func TestContinuum_AddServer(t *testing.T) {
	var ten, eleven []ketama.Bucket
	for i := 1; i <= 11; i++ {
		bk := ketama.Bucket{Addr: ap(fmt.Sprintf("127.0.0.%d:6443", i)), Weight: 1}
		if i <= 10 {
			ten = append(ten, bk)
		}
		eleven = append(eleven, bk)
	}
	c10, c11 := mustNew(t, ten...), mustNew(t, eleven...)
	for _, c := range []*ketama.Continuum{c10, c11} {
		assert.Equal(t, ap("127.0.0.10:6443"), node(t, c, "a"))
		assert.Equal(t, ap("127.0.0.5:6443"), node(t, c, "b"))
	}
	moved := 0
	for i := range 10000 {
		k := "/k/" + strconv.Itoa(i)
		before, after := node(t, c10, k), node(t, c11, k)
		if before != after {
			require.Equal(t, ap("127.0.0.11:6443"), after, "key %q moved between old servers", k)
			moved++
		}
	}
	// About 1/11 of the keys move to the new server.
	assert.InDelta(t, 10000/11, moved, 400)
}

func TestContinuum_RemoveServer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	all := randomBuckets(rng, 20, 4)
	gone := all[7].Addr
	rest := slices.Delete(slices.Clone(all), 7, 8)
	before, after := mustNew(t, all...), mustNew(t, rest...)
	for i := range 5000 {
		k := "/r/" + strconv.Itoa(i)
		if b := node(t, before, k); b != gone {
			require.Equal(t, b, node(t, after, k), "key %q left a surviving server", k)
		}
	}
}

// TestContinuum_MatchesReference compares New with the naive model on
// random IPv4/IPv6 rings, for random keys and keys forged to hash exactly
// onto, just below and just past points, and past the ends of the ring.
func TestContinuum_MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 3, 9, 40} {
		t.Run("n="+strconv.Itoa(n), func(t *testing.T) {
			buckets := randomBuckets(rng, n, 5)
			c, ref := mustNew(t, buckets...), newRef(buckets)
			require.Equal(t, len(ref.hashes), c.Len())
			i := 0
			for h, a := range c.All() {
				require.Equal(t, ref.hashes[i], h)
				require.Equal(t, ref.addrs[i], a)
				i++
			}
			var keys [][]byte
			for i := range 500 {
				keys = append(keys, []byte("/rand/"+strconv.Itoa(rng.IntN(1<<30))+strconv.Itoa(i)))
			}
			last := ref.hashes[len(ref.hashes)-1]
			targets := []uint32{0, ^uint32(0), last, last + 1, ref.hashes[0], ref.hashes[0] - 1}
			for i := 0; i < len(ref.hashes); i += 1 + len(ref.hashes)/40 {
				targets = append(targets, ref.hashes[i]-1, ref.hashes[i], ref.hashes[i]+1)
			}
			for _, h := range targets {
				keys = append(keys, forgeKey(t, "/f/", h))
			}
			for _, k := range keys {
				got, ok := c.Node(k)
				require.True(t, ok)
				require.Equal(t, ref.node(k), got, "key %q (crc %#x)", k, crc32.ChecksumIEEE(k))
			}
		})
	}
}

// TestContinuum_Ties builds a ring where two servers' points collide (the
// nginx trace's upstream) and checks that the server listed first keeps
// the point, whichever order the list is in.
func TestContinuum_Ties(t *testing.T) {
	a, b := ap("127.0.0.3:18002"), ap("127.0.0.11:24694")
	fwd := []ketama.Bucket{{Addr: a, Weight: 2}, {Addr: b, Weight: 3}}
	ties := ketama.Collisions(fwd)
	require.Len(t, ties, 1)
	key := forgeKey(t, "/tie/", ties[0].Hash)
	assert.Equal(t, a, node(t, mustNew(t, fwd...), string(key)))
	rev := []ketama.Bucket{fwd[1], fwd[0]}
	assert.Equal(t, b, node(t, mustNew(t, rev...), string(key)))
	assert.Equal(t, 5*ketama.PointsPerWeight-1, mustNew(t, fwd...).Len())
}

func TestNew_DuplicateAddr(t *testing.T) {
	x, y := ap("127.0.0.1:80"), ap("[::1]:80")
	dup := mustNew(t, ketama.Bucket{Addr: x, Weight: 1}, ketama.Bucket{Addr: y, Weight: 2}, ketama.Bucket{Addr: x, Weight: 3})
	widest := mustNew(t, ketama.Bucket{Addr: x, Weight: 3}, ketama.Bucket{Addr: y, Weight: 2})
	assert.Equal(t, 2, dup.Servers())
	assert.Equal(t, widest.Len(), dup.Len())
	for i := range 2000 {
		k := "/d/" + strconv.Itoa(i)
		require.Equal(t, node(t, widest, k), node(t, dup, k))
	}
}

// TestNew_DuplicateAddrTie: a duplicate's extra points rank by the
// duplicate's own position, as nginx's stable sort of per-peer points does.
// 127.0.0.11:24694's 161st-320th points include one that ties with a point
// of 127.0.0.3:18002; only the later, heavier duplicate owns it.
func TestNew_DuplicateAddrTie(t *testing.T) {
	x, b := ap("127.0.0.3:18002"), ap("127.0.0.11:24694")
	buckets := []ketama.Bucket{{Addr: b, Weight: 1}, {Addr: x, Weight: 1}, {Addr: b, Weight: 2}}
	ties := ketama.Collisions(buckets)
	require.Len(t, ties, 1)
	require.Equal(t, ketama.Collision{Hash: ties[0].Hash, First: 1, Later: 2}, ties[0])
	key := forgeKey(t, "/dup/", ties[0].Hash)
	assert.Equal(t, x, node(t, mustNew(t, buckets...), string(key)))
	assert.Equal(t, x, newRef(buckets).node(key))
}

func TestNew_DoesNotModifyBuckets(t *testing.T) {
	buckets := randomBuckets(rand.New(rand.NewPCG(7, 8)), 10, 3)
	before := slices.Clone(buckets)
	mustNew(t, buckets...)
	require.Equal(t, before, buckets)
}

// TestContinuum_NodeIter pins Pingora's node_iter vector: the ring walk
// for "doghash" repeats servers back to back.
func TestContinuum_NodeIter(t *testing.T) {
	s7, s8, s9 := ap("127.0.0.1:7777"), ap("127.0.0.1:7778"), ap("127.0.0.1:7779")
	tests := []struct {
		name    string
		buckets []netip.AddrPort
		want    []netip.AddrPort
	}{
		{"three", []netip.AddrPort{s7, s8, s9}, []netip.AddrPort{s8, s9, s9, s7, s7, s8, s8, s9}},
		{"one removed", []netip.AddrPort{s7, s9}, []netip.AddrPort{s9, s9, s7, s7, s9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buckets []ketama.Bucket
			for _, a := range tt.buckets {
				buckets = append(buckets, ketama.Bucket{Addr: a, Weight: 1})
			}
			c := mustNew(t, buckets...)
			got := take(c.NodeIter([]byte("doghash")), len(tt.want))
			assert.Equal(t, tt.want, got)
			assert.Equal(t, node(t, c, "doghash"), got[0])
		})
	}
}

func TestContinuum_NodeIterWraps(t *testing.T) {
	c := mustNew(t, ketama.Bucket{Addr: ap("127.0.0.1:7777"), Weight: 1}, ketama.Bucket{Addr: ap("[::1]:7777"), Weight: 1})
	var ring []netip.AddrPort
	for _, a := range c.All() {
		ring = append(ring, a)
	}
	key := forgeKey(t, "/w/", ^uint32(0)) // past the last point: starts at point 0
	got := take(c.NodeIter(key), 2*len(ring)+3)
	want := append(append(slices.Clone(ring), ring...), ring[:3]...)
	require.Equal(t, want, got)
}

func TestContinuum_DistinctNodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 3, 64, 65, 300} {
		t.Run("n="+strconv.Itoa(n), func(t *testing.T) {
			c := mustNew(t, randomBuckets(rng, n, 2)...)
			for i := range 20 {
				key := []byte("/distinct/" + strconv.Itoa(i))
				var want []netip.AddrPort
				seen := map[netip.AddrPort]bool{}
				for a := range c.NodeIter(key) {
					if !seen[a] {
						seen[a] = true
						want = append(want, a)
					}
					if len(want) == c.Servers() {
						break
					}
				}
				got := slices.Collect(c.DistinctNodes(key))
				require.Equal(t, want, got)
				require.Len(t, got, n)
				require.Equal(t, node(t, c, string(key)), got[0])
			}
			require.Len(t, take(c.DistinctNodes([]byte("x")), 1), 1, "break stops the walk")
		})
	}
}

func TestContinuum_Empty(t *testing.T) {
	for name, c := range map[string]*ketama.Continuum{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, ok := c.Node([]byte("k"))
			assert.False(t, ok)
			assert.Empty(t, take(c.NodeIter([]byte("k")), 5))
			assert.Empty(t, slices.Collect(c.DistinctNodes([]byte("k"))))
			assert.Zero(t, c.Len())
			assert.Zero(t, c.Servers())
			for range c.All() {
				t.Fatal("All yielded on an empty ring")
			}
		})
	}
}

// TestContinuum_Spread checks that weights share out keys proportionally.
func TestContinuum_Spread(t *testing.T) {
	buckets := []ketama.Bucket{
		{Addr: ap("10.0.0.1:80"), Weight: 1}, {Addr: ap("10.0.0.2:80"), Weight: 2},
		{Addr: ap("[2001:db8::3]:80"), Weight: 3}, {Addr: ap("10.0.0.4:80"), Weight: 4},
	}
	c := mustNew(t, buckets...)
	const keys = 100000
	count := map[netip.AddrPort]int{}
	for i := range keys {
		count[node(t, c, "/spread/"+strconv.Itoa(i))]++
	}
	for _, b := range buckets {
		share := float64(count[b.Addr]) / keys
		assert.InDelta(t, float64(b.Weight)/10, share, 0.03, "%v", b.Addr)
	}
}

// TestNewPingora_IPv6Vector shows the only IPv6 difference from Pingora is
// the spelling: with bare addresses the ring reproduces Pingora's own
// IPv6 test vector, and New (bracketed, as nginx hashes) walks differently.
func TestNewPingora_IPv6Vector(t *testing.T) {
	a7, a8, a9 := ap("[::1]:7777"), ap("[::1]:7778"), ap("[::1]:7779")
	buckets := []ketama.Bucket{{Addr: a7, Weight: 1}, {Addr: a8, Weight: 1}, {Addr: a9, Weight: 1}}
	p, err := ketama.NewPingora(buckets)
	require.NoError(t, err)
	want := []netip.AddrPort{a7, a8, a7, a8, a8, a7, a9}
	assert.Equal(t, want, take(p.NodeIter([]byte("doghash")), len(want)))
	assert.NotEqual(t, want, take(mustNew(t, buckets...).NodeIter([]byte("doghash")), len(want)))
}

func TestContinuum_ConcurrentSafe(t *testing.T) {
	c := mustNew(t, randomBuckets(rand.New(rand.NewPCG(11, 12)), 50, 3)...)
	ref := map[string]netip.AddrPort{}
	for i := range 200 {
		k := "/c/" + strconv.Itoa(i)
		ref[k] = node(t, c, k)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for k, want := range ref {
				if got, _ := c.Node([]byte(k)); got != want {
					errs <- fmt.Errorf("key %q: got %v, want %v", k, got, want)
					return
				}
				if got := take(c.DistinctNodes([]byte(k)), 2); got[0] != want {
					errs <- fmt.Errorf("key %q: DistinctNodes starts at %v", k, got[0])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzNew decodes arbitrary bytes into buckets (16 address bytes, 2 port
// bytes, 1 weight byte each; some invalid, zoned or far too heavy) and a
// key, and checks that New either fails with one of its errors or builds a
// ring whose lookups agree with the naive model and never panic.
func FuzzNew(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01\x1f\x90\x01"), []byte("/"))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x50\x00"), []byte("key"))
	f.Add([]byte("\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\xbb\x03"+
		"\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x01\xbb\x02"), []byte("another_key"))
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, data, key []byte) {
		var buckets []ketama.Bucket
		for len(data) >= 19 && len(buckets) < 32 {
			var a16 [16]byte
			copy(a16[:], data)
			a := netip.AddrFrom16(a16).Unmap() // IPv4-mapped bytes become IPv4
			switch {
			case data[0] == 0xff && data[1] == 0xff:
				a = netip.Addr{} // invalid
			case data[0] == 0xfe && data[1] == 0x80:
				a = a.WithZone("eth0")
			}
			w := uint32(data[18] % 8)
			if data[18] == 0xff {
				w = 1 << 31 // refused before anything is allocated
			}
			buckets = append(buckets, ketama.Bucket{
				Addr:   netip.AddrPortFrom(a, uint16(data[16])<<8|uint16(data[17])),
				Weight: w,
			})
			data = data[19:]
		}
		c, err := ketama.New(buckets)
		if err != nil {
			if !errors.Is(err, ketama.ErrNoBuckets) && !errors.Is(err, ketama.ErrZeroWeight) &&
				!errors.Is(err, ketama.ErrInvalidAddr) && !errors.Is(err, ketama.ErrTooManyPoints) {
				t.Fatalf("unexpected error %v", err)
			}
			require.Nil(t, c)
			return
		}
		got, ok := c.Node(key)
		require.True(t, ok)
		require.Equal(t, newRef(buckets).node(key), got)
		require.Equal(t, got, take(c.NodeIter(key), 3)[0])
		distinct := slices.Collect(c.DistinctNodes(key))
		require.Equal(t, got, distinct[0])
		require.Len(t, distinct, c.Servers())
	})
}
