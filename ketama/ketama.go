package ketama

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"iter"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
)

// PointsPerWeight is the number of points one unit of weight puts on the
// ring, the constant nginx and Pingora both use: a bucket of weight 3 owns
// 480 points.
const PointsPerWeight = 160

// MaxPoints bounds the ring New builds: the sum of all weights times
// PointsPerWeight must not exceed it (a total weight of 104857), so a
// mistyped weight fails with ErrTooManyPoints instead of exhausting memory.
// A ring holds about 10 bytes per point.
const MaxPoints = 1 << 24

// Errors returned by New. Bucket-level problems come wrapped in a
// *BucketError; test for them with errors.Is.
var (
	// ErrNoBuckets: New was given no buckets.
	ErrNoBuckets = errors.New("ketama: no buckets")
	// ErrZeroWeight: a bucket has weight 0.
	ErrZeroWeight = errors.New("ketama: zero weight")
	// ErrInvalidAddr: a bucket's address is the zero netip.AddrPort or
	// otherwise not valid.
	ErrInvalidAddr = errors.New("ketama: invalid address")
	// ErrTooManyPoints: the buckets' weights add up to more than
	// MaxPoints/PointsPerWeight.
	ErrTooManyPoints = errors.New("ketama: too many points")
)

// Bucket is one server on the ring.
type Bucket struct {
	// Addr is the server's address. It must be valid; IPv4 and IPv6 (with
	// or without zone) are accepted. Its text form is what gets hashed, so
	// two spellings of one address are one server (see the package doc).
	Addr netip.AddrPort
	// Weight is the server's share of the ring relative to the other
	// buckets: it owns Weight*PointsPerWeight points. It must be at least 1.
	Weight uint32
}

// BucketError reports which bucket New rejected and why.
type BucketError struct {
	Index  int    // position of the bucket in New's argument
	Bucket Bucket // the bucket itself
	Err    error  // ErrZeroWeight or ErrInvalidAddr
}

// Error implements error: "ketama: bucket 2 (127.0.0.1:80): zero weight".
func (e *BucketError) Error() string {
	reason := "invalid"
	if e.Err != nil {
		reason = e.Err.Error()
		if len(reason) > len("ketama: ") && reason[:len("ketama: ")] == "ketama: " {
			reason = reason[len("ketama: "):]
		}
	}
	return "ketama: bucket " + strconv.Itoa(e.Index) + " (" + e.Bucket.Addr.String() + "): " + reason
}

// Unwrap returns the sentinel error, for errors.Is.
func (e *BucketError) Unwrap() error { return e.Err }

// point is one position on the ring: its hash and the index of the
// server that owns it in Continuum.addrs.
type point struct {
	hash uint32
	node uint32
}

// Continuum is a Ketama hash ring: a sorted circle of points, each owned
// by one server. Build it with New; it is immutable afterwards and safe for
// concurrent use by any number of goroutines. A nil *Continuum (and the
// zero Continuum) is a valid, empty ring: Node reports false and the
// iterators yield nothing.
type Continuum struct {
	points []point          // sorted by hash, hashes unique
	addrs  []netip.AddrPort // distinct servers, in order of first appearance
	index  []uint32         // index[p] = first point whose hash>>shift >= p; len 1<<(32-shift) + 1
	shift  uint8            // 32 - table bits
}

// New builds the ring for buckets, exactly as nginx's
// "hash $key consistent" does for an upstream listing the same servers in
// the same order with the same weights (see the package doc for the bytes
// hashed and where this differs from Pingora). Order matters only when two
// servers' points collide: the server listed first keeps the point.
//
// New reports ErrNoBuckets for an empty list, a *BucketError wrapping
// ErrZeroWeight or ErrInvalidAddr for a bad bucket, and ErrTooManyPoints
// when the weights add up to more than MaxPoints/PointsPerWeight. It never
// modifies buckets. A server listed twice is one server: its points
// coincide, so its weights do not add up (the larger one counts), as in
// nginx.
func New(buckets []Bucket) (*Continuum, error) {
	return build(buckets, serverName)
}

