package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCacheControl(t *testing.T) {
	d := func(s uint32) Delta { return Delta{Seconds: s, Present: true} }
	bad := Delta{Present: true, Invalid: true}
	tests := []struct {
		name  string
		lines []string
		want  CacheControl
	}{
		{"empty", nil, CacheControl{}},
		{"booleans", []string{"no-store, no-cache, public, must-revalidate, proxy-revalidate, must-understand, no-transform, immutable, only-if-cached"},
			CacheControl{NoStore: true, NoCache: true, Public: true, MustRevalidate: true, ProxyRevalidate: true, MustUnderstand: true, NoTransform: true, Immutable: true, OnlyIfCached: true}},
		// RFC 9111 §5.2: directive names are case-insensitive.
		{"case-insensitive names", []string{"Max-Age=10, NO-STORE"}, CacheControl{MaxAge: d(10), NoStore: true}},
		{"deltas", []string{"max-age=1, s-maxage=2, stale-while-revalidate=3, stale-if-error=4, min-fresh=5, max-stale=6"},
			CacheControl{MaxAge: d(1), SMaxAge: d(2), StaleWhileRevalidate: d(3), StaleIfError: d(4), MinFresh: d(5), MaxStale: d(6)}},
		// RFC 9111 §5.2: recipients should accept the quoted form.
		{"quoted delta", []string{`max-age="60"`}, CacheControl{MaxAge: d(60)}},
		// RFC 9111 §1.2.2: values too large cap at 2^31−1.
		{"overflow caps", []string{"max-age=99999999999999999999999"}, CacheControl{MaxAge: d(MaxDelta)}},
		{"exactly max", []string{"max-age=2147483647"}, CacheControl{MaxAge: d(MaxDelta)}},
		{"max plus one", []string{"max-age=2147483648"}, CacheControl{MaxAge: d(MaxDelta)}},
		{"leading zeros", []string{"max-age=0007"}, CacheControl{MaxAge: d(7)}},
		{"negative invalid", []string{"max-age=-1"}, CacheControl{MaxAge: bad}},
		{"non-digit invalid", []string{"max-age=1a"}, CacheControl{MaxAge: bad}},
		{"garbage after value drops element", []string{"max-age=5 x, public"}, CacheControl{Public: true}},
		{"missing value invalid", []string{"max-age"}, CacheControl{MaxAge: bad}},
		{"empty value invalid", []string{"max-age="}, CacheControl{MaxAge: bad}},
		{"quoted non-digit invalid", []string{`max-age="x"`}, CacheControl{MaxAge: bad}},
		// Duplicates: first occurrence wins (RFC 9111 §4.2.1).
		{"first wins", []string{"max-age=10, max-age=20"}, CacheControl{MaxAge: d(10)}},
		{"first wins across lines", []string{"max-age=10", "max-age=20"}, CacheControl{MaxAge: d(10)}},
		{"first invalid wins", []string{"max-age=x1, max-age=20"}, CacheControl{MaxAge: bad}}, // "x1" is a token: invalid, and first
		{"lines combine", []string{"public", "max-age=5"}, CacheControl{Public: true, MaxAge: d(5)}},
		// RFC 9111 §5.2.2.4 / §5.2.2.7: field-name forms.
		{"no-cache fields", []string{`no-cache="Set-Cookie, X-Foo"`}, CacheControl{NoCacheFields: []string{"set-cookie", "x-foo"}}},
		{"private fields", []string{`private="Authorization-Info"`}, CacheControl{PrivateFields: []string{"authorization-info"}}},
		{"private token field", []string{`private=X-A`}, CacheControl{PrivateFields: []string{"x-a"}}},
		{"fields accumulate", []string{`no-cache="a", no-cache="b"`}, CacheControl{NoCacheFields: []string{"a", "b"}}},
		{"unqualified and qualified", []string{`no-cache="a", no-cache`}, CacheControl{NoCache: true, NoCacheFields: []string{"a"}}},
		{"empty field list", []string{`private=""`}, CacheControl{PrivateFields: []string{}}},
		{"quoted comma", []string{`foo="a,b", max-age=3`}, CacheControl{MaxAge: d(3), Extensions: []Directive{{"foo", "a,b", true}}}},
		{"escapes", []string{`foo="a\"b\\c"`}, CacheControl{Extensions: []Directive{{"foo", `a"b\c`, true}}}},
		{"unterminated quote", []string{`foo="abc, max-age=3`}, CacheControl{Extensions: []Directive{{"foo", "abc, max-age=3", true}}}},
		{"extension no value", []string{"community"}, CacheControl{Extensions: []Directive{{Name: "community"}}}},
		{"whitespace", []string{"  max-age = 5 ,\tpublic  "}, CacheControl{MaxAge: d(5), Public: true}},
		{"empty elements", []string{",,, ,max-age=5,,"}, CacheControl{MaxAge: d(5)}},
		{"garbage", []string{"@@@, max-age=5, ;;;"}, CacheControl{MaxAge: d(5)}},
		{"max-stale without value", []string{"max-stale"}, CacheControl{MaxStale: d(MaxDelta)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := []string{}
			for _, l := range tt.lines {
				kv = append(kv, "Cache-Control", l)
			}
			got := ParseCacheControl(&response(t, 200, kv...).Header)
			assert.Equal(t, tt.want, got)
			if len(tt.lines) == 1 {
				assert.Equal(t, tt.want, ParseCacheControlString(tt.lines[0]))
			}
		})
	}
}

func TestCacheControl_IsZero(t *testing.T) {
	assert.True(t, ParseCacheControlString(" , ").IsZero())
	cc := ParseCacheControlString("x")
	assert.False(t, cc.IsZero())
}

func TestParseCacheControl_ExtensionsBounded(t *testing.T) {
	s := ""
	for range 100 {
		s += "x,"
	}
	cc := ParseCacheControlString(s)
	require.Len(t, cc.Extensions, maxExtensions)
}

func TestParseHTTPDate(t *testing.T) {
	want := t0.Add(-time.Hour)
	tests := []struct {
		in string
		ok bool
	}{
		{"Tue, 01 Dec 2026 08:00:00 GMT", true},       // IMF-fixdate
		{"Tuesday, 01-Dec-26 08:00:00 GMT", true},     // RFC 850
		{"Tue Dec  1 08:00:00 2026", true},            // asctime
		{"Tue, 01 Dec 2026 08:00:00 UTC", false},      // must be GMT
		{"0", false},                                  // Pingora's example: invalid
		{"Fri, 01 Dec 99999 16:00:00 GMT", false},     // year out of range
		{"Tue, 01 Dec 2026 08:00:00 GMT junk", false}, // trailing garbage
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseHTTPDate(tt.in)
			require.Equal(t, tt.ok, ok)
			if ok {
				assert.True(t, want.Equal(got), got)
			}
		})
	}
	assert.Equal(t, "Tue, 01 Dec 2026 09:00:00 GMT", FormatHTTPDate(t0))
}
