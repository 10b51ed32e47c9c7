// Package memcache is an in-memory cache with per-entry TTLs, and a
// read-through cache on top of it that loads each missing key once however
// many callers ask for it at the same time.
//
// It ports pingora-memory-cache, from Cloudflare's Pingora. MemoryCache is a
// tinyufo.Cache (S3-FIFO eviction, TinyLFU admission, every entry weight 1)
// whose entries expire; Get reports Hit, Miss or Expired, and GetStale also
// returns expired values with how long ago they expired. RTCache loads
// misses through a Lookup, holding a per-key lock so that one caller loads
// while the others wait and then read its result (status LockHit).
//
//	users := memcache.NewRT(10_000, memcache.LookupFunc[int, User](
//		func(ctx context.Context, id int) (User, time.Duration, error) {
//			u, err := db.User(ctx, id)
//			return u, 0, err // 0: cache for the ttl given to Get
//		}), memcache.RTOptions[int, User]{LockTimeout: time.Second})
//	u, status, err := users.Get(ctx, 42, time.Minute)
//
// # TTLs
//
// A TTL of zero or less stores nothing; NoTTL never expires. An entry is
// expired from the instant its TTL has passed. The *At methods of
// MemoryCache take the current time as an argument, for tests; the others
// read the clock.
//
// # Read-through
//
// On a miss RTCache.Get takes the key's lock if it is free and runs the
// lookup; when it succeeds the value is cached, bypassing admission (callers
// are waiting for it), for the TTL the lookup returned or, if that is zero,
// the one given to Get. Callers that find the lock taken wait until the
// lookup ends, then read the cache; if the lookup failed they run their own
// (and cache it). A caller that has waited RTOptions.LockTimeout, or finds a
// lock older than RTOptions.LockAge, runs its own lookup without caching the
// result. A waiter whose context ends returns its error at once. Lookup
// errors are wrapped in ErrLookup and never cached. GetStaleWhileUpdate
// serves a stale value and refreshes it in the background.
//
// # Concurrency
//
// MemoryCache and RTCache are safe for concurrent use. Gets of cached values
// take no lock. Values are returned as stored: a V that is a pointer, slice
// or map is shared between callers.
//
// # Defaults
//
// Sizes below 1 are taken as 1. RTOptions' zero value: locks never age,
// waiters wait for the lookup however long it takes (bounded by their
// context), and MultiGet loads misses one by one.
package memcache