// build is New with the function that spells a server's hashed name, so
// tests can build Pingora's variant of the ring beside nginx's.
func build(buckets []Bucket, nameOf func(dst []byte, ap netip.AddrPort) []byte) (*Continuum, error) {
	if len(buckets) == 0 {
		return nil, ErrNoBuckets
	}
	var total uint64
	for i, b := range buckets {
		switch {
		case !b.Addr.IsValid():
			return nil, &BucketError{Index: i, Bucket: b, Err: ErrInvalidAddr}
		case b.Weight == 0:
			return nil, &BucketError{Index: i, Bucket: b, Err: ErrZeroWeight}
		}
		total += uint64(b.Weight) * PointsPerWeight
		if total > MaxPoints {
			return nil, ErrTooManyPoints
		}
	}

	// Each raw point packs hash<<32 | bucket index, so sorting orders by
	// hash and breaks ties by position in buckets: the same result as
	// nginx's qsort (on glibc a stable merge sort) of points generated in
	// upstream order.
	raw := make([]uint64, 0, total)
	addrs := make([]netip.AddrPort, 0, len(buckets))
	nodeOf := make(map[netip.AddrPort]uint32, len(buckets))
	bucketNode := make([]uint32, len(buckets)) // bucket index -> index in addrs
	var name []byte
	prev := make([]byte, 4) // previous point's hash, little endian; zero for a server's first
	for i, b := range buckets {
		node, ok := nodeOf[b.Addr]
		if !ok {
			node = uint32(len(addrs))
			nodeOf[b.Addr] = node
			addrs = append(addrs, b.Addr)
		}
		bucketNode[i] = node
		name = nameOf(name[:0], b.Addr)
		base := crc32.ChecksumIEEE(name)
		clear(prev)
		for range uint64(b.Weight) * PointsPerWeight {
			h := crc32.Update(base, crc32.IEEETable, prev)
			raw = append(raw, uint64(h)<<32|uint64(i))
			binary.LittleEndian.PutUint32(prev, h)
		}
	}
	raw = sortPoints(raw)

	points := make([]point, 0, len(raw))
	for i, r := range raw {
		h := uint32(r >> 32)
		if i > 0 && h == points[len(points)-1].hash {
			continue // nginx keeps the first point of each run of equal hashes
		}
		points = append(points, point{hash: h, node: bucketNode[uint32(r)]})
	}

	c := &Continuum{points: points, addrs: addrs}
	c.buildIndex()
	return c, nil
}

