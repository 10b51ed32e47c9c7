package limits_test

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/limits"
)

func newRate(t testing.TB, interval time.Duration) (*limits.Rate, time.Time) {
	t.Helper()
	r, err := limits.NewRate(interval, limits.Options{})
	require.NoError(t, err)
	return r, limits.StartOf(r)
}

func TestNewRate_Errors(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		opts     limits.Options
		want     string
	}{
		{"zero interval", 0, limits.Options{}, "limits: rate interval must be positive"},
		{"negative interval", -time.Second, limits.Options{}, "limits: rate interval must be positive"},
		{"negative hashes", time.Second, limits.Options{Hashes: -1}, "limits: hashes must be positive"},
		{"negative slots", time.Second, limits.Options{Slots: -1}, "limits: slots must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := limits.NewRate(tt.interval, tt.opts)
			require.EqualError(t, err, tt.want)
			assert.Nil(t, r)
		})
	}
	r, err := limits.NewRate(time.Minute, limits.Options{Hashes: 2, Slots: 64})
	require.NoError(t, err)
	assert.Equal(t, time.Minute, r.Interval())
}

// Pingora's test_observe_rate, with exact times.
func TestRate_ObserveRate(t *testing.T) {
	r, t0 := newRate(t, time.Second)
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	assert.Equal(t, int64(3), r.ObserveAt("k", 3, at(0)))
	assert.Equal(t, int64(5), r.ObserveAt("k", 2, at(0)))
	assert.Equal(t, 0.0, r.RateAt("k", at(0)), "no complete interval yet")

	assert.Equal(t, int64(4), r.ObserveAt("k", 4, at(time.Second)))
	assert.Equal(t, 5.0, r.RateAt("k", at(time.Second)))

	assert.Equal(t, 4.0, r.RateAt("k", at(2*time.Second)))
	assert.Equal(t, 0.0, r.RateAt("k", at(3*time.Second)), "nothing observed in the last complete interval")
	assert.Equal(t, 0.0, r.RateAt("other", at(3*time.Second)))
}

func TestRate_Table(t *testing.T) {
	type step struct {
		at      time.Duration
		observe int64   // events to observe, if nonzero
		want    int64   // Observe's result
		rate    float64 // RateAt's result after the step
	}
	tests := []struct {
		name     string
		interval time.Duration
		steps    []step
	}{
		{"rate is per second", 500 * time.Millisecond, []step{
			{at: 0, observe: 10, want: 10, rate: 0},
			{at: 600 * time.Millisecond, observe: 1, want: 1, rate: 20},
		}},
		{"rollover drifts to the first call after expiry", time.Second, []step{
			{at: 0, observe: 1, want: 1},
			// Rolls over at 1.5 s: the next interval ends at 2.5 s, not 2 s.
			{at: 1500 * time.Millisecond, observe: 2, want: 2, rate: 1},
			{at: 2400 * time.Millisecond, observe: 3, want: 5, rate: 1},
			{at: 2500 * time.Millisecond, observe: 1, want: 1, rate: 5},
		}},
		{"two idle intervals clear both", time.Second, []step{
			{at: 0, observe: 7, want: 7},
			{at: 2 * time.Second, rate: 0},
			{at: 2100 * time.Millisecond, observe: 1, want: 1, rate: 0},
			{at: 3100 * time.Millisecond, rate: 1},
		}},
		{"clock before creation counts as creation", time.Second, []step{
			{at: -time.Hour, observe: 2, want: 2},
			{at: time.Second, rate: 2},
		}},
		{"clock going backwards does not roll over", time.Second, []step{
			{at: 1500 * time.Millisecond, observe: 1, want: 1},
			{at: 1200 * time.Millisecond, observe: 1, want: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, t0 := newRate(t, tt.interval)
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				if s.observe != 0 {
					assert.Equal(t, s.want, r.ObserveAt("k", s.observe, now), "step %d: observe", i)
				}
				assert.Equal(t, s.rate, r.RateAt("k", now), "step %d: rate", i)
			}
		})
	}
}

