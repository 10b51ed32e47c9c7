package balancer

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a LoadBalancer. The zero value is ready to use: round
// robin, no active health checks, discovery once at start.
type Options struct {
	// Algorithm builds the selector. If nil, RoundRobin.
	Algorithm Algorithm
	// MaxIterations bounds how many candidates Select looks at before it
	// gives up (Pingora's max_iterations), counting repeats. If zero, 256.
	MaxIterations int

	// UpdateInterval is how often Run calls the Discovery. If zero, Run
	// discovers once at start, and again only when a TTLDiscovery's answer
	// expires. A failed discovery is retried after 5s, or after
	// UpdateInterval if that is shorter.
	UpdateInterval time.Duration

	// HealthCheck is the active health check. If nil, there is none, and
	// backends are ready unless disabled or held down by passive health.
	HealthCheck HealthCheck
	// HealthCheckInterval is how often Run checks every backend. If zero,
	// 5s.
	HealthCheckInterval time.Duration
	// HealthCheckTimeout bounds one check of one backend. If zero, 1s.
	HealthCheckTimeout time.Duration
	// HealthCheckConcurrency bounds the checks running at once. If zero,
	// 64.
	HealthCheckConcurrency int
	// HealthyThreshold is the number of consecutive passed checks that
	// make an unhealthy backend healthy. If zero, 1.
	HealthyThreshold int
	// UnhealthyThreshold is the number of consecutive failed checks that
	// make a healthy backend unhealthy. If zero, 1.
	UnhealthyThreshold int
	// OnHealthChange, if set, is called when an active health check flips
	// a backend, with the check's error when it becomes unhealthy. It runs
	// on the health check's goroutine and should return quickly.
	OnHealthChange func(b Backend, healthy bool, err error)

	// PassiveFailures is the number of consecutive ReportFailure calls
	// (without a ReportSuccess between) that hold a backend down for
	// PassiveDownTime. If zero, 1; if negative, passive health is off.
	PassiveFailures int
	// PassiveDownTime is how long passive failures hold a backend down.
	// If zero, 10s (nginx's fail_timeout).
	PassiveDownTime time.Duration

	// Logger receives health changes (Warn when a backend becomes
	// unhealthy, Info when it recovers) and Run's failed discoveries
	// (Error). If nil, slog.Default().
	Logger *slog.Logger
}

// Defaults of Options.
const (
	DefaultMaxIterations          = 256
	DefaultHealthCheckInterval    = 5 * time.Second
	DefaultHealthCheckTimeout     = time.Second
	DefaultHealthCheckConcurrency = 64
	DefaultPassiveDownTime        = 10 * time.Second
)

// updateRetry is how soon Run retries a failed discovery when
// UpdateInterval is zero or longer.
const updateRetry = 5 * time.Second

// LoadBalancer picks a backend for each request from a discovered set,
// skipping backends that active or passive health checks found down
// (Pingora's LoadBalancer). Build it with New, fill it with Update or Run,
// then call Select (or Acquire/Release) from any number of goroutines.
type LoadBalancer struct {
	d    Discovery
	opts Options
	log  *slog.Logger

	snap atomic.Pointer[snapshot]

	updateMu sync.Mutex // serializes discovery and publishing
	checkMu  sync.Mutex // serializes health check rounds
	running  atomic.Bool
}

// snapshot is one immutable generation of the backend set and its selector.
type snapshot struct {
	backends []*Backend // sorted, unique
	sel      Selector
	index    map[backendKey]*Backend
}

// Errors of New and Run.
var (
	ErrNilDiscovery   = errors.New("balancer: nil discovery")
	ErrAlreadyRunning = errors.New("balancer: Run already running")
)

