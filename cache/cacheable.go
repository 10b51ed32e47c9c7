package cache

import (
	"strings"
	"time"

	"github.com/pingora-go/pingora/httpheader"
)

// Defaults supply freshness when the response gives none (Pingora's
// CacheMetaDefaults). The zero value caches only responses with explicit
// freshness and allows no stale serving.
type Defaults struct {
	// FreshFor returns how long a response with this status stays fresh
	// when it has no Cache-Control max-age/s-maxage and no usable Expires
	// (heuristic freshness, RFC 9111 §4.2.2), and false to not cache it.
	// It is also asked for the stored status when a 304 revalidates an
	// object. If nil, such responses are not cached.
	FreshFor func(status int) (time.Duration, bool)
	// StaleWhileRevalidate applies when Cache-Control has no
	// stale-while-revalidate. If zero, none.
	StaleWhileRevalidate time.Duration
	// StaleIfError applies when Cache-Control has no stale-if-error. If
	// zero, none.
	StaleIfError time.Duration
	// AllowSetCookie caches responses that carry Set-Cookie; the stored
	// copy never keeps the Set-Cookie lines. If false, such responses are
	// not cached: a shared cache must not hand one user's cookie, or a page
	// made for that session, to others.
	AllowSetCookie bool
}

// RequestCacheable reports whether the request method allows caching:
// GET and HEAD only.
func RequestCacheable(req *httpheader.RequestHeader) bool {
	m := req.Method()
	return m == "GET" || m == "HEAD"
}

// ResponseCacheable decides whether resp, received at now for req, may be
// stored by a shared cache, and if so returns its Meta (Pingora's
// resp_cacheable). reason is OK exactly when meta is not nil.
//
// The rules, in order:
//   - method GET or HEAD; status final and not 206 or 304;
//   - no no-store in the request or the response (RFC 9111 §3), except
//     that must-understand overrides the response's no-store when the
//     status is one this cache understands, and refuses the others
//     (§5.2.2.3);
//   - with Authorization in the request, the response must say public,
//     must-revalidate or s-maxage (RFC 9111 §3.5);
//   - no unqualified private (RFC 9111 §5.2.2.7); no Vary: *;
//   - no Set-Cookie unless Defaults.AllowSetCookie;
//   - freshness lifetime from s-maxage, else max-age (RFC 9111 §4.2.1),
//     with no-cache making it zero (stored, but revalidated before any
//     use, §5.2.2.4) and an invalid value of either making it zero (the
//     RFC 9111 §4.2.1 advice; Pingora ignores such a value); else from a
//     single Expires minus Date (an invalid Expires is in the past,
//     §5.3; several Expires lines are ignored); else Defaults.FreshFor;
//   - current age from Age and Date (RFC 9111 §4.2.3) is subtracted;
//   - stale-while-revalidate / stale-if-error from Cache-Control else
//     Defaults, both zero with must-revalidate, proxy-revalidate or
//     s-maxage (RFC 9111 §4.2.4, §3.5).
//
// The stored header is a copy of resp without the fields named by
// private="…" and no-cache="…", hop-by-hop fields (RFC 9111 §3.1) and
// Set-Cookie.
func ResponseCacheable(req *httpheader.RequestHeader, resp *httpheader.ResponseHeader, now time.Time, d Defaults) (*Meta, NoCacheReason) {
	if !RequestCacheable(req) {
		return nil, MethodNotCacheable
	}
	if s := resp.Status(); s < 200 || s == 206 || s == 304 {
		return nil, StatusNotCacheable
	}
	if req.Has("Cache-Control") && ParseCacheControl(&req.Header).NoStore {
		return nil, NoStore
	}
	cc := ParseCacheControl(&resp.Header)
	if cc.MustUnderstand {
		// RFC 9111 §5.2.2.3: store only if the status is understood, and
		// then ignore no-store.
		if !understoodStatus(resp.Status()) {
			return nil, StatusNotCacheable
		}
		cc.NoStore = false
	}
	if cc.NoStore {
		return nil, NoStore
	}
	if req.Has("Authorization") && !cc.Public && !cc.MustRevalidate && !cc.SMaxAge.Present {
		return nil, Authorized
	}
	if cc.Private {
		return nil, Private
	}
	vary, star := ParseVary(&resp.Header)
	if star {
		return nil, VaryStar
	}
	if !d.AllowSetCookie && resp.Has("Set-Cookie") {
		return nil, SetsCookie
	}
	lifetime, ok := freshnessLifetime(&cc, &resp.Header, resp.Status(), now, d)
	if !ok {
		return nil, NoFreshness
	}
	m := &Meta{
		created:  now,
		updated:  now,
		header:   storedHeader(resp, &cc),
		variance: Variance(vary, req),
	}
	m.setFreshness(lifetime, initialAge(&resp.Header, now), &cc, d)
	return m, OK
}

// maxLifetime caps lifetimes and ages (RFC 9111 §1.2.2).
const maxLifetime = MaxDelta * time.Second