// Pingora's test_observe_rate_custom_90_10 and _proportional, exact.
func TestRate_RateWith(t *testing.T) {
	ninetyTen := func(c limits.RateComponents) float64 {
		return (float64(c.PrevSamples)*0.1 + float64(c.CurrSamples)*0.9) / c.Interval.Seconds()
	}

	t.Run("90/10", func(t *testing.T) {
		r, t0 := newRate(t, time.Second)
		r.ObserveAt("k", 3, t0)
		r.ObserveAt("k", 2, t0)
		assert.InDelta(t, 5*0.9, r.RateWithAt("k", t0, ninetyTen), 1e-12)
		r.ObserveAt("k", 4, t0.Add(time.Second))
		assert.InDelta(t, 5*0.1+4*0.9, r.RateWithAt("k", t0.Add(time.Second), ninetyTen), 1e-12)
		assert.InDelta(t, 4*0.1, r.RateWithAt("k", t0.Add(2*time.Second), ninetyTen), 1e-12)
		assert.Zero(t, r.RateWithAt("k", t0.Add(3*time.Second), ninetyTen))
	})

	t.Run("proportional", func(t *testing.T) {
		r, t0 := newRate(t, time.Second)
		at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
		p := limits.ProportionalRateEstimate
		r.ObserveAt("k", 3, at(0))
		r.ObserveAt("k", 2, at(0))
		assert.InDelta(t, 5, r.RateWithAt("k", at(0), p), 1e-12)
		assert.InDelta(t, 5, r.RateWithAt("k", at(500), p), 1e-12)
		assert.Zero(t, r.RateAt("k", at(500)), "Rate ignores the current interval")
		r.ObserveAt("k", 4, at(1000))
		assert.InDelta(t, 9, r.RateWithAt("k", at(1000), p), 1e-12)
		assert.InDelta(t, 5*0.25+4, r.RateWithAt("k", at(1750), p), 1e-12)
		assert.InDelta(t, 4, r.RateWithAt("k", at(2000), p), 1e-12)
		assert.InDelta(t, 4, r.RateAt("k", at(2000)), 1e-12)
		assert.InDelta(t, 4.0/2, r.RateWithAt("k", at(2500), p), 1e-12)
		assert.InDelta(t, 4, r.RateAt("k", at(2500)), 1e-12)
		assert.Zero(t, r.RateWithAt("k", at(3500), p))
	})

	t.Run("components", func(t *testing.T) {
		r, t0 := newRate(t, 2*time.Second)
		var got limits.RateComponents
		capture := func(c limits.RateComponents) float64 { got = c; return 0 }
		r.ObserveAt("k", 6, t0)
		r.RateWithAt("k", t0.Add(500*time.Millisecond), capture)
		assert.Equal(t, limits.RateComponents{CurrSamples: 6, Interval: 2 * time.Second, CurrentIntervalFraction: 0.25}, got)
		r.RateWithAt("k", t0.Add(2500*time.Millisecond), capture)
		assert.Equal(t, limits.RateComponents{PrevSamples: 6, Interval: 2 * time.Second, CurrentIntervalFraction: 0.25}, got)
	})
}

func TestProportionalRateEstimate(t *testing.T) {
	tests := []struct {
		c    limits.RateComponents
		want float64
	}{
		{limits.RateComponents{PrevSamples: 10, CurrSamples: 0, Interval: time.Second}, 10},
		{limits.RateComponents{PrevSamples: 10, CurrSamples: 4, Interval: time.Second, CurrentIntervalFraction: 0.5}, 9},
		{limits.RateComponents{PrevSamples: 0, CurrSamples: 30, Interval: time.Minute, CurrentIntervalFraction: 0.9}, 0.5},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			assert.InDelta(t, tt.want, limits.ProportionalRateEstimate(tt.c), 1e-12)
		})
	}
}

// Plain calls use the real clock: within one interval they count up and the
// rate stays zero.
func TestRate_RealClock(t *testing.T) {
	r, _ := newRate(t, time.Hour)
	assert.Equal(t, int64(1), r.Observe("k", 1))
	assert.Equal(t, int64(3), r.Observe("k", 2))
	assert.Zero(t, r.Rate("k"))
	assert.InDelta(t, 3.0/3600, r.RateWith("k", limits.ProportionalRateEstimate), 1e-9)
}

func TestRate_ConcurrentSafe(t *testing.T) {
	r, t0 := newRate(t, 10*time.Millisecond)
	const workers, per = 8, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				// Every goroutine walks the same virtual clock, so rollovers
				// race with observations.
				now := t0.Add(time.Duration(i) * time.Millisecond)
				k := "k" + strconv.Itoa((i+w)%4)
				require.Positive(t, r.ObserveAt(k, 1, now))
				require.GreaterOrEqual(t, r.RateAt(k, now), 0.0)
				r.RateWithAt(k, now, limits.ProportionalRateEstimate)
			}
		})
	}
	wg.Wait()
}
