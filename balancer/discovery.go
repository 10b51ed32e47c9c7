package balancer

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Discovery finds the current set of backends (Pingora's ServiceDiscovery).
// The load balancer calls Discover at start, on [Options.UpdateInterval]
// and on [LoadBalancer.Update]; it never calls it concurrently with itself
// for one load balancer.
type Discovery interface {
	// Discover returns every backend there is now, in any order; duplicates
	// count once. On error the load balancer keeps the backends it had.
	Discover(ctx context.Context) ([]Backend, error)
}

// DiscoveryFunc adapts a function to a [Discovery]: read a file, ask an API.
type DiscoveryFunc func(ctx context.Context) ([]Backend, error)

// Discover calls f(ctx).
func (f DiscoveryFunc) Discover(ctx context.Context) ([]Backend, error) { return f(ctx) }

// TTLDiscovery is a [Discovery] whose answers expire, as DNS records do.
// When a load balancer's Discovery implements it, the load balancer calls
// DiscoverTTL instead of Discover and discovers again when the answer
// expires, even before the next [Options.UpdateInterval].
type TTLDiscovery interface {
	Discovery
	// DiscoverTTL is Discover, also reporting how long the answer stays
	// valid. A ttl <= 0 means no expiry.
	DiscoverTTL(ctx context.Context) (backends []Backend, ttl time.Duration, err error)
}

var (
	_ Discovery    = DiscoveryFunc(nil)
	_ Discovery    = (*Static)(nil)
	_ TTLDiscovery = (*DNS)(nil)
)

// Static is a fixed set of backends that the program may change at run
// time (Pingora's discovery::Static). Changes take effect at the load
// balancer's next update; call [LoadBalancer.Update] to apply them at once.
// It is safe for concurrent use.
type Static struct {
	mu       sync.Mutex
	backends []Backend
}

// NewStatic returns a Static holding backends (copied).
func NewStatic(backends ...Backend) *Static {
	return &Static{backends: slices.Clone(backends)}
}

// Discover returns a copy of the current set.
func (s *Static) Discover(context.Context) ([]Backend, error) { return s.Backends(), nil }

// Backends returns a copy of the current set.
func (s *Static) Backends() []Backend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.backends)
}

// Set replaces the whole set with backends (copied).
func (s *Static) Set(backends ...Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backends = slices.Clone(backends)
}

// Add adds backends to the set.
func (s *Static) Add(backends ...Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.backends = append(s.backends, backends...)
}

// Remove removes every backend equal to one of backends (same Addr, Unix
// and Weight; a zero Weight matches weight 1) and reports how many it
// removed.
func (s *Static) Remove(backends ...Backend) int {
	keys := make(map[backendKey]bool, len(backends))
	for _, b := range backends {
		if b.Weight == 0 {
			b.Weight = 1
		}
		keys[b.key()] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.backends)
	s.backends = slices.DeleteFunc(s.backends, func(b Backend) bool {
		if b.Weight == 0 {
			b.Weight = 1
		}
		return keys[b.key()]
	})
	return n - len(s.backends)
}
