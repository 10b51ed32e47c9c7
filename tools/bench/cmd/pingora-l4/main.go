// Command pingora-l4 is the pingora-go side of the TCP proxy benchmark
// (tools/bench/run.sh --l4): an l4.Proxy, run by a server.Server, that
// tunnels every connection to one upstream, as nginx's stream module does
// with proxy_pass.
//
//	pingora-l4 -addr 127.0.0.1:8006 -upstream 127.0.0.1:8000
//
// The bound address is printed on stdout ("listening on ADDR") once the
// server serves. SIGTERM shuts it down (within about a second).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/pingora-go/pingora/l4"
	"github.com/pingora-go/pingora/server"
	"github.com/pingora-go/pingora/server/peer"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8006", "listen address (port 0: any free port)")
	upstream := flag.String("upstream", "127.0.0.1:8000", "origin address")
	flag.Parse()

	origin := peer.New(*upstream, false, "")
	p, err := l4.New(l4.Options{
		Upstream: func(context.Context, *l4.ConnInfo, int) (*peer.Peer, error) { return origin, nil },
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		log.Fatalf("pingora-l4: %v", err)
	}
	defer p.Close()

	s, err := server.NewWithConf(nil, &server.Conf{
		GracePeriodSeconds:             1,
		GracefulShutdownTimeoutSeconds: 1,
	})
	if err != nil {
		log.Fatalf("pingora-l4: %v", err)
	}
	svc := server.NewListeningService("l4", p)
	svc.AddTCP(*addr)
	s.AddListening(svc)

	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case <-s.Ready():
		fmt.Printf("listening on %s\n", s.Addrs()[0])
		os.Stdout.Sync()
	case err := <-done:
		log.Fatalf("pingora-l4: %v", err)
	}
	if err := <-done; err != nil {
		log.Fatalf("pingora-l4: %v", err)
	}
}
