package memcache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pingora-go/pingora/memcache"
)

func ExampleMemoryCache() {
	m := memcache.New[string, string](1000)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.PutAt("session", "alice", time.Minute, now)

	v, st := m.GetAt("session", now.Add(30*time.Second))
	fmt.Println(v, st)
	_, st = m.GetAt("session", now.Add(2*time.Minute))
	fmt.Println(st)
	v, st, age := m.GetStaleAt("session", now.Add(2*time.Minute))
	fmt.Println(v, st, age)
	// Output:
	// alice hit
	// expired
	// alice stale 1m0s
}

func ExampleRTCache() {
	lookups := 0
	squares := memcache.NewRT(100, memcache.LookupFunc[int, int](
		func(_ context.Context, n int) (int, time.Duration, error) {
			lookups++
			return n * n, 0, nil
		}), memcache.RTOptions[int, int]{})

	ctx := context.Background()
	for range 3 {
		v, st, err := squares.Get(ctx, 12, time.Hour)
		fmt.Println(v, st, err)
	}
	fmt.Println("lookups:", lookups)
	// Output:
	// 144 miss <nil>
	// 144 hit <nil>
	// 144 hit <nil>
	// lookups: 1
}
