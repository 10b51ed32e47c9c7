package limits

import (
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"sync/atomic"
)

// maxCells bounds hashes×slots so that a typo cannot ask for terabytes.
const maxCells = 1 << 28

// Estimator is a count–min sketch: hashes rows of slots signed counters.
// A key maps to one counter per row; Incr and Decr change all of them and Get
// reads the smallest. Get never reports less than the true count of a key
// whose increments were all positive; it can report more when other keys
// share a counter in every row (a collision), which happens with probability
// about (1/slots)^hashes per pair of keys.
//
// Counters are plain machine words updated with atomic adds, so an Estimator
// is safe for concurrent use and never blocks. They wrap on overflow, as in
// Pingora; a negative result after only positive increments means overflow.
//
// A key is hashed once (wyhash, under a seed chosen at random by
// [NewEstimator]) and each row takes its counter's index from its own bits
// of that hash. Estimates therefore differ from run to run.
type Estimator struct {
	seed  uint64         // key hash seed
	slots uint64         // counters per row
	width uint           // log2(slots) if the rows' indexes fit in one 64-bit hash, else 0
	field uint64         // slots-1 if split: a row's bits of the hash
	split bool           // rows take their indexes from bit fields of one hash (width is valid)
	cells []atomic.Int64 // row-major: row r owns cells[r*slots:(r+1)*slots]
}

// NewEstimator returns an Estimator of hashes rows with slots counters each,
// all zero. Lookups cost O(hashes); memory is 8×hashes×slots bytes. Pingora
// uses 4×1024 for rates and 4×8192 for in-flight counts. Sketches whose
// slots are a power of two, with hashes×log2(slots) ≤ 64, are the fastest.
func NewEstimator(hashes, slots int) (*Estimator, error) {
	switch {
	case hashes <= 0:
		return nil, errors.New("limits: hashes must be positive")
	case slots <= 0:
		return nil, errors.New("limits: slots must be positive")
	case hashes > maxCells/slots:
		return nil, errors.New("limits: sketch larger than 2^28 counters")
	}
	e := &Estimator{
		seed:  seedHash(rand.Uint64()),
		slots: uint64(slots),
		cells: make([]atomic.Int64, hashes*slots),
	}
	if w := bits.TrailingZeros(uint(slots)); slots == 1<<w && hashes*w <= 64 {
		e.width, e.field, e.split = uint(w), uint64(slots-1), true
	}
	return e, nil
}

// sibling returns a zeroed Estimator with e's shape and seed, so that one
// key hash serves both (Rate keeps two of them).
func (e *Estimator) sibling() *Estimator {
	s := *e
	s.cells = make([]atomic.Int64, len(e.cells))
	return &s
}

// Hashes reports the number of rows.
func (e *Estimator) Hashes() int { return len(e.cells) / int(e.slots) }

// Slots reports the number of counters in each row.
func (e *Estimator) Slots() int { return int(e.slots) }

func (e *Estimator) hashString(key string) uint64 { return hashKey(key, e.seed) }

// Row indexes. When slots is 2^width and the rows need at most 64 bits
// (split), row r's counter is the r-th width-bit field of the key hash:
// 3×1024, 4×1024, 4×8192 and Pingora's 8×8 all qualify. A random hash's
// fields are independent, so rows collide independently. The split loops
// keep everything in registers: an atomic add is a full barrier, and a load
// after it (of a row multiplier, say) would wait for it, adding latency
// between the adds.
//
// Otherwise each row takes 32 bits of the hash, two rows to a 64-bit hash
// (h, then wymix of it for rows 2 and 3, and so on), and maps them onto
// [0, slots) with Lemire's multiply-shift, field×slots >> 32, which avoids
// a division. Those loops, too, stay in registers.

// addSplit is addHash for a split Estimator, small enough to be inlined.
func (e *Estimator) addSplit(h uint64, v int64) int64 {
	cells, slots, w, field := e.cells, e.slots, e.width&63, e.field
	least := cells[h&field].Add(v) // row 0, peeled: its address needs no add
	for base := slots; base < uint64(len(cells)); base += slots {
		h >>= w
		least = min(least, cells[base+h&field].Add(v))
	}
	return least
}

