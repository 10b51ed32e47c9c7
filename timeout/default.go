package timeout

import (
	"context"
	"sync"
	"time"
)

// std is the Manager behind the package-level functions, made on first use.
var std = sync.OnceValue(NewManager)

// After is [Manager.After] on the package's shared Manager.
func After(d time.Duration) <-chan struct{} { return std().After(d) }

// Sleep is [Manager.Sleep] on the package's shared Manager.
func Sleep(d time.Duration) { std().Sleep(d) }

// WithTimeout is [Manager.WithTimeout] on the package's shared Manager.
func WithTimeout(parent context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return std().WithTimeout(parent, d)
}

// WithDeadline is [Manager.WithDeadline] on the package's shared Manager.
func WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return std().WithDeadline(parent, d)
}

// Do is [Manager.Do] on the package's shared Manager.
func Do(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	return std().Do(ctx, d, fn)
}
