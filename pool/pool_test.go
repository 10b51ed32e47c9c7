package pool_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/pool"
)

// fakeConn counts its Closes; out detects a connection handed out twice.
type fakeConn struct {
	name   string
	closes atomic.Int32
	out    atomic.Bool
}

func (c *fakeConn) Close() error { c.closes.Add(1); return nil }
func (c *fakeConn) String() string {
	if c == nil {
		return "<nil>"
	}
	return c.name
}

func newPool[C interface{ Close() error }](t testing.TB, opts pool.Options[C]) *pool.Pool[C] {
	t.Helper()
	p, err := pool.New(opts)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// poolGoroutines counts the goroutines the pool package started (watchers
// of PutWatched and PutWithDone).
func poolGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "pingora/pool.(*Pool[...]).watch(") ||
			strings.Contains(g, "pingora/pool.(*Pool[...]).waitDone(") {
			n++
		}
	}
	return n
}

// requireNoPoolGoroutines fails unless every pool goroutine ends within a
// second (a goroutine may still be returning right after it signalled).
func requireNoPoolGoroutines(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return poolGoroutines() == 0 },
		time.Second, time.Millisecond, "pool goroutines leaked")
}

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		size     int
		wantSize int
		wantErr  string
	}{
		{name: "zero is default", size: 0, wantSize: pool.DefaultSize},
		{name: "explicit", size: 5, wantSize: 5},
		{name: "one", size: 1, wantSize: 1},
		{name: "negative", size: -1, wantErr: "pool: negative size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := pool.New(pool.Options[*fakeConn]{Size: tt.size})
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			defer p.Close()
			assert.Equal(t, tt.wantSize, p.Size())
			assert.Equal(t, 0, p.Len())
		})
	}
}

// op is one step of a scripted pool test: a put of conn name under key,
// or a get under key expecting want ("" = miss).
type op struct {
	put  bool
	key  uint64
	name string
}

func put(key uint64, name string) op { return op{put: true, key: key, name: name} }
func get(key uint64, want string) op { return op{key: key, name: want} }

func TestPool_Get(t *testing.T) {
	tests := []struct {
		name        string
		size        int
		ops         []op
		wantEvicted []string
		wantStats   pool.Stats
	}{
		{
			name:      "miss on empty pool",
			size:      3,
			ops:       []op{get(1, "")},
			wantStats: pool.Stats{Misses: 1},
		},
		{
			// Pingora's test_lookup; we also fix the order: newest first.
			name: "lookup by key, newest first",
			size: 3,
			ops: []op{
				put(101, "v1"), put(102, "v2"), put(101, "v3"),
				get(102, "v2"), get(101, "v3"), get(101, "v1"), get(101, ""),
			},
			wantStats: pool.Stats{Hits: 3, Misses: 1},
		},
		{
			// Pingora's test_eviction.
			name: "lru evicts the oldest put",
			size: 2,
			ops: []op{
				put(101, "v1"), put(102, "v2"), put(101, "v3"),
				get(101, "v3"), get(101, ""), get(102, "v2"),
			},
			wantEvicted: []string{"v1"},
			wantStats:   pool.Stats{Hits: 2, Misses: 1, Evictions: 1},
		},
		{
			name: "get makes room, no eviction",
			size: 2,
			ops: []op{
				put(1, "a"), put(1, "b"), get(1, "b"), put(2, "c"), get(1, "a"), get(2, "c"),
			},
			wantStats: pool.Stats{Hits: 3},
		},
		{
			name: "size one evicts across keys",
			size: 1,
			ops: []op{
				put(1, "a"), put(2, "b"), put(3, "c"), get(1, ""), get(2, ""), get(3, "c"),
			},
			wantEvicted: []string{"a", "b"},
			wantStats:   pool.Stats{Hits: 1, Misses: 2, Evictions: 2},
		},
		{
			name: "re-put moves to the front of the lru",
			size: 2,
			ops: []op{
				put(1, "a"), put(2, "b"), get(1, "a"), put(1, "a"), put(3, "c"),
				get(2, ""), get(1, "a"), get(3, "c"),
			},
			wantEvicted: []string{"b"},
			wantStats:   pool.Stats{Hits: 3, Misses: 1, Evictions: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evicted []string
			p := newPool(t, pool.Options[*fakeConn]{
				Size: tt.size,
				OnEvict: func(key uint64, c *fakeConn) {
					assert.Equal(t, int32(1), c.closes.Load(), "evicted %s not closed first", c)
					evicted = append(evicted, c.name)
				},
			})
			conns := map[string]*fakeConn{}
			for i, o := range tt.ops {
				if o.put {
					c := conns[o.name]
					if c == nil {
						c = &fakeConn{name: o.name}
						conns[o.name] = c
					}
					require.NoError(t, p.Put(o.key, c, 0), "op %d", i)
					continue
				}
				c, ok := p.Get(o.key)
				if o.name == "" {
					require.False(t, ok, "op %d: got %s, want a miss", i, c)
					continue
				}
				require.True(t, ok, "op %d: miss, want %s", i, o.name)
				require.Equal(t, o.name, c.name, "op %d", i)
				require.Zero(t, c.closes.Load(), "op %d: got a closed connection", i)
			}
			assert.Equal(t, tt.wantEvicted, evicted)
			st := p.Stats()
			st.Idle = 0
			assert.Equal(t, tt.wantStats, st)
		})
	}
}

