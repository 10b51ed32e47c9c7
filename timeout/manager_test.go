package timeout_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/timeout"
)

// roundUp is the documented firing time of a timer of d created at a
// Manager's start: d rounded up to a multiple of Resolution.
func roundUp(d time.Duration) time.Duration {
	return (d + timeout.Resolution - 1) / timeout.Resolution * timeout.Resolution
}

// bubble runs fn in a synctest bubble with a new Manager, then waits
// (in fake time) for the Manager's goroutine to exit: a bubble may not end
// with goroutines left, and a ticker that outlives every timer by more than
// the one-second prune interval is a leak.
func bubble(t *testing.T, fn func(t *testing.T, m *timeout.Manager)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		m := timeout.NewManager()
		fn(t, m)
		for deadline := time.Now().Add(2 * time.Minute); timeout.TickerRunning(m); {
			if time.Now().After(deadline) {
				t.Fatal("ticker still running two minutes after the test")
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
	})
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

var durations = []time.Duration{
	time.Nanosecond,
	5 * time.Millisecond,
	10 * time.Millisecond, // on a boundary: stays
	10*time.Millisecond + time.Nanosecond,
	25 * time.Millisecond,
	time.Second,
	6 * time.Second, // more than one turn of the wheel
	time.Minute,
}

// In a synctest bubble time moves only when every goroutine waits, so the
// firing time is observed exactly: not one nanosecond before the rounded
// deadline, and at it.
func TestManager_After(t *testing.T) {
	for _, d := range durations {
		t.Run(fmt.Sprintf("d=%v", d), func(t *testing.T) {
			bubble(t, func(t *testing.T, m *timeout.Manager) {
				start := time.Now()
				ch := m.After(d)
				time.Sleep(roundUp(d) - time.Nanosecond)
				synctest.Wait()
				require.False(t, isClosed(ch), "fired before %v", roundUp(d))
				time.Sleep(time.Nanosecond)
				synctest.Wait()
				require.True(t, isClosed(ch), "not fired at %v", roundUp(d))
				assert.Equal(t, roundUp(d), time.Since(start))
			})
		})
	}
}

func TestManager_AfterNotPositive(t *testing.T) {
	m := timeout.NewManager()
	for _, d := range []time.Duration{0, -time.Second} {
		assert.True(t, isClosed(m.After(d)), "After(%v)", d)
	}
	m.Sleep(-1) // returns at once
	assert.False(t, timeout.TickerRunning(m))
}

// Timers whose deadlines round to the same boundary share one channel.
func TestManager_AfterCoalesces(t *testing.T) {
	bubble(t, func(t *testing.T, m *timeout.Manager) {
		time.Sleep(3 * time.Millisecond)    // 3 ms into the first bucket
		a := m.After(8 * time.Millisecond)  // 11 ms → 20 ms
		b := m.After(17 * time.Millisecond) // 20 ms → 20 ms
		c := m.After(18 * time.Millisecond) // 21 ms → 30 ms
		assert.Equal(t, a, b)
		assert.NotEqual(t, a, c)
		assert.Equal(t, int64(2), timeout.Pending(m))
		time.Sleep(17 * time.Millisecond)
		synctest.Wait()
		assert.True(t, isClosed(a))
		assert.False(t, isClosed(c))
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		assert.True(t, isClosed(c))
	})
}

// The ticker goroutine starts with the first timer and exits once no timer
// is pending; a canceled context stops counting at once.
func TestManager_TickerStops(t *testing.T) {
	bubble(t, func(t *testing.T, m *timeout.Manager) {
		assert.False(t, timeout.TickerRunning(m), "started before any timer")

		ch := m.After(50 * time.Millisecond)
		synctest.Wait()
		assert.True(t, timeout.TickerRunning(m))
		<-ch
		synctest.Wait()
		assert.False(t, timeout.TickerRunning(m), "still running with nothing pending")
		assert.Zero(t, timeout.Pending(m))

		// Canceled contexts: their bucket is dropped within a second.
		for range 100 {
			ctx, cancel := m.WithTimeout(context.Background(), time.Hour)
			<-chanOf(ctx)
			cancel()
		}
		synctest.Wait()
		assert.True(t, timeout.TickerRunning(m))
		time.Sleep(time.Second + timeout.Resolution)
		synctest.Wait()
		assert.False(t, timeout.TickerRunning(m), "running for canceled contexts")
		assert.Zero(t, timeout.Pending(m))

		// It restarts for the next timer.
		m.Sleep(30 * time.Millisecond)
		synctest.Wait()
		assert.False(t, timeout.TickerRunning(m))
	})
}

// chanOf calls ctx.Done (arming the timer) and returns a closed channel, so
// that <-chanOf(ctx) does not wait.
func chanOf(ctx context.Context) <-chan struct{} {
	_ = ctx.Done()
	ch := make(chan struct{})
	close(ch)
	return ch
}

// The package-level functions use the real clock: never early.
func TestAfter_RealClock(t *testing.T) {
	for _, d := range []time.Duration{time.Millisecond, 15 * time.Millisecond, 30 * time.Millisecond} {
		start := time.Now()
		<-timeout.After(d)
		assert.GreaterOrEqual(t, time.Since(start), d, "After(%v)", d)
		start = time.Now()
		timeout.Sleep(d)
		assert.GreaterOrEqual(t, time.Since(start), d, "Sleep(%v)", d)
	}
}

func TestManager_ConcurrentSafe(t *testing.T) {
	m := timeout.NewManager()
	const workers, per = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range per {
				d := time.Duration(r.IntN(20_000)) * time.Microsecond
				start := time.Now()
				switch i % 3 {
				case 0:
					ch := m.After(d)
					if i%2 == 0 {
						<-ch
						assert.GreaterOrEqual(t, time.Since(start), d)
					}
				case 1:
					ctx, cancel := m.WithTimeout(context.Background(), d)
					if i%2 == 0 {
						<-ctx.Done()
						assert.GreaterOrEqual(t, time.Since(start), d)
						assert.Equal(t, context.DeadlineExceeded, ctx.Err())
					} else {
						_ = ctx.Done()
					}
					cancel()
				default:
					err := m.Do(context.Background(), d, func(ctx context.Context) error {
						select {
						case <-ctx.Done():
							return ctx.Err()
						case <-m.After(d / 2):
							return nil
						}
					})
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	// Every bucket fires within its deadline; the ticker then exits.
	require.Eventually(t, func() bool { return !timeout.TickerRunning(m) }, 3*time.Second, 10*time.Millisecond)
	assert.Zero(t, timeout.Pending(m))
}

// FuzzTickOf checks the rounding contract: a deadline's bucket is the first
// Resolution boundary at or after it, so a timer never fires early and at
// most one Resolution late.
func FuzzTickOf(f *testing.F) {
	for _, at := range []int64{0, 1, -1, int64(timeout.Resolution), int64(timeout.Resolution) + 1, 1<<63 - 1, -1 << 63} {
		f.Add(at)
	}
	f.Fuzz(func(t *testing.T, at int64) {
		tick := timeout.TickOf(at)
		res := int64(timeout.Resolution)
		if at <= 0 {
			require.Zero(t, tick)
			return
		}
		require.Positive(t, tick)
		// tick*res ≥ at, computed without overflow.
		require.GreaterOrEqual(t, tick, at/res)
		if tick == at/res {
			require.Zero(t, at%res)
		} else {
			require.Equal(t, at/res+1, tick)
		}
	})
}
