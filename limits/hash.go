package limits

import "math/bits"

// The key hash is wyhash (final version 4, public domain) restricted to a
// 16-byte main loop: one or two 64×64→128-bit multiplies for keys of up to
// 16 bytes, which is most rate-limit keys. It is about three times faster
// than hash/maphash on short keys and, with a random seed, as good for a
// sketch. Written as a generic over string and []byte so that neither kind
// of key is copied or converted.

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

func r8[K string | []byte](p K, i int) uint64 {
	_ = p[i+7]
	return uint64(p[i]) | uint64(p[i+1])<<8 | uint64(p[i+2])<<16 | uint64(p[i+3])<<24 |
		uint64(p[i+4])<<32 | uint64(p[i+5])<<40 | uint64(p[i+6])<<48 | uint64(p[i+7])<<56
}

func r4[K string | []byte](p K, i int) uint64 {
	_ = p[i+3]
	return uint64(p[i]) | uint64(p[i+1])<<8 | uint64(p[i+2])<<16 | uint64(p[i+3])<<24
}

// hashKey hashes p under seed (from seedHash).
func hashKey[K string | []byte](p K, seed uint64) uint64 {
	n := len(p)
	var a, b uint64
	switch {
	case n > 16:
		i := 0
		for ; n-i > 16; i += 16 {
			seed = wymix(r8(p, i)^wy1, r8(p, i+8)^seed)
		}
		a, b = r8(p, n-16), r8(p, n-8)
	case n >= 4:
		q := (n >> 3) << 2 // 0 for 4..7 bytes, 4 for 8..16
		a = r4(p, 0)<<32 | r4(p, q)
		b = r4(p, n-4)<<32 | r4(p, n-4-q)
	case n > 0:
		a = uint64(p[0])<<16 | uint64(p[n>>1])<<8 | uint64(p[n-1])
	}
	hi, lo := bits.Mul64(a^wy1, b^seed)
	return wymix(lo^wy0^uint64(n), hi^wy1)
}
