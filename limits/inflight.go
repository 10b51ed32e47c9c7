package limits

import "sync/atomic"

// Inflight estimates, per key, how much work is in progress: each
// [Inflight.Incr] adds to a key and returns a [Guard] whose Release takes
// the addition back. A typical use caps concurrent requests per client.
//
// An Inflight is safe for concurrent use.
type Inflight struct {
	est *Estimator
}

// NewInflight returns an empty Inflight. With the zero Options its sketch
// is 4 hashes × 8192 slots (256 KiB).
func NewInflight(opts Options) (*Inflight, error) {
	est, err := opts.sketch(8192)
	if err != nil {
		return nil, err
	}
	return &Inflight{est: est}, nil
}

// Incr adds v to key and returns a Guard for the addition together with the
// key's new estimate. Call [Guard.Release] when the work ends, typically with
// defer.
func (in *Inflight) Incr(key string, v int64) (*Guard, int64) {
	g := &Guard{est: in.est, h: in.est.hashString(key), v: v}
	g.units.Store(1)
	return g, in.est.addHash(g.h, v)
}

// Get returns key's estimate.
func (in *Inflight) Get(key string) int64 { return in.est.Get(key) }

// Guard holds what one [Inflight.Incr] added to a key. Its methods are safe
// for concurrent use.
type Guard struct {
	est *Estimator
	h   uint64 // the key's hash; the key itself is not kept
	v   int64
	// units counts the additions of v this Guard holds; -1 once released.
	units atomic.Int64
}

// Incr adds the Guard's value to its key once more and returns the new
// estimate; a later Release takes back every addition. After Release, Incr
// adds nothing and returns the current estimate.
func (g *Guard) Incr() int64 {
	for {
		n := g.units.Load()
		if n < 0 {
			return g.est.getHash(g.h)
		}
		if g.units.CompareAndSwap(n, n+1) {
			return g.est.addHash(g.h, g.v)
		}
	}
}

// Get returns the current estimate of the Guard's key.
func (g *Guard) Get() int64 { return g.est.getHash(g.h) }

// Release subtracts everything the Guard added from its key. Only the first
// call has an effect; later calls do nothing, so a Release on every path
// plus a deferred one is safe.
func (g *Guard) Release() {
	if n := g.units.Swap(-1); n > 0 {
		g.est.addHash(g.h, -n*g.v)
	}
}