// sortPoints sorts raw points (hash<<32 | bucket) by hash, keeping points
// with equal hashes in their input order, which New makes bucket order.
// Large rings use an LSD radix sort on the hash, three stable passes of 11
// bits; small ones a comparison sort of the whole value, which orders ties
// by bucket all the same. It may return its scratch buffer instead of raw.
func sortPoints(raw []uint64) []uint64 {
	if len(raw) < 2048 {
		slices.Sort(raw)
		return raw
	}
	const digit = 11
	src, dst := raw, make([]uint64, len(raw))
	for shift := 32; shift < 64; shift += digit {
		var count [1 << digit]int
		for _, v := range src {
			count[v>>shift&(1<<digit-1)]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, v := range src {
			d := v >> shift & (1<<digit - 1)
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	return src
}

// serverName appends to dst the bytes nginx hashes for a server written as
// ap.String() in an upstream block: the host as written (an IPv6 address
// keeps its brackets), a NUL byte, and the decimal port.
func serverName(dst []byte, ap netip.AddrPort) []byte {
	dst = ap.AppendTo(dst)
	for i := len(dst) - 1; i >= 0; i-- {
		if dst[i] == ':' {
			dst[i] = 0
			break
		}
	}
	return dst
}

// buildIndex fills the lookup table that narrows the binary search: with
// b table bits, index[p] is the first point whose top b hash bits are >= p,
// so a key's successor lies in points[index[p]:index[p+1]] or is
// points[index[p+1]]. The table has about one entry per two points.
func (c *Continuum) buildIndex() {
	b := 0
	if n := len(c.points); n >= 4 {
		b = bits.Len(uint(n)) - 2 // 2^b in (n/4, n/2]
	}
	b = min(b, 22)
	c.shift = uint8(32 - b)
	size := 1 << b
	c.index = make([]uint32, size+1)
	j := 0
	for p := range size {
		for j < len(c.points) && int(uint64(c.points[j].hash)>>c.shift) < p {
			j++
		}
		c.index[p] = uint32(j)
	}
	c.index[size] = uint32(len(c.points))
}

// search returns the index of the first point whose hash is >= h, wrapping
// to 0 past the last point. The ring must not be empty.
func (c *Continuum) search(h uint32) int {
	p := uint64(h) >> c.shift
	lo, hi := int(c.index[p]), int(c.index[p+1])
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.points[m].hash < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(c.points) {
		return 0
	}
	return lo
}

// Node returns the server that key maps to: the owner of the first point
// at or after CRC-32(key), wrapping around the ring. It reports false only
// for an empty (nil) ring.
func (c *Continuum) Node(key []byte) (netip.AddrPort, bool) {
	if c == nil || len(c.points) == 0 {
		return netip.AddrPort{}, false
	}
	return c.addrs[c.points[c.search(crc32.ChecksumIEEE(key))].node], true
}

// NodeIter walks the ring from key's point (the one Node picks) onwards,
// yielding the owner of every point and wrapping around forever: addresses
// repeat, often back to back. Stop it with break. It yields nothing for an
// empty (nil) ring. DistinctNodes gives each server once instead. key is
// hashed when the iteration starts (each time, if the sequence is ranged
// over again), so it must not change before then.
func (c *Continuum) NodeIter(key []byte) iter.Seq[netip.AddrPort] {
	return func(yield func(netip.AddrPort) bool) { c.walk(crc32.ChecksumIEEE(key), yield) }
}

// walk is NodeIter's loop, outside the closure so NodeIter stays small
// enough to inline and a range over it allocates nothing.
func (c *Continuum) walk(h uint32, yield func(netip.AddrPort) bool) {
	if c == nil || len(c.points) == 0 {
		return
	}
	for i := c.search(h); ; {
		if !yield(c.addrs[c.points[i].node]) {
			return
		}
		if i++; i == len(c.points) {
			i = 0
		}
	}
}

// DistinctNodes walks the ring like NodeIter but yields each server once,
// in the order first met, and ends after the last one: the order in which
// nginx tries upstream servers for key when earlier ones fail. The first
// address is Node(key). It yields nothing for an empty (nil) ring. key is
// hashed when the iteration starts, as in NodeIter.
func (c *Continuum) DistinctNodes(key []byte) iter.Seq[netip.AddrPort] {
	return func(yield func(netip.AddrPort) bool) { c.walkDistinct(crc32.ChecksumIEEE(key), yield) }
}

// walkDistinct is DistinctNodes' loop (see walk).
func (c *Continuum) walkDistinct(h uint32, yield func(netip.AddrPort) bool) {
	if c == nil || len(c.points) == 0 {
		return
	}
	var small [16]uint64 // rings of up to 1024 servers need no allocation
	seen := small[:]
	if words := (len(c.addrs) + 63) / 64; words > len(small) {
		seen = make([]uint64, words)
	}
	left := len(c.addrs)
	i := c.search(h)
	for range c.points {
		n := c.points[i].node
		if w, m := n/64, uint64(1)<<(n%64); seen[w]&m == 0 {
			seen[w] |= m
			if !yield(c.addrs[n]) {
				return
			}
			if left--; left == 0 {
				return
			}
		}
		if i++; i == len(c.points) {
			i = 0
		}
	}
}

// Len returns the number of points on the ring: the sum of the weights of
// the distinct servers times PointsPerWeight, less the points lost to hash
// collisions. It is 0 for a nil ring.
func (c *Continuum) Len() int {
	if c == nil {
		return 0
	}
	return len(c.points)
}

// Servers returns the number of distinct server addresses on the ring.
func (c *Continuum) Servers() int {
	if c == nil {
		return 0
	}
	return len(c.addrs)
}

// All yields every point of the ring in ascending hash order: the point's
// hash and the server that owns it. A key whose CRC-32 is h maps to the
// first point with a hash >= h, or to the first point when none is.
func (c *Continuum) All() iter.Seq2[uint32, netip.AddrPort] {
	return func(yield func(uint32, netip.AddrPort) bool) {
		if c == nil {
			return
		}
		for _, p := range c.points {
			if !yield(p.hash, c.addrs[p.node]) {
				return
			}
		}
	}
}
