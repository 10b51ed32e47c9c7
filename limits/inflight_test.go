package limits_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/limits"
)

func newInflight(t testing.TB) *limits.Inflight {
	t.Helper()
	in, err := limits.NewInflight(limits.Options{})
	require.NoError(t, err)
	return in
}

func TestNewInflight_Errors(t *testing.T) {
	in, err := limits.NewInflight(limits.Options{Hashes: -1})
	require.EqualError(t, err, "limits: hashes must be positive")
	assert.Nil(t, in)
}

// Pingora's inflight_count test.
func TestInflight_Count(t *testing.T) {
	in := newInflight(t)
	g1, v := in.Incr("a", 1)
	assert.Equal(t, int64(1), v)
	g2, v := in.Incr("a", 2)
	assert.Equal(t, int64(3), v)

	g1.Release()
	assert.Equal(t, int64(2), g2.Get())

	g2.Release()
	_, v = in.Incr("a", 1)
	assert.Equal(t, int64(1), v)
}

func TestGuard_Release(t *testing.T) {
	tests := []struct {
		name  string
		run   func(in *limits.Inflight)
		wantA int64
	}{
		{"double release takes back once", func(in *limits.Inflight) {
			in.Incr("a", 5)
			g, _ := in.Incr("a", 2)
			g.Release()
			g.Release()
		}, 5},
		{"release takes back every Guard.Incr", func(in *limits.Inflight) {
			g, _ := in.Incr("a", 2)
			assert.Equal(t, int64(4), g.Incr())
			assert.Equal(t, int64(6), g.Incr())
			g.Release()
		}, 0},
		{"incr after release adds nothing", func(in *limits.Inflight) {
			in.Incr("a", 1)
			g, _ := in.Incr("a", 3)
			g.Release()
			assert.Equal(t, int64(1), g.Incr())
			g.Release()
		}, 1},
		{"other keys are untouched", func(in *limits.Inflight) {
			g, _ := in.Incr("b", 3)
			defer g.Release()
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInflight(t)
			tt.run(in)
			assert.Equal(t, tt.wantA, in.Get("a"))
		})
	}
}

func TestInflight_ConcurrentSafe(t *testing.T) {
	in := newInflight(t)
	const workers, per = 8, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range per {
				g, n := in.Incr("hot", 1)
				assert.Positive(t, n)
				g.Incr()
				// Release from two goroutines at once: only one counts.
				var rel sync.WaitGroup
				rel.Go(g.Release)
				g.Release()
				rel.Wait()
			}
		})
	}
	wg.Wait()
	assert.Zero(t, in.Get("hot"))
}
