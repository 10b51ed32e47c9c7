package ketama

import (
	"hash/crc32"
	"net/netip"
	"strconv"
)

// NewPingora builds the ring the way Pingora 0.8 spells server names: the
// bare IP (no brackets for IPv6), a NUL byte and the port. It is identical
// to New for IPv4 and differs for IPv6.
func NewPingora(buckets []Bucket) (*Continuum, error) {
	return build(buckets, func(dst []byte, ap netip.AddrPort) []byte {
		dst = ap.Addr().WithZone("").AppendTo(dst)
		dst = append(dst, 0)
		return strconv.AppendUint(dst, uint64(ap.Port()), 10)
	})
}

// Collision is a hash that points of two different servers share.
type Collision struct {
	Hash         uint32
	First, Later int // bucket indexes: First is listed before Later
}

// Collisions lists the hashes on which points of different buckets
// collide, computed from scratch (no dedup), for checking that test data
// exercises nginx's tie rule.
func Collisions(buckets []Bucket) []Collision {
	owner := map[uint32]int{}
	var out []Collision
	for i, b := range buckets {
		name := serverName(nil, b.Addr)
		base := crc32.ChecksumIEEE(name)
		var prev [4]byte
		for range uint64(b.Weight) * PointsPerWeight {
			h := crc32.Update(base, crc32.IEEETable, prev[:])
			if o, ok := owner[h]; !ok {
				owner[h] = i
			} else if buckets[o].Addr != b.Addr {
				out = append(out, Collision{Hash: h, First: o, Later: i})
			}
			prev = [4]byte{byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24)}
		}
	}
	return out
}
