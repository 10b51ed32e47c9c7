// Package timeout provides cheap timers for servers that set a deadline on
// almost every operation: deadlines are coalesced into buckets of
// [Resolution] (10 ms), one background goroutine serves them all, and each
// bucket has one notification shared by every timer in it.
//
// It ports pingora-timeout from Cloudflare's Pingora 0.8 (its TimerManager,
// fast_timeout and fast_sleep) in Go terms: a context whose deadline the
// manager serves, a timeout-wrapped call, a sleep and a bare timer channel.
//
//	ctx, cancel := timeout.WithTimeout(ctx, 2*time.Second)
//	defer cancel()
//	resp, err := client.Do(req.WithContext(ctx))
//
//	err := timeout.Do(ctx, time.Second, func(ctx context.Context) error {
//		return conn.Ping(ctx)
//	}) // errors.Is(err, timeout.ErrElapsed) when the second ran out
//
// # Timing
//
// A deadline is rounded up to the next multiple of Resolution counted from
// the Manager's creation (a deadline on a multiple stays), so a timer never
// fires early and fires at most one Resolution late, plus scheduling delay
// (the ticker goroutine sleeps until the earliest bucket is due). A
// context's Err is exact: it reports [context.DeadlineExceeded] as soon as
// the deadline has passed, and its Done closes then too if it has not yet.
// Use [time.Timer] where ±10 ms matters.
//
// # Cost
//
// Timers are lazy, as in Pingora: a context holds no timer until someone
// calls its Done method (or derives a context from it), so work that
// finishes without waiting on Done costs no timer. A timer from [After]
// costs no allocation; nothing needs stopping, and 10,000 pending ones with
// the same deadline take one bucket. Contexts cost two allocations (the
// context and its CancelFunc), plus a channel once Done is called. The
// package's benchmarks compare all of this with time.AfterFunc,
// time.NewTimer and context.WithTimeout.
//
// # Defaults
//
// The package-level functions share one Manager, made on first use.
// [Resolution] is fixed at 10 ms. The background goroutine starts with the
// first timer and exits when none is pending; no Close is needed.
//
// # Differences from Pingora
//
// Go has no futures to drop, so the timeout-wrapped call ([Do]) passes a
// context to a function that must honour it, and [ErrElapsed] (Pingora's
// Elapsed) matches [context.DeadlineExceeded]. Pingora keeps one timer map
// per thread and a timer thread that ticks every 10 ms forever; here a
// timing wheel with per-slot locks replaces the per-thread maps, and the
// goroutine sleeps until the next bucket is due and exits when idle. There
// is no pause_for_fork: Go programs do not fork.
//
// # Concurrency
//
// Every function and method is safe for concurrent use. No global lock is
// taken on the hot path: finding an existing bucket is two atomic loads,
// making one locks a single wheel slot, and contexts join their bucket
// through one of several striped locks.
package timeout