// getSplit is getHash for a split Estimator, small enough to be inlined.
func (e *Estimator) getSplit(h uint64) int64 {
	cells, slots, w, field := e.cells, e.slots, e.width&63, e.field
	least := cells[h&field].Load() // row 0, peeled as in addSplit
	for base := slots; base < uint64(len(cells)); base += slots {
		h >>= w
		least = min(least, cells[base+h&field].Load())
	}
	return least
}

// addHash adds v to every counter of the key hash h and returns the
// smallest result.
func (e *Estimator) addHash(h uint64, v int64) int64 {
	if e.split {
		return e.addSplit(h, v)
	}
	cells, slots := e.cells, e.slots
	least := int64(math.MaxInt64)
	x := h
	for r, base := 0, uint64(0); base < uint64(len(cells)); r, base = r+1, base+slots {
		if r > 0 && r&1 == 0 {
			h = wymix(h^wy0, wy1)
			x = h
		}
		least = min(least, cells[base+(x&(1<<32-1))*slots>>32].Add(v))
		x >>= 32
	}
	return least
}

// getHash returns the smallest counter of the key hash h.
func (e *Estimator) getHash(h uint64) int64 {
	if e.split {
		return e.getSplit(h)
	}
	cells, slots := e.cells, e.slots
	least := int64(math.MaxInt64)
	x := h
	for r, base := 0, uint64(0); base < uint64(len(cells)); r, base = r+1, base+slots {
		if r > 0 && r&1 == 0 {
			h = wymix(h^wy0, wy1)
			x = h
		}
		least = min(least, cells[base+(x&(1<<32-1))*slots>>32].Load())
		x >>= 32
	}
	return least
}

// add is addHash(hashKey(key)) in one call: the hot path of Incr, Decr and
// Rate.Observe. For a split Estimator and a key of 4 to 16 bytes it holds
// hashKey's short path (too large for the compiler to inline) and addSplit
// inline, because the calls cost a tenth of the operation; get is the same
// for reads. TestEstimator_KeyLengths checks that every path agrees with
// hashKey.
func (e *Estimator) add(key string, v int64) int64 {
	if n := len(key); e.split && n >= 4 && n <= 16 {
		q := (n >> 3) << 2 // as in hashKey
		a := le32(key)<<32 | le32(key[q:])
		b := le32(key[n-4:])<<32 | le32(key[n-4-q:])
		return e.addSplit(wyfinal(a, b, e.seed, n), v)
	}
	return e.addHash(hashKey(key, e.seed), v)
}

// get is getHash(hashKey(key)) in one call; see add.
func (e *Estimator) get(key string) int64 {
	if n := len(key); e.split && n >= 4 && n <= 16 {
		q := (n >> 3) << 2 // as in hashKey
		a := le32(key)<<32 | le32(key[q:])
		b := le32(key[n-4:])<<32 | le32(key[n-4-q:])
		return e.getSplit(wyfinal(a, b, e.seed, n))
	}
	return e.getHash(hashKey(key, e.seed))
}

// Incr adds v to key and returns the new estimate: the smallest of the key's
// counters after the addition.
func (e *Estimator) Incr(key string, v int64) int64 { return e.add(key, v) }

// IncrBytes is [Estimator.Incr] for a key held in a byte slice. It does not
// retain or modify key, and does not allocate.
func (e *Estimator) IncrBytes(key []byte, v int64) int64 { return e.add(bytesKey(key), v) }

// Decr subtracts v from every counter of key.
func (e *Estimator) Decr(key string, v int64) { e.add(key, -v) }

// DecrBytes is [Estimator.Decr] for a key held in a byte slice.
func (e *Estimator) DecrBytes(key []byte, v int64) { e.add(bytesKey(key), -v) }

// Get returns the estimate for key: the smallest of its counters.
func (e *Estimator) Get(key string) int64 { return e.get(key) }

// GetBytes is [Estimator.Get] for a key held in a byte slice.
func (e *Estimator) GetBytes(key []byte) int64 { return e.get(bytesKey(key)) }

// Reset sets every counter to zero. Updates that run concurrently with Reset
// may survive it or not, counter by counter.
func (e *Estimator) Reset() {
	for i := range e.cells {
		e.cells[i].Store(0)
	}
}
