// Command quickstart is Pingora's quick-start load balancer (SPEC §14.1)
// written against the Go API: round robin over backends on loopback, a
// TCP health check every second that takes the broken backend
// 127.0.0.1:343 out of rotation, on 127.0.0.1:6188. It starts two demo
// origins itself (127.0.0.1:6190 and 127.0.0.1:6191), so it runs on a
// fresh machine:
//
//	go run ./umbrella/examples/quickstart
//	curl http://127.0.0.1:6188/
//
// It takes the server's flags (-c conf.yaml, -d, -u, -t).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/pingora-go/pingora/balancer"
	"github.com/pingora-go/pingora/httpheader"
	"github.com/pingora-go/pingora/proxy"
	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/peer"
)

func main() {
	opt, err := server.ParseOpt(os.Args[1:], os.Stderr)
	if err != nil {
		os.Exit(2)
	}
	origins := []string{"127.0.0.1:6190", "127.0.0.1:6191"}
	for i, addr := range origins {
		stop, err := startOrigin(addr, fmt.Sprintf("origin %d", i+1))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer stop()
	}
	s, err := newServer(opt, "127.0.0.1:6188", append(origins, "127.0.0.1:343"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("load balancer on http://127.0.0.1:6188/ — try: curl http://127.0.0.1:6188/")
	s.RunForever()
}

// lb is the proxy's logic: Pingora's LB(Arc<LoadBalancer<RoundRobin>>).
type lb struct{ upstreams *balancer.LoadBalancer }

// upstreamPeer picks the next healthy backend (round robin needs no key).
func (l *lb) upstreamPeer(s *proxy.Session, _ *struct{}) (*peer.Peer, error) {
	b, ok := l.upstreams.Select(nil)
	if !ok {
		return nil, fmt.Errorf("quickstart: no healthy backend")
	}
	slog.Info("upstream peer", "backend", b.String())
	return peer.New(b.Address(), false, ""), nil
}

// upstreamRequestFilter sets the Host the backends expect.
func (l *lb) upstreamRequestFilter(s *proxy.Session, req *httpheader.RequestHeader, _ *struct{}) error {
	return req.Set("Host", "backends.local")
}

// newServer builds the server: the proxy service on listen and the
// health-check background service, as SPEC §14.1 steps 2 to 6.
func newServer(opt *server.Opt, listen string, backends []string) (*server.Server, error) {
	s, err := server.New(opt)
	if err != nil {
		return nil, err
	}
	bs, err := balancer.ParseBackends(backends...)
	if err != nil {
		return nil, err
	}
	upstreams, err := balancer.New(balancer.NewStatic(bs...), balancer.Options{
		Algorithm:           balancer.RoundRobin,
		HealthCheck:         &balancer.TCPCheck{},
		HealthCheckInterval: time.Second,
	})
	if err != nil {
		return nil, err
	}
	if err := upstreams.Update(context.Background()); err != nil {
		return nil, err
	}
	l := &lb{upstreams: upstreams}
	px, err := proxy.New(proxy.Hooks[struct{}]{
		UpstreamPeer:          l.upstreamPeer,
		UpstreamRequestFilter: l.upstreamRequestFilter,
	}, proxy.Options{})
	if err != nil {
		return nil, err
	}
	svc := server.NewListeningService("load balancer", px)
	svc.AddTCP(listen)
	s.AddListening(svc)
	s.AddBackground("health check", upstreams) // upstreams.Start runs the checks
	return s, nil
}

// startOrigin serves a demo backend that names itself.
func startOrigin(addr, name string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello from %s (%s)\n", name, addr)
	})}
	go srv.Serve(ln)
	return func() { _ = srv.Close() }, nil
}
