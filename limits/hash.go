package limits

import (
	"math/bits"
	"unsafe"
)

// The key hash is wyhash (final version 4, public domain) restricted to a
// 16-byte main loop: two 64×64→128-bit multiplies for keys of up to 16
// bytes, which is most rate-limit keys. It is about three times faster than
// hash/maphash on short keys and, with a random seed, as good for a sketch.
//
// Estimator.add and Estimator.get repeat the 4-to-16-byte path inline, as
// the compiler does not inline hashKey; keys longer than 16 bytes take a
// call to hashLong. Byte-slice keys are viewed as strings (bytesKey) rather
// than copied, so neither kind of key is converted or allocated.

const (
	wy0 = 0x2d358dccaa6c78a5
	wy1 = 0x8bb84b93962eacc9
)

func wymix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// seedHash turns a random value into a hash seed.
func seedHash(r uint64) uint64 { return r ^ wymix(r^wy0, wy1) }

// bytesKey views p as a string for hashing. The string must not outlive the
// call: the Estimator only hashes it and never retains it.
func bytesKey(p []byte) string { return unsafe.String(unsafe.SliceData(p), len(p)) }

// le32 reads the first four bytes of p, little-endian. The compiler merges
// the byte loads into one.
func le32(p string) uint64 {
	_ = p[3]
	return uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24
}

func le64(p string) uint64 {
	_ = p[7]
	return uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
		uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
}

// hashKey hashes p under seed (from seedHash).
func hashKey(p string, seed uint64) uint64 {
	n := len(p)
	var a, b uint64
	switch {
	case n > 16:
		return hashLong(p, seed)
	case n >= 4:
		q := (n >> 3) << 2 // 0 for 4..7 bytes, 4 for 8..15, 8 for 16
		a = le32(p)<<32 | le32(p[q:])
		b = le32(p[n-4:])<<32 | le32(p[n-4-q:])
	case n > 0:
		a = uint64(p[0])<<16 | uint64(p[n>>1])<<8 | uint64(p[n-1])
	}
	return wyfinal(a, b, seed, n)
}

func wyfinal(a, b, seed uint64, n int) uint64 {
	hi, lo := bits.Mul64(a^wy1, b^seed)
	return wymix(lo^wy0^uint64(n), hi^wy1)
}

// hashLong is hashKey for keys longer than 16 bytes.
func hashLong(p string, seed uint64) uint64 {
	n := len(p)
	i := 0
	for ; n-i > 16; i += 16 {
		seed = wymix(le64(p[i:])^wy1, le64(p[i+8:])^seed)
	}
	// The key's last 16 bytes, overlapping some already mixed in.
	return wyfinal(le64(p[n-16:]), le64(p[n-8:]), seed, n)
}