// New returns a LoadBalancer over the backends d finds. It does no I/O:
// the set is empty until the first Update (or Run, which starts with one).
// It reports ErrNilDiscovery for a nil d and an error for a negative
// option.
func New(d Discovery, opts Options) (*LoadBalancer, error) {
	if d == nil {
		return nil, ErrNilDiscovery
	}
	for _, o := range []struct {
		name string
		v    int64
	}{
		{"MaxIterations", int64(opts.MaxIterations)},
		{"UpdateInterval", int64(opts.UpdateInterval)},
		{"HealthCheckInterval", int64(opts.HealthCheckInterval)},
		{"HealthCheckTimeout", int64(opts.HealthCheckTimeout)},
		{"HealthCheckConcurrency", int64(opts.HealthCheckConcurrency)},
		{"HealthyThreshold", int64(opts.HealthyThreshold)},
		{"UnhealthyThreshold", int64(opts.UnhealthyThreshold)},
		{"PassiveDownTime", int64(opts.PassiveDownTime)},
	} {
		if o.v < 0 {
			return nil, fmt.Errorf("balancer: negative %s", o.name)
		}
	}
	if opts.Algorithm == nil {
		opts.Algorithm = RoundRobin
	}
	opts.MaxIterations = cmpOr(opts.MaxIterations, DefaultMaxIterations)
	opts.HealthCheckInterval = cmpOr(opts.HealthCheckInterval, DefaultHealthCheckInterval)
	opts.HealthCheckTimeout = cmpOr(opts.HealthCheckTimeout, DefaultHealthCheckTimeout)
	opts.HealthCheckConcurrency = cmpOr(opts.HealthCheckConcurrency, DefaultHealthCheckConcurrency)
	opts.HealthyThreshold = cmpOr(opts.HealthyThreshold, 1)
	opts.UnhealthyThreshold = cmpOr(opts.UnhealthyThreshold, 1)
	opts.PassiveFailures = cmpOr(opts.PassiveFailures, 1)
	opts.PassiveDownTime = cmpOr(opts.PassiveDownTime, DefaultPassiveDownTime)
	lb := &LoadBalancer{d: d, opts: opts, log: opts.Logger}
	if lb.log == nil {
		lb.log = slog.Default()
	}
	return lb, nil
}

func cmpOr[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Update runs discovery once and, if the set of backends changed, builds a
// new selector and publishes both; requests in flight keep the backends
// they got. Backends that stay keep their health and in-flight counts; new
// ones start healthy and enabled (Pingora's rule). When only Ext values
// changed, the new ones are published under the same selector (Ext values
// that cannot be compared with == count as changed). On error the previous
// set stays in use.
func (lb *LoadBalancer) Update(ctx context.Context) error {
	_, err := lb.update(ctx)
	return err
}

func (lb *LoadBalancer) update(ctx context.Context) (time.Duration, error) {
	lb.updateMu.Lock()
	defer lb.updateMu.Unlock()
	var (
		found []Backend
		ttl   time.Duration
		err   error
	)
	if td, ok := lb.d.(TTLDiscovery); ok {
		found, ttl, err = td.DiscoverTTL(ctx)
	} else {
		found, err = lb.d.Discover(ctx)
	}
	if err != nil {
		return 0, fmt.Errorf("balancer: discovery: %w", err)
	}
	bs := make([]Backend, 0, len(found))
	for i, b := range found {
		nb, err := normalize(b)
		if err != nil {
			return 0, fmt.Errorf("balancer: discovered backend %d: %w", i, err)
		}
		bs = append(bs, nb)
	}
	slices.SortStableFunc(bs, func(a, b Backend) int { return compareBackends(&a, &b) })
	bs = slices.CompactFunc(bs, func(a, b Backend) bool { return a.key() == b.key() })

	old := lb.snap.Load()
	sameSet := old != nil && slices.EqualFunc(old.backends, bs, func(o *Backend, b Backend) bool { return o.key() == b.key() })
	if sameSet && slices.EqualFunc(old.backends, bs, func(o *Backend, b Backend) bool { return extEqual(o.Ext, b.Ext) }) {
		return ttl, nil
	}
	ptrs := make([]*Backend, len(bs))
	index := make(map[backendKey]*Backend, len(bs))
	for i := range bs {
		b := &bs[i]
		if o := old.lookup(b.key()); o != nil {
			b.st = o.st
		} else {
			b.st = new(state)
		}
		ptrs[i] = b
		index[b.key()] = b
	}
	if sameSet { // only Ext changed: keep the selector, which picks by index
		lb.snap.Store(&snapshot{backends: ptrs, sel: old.sel, index: index})
		return ttl, nil
	}
	sel, err := lb.opts.Algorithm(ptrs)
	if err == nil && sel == nil {
		err = errNoSelector
	}
	if err != nil {
		return 0, fmt.Errorf("balancer: build selector: %w", err)
	}
	lb.snap.Store(&snapshot{backends: ptrs, sel: sel, index: index})
	return ttl, nil
}

// extEqual reports whether two Ext values are equal, treating values
// that cannot be compared (maps, slices, funcs) as different.
func extEqual(a, b any) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return a == b
}

