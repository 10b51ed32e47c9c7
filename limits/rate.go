package limits

import (
	"errors"
	"sync/atomic"
	"time"
)

// Options sizes the count–min sketch behind a [Rate] or an [Inflight]. The
// zero value selects Pingora's sizes.
type Options struct {
	// Hashes is the number of rows (independent hashes) per sketch.
	// If zero, 4.
	Hashes int
	// Slots is the number of counters per row. If zero, 1024 for a Rate and
	// 8192 for an Inflight. A Rate needs fewer when its interval is short,
	// because fewer distinct keys are seen per interval.
	Slots int
}

func (o Options) sketch(defaultSlots int) (*Estimator, error) {
	h, s := o.Hashes, o.Slots
	if h == 0 {
		h = 4
	}
	if s == 0 {
		s = defaultSlots
	}
	return NewEstimator(h, s)
}

// RateComponents is what [Rate.RateWith] hands to a rate function: the event
// counts of the previous (complete) and the current (partial) interval, the
// interval, and how far into the current interval the call is.
type RateComponents struct {
	// PrevSamples is the count of the previous, complete interval.
	PrevSamples int64
	// CurrSamples is the count of the current interval so far.
	CurrSamples int64
	// Interval is the Rate's interval.
	Interval time.Duration
	// CurrentIntervalFraction is the elapsed part of the current interval,
	// in [0, 1).
	CurrentIntervalFraction float64
}

// ProportionalRateEstimate is a rate function for [Rate.RateWith]: a
// sliding-window estimate of events per second over the last interval. It
// weights the previous interval by the part of it still inside the window
// and adds the current interval: (prev×(1−fraction) + curr) / interval in
// seconds. See Cloudflare's "Counting things, a lot of different things".
func ProportionalRateEstimate(c RateComponents) float64 {
	weighted := float64(c.PrevSamples)*(1-c.CurrentIntervalFraction) + float64(c.CurrSamples)
	return weighted / c.Interval.Seconds()
}

// Rate counts events per key in fixed intervals and reports the rate of the
// last complete interval. It holds two Estimators, red and blue: one collects
// the current interval while the other keeps the previous one. The first call
// made at least one interval after the last rollover becomes the new
// rollover point, so intervals are not aligned to a fixed grid: they begin
// at the first event after the previous one ended. When two or more
// intervals passed without a call, both counts are stale and read as zero.
//
// Times are taken from the monotonic clock. Each method has an At variant
// (ObserveAt, RateAt, RateWithAt) taking the current time, for tests and for
// callers that already hold it; times before the Rate was created count as
// its creation time.
//
// A Rate is safe for concurrent use. At a rollover, events observed by other
// goroutines during the switch may land in the interval on either side of
// it; counts are estimates anyway (see [Estimator]).
type Rate struct {
	est      [2]*Estimator
	cur      atomic.Uint32 // index in est of the current interval
	start    time.Time
	interval int64        // nanoseconds, > 0
	last     atomic.Int64 // last rollover, nanoseconds since start
}

// NewRate returns a Rate with the given interval, which must be positive;
// Pingora's rate limiter uses one second.
func NewRate(interval time.Duration, opts Options) (*Rate, error) {
	if interval <= 0 {
		return nil, errors.New("limits: rate interval must be positive")
	}
	red, err := opts.sketch(1024)
	if err != nil {
		return nil, err
	}
	r := &Rate{start: time.Now(), interval: int64(interval)}
	r.est = [2]*Estimator{red, red.sibling()}
	return r, nil
}

// Interval reports the Rate's interval.
func (r *Rate) Interval() time.Duration { return time.Duration(r.interval) }

// elapsed returns the time since r was created in nanoseconds. It reads
// only the monotonic clock, half the cost of time.Now.
func (r *Rate) elapsed() int64 { return int64(time.Since(r.start)) }

// since returns now as nanoseconds since r was created, never negative.
func (r *Rate) since(now time.Time) int64 {
	return max(int64(now.Sub(r.start)), 0)
}

// roll performs the rollover when an interval has passed and returns the
// time from the previous rollover to now.
func (r *Rate) roll(now int64) (past int64) {
	last := r.last.Load()
	// past < 0 when another goroutine rolled over with a later clock reading
	// than ours, or when the caller's clock went backwards.
	past = max(now-last, 0)
	if past < r.interval {
		return past
	}
	cur := r.cur.Load()
	if r.last.CompareAndSwap(last, now) {
		r.est[cur^1].Reset() // clear the old previous interval, the new current one
		r.cur.Store(cur ^ 1) // switch roles
		if past >= 2*r.interval {
			r.est[cur].Reset() // the new previous interval saw no calls either
		}
	}
	return past
}

// Observe records events for key in the current interval and returns the
// key's count in the current interval so far.
func (r *Rate) Observe(key string, events int64) int64 {
	return r.observe(key, events, r.elapsed())
}

// ObserveAt is [Rate.Observe] at time now.
func (r *Rate) ObserveAt(key string, events int64, now time.Time) int64 {
	return r.observe(key, events, r.since(now))
}

func (r *Rate) observe(key string, events, now int64) int64 {
	r.roll(now)
	return r.est[r.cur.Load()].add(key, events)
}

// Rate returns key's events per second in the last complete interval: its
// count there divided by the interval. It is zero until one interval has
// passed, and again once two intervals pass with no call to the Rate.
func (r *Rate) Rate(key string) float64 { return r.rate(key, r.elapsed()) }

// RateAt is [Rate.Rate] at time now.
func (r *Rate) RateAt(key string, now time.Time) float64 { return r.rate(key, r.since(now)) }

func (r *Rate) rate(key string, now int64) float64 {
	h := r.est[0].hashString(key)
	if r.roll(now) >= 2*r.interval {
		return 0
	}
	prev := r.est[r.cur.Load()^1].getHash(h)
	return float64(prev) / time.Duration(r.interval).Seconds()
}

// RateWith passes key's [RateComponents] to fn and returns its result, for
// rate estimates other than [Rate.Rate]'s, such as
// [ProportionalRateEstimate]. Counts older than the window read as zero: if
// two intervals passed since the last rollover, both counts are zero; if one
// did, the just-completed interval is the previous one and the current count
// is zero. The fraction is the time since the last rollover, modulo the
// interval, over the interval.
func (r *Rate) RateWith(key string, fn func(RateComponents) float64) float64 {
	return r.rateWith(key, r.elapsed(), fn)
}

// RateWithAt is [Rate.RateWith] at time now.
func (r *Rate) RateWithAt(key string, now time.Time, fn func(RateComponents) float64) float64 {
	return r.rateWith(key, r.since(now), fn)
}

func (r *Rate) rateWith(key string, now int64, fn func(RateComponents) float64) float64 {
	h := r.est[0].hashString(key)
	past := r.roll(now)
	c := RateComponents{
		Interval:                time.Duration(r.interval),
		CurrentIntervalFraction: float64(past%r.interval) / float64(r.interval),
	}
	switch cur := r.cur.Load(); {
	case past >= 2*r.interval:
		// Both counts are stale.
	case past >= r.interval:
		// roll just switched: the interval that was current is complete.
		c.PrevSamples = r.est[cur^1].getHash(h)
	default:
		c.PrevSamples = r.est[cur^1].getHash(h)
		c.CurrSamples = r.est[cur].getHash(h)
	}
	return fn(c)
}