// understoodStatus reports whether the cache implements the caching rules
// of status (for must-understand): the heuristically cacheable codes of
// RFC 9110 §15.1 and the redirects.
func understoodStatus(status int) bool {
	switch status {
	case 200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501:
		return true
	}
	return false
}

// freshnessLifetime returns the response's freshness lifetime and false
// if it has none.
func freshnessLifetime(cc *CacheControl, h *httpheader.Header, status int, now time.Time, d Defaults) (time.Duration, bool) {
	if cc.NoCache {
		return 0, true
	}
	for _, delta := range [2]Delta{cc.SMaxAge, cc.MaxAge} {
		if delta.Present {
			return time.Duration(delta.Seconds) * time.Second, true // 0 if Invalid
		}
	}
	if h.Count("Expires") == 1 {
		expires, ok := ParseHTTPDate(h.Get("Expires"))
		if !ok {
			return 0, true
		}
		date, ok := ParseHTTPDate(h.Get("Date"))
		if !ok {
			// Without a Date, the cache's receipt time stands in for it
			// (RFC 9110 §6.6.1); the caller measures from now.
			date = now
		}
		return min(max(expires.Sub(date), 0), maxLifetime), true
	}
	if d.FreshFor != nil {
		if ttl, ok := d.FreshFor(status); ok {
			return min(max(ttl, 0), maxLifetime), true
		}
	}
	return 0, false
}

// initialAge is corrected_initial_age of RFC 9111 §4.2.3 without the
// response delay: the larger of the Age header and now − Date.
func initialAge(h *httpheader.Header, now time.Time) time.Duration {
	var age time.Duration
	if v := h.Get("Age"); v != "" {
		if secs, ok := parseDelta(strings.TrimSpace(v)); ok {
			age = time.Duration(secs) * time.Second
		}
	}
	if date, ok := ParseHTTPDate(h.Get("Date")); ok {
		age = max(age, now.Sub(date))
	}
	return min(max(age, 0), maxLifetime)
}

// staleDurations returns the stale-while-revalidate and stale-if-error
// allowances.
func staleDurations(cc *CacheControl, d Defaults) (swr, sie time.Duration) {
	if cc.MustRevalidate || cc.ProxyRevalidate || cc.SMaxAge.Present {
		return 0, 0
	}
	swr, sie = max(d.StaleWhileRevalidate, 0), max(d.StaleIfError, 0)
	if cc.StaleWhileRevalidate.Present {
		swr = time.Duration(cc.StaleWhileRevalidate.Seconds) * time.Second
	}
	if cc.StaleIfError.Present {
		sie = time.Duration(cc.StaleIfError.Seconds) * time.Second
	}
	return swr, sie
}

// hopByHop are fields a cache must not store (RFC 9111 §3.1) or that
// describe one message's framing.
var hopByHop = [...]string{
	"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Transfer-Encoding",
	"Upgrade", "Trailer", "Proxy-Authenticate", "Proxy-Authentication-Info",
	"Proxy-Authorization",
}

// storedHeader returns the copy of resp that a cache keeps. Age is
// removed: Meta.Age accounts for it.
func storedHeader(resp *httpheader.ResponseHeader, cc *CacheControl) *httpheader.ResponseHeader {
	h := resp.Clone()
	stripUnstorable(&h.Header, cc)
	return h
}

// stripUnstorable removes from h what a cache must not store or hand to
// another client.
func stripUnstorable(h *httpheader.Header, cc *CacheControl) {
	if h.Has("Connection") {
		var named []string
		for v := range h.Values("Connection") {
			for f := range strings.SplitSeq(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					named = append(named, f)
				}
			}
		}
		for _, f := range named {
			h.Del(f)
		}
	}
	for _, f := range hopByHop {
		h.Del(f)
	}
	h.Del("Set-Cookie")
	h.Del("Age") // Meta keeps the age; a hit recomputes the header
	for _, f := range cc.PrivateFields {
		h.Del(f)
	}
	for _, f := range cc.NoCacheFields {
		h.Del(f)
	}
}

// UpstreamRequest prepares req, a cache miss or revalidation, for the
// origin (Pingora's filters::upstream::request_filter): HEAD becomes GET
// so that the full response can be stored, the client's preconditions
// and Range are removed, and when meta is not nil (revalidating a stored
// response) its Last-Modified and ETag become If-Modified-Since and
// If-None-Match.
func UpstreamRequest(req *httpheader.RequestHeader, meta *Meta) {
	if req.Method() == "HEAD" {
		_ = req.SetMethod("GET") // a constant token: cannot fail
	}
	for _, f := range [...]string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"} {
		req.Del(f)
	}
	if meta == nil {
		return
	}
	if v := meta.header.Get("Last-Modified"); v != "" {
		_ = req.Set("If-Modified-Since", v) // stored values are valid
	}
	if v := meta.header.Get("ETag"); v != "" {
		_ = req.Set("If-None-Match", v)
	}
}
