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
//   - ParseRange parses a Range header (RFC 9110 §14); RangeHeaderFilter
//     answers a request's Range from a full 200 response (206 with
//     Content-Range, 206 multipart/byteranges, or 416), evaluating
//     If-Range, and RangeResponse.Body cuts the stored body to match
//     (Pingora's range_filter in pingora-proxy).
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
// and on a hit, serving ranges:
//
//	meta, hit, found, err := storage.Lookup(key) // then defer hit.Close()
//	resp := meta.Header().Clone()
//	rr := cache.RangeHeaderFilter(req, resp, 0) // 200, 206 or 416
//	body := rr.Body(hit)                        // send resp, then body
//
// # Ranges
//
// Only GET requests for 200 responses with one valid Content-Length get
// ranges; a full response that could (GET or HEAD) is sent with
// Accept-Ranges: bytes. A Range with a malformed part, another unit,
// overlapping or descending ranges, or more than DefaultMaxRanges (200)
// range-specs is ignored (full 200); unsatisfiable range-specs are
// dropped, and 416 is sent if none remains. If-Range matches only by
// strong comparison: a strong ETag, or a Last-Modified date at least 60
// seconds older than the stored Date. Multipart boundaries are 128
// random bits (crypto/rand). A HitHandler that implements io.ReaderAt
// (MemoryStorage's does) is read at the ranges' offsets; any other is
// read sequentially, seeking if it can.
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
//   - Ranges follow RFC 9110 where Pingora differs: HEAD requests get no
//     206 (RFC 9110 §14.2: ranges are defined for GET only); a range-spec
//     whose last-pos is below its first-pos makes the whole Range invalid
//     (ignored) rather than being skipped; "bytes=" without range-specs
//     is ignored rather than answered with 416; up to maxRanges
//     range-specs are accepted (Pingora refuses maxRanges itself); empty
//     list elements are skipped; numbers too large for an int64 saturate;
//     If-Range uses strong comparison and parsed dates, and needs a
//     strong Last-Modified (Pingora compares bytes); a part has no
//     Content-Type when the response had none (Pingora writes
//     application/octet-stream); a suffix range of an empty
//     representation is ignored (Pingora builds an invalid
//     Content-Range). The multipart body has no leading CRLF before the
//     first delimiter.
//   - NoCacheReason refines Pingora's OriginNotCache into specific reasons
//     (FromOrigin reports the family).
//   - Meta is immutable: Revalidated returns a new Meta.
//
// # Defaults
//
// Defaults' zero value caches only responses with explicit freshness and
// serves nothing stale. MemoryStorage holds DefaultMemorySize (64 MiB)
// with objects up to DefaultMaxObjectSize (8 MiB), at most
// MaxObjectSizeLimit (about 64 MiB). ParseRange and RangeHeaderFilter,
// given maxRanges 0, accept at most DefaultMaxRanges (200) range-specs.
// Lock voids a writer's lock after DefaultLockAgeTimeout (5s) and readers
// wait at most DefaultLockWaitTimeout (5s). Delta-seconds are capped at
// MaxDelta (2^31−1).
//
// # Concurrency
//
// MemoryStorage and Lock are safe for concurrent use; lookups take no
// lock. A Meta may be read by many goroutines; its Header must not be
// modified. Parsing functions are pure. A MissHandler belongs to one
// goroutine, as does the reader returned by RangeResponse.Body.
//
// # Not done yet
//
// Storing partial (206) responses, the uncacheable predictor,
// eviction managers other than MemoryStorage's own, disk storage,
// streaming partial reads (a reader sees an object only once its write
// has finished), request-side freshness directives (max-age, min-fresh,
// max-stale in requests), If-Match/If-Unmodified-Since, and the
// integration into the proxy (the HttpCache state machine, purge) are
// part 2.
package cache
