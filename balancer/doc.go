// Package balancer is load balancing over a discovered set of backends:
// selection algorithms (round robin, random, hashing, Ketama, least
// connections, power of two choices), active and passive health checks,
// and service discovery (static, DNS, or the user's own).
//
// It ports pingora-load-balancing from Cloudflare's Pingora 0.8 (SPEC §3).
//
//	backends, err := balancer.ParseBackends("10.0.0.1:443", "10.0.0.2:443")
//	if err != nil { … }
//	lb, err := balancer.New(balancer.NewStatic(backends...), balancer.Options{
//		HealthCheck:         &balancer.TCPCheck{},
//		HealthCheckInterval: time.Second,
//	})
//	if err != nil { … }
//	go lb.Run(ctx)                     // discovery and health checks until ctx ends
//	b, ok := lb.Select(nil)            // on each request: a ready backend, or false
//	conn, err := net.Dial(b.Network(), b.Address())
//	if err != nil { lb.ReportFailure(b) } // passive health
//
// # Pieces
//
// A [Backend] is an address (IP and port, or a Unix socket path), a weight
// and a free-form Ext. A [Discovery] finds the backends: [Static] (a set the
// program changes at run time), [DNS] (A/AAAA and SRV records, re-resolved
// when their TTL runs out) or a [DiscoveryFunc] of the user's. An
// [Algorithm] builds a [Selector] from each discovered set: [RoundRobin]
// (smooth weighted, as nginx), [Random] (weighted), [FNVHash] (FNV-1a of
// the key, the same picks as Pingora's), [Ketama] (consistent hashing with
// the ketama module, the same ring as nginx), [LeastConnections] and
// [PowerOfTwoChoices]; users may write their own. A [HealthCheck] tests a
// backend: [TCPCheck], [HTTPCheck] or a [HealthCheckFunc]. The
// [LoadBalancer] ties them together.
//
// # Selecting
//
// [LoadBalancer.Select] asks the selector for candidates (a first choice,
// then fallbacks) and returns the first that is ready: passing active
// checks, enabled ([LoadBalancer.SetEnabled]) and not held down by passive
// health. It looks at no more than [Options.MaxIterations] candidates
// (Pingora's max_iterations, default 256). [LoadBalancer.Candidates] yields
// the ready backends in the same order, each once, for retrying a request
// on another backend. [LoadBalancer.Acquire] and [LoadBalancer.Release]
// count requests in flight for LeastConnections and PowerOfTwoChoices.
//
// # Health
//
// Active checks run every [Options.HealthCheckInterval] (default 5s), all
// backends in parallel (at most 64 at once), each bounded by
// [Options.HealthCheckTimeout] (default 1s). A backend flips to unhealthy
// after [Options.UnhealthyThreshold] consecutive failures and back after
// [Options.HealthyThreshold] consecutive passes (both default 1); new
// backends start healthy, as in Pingora. Passive health: after
// [Options.PassiveFailures] consecutive [LoadBalancer.ReportFailure] calls
// (default 1) a backend is skipped for [Options.PassiveDownTime] (default
// 10s, nginx's max_fails=1 fail_timeout=10s). [LoadBalancer.Health] shows a
// backend's state; [Options.OnHealthChange] is called when an active check
// flips it.
//
// TCPCheck and HTTPCheck dial with the standard library (HTTPCheck through
// net/http with a transport of its own, no keep-alive); they will move to
// the server module's connector once it exists, so checks connect as the
// proxy does. TLS certificates are always verified. For backends that
// require a PROXY protocol header, ProxyProtocol 1 or 2 sends one first,
// marked as the proxy's own connection ("PROXY UNKNOWN" or the v2 LOCAL
// command); by default none is sent.
//
// # Running
//
// [LoadBalancer.Run] discovers at once, then every [Options.UpdateInterval]
// and whenever a [TTLDiscovery]'s answer expires, and runs the health
// checks; it returns when its context ends, after every goroutine it
// started has ended. This is what the server's background service calls;
// [LoadBalancer.Start] is the same for the server's background task
// interface. Without Run, call [LoadBalancer.Update] and
// [LoadBalancer.CheckHealth] yourself. A LoadBalancer is empty until its
// first update.
//
// # Concurrency
//
// All methods of LoadBalancer, Static and DNS are safe for concurrent use.
// Select, Acquire, Release, ReportFailure and ReportSuccess take no lock and
// allocate nothing: the backends and their selector are an immutable
// snapshot behind an atomic pointer, replaced as a whole when discovery
// changes the set, so backends can be added and removed while requests are
// in flight. Per-backend state (health, in-flight count) lives as long as
// the backend stays in the set.
//
// # Differences from Pingora
//
//   - Weight 0 counts as 1 (Pingora keeps weight-0 backends for fallback
//     only), so a Backend literal without a weight works.
//   - Round robin is nginx's smooth weighted round robin (weights 5,1,1 give
//     a a b a c a a), not Pingora's a a a a a b c.
//   - Fallback candidates of RoundRobin, Random, FNVHash, LeastConnections
//     and PowerOfTwoChoices walk the list from a random (for FNVHash, a
//     key-derived) start, so n steps reach all n backends; Pingora draws
//     them independently and may repeat. Ketama skips points of the
//     backend just returned.
//   - Health check thresholds, interval and timeout are load balancer
//     options rather than fields of each check. Passive health, least
//     connections, power of two choices and DNS discovery are additions.
//   - Discovery returns no enable/disable map; use SetEnabled.
//   - Ketama builds nginx's ring (see the ketama module): for IPv6
//     backends it differs from Pingora's.
package balancer
