package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/pingora-go/pingora/httpheader"
)

// Hash is a 128-bit cache key hash: SHA-256 truncated to 16 bytes, where
// Pingora uses BLAKE2b-128.
type Hash [16]byte

// String returns the hash as 32 lower-case hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the zero hash ("no variance").
func (h Hash) IsZero() bool { return h == Hash{} }

// Key identifies a cached object (Pingora's CacheKey). There is no default
// key: the caller builds it from whatever identifies the resource (usually
// scheme, host and target), and should put anything that splits the cache
// between tenants in Namespace.
type Key struct {
	// Namespace separates caches sharing one storage.
	Namespace []byte
	// Primary identifies the resource within the namespace.
	Primary []byte
	// Variance is the variance hash of the response's Vary header for the
	// request (see Variance); the zero Hash means none.
	Variance Hash
}

// PrimaryHash returns SHA-256-128(len(Namespace) ‖ Namespace ‖ Primary),
// the length being 8 bytes big-endian. Pingora hashes Namespace ‖ Primary
// alone, so ("ab", "c") and ("a", "bc") collide there; the length prefix
// keeps them apart.
func (k *Key) PrimaryHash() Hash {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(k.Namespace)))
	h.Write(n[:])
	h.Write(k.Namespace)
	h.Write(k.Primary)
	var out Hash
	var sum [sha256.Size]byte
	copy(out[:], h.Sum(sum[:0]))
	return out
}

// Hash returns the key's combined hash, which storage is indexed by: the
// primary hash when there is no variance, else
// SHA-256-128(primary hash ‖ variance).
func (k *Key) Hash() Hash {
	p := k.PrimaryHash()
	if k.Variance.IsZero() {
		return p
	}
	var buf [32]byte
	copy(buf[:16], p[:])
	copy(buf[16:], k.Variance[:])
	sum := sha256.Sum256(buf[:])
	return Hash(sum[:16])
}

// String returns Hash() in hex.
func (k *Key) String() string { return k.Hash().String() }

// ParseVary returns the field names listed in every Vary line of h, lower
// cased, sorted and without duplicates, and whether one of them is "*"
// (which matches no later request, RFC 9110 §12.5.5). Invalid names are
// skipped.
func ParseVary(h *httpheader.Header) (names []string, star bool) {
	for v := range h.Values("Vary") {
		for f := range strings.SplitSeq(v, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "*":
				star = true
			case f != "" && httpheader.ValidName(f):
				names = append(names, strings.ToLower(f))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), star
}

// Variance returns the variance hash of a response whose Vary header
// lists names (as ParseVary returns them) for req: a hash of each name with
// the request's values for it, whitespace-trimmed and joined with ",", so
// requests that differ only in whitespace around values or in how values
// are split over lines (RFC 9111 §4.1) share a variance. An absent field
// and an empty one are told apart. It returns the zero Hash if names is
// empty.
func Variance(names []string, req *httpheader.RequestHeader) Hash {
	if len(names) == 0 {
		return Hash{}
	}
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	var vals []string
	for _, name := range names {
		put(name)
		vals = vals[:0]
		present := false
		for v := range req.Values(name) {
			present = true
			for part := range strings.SplitSeq(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					vals = append(vals, part)
				}
			}
		}
		if !present {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{1})
		put(strings.Join(vals, ","))
	}
	var out Hash
	var sum [sha256.Size]byte
	copy(out[:], h.Sum(sum[:0]))
	if out.IsZero() {
		out[0] = 1 // never confuse a variance with "none"
	}
	return out
}
