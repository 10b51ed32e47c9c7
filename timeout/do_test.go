package timeout_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/pingora-go/pingora/timeout"
)

func TestManager_Do(t *testing.T) {
	waitDone := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name    string
		parent  func() (context.Context, context.CancelFunc)
		d       time.Duration
		fn      func(ctx context.Context) error
		want    error   // errors.Is targets, all must match
		also    []error // more errors.Is targets
		elapsed time.Duration
	}{
		{name: "fast success", d: time.Second, fn: func(context.Context) error { return nil }},
		{name: "fast failure", d: time.Second, fn: func(context.Context) error { return io.EOF }, want: io.EOF},
		{name: "slow success", d: 10 * time.Millisecond, fn: func(context.Context) error {
			time.Sleep(50 * time.Millisecond)
			return nil
		}, elapsed: 50 * time.Millisecond},
		{name: "unaware failure after the deadline is not a timeout", d: 10 * time.Millisecond, fn: func(context.Context) error {
			time.Sleep(50 * time.Millisecond)
			return io.EOF
		}, want: io.EOF, elapsed: 50 * time.Millisecond},
		{name: "elapsed", d: 25 * time.Millisecond, fn: waitDone,
			want: timeout.ErrElapsed, also: []error{context.DeadlineExceeded}, elapsed: 30 * time.Millisecond},
		{name: "elapsed wraps fn's error", d: 25 * time.Millisecond, fn: func(ctx context.Context) error {
			<-ctx.Done()
			return io.ErrUnexpectedEOF
		}, want: timeout.ErrElapsed, also: []error{io.ErrUnexpectedEOF, context.DeadlineExceeded}, elapsed: 30 * time.Millisecond},
		{name: "parent canceled is not a timeout", d: time.Second,
			parent: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			}, fn: waitDone, want: context.Canceled},
		{name: "parent deadline is not ours", d: time.Second,
			parent: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 15*time.Millisecond)
			}, fn: waitDone, want: context.DeadlineExceeded, elapsed: 15 * time.Millisecond},
		{name: "zero duration", d: 0, fn: waitDone, want: timeout.ErrElapsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bubble(t, func(t *testing.T, m *timeout.Manager) {
				parent := context.Background()
				if tt.parent != nil {
					var cancel context.CancelFunc
					parent, cancel = tt.parent()
					defer cancel()
				}
				start := time.Now()
				err := m.Do(parent, tt.d, tt.fn)
				assert.Equal(t, tt.elapsed, time.Since(start))
				if tt.want == nil {
					assert.NoError(t, err)
					return
				}
				assert.ErrorIs(t, err, tt.want)
				for _, e := range tt.also {
					assert.ErrorIs(t, err, e)
				}
				if errors.Is(tt.want, timeout.ErrElapsed) {
					assert.NotErrorIs(t, err, context.Canceled)
				} else {
					assert.NotErrorIs(t, err, timeout.ErrElapsed)
				}
			})
		})
	}
}

// Work that ends without waiting on the context's Done costs no timer.
func TestManager_DoIsLazy(t *testing.T) {
	fns := map[string]func(ctx context.Context) error{
		"ignores ctx": func(context.Context) error { return nil },
		"polls Err":   func(ctx context.Context) error { return ctx.Err() },
		"reads Deadline": func(ctx context.Context) error {
			_, _ = ctx.Deadline()
			return nil
		},
	}
	for name, fn := range fns {
		t.Run(name, func(t *testing.T) {
			m := timeout.NewManager()
			assert.NoError(t, m.Do(context.Background(), time.Second, fn))
			assert.False(t, timeout.TickerRunning(m))
			assert.Zero(t, timeout.Pending(m))
		})
	}
}

func TestErrElapsed(t *testing.T) {
	assert.EqualError(t, timeout.ErrElapsed, "timeout: elapsed")
	assert.ErrorIs(t, timeout.ErrElapsed, context.DeadlineExceeded)
	var ne interface{ Timeout() bool }
	assert.ErrorAs(t, timeout.ErrElapsed, &ne)
	assert.True(t, ne.Timeout())
	var _ = net.Error(nil) // ErrElapsed answers Timeout() like net.Error
}

func TestDo_RealClock(t *testing.T) {
	start := time.Now()
	err := timeout.Do(context.Background(), 20*time.Millisecond, func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	assert.ErrorIs(t, err, timeout.ErrElapsed)
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}