func (s *snapshot) lookup(k backendKey) *Backend {
	if s == nil {
		return nil
	}
	return s.index[k]
}

// Select returns a ready backend for key (Pingora's select): the first of
// the selector's candidates that is healthy, enabled and not held down by
// passive health, looking at no more than MaxIterations candidates. It
// reports false when there is none. It takes no lock and allocates
// nothing; the key matters only to hashing algorithms and is not kept.
func (lb *LoadBalancer) Select(key []byte) (*Backend, bool) {
	s := lb.snap.Load()
	if s == nil || len(s.backends) == 0 {
		return nil, false
	}
	var state uint64
	for step := range lb.opts.MaxIterations {
		i, next := s.sel.Next(key, step, state)
		if uint(i) >= uint(len(s.backends)) {
			return nil, false
		}
		if b := s.backends[i]; b.st.ready() {
			return b, true
		}
		state = next
	}
	return nil, false
}

// Acquire is Select that also counts a request in flight to the backend,
// which LeastConnections and PowerOfTwoChoices balance on. Every Acquire
// that reports true must be followed by one Release of the backend when
// the request ends. Like Select, it takes no lock and allocates nothing.
func (lb *LoadBalancer) Acquire(key []byte) (*Backend, bool) {
	b, ok := lb.Select(key)
	if ok {
		b.st.inflight.Add(1)
	}
	return b, ok
}

// Release ends a request that Acquire (or AcquireBackend) counted. It may
// be called after b left the set.
func (lb *LoadBalancer) Release(b *Backend) {
	if st := lb.stateOf(b); st != nil {
		st.inflight.Add(-1)
	}
}

// AcquireBackend counts a request in flight to b, chosen some other way
// (for example from Candidates when retrying); Release ends it.
func (lb *LoadBalancer) AcquireBackend(b *Backend) {
	if st := lb.stateOf(b); st != nil {
		st.inflight.Add(1)
	}
}

// Candidates yields the ready backends for key in the selector's order,
// each once, for failover: the first is what Select returns, the next is
// where to retry. It stops after MaxIterations candidates (repeats
// included), so with a hashing algorithm it may end before every backend
// was seen. Ranging over it allocates nothing for up to 1024 backends.
func (lb *LoadBalancer) Candidates(key []byte) iter.Seq[*Backend] {
	return func(yield func(*Backend) bool) {
		lb.walk(key, func(b *Backend, ready bool) bool { return !ready || yield(b) })
	}
}

// SelectWith returns the first candidate for key that accept takes,
// looking at each distinct candidate once, ready or not, and at no more
// than MaxIterations candidates in all (Pingora's select_with). accept
// gets the backend and whether it is ready.
func (lb *LoadBalancer) SelectWith(key []byte, accept func(b *Backend, ready bool) bool) (*Backend, bool) {
	var got *Backend
	lb.walk(key, func(b *Backend, ready bool) bool {
		if accept(b, ready) {
			got = b
			return false
		}
		return true
	})
	return got, got != nil
}

// walk calls f with each distinct candidate for key until f returns false
// or MaxIterations candidates were drawn.
func (lb *LoadBalancer) walk(key []byte, f func(b *Backend, ready bool) bool) {
	s := lb.snap.Load()
	if s == nil || len(s.backends) == 0 {
		return
	}
	var small [16]uint64
	seen := small[:]
	if words := (len(s.backends) + 63) / 64; words > len(small) {
		seen = make([]uint64, words)
	}
	left := len(s.backends)
	var state uint64
	for step := range lb.opts.MaxIterations {
		i, next := s.sel.Next(key, step, state)
		if uint(i) >= uint(len(s.backends)) {
			return
		}
		state = next
		if w, m := i/64, uint64(1)<<(i%64); seen[w]&m == 0 {
			seen[w] |= m
			b := s.backends[i]
			if !f(b, b.st.ready()) {
				return
			}
			if left--; left == 0 {
				return
			}
		}
	}
}

