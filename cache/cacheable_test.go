package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tenSeconds caches 200s for 10s and 404s for 5s, like Pingora's test
// defaults.
var tenSeconds = Defaults{FreshFor: func(status int) (time.Duration, bool) {
	switch status {
	case 200:
		return 10 * time.Second, true
	case 404:
		return 5 * time.Second, true
	}
	return 0, false
}}

func TestResponseCacheable(t *testing.T) {
	date := FormatHTTPDate(t0)
	in := func(d time.Duration) string { return FormatHTTPDate(t0.Add(d)) }
	tests := []struct {
		name     string
		method   string
		req      []string
		status   int
		resp     []string
		defaults Defaults
		reason   NoCacheReason
		ttl      time.Duration // FreshUntil − now, when cacheable
	}{
		{name: "max-age", resp: []string{"Cache-Control", "max-age=60"}, ttl: time.Minute},
		{name: "HEAD cacheable", method: "HEAD", resp: []string{"Cache-Control", "max-age=60"}, ttl: time.Minute},
		{name: "POST not", method: "POST", resp: []string{"Cache-Control", "max-age=60"}, reason: MethodNotCacheable},
		{name: "206 not", status: 206, resp: []string{"Cache-Control", "max-age=60"}, reason: StatusNotCacheable},
		{name: "304 not", status: 304, resp: []string{"Cache-Control", "max-age=60"}, reason: StatusNotCacheable},
		{name: "404 explicit", status: 404, resp: []string{"Cache-Control", "max-age=7"}, ttl: 7 * time.Second},
		// RFC 9111 §4.2.1: s-maxage overrides max-age in a shared cache.
		{name: "s-maxage first", resp: []string{"Cache-Control", "max-age=60, s-maxage=5"}, ttl: 5 * time.Second},
		// §4.2.1: Cache-Control takes precedence over Expires.
		{name: "max-age over expires", resp: []string{"Date", date, "Expires", in(time.Hour), "Cache-Control", "max-age=0"}, ttl: 0},
		// §5.2.2.4: no-cache: stored, stale at once.
		{name: "no-cache", resp: []string{"Cache-Control", "no-cache, max-age=60"}, ttl: 0},
		{name: "max-age=0", resp: []string{"Cache-Control", "max-age=0, public"}, ttl: 0},
		// §4.2.1: invalid freshness information: treat as stale.
		{name: "invalid max-age stale", resp: []string{"Cache-Control", "max-age=soon"}, defaults: tenSeconds, ttl: 0},
		// §5.2.2.5 / §5.2.1.5: no-store in the response or the request.
		{name: "no-store", resp: []string{"Cache-Control", "no-store, max-age=60"}, reason: NoStore},
		{name: "request no-store", req: []string{"Cache-Control", "no-store"}, resp: []string{"Cache-Control", "max-age=60"}, reason: NoStore},
		// §5.2.2.3: must-understand overrides no-store for known statuses.
		{name: "must-understand known status", resp: []string{"Cache-Control", "must-understand, no-store, max-age=60"}, ttl: time.Minute},
		{name: "must-understand unknown status", status: 299, resp: []string{"Cache-Control", "must-understand, no-store, max-age=60"}, reason: StatusNotCacheable},
		{name: "must-understand does not override request no-store", req: []string{"Cache-Control", "no-store"}, resp: []string{"Cache-Control", "must-understand, no-store, max-age=60"}, reason: NoStore},
		// §5.2.2.7: private is for private caches only.
		{name: "private", resp: []string{"Cache-Control", "private, max-age=60"}, reason: Private},
		{name: "private with fields is cacheable", resp: []string{"Cache-Control", `private="X-User", max-age=60`}, ttl: time.Minute},
		// §3.5: Authorization needs public, must-revalidate or s-maxage.
		{name: "auth without permission", req: []string{"Authorization", "Basic x"}, resp: []string{"Cache-Control", "max-age=60"}, reason: Authorized},
		{name: "auth no cc", req: []string{"Authorization", "Basic x"}, defaults: tenSeconds, reason: Authorized},
		{name: "auth public", req: []string{"Authorization", "Basic x"}, resp: []string{"Cache-Control", "public, max-age=60"}, ttl: time.Minute},
		{name: "auth must-revalidate", req: []string{"Authorization", "Basic x"}, resp: []string{"Cache-Control", "must-revalidate"}, defaults: tenSeconds, ttl: 10 * time.Second},
		{name: "auth s-maxage", req: []string{"Authorization", "Basic x"}, resp: []string{"Cache-Control", "s-maxage=10"}, ttl: 10 * time.Second},
		// §4.2.1: Expires − Date.
		{name: "expires", resp: []string{"Date", date, "Expires", in(30 * time.Second)}, ttl: 30 * time.Second},
		{name: "expires relative to date", resp: []string{"Date", in(-10 * time.Second), "Expires", in(20 * time.Second)},
			ttl: 20 * time.Second}, // lifetime 30s, apparent age 10s
		{name: "expires without date", resp: []string{"Expires", in(30 * time.Second)}, ttl: 30 * time.Second},
		{name: "expires past", resp: []string{"Date", date, "Expires", in(-time.Hour)}, ttl: 0},
		// §5.3: invalid Expires is in the past.
		{name: "expires invalid", resp: []string{"Expires", "0"}, ttl: 0},
		{name: "expires on 206-like default-uncacheable status", status: 203, resp: []string{"Expires", in(5 * time.Second)}, ttl: 5 * time.Second},
		// Several Expires: ignored, like Pingora.
		{name: "multiple expires ignored", resp: []string{"Expires", in(5 * time.Second), "Expires", in(9 * time.Second)}, reason: NoFreshness},
		{name: "multiple expires then default", resp: []string{"Expires", in(5 * time.Second), "Expires", in(9 * time.Second)}, defaults: tenSeconds, ttl: 10 * time.Second},
		{name: "defaults", defaults: tenSeconds, ttl: 10 * time.Second},
		{name: "defaults by status", status: 404, defaults: tenSeconds, ttl: 5 * time.Second},
		{name: "defaults decline", status: 500, defaults: tenSeconds, reason: NoFreshness},
		{name: "no freshness, nil defaults", reason: NoFreshness},
		// §4.2.3: the age the response already has counts against it.
		{name: "age header", resp: []string{"Cache-Control", "max-age=60", "Age", "20"}, ttl: 40 * time.Second},
		{name: "age over lifetime", resp: []string{"Cache-Control", "max-age=60", "Age", "100"}, ttl: -40 * time.Second},
		{name: "apparent age from date", resp: []string{"Cache-Control", "max-age=60", "Date", in(-15 * time.Second)}, ttl: 45 * time.Second},
		{name: "date in future no negative age", resp: []string{"Cache-Control", "max-age=60", "Date", in(time.Hour)}, ttl: time.Minute},
		{name: "invalid age ignored", resp: []string{"Cache-Control", "max-age=60", "Age", "-3"}, ttl: time.Minute},
		// RFC 9110 §12.5.5: Vary: * never matches.
		{name: "vary star", resp: []string{"Cache-Control", "max-age=60", "Vary", "Accept, *"}, reason: VaryStar},
		{name: "set-cookie refused", resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, reason: SetsCookie},
		{name: "set-cookie allowed", resp: []string{"Cache-Control", "max-age=60", "Set-Cookie", "a=b"}, defaults: Defaults{AllowSetCookie: true}, ttl: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			status := tt.status
			if status == 0 {
				status = 200
			}
			meta, reason := ResponseCacheable(request(t, method, tt.req...), response(t, status, tt.resp...), t0, tt.defaults)
			require.Equal(t, tt.reason, reason, reason.String())
			if tt.reason != OK {
				assert.Nil(t, meta)
				return
			}
			require.NotNil(t, meta)
			assert.Equal(t, tt.ttl, meta.FreshUntil().Sub(t0))
			assert.Equal(t, tt.ttl > 0, meta.IsFresh(t0))
			assert.Equal(t, t0, meta.Created())
			assert.Equal(t, t0, meta.Updated())
		})
	}
}

