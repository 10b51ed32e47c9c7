package timeout

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrElapsed is the error of a call that [Manager.Do] cut short: the
// deadline passed before the function returned. It matches
// [context.DeadlineExceeded] under [errors.Is] and reports Timeout() true,
// like the network package's timeouts.
var ErrElapsed error = elapsedError{}

type elapsedError struct{}

func (elapsedError) Error() string        { return "timeout: elapsed" }
func (elapsedError) Is(target error) bool { return target == context.DeadlineExceeded }
func (elapsedError) Timeout() bool        { return true }

// Do calls fn with a context that ends d from now (see
// [Manager.WithTimeout]) and returns fn's error. fn runs in the calling
// goroutine and must return promptly once the context is done. If fn fails
// after the deadline passed, Do returns [ErrElapsed], wrapping fn's error
// unless that is only the context's own DeadlineExceeded; an error caused by
// the parent ending is returned unchanged. A nil from fn is returned as nil,
// however late.
//
// Do is lazy, as Pingora's timeout is: fn that returns without calling the
// context's Done costs no timer at all, only the context itself.
func (m *Manager) Do(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	c := m.withTimeout(ctx, d)
	err := fn(c)
	c.cancel(errCanceled, false)
	if err == nil || !c.expiredOwn() {
		return err
	}
	if err == context.DeadlineExceeded || errors.Is(err, ErrElapsed) {
		return ErrElapsed
	}
	return fmt.Errorf("%w: %w", ErrElapsed, err)
}
