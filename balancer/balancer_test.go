package balancer_test

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingora-go/pingora/balancer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNew_Errors(t *testing.T) {
	tests := []struct {
		name string
		d    balancer.Discovery
		opts balancer.Options
		want string
	}{
		{"nil discovery", nil, balancer.Options{}, "balancer: nil discovery"},
		{"negative interval", balancer.NewStatic(), balancer.Options{UpdateInterval: -1}, "balancer: negative UpdateInterval"},
		{"negative threshold", balancer.NewStatic(), balancer.Options{HealthyThreshold: -2}, "balancer: negative HealthyThreshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := balancer.New(tt.d, tt.opts)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestLoadBalancer_Empty(t *testing.T) {
	lb, err := balancer.New(balancer.NewStatic(addrs(2)...), balancer.Options{})
	require.NoError(t, err)
	_, ok := lb.Select(nil)
	assert.False(t, ok, "nothing before the first update")
	assert.Nil(t, lb.Backends())
	for range lb.Candidates(nil) {
		t.Fatal("candidates before the first update")
	}

	lb, _ = newLB(t, balancer.Options{})
	_, ok = lb.Select(nil)
	assert.False(t, ok)
}

func TestLoadBalancer_Update(t *testing.T) {
	t.Run("sorted and deduplicated", func(t *testing.T) {
		bs, err := balancer.ParseBackends("unix:/b.sock", "[::1]:80", "10.0.0.2:80", "10.0.0.1:81", "10.0.0.1:80", "10.0.0.2:80", "unix:/a.sock")
		require.NoError(t, err)
		lb, _ := newLB(t, balancer.Options{}, bs...)
		var got []string
		for _, b := range lb.Backends() {
			got = append(got, b.String())
		}
		assert.Equal(t, []string{"10.0.0.1:80", "10.0.0.1:81", "10.0.0.2:80", "[::1]:80", "unix:/a.sock", "unix:/b.sock"}, got)
	})
	t.Run("state survives, new backends start ready", func(t *testing.T) {
		bs := addrs(3)
		lb, st := newLB(t, balancer.Options{}, bs[:2]...)
		require.True(t, lb.SetEnabled(bs[0], false))
		st.Add(bs[2])
		require.NoError(t, lb.Update(t.Context()))
		h, ok := lb.Health(bs[0])
		require.True(t, ok)
		assert.False(t, h.Enabled)
		h, ok = lb.Health(bs[2])
		require.True(t, ok)
		assert.True(t, h.Ready)
		// A new weight is a new backend, with fresh state.
		st.Set(balancer.Backend{Addr: bs[0].Addr, Weight: 2}, bs[1])
		require.NoError(t, lb.Update(t.Context()))
		_, ok = lb.Health(bs[0])
		assert.False(t, ok)
		h, ok = lb.Health(balancer.Backend{Addr: bs[0].Addr, Weight: 2})
		require.True(t, ok)
		assert.True(t, h.Enabled)
	})
	t.Run("ext changes are published", func(t *testing.T) {
		bs := addrs(2)
		bs[0].Ext = "v1"
		bs[1].Ext = map[string]int{"x": 1} // not comparable: always republished
		var builds atomic.Int32
		lb, st := newLB(t, balancer.Options{Algorithm: func(b []*balancer.Backend) (balancer.Selector, error) {
			builds.Add(1)
			return balancer.FNVHash(b)
		}}, bs...)
		bs[0].Ext = "v2"
		st.Set(bs...)
		require.NoError(t, lb.Update(t.Context()))
		assert.Equal(t, "v2", lb.Backends()[0].Ext)
		b, ok := lb.SelectWith([]byte("k"), func(b *balancer.Backend, _ bool) bool { return b.Addr == bs[0].Addr })
		require.True(t, ok)
		assert.Equal(t, "v2", b.Ext)
		assert.Equal(t, int32(1), builds.Load(), "selector kept")
	})
	t.Run("errors keep the old set", func(t *testing.T) {
		fail := atomic.Bool{}
		d := balancer.DiscoveryFunc(func(context.Context) ([]balancer.Backend, error) {
			if fail.Load() {
				return nil, errDown
			}
			return addrs(2), nil
		})
		lb, err := balancer.New(d, balancer.Options{})
		require.NoError(t, err)
		require.NoError(t, lb.Update(t.Context()))
		fail.Store(true)
		err = lb.Update(t.Context())
		require.ErrorIs(t, err, errDown)
		assert.Len(t, lb.Backends(), 2)
	})
	t.Run("invalid backend", func(t *testing.T) {
		lb, err := balancer.New(balancer.NewStatic(balancer.Backend{Weight: 3}), balancer.Options{})
		require.NoError(t, err)
		require.EqualError(t, lb.Update(t.Context()), "balancer: discovered backend 0: balancer: backend has neither Addr nor Unix")
	})
	t.Run("algorithm error", func(t *testing.T) {
		bad := errors.New("no")
		lb, st := newLB(t, balancer.Options{Algorithm: func(bs []*balancer.Backend) (balancer.Selector, error) {
			if len(bs) > 1 {
				return nil, bad
			}
			return balancer.RoundRobin(bs)
		}}, addrs(1)...)
		st.Set(addrs(2)...)
		require.ErrorIs(t, lb.Update(t.Context()), bad)
		assert.Len(t, lb.Backends(), 1)
	})
}

func TestLoadBalancer_PassiveHealth(t *testing.T) {
	tests := []struct {
		name      string
		failures  int
		reports   int
		wantReady bool
	}{
		{"one failure, default threshold", 0, 1, false},
		{"below threshold", 3, 2, true},
		{"at threshold", 3, 3, false},
		{"disabled", -1, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := addrs(2)
			lb, _ := newLB(t, balancer.Options{PassiveFailures: tt.failures, PassiveDownTime: time.Hour}, bs...)
			b, ok := lb.Select(nil)
			require.True(t, ok)
			for range tt.reports {
				lb.ReportFailure(b)
			}
			h, ok := lb.Health(*b)
			require.True(t, ok)
			assert.Equal(t, tt.wantReady, h.Ready)
			assert.Equal(t, tt.wantReady, b.Ready())
			if !tt.wantReady {
				assert.WithinDuration(t, time.Now().Add(time.Hour), h.DownUntil, time.Minute)
				for range 10 {
					got, ok := lb.Select(nil)
					require.True(t, ok)
					assert.NotEqual(t, b.Addr, got.Addr)
				}
			}
		})
	}

	t.Run("success resets the count", func(t *testing.T) {
		lb, _ := newLB(t, balancer.Options{PassiveFailures: 2}, addrs(1)...)
		b, _ := lb.Select(nil)
		lb.ReportFailure(b)
		lb.ReportSuccess(b)
		lb.ReportFailure(b)
		assert.True(t, b.Ready())
		lb.ReportFailure(b)
		assert.False(t, b.Ready())
	})
	t.Run("down time ends", func(t *testing.T) {
		lb, _ := newLB(t, balancer.Options{PassiveDownTime: 30 * time.Millisecond}, addrs(1)...)
		b, _ := lb.Select(nil)
		lb.ReportFailure(b)
		_, ok := lb.Select(nil)
		require.False(t, ok)
		require.Eventually(t, func() bool { _, ok := lb.Select(nil); return ok }, 5*time.Second, 5*time.Millisecond)
		lb.ReportSuccess(b)
		h, _ := lb.Health(*b)
		assert.True(t, h.DownUntil.IsZero())
	})
	t.Run("user-built backend", func(t *testing.T) {
		lb, _ := newLB(t, balancer.Options{}, addrs(1)...)
		lb.ReportFailure(&balancer.Backend{Addr: addrs(1)[0].Addr}) // weight 0 means 1
		_, ok := lb.Select(nil)
		assert.False(t, ok)
		lb.ReportFailure(&balancer.Backend{Addr: netip.MustParseAddrPort("192.0.2.1:1")}) // unknown: ignored
		lb.ReportFailure(nil)
	})
}

func TestLoadBalancer_Candidates(t *testing.T) {
	for _, a := range algorithms {
		t.Run(a.name, func(t *testing.T) {
			bs := addrs(8)
			lb, _ := newLB(t, balancer.Options{Algorithm: a.alg}, bs...)
			require.True(t, lb.SetEnabled(bs[2], false))
			first, ok := lb.Select([]byte("key"))
			require.True(t, ok)
			seen := map[netip.AddrPort]bool{}
			i := 0
			for b := range lb.Candidates([]byte("key")) {
				require.False(t, seen[b.Addr], "candidate %v twice", b.Addr)
				require.NotEqual(t, bs[2].Addr, b.Addr, "disabled backend offered")
				if i == 0 && a.name != "Random" && a.name != "RoundRobin" && a.name != "PowerOfTwoChoices" && a.name != "LeastConnections" {
					assert.Equal(t, first.Addr, b.Addr, "first candidate is Select's pick")
				}
				seen[b.Addr] = true
				i++
			}
			if a.name != "Ketama" {
				assert.Len(t, seen, 7, "every ready backend offered")
			} else {
				assert.GreaterOrEqual(t, len(seen), 2)
			}
			// Stopping early works.
			n := 0
			for range lb.Candidates([]byte("key")) {
				n++
				if n == 2 {
					break
				}
			}
			assert.Equal(t, 2, n)
		})
	}
}

func TestLoadBalancer_SelectWith(t *testing.T) {
	bs := addrs(4)
	lb, _ := newLB(t, balancer.Options{Algorithm: balancer.FNVHash}, bs...)
	require.True(t, lb.SetEnabled(bs[1], false))
	var notReady []netip.AddrPort
	b, ok := lb.SelectWith([]byte("k"), func(b *balancer.Backend, ready bool) bool {
		if !ready {
			notReady = append(notReady, b.Addr)
		}
		return b.Addr == bs[1].Addr // take the disabled one on purpose
	})
	require.True(t, ok)
	assert.Equal(t, bs[1].Addr, b.Addr)
	assert.Equal(t, []netip.AddrPort{bs[1].Addr}, notReady)
	_, ok = lb.SelectWith([]byte("k"), func(*balancer.Backend, bool) bool { return false })
	assert.False(t, ok)
}

func TestLoadBalancer_SelectAllocs(t *testing.T) {
	for _, a := range algorithms {
		t.Run(a.name, func(t *testing.T) {
			lb, _ := newLB(t, balancer.Options{Algorithm: a.alg}, addrs(100, 1, 2, 3)...)
			key := []byte("/some/request/path")
			allocs := testing.AllocsPerRun(200, func() {
				b, _ := lb.Acquire(key)
				lb.Release(b)
				lb.ReportSuccess(b)
				for range lb.Candidates(key) {
				}
			})
			assert.Zero(t, allocs)
		})
	}
}

// TestLoadBalancer_UpdateConcurrentSafe adds and removes backends while
// many goroutines select, acquire and release: every pick is a backend of
// one of the sets, and in-flight counts end at zero.
func TestLoadBalancer_UpdateConcurrentSafe(t *testing.T) {
	for _, a := range algorithms {
		t.Run(a.name, func(t *testing.T) {
			all := addrs(20)
			valid := map[netip.AddrPort]bool{}
			for _, b := range all {
				valid[b.Addr] = true
			}
			lb, st := newLB(t, balancer.Options{Algorithm: a.alg}, all[:10]...)
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			var picks atomic.Int64
			for g := range 4 {
				wg.Go(func() {
					key := []byte("k" + strconv.Itoa(g))
					for ctx.Err() == nil {
						b, ok := lb.Acquire(key)
						if !ok {
							continue
						}
						if !valid[b.Addr] {
							t.Errorf("picked unknown backend %v", b.Addr)
						}
						if g%2 == 0 {
							lb.ReportSuccess(b)
						}
						picks.Add(1)
						lb.Release(b)
					}
				})
			}
			deadline := time.Now().Add(10 * time.Second)
			for i := 0; i < 50 || (picks.Load() < 1000 && time.Now().Before(deadline)); i++ {
				lo := i % 10
				st.Set(all[lo : lo+10]...)
				require.NoError(t, lb.Update(ctx))
				if i%7 == 0 {
					lb.SetEnabled(all[lo], i%2 == 0)
				}
			}
			cancel()
			wg.Wait()
			assert.Positive(t, picks.Load())
			st.Set(all...)
			require.NoError(t, lb.Update(t.Context()))
			for _, b := range all {
				h, ok := lb.Health(b)
				require.True(t, ok)
				assert.Zero(t, h.InFlight, "%v", b.Addr)
			}
		})
	}
}

func TestLoadBalancer_Run(t *testing.T) {
	t.Run("nothing periodic returns at once", func(t *testing.T) {
		lb, err := balancer.New(balancer.NewStatic(addrs(2)...), balancer.Options{Logger: quiet})
		require.NoError(t, err)
		require.NoError(t, lb.Run(t.Context()))
		assert.Len(t, lb.Backends(), 2)
	})
	t.Run("periodic discovery, stops with ctx, no leaks", func(t *testing.T) {
		leaks := checkGoroutines(t)
		var calls atomic.Int32
		d := balancer.DiscoveryFunc(func(context.Context) ([]balancer.Backend, error) {
			n := calls.Add(1)
			return addrs(int(n%5) + 1), nil
		})
		var checks atomic.Int32
		hc := balancer.HealthCheckFunc(func(ctx context.Context, b *balancer.Backend) error {
			checks.Add(1)
			return nil
		})
		lb, err := balancer.New(d, balancer.Options{
			UpdateInterval: 5 * time.Millisecond, HealthCheck: hc, HealthCheckInterval: 5 * time.Millisecond, Logger: quiet,
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- lb.Run(ctx) }()
		require.Eventually(t, func() bool { return calls.Load() > 5 && checks.Load() > 5 }, 5*time.Second, time.Millisecond)
		require.ErrorIs(t, lb.Run(ctx), balancer.ErrAlreadyRunning)
		cancel()
		require.NoError(t, <-done)
		leaks()
		n := calls.Load()
		time.Sleep(20 * time.Millisecond)
		assert.Equal(t, n, calls.Load(), "discovery after Run returned")
	})
	t.Run("failed discovery is retried", func(t *testing.T) {
		var calls atomic.Int32
		d := balancer.DiscoveryFunc(func(context.Context) ([]balancer.Backend, error) {
			if calls.Add(1) < 3 {
				return nil, errDown
			}
			return addrs(1), nil
		})
		lb, err := balancer.New(d, balancer.Options{UpdateInterval: time.Millisecond, Logger: quiet})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go lb.Start(ctx)
		require.Eventually(t, func() bool { _, ok := lb.Select(nil); return ok }, 5*time.Second, time.Millisecond)
	})
}