func TestResponseCacheable_StaleDurations(t *testing.T) {
	defaults := Defaults{StaleWhileRevalidate: time.Second, StaleIfError: time.Hour}
	tests := []struct {
		cc       string
		swr, sie time.Duration
	}{
		{"max-age=1", time.Second, time.Hour}, // defaults
		{"max-age=1, stale-while-revalidate=30, stale-if-error=60", 30 * time.Second, time.Minute},
		{"max-age=1, stale-while-revalidate=0", 0, time.Hour},
		// RFC 9111 §4.2.4 / §5.2.2.2: must-revalidate forbids stale use.
		{"max-age=1, must-revalidate, stale-while-revalidate=30", 0, 0},
		{"max-age=1, proxy-revalidate, stale-if-error=30", 0, 0},
		// §5.2.2.10: s-maxage implies proxy-revalidate.
		{"s-maxage=1, stale-while-revalidate=30", 0, 0},
		{"max-age=1, stale-if-error=99999999999", time.Second, MaxDelta * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.cc, func(t *testing.T) {
			meta, reason := ResponseCacheable(request(t, "GET"), response(t, 200, "Cache-Control", tt.cc), t0, defaults)
			require.Equal(t, OK, reason)
			assert.Equal(t, tt.swr, meta.StaleWhileRevalidate())
			assert.Equal(t, tt.sie, meta.StaleIfError())
		})
	}
}