// TestPool_LRUProperty runs random Puts and Gets against a model of the
// pool (one list of idle connections, newest first) and checks after each
// step: the bound holds, Gets return what the model says, each evicted
// connection is reported once and closed once, nothing else is closed.
func TestPool_LRUProperty(t *testing.T) {
	for _, tc := range []struct{ size, keys, ops int }{
		{size: 1, keys: 2, ops: 2000},
		{size: 3, keys: 2, ops: 3000},
		{size: 16, keys: 5, ops: 5000},
		{size: 64, keys: 40, ops: 10000},
		{size: 2, keys: 200, ops: 5000}, // many keys: empty slots are swept
	} {
		t.Run(fmt.Sprintf("size=%d/keys=%d", tc.size, tc.keys), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.size), uint64(tc.keys)))
			type idle struct {
				key uint64
				c   *fakeConn
			}
			var model []idle // newest first
			var evicted []*fakeConn
			p := newPool(t, pool.Options[*fakeConn]{
				Size:    tc.size,
				OnEvict: func(_ uint64, c *fakeConn) { evicted = append(evicted, c) },
			})
			var all []*fakeConn
			for i := range tc.ops {
				key := uint64(rng.IntN(tc.keys))
				if rng.IntN(3) > 0 { // put 2/3 of the time
					c := &fakeConn{name: fmt.Sprint(i)}
					all = append(all, c)
					require.NoError(t, p.Put(key, c, 0))
					model = append([]idle{{key, c}}, model...)
					if len(model) > tc.size {
						want := model[len(model)-1].c
						model = model[:len(model)-1]
						require.Equal(t, []*fakeConn{want}, evicted, "op %d", i)
						require.Equal(t, int32(1), want.closes.Load())
					} else {
						require.Empty(t, evicted, "op %d", i)
					}
					evicted = nil
				} else {
					c, ok := p.Get(key)
					j := -1
					for k, m := range model {
						if m.key == key {
							j = k
							break
						}
					}
					if j < 0 {
						require.False(t, ok, "op %d", i)
					} else {
						require.True(t, ok, "op %d", i)
						require.Same(t, model[j].c, c, "op %d", i)
						model = append(model[:j], model[j+1:]...)
					}
				}
				require.Equal(t, len(model), p.Len(), "op %d", i)
				require.LessOrEqual(t, p.Len(), tc.size)
			}
			inPool := map[*fakeConn]bool{}
			for _, m := range model {
				inPool[m.c] = true
			}
			for _, c := range all {
				if inPool[c] {
					require.Zero(t, c.closes.Load(), "idle %s closed", c)
				}
			}
			p.Close()
			for _, c := range all {
				require.LessOrEqual(t, c.closes.Load(), int32(1), "%s closed twice", c)
				if inPool[c] {
					require.Equal(t, int32(1), c.closes.Load(), "Close left %s open", c)
				}
			}
		})
	}
}

