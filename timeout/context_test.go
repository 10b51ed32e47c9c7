package timeout_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/timeout"
)

type ctxKey struct{}

// Context semantics, each case checked in a synctest bubble so times are
// exact.
func TestManager_WithTimeout(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, m *timeout.Manager)
	}{
		{"deadline passes", func(t *testing.T, m *timeout.Manager) {
			start := time.Now()
			ctx, cancel := m.WithTimeout(context.Background(), 25*time.Millisecond)
			defer cancel()
			dl, ok := ctx.Deadline()
			assert.True(t, ok)
			assert.Equal(t, start.Add(25*time.Millisecond), dl)
			assert.NoError(t, ctx.Err())
			<-ctx.Done()
			assert.Equal(t, 30*time.Millisecond, time.Since(start), "rounded up to the bucket")
			assert.Equal(t, context.DeadlineExceeded, ctx.Err())
			assert.Equal(t, context.DeadlineExceeded, context.Cause(ctx))
		}},
		{"Err is exact without Done", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), 25*time.Millisecond)
			defer cancel()
			time.Sleep(25*time.Millisecond - 1)
			assert.NoError(t, ctx.Err())
			time.Sleep(1)
			assert.Equal(t, context.DeadlineExceeded, ctx.Err())
			assert.True(t, isClosed(ctx.Done()), "Done must be closed once Err is set")
			assert.False(t, timeout.TickerRunning(m), "no timer for a context nobody waits on")
		}},
		{"Err is exact with Done", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), 25*time.Millisecond)
			defer cancel()
			done := ctx.Done()
			time.Sleep(25 * time.Millisecond)
			assert.False(t, isClosed(done), "the bucket fires at 30 ms")
			assert.Equal(t, context.DeadlineExceeded, ctx.Err())
			assert.True(t, isClosed(done))
		}},
		{"cancel first", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), time.Second)
			done := ctx.Done()
			cancel()
			assert.True(t, isClosed(done))
			assert.Equal(t, context.Canceled, ctx.Err())
			cancel() // idempotent
			time.Sleep(2 * time.Second)
			assert.Equal(t, context.Canceled, ctx.Err())
		}},
		{"cancel before Done", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), time.Second)
			cancel()
			assert.True(t, isClosed(ctx.Done()))
			assert.Equal(t, context.Canceled, ctx.Err())
		}},
		{"not positive", func(t *testing.T, m *timeout.Manager) {
			for _, d := range []time.Duration{0, -time.Hour} {
				ctx, cancel := m.WithTimeout(context.Background(), d)
				assert.True(t, isClosed(ctx.Done()))
				assert.Equal(t, context.DeadlineExceeded, ctx.Err())
				cancel()
				assert.Equal(t, context.DeadlineExceeded, ctx.Err())
			}
		}},
		{"deadline in the past", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithDeadline(context.Background(), time.Now().Add(-time.Minute))
			defer cancel()
			assert.Equal(t, context.DeadlineExceeded, ctx.Err())
		}},
		{"parent canceled", func(t *testing.T, m *timeout.Manager) {
			parent, cancelParent := context.WithCancelCause(context.Background())
			ctx, cancel := m.WithTimeout(parent, time.Second)
			defer cancel()
			done := ctx.Done()
			cause := errors.New("client went away")
			cancelParent(cause)
			<-done
			assert.Equal(t, context.Canceled, ctx.Err())
			assert.Equal(t, cause, context.Cause(ctx))
		}},
		{"parent canceled, child not armed", func(t *testing.T, m *timeout.Manager) {
			parent, cancelParent := context.WithCancel(context.Background())
			ctx, cancel := m.WithTimeout(parent, time.Second)
			defer cancel()
			cancelParent()
			assert.Equal(t, context.Canceled, ctx.Err())
			assert.True(t, isClosed(ctx.Done()))
		}},
		{"parent already done", func(t *testing.T, m *timeout.Manager) {
			parent, cancelParent := context.WithCancel(context.Background())
			cancelParent()
			ctx, cancel := m.WithTimeout(parent, time.Second)
			defer cancel()
			<-ctx.Done()
			assert.Equal(t, context.Canceled, ctx.Err())
		}},
		{"parent deadline first", func(t *testing.T, m *timeout.Manager) {
			start := time.Now()
			parent, cancelParent := context.WithTimeout(context.Background(), 15*time.Millisecond)
			defer cancelParent()
			ctx, cancel := m.WithTimeout(parent, time.Second)
			defer cancel()
			dl, ok := ctx.Deadline()
			assert.True(t, ok)
			assert.Equal(t, start.Add(15*time.Millisecond), dl)
			<-ctx.Done()
			assert.Equal(t, 15*time.Millisecond, time.Since(start), "the parent's own timer")
			assert.Equal(t, context.DeadlineExceeded, ctx.Err())
			assert.Contains(t, ctx.(interface{ String() string }).String(), "timeout.WithCancel")
		}},
		{"nested managed contexts", func(t *testing.T, m *timeout.Manager) {
			start := time.Now()
			outer, cancelOuter := m.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancelOuter()
			inner, cancelInner := m.WithTimeout(outer, time.Second)
			defer cancelInner()
			<-inner.Done()
			assert.Equal(t, 20*time.Millisecond, time.Since(start))
			assert.Equal(t, context.DeadlineExceeded, inner.Err())
			assert.Equal(t, context.DeadlineExceeded, outer.Err())
		}},
		{"values pass through", func(t *testing.T, m *timeout.Manager) {
			parent := context.WithValue(context.Background(), ctxKey{}, "v")
			ctx, cancel := m.WithTimeout(parent, time.Second)
			defer cancel()
			assert.Equal(t, "v", ctx.Value(ctxKey{}))
			assert.Nil(t, ctx.Value("other"))
		}},
		{"stdlib child follows", func(t *testing.T, m *timeout.Manager) {
			start := time.Now()
			ctx, cancel := m.WithTimeout(context.Background(), 40*time.Millisecond)
			defer cancel()
			child, cancelChild := context.WithCancel(ctx)
			defer cancelChild()
			<-child.Done()
			assert.Equal(t, 40*time.Millisecond, time.Since(start))
			assert.Equal(t, context.DeadlineExceeded, child.Err())
		}},
		{"stdlib timeout child", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), time.Second)
			child, cancelChild := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancelChild()
			<-child.Done()
			assert.NoError(t, ctx.Err())
			cancel()
			assert.Equal(t, context.DeadlineExceeded, child.Err())
		}},
		{"AfterFunc", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			var ran, stopped atomic.Bool
			context.AfterFunc(ctx, func() { ran.Store(true) })
			stop := context.AfterFunc(ctx, func() { stopped.Store(true) })
			assert.True(t, stop())
			assert.False(t, stop())
			time.Sleep(20 * time.Millisecond)
			synctest.Wait()
			assert.True(t, ran.Load())
			assert.False(t, stopped.Load())
			// After the end, AfterFunc runs f at once.
			ran.Store(false)
			stop = context.AfterFunc(ctx, func() { ran.Store(true) })
			synctest.Wait()
			assert.True(t, ran.Load())
			assert.False(t, stop())
		}},
		{"String", func(t *testing.T, m *timeout.Manager) {
			ctx, cancel := m.WithTimeout(context.Background(), time.Second)
			defer cancel()
			s := ctx.(interface{ String() string }).String()
			assert.True(t, strings.HasPrefix(s, "context.Background.timeout.WithDeadline("), s)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bubble(t, tt.run)
		})
	}
}

