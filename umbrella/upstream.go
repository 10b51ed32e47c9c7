package umbrella

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync"

	"github.com/pingora-go/pingora/balancer"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server/metrics"
	"github.com/pingora-go/pingora/server/peer"
)

// upstreamRT is a running upstream: its load balancer, the peer of each
// backend (in Backend.Ext) and how requests are keyed.
type upstreamRT struct {
	conf      *Upstream
	lb        *balancer.LoadBalancer
	key       func(s *proxy.Session) []byte
	leastConn bool
	metrics   *metrics.Upstream
	backends  []string // backend names, for metrics clean-up

	mu     sync.Mutex
	cancel context.CancelFunc // non-nil while running
	done   chan struct{}
}

// newUpstream builds an upstream's load balancer and fills it (static
// discovery, no I/O beyond resolving host names).
func newUpstream(ctx context.Context, u *Upstream, sc *serverEnv) (*upstreamRT, error) {
	var tmpl peer.Peer
	if u.TLS != nil {
		tmpl.TLS = true
		tmpl.SNI = u.TLS.SNI
		tmpl.SkipVerifyCert = !u.TLS.Verify
		tmpl.SkipVerifyHostname = !u.TLS.Verify
		if u.TLS.CA != "" {
			cas, err := loadCAs(u.TLS.CA)
			if err != nil {
				return nil, fmt.Errorf("upstream %s: tls ca: %w", u.Name, err)
			}
			tmpl.CA = cas
		} else {
			tmpl.CA = sc.caFile
		}
	}
	if u.H2 {
		// Over TLS, offer h2 then http/1.1; in cleartext, HTTP/2 by prior
		// knowledge.
		tmpl.ALPN = peer.ALPNH2
		if tmpl.TLS {
			tmpl.ALPN = peer.ALPNH2H1
		}
	}
	tmpl.ConnectionTimeout = u.Timeouts.Connect
	tmpl.TotalConnectionTimeout = u.Timeouts.Connect
	tmpl.ReadTimeout = u.Timeouts.Read
	tmpl.WriteTimeout = u.Timeouts.Write
	tmpl.IdleTimeout = u.Timeouts.Idle
	tmpl.ProxyProtocol = u.ProxyProtocol

	rt := &upstreamRT{conf: u, leastConn: u.Selection == "least_conn", key: keyFunc(u.HashKey), metrics: sc.metrics.Upstream(u.Name)}
	var backends []balancer.Backend
	for _, pc := range u.Peers {
		p := tmpl
		var b balancer.Backend
		if path, ok := strings.CutPrefix(pc.Addr, "unix:"); ok {
			p.Network, p.Addr = "unix", path
			b.Unix = path
		} else {
			ap, host, err := resolvePeer(ctx, pc.Addr)
			if err != nil {
				return nil, fmt.Errorf("upstream %s: peer %s: %w", u.Name, pc.Addr, err)
			}
			p.Addr = ap.String()
			if p.TLS && p.SNI == "" && host != "" {
				p.SNI = host // verify the name the user wrote, not the address
			}
			b.Addr = ap
		}
		b.Weight = uint32(pc.Weight)
		pp := p
		b.Ext = &pp
		backends = append(backends, b)
		rt.backends = append(rt.backends, b.String())
	}
	opts := balancer.Options{Algorithm: algorithms[u.Selection], Logger: sc.log}
	if hc := u.HealthCheck; hc != nil {
		opts.HealthCheckInterval = hc.Interval
		opts.HealthCheckTimeout = hc.Timeout
		opts.HealthyThreshold = hc.Rise
		opts.UnhealthyThreshold = hc.Fall
		switch hc.Type {
		case "http":
			opts.HealthCheck = &balancer.HTTPCheck{Path: hc.Path, Host: hc.Host, Status: hc.Status,
				TLS: tmpl.TLS, ServerName: tmpl.SNI, RootCAs: certPool(tmpl.CA), ProxyProtocol: u.ProxyProtocol}
		default:
			opts.HealthCheck = &balancer.TCPCheck{TLS: tmpl.TLS, ServerName: tmpl.SNI, RootCAs: certPool(tmpl.CA),
				ProxyProtocol: u.ProxyProtocol}
		}
		if u.TLS != nil && !u.TLS.Verify {
			// The checks always verify; with verify: false only a connect
			// is checked.
			opts.HealthCheck = &balancer.TCPCheck{ProxyProtocol: u.ProxyProtocol}
		}
		m, name := sc.metrics, u.Name
		opts.OnHealthChange = func(b balancer.Backend, healthy bool, _ error) {
			m.BackendHealth(name, b.String(), healthy)
		}
	}
	lb, err := balancer.New(balancer.NewStatic(backends...), opts)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", u.Name, err)
	}
	if err := lb.Update(ctx); err != nil {
		return nil, fmt.Errorf("upstream %s: %w", u.Name, err)
	}
	rt.lb = lb
	for _, b := range rt.backends {
		sc.metrics.BackendHealth(u.Name, b, true)
	}
	return rt, nil
}

// resolvePeer turns "ip:port" or "host:port" into an address; host is the
// name if one was resolved.
func resolvePeer(ctx context.Context, addr string) (netip.AddrPort, string, error) {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap, "", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, "", err
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.AddrPort{}, "", err
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, "", fmt.Errorf("%s has no address", host)
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(ips[0].Unmap().String(), port))
	return ap, host, err
}

// sameAs reports whether the upstream can be kept across a reload.
func (rt *upstreamRT) sameAs(u *Upstream) bool {
	strip := func(u Upstream) Upstream {
		u.line = 0
		u.Peers = append([]PeerConfig(nil), u.Peers...)
		for i := range u.Peers {
			u.Peers[i].line = 0
		}
		return u
	}
	return reflect.DeepEqual(strip(*rt.conf), strip(*u))
}

// start runs the health checks until stop.
func (rt *upstreamRT) start(parent context.Context, log *slog.Logger) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(parent)
	rt.cancel, rt.done = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := rt.lb.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("upstream health checks stopped", "upstream", rt.conf.Name, "error", err)
		}
	}(rt.done)
}

// stop ends the health checks and waits for them.
func (rt *upstreamRT) stop() {
	rt.mu.Lock()
	cancel, done := rt.cancel, rt.done
	rt.cancel = nil
	rt.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// keyFunc returns what hash and ketama selection hash.
func keyFunc(k string) func(s *proxy.Session) []byte {
	switch {
	case k == "client_ip":
		return func(s *proxy.Session) []byte { return []byte(clientIP(s)) }
	case strings.HasPrefix(k, "header:"):
		name := strings.TrimPrefix(k, "header:")
		return func(s *proxy.Session) []byte { return s.Request().GetBytes(name) }
	default: // uri
		return func(s *proxy.Session) []byte { return s.Request().RawTarget() }
	}
}

// clientIP returns the client's IP address as text, "" if unknown.
func clientIP(s *proxy.Session) string {
	a := s.ClientAddr()
	if a == nil {
		return ""
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
