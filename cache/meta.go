package cache

import (
	"time"

	"github.com/pingora-go/pingora/httpheader"
)

// Meta describes a stored response (Pingora's CacheMeta): its header and
// the times that decide its freshness. A Meta is immutable once built by
// ResponseCacheable or Revalidated, so storage can share it between
// readers; WithVariance returns a modified copy.
type Meta struct {
	created    time.Time
	updated    time.Time
	freshUntil time.Time
	initialAge time.Duration // upstream's age when stored or last revalidated
	swr, sie   time.Duration
	header     *httpheader.ResponseHeader
	variance   Hash
}

// NewMeta builds a Meta directly, for callers that decide freshness
// themselves (Pingora's CacheMeta::new). header is stored as given (not
// copied); the caller must not modify it afterwards.
func NewMeta(header *httpheader.ResponseHeader, created, freshUntil time.Time, staleWhileRevalidate, staleIfError time.Duration) *Meta {
	return &Meta{
		created:    created,
		updated:    created,
		freshUntil: freshUntil,
		swr:        max(staleWhileRevalidate, 0),
		sie:        max(staleIfError, 0),
		header:     header,
	}
}

// setFreshness sets the fields derived from the response's freshness
// lifetime and initial age, measured from m.updated.
func (m *Meta) setFreshness(lifetime, age time.Duration, cc *CacheControl, d Defaults) {
	m.initialAge = age
	m.freshUntil = m.updated.Add(lifetime - age)
	m.swr, m.sie = staleDurations(cc, d)
}

// Created returns when the response was first stored.
func (m *Meta) Created() time.Time { return m.created }

// Updated returns when the response was stored or last revalidated.
func (m *Meta) Updated() time.Time { return m.updated }

// FreshUntil returns the first instant at which the response is stale.
func (m *Meta) FreshUntil() time.Time { return m.freshUntil }

// StaleWhileRevalidate returns how long after FreshUntil the response may
// be served while it is revalidated (RFC 5861 §3).
func (m *Meta) StaleWhileRevalidate() time.Duration { return m.swr }

// StaleIfError returns how long after FreshUntil the response may be
// served when revalidation fails (RFC 5861 §4).
func (m *Meta) StaleIfError() time.Duration { return m.sie }

// Header returns the stored response header. It is shared: callers must
// not modify it (Clone it to build a response).
func (m *Meta) Header() *httpheader.ResponseHeader { return m.header }

// Variance returns the variance hash the response was stored under (zero:
// the response has no Vary).
func (m *Meta) Variance() Hash { return m.variance }

// WithVariance returns a copy of m with the given variance hash.
func (m *Meta) WithVariance(v Hash) *Meta {
	c := *m
	c.variance = v
	return &c
}

// IsFresh reports whether the response is fresh at now (RFC 9111 §4.2:
// freshness lifetime > current age).
func (m *Meta) IsFresh(now time.Time) bool { return now.Before(m.freshUntil) }

// Age returns the response's current age at now (RFC 9111 §4.2.3): the
// age it had when stored or last revalidated plus the time since, never
// negative. A cache hit sends it, in whole seconds, as the Age header.
func (m *Meta) Age(now time.Time) time.Duration {
	return max(m.initialAge+now.Sub(m.updated), 0)
}

// CanServeStaleWhileRevalidate reports whether, at now, the response may
// be served stale while it is revalidated in the background: the
// allowance is not zero and now is at most FreshUntil plus it. Like
// Pingora's, it does not check that the response is stale.
func (m *Meta) CanServeStaleWhileRevalidate(now time.Time) bool {
	return m.swr > 0 && !now.After(m.freshUntil.Add(m.swr))
}

// CanServeStaleIfError reports whether, at now, the response may be
// served stale because the origin failed: the allowance is not zero and
// now is at most FreshUntil plus it.
func (m *Meta) CanServeStaleIfError(now time.Time) bool {
	return m.sie > 0 && !now.After(m.freshUntil.Add(m.sie))
}

// notUpdated are fields a 304 does not change in the stored header: the
// stored body's framing and encoding (RFC 9111 §3.2; RFC 9110 §8.6).
var notUpdated = [...]string{"Content-Length", "Content-Encoding", "Content-Range", "Content-Type"}

// Revalidated returns the Meta for the stored response after a 304 Not
// Modified (resp304) received at now: the 304's fields replace the stored
// ones with the same names, except framing and encoding fields (RFC 9111
// §3.2, §4.3.4), and freshness is computed again from the merged header
// as ResponseCacheable does, the status being the stored one (so
// Defaults.FreshFor sees 200, as in Pingora). Created and the variance are
// kept. If the merged header now forbids storing (no-store, private,
// Vary: *, no freshness) or the 304 sets a cookie that Defaults do not
// allow, it returns nil and the reason; the caller should then purge the
// object.
func (m *Meta) Revalidated(resp304 *httpheader.ResponseHeader, now time.Time, d Defaults) (*Meta, NoCacheReason) {
	merged := m.header.Clone()
	seen := make(map[string]bool)
	for name := range resp304.All() {
		if seen[lower(name)] || isNotUpdated(name) {
			continue
		}
		seen[lower(name)] = true
		merged.Del(name)
		for v := range resp304.Values(name) {
			_, _ = merged.Add(name, v) // copied from a valid header
		}
	}
	if !d.AllowSetCookie && resp304.Has("Set-Cookie") {
		return nil, SetsCookie
	}
	cc := ParseCacheControl(&merged.Header)
	if cc.MustUnderstand && understoodStatus(merged.Status()) {
		cc.NoStore = false // RFC 9111 §5.2.2.3, as in ResponseCacheable
	}
	switch {
	case cc.NoStore:
		return nil, NoStore
	case cc.Private:
		return nil, Private
	}
	if _, star := ParseVary(&merged.Header); star {
		return nil, VaryStar
	}
	lifetime, ok := freshnessLifetime(&cc, &merged.Header, merged.Status(), now, d)
	if !ok {
		return nil, NoFreshness
	}
	n := &Meta{created: m.created, updated: now, variance: m.variance}
	n.setFreshness(lifetime, initialAge(&resp304.Header, now), &cc, d)
	stripUnstorable(&merged.Header, &cc)
	n.header = merged
	return n, OK
}

func isNotUpdated(name string) bool {
	for _, f := range notUpdated {
		if equalFold(name, f) {
			return true
		}
	}
	return false
}

// lower returns s in ASCII lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca >= 'A' && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if cb >= 'A' && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
