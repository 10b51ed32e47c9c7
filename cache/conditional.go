package cache

import (
	"strings"

	"github.com/pingora-go/pingora/httpheader"
)

// NotModified reports whether a client's conditional request req, answered
// from the stored response header stored, should get 304 Not Modified
// instead of the stored response (RFC 9110 §13.2.2 steps 3–4; RFC 9111
// §4.3.2):
//   - only for GET and HEAD, and only when stored is a 2xx (§13.2.1);
//   - If-None-Match, when present, alone decides: 304 if any listed
//     entity-tag matches the stored ETag by weak comparison, or it is "*"
//     (§13.1.2);
//   - otherwise If-Modified-Since, when a valid HTTP-date, gives 304 if
//     the stored Last-Modified (or, lacking it, Date) is not later than it
//     (§13.1.3).
//
// If-Match and If-Unmodified-Since (412 Precondition Failed) are not
// evaluated.
func NotModified(req *httpheader.RequestHeader, stored *httpheader.ResponseHeader) bool {
	if !RequestCacheable(req) || stored.Status() < 200 || stored.Status() > 299 {
		return false
	}
	if req.Has("If-None-Match") {
		etag, ok := parseETag(strings.TrimSpace(stored.Get("ETag")))
		for v := range req.Values("If-None-Match") {
			if noneMatchListMatches(v, etag, ok) {
				return true
			}
		}
		return false
	}
	ims := req.Get("If-Modified-Since")
	if ims == "" || req.Count("If-Modified-Since") != 1 {
		return false
	}
	since, ok := ParseHTTPDate(ims)
	if !ok {
		return false
	}
	lm := stored.Get("Last-Modified")
	if lm == "" {
		lm = stored.Get("Date")
	}
	modified, ok := ParseHTTPDate(lm)
	return ok && !modified.After(since)
}

// entityTag is a parsed entity-tag (RFC 9110 §8.8.3).
type entityTag struct {
	weak   bool
	opaque string // without quotes
}

// parseETag parses one entity-tag, all of s.
func parseETag(s string) (entityTag, bool) {
	t, rest, ok := cutETag(s)
	return t, ok && rest == ""
}

// cutETag parses the entity-tag at the start of s.
func cutETag(s string) (t entityTag, rest string, ok bool) {
	if strings.HasPrefix(s, "W/") {
		t.weak, s = true, s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return t, s, false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return t, s, false
	}
	opaque := s[1 : 1+end]
	for i := 0; i < len(opaque); i++ {
		if c := opaque[i]; c != 0x21 && (c < 0x23 || c == 0x7f) {
			return t, s, false // etagc = %x21 / %x23-7E / obs-text
		}
	}
	t.opaque = opaque
	return t, s[end+2:], true
}

// noneMatchListMatches reports whether one If-None-Match line matches the
// stored entity-tag (weak comparison). "*" matches any stored response.
// Malformed elements are skipped.
func noneMatchListMatches(list string, stored entityTag, haveStored bool) bool {
	s := strings.TrimSpace(list)
	if s == "*" {
		return true
	}
	for s != "" {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		t, rest, ok := cutETag(s)
		if !ok {
			// Skip to the next element.
			i := strings.IndexByte(s, ',')
			if i < 0 {
				break
			}
			s = s[i:]
			continue
		}
		if haveStored && t.opaque == stored.opaque {
			return true
		}
		s = rest
	}
	return false
}
