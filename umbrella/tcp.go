package umbrella

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pingora-go/pingora/balancer"
	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/l4"
	"github.com/pingora-go/pingora/server/connector"
	"github.com/pingora-go/pingora/server/peer"
)

// tcpApp is one protocol: tcp service: an l4 proxy whose routes and
// upstreams come from the service's current generation.
type tcpApp struct {
	name string
	cur  atomic.Pointer[compiledService]
	px   *l4.Proxy
	log  *slog.Logger

	mu    sync.Mutex
	conns map[*l4.ConnInfo]*tcpConn // per-connection state, by its ConnInfo
}

// tcpConn is what a tunnel picked: its route and backends.
type tcpConn struct {
	svc      *compiledService
	route    *compiledRoute
	backend  *balancer.Backend
	acquired bool
	tried    []*balancer.Backend
}

// newTCPApp builds the l4 proxy of a tcp service.
func newTCPApp(sc *Service, cs *compiledService, conns *connector.Connector, log *slog.Logger) (*tcpApp, error) {
	a := &tcpApp{name: sc.Name, log: log, conns: make(map[*l4.ConnInfo]*tcpConn)}
	a.cur.Store(cs)
	peekTLS := false
	for _, r := range sc.Routes {
		peekTLS = peekTLS || r.SNI != ""
	}
	px, err := l4.New(l4.Options{
		Upstream:    a.upstream,
		PeekTLS:     peekTLS,
		IdleTimeout: sc.IdleTimeout,
		// Retries are counted per upstream below (retries); l4 asks again
		// as long as one is left.
		ConnectRetries: 16,
		Connector:      conns,
		Logger:         log,
		OnClose:        a.closed,
	})
	if err != nil {
		return nil, err
	}
	a.px = px
	return a, nil
}

// tcpRoute returns the first route of cs whose sni matches, nil if none.
func (cs *compiledService) tcpRoute(sni string) *compiledRoute {
	for i := range cs.routes {
		r := &cs.routes[i]
		if r.sni == "" || matchHost(r.sni, strings.ToLower(sni)) {
			return r
		}
	}
	return nil
}

// upstream is the l4 Upstream hook: route by SNI, then a backend of the
// route's upstream, another one on each retry.
func (a *tcpApp) upstream(_ context.Context, info *l4.ConnInfo, attempt int) (*peer.Peer, error) {
	a.mu.Lock()
	c := a.conns[info]
	if c == nil {
		c = &tcpConn{svc: a.cur.Load()}
		a.conns[info] = c
	}
	a.mu.Unlock()
	if c.route == nil {
		if c.route = c.svc.tcpRoute(info.SNI); c.route == nil {
			return nil, perr.Explain(perr.ConnectError, "umbrella: no route for server name "+quoteOrNone(info.SNI)).AsIn()
		}
	}
	up := c.route.up
	if c.backend != nil { // the previous attempt failed to connect
		up.lb.ReportFailure(c.backend)
		c.tried = append(c.tried, c.backend)
		a.releaseBackend(c)
		if attempt > up.conf.Retries {
			return nil, perr.Explain(perr.ConnectError, "umbrella: upstream "+up.conf.Name+": retries exhausted").AsUp()
		}
	}
	b, acquired, ok := up.pick([]byte(addrIP(info.ClientAddr)), c.tried)
	if !ok {
		c.backend = nil
		return nil, perr.Explain(perr.ConnectError, "umbrella: upstream "+up.conf.Name+" has no ready peer").AsUp()
	}
	c.acquired = acquired
	c.backend = b
	return b.Ext.(*peer.Peer), nil
}

func (a *tcpApp) releaseBackend(c *tcpConn) {
	if c.acquired && c.backend != nil {
		c.route.up.lb.Release(c.backend)
		c.acquired = false
	}
}

// closed is the l4 OnClose hook: passive health, the access log line.
func (a *tcpApp) closed(info *l4.ConnInfo, p *peer.Peer, st l4.Stats, err error) {
	a.mu.Lock()
	c := a.conns[info]
	delete(a.conns, info)
	a.mu.Unlock()
	if c == nil {
		c = &tcpConn{svc: a.cur.Load()}
	}
	upstream := ""
	if c.backend != nil {
		upstream = c.backend.String()
		if st.Connected > 0 {
			c.route.up.lb.ReportSuccess(c.backend)
			c.route.up.metrics.Latency(st.Connected)
		} else {
			c.route.up.lb.ReportFailure(c.backend)
		}
		a.releaseBackend(c)
	}
	if c.svc.access == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("service", a.name),
		slog.String("client", addrIP(info.ClientAddr)),
		slog.String("sni", info.SNI),
		slog.Int64("bytes_in", st.BytesFromClient),
		slog.Int64("bytes_out", st.BytesToClient),
		slog.String("upstream", upstream),
		slog.Duration("connect", st.Connected),
		slog.Duration("duration", st.Duration),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.svc.access.LogAttrs(context.Background(), slog.LevelInfo, "connection", attrs...)
}

// addrIP returns the IP of a TCP address as text, else the address.
func addrIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	if host, _, err := net.SplitHostPort(a.String()); err == nil {
		return host
	}
	return a.String()
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return `"` + s + `"`
}
