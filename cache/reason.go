package cache

import "strconv"

// NoCacheReason says why a response is not cached. The zero value, OK,
// means it is. The first group are Pingora's reasons (String returns the
// same names); the second group refines Pingora's OriginNotCache.
type NoCacheReason int

// Reasons a response is not cached.
const (
	OK                        NoCacheReason = iota // cacheable
	NeverEnabled                                   // caching was not enabled for the request
	OriginNotCache                                 // the origin's response forbids caching
	ResponseTooLarge                               // the body exceeded the maximum object size
	PredictedResponseTooLarge                      // Content-Length exceeded it before the body
	StorageError                                   // the storage failed
	InternalError                                  // a bug or an unexpected state
	Deferred                                       // the decision was postponed by the user
	DeclinedToUpstream                             // the request was not sent upstream
	UpstreamError                                  // the upstream failed
	CacheLockGiveUp                                // the lock writer decided not to cache
	CacheLockTimeout                               // waiting on the cache lock timed out

	// MethodNotCacheable: the request method is not GET or HEAD.
	MethodNotCacheable
	// StatusNotCacheable: 1xx, 206 (ranges are not stored yet) or 304.
	StatusNotCacheable
	// Authorized: the request had Authorization and the response did not
	// allow sharing it (RFC 9111 §3.5).
	Authorized
	// NoStore: no-store in the request or the response (RFC 9111 §5.2).
	NoStore
	// Private: unqualified private in the response (RFC 9111 §5.2.2.7).
	Private
	// VaryStar: the response has Vary: * (RFC 9111 §4.1).
	VaryStar
	// SetsCookie: the response has Set-Cookie and Defaults.AllowSetCookie
	// is false.
	SetsCookie
	// NoFreshness: no explicit freshness and Defaults.FreshFor gave none.
	NoFreshness
)

var reasonNames = [...]string{
	OK:                        "OK",
	NeverEnabled:              "NeverEnabled",
	OriginNotCache:            "OriginNotCache",
	ResponseTooLarge:          "ResponseTooLarge",
	PredictedResponseTooLarge: "PredictedResponseTooLarge",
	StorageError:              "StorageError",
	InternalError:             "InternalError",
	Deferred:                  "Deferred",
	DeclinedToUpstream:        "DeclinedToUpstream",
	UpstreamError:             "UpstreamError",
	CacheLockGiveUp:           "CacheLockGiveUp",
	CacheLockTimeout:          "CacheLockTimeout",
	MethodNotCacheable:        "MethodNotCacheable",
	StatusNotCacheable:        "StatusNotCacheable",
	Authorized:                "Authorized",
	NoStore:                   "NoStore",
	Private:                   "Private",
	VaryStar:                  "VaryStar",
	SetsCookie:                "SetsCookie",
	NoFreshness:               "NoFreshness",
}

// String returns the reason's name, as Pingora's as_str does.
func (r NoCacheReason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "NoCacheReason(" + strconv.Itoa(int(r)) + ")"
}

// FromOrigin reports whether the reason comes from the request or the
// origin's response (Pingora's OriginNotCache and its refinements) rather
// than from the cache itself.
func (r NoCacheReason) FromOrigin() bool {
	return r == OriginNotCache || r >= MethodNotCacheable
}