func TestResponseCacheable_StoredHeader(t *testing.T) {
	resp := response(t, 200,
		"Cache-Control", `max-age=60, private="X-User", no-cache="X-Debug, Set-Cookie2"`,
		"X-User", "alice", "X-Debug", "1", "Set-Cookie2", "old", "Set-Cookie", "s=1",
		"Connection", "X-Hop, close", "X-Hop", "h", "Keep-Alive", "timeout=5",
		"Transfer-Encoding", "chunked", "Age", "3", "ETag", `"v1"`, "Content-Type", "text/plain")
	meta, reason := ResponseCacheable(request(t, "GET"), resp, t0, Defaults{AllowSetCookie: true})
	require.Equal(t, OK, reason)
	h := meta.Header()
	for _, gone := range []string{"X-User", "X-Debug", "Set-Cookie2", "Set-Cookie", "Connection", "X-Hop", "Keep-Alive", "Transfer-Encoding", "Age"} {
		assert.False(t, h.Has(gone), gone)
	}
	assert.Equal(t, `"v1"`, h.Get("ETag"))
	assert.Equal(t, "text/plain", h.Get("Content-Type"))
	assert.Equal(t, "alice", resp.Get("X-User"), "the response itself is not modified")
	assert.Equal(t, 3*time.Second, meta.Age(t0))
}

func TestResponseCacheable_Variance(t *testing.T) {
	resp := response(t, 200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding")
	gz, _ := ResponseCacheable(request(t, "GET", "Accept-Encoding", "gzip"), resp, t0, Defaults{})
	br, _ := ResponseCacheable(request(t, "GET", "Accept-Encoding", "br"), resp, t0, Defaults{})
	gz2, _ := ResponseCacheable(request(t, "GET", "accept-encoding", " gzip "), resp, t0, Defaults{})
	assert.False(t, gz.Variance().IsZero())
	assert.NotEqual(t, gz.Variance(), br.Variance())
	assert.Equal(t, gz.Variance(), gz2.Variance())

	plain, _ := ResponseCacheable(request(t, "GET"), response(t, 200, "Cache-Control", "max-age=60"), t0, Defaults{})
	assert.True(t, plain.Variance().IsZero())
}

func TestUpstreamRequest(t *testing.T) {
	t.Run("miss", func(t *testing.T) {
		req := request(t, "HEAD", "If-Match", `"a"`, "If-None-Match", `"b"`, "If-Modified-Since", FormatHTTPDate(t0),
			"If-Unmodified-Since", FormatHTTPDate(t0), "If-Range", `"c"`, "Range", "bytes=0-1", "Accept", "*/*")
		UpstreamRequest(req, nil)
		assert.Equal(t, "GET", req.Method())
		for _, gone := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range"} {
			assert.False(t, req.Has(gone), gone)
		}
		assert.Equal(t, "*/*", req.Get("Accept"))
	})
	t.Run("revalidate", func(t *testing.T) {
		lm := FormatHTTPDate(t0.Add(-time.Hour))
		meta, _ := ResponseCacheable(request(t, "GET"), response(t, 200, "Cache-Control", "max-age=0", "ETag", `W/"v1"`, "Last-Modified", lm), t0, Defaults{})
		req := request(t, "GET", "If-None-Match", `"client"`)
		UpstreamRequest(req, meta)
		assert.Equal(t, `W/"v1"`, req.Get("If-None-Match"))
		assert.Equal(t, 1, req.Count("If-None-Match"))
		assert.Equal(t, lm, req.Get("If-Modified-Since"))
	})
	t.Run("revalidate without validators", func(t *testing.T) {
		meta, _ := ResponseCacheable(request(t, "GET"), response(t, 200, "Cache-Control", "max-age=0"), t0, Defaults{})
		req := request(t, "GET")
		UpstreamRequest(req, meta)
		assert.False(t, req.Has("If-None-Match"))
		assert.False(t, req.Has("If-Modified-Since"))
	})
}

func TestNoCacheReason_String(t *testing.T) {
	assert.Equal(t, "OK", OK.String())
	assert.Equal(t, "ResponseTooLarge", ResponseTooLarge.String())
	assert.Equal(t, "VaryStar", VaryStar.String())
	assert.Equal(t, "NoCacheReason(99)", NoCacheReason(99).String())
	assert.True(t, Private.FromOrigin())
	assert.True(t, OriginNotCache.FromOrigin())
	assert.False(t, StorageError.FromOrigin())
	assert.False(t, OK.FromOrigin())
}