func TestPool_PutIdleTimeout(t *testing.T) {
	type step struct {
		at   time.Duration // since the start of the test
		put  time.Duration // > 0: Put with this idle timeout
		get  bool          // Get, and keep the connection if found
		want bool          // for get: a hit
	}
	tests := []struct {
		name        string
		steps       []step
		wantExpired uint64
	}{
		{
			name:        "expires after timeout",
			steps:       []step{{at: 0, put: 10 * time.Second}, {at: 11 * time.Second, get: true, want: false}},
			wantExpired: 1,
		},
		{
			name:  "alive before timeout",
			steps: []step{{at: 0, put: 10 * time.Second}, {at: 9 * time.Second, get: true, want: true}},
		},
		{
			name:  "zero timeout never expires",
			steps: []step{{at: 0, put: -1}, {at: 1000 * time.Hour, get: true, want: true}},
		},
		{
			// The first timer fires at 10s while the second deadline is at
			// 15s: it must re-arm, not expire, and not forget to expire.
			name: "re-put after pick-up restarts the timeout",
			steps: []step{
				{at: 0, put: 10 * time.Second},
				{at: 5 * time.Second, get: true, want: true},
				{at: 5 * time.Second, put: 10 * time.Second},
				{at: 12 * time.Second, get: true, want: true},
				{at: 12 * time.Second, put: 10 * time.Second},
				{at: 23 * time.Second, get: true, want: false},
			},
			wantExpired: 1,
		},
		{
			// The recycled entry's timer is armed for 10s; a shorter
			// timeout must still be honoured.
			name: "re-put with a shorter timeout",
			steps: []step{
				{at: 0, put: 10 * time.Second},
				{at: 1 * time.Second, get: true, want: true},
				{at: 1 * time.Second, put: 2 * time.Second},
				{at: 4 * time.Second, get: true, want: false},
			},
			wantExpired: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				p := newPool(t, pool.Options[*fakeConn]{Size: 4})
				c := &fakeConn{name: "c"}
				for _, s := range tt.steps {
					time.Sleep(s.at - time.Since(start))
					synctest.Wait()
					switch {
					case s.put != 0:
						idle := s.put
						if idle < 0 {
							idle = 0
						}
						require.NoError(t, p.Put(1, c, idle))
					case s.get:
						got, ok := p.Get(1)
						require.Equal(t, s.want, ok, "get at %v", s.at)
						if ok {
							require.Same(t, c, got)
							require.Zero(t, c.closes.Load())
						} else {
							require.Equal(t, int32(1), c.closes.Load(), "expired conn not closed")
						}
					}
				}
				st := p.Stats()
				assert.Equal(t, tt.wantExpired, st.Expired)
				assert.Equal(t, tt.wantExpired, st.IdleClosed)
			})
		})
	}
}

func TestPool_PutWithDone(t *testing.T) {
	tests := []struct {
		name       string
		idle       time.Duration
		closeAt    time.Duration // > 0: close done then
		getAt      time.Duration
		wantHit    bool
		wantClosed uint64 // Stats.PeerClosed
		wantExpire uint64
		nilDone    bool
	}{
		{name: "get before anything", idle: 10 * time.Second, getAt: time.Second, wantHit: true},
		{name: "done closes it", idle: 10 * time.Second, closeAt: time.Second, getAt: 2 * time.Second, wantClosed: 1},
		{name: "timeout closes it", idle: 10 * time.Second, getAt: 11 * time.Second, wantExpire: 1},
		{name: "no timeout", idle: 0, getAt: 1000 * time.Hour, wantHit: true},
		{name: "nil done is put", idle: 10 * time.Second, getAt: 11 * time.Second, wantExpire: 1, nilDone: true},
		{name: "done at get is skipped", idle: 10 * time.Second, closeAt: time.Second, getAt: time.Second, wantClosed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, pool.Options[*fakeConn]{})
				c := &fakeConn{name: "h2"}
				done := make(chan struct{})
				if tt.nilDone {
					done = nil
				}
				require.NoError(t, p.PutWithDone(7, c, tt.idle, done))
				if tt.closeAt > 0 {
					time.Sleep(tt.closeAt)
					close(done)
				}
				if tt.getAt > tt.closeAt {
					time.Sleep(tt.getAt - tt.closeAt)
					synctest.Wait()
				} // else Get may run before the goroutine sees done
				got, ok := p.Get(7)
				require.Equal(t, tt.wantHit, ok, "got %s", got)
				if ok {
					require.Same(t, c, got)
					require.Zero(t, c.closes.Load())
				}
				synctest.Wait()
				if !tt.wantHit {
					require.Equal(t, int32(1), c.closes.Load())
				}
				require.Zero(t, poolGoroutines(), "waitDone goroutine left")
				st := p.Stats()
				assert.Equal(t, tt.wantClosed, st.PeerClosed)
				assert.Equal(t, tt.wantExpire, st.Expired)
				assert.Equal(t, 0, st.Idle)
			})
		})
	}
}