// stateOf finds b's state: its own link, or the current set's entry for a
// Backend the user built.
func (lb *LoadBalancer) stateOf(b *Backend) *state {
	if b == nil {
		return nil
	}
	if b.st != nil {
		return b.st
	}
	nb, err := normalize(*b)
	if err != nil {
		return nil
	}
	if o := lb.snap.Load().lookup(nb.key()); o != nil {
		return o.st
	}
	return nil
}

// ReportFailure tells the load balancer that a request to b failed in a
// way that blames the backend (connect error, timeout): passive health.
// PassiveFailures consecutive reports hold b down for PassiveDownTime,
// during which Select skips it; after that it is tried again. It takes no
// lock.
func (lb *LoadBalancer) ReportFailure(b *Backend) {
	if lb.opts.PassiveFailures < 0 {
		return
	}
	st := lb.stateOf(b)
	if st == nil {
		return
	}
	if st.fails.Add(1) >= int32(lb.opts.PassiveFailures) {
		st.fails.Store(0)
		st.downUntil.Store(time.Now().Add(lb.opts.PassiveDownTime).UnixNano())
	}
}

// ReportSuccess tells the load balancer that a request to b succeeded: it
// resets b's count of consecutive failures. It does not end a down period
// early (a request sent before b failed may still succeed). It takes no
// lock and, when nothing is recorded, writes nothing.
func (lb *LoadBalancer) ReportSuccess(b *Backend) {
	st := lb.stateOf(b)
	if st == nil {
		return
	}
	if st.fails.Load() != 0 {
		st.fails.Store(0)
	}
	if d := st.downUntil.Load(); d != 0 && time.Now().UnixNano() >= d {
		st.downUntil.CompareAndSwap(d, 0)
	}
}

// SetEnabled enables or disables b (Pingora's set_enable): a disabled
// backend is never selected, whatever its health. It reports false if b is
// not in the current set.
func (lb *LoadBalancer) SetEnabled(b Backend, enabled bool) bool {
	st := lb.stateOf(&b)
	if st == nil {
		return false
	}
	if enabled {
		st.flags.And(^flagDisabled)
	} else {
		st.flags.Or(flagDisabled)
	}
	return true
}

// Health is what a load balancer knows about one backend.
type Health struct {
	// Ready is whether Select would pick it now.
	Ready bool
	// Healthy is the active health checks' verdict: true until checks fail
	// it, and always true without a HealthCheck.
	Healthy bool
	// Enabled is false after SetEnabled(b, false).
	Enabled bool
	// DownUntil is the end of the down period set by passive health, or
	// zero.
	DownUntil time.Time
	// InFlight counts requests between Acquire and Release.
	InFlight int64
	// LastError is the error of the latest active check; nil if it passed.
	LastError error
	// LastCheck is when the latest active check finished; zero if none did.
	LastCheck time.Time
}

// Health returns b's health, or false if b is not in the current set.
func (lb *LoadBalancer) Health(b Backend) (Health, bool) {
	st := lb.stateOf(&b)
	if st == nil {
		return Health{}, false
	}
	f := st.flags.Load()
	h := Health{
		Ready:    st.ready(),
		Healthy:  f&flagUnhealthy == 0,
		Enabled:  f&flagDisabled == 0,
		InFlight: st.inflight.Load(),
	}
	if d := st.downUntil.Load(); d != 0 && time.Now().UnixNano() < d {
		h.DownUntil = time.Unix(0, d)
	}
	st.mu.Lock()
	h.LastError, h.LastCheck = st.lastErr, st.checked
	st.mu.Unlock()
	return h, true
}

// Backends returns a copy of the current set, in the order selectors see
// it (see Backend).
func (lb *LoadBalancer) Backends() []Backend {
	s := lb.snap.Load()
	if s == nil {
		return nil
	}
	out := make([]Backend, len(s.backends))
	for i, b := range s.backends {
		out[i] = *b
	}
	return out
}

// CheckHealth runs one round of active health checks on the current set,
// HealthCheckConcurrency at a time, each bounded by HealthCheckTimeout,
// and returns when all have finished (Pingora's run_health_check). Checks
// cut short because ctx ended are not counted. Without a HealthCheck it
// does nothing. Rounds do not overlap: a second call waits for the first.
func (lb *LoadBalancer) CheckHealth(ctx context.Context) {
	hc := lb.opts.HealthCheck
	s := lb.snap.Load()
	if hc == nil || s == nil {
		return
	}
	lb.checkMu.Lock()
	defer lb.checkMu.Unlock()
	sem := make(chan struct{}, lb.opts.HealthCheckConcurrency)
	var wg sync.WaitGroup
	for _, b := range s.backends {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			cctx, cancel := context.WithTimeout(ctx, lb.opts.HealthCheckTimeout)
			err := runCheck(cctx, hc, b)
			cancel()
			if ctx.Err() == nil {
				lb.observe(b, err)
			}
		})
	}
	wg.Wait()
}

