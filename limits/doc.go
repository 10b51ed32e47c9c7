// Package limits counts events per key in constant memory: a count–min
// sketch ([Estimator]), per-interval rates built on it ([Rate]) and in-flight
// counts with release guards ([Inflight]).
//
// It ports pingora-limits from Cloudflare's Pingora 0.8. The typical use is
// a rate limiter keyed by client:
//
//	limiter, _ := limits.NewRate(time.Second, limits.Options{})
//	if limiter.Observe(appID, 1) > maxPerSecond {
//		w.WriteHeader(http.StatusTooManyRequests)
//		return
//	}
//
// and a cap on concurrent work per key:
//
//	g, n := inflight.Incr(appID, 1)
//	defer g.Release()
//	if n > maxConcurrent { … }
//
// # Estimates
//
// All counts are estimates from a count–min sketch of signed 64-bit
// counters: a key's count can be overstated when other keys share its
// counters in every row, never understated (for non-negative updates). With
// hashes rows of slots counters, a pair of keys collides completely with
// probability about (1/slots)^hashes. Lookups cost O(hashes) and never
// allocate; memory is fixed at 8×hashes×slots bytes whatever the number of
// keys. Keys are hashed once (wyhash, with a random seed per Estimator) and
// each row takes its counter's index from its own bits of that hash, so
// estimates differ from run to run. Sketches whose slots are a power of two
// and whose rows fit in 64 bits of hash (hashes×log2(slots) ≤ 64, as for
// every default below) take the fastest path; others use 32 bits per row
// and hash once more for every two rows after the first two.
//
// # Defaults
//
// [NewRate] uses 4 hashes × 1024 slots per estimator (it holds two);
// [NewInflight] uses 4 hashes × 8192 slots; [Options] overrides both. The
// rate interval has no default: Pingora's rate limiter example uses one
// second.
//
// # Time
//
// [Rate] reads the monotonic clock; each method has an At variant
// ([Rate.ObserveAt], [Rate.RateAt], [Rate.RateWithAt]) that takes the
// current time instead, so tests can be exact.
//
// # Differences from Pingora
//
// Keys are strings (the Estimator also takes byte slices) rather than any
// hashable value. Pingora's in-flight Guard decrements when dropped; here
// [Guard.Release] does it, is idempotent, and takes back every addition the
// guard made (Pingora's drop takes back one). Rate keeps time in
// nanoseconds, not milliseconds.
//
// # Concurrency
//
// Every type is safe for concurrent use by multiple goroutines and
// lock-free: counters are updated with atomic adds.
package limits
