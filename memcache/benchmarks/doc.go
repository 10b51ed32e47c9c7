// Package benchmarks compares memcache's read-through cache with otter v2's
// loading cache (Cache.Get with a Loader). It is a separate module so that
// memcache itself needs no third-party code.
package benchmarks
