package memcache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pingora-go/pingora/memcache"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestMemoryCache_GetAt(t *testing.T) {
	tests := []struct {
		name   string
		ttl    time.Duration // 0: not put
		put    bool
		after  time.Duration
		value  int
		status memcache.Status
	}{
		{name: "absent", status: memcache.Miss},
		{name: "fresh", put: true, ttl: time.Second, after: 999 * time.Millisecond, value: 7, status: memcache.Hit},
		{name: "expires exactly at its ttl", put: true, ttl: time.Second, after: time.Second, status: memcache.Expired},
		{name: "expired", put: true, ttl: time.Second, after: time.Hour, status: memcache.Expired},
		{name: "no ttl never expires", put: true, ttl: memcache.NoTTL, after: 100 * 365 * 24 * time.Hour, value: 7, status: memcache.Hit},
		{name: "huge ttl never expires", put: true, ttl: memcache.NoTTL - 1, after: 100 * 365 * 24 * time.Hour, value: 7, status: memcache.Hit},
		{name: "zero ttl is not stored", put: true, ttl: 0, status: memcache.Miss},
		{name: "negative ttl is not stored", put: true, ttl: -time.Second, status: memcache.Miss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memcache.New[string, int](10)
			if tt.put {
				m.PutAt("k", 7, tt.ttl, t0)
			}
			v, st := m.GetAt("k", t0.Add(tt.after))
			assert.Equal(t, tt.status, st)
			assert.Equal(t, tt.value, v)
		})
	}
}

func TestMemoryCache_GetStaleAt(t *testing.T) {
	m := memcache.New[string, int](10)
	m.PutAt("k", 7, time.Second, t0)
	v, st, d := m.GetStaleAt("k", t0.Add(500*time.Millisecond))
	assert.Equal(t, []any{7, memcache.Hit, time.Duration(0)}, []any{v, st, d})
	v, st, d = m.GetStaleAt("k", t0.Add(3*time.Second))
	assert.Equal(t, []any{7, memcache.Stale, 2 * time.Second}, []any{v, st, d})
	v, st, d = m.GetStaleAt("nope", t0)
	assert.Equal(t, []any{0, memcache.Miss, time.Duration(0)}, []any{v, st, d})
}

func TestMemoryCache_RemoveAndMultiGet(t *testing.T) {
	m := memcache.New[int, string](10)
	m.Put(1, "one", time.Hour)
	m.Put(2, "two", time.Hour)
	m.Put(3, "three", time.Nanosecond)
	time.Sleep(time.Millisecond)
	m.Remove(2)
	assert.Equal(t, 2, m.Len())
	values, statuses := m.MultiGet([]int{1, 2, 3})
	assert.Equal(t, []string{"one", "", ""}, values)
	assert.Equal(t, []memcache.Status{memcache.Hit, memcache.Miss, memcache.Expired}, statuses)
	_, _, missed := m.MultiGetWithMiss([]int{3, 1, 2})
	assert.Equal(t, []int{3, 2}, missed)
}

func TestStatus(t *testing.T) {
	tests := []struct {
		s    memcache.Status
		name string
		hit  bool
	}{
		{memcache.Hit, "hit", true},
		{memcache.Miss, "miss", false},
		{memcache.Expired, "expired", false},
		{memcache.LockHit, "lock_hit", true},
		{memcache.Stale, "stale", true},
		{memcache.Status(99), "unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.s.String())
			assert.Equal(t, tt.hit, tt.s.IsHit())
		})
	}
}
