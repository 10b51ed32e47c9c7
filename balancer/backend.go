package balancer

import (
	"cmp"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	perr "github.com/pingora-go/pingora/errors"
)

// Backend is one server the load balancer can pick: an IP address and port
// or a Unix socket path, a weight, and whatever the user attaches.
//
// Two Backends are the same backend when their Addr, Unix and Weight are
// equal; Ext is not compared (Pingora's rule). So changing a backend's
// weight makes it a new backend, with fresh health.
//
// The *Backend values a LoadBalancer hands out (Select, Candidates, the
// slice an Algorithm is built from) belong to it and must not be modified;
// copy one to keep it. Such a Backend, or a copy of it, remembers the load
// balancer's state for it, so [LoadBalancer.ReportFailure] and
// [LoadBalancer.Release] find it without a lookup.
type Backend struct {
	// Addr is the backend's IP address and port. Exactly one of Addr and
	// Unix is set.
	Addr netip.AddrPort
	// Unix is the path of the backend's Unix domain socket.
	Unix string
	// Weight is the backend's share of the traffic relative to the other
	// backends. Zero counts as 1.
	Weight uint32
	// Ext is free for the user: a peer template, TLS settings, a label.
	// Discovery sets it; the load balancer only carries it.
	Ext any

	st *state // the owning load balancer's state; nil for users' own values
}

// backendKey is a Backend's identity: what equality, ordering and lookups use.
type backendKey struct {
	addr   netip.AddrPort
	unix   string
	weight uint32
}

func (b *Backend) key() backendKey { return backendKey{b.Addr, b.Unix, b.Weight} }

// ParseBackend parses "ip:port" (IPv6 in brackets, "[::1]:443") or
// "unix:/path/to/socket" into a Backend of weight 1. It does not resolve
// names: for host names use [DNS]. A bad address gives a *perr.Error of
// type InternalError, as Pingora's Backend::new does.
func ParseBackend(s string) (Backend, error) {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		if path == "" {
			return Backend{}, perr.Explain(perr.InternalError, "balancer: invalid backend address "+strconv.Quote(s)+": empty unix path")
		}
		return Backend{Unix: path, Weight: 1}, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return Backend{}, perr.Because(perr.InternalError, "balancer: invalid backend address "+strconv.Quote(s), err)
	}
	return Backend{Addr: ap, Weight: 1}, nil
}

// ParseBackends parses each address with [ParseBackend].
func ParseBackends(addrs ...string) ([]Backend, error) {
	bs := make([]Backend, 0, len(addrs))
	for _, a := range addrs {
		b, err := ParseBackend(a)
		if err != nil {
			return nil, err
		}
		bs = append(bs, b)
	}
	return bs, nil
}

// String returns the address in the form ParseBackend reads: "10.0.0.1:80",
// "[::1]:443" or "unix:/run/app.sock".
func (b *Backend) String() string {
	if b.Unix != "" {
		return "unix:" + b.Unix
	}
	return b.Addr.String()
}

// Network returns "unix" for a Unix socket backend and "tcp" otherwise:
// with [Backend.Address], the arguments of net.Dial.
func (b *Backend) Network() string {
	if b.Unix != "" {
		return "unix"
	}
	return "tcp"
}

// Address returns the address to dial: the socket path or "ip:port".
func (b *Backend) Address() string {
	if b.Unix != "" {
		return b.Unix
	}
	return b.Addr.String()
}

// InFlight returns the number of requests the load balancer that handed
// out b counts as in flight to it ([LoadBalancer.Acquire] minus
// [LoadBalancer.Release]). It is 0 for a Backend the user built.
func (b *Backend) InFlight() int64 {
	if b.st == nil {
		return 0
	}
	return b.st.inflight.Load()
}

// Ready reports whether the load balancer that handed out b would select
// it now: active health checks pass, it is enabled, and no passive failure
// holds it down. It is true for a Backend the user built. Selectors that
// users write may use it to skip backends themselves.
func (b *Backend) Ready() bool { return b.st == nil || b.st.ready() }

// compareBackends orders backends as Pingora does: IP backends before Unix
// ones, IP by address (IPv4 before IPv6) then port, Unix by path; then by
// weight.
func compareBackends(a, b *Backend) int {
	if au, bu := a.Unix != "", b.Unix != ""; au != bu {
		if au {
			return 1
		}
		return -1
	}
	if c := a.Addr.Compare(b.Addr); c != 0 {
		return c
	}
	if c := strings.Compare(a.Unix, b.Unix); c != 0 {
		return c
	}
	return cmp.Compare(a.Weight, b.Weight)
}

// errNoAddress and errTwoAddresses report a discovered Backend that is not
// usable.
var (
	errNoAddress    = errors.New("balancer: backend has neither Addr nor Unix")
	errTwoAddresses = errors.New("balancer: backend has both Addr and Unix")
)

// normalize checks b and gives zero weight its meaning (1).
func normalize(b Backend) (Backend, error) {
	switch {
	case b.Unix == "" && !b.Addr.IsValid():
		return b, errNoAddress
	case b.Unix != "" && b.Addr.IsValid():
		return b, errTwoAddresses
	}
	if b.Weight == 0 {
		b.Weight = 1
	}
	b.st = nil
	return b, nil
}

// Flags of state.flags. The zero value is a ready backend: healthy, enabled.
const (
	flagUnhealthy uint32 = 1 << iota // the active health check failed it
	flagDisabled                     // SetEnabled(false)
)

// state is what a load balancer knows about one backend. It lives as long
// as the backend stays in the discovered set, across snapshots.
type state struct {
	// Read on every Select, rarely written.
	flags     atomic.Uint32
	downUntil atomic.Int64 // passive health: UnixNano until which it is down; 0 if not
	_         [48]byte     // keep the counters below off this cache line

	// Written by requests.
	inflight atomic.Int64
	fails    atomic.Int32 // passive health: consecutive reported failures

	mu      sync.Mutex // guards the fields below; health checks of one backend never overlap
	streak  int        // consecutive observations that disagree with the current state
	lastErr error      // error of the last active check, nil if it passed
	checked time.Time  // when the last active check finished
}

// ready is the hot-path test: one atomic load, plus a clock read only while
// a passive failure is recorded.
func (s *state) ready() bool {
	if s.flags.Load() != 0 {
		return false
	}
	d := s.downUntil.Load()
	return d == 0 || time.Now().UnixNano() >= d
}
