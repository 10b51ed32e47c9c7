package memcache

// Status tells where a value came from, Pingora's CacheStatus.
type Status uint8

const (
	// Miss: the key was not cached.
	Miss Status = iota
	// Hit: the key was cached and fresh.
	Hit
	// Expired: the key was cached but its TTL had passed.
	Expired
	// LockHit: RTCache found the value after waiting for another caller's
	// lookup of the same key.
	LockHit
	// Stale: an expired value was returned because it was within the
	// allowed staleness.
	Stale
)

// String returns Pingora's name for s: hit, miss, expired, lock_hit or stale.
func (s Status) String() string {
	switch s {
	case Hit:
		return "hit"
	case Miss:
		return "miss"
	case Expired:
		return "expired"
	case LockHit:
		return "lock_hit"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// IsHit reports whether a value was served from the cache: Hit, LockHit or
// Stale.
func (s Status) IsHit() bool { return s == Hit || s == LockHit || s == Stale }
