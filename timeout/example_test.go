package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pingora-go/pingora/timeout"
)

func ExampleWithTimeout() {
	ctx, cancel := timeout.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel() // releases the timer if the work ends first

	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second): // stands for work that takes too long
	}
	fmt.Println(ctx.Err())
	fmt.Println("not early:", time.Since(start) >= 20*time.Millisecond)
	// Output:
	// context deadline exceeded
	// not early: true
}

func ExampleDo() {
	slowPing := func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
			return nil
		}
	}
	err := timeout.Do(context.Background(), 30*time.Millisecond, slowPing)
	fmt.Println(err, errors.Is(err, timeout.ErrElapsed), errors.Is(err, context.DeadlineExceeded))

	fastPing := func(ctx context.Context) error { return nil }
	fmt.Println(timeout.Do(context.Background(), 30*time.Millisecond, fastPing))
	// Output:
	// timeout: elapsed true true
	// <nil>
}

func ExampleAfter() {
	work := make(chan string) // stands for a result that is late
	select {
	case <-work:
		fmt.Println("done")
	case <-timeout.After(20 * time.Millisecond):
		fmt.Println("gave up") // nothing to stop: the timer is shared
	}
	// Output:
	// gave up
}

func ExampleManager() {
	m := timeout.NewManager()
	start := time.Now()
	m.Sleep(15 * time.Millisecond) // wakes at the next 10 ms boundary: 20 ms
	fmt.Println(time.Since(start) >= 15*time.Millisecond)
	// Output:
	// true
}
