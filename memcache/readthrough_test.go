package memcache_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/memcache"
)

// backend is a Lookup that counts calls and can block or fail them.
type backend struct {
	calls   atomic.Int32
	release chan struct{} // if not nil, the first call waits for it
	fail    func(call int32) error
	ttl     time.Duration
}

func (b *backend) Lookup(ctx context.Context, key string) (string, time.Duration, error) {
	n := b.calls.Add(1)
	if n == 1 && b.release != nil {
		<-b.release
	}
	if b.fail != nil {
		if err := b.fail(n); err != nil {
			return "", 0, err
		}
	}
	return fmt.Sprintf("%s#%d", key, n), b.ttl, nil
}

type result struct {
	v   string
	st  memcache.Status
	err error
}

// getAll runs n concurrent Gets of key and returns their results once all
// have returned; start is called once they are all blocked.
func getAll(c *memcache.RTCache[string, string], ctx context.Context, n int, key string, start func()) []result {
	out := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			v, st, err := c.Get(ctx, key, time.Minute)
			out[i] = result{v, st, err}
		})
	}
	synctest.Wait()
	start()
	wg.Wait()
	return out
}

func count(rs []result) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		k := r.st.String()
		if r.err != nil {
			k += " err"
		}
		m[k]++
	}
	return m
}

func TestRTCache_Get(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{})
		ctx := t.Context()

		v, st, err := c.Get(ctx, "a", time.Second)
		require.NoError(t, err)
		assert.Equal(t, []any{"a#1", memcache.Miss}, []any{v, st})
		v, st, _ = c.Get(ctx, "a", time.Second)
		assert.Equal(t, []any{"a#1", memcache.Hit}, []any{v, st})

		time.Sleep(time.Second)
		v, st, _ = c.Get(ctx, "a", time.Second)
		assert.Equal(t, []any{"a#2", memcache.Expired}, []any{v, st})

		// The lookup's ttl wins over Get's; a negative one is not cached.
		b.ttl = time.Hour
		c.Get(ctx, "b", time.Second)
		time.Sleep(time.Minute)
		_, st, _ = c.Get(ctx, "b", time.Second)
		assert.Equal(t, memcache.Hit, st)
		b.ttl = -1
		c.Get(ctx, "c", time.Hour)
		_, st = c.Memory().Get("c")
		assert.Equal(t, memcache.Miss, st)
		assert.Equal(t, 0, c.Locks())
	})
}

func TestRTCache_Stampede(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{release: make(chan struct{})}
		c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{})
		rs := getAll(c, t.Context(), 1000, "cold", func() { close(b.release) })
		assert.Equal(t, int32(1), b.calls.Load(), "one lookup for 1,000 callers")
		assert.Equal(t, map[string]int{"miss": 1, "lock_hit": 999}, count(rs))
		for _, r := range rs {
			assert.Equal(t, "cold#1", r.v)
		}
		assert.Equal(t, 0, c.Locks())
	})
}

func TestRTCache_LockTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{release: make(chan struct{})}
		c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{LockTimeout: time.Second})
		var first result
		done := make(chan struct{})
		go func() {
			defer close(done)
			first.v, first.st, first.err = c.Get(t.Context(), "k", time.Minute)
		}()
		synctest.Wait() // the first lookup hangs
		started := time.Now()
		rs := getAll(c, t.Context(), 10, "k", func() {})
		assert.Equal(t, time.Second, time.Since(started), "waiters gave up at the lock timeout")
		assert.Equal(t, map[string]int{"miss": 10}, count(rs))
		assert.Equal(t, int32(11), b.calls.Load(), "each waiter looked up")
		_, st := c.Memory().Get("k")
		assert.Equal(t, memcache.Miss, st, "lookups after a timeout are not cached")

		close(b.release)
		<-done
		require.NoError(t, first.err)
		assert.Equal(t, "k#1", first.v)
		_, st = c.Memory().Get("k")
		assert.Equal(t, memcache.Hit, st)
	})
}

func TestRTCache_LookupFails(t *testing.T) {
	boom := errors.New("backend down")
	tests := []struct {
		name string
		fail func(call int32) error
		want map[string]int
	}{
		{
			name: "every lookup fails",
			fail: func(int32) error { return boom },
			want: map[string]int{"miss err": 50},
		},
		{
			name: "only the first lookup fails",
			fail: func(n int32) error {
				if n == 1 {
					return boom
				}
				return nil
			},
			// Waiters wake to a miss; one of them loads for the rest or
			// they each load: no one hangs and no one gets the error but
			// the first caller.
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := &backend{release: make(chan struct{}), fail: tt.fail}
				c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{})
				rs := getAll(c, t.Context(), 50, "k", func() { close(b.release) })
				if tt.want != nil {
					assert.Equal(t, tt.want, count(rs))
				}
				errs := 0
				for _, r := range rs {
					if r.err != nil {
						errs++
						assert.ErrorIs(t, r.err, memcache.ErrLookup)
						assert.ErrorIs(t, r.err, boom)
						assert.Equal(t, "memcache: lookup error: backend down", r.err.Error())
					} else {
						assert.Regexp(t, `^k#\d+$`, r.v)
					}
				}
				if tt.want == nil {
					assert.Equal(t, 1, errs)
				}
				assert.Equal(t, 0, c.Locks())
			})
		})
	}
}

