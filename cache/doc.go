// Package cache is the core of an HTTP cache for a shared (proxy) cache,
// after RFC 9111: it ports the parts of Pingora's pingora-cache crate that
// do not touch the proxy.
//
//   - ParseCacheControl parses Cache-Control (RFC 9111 §5.2, RFC 5861).
//   - ResponseCacheable decides whether a response may be stored and
//     builds its Meta: freshness lifetime, current age, stale allowances,
//     the stored header (Pingora's filters::resp_cacheable).
//   - Meta answers IsFresh, Age, CanServeStaleWhileRevalidate and
//     CanServeStaleIfError, and Revalidated merges a 304 (RFC 9111 §4.3.4).
//   - Key and Variance name stored objects; RequestKey builds the key of
//     a request's target URI, always including the host; ParseVary reads
//     Vary.
//   - UpstreamRequest prepares a miss or revalidation request for the
//     origin; NotModified evaluates a client's If-None-Match and
//     If-Modified-Since against a stored response.
//   - Storage is the storage interface and MemoryStorage a bounded
//     in-memory implementation on tinyufo.
//   - Lock is the cache lock that stops a stampede of misses on one key.
//
// Usage, on a miss:
//
//	key, err := cache.RequestKey(nil, "https", req) // err: bypass the cache
//	meta, reason := cache.ResponseCacheable(req, resp, time.Now(), defaults)
//	if reason == cache.OK {
//		key.Variance = meta.Variance()
//		w, _ := storage.Miss(key, meta) // then w.Write(chunk) ..., w.Finish()
//	}
//
// # Differences from Pingora
//
//   - Hashes are SHA-256 truncated to 16 bytes, where Pingora uses
//     BLAKE2b-128 (the standard library has no BLAKE2b), and the primary
//     hash prefixes the namespace with its length so that different
//     (namespace, primary) pairs cannot collide by concatenation. Hashes
//     therefore differ from Pingora's.
//   - An invalid max-age or s-maxage makes the response stale at once
//     (RFC 9111 §4.2.1 advice); Pingora ignores the directive.
//   - The initial age is the larger of the Age header and now − Date (RFC
//     9111 §4.2.3), and is subtracted from the freshness lifetime; Pingora
//     ignores both. A request's no-store prevents storing.
//   - Responses with Set-Cookie are not cached unless
//     Defaults.AllowSetCookie, and the stored copy never has Set-Cookie;
//     Pingora stores them as they are. Hop-by-hop fields and Age are not
//     stored either.
//   - 206, 304 and 1xx responses are never cacheable (ranges are not
//     stored yet).
//   - NoCacheReason refines Pingora's OriginNotCache into specific reasons
//     (FromOrigin reports the family).
//   - Meta is immutable: Revalidated returns a new Meta.
//
// # Defaults
//
// Defaults' zero value caches only responses with explicit freshness and
// serves nothing stale. MemoryStorage holds DefaultMemorySize (64 MiB)
// with objects up to DefaultMaxObjectSize (8 MiB), at most
// MaxObjectSizeLimit (about 64 MiB). Lock voids a writer's lock after
// DefaultLockAgeTimeout (5s) and readers wait at most
// DefaultLockWaitTimeout (5s). Delta-seconds are capped at MaxDelta
// (2^31−1).
//
// # Concurrency
//
// MemoryStorage and Lock are safe for concurrent use; lookups take no
// lock. A Meta may be read by many goroutines; its Header must not be
// modified. Parsing functions are pure. A MissHandler belongs to one
// goroutine.
//
// # Not done yet
//
// Range requests (206, multipart/byteranges), the uncacheable predictor,
// eviction managers other than MemoryStorage's own, disk storage,
// streaming partial reads (a reader sees an object only once its write
// has finished), request-side freshness directives (max-age, min-fresh,
// max-stale in requests), If-Match/If-Unmodified-Since, and the
// integration into the proxy (the HttpCache state machine, purge) are
// part 2.
package cache