func TestWithDeadline_NilParent(t *testing.T) {
	assert.PanicsWithValue(t, "timeout: cannot create context from nil parent", func() {
		//nolint:staticcheck // the point of the test
		timeout.WithDeadline(nil, time.Now())
	})
}

// The package-level context against the real clock: never early.
func TestWithTimeout_RealClock(t *testing.T) {
	start := time.Now()
	ctx, cancel := timeout.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	<-ctx.Done()
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	assert.Equal(t, context.DeadlineExceeded, ctx.Err())
}

// Cancel, expiry, Err and Done race from many goroutines on the same
// buckets; every context ends exactly once with a consistent error.
func TestWithTimeout_ConcurrentSafe(t *testing.T) {
	m := timeout.NewManager()
	const workers, per = 8, 150
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				d := time.Duration(i%7) * time.Millisecond
				ctx, cancel := m.WithTimeout(context.Background(), d)
				var inner sync.WaitGroup
				inner.Go(func() { _ = ctx.Err(); <-ctx.Done() })
				if (i+w)%2 == 0 {
					cancel()
				}
				<-ctx.Done()
				err := ctx.Err()
				require.True(t, err == context.Canceled || err == context.DeadlineExceeded, "%v", err)
				cancel()
				require.Equal(t, err, ctx.Err(), "the error never changes")
				inner.Wait()
			}
		})
	}
	wg.Wait()
	require.Eventually(t, func() bool { return !timeout.TickerRunning(m) }, 3*time.Second, 10*time.Millisecond)
}