func TestRTCache_WaiterContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{release: make(chan struct{})}
		c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{})
		go c.Get(t.Context(), "k", time.Minute)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, st, err := c.Get(ctx, "k", time.Minute)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, memcache.Miss, st)
		close(b.release)
	})
}

func TestRTCache_LockAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{release: make(chan struct{})}
		c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{LockAge: time.Second})
		go c.Get(t.Context(), "k", time.Minute)
		synctest.Wait()
		time.Sleep(time.Second)
		v, st, err := c.Get(t.Context(), "k", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, []any{"k#2", memcache.Miss}, []any{v, st})
		_, st = c.Memory().Get("k")
		assert.Equal(t, memcache.Miss, st, "a lookup past the lock age is not cached")
		close(b.release)
	})
}

func TestRTCache_LookupPanicReleasesLock(t *testing.T) {
	c := memcache.NewRT[string, string](100, memcache.LookupFunc[string, string](
		func(context.Context, string) (string, time.Duration, error) { panic("boom") },
	), memcache.RTOptions[string, string]{})
	assert.PanicsWithValue(t, "boom", func() { c.Get(t.Context(), "k", time.Minute) })
	assert.Equal(t, 0, c.Locks())
}

func TestRTCache_GetStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &backend{}
		c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{})
		ctx := t.Context()
		c.Get(ctx, "k", time.Second)
		time.Sleep(2 * time.Second) // expired 1s ago

		v, st, _ := c.GetStale(ctx, "k", time.Second, 5*time.Second)
		assert.Equal(t, []any{"k#1", memcache.Stale}, []any{v, st})
		v, st, _ = c.GetStale(ctx, "k", time.Second, 500*time.Millisecond)
		assert.Equal(t, []any{"k#2", memcache.Expired}, []any{v, st}, "too stale: loaded")

		time.Sleep(2 * time.Second)
		v, st, _ = c.GetStaleWhileUpdate(ctx, "k", time.Second, 5*time.Second)
		assert.Equal(t, []any{"k#2", memcache.Stale}, []any{v, st})
		c.WaitRefreshes()
		v, st, _ = c.GetStale(ctx, "k", time.Second, 0)
		assert.Equal(t, []any{"k#3", memcache.Hit}, []any{v, st}, "refreshed in the background")
	})
}

func TestRTCache_MultiGet(t *testing.T) {
	calls := 0
	multi := memcache.MultiLookupFunc[string, string](func(_ context.Context, keys []string) ([]memcache.Loaded[string], error) {
		calls++
		var out []memcache.Loaded[string]
		for _, k := range keys {
			switch k {
			case "bad":
				return nil, errors.New("bad key")
			case "short":
				return out, nil
			}
			out = append(out, memcache.Loaded[string]{Value: "m:" + k})
		}
		return out, nil
	})
	b := &backend{}
	c := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{MultiLookup: multi})
	ctx := t.Context()
	c.Memory().Put("b", "cached", time.Hour)

	values, statuses, err := c.MultiGet(ctx, []string{"a", "b", "c"}, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, []string{"m:a", "cached", "m:c"}, values)
	assert.Equal(t, []memcache.Status{memcache.Miss, memcache.Hit, memcache.Miss}, statuses)
	assert.Equal(t, 1, calls)
	_, statuses, _ = c.MultiGet(ctx, []string{"a", "b", "c"}, time.Hour)
	assert.Equal(t, []memcache.Status{memcache.Hit, memcache.Hit, memcache.Hit}, statuses)
	assert.Equal(t, 1, calls)

	_, _, err = c.MultiGet(ctx, []string{"a", "bad"}, time.Hour)
	assert.ErrorIs(t, err, memcache.ErrLookup)
	_, _, err = c.MultiGet(ctx, []string{"x", "short"}, time.Hour)
	assert.ErrorContains(t, err, "multi lookup returned 1 values for 2 keys")
	_, st := c.Memory().Get("x")
	assert.Equal(t, memcache.Miss, st, "nothing cached from a failed multi lookup")

	// Without a MultiLookup, misses go through Get one by one.
	c2 := memcache.NewRT[string, string](100, b, memcache.RTOptions[string, string]{})
	values, statuses, err = c2.MultiGet(ctx, []string{"p", "q"}, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, []string{"p#1", "q#2"}, values)
	assert.Equal(t, []memcache.Status{memcache.Miss, memcache.Miss}, statuses)
	assert.Equal(t, int32(2), b.calls.Load())
}

func TestRTCache_ConcurrentSafe(t *testing.T) {
	var calls atomic.Int32
	c := memcache.NewRT[int, int](50, memcache.LookupFunc[int, int](func(_ context.Context, k int) (int, time.Duration, error) {
		if calls.Add(1)%7 == 0 {
			return 0, 0, errors.New("flaky")
		}
		return k * 2, 0, nil
	}), memcache.RTOptions[int, int]{LockTimeout: 50 * time.Millisecond})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i * (g + 1)) % 100
				v, _, err := c.Get(t.Context(), k, time.Millisecond)
				if err == nil && v != 2*k {
					t.Errorf("Get(%d) = %d", k, v)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 0, c.Locks())
}