// runCheck calls hc, turning a panic into a failed check so one bad check
// cannot bring the process down from a background goroutine.
func runCheck(ctx context.Context, hc HealthCheck, b *Backend) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("balancer: health check panicked: %v", r)
		}
	}()
	return hc.Check(ctx, b)
}

// observe feeds one check result into b's state machine (Pingora's
// observe_health): a result that disagrees with the current state adds to
// a streak, which flips the state at the threshold; one that agrees resets
// the streak.
func (lb *LoadBalancer) observe(b *Backend, err error) {
	st := b.st
	st.mu.Lock()
	healthy := st.flags.Load()&flagUnhealthy == 0
	st.lastErr, st.checked = err, time.Now()
	flipped := false
	if (err == nil) == healthy {
		st.streak = 0
	} else {
		st.streak++
		th := lb.opts.UnhealthyThreshold
		if err == nil {
			th = lb.opts.HealthyThreshold
		}
		if st.streak >= th {
			st.streak = 0
			flipped = true
			if err == nil {
				st.flags.And(^flagUnhealthy)
			} else {
				st.flags.Or(flagUnhealthy)
			}
		}
	}
	st.mu.Unlock()
	if !flipped {
		return
	}
	if err != nil {
		lb.log.Warn("balancer: backend becomes unhealthy", "backend", b.String(), "err", err)
	} else {
		lb.log.Info("balancer: backend becomes healthy", "backend", b.String())
	}
	if f := lb.opts.OnHealthChange; f != nil {
		f(*b, err == nil, err)
	}
}

// Run keeps the load balancer current until ctx is done: it discovers at
// once, then again every UpdateInterval (and when a TTLDiscovery's answer
// expires), and runs CheckHealth every HealthCheckInterval when a
// HealthCheck is set. It is what the server's background service runs
// (Pingora's background_service for a LoadBalancer). When there is nothing
// periodic to do (no UpdateInterval, no TTL, no HealthCheck), it returns
// after the first discovery, as Pingora does. It returns nil when ctx ends,
// after every goroutine it started has ended, and ErrAlreadyRunning if
// another Run is in progress. Failed discoveries are logged and retried.
func (lb *LoadBalancer) Run(ctx context.Context) error {
	if !lb.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	defer lb.running.Store(false)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	now := time.Now()
	nextUpdate, nextCheck := now, time.Time{}
	if lb.opts.HealthCheck != nil {
		nextCheck = now
	}
	for {
		if ctx.Err() != nil {
			return nil
		}
		now = time.Now()
		if !nextUpdate.IsZero() && !now.Before(nextUpdate) {
			ttl, err := lb.update(ctx)
			if ctx.Err() != nil {
				return nil
			}
			nextUpdate = time.Time{}
			if err != nil {
				lb.log.Error("balancer: update failed", "err", err)
				retry := updateRetry
				if iv := lb.opts.UpdateInterval; iv > 0 && iv < retry {
					retry = iv
				}
				nextUpdate = now.Add(retry)
			} else {
				d := lb.opts.UpdateInterval
				if ttl > 0 && (d == 0 || ttl < d) {
					d = ttl
				}
				if d > 0 {
					nextUpdate = now.Add(d)
				}
			}
		}
		if !nextCheck.IsZero() && !now.Before(nextCheck) {
			lb.CheckHealth(ctx)
			nextCheck = now.Add(lb.opts.HealthCheckInterval)
		}
		wake := nextUpdate
		if wake.IsZero() || (!nextCheck.IsZero() && nextCheck.Before(wake)) {
			wake = nextCheck
		}
		if wake.IsZero() {
			return nil
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// Start runs Run, logging its error: the method of the server module's
// background task interface, so a *LoadBalancer can be added to a server
// as it is.
func (lb *LoadBalancer) Start(ctx context.Context) {
	if err := lb.Run(ctx); err != nil {
		lb.log.Error("balancer: run", "err", err)
	}
}
