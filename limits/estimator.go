package limits

import (
	"errors"
	"math"
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
// [NewEstimator]); each row derives its counter from that 64-bit hash with
// its own random multiplier. Estimates therefore differ from run to run.
type Estimator struct {
	seed  uint64         // key hash seed
	rows  []uint64       // per-row odd multipliers; len(rows) is the number of hashes
	slots uint64         // counters per row
	cells []atomic.Int64 // row-major: row r owns cells[r*slots:(r+1)*slots]
}

// NewEstimator returns an Estimator of hashes rows with slots counters each,
// all zero. Lookups cost O(hashes); memory is 8×hashes×slots bytes. Pingora
// uses 4×1024 for rates and 4×8192 for in-flight counts.
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
		rows:  make([]uint64, hashes),
		slots: uint64(slots),
		cells: make([]atomic.Int64, hashes*slots),
	}
	for i := range e.rows {
		e.rows[i] = rand.Uint64() | 1
	}
	return e, nil
}

// sibling returns a zeroed Estimator with e's shape and seeds, so that one
// key hash serves both (Rate keeps two of them).
func (e *Estimator) sibling() *Estimator {
	return &Estimator{
		seed:  e.seed,
		rows:  e.rows,
		slots: e.slots,
		cells: make([]atomic.Int64, len(e.cells)),
	}
}

// Hashes reports the number of rows.
func (e *Estimator) Hashes() int { return len(e.rows) }

// Slots reports the number of counters in each row.
func (e *Estimator) Slots() int { return int(e.slots) }

func (e *Estimator) hashString(key string) uint64 { return hashKey(key, e.seed) }
func (e *Estimator) hashBytes(key []byte) uint64  { return hashKey(key, e.seed) }

// The row of a key hash: each row derives its own hash from the key hash
// with the row's random odd multiplier m (as Caffeine's frequency sketch
// does), folds the high half in, and maps the low 32 bits onto [0, slots)
// with Lemire's multiply-shift, which avoids a division. The loops below
// inline it and keep the fields in locals: atomic adds are memory barriers,
// after which the compiler would reload them.

func (e *Estimator) incrHash(h uint64, v int64) int64 {
	rows, cells, slots := e.rows, e.cells, e.slots
	least := int64(math.MaxInt64)
	base := uint64(0)
	for _, m := range rows {
		x := (h + m) * m
		x += x >> 32
		least = min(least, cells[base+uint64(uint32(x))*slots>>32].Add(v))
		base += slots
	}
	return least
}

func (e *Estimator) getHash(h uint64) int64 {
	rows, cells, slots := e.rows, e.cells, e.slots
	least := int64(math.MaxInt64)
	base := uint64(0)
	for _, m := range rows {
		x := (h + m) * m
		x += x >> 32
		least = min(least, cells[base+uint64(uint32(x))*slots>>32].Load())
		base += slots
	}
	return least
}

func (e *Estimator) decrHash(h uint64, v int64) {
	rows, cells, slots := e.rows, e.cells, e.slots
	base := uint64(0)
	for _, m := range rows {
		x := (h + m) * m
		x += x >> 32
		cells[base+uint64(uint32(x))*slots>>32].Add(-v)
		base += slots
	}
}

// Incr adds v to key and returns the new estimate: the smallest of the key's
// counters after the addition.
func (e *Estimator) Incr(key string, v int64) int64 { return e.incrHash(e.hashString(key), v) }

// IncrBytes is [Estimator.Incr] for a key held in a byte slice. It does not
// retain or modify key, and does not allocate.
func (e *Estimator) IncrBytes(key []byte, v int64) int64 { return e.incrHash(e.hashBytes(key), v) }

// Decr subtracts v from every counter of key.
func (e *Estimator) Decr(key string, v int64) { e.decrHash(e.hashString(key), v) }

// DecrBytes is [Estimator.Decr] for a key held in a byte slice.
func (e *Estimator) DecrBytes(key []byte, v int64) { e.decrHash(e.hashBytes(key), v) }

// Get returns the estimate for key: the smallest of its counters.
func (e *Estimator) Get(key string) int64 { return e.getHash(e.hashString(key)) }

// GetBytes is [Estimator.Get] for a key held in a byte slice.
func (e *Estimator) GetBytes(key []byte) int64 { return e.getHash(e.hashBytes(key)) }

// Reset sets every counter to zero. Updates that run concurrently with Reset
// may survive it or not, counter by counter.
func (e *Estimator) Reset() {
	for i := range e.cells {
		e.cells[i].Store(0)
	}
}
