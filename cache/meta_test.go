package cache

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMeta_Freshness(t *testing.T) {
	meta, reason := ResponseCacheable(request(t, "GET"),
		response(t, 200, "Cache-Control", "max-age=60, stale-while-revalidate=10, stale-if-error=100", "Age", "5"), t0, Defaults{})
	require.Equal(t, OK, reason)
	tests := []struct {
		at              time.Duration
		fresh, swr, sie bool
		age             time.Duration
	}{
		{0, true, true, true, 5 * time.Second}, // like Pingora: not a staleness test
		{54 * time.Second, true, true, true, 59 * time.Second},
		// RFC 9111 §4.2: fresh while lifetime (60) > current age.
		{55 * time.Second, false, true, true, 60 * time.Second},
		{65 * time.Second, false, true, true, 70 * time.Second},
		{66 * time.Second, false, false, true, 71 * time.Second},
		{155 * time.Second, false, false, true, 160 * time.Second},
		{156 * time.Second, false, false, false, 161 * time.Second},
		{-time.Hour, true, true, true, 0}, // clock went back: age never negative
	}
	for _, tt := range tests {
		t.Run(tt.at.String(), func(t *testing.T) {
			now := t0.Add(tt.at)
			assert.Equal(t, tt.fresh, meta.IsFresh(now), "fresh")
			assert.Equal(t, tt.swr, meta.CanServeStaleWhileRevalidate(now), "swr")
			assert.Equal(t, tt.sie, meta.CanServeStaleIfError(now), "sie")
			assert.Equal(t, tt.age, meta.Age(now), "age")
		})
	}
}

func TestMeta_NewMetaAndVariance(t *testing.T) {
	h := response(t, 200)
	m := NewMeta(h, t0, t0.Add(time.Minute), -time.Second, time.Second)
	assert.Same(t, h, m.Header())
	assert.Equal(t, time.Duration(0), m.StaleWhileRevalidate())
	assert.True(t, m.IsFresh(t0))
	assert.Equal(t, 30*time.Second, m.Age(t0.Add(30*time.Second)))
	v := m.WithVariance(Hash{1})
	assert.Equal(t, Hash{1}, v.Variance())
	assert.True(t, m.Variance().IsZero(), "the original is unchanged")
}

func TestMeta_Revalidated(t *testing.T) {
	stored := response(t, 200, "Cache-Control", "max-age=60", "ETag", `"v1"`, "Content-Length", "5",
		"Content-Type", "text/plain", "X-Old", "1", "X-Multi", "a", "X-Multi", "b", "Vary", "Accept")
	meta, reason := ResponseCacheable(request(t, "GET", "Accept", "a"), stored, t0, Defaults{})
	require.Equal(t, OK, reason)
	later := t0.Add(2 * time.Minute)
	require.False(t, meta.IsFresh(later))

	t.Run("merge and refresh", func(t *testing.T) {
		r304 := response(t, 304, "Cache-Control", "max-age=120", "ETag", `"v1"`, "x-multi", "c",
			"Content-Length", "0", "Content-Type", "text/html", "Date", FormatHTTPDate(later), "Connection", "close")
		n, reason := meta.Revalidated(r304, later, Defaults{})
		require.Equal(t, OK, reason)
		assert.Equal(t, t0, n.Created())
		assert.Equal(t, later, n.Updated())
		assert.Equal(t, later.Add(2*time.Minute), n.FreshUntil())
		assert.True(t, n.IsFresh(later))
		assert.Equal(t, time.Duration(0), n.Age(later))
		h := n.Header()
		assert.Equal(t, 200, h.Status(), "stored status kept")
		assert.Equal(t, "max-age=120", h.Get("Cache-Control"))
		assert.Equal(t, []string{"c"}, collect(h.Values("X-Multi")), "replaced, all lines")
		assert.Equal(t, "1", h.Get("X-Old"), "fields not in the 304 are kept")
		// RFC 9111 §3.2: Content-Length is not updated.
		assert.Equal(t, "5", h.Get("Content-Length"))
		assert.Equal(t, "text/plain", h.Get("Content-Type"))
		assert.False(t, h.Has("Connection"))
		assert.Equal(t, meta.Variance(), n.Variance())
		// The old meta is unchanged.
		assert.Equal(t, "max-age=60", meta.Header().Get("Cache-Control"))
		assert.False(t, meta.IsFresh(later))
	})
	t.Run("no new freshness keeps the stored one", func(t *testing.T) {
		n, reason := meta.Revalidated(response(t, 304, "ETag", `"v1"`), later, Defaults{})
		require.Equal(t, OK, reason)
		assert.Equal(t, later.Add(time.Minute), n.FreshUntil(), "max-age=60 from the stored header, from now")
	})
	t.Run("304 age counts", func(t *testing.T) {
		n, _ := meta.Revalidated(response(t, 304, "Age", "10"), later, Defaults{})
		assert.Equal(t, later.Add(50*time.Second), n.FreshUntil())
		assert.Equal(t, 10*time.Second, n.Age(later))
	})
	t.Run("no-store now", func(t *testing.T) {
		n, reason := meta.Revalidated(response(t, 304, "Cache-Control", "no-store"), later, Defaults{})
		assert.Nil(t, n)
		assert.Equal(t, NoStore, reason)
	})
	t.Run("private now", func(t *testing.T) {
		_, reason := meta.Revalidated(response(t, 304, "Cache-Control", "private"), later, Defaults{})
		assert.Equal(t, Private, reason)
	})
	t.Run("vary star now", func(t *testing.T) {
		_, reason := meta.Revalidated(response(t, 304, "Vary", "*"), later, Defaults{})
		assert.Equal(t, VaryStar, reason)
	})
	t.Run("defaults see the stored status", func(t *testing.T) {
		m, _ := ResponseCacheable(request(t, "GET"), response(t, 200), t0, tenSeconds)
		n, reason := m.Revalidated(response(t, 304), later, tenSeconds)
		require.Equal(t, OK, reason)
		assert.Equal(t, later.Add(10*time.Second), n.FreshUntil())
		_, reason = m.Revalidated(response(t, 304), later, Defaults{})
		assert.Equal(t, NoFreshness, reason)
	})
}

func collect[T any](seq func(func(T) bool)) []T {
	var out []T
	for v := range seq {
		out = append(out, v)
	}
	return out
}

func TestMeta_RevalidatedSetCookie(t *testing.T) {
	meta := storedMeta(t)
	_, reason := meta.Revalidated(response(t, 304, "Set-Cookie", "a=b"), t0, Defaults{})
	assert.Equal(t, SetsCookie, reason)
	n, reason := meta.Revalidated(response(t, 304, "Set-Cookie", "a=b"), t0, Defaults{AllowSetCookie: true})
	require.Equal(t, OK, reason)
	assert.False(t, n.Header().Has("Set-Cookie"))
}