func TestPool_Close(t *testing.T) {
	tests := []struct {
		name  string
		drain bool
	}{
		{name: "close"},
		{name: "drain", drain: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, pool.Options[*fakeConn]{})
			var conns []*fakeConn
			for i := range 10 {
				c := &fakeConn{name: fmt.Sprint(i)}
				conns = append(conns, c)
				if i%2 == 0 {
					require.NoError(t, p.Put(uint64(i%3), c, time.Hour))
				} else {
					require.NoError(t, p.PutWithDone(uint64(i%3), c, time.Hour, make(chan struct{})))
				}
			}
			taken, ok := p.Get(0)
			require.True(t, ok)
			if tt.drain {
				p.Drain()
			} else {
				p.Close()
				p.Close() // idempotent
			}
			requireNoPoolGoroutines(t)
			for _, c := range conns {
				want := int32(1)
				if c == taken {
					want = 0
				}
				assert.Equal(t, want, c.closes.Load(), "conn %s", c)
			}
			assert.Equal(t, 0, p.Len())
			_, ok = p.Get(1)
			assert.False(t, ok)

			c := &fakeConn{name: "after"}
			err := p.Put(1, c, 0)
			if tt.drain {
				require.NoError(t, err)
				got, ok := p.Get(1)
				require.True(t, ok)
				require.Same(t, c, got)
				return
			}
			require.ErrorIs(t, err, pool.ErrClosed)
			assert.Equal(t, int32(1), c.closes.Load())
			c2 := &fakeConn{name: "after2"}
			require.ErrorIs(t, p.PutWithDone(1, c2, 0, make(chan struct{})), pool.ErrClosed)
			assert.Equal(t, int32(1), c2.closes.Load())
		})
	}
}

func TestPool_PutWatched_NotWatchable(t *testing.T) {
	p := newPool(t, pool.Options[*fakeConn]{})
	c := &fakeConn{name: "plain"}
	require.ErrorIs(t, p.PutWatched(1, c, 0), pool.ErrNotWatchable)
	assert.Equal(t, int32(1), c.closes.Load())
	assert.Equal(t, 0, p.Len())
}

// TestPool_ConcurrentSafe hammers one small pool from many goroutines with
// Puts (plain and PutWithDone), Gets and done signals, then checks every
// connection's fate: handed out to one goroutine at a time, never closed
// while handed out or idle, closed exactly once by the end.
func TestPool_ConcurrentSafe(t *testing.T) {
	const workers, iters = 8, 2000
	var evictions atomic.Int64
	p, err := pool.New(pool.Options[*fakeConn]{
		Size:    8,
		OnEvict: func(uint64, *fakeConn) { evictions.Add(1) },
	})
	require.NoError(t, err)

	var mu sync.Mutex
	var all []*fakeConn
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			idle := func() time.Duration { return time.Duration(rng.IntN(200)) * time.Microsecond }
			for i := range iters {
				key := uint64(rng.IntN(5))
				switch rng.IntN(4) {
				case 0, 1:
					c, ok := p.Get(key)
					if !ok {
						continue
					}
					if !c.out.CompareAndSwap(false, true) {
						t.Errorf("%s handed out twice", c)
						return
					}
					if n := c.closes.Load(); n != 0 {
						t.Errorf("got closed conn %s", c)
						return
					}
					if rng.IntN(4) == 0 {
						c.Close() // the caller's to close
						continue
					}
					c.out.Store(false)
					_ = p.Put(key, c, idle())
					continue
				case 2:
					c := &fakeConn{name: fmt.Sprintf("w%d-%d", w, i)}
					mu.Lock()
					all = append(all, c)
					mu.Unlock()
					_ = p.Put(key, c, idle())
				case 3:
					c := &fakeConn{name: fmt.Sprintf("w%d-%d", w, i)}
					mu.Lock()
					all = append(all, c)
					mu.Unlock()
					done := make(chan struct{})
					_ = p.PutWithDone(key, c, idle(), done)
					if rng.IntN(4) == 0 {
						close(done)
					}
				}
				if n := p.Len(); n > 8 {
					t.Errorf("pool holds %d > 8", n)
				}
				if rng.IntN(50) == 0 {
					time.Sleep(100 * time.Microsecond)
				}
			}
		})
	}
	wg.Wait()
	p.Close()
	requireNoPoolGoroutines(t)
	for _, c := range all {
		require.Equal(t, int32(1), c.closes.Load(), "%s closed %d times", c, c.closes.Load())
	}
	st := p.Stats()
	assert.Equal(t, uint64(evictions.Load()), st.Evictions)
	assert.Equal(t, 0, st.Idle)
	t.Logf("stats %+v", st)
}
